// Fair blocking waits for native locks (LOCK.ACQUIRE ... WAIT, LOCK.WAIT), on the blocking
// registry. Waiters queue per (database, resource) in arrival order; the queue is offered the lock
// whenever its key goes away (release, DEL, expiry, FLUSHALL: the keyspace reports every removal)
// and the head waiter takes it in the same event-loop turn, so the lock changes hands without
// anyone polling. A queue whose lock will expire also gets a timer at the holder's deadline (or at
// the end of the restart delay): the expiry itself wakes the next waiter. Each queue has at most
// one such check; an extension just moves it.
//
// LOCK.WAIT ... HANDOFF window (clients of N instances, which wait on one instance and then run
// a quorum round): a release wakes one such waiter, not all of them. The woken one has `window`
// ms to take the lock; the waiters behind it (of either kind) stay queued until the lock is taken
// and freed again, or until the window passed with the lock still free (the woken client crashed
// or lost the round): then the next is woken. So a hand-off costs one wake-up and one quorum
// round, in the queue's order, instead of a round per waiter.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "server/coordination/lock_manager.h"
#include "server/core/clock.h"
#include "server/engine/blocking.h"
#include "server/engine/keyspace_events.h"
#include "server/engine/registry.h"
#include "server/engine/timers.h"
#include "server/keyspace/keyspace.h"

namespace keyward {

class LockWaits : public BlockHandler, public KeyRemovalObserver {
 public:
  LockWaits(LockManager& locks, Keyspace& keyspace, BlockingRegistry& blocking, Timers& timers,
            const CommandRegistry& registry, Clock& clock)
      : locks_(locks),
        keyspace_(keyspace),
        blocking_(blocking),
        timers_(timers),
        registry_(registry),
        clock_(clock) {}

  // Blocks the client of `ctx` until the resource is free (take: then acquires it for the
  // request) or until `timeout_ms` (0: none).
  // `handoff_ms` > 0: LOCK.WAIT's HANDOFF window (only with !take).
  void Block(CommandContext& ctx, const AcquireRequest& req, bool take, int64_t timeout_ms,
             int64_t handoff_ms = 0);
  // True while a HANDOFF waiter woken for the free resource of `ctx`'s database may still take it.
  bool HandoffPending(CommandContext& ctx, std::string_view resource) const;
  // lock-fence-replicas, from the commands layer: given the client's context and its fenced
  // answer, true when the answer waits for replicas (then written by the hold), false when it
  // is to be written now.
  using FenceHold =
      std::function<bool(CommandContext& ctx, std::function<void(ReplyBuilder&, int64_t)> reply)>;
  void set_fence_hold(FenceHold hold) { fence_hold_ = std::move(hold); }
  // Pending deadline checks (at most one per queue).
  size_t pending_checks() const { return checks_.size(); }

  // BlockHandler
  const CommandSpec* command() const override;
  bool TryServe(CommandContext& ctx, WaitState* state, std::string_view key) override;
  void OnTimeout(Client& c, WaitState* state) override;
  void OnQueueEmpty(int db, std::string_view key) override;

  // KeyRemovalObserver: a key with waiters went away; the hand-off latency counts from here.
  void OnKeyRemoved(int db, std::string_view key) override;

 private:
  struct Check {
    int64_t at_ms;
    Timers::Id timer;
  };
  // Looks at the queue again at `at_ms` (the holder's deadline), unless an earlier check is
  // pending: an early one that finds the lock held schedules the next.
  void ScheduleCheck(int db, std::string_view resource, int64_t at_ms);
  static std::string QueueKey(int db, std::string_view resource);
  // A HANDOFF waiter of `queue` was woken: the others wait until `until_ms` (or a change).
  void SetHandoff(const std::string& queue, int64_t until_ms);
  // True while a HANDOFF waiter woken for `resource` may still take it (its window's end is then
  // scheduled as a check); drops a window that is over (the lock was taken, freed again, or not
  // taken in time).
  bool HandoffHolds(CommandContext& ctx, std::string_view resource);

  LockManager& locks_;
  Keyspace& keyspace_;
  BlockingRegistry& blocking_;
  Timers& timers_;
  const CommandRegistry& registry_;
  Clock& clock_;
  std::unordered_map<std::string, Check> checks_;
  // When a key that had waiters was removed (monotonic us), until a waiter takes it.
  std::unordered_map<std::string, int64_t> freed_at_us_;
  // Queues whose resource a HANDOFF waiter was woken for: until when (ms) it may take it. Gone
  // when the resource is seen held or is removed again.
  std::unordered_map<std::string, int64_t> handoff_until_ms_;
  FenceHold fence_hold_;
};

}  // namespace keyward
