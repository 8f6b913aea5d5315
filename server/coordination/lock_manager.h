// Native locks on one instance: acquisition with fencing counters, owner-checked release and
// extension, and the coordination state that must reach replicas and the AOF.
//
// The lock itself is an ordinary string key (`SET resource owner NX PX ttl` semantics), so
// node-redlock, redis-py's Lock and these commands exclude each other. What is not in the keyspace
// lives here: the fencing records (fence_table.h). Every change of a record enters the
// propagation stream as a command of its own (LOCK.RECORD, LOCK.FLOOR), so a replay of the stream
// (an AOF, a replica) holds the same counters and guard marks. Waiting for a lock is in
// lock_waits.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/coordination/fence_table.h"
#include "server/coordination/lock_metrics.h"
#include "server/core/settings.h"
#include "server/core/status.h"
#include "server/engine/keyspace_events.h"
#include "server/engine/server_state.h"

namespace keyward {

class CommandContext;
class Database;
class Keyspace;
class Propagation;
class PubSub;
class ReplyBuilder;

// LOCK.ACQUIRE's answer: [granted, token, pttl], granted being 0 (refused), 1 (acquired: the
// key was created) or 2 (re-entered: the owner already held it, the lease restarted).
struct AcquireOutcome {
  bool granted = false;
  bool reentered = false;  // granted to the owner that already held it
  bool counted = false;    // PROPOSE: the proposed token was counted with the grant
  int64_t token = 0;       // FENCE: the holder's token; otherwise F(R)
  int64_t pttl = 0;        // granted: the TTL; refused: the holder's remaining TTL (-1: none)
  // Refused because the instance is in its restart delay (pttl: what is left of it), not
  // because anyone holds the lock.
  bool restarting = false;
  // PROPOSE on an instance that is not caught up (LockManager::Unsettled): not counted, and the
  // reply's `counted` says -1 so that the client catches the instance up.
  bool unsettled = false;
};

// LOCK.FENCE's answer, as its reply's integer.
enum class FenceOutcome : int {
  kCounted = 1,
  kNotCounted = 0,
  // Not counted, nothing changed: the instance started without its counters and has not been
  // caught up with its peers since (LOCK.CATCHUP). Answered with the UNSETTLED error.
  kUnsettled = -1,
};

// LOCK.CATCHUP's first form: where this instance's counters stand.
struct CatchUpState {
  // The counters include every token this instance counted in earlier lives: its history is
  // complete (a full AOF replay) or it was caught up since it started.
  bool settled = true;
  int64_t counter = 0;  // the highest counter of any resource (or the floor)
  // How long ago the instance's restart delay ended (ms): a client that reads the peers'
  // counters after this answer, within that time of sending it, knows they include every FENCE
  // that could still have completed before the restart (docs/coordination.md).
  int64_t ready_ms = 0;
};

struct AcquireRequest {
  std::string_view resource;
  std::string_view owner;
  int64_t ttl_ms = 0;
  bool fence = false;  // ACQ and FENCE in one step (a single instance)
  // PROPOSE T (N instances, one round trip): with the grant, T is counted if above the counter,
  // as a LOCK.FENCE of T by the new holder would be. 0: none.
  int64_t propose = 0;
  // A waiter's lock offered again (LockWaits): a refusal is not counted as a new attempt.
  bool retry = false;
};

// Whether `command` is one of the stream's coordination records (LOCK.RECORD, LOCK.FLOOR,
// LOCK.EPOCH, LOCK.LEASE, LOCK.HOLDOFF): the AOF syncs them before any reply, replication wraps
// them for Redis replicas.
bool IsCoordinationRecord(std::string_view command);

// [granted, token, pttl], and `counted` as a fourth element for PROPOSE.
void SendAcquireOutcome(ReplyBuilder& rb, const AcquireOutcome& outcome, bool proposed = false);
// The error for a failed LOCK.ACQUIRE (an overflowing lease, an exhausted counter, WRONGTYPE).
void SendAcquireError(CommandContext& ctx, OpStatus status, std::string_view resource);

class LockManager : public KeyRemovalObserver {
 public:
  LockManager(const ServerSettings& settings, const ServerState& state, Keyspace& keyspace,
              PubSub& pubsub, Propagation& propagation);

  FenceTable& fences() { return fences_; }
  const FenceTable& fences() const { return fences_; }

  // Takes the lock if free or already held by the owner (re-entrant: the TTL restarts, and a
  // fenced re-entry by the owner the counter was fenced for keeps that token). Writes,
  // notifications and propagation go through `ctx`. kWrongType when the key is not a string,
  // kOutOfRange when the deadline would overflow, kOverflow when a fenced acquisition would take
  // the counter past kMaxToken.
  Result<AcquireOutcome> Acquire(CommandContext& ctx, const AcquireRequest& req);
  // Owner-checked DEL / PEXPIRE. False when the key is not held by `owner`.
  bool Release(CommandContext& ctx, std::string_view resource, std::string_view owner);
  Result<bool> Extend(CommandContext& ctx, std::string_view resource, std::string_view owner,
                      int64_t ttl_ms);
  // FENCE(R, owner, T), T in [1, kMaxToken] (see COORDINATION.md). An unsettled instance counts
  // nothing and changes nothing (kUnsettled).
  FenceOutcome Fence(CommandContext& ctx, std::string_view resource, std::string_view owner,
                     int64_t token);
  // Whether this instance may count no FENCE yet: it started without its counters
  // (fence_table.h), guards its restarts (lock-restart-delay > 0), and nobody has caught it up
  // since.
  bool Unsettled() const;
  CatchUpState CatchUpStateOf(int64_t now_ms) const;
  // LOCK.CATCHUP's second form: every counter raised to at least `counter` (the highest its
  // peers reported) and the instance settled. Propagated as LOCK.EPOCH (same epoch). Only while
  // settling (false otherwise: once settled, counters move only by counting).
  bool CatchUp(CommandContext& ctx, int64_t counter);
  // LOCK.GUARD's check: whether a write carrying `token` may run: not older than the guard mark
  // (else kFenced, `*limit` = the mark) and not above the counter, i.e. issued (else kNotIssued,
  // `*limit` = the counter). Once the write ran, GuardAccepted raises the mark to it.
  enum class Guard { kAllowed, kFenced, kNotIssued };
  Guard GuardAllows(std::string_view resource, int64_t token, int64_t* limit) const;
  void GuardAccepted(CommandContext& ctx, std::string_view resource, int64_t token);
  // The holder of `resource` in `db` (nullopt: free) and its remaining TTL (-1: none). The view
  // lives until the next write. kWrongType when the key is not a string.
  Result<std::optional<std::string_view>> Holder(Database& db, std::string_view resource,
                                                 int64_t* pttl);
  // The restart delay (lock-restart-delay), or the promotion delay (lock-promotion-delay),
  // still running at `now_ms`: what is left of it, else 0. Meanwhile no lock is granted.
  int64_t RestartDelayLeft(int64_t now_ms) const;
  // The option whose delay RestartDelayLeft reports (for the error text).
  const char* DelayOption(int64_t now_ms) const;
  // When lock-restart-delay ends: the server's start plus the delay (unix ms).
  int64_t RestartDelayEnd() const;

  // The stream's commands: LOCK.RECORD sets a record (counters and marks only ever rise), and
  // LOCK.FLOOR raises the floors and forgets the records folded into them.
  void ApplyRecord(std::string_view resource, const FenceRecord& record);
  // Before a durable history (the AOF) is replayed into an empty table: the boot floor, which
  // stands for what an earlier life may have issued, is not needed when that life is replayed.
  void ForgetBootFloor();
  void ApplyFloor(int64_t floor, int64_t seen_floor,
                  const std::vector<std::string_view>& forgotten);
  // LOCK.EPOCH: the promotion epoch, and every counter raised to at least `floor`.
  void ApplyEpoch(int64_t epoch, int64_t floor);
  // This server became a master (REPLICAOF NO ONE): a new epoch whose counters start `gap`
  // above the highest counter it knows, so that a token it issues is above every token the old
  // master issued unless more than `gap` fenced acquisitions of one resource never reached this
  // server (docs/coordination.md). Propagated as LOCK.EPOCH; returns the new floor.
  // Also starts the promotion delay: `delay_ms`, or the longest lease granted in this history
  // when negative (the old master's leases may still run); a delay already running (a hold-off
  // the old master passed on) is never shortened.
  int64_t Promote(int64_t gap, int64_t delay_ms, int64_t now_ms);
  int64_t epoch() const { return epoch_; }
  // LOCK.LEASE: the longest lease granted in this history (ms), which the promotion delay
  // defaults to. It enters the stream when it grows.
  void ApplyLongestLease(int64_t ms) { longest_lease_ms_ = std::max(longest_lease_ms_, ms); }
  int64_t longest_lease_ms() const { return longest_lease_ms_; }
  // LOCK.HOLDOFF: the master was still granting no lock for `ms` (its own promotion or restart
  // delay) when it handed over (FAILOVER); a promotion of this server honours what is left.
  void ApplyHoldoff(int64_t ms, int64_t now_ms);

  // Drops idle fencing records beyond lock-max-records (the cron), propagating LOCK.FLOOR.
  void Trim(size_t max_records);
  // Whether `e` is a held lock, which maxmemory never evicts: a string with a live lease whose
  // resource has a fencing record (every LOCK.ACQUIRE makes one).
  bool Pins(const Entry& e) const;

  // KeyRemovalObserver: a lock key went away, however (release, DEL, expiry, RENAME).
  void OnKeyRemoved(int db, std::string_view key) override;
  // A lock key expired: its holder's lease ran out before it released it.
  void OnKeyExpired(int db, std::string_view key) override;

  // What the metrics endpoint reports.
  LockMetrics& metrics() { return metrics_; }
  const LockMetrics& metrics() const { return metrics_; }

 private:
  // Propagates the resource's record as it now is.
  void PropagateRecord(CommandContext& ctx, std::string_view resource, const FenceRecord& rec);
  bool AnySubscribers() const;
  // Whether the resource's counter was fenced for `owner` (its re-entries keep that token).
  bool IsFencedOwner(std::string_view resource, std::string_view owner) const;
  // Publishes `event` on __lock@<db>__:<resource> (when anyone is subscribed to anything).
  void PublishEvent(int db, std::string_view resource, std::string_view event);

  const ServerSettings& settings_;
  const ServerState& state_;
  Keyspace& keyspace_;
  PubSub& pubsub_;
  Propagation& propagation_;
  FenceTable fences_;
  int64_t epoch_ = 0;  // promotions this history went through (LOCK.EPOCH)
  int64_t longest_lease_ms_ = 0;
  int64_t promotion_until_ms_ = 0;  // server time the promotion delay ends
  LockMetrics metrics_;
  // A lease of `ttl_ms` was granted: the longest one, propagated when it grows.
  void NoteLease(int64_t ttl_ms);
};

}  // namespace keyward
