#include "server/engine/eviction.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "server/core/notify.h"
#include "server/engine/host.h"
#include "server/keyspace/lfu.h"

namespace keyward {

namespace {

using Policy = ServerSettings::MaxmemoryPolicy;

uint64_t NextRandom(void* state) { return (*static_cast<std::mt19937_64*>(state))(); }

bool VolatileOnly(Policy p) {
  return p == Policy::kVolatileLru || p == Policy::kVolatileLfu || p == Policy::kVolatileRandom ||
         p == Policy::kVolatileTtl;
}

}  // namespace

size_t Evictor::NotCountedMemory() const {
  size_t bytes = 0;
  for (const Client* c : p_.clients.all()) {
    if (c->has(Client::kReplica) && c->transport() != nullptr) {
      bytes += c->transport()->pending_output();
    }
  }
  return bytes;
}

size_t Evictor::CountedMemory() const {
  const size_t used = UsedMemoryBytes();
  const size_t left_out = NotCountedMemory();
  return used > left_out ? used - left_out : 0;
}

size_t Evictor::BytesToFree() {
  if (p_.settings.maxmemory <= 0) return 0;
  const auto limit = static_cast<size_t>(p_.settings.maxmemory);
  // Asking the allocator costs more than a small command: under the limit, it is asked at most
  // once a millisecond (a limit that changed is checked at once).
  const int64_t now_us = p_.clock.MonotonicUs();
  if (under_limit_ && limit == checked_limit_ && now_us - checked_at_us_ < kRecheckUs) return 0;
  size_t used = UsedMemoryBytes();
  checked_at_us_ = now_us;
  checked_limit_ = limit;
  under_limit_ = used <= limit;
  if (used <= limit) return 0;  // the common case: no walk over the clients
  const size_t left_out = NotCountedMemory();
  used = used > left_out ? used - left_out : 0;
  return used > limit ? used - limit : 0;
}

// Redis's evictionTimeLimitUs: 50 µs per step of tenacity up to 10 (500 µs), then 15% more per
// step, unlimited at 100.
int64_t Evictor::TimeLimitUs() const {
  const int64_t tenacity = p_.settings.maxmemory_eviction_tenacity;
  if (tenacity <= 10) return 50 * tenacity;
  if (tenacity < 100) return static_cast<int64_t>(500.0 * std::pow(1.15, tenacity - 10.0));
  return std::numeric_limits<int64_t>::max();
}

uint64_t Evictor::Score(const Entry& e) const {
  const int64_t now = p_.keyspace.now_ms();
  switch (static_cast<Policy>(p_.settings.maxmemory_policy)) {
    case Policy::kVolatileLru:
    case Policy::kAllkeysLru: {
      // Redis's estimateObjectIdleTime, in milliseconds of the 24-bit seconds clock.
      const auto clock = static_cast<uint32_t>(now / 1000) & 0xFFFFFFu;
      const uint32_t lru = e.lru();
      const uint64_t idle_s = clock >= lru ? clock - lru : (0xFFFFFFu - lru) + clock;
      return idle_s * 1000;
    }
    case Policy::kVolatileLfu:
    case Policy::kAllkeysLfu:
      return 255 - lfu::Decayed(e.lru(), now, p_.settings.lfu_decay_time);
    case Policy::kVolatileTtl:
      return std::numeric_limits<uint64_t>::max() - static_cast<uint64_t>(e.expire_ms());
    default:
      return 0;
  }
}

// Redis's evictionPoolPopulate: sample keys of one database and keep the best candidates of all
// samples so far, in ascending order of score.
void Evictor::Populate(int db_index, bool volatile_only) {
  Database& db = p_.keyspace.db(db_index);
  for (int64_t i = 0; i < p_.settings.maxmemory_samples; i++) {
    Entry* e = db.SampleEntry(volatile_only, NextRandom, &rng_);
    if (e == nullptr) return;
    if (pinned_ && pinned_(*e)) continue;
    // A key already pooled is not pooled twice (keys of equal score, e.g. equally idle, would
    // otherwise fill the pool with copies that turn into ghosts once the first goes).
    if (std::any_of(pool_.begin(), pool_.end(),
                    [&](const Candidate& c) { return c.db == db_index && c.key == e->key(); })) {
      continue;
    }
    const uint64_t score = Score(*e);
    // The first slot whose candidate scores no less (or is empty).
    size_t k = 0;
    while (k < kPoolSize && pool_[k].db != -1 && pool_[k].score < score) k++;
    if (k == 0 && pool_[kPoolSize - 1].db != -1) continue;  // worse than every candidate
    if (k < kPoolSize && pool_[kPoolSize - 1].db == -1) {
      // Room at the right: shift the better ones right.
      for (size_t j = kPoolSize - 1; j > k; j--) pool_[j] = std::move(pool_[j - 1]);
    } else {
      // Full: drop the worst (leftmost), shift the worse ones left.
      k--;
      for (size_t j = 0; j < k; j++) pool_[j] = std::move(pool_[j + 1]);
    }
    pool_[k] = Candidate{score, std::string(e->key()), db_index};
  }
}

std::pair<int, std::string> Evictor::Select() {
  const auto policy = static_cast<Policy>(p_.settings.maxmemory_policy);
  const bool volatile_only = VolatileOnly(policy);
  const int dbs = p_.keyspace.db_count();
  if (policy == Policy::kVolatileRandom || policy == Policy::kAllkeysRandom) {
    // A random key of the next database that has one (pinned keys drawn are passed over).
    for (int i = 0; i < dbs; i++) {
      next_db_ = (next_db_ + 1) % dbs;
      const int index = next_db_;
      Database& db = p_.keyspace.db(index);
      for (int tries = 0; tries < 16; tries++) {
        Entry* e = db.SampleEntry(volatile_only, NextRandom, &rng_);
        if (e == nullptr) break;
        if (!pinned_ || !pinned_(*e)) return {index, std::string(e->key())};
      }
    }
    return {-1, ""};
  }
  // A few rounds of sampling: when every key sampled is pinned, there is nothing to evict.
  for (int round = 0; round < 8; round++) {
    size_t total_keys = 0;
    for (int i = 0; i < dbs; i++) {
      Database& db = p_.keyspace.db(i);
      const size_t keys = volatile_only ? db.expires_count() : db.size();
      if (keys == 0) continue;
      Populate(i, volatile_only);
      total_keys += keys;
    }
    if (total_keys == 0) return {-1, ""};
    // From the best candidate down; a candidate whose key went meanwhile is a ghost.
    for (size_t k = kPoolSize; k-- > 0;) {
      Candidate& c = pool_[k];
      if (c.db == -1) continue;
      Candidate best = std::move(c);
      c = Candidate{};
      Entry* e = p_.keyspace.db(best.db).Peek(best.key);
      if (e == nullptr || (volatile_only && !e->has_expire()) || (pinned_ && pinned_(*e))) {
        continue;
      }
      return {best.db, std::move(best.key)};
    }
  }
  return {-1, ""};
}

size_t Evictor::Evict(int db_index, const std::string& key) {
  Database& db = p_.keyspace.db(db_index);
  const bool lazy = p_.settings.lazyfree_lazy_eviction;
  const int64_t started = p_.clock.MonotonicUs();
  // Removing the key breaks its WATCHes, invalidates tracking clients and wakes its waiters
  // (the keyspace's removal listener), as signalModifiedKey does in Redis.
  Entry* e = db.Take(key);
  if (e == nullptr) return 0;
  const size_t bytes = e->MemoryUsage();
  p_.keyspace.FreeEntry(e, lazy);
  const int64_t elapsed_ms = (p_.clock.MonotonicUs() - started) / 1000;
  p_.latency.AddSampleIfNeeded("eviction-del", elapsed_ms, p_.settings.latency_monitor_threshold,
                               p_.keyspace.now_ms() / 1000);
  p_.stats.evicted_keys++;
  p_.notifier.Notify(notify::kEvicted, "evicted", key, db_index);
  p_.propagation.Delete(db_index, key, lazy);
  return bytes;
}

void Evictor::ScheduleMore() {
  if (more_scheduled_ || p_.state.host == nullptr) return;
  more_scheduled_ = true;
  p_.state.host->Post([this] {
    more_scheduled_ = false;
    // As a unit of its own, at the time of now: waiters on evicted keys are served after it.
    p_.executor.UpdateTime();
    p_.executor.RunUnit([this] { PerformEvictions(); });
  });
}

Evictor::Result Evictor::PerformEvictions() {
  // Replicas leave eviction to their master (replica-ignore-maxmemory); nothing is evicted
  // while a dataset loads, under a running script (a busy script lets clients in), or while
  // CLIENT PAUSE holds writes (an eviction is one). Redis's isSafeToPerformEvictions.
  if (p_.state.loading || p_.state.busy_script || p_.keyspace.deletion_paused() ||
      (p_.state.replica && p_.settings.replica_ignore_maxmemory)) {
    return Result::kOk;
  }
  size_t to_free = BytesToFree();
  if (to_free == 0) return Result::kOk;
  if (static_cast<Policy>(p_.settings.maxmemory_policy) == Policy::kNoEviction) {
    return Result::kFail;
  }
  const int64_t started = p_.clock.MonotonicUs();
  const int64_t limit_us = TimeLimitUs();
  size_t freed = 0;
  size_t keys_freed = 0;
  while (freed < to_free) {
    auto [db, key] = Select();
    if (db == -1) break;  // nothing left to evict
    // What the entry used counts as freed; the allocator is asked again every 16 keys.
    freed += Evict(db, key);
    if (++keys_freed % 16 == 0) {
      // Memory freed elsewhere meanwhile (a lazily freed value, a buffer) counts too.
      if (BytesToFree() == 0) {
        freed = to_free;
        break;
      }
      if (p_.clock.MonotonicUs() - started > limit_us) {
        const int64_t cycle_ms = (p_.clock.MonotonicUs() - started) / 1000;
        p_.latency.AddSampleIfNeeded("eviction-cycle", cycle_ms,
                                     p_.settings.latency_monitor_threshold,
                                     p_.keyspace.now_ms() / 1000);
        ScheduleMore();
        return Result::kRunning;
      }
    }
  }
  const int64_t cycle_ms = (p_.clock.MonotonicUs() - started) / 1000;
  p_.latency.AddSampleIfNeeded("eviction-cycle", cycle_ms, p_.settings.latency_monitor_threshold,
                               p_.keyspace.now_ms() / 1000);
  if (freed >= to_free || BytesToFree() == 0) return Result::kOk;
  // Out of candidates. Values being freed on the lazy-free thread may still bring memory under
  // the limit: the next command looks again.
  return Result::kFail;
}

}  // namespace keyward
