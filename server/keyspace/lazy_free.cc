#include "server/keyspace/lazy_free.h"

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
    const size_t keys = table.size();
    table.Clear();
    freed_.fetch_add(keys, std::memory_order_relaxed);
    lock.lock();
    busy_ = false;
    if (queue_.empty()) idle_cv_.notify_all();
  }
}

void FreeEntry(Entry* e, bool lazy, LazyFreer* freer) {
  if (lazy && freer != nullptr && e->FreeEffort() > kLazyFreeThreshold) {
    KeyTable parcel;
    parcel.Insert(e);
    freer->Free(std::move(parcel));
  } else {
    Entry::Free(e);
  }
}

}  // namespace keyward
