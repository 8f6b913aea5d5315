// All numbered databases, the command-time snapshot they judge expiry by, and the background
// freeing of flushed data.
#pragma once

#include <memory>
#include <vector>

#include "server/keyspace/database.h"
#include "server/keyspace/lazy_free.h"

namespace keyward {

class Keyspace {
 public:
  // `settings` (optional) gives the lazyfree-lazy-expire and lazyfree-lazy-server-del policies.
  Keyspace(int databases, uint64_t seed, KeyspaceListener* listener = nullptr,
           const ServerSettings* settings = nullptr);

  int db_count() const { return static_cast<int>(dbs_.size()); }
  Database& db(int index) { return *dbs_[index]; }
  const Database& db(int index) const { return *dbs_[index]; }

  // The time every expiry decision of the current command is based on (Redis takes one snapshot
  // per command so that a command, and later a script or a transaction, sees a fixed time).
  void set_now_ms(int64_t ms) { now_ms_ = ms; }
  int64_t now_ms() const { return now_ms_; }
  void set_expire_disabled(bool disabled) {
    expire_disabled_ = disabled;
    keep_expired_ = expire_disabled_ || deletion_paused_;
  }
  // While writes are paused (CLIENT PAUSE WRITE, FAILOVER) an expired key is hidden, not deleted
  // (Redis 7.0's expireIfNeeded): no DEL may enter the stream.
  void set_deletion_paused(bool paused) {
    deletion_paused_ = paused;
    keep_expired_ = expire_disabled_ || deletion_paused_;
  }
  bool deletion_paused() const { return deletion_paused_; }
  // True on a replica: keys are only deleted by the master's DEL (EXPIRE with a past deadline
  // then stores the deadline instead of deleting, as Redis's checkAlreadyExpired).
  bool expire_disabled() const { return expire_disabled_; }
  // While the AOF or the master's stream is applied, no key is ever expired: every deadline is
  // judged by the stream's own DELs, so the result does not depend on when it is applied
  // (Redis's loading and master-client rules).
  void set_ignore_expiry(bool ignore) { ignore_expiry_ = ignore; }
  bool ignore_expiry() const { return ignore_expiry_; }
  // Whether a deadline given to a command (EXPIRE, SET EXAT, GETEX) deletes the key at once
  // because it has passed; a replica, and the stream being applied, store it instead.
  bool AlreadyExpired(int64_t deadline_ms) const {
    return deadline_ms <= now_ms_ && !expire_disabled_ && !ignore_expiry_;
  }

  KeyspaceStats& stats() { return stats_; }

  // The background snapshot that every database lets write entries before they change.
  void set_snapshot_guard(SnapshotGuard* guard) { snapshot_ = guard; }

  void SwapDb(int a, int b);
  // FLUSHDB / FLUSHALL. async hands the entries to the background freer.
  void Flush(int index, bool async);
  void FlushAll(bool async);
  size_t TotalKeys() const;

  // One cron tick: active expiry across databases within the time budget, then rehashing.
  size_t ActiveExpireCycle(int64_t budget_us, Clock& clock);
  void Cron(int64_t rehash_us, Clock& clock);

  // Frees an entry that left its database: on the background thread when `lazy` and it is worth
  // it (Redis's lazyfreeFreeObject: more than 64 allocations), else here.
  void FreeEntry(Entry* e, bool lazy) { keyward::FreeEntry(e, lazy, &freer_); }
  static constexpr size_t kLazyFreeThreshold = keyward::kLazyFreeThreshold;

  LazyFreer& lazy_freer() { return freer_; }

 private:
  DatabaseContext context();

  int64_t now_ms_ = 0;
  bool expire_disabled_ = false;
  bool deletion_paused_ = false;
  bool keep_expired_ = false;  // either: what the databases read (DatabaseContext)
  bool ignore_expiry_ = false;
  KeyspaceStats stats_;
  KeyspaceListener* listener_;
  SnapshotGuard* snapshot_ = nullptr;
  const ServerSettings* settings_;
  std::vector<std::unique_ptr<Database>> dbs_;
  size_t expire_cursor_ = 0;  // database where the next active expiry cycle starts
  LazyFreer freer_;
};

}  // namespace keyward
