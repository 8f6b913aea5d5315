// maxmemory: Redis 7.0's eviction (evict.c). Before every client command, while the memory the
// server counts is over `maxmemory`, keys are deleted by `maxmemory-policy`: the LRU, LFU and TTL
// policies sample `maxmemory-samples` keys per database into a pool of the 16 best candidates
// seen so far and evict the best; the random policies draw keys. Each eviction is propagated
// (DEL, UNLINK when freed lazily), notified (`evicted`), counted (INFO evicted_keys), breaks the
// WATCHes of the key and invalidates clients caching it. Eviction stops after a time that
// `maxmemory-eviction-tenacity` sets, and goes on in later loop turns until memory is under the
// limit.
//
// What Redis never does and Keyward does: keys the coordination layer pins (a lock with a live
// lease) are never evicted. When nothing else is left to evict, writes get -OOM instead.
//
// The memory counted is the allocator's (UsedMemoryBytes) less the replicas' output buffers,
// as Redis's freeMemoryGetNotCountedMemory leaves them out.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <random>
#include <string>

#include "server/core/clock.h"
#include "server/core/settings.h"
#include "server/engine/client_registry.h"
#include "server/engine/executor.h"
#include "server/engine/latency.h"
#include "server/engine/notifier.h"
#include "server/engine/propagation.h"
#include "server/engine/server_state.h"
#include "server/engine/stats.h"
#include "server/keyspace/keyspace.h"

namespace keyward {

class Evictor {
 public:
  struct Parts {
    const ServerSettings& settings;
    ServerState& state;
    Keyspace& keyspace;
    ClientRegistry& clients;
    ServerStats& stats;
    KeyspaceNotifier& notifier;
    Propagation& propagation;
    LatencyMonitor& latency;
    Executor& executor;
    Clock& clock;
  };
  explicit Evictor(Parts parts) : p_(parts) {}

  enum class Result { kOk, kRunning, kFail };
  // Redis's performEvictions: kOk when memory is (now) under the limit, kRunning when the time
  // limit stopped the cycle (it continues in the next loop turns), kFail when nothing can be
  // evicted (noeviction, or no evictable key): deny-oom commands are refused then.
  Result PerformEvictions();

  // Keys that must not be evicted (set by the coordination layer: held locks).
  void set_pinned(std::function<bool(const Entry&)> pinned) { pinned_ = std::move(pinned); }

  // Bytes used as eviction counts them, and the part left out (replicas' output buffers).
  size_t CountedMemory() const;
  size_t NotCountedMemory() const;

 private:
  struct Candidate {
    uint64_t score = 0;  // higher: a better victim (idle time, 255 - frequency, or -deadline)
    std::string key;
    int db = -1;
  };
  static constexpr size_t kPoolSize = 16;  // EVPOOL_SIZE

  // Over the limit: how many bytes to free (0: not over).
  size_t BytesToFree();
  int64_t TimeLimitUs() const;
  uint64_t Score(const Entry& e) const;
  void Populate(int db, bool volatile_only);
  // The next victim by the policy: (db, key), or db -1 when there is none.
  std::pair<int, std::string> Select();
  // Evicts the key; returns about how many bytes it used.
  size_t Evict(int db, const std::string& key);
  // Runs a cycle again from the event loop until memory is under the limit or nothing is left
  // (Redis's evictionTimeProc).
  void ScheduleMore();

  Parts p_;
  std::function<bool(const Entry&)> pinned_;
  std::array<Candidate, kPoolSize> pool_{};  // ascending score; empty slots have db -1
  std::mt19937_64 rng_{0xe51c7};
  int next_db_ = 0;  // the random policies' round robin (always a valid index)
  bool more_scheduled_ = false;
  // The last look at the allocator: under the limit, the next one waits kRecheckUs.
  static constexpr int64_t kRecheckUs = 1000;
  int64_t checked_at_us_ = 0;
  size_t checked_limit_ = 0;
  bool under_limit_ = false;
};

}  // namespace keyward
