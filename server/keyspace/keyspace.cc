#include "server/keyspace/keyspace.h"

namespace keyward {

Keyspace::Keyspace(int databases, uint64_t seed, KeyspaceListener* listener,
                   const ServerSettings* settings)
    : listener_(listener), settings_(settings) {
  for (int i = 0; i < databases; i++) {
    dbs_.push_back(std::make_unique<Database>(i, context(), seed + static_cast<uint64_t>(i)));
  }
}

DatabaseContext Keyspace::context() {
  return DatabaseContext{&now_ms_,        &stats_,   listener_, &keep_expired_,
                         &ignore_expiry_, settings_, &freer_,   &snapshot_};
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
