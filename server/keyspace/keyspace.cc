#include "server/keyspace/keyspace.h"

namespace keyward {

LazyFreer::LazyFreer() : thread_([this] { Run(); }) {}

LazyFreer::~LazyFreer() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void LazyFreer::Free(KeyTable table) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(table));
  }
  cv_.notify_one();
}

void LazyFreer::Drain() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [this] { return queue_.empty() && !busy_; });
}

size_t LazyFreer::pending() const {
  std::lock_guard lock(mu_);
  return queue_.size() + (busy_ ? 1 : 0);
}

void LazyFreer::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping and nothing left
    KeyTable table = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    table.Clear();
    lock.lock();
    busy_ = false;
    if (queue_.empty()) idle_cv_.notify_all();
  }
}

Keyspace::Keyspace(int databases, uint64_t seed, KeyspaceListener* listener) : listener_(listener) {
  for (int i = 0; i < databases; i++) {
    dbs_.push_back(std::make_unique<Database>(i, context(), seed + static_cast<uint64_t>(i)));
  }
}

DatabaseContext Keyspace::context() {
  return DatabaseContext{&now_ms_, &stats_, listener_, &expire_disabled_, &ignore_expiry_};
}

void Keyspace::SwapDb(int a, int b) {
  if (a != b) dbs_[a]->Swap(*dbs_[b]);
}

void Keyspace::Flush(int index, bool async) {
  KeyTable keys = dbs_[index]->TakeAllKeys();
  if (async) {
    freer_.Free(std::move(keys));
  }  // else: freed here when `keys` goes out of scope
}

void Keyspace::FlushAll(bool async) {
  for (int i = 0; i < db_count(); i++) Flush(i, async);
}

void Keyspace::FreeEntry(Entry* e, bool lazy) {
  if (lazy && e->FreeEffort() > kLazyFreeThreshold) {
    KeyTable parcel;
    parcel.Insert(e);
    freer_.Free(std::move(parcel));
  } else {
    Entry::Free(e);
  }
}

size_t Keyspace::TotalKeys() const {
  size_t n = 0;
  for (const auto& db : dbs_) n += db->size();
  return n;
}

size_t Keyspace::ActiveExpireCycle(int64_t budget_us, Clock& clock) {
  int64_t until = clock.MonotonicUs() + budget_us;
  size_t deleted = 0;
  // Start where the previous cycle stopped so a busy database cannot starve the others.
  for (size_t n = 0; n < dbs_.size(); n++) {
    Database& db = *dbs_[(expire_cursor_ + n) % dbs_.size()];
    deleted += db.ActiveExpire(until, clock);
    if (clock.MonotonicUs() >= until) {
      expire_cursor_ = (expire_cursor_ + n) % dbs_.size();
      return deleted;
    }
  }
  return deleted;
}

void Keyspace::Cron(int64_t rehash_us, Clock& clock) {
  for (auto& db : dbs_) db->Cron(rehash_us, clock);
}

}  // namespace keyward
