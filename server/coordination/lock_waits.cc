#include "server/coordination/lock_waits.h"

#include "server/engine/client.h"
#include "server/engine/context.h"
#include "server/keyspace/keyspace.h"

namespace keyward {

namespace {

// What a waiting client asked for.
struct LockWait : WaitState {
  std::string resource;
  std::string owner;
  int64_t ttl_ms = 0;
  bool fence = false;
  bool take = false;       // LOCK.ACQUIRE ... WAIT; false: LOCK.WAIT
  int64_t handoff_ms = 0;  // LOCK.WAIT ... HANDOFF: the window the woken waiter gets
  int64_t since_us = 0;    // monotonic: when the wait began
};

}  // namespace

std::string LockWaits::QueueKey(int db, std::string_view resource) {
  std::string key = std::to_string(db);
  key += ':';
  key.append(resource);
  return key;
}

const CommandSpec* LockWaits::command() const { return registry_.Find("lock.acquire"); }

bool LockWaits::HandoffPending(CommandContext& ctx, std::string_view resource) const {
  auto it = handoff_until_ms_.find(QueueKey(ctx.client().db, resource));
  return it != handoff_until_ms_.end() && ctx.now_ms() < it->second;
}

void LockWaits::Block(CommandContext& ctx, const AcquireRequest& req, bool take, int64_t timeout_ms,
                      int64_t handoff_ms) {
  Client& c = ctx.client();
  const int64_t now = ctx.now_ms();
  auto wait = std::make_unique<LockWait>();
  wait->resource = std::string(req.resource);
  wait->owner = std::string(req.owner);
  wait->ttl_ms = req.ttl_ms;
  wait->fence = req.fence;
  wait->take = take;
  wait->handoff_ms = take ? 0 : handoff_ms;
  wait->since_us = clock_.MonotonicUs();
  if (take) locks_.metrics().waits_started++;
  BlockRequest request;
  request.db = c.db;
  request.keys = {std::string(req.resource)};
  request.deadline_ms = timeout_ms > 0 ? now + timeout_ms : -1;
  request.handler = this;
  request.state = std::move(wait);
  blocking_.Block(c, std::move(request));
  // Wake at the holder's deadline (or the end of the restart delay), not by polling.
  Database& db = ctx.db();
  if (Entry* e = db.Find(req.resource); e != nullptr && e->has_expire()) {
    ScheduleCheck(c.db, req.resource, e->expire_ms());
  } else if (e == nullptr) {
    if (int64_t left = locks_.RestartDelayLeft(now); left > 0) {
      ScheduleCheck(c.db, req.resource, now + left);
    }
    // Free, but a HANDOFF waiter is taking it: look again when its window ends.
    if (auto it = handoff_until_ms_.find(QueueKey(c.db, req.resource));
        it != handoff_until_ms_.end()) {
      ScheduleCheck(c.db, req.resource, it->second);
    }
  }
}

void LockWaits::ScheduleCheck(int db, std::string_view resource, int64_t at_ms) {
  std::string key = QueueKey(db, resource);
  auto it = checks_.find(key);
  if (it != checks_.end()) {
    if (it->second.at_ms <= at_ms) return;
    timers_.Cancel(it->second.timer);
    checks_.erase(it);
  }
  Timers::Id id = timers_.Schedule(at_ms, [this, key, db, resource = std::string(resource)] {
    checks_.erase(key);
    // Looking the key up expires it; its removal (or this signal) offers the queue the lock.
    blocking_.SignalKeyReady(db, resource);
  });
  checks_.emplace(std::move(key), Check{at_ms, id});
}

bool LockWaits::HandoffHolds(CommandContext& ctx, std::string_view resource) {
  if (handoff_until_ms_.empty()) return false;  // no queue key built: FIFO hand-offs pay nothing
  const int db = ctx.client().db;
  const std::string queue = QueueKey(db, resource);
  auto it = handoff_until_ms_.find(queue);
  if (it == handoff_until_ms_.end()) return false;
  const int64_t until = it->second;
  // The lookup may expire the key, and its removal erase the entry: no iterator across it.
  Result<std::optional<std::string_view>> held = locks_.Holder(ctx.db(), resource, nullptr);
  const bool pending = handoff_until_ms_.count(queue) > 0 && ctx.now_ms() < until;
  if (held && !held->has_value() && pending) {
    ScheduleCheck(db, resource, until);
    return true;
  }
  // Taken (the next release wakes the next waiter), freed again, or not taken in time.
  handoff_until_ms_.erase(queue);
  return false;
}

bool LockWaits::TryServe(CommandContext& ctx, WaitState* state, std::string_view key) {
  auto& w = *static_cast<LockWait*>(state);
  const int db = ctx.client().db;
  // A HANDOFF waiter woken for this resource may still take it: everyone behind it waits.
  if (HandoffHolds(ctx, w.resource)) return false;
  if (w.take) {
    Result<AcquireOutcome> out = locks_.Acquire(ctx, AcquireRequest{.resource = w.resource,
                                                                    .owner = w.owner,
                                                                    .ttl_ms = w.ttl_ms,
                                                                    .fence = w.fence,
                                                                    .retry = true});
    if (out && !out->granted) {
      // Still held (or the restart delay): wait for the removal or the deadline.
      if (out->pttl >= 0) ScheduleCheck(db, w.resource, ctx.now_ms() + out->pttl);
      return false;
    }
    if (out && out->granted) {
      LockMetrics& m = locks_.metrics();
      const int64_t now_us = clock_.MonotonicUs();
      m.waits_granted++;
      m.wait_latency.Observe(now_us - w.since_us);
      if (auto freed = freed_at_us_.find(QueueKey(db, w.resource)); freed != freed_at_us_.end()) {
        m.handoff_latency.Observe(now_us - freed->second);
        freed_at_us_.erase(freed);
      }
    }
    if (out) {
      // A fenced grant to a waiter waits for replicas like one granted at once.
      const AcquireOutcome outcome = *out;
      if (out->granted && (w.fence || out->counted) && fence_hold_ &&
          fence_hold_(ctx,
                      [outcome](ReplyBuilder& rb, int64_t) { SendAcquireOutcome(rb, outcome); })) {
        return true;
      }
      SendAcquireOutcome(ctx.rb(), *out);
    } else {
      SendAcquireError(ctx, out.status(), w.resource);  // e.g. the key became another type
    }
    return true;
  }
  int64_t pttl = -1;
  Result<std::optional<std::string_view>> holder = locks_.Holder(ctx.db(), w.resource, &pttl);
  if (holder && holder->has_value()) {
    if (pttl >= 0) ScheduleCheck(db, w.resource, ctx.now_ms() + pttl);
    return false;
  }
  if (w.handoff_ms > 0) SetHandoff(QueueKey(db, w.resource), ctx.now_ms() + w.handoff_ms);
  locks_.metrics().free_wakes++;
  ctx.rb().SendLong(1);
  return true;
}

void LockWaits::OnTimeout(Client& c, WaitState* state) {
  auto& w = *static_cast<LockWait*>(state);
  if (!w.take) return c.rb().SendLong(0);
  locks_.metrics().waits_timed_out++;
  AcquireOutcome out;
  out.token = locks_.fences().CounterOf(w.resource);
  int64_t pttl = -1;
  Result<std::optional<std::string_view>> holder =
      locks_.Holder(keyspace_.db(c.db), w.resource, &pttl);
  out.pttl = holder && holder->has_value() ? pttl : -2;
  SendAcquireOutcome(c.rb(), out);
}

void LockWaits::OnKeyRemoved(int db, std::string_view key) {
  // Every removal of every key comes here: nothing to do (and no queue lookup) when nobody
  // waits for anything.
  if (blocking_.blocked_clients() == 0 || blocking_.waiters(db, key) == 0) return;
  const std::string queue = QueueKey(db, key);
  freed_at_us_[queue] = clock_.MonotonicUs();
  // Freed again: whoever was woken before has had its turn; this release wakes the next.
  handoff_until_ms_.erase(queue);
}

void LockWaits::SetHandoff(const std::string& queue, int64_t until_ms) {
  handoff_until_ms_[queue] = until_ms;
  // Kept after the queue empties (a LOCK.WAIT ... HANDOFF arriving in the window queues), and
  // dropped when the window ends if nothing dropped it before.
  timers_.Schedule(until_ms, [this, queue, until_ms] {
    auto it = handoff_until_ms_.find(queue);
    if (it != handoff_until_ms_.end() && it->second == until_ms) handoff_until_ms_.erase(it);
  });
}

void LockWaits::OnQueueEmpty(int db, std::string_view key) {
  freed_at_us_.erase(QueueKey(db, key));
  auto it = checks_.find(QueueKey(db, key));
  if (it == checks_.end()) return;
  timers_.Cancel(it->second.timer);
  checks_.erase(it);
}

}  // namespace keyward
