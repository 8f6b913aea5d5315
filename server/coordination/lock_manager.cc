#include "server/coordination/lock_manager.h"

#include <algorithm>
#include <climits>

#include "server/core/errors.h"
#include "server/core/notify.h"
#include "server/core/strings.h"
#include "server/engine/context.h"
#include "server/engine/executor.h"
#include "server/engine/propagation.h"
#include "server/keyspace/keyspace.h"
#include "server/protocol/reply_builder.h"
#include "server/pubsub/pubsub.h"

namespace keyward {

namespace {

// Tokens start above every token an earlier life of this instance can have handed out: the boot
// time in milliseconds times 1024 (a resource would need more than a million acquisitions a
// second, sustained since that earlier start, to reach it). It needs the wall clock not to go back
// across a restart; durable counters (persistence) will remove that assumption. Tokens stay below
// 2^53, so JavaScript and Lua numbers hold them exactly.
int64_t BootFloor(int64_t now_ms) { return now_ms * 1024; }

// The stream's coordination commands carry no database: fencing records are per instance.
constexpr int kNoDatabase = -1;

}  // namespace

void SendAcquireOutcome(ReplyBuilder& rb, const AcquireOutcome& outcome, bool proposed) {
  rb.StartArray(proposed ? 4 : 3);
  rb.SendLong(!outcome.granted ? 0 : outcome.reentered ? 2 : 1);
  rb.SendLong(outcome.token);
  rb.SendLong(outcome.pttl);
  if (proposed) rb.SendLong(outcome.unsettled ? -1 : outcome.counted ? 1 : 0);
}

void SendAcquireError(CommandContext& ctx, OpStatus status, std::string_view resource) {
  if (status == OpStatus::kOutOfRange) {
    return ctx.rb().SendError(errors::InvalidExpireTime(ctx.cmd().full_name()));
  }
  if (status == OpStatus::kOverflow) return ctx.rb().SendError(errors::TokensExhausted(resource));
  ctx.SendStatus(status);
}

LockManager::LockManager(const ServerSettings& settings, const ServerState& state,
                         Keyspace& keyspace, PubSub& pubsub, Propagation& propagation)
    : settings_(settings),
      state_(state),
      keyspace_(keyspace),
      pubsub_(pubsub),
      propagation_(propagation),
      fences_(BootFloor(state.start_time_ms), /*settling=*/true) {}

bool IsCoordinationRecord(std::string_view command) {
  return EqualsIgnoreCase(command, "LOCK.RECORD") || EqualsIgnoreCase(command, "LOCK.FLOOR") ||
         EqualsIgnoreCase(command, "LOCK.EPOCH") || EqualsIgnoreCase(command, "LOCK.LEASE") ||
         EqualsIgnoreCase(command, "LOCK.HOLDOFF");
}

void LockManager::ForgetBootFloor() {
  if (fences_.size() == 0) fences_ = FenceTable(0, /*settling=*/false);
}

bool LockManager::AnySubscribers() const {
  return pubsub_.Count(PubSubKind::kChannel) != 0 || pubsub_.Count(PubSubKind::kPattern) != 0;
}

void LockManager::PublishEvent(int db, std::string_view resource, std::string_view event) {
  if (!AnySubscribers()) return;
  std::string channel = "__lock@";
  channel += std::to_string(db);
  channel += "__:";
  channel.append(resource);
  pubsub_.Publish(PubSubKind::kChannel, channel, event);
}

int64_t LockManager::RestartDelayEnd() const {
  return state_.start_time_ms + settings_.lock_restart_delay;
}

int64_t LockManager::RestartDelayLeft(int64_t now_ms) const {
  return std::max<int64_t>({0, RestartDelayEnd() - now_ms, promotion_until_ms_ - now_ms});
}

const char* LockManager::DelayOption(int64_t now_ms) const {
  const int64_t restart_end = RestartDelayEnd();
  return promotion_until_ms_ > restart_end && promotion_until_ms_ > now_ms ? "lock-promotion-delay"
                                                                           : "lock-restart-delay";
}

void LockManager::NoteLease(int64_t ttl_ms) {
  if (ttl_ms <= longest_lease_ms_) return;
  longest_lease_ms_ = ttl_ms;
  if (propagation_.active()) {
    propagation_.Add(kNoDatabase, {"LOCK.LEASE", FormatInt64(ttl_ms)});
  }
}

Result<std::optional<std::string_view>> LockManager::Holder(Database& db, std::string_view resource,
                                                            int64_t* pttl) {
  Entry* e = db.Find(resource);
  if (e == nullptr) return std::optional<std::string_view>();
  if (e->type() != ObjType::kString) return OpStatus::kWrongType;
  if (pttl != nullptr)
    *pttl = e->has_expire() ? std::max<int64_t>(0, e->expire_ms() - db.now_ms()) : -1;
  return std::optional<std::string_view>(e->string_value());
}

void LockManager::PropagateRecord(CommandContext& ctx, std::string_view resource,
                                  const FenceRecord& rec) {
  if (!ctx.propagating()) return;
  ctx.executor().propagation().Add(
      kNoDatabase, {"LOCK.RECORD", resource, FormatInt64(rec.counter), FormatInt64(rec.seen),
                    rec.fenced_owner, FormatInt64(rec.fenced_token)});
}

Result<AcquireOutcome> LockManager::Acquire(CommandContext& ctx, const AcquireRequest& req) {
  Database& db = ctx.db();
  const int64_t now = ctx.now_ms();
  if (req.ttl_ms > INT64_MAX - now) return OpStatus::kOutOfRange;
  const int64_t deadline = now + req.ttl_ms;
  Entry* e = db.Find(req.resource);
  if (e != nullptr && e->type() != ObjType::kString) return OpStatus::kWrongType;
  AcquireOutcome out;
  if (e != nullptr && e->string_value() != req.owner) {
    out.token = fences_.CounterOf(req.resource);
    out.pttl = e->has_expire() ? std::max<int64_t>(0, e->expire_ms() - now) : -1;
    if (!req.retry) metrics_.busy++;
    return out;
  }
  if (req.fence && fences_.CounterOf(req.resource) >= kMaxToken &&
      !(e != nullptr && IsFencedOwner(req.resource, req.owner))) {
    return OpStatus::kOverflow;
  }
  if (e == nullptr) {
    // An instance that restarted without its data stays out of every quorum for one maximum TTL
    // (Redlock's delayed restart): it cannot know which locks it granted before.
    if (int64_t left = RestartDelayLeft(now); left > 0) {
      out.token = fences_.CounterOf(req.resource);
      out.pttl = left;
      out.restarting = true;
      if (!req.retry) metrics_.restarting++;
      return out;
    }
    db.Add(Entry::NewString(req.resource, req.owner, deadline));
    ctx.Notify(notify::kString, "set", req.resource, db);
    PublishEvent(db.index(), req.resource, "acquired");
    ctx.Propagate({"SET", req.resource, req.owner, "PXAT", FormatInt64(deadline)});
  } else {
    db.SetExpire(e, deadline);  // re-entrant: the lease restarts
    ctx.Propagate({"PEXPIREAT", req.resource, FormatInt64(deadline)});
  }
  ctx.KeyModified(db, req.resource);
  ctx.Notify(notify::kGeneric, "expire", req.resource, db);
  ctx.AddDirty();
  NoteLease(req.ttl_ms);
  FenceRecord& rec = fences_.Get(req.resource);
  out.granted = true;
  out.reentered = e != nullptr;
  metrics_.granted++;
  if (out.reentered) metrics_.reentries++;
  out.token = rec.counter;
  out.pttl = req.ttl_ms;
  if (req.propose != 0 && Unsettled()) {
    out.unsettled = true;
  } else if (req.propose > rec.counter) {
    // Counted with the grant, in the same step: exactly what a LOCK.FENCE of the proposal by the
    // new holder would do right after it.
    rec.counter = req.propose;
    rec.fenced_owner = std::string(req.owner);
    rec.fenced_token = req.propose;
    PropagateRecord(ctx, req.resource, rec);
    metrics_.tokens++;
    out.counted = true;
    out.token = rec.counter;
  }
  if (!req.fence) return out;
  if (out.reentered && rec.fenced_owner == req.owner && rec.fenced_token != 0) {
    // The holder's own token, even when contenders' FENCEs moved the counter past it.
    out.token = rec.fenced_token;
    return out;
  }
  rec.counter++;
  rec.fenced_owner = std::string(req.owner);
  rec.fenced_token = rec.counter;
  PropagateRecord(ctx, req.resource, rec);
  metrics_.tokens++;
  out.token = rec.counter;
  return out;
}

bool LockManager::Pins(const Entry& e) const {
  return e.type() == ObjType::kString && e.has_expire() && e.expire_ms() > keyspace_.now_ms() &&
         fences_.Peek(e.key()) != nullptr;
}

bool LockManager::Release(CommandContext& ctx, std::string_view resource, std::string_view owner) {
  Database& db = ctx.db();
  Entry* e = db.Find(resource);
  if (e == nullptr || e->type() != ObjType::kString || e->string_value() != owner) return false;
  db.Delete(resource);  // the keyspace reports the removal: waiters are served after the command
  ctx.KeyModified(db, resource);
  ctx.Notify(notify::kGeneric, "del", resource, db);
  ctx.AddDirty();
  ctx.Propagate({"DEL", resource});
  metrics_.releases++;
  return true;
}

Result<bool> LockManager::Extend(CommandContext& ctx, std::string_view resource,
                                 std::string_view owner, int64_t ttl_ms) {
  Database& db = ctx.db();
  const int64_t now = ctx.now_ms();
  if (ttl_ms > INT64_MAX - now) return OpStatus::kOutOfRange;
  Entry* e = db.Find(resource);
  if (e == nullptr || e->type() != ObjType::kString || e->string_value() != owner) return false;
  db.SetExpire(e, now + ttl_ms);
  ctx.KeyModified(db, resource);
  ctx.Notify(notify::kGeneric, "expire", resource, db);
  ctx.AddDirty();
  ctx.Propagate({"PEXPIREAT", resource, FormatInt64(now + ttl_ms)});
  NoteLease(ttl_ms);
  metrics_.extensions++;
  return true;
}

FenceOutcome LockManager::Fence(CommandContext& ctx, std::string_view resource,
                                std::string_view owner, int64_t token) {
  // Its counters may miss tokens a majority counted before it lost them: counting here could
  // commit a token twice or out of order (docs/coordination.md).
  if (Unsettled()) return FenceOutcome::kUnsettled;
  Entry* e = ctx.db().Find(resource);
  const bool held = e != nullptr && e->type() == ObjType::kString && e->string_value() == owner;
  FenceRecord& rec = fences_.Get(resource);
  const FenceRecord before = rec;
  ctx.AddDirty();
  // The record's changes are the command's effects: LOCK.FENCE itself is never propagated.
  ctx.PropagateOnlyCollected();
  // Counted at most once per token: a retried FENCE of the same acquisition is counted again,
  // any other owner's is not.
  const bool counted =
      held && (rec.counter < token || (rec.counter == token && rec.fenced_owner == owner));
  if (counted) {
    rec.counter = token;
    rec.fenced_owner = std::string(owner);
    rec.fenced_token = token;
  } else {
    rec.counter = std::max(rec.counter, token);
  }
  if (rec.counter != before.counter || rec.fenced_owner != before.fenced_owner ||
      rec.fenced_token != before.fenced_token) {
    PropagateRecord(ctx, resource, rec);
  }
  return counted ? FenceOutcome::kCounted : FenceOutcome::kNotCounted;
}

bool LockManager::Unsettled() const {
  return settings_.lock_restart_delay > 0 && fences_.settling();
}

CatchUpState LockManager::CatchUpStateOf(int64_t now_ms) const {
  CatchUpState state;
  state.settled = !fences_.settling();
  state.counter = fences_.MaxCounter();
  state.ready_ms = std::max<int64_t>(0, now_ms - RestartDelayEnd());
  return state;
}

bool LockManager::CatchUp(CommandContext& ctx, int64_t counter) {
  if (!fences_.settling()) return false;
  fences_.RaiseCounters(counter);
  fences_.set_settling(false);
  metrics_.catch_ups++;
  ctx.AddDirty();
  ctx.PropagateOnlyCollected();
  if (ctx.propagating()) {
    ctx.executor().propagation().Add(kNoDatabase,
                                     {"LOCK.EPOCH", FormatInt64(epoch_), FormatInt64(counter)});
  }
  return true;
}

bool LockManager::IsFencedOwner(std::string_view resource, std::string_view owner) const {
  const FenceRecord* rec = fences_.Peek(resource);
  return rec != nullptr && rec->fenced_owner == owner && rec->fenced_token != 0;
}

LockManager::Guard LockManager::GuardAllows(std::string_view resource, int64_t token,
                                            int64_t* limit) const {
  if (const int64_t seen = fences_.SeenOf(resource); token < seen) {
    *limit = seen;
    return Guard::kFenced;
  }
  // A token above the counter was never fenced here: accepting it would raise the mark past
  // every token the resource's real holders can have, fencing them all out.
  if (const int64_t counter = fences_.CounterOf(resource); token > counter) {
    *limit = counter;
    return Guard::kNotIssued;
  }
  return Guard::kAllowed;
}

void LockManager::GuardAccepted(CommandContext& ctx, std::string_view resource, int64_t token) {
  FenceRecord& rec = fences_.Get(resource);
  if (token <= rec.seen) return;
  rec.seen = token;
  PropagateRecord(ctx, resource, rec);
}

void LockManager::ApplyRecord(std::string_view resource, const FenceRecord& record) {
  // (LOCK.RECORD checked the values against kMaxToken.)
  FenceRecord& rec = fences_.Get(resource);
  rec.counter = std::max(rec.counter, record.counter);
  rec.seen = std::max(rec.seen, record.seen);
  rec.fenced_owner = record.fenced_owner;
  rec.fenced_token = record.fenced_token;
}

void LockManager::ApplyFloor(int64_t floor, int64_t seen_floor,
                             const std::vector<std::string_view>& forgotten) {
  for (std::string_view resource : forgotten) fences_.Forget(resource);
  fences_.RaiseFloor(floor, seen_floor);
}

void LockManager::ApplyEpoch(int64_t epoch, int64_t floor) {
  epoch_ = std::max(epoch_, epoch);
  fences_.RaiseCounters(std::min(floor, kMaxToken));
}

int64_t LockManager::Promote(int64_t gap, int64_t delay_ms, int64_t now_ms) {
  const int64_t most = fences_.MaxCounter();
  const int64_t floor = most > kMaxToken - gap ? kMaxToken : most + gap;
  ApplyEpoch(epoch_ + 1, floor);
  const int64_t delay = delay_ms >= 0 ? delay_ms : longest_lease_ms_;
  ApplyHoldoff(delay, now_ms);
  if (propagation_.active()) {
    propagation_.Add(kNoDatabase, {"LOCK.EPOCH", FormatInt64(epoch_), FormatInt64(floor)});
  }
  return floor;
}

void LockManager::ApplyHoldoff(int64_t ms, int64_t now_ms) {
  const int64_t until = ms > INT64_MAX - now_ms ? INT64_MAX : now_ms + ms;
  promotion_until_ms_ = std::max(promotion_until_ms_, until);
}

void LockManager::OnKeyRemoved(int db, std::string_view key) {
  // A lock key that goes away, however (release, DEL, expiry, RENAME): observers hear of it.
  if (AnySubscribers() && fences_.Peek(key) != nullptr) PublishEvent(db, key, "released");
}

void LockManager::OnKeyExpired(int db, std::string_view key) {
  if (fences_.Peek(key) != nullptr) metrics_.lease_expiries++;
}

void LockManager::Trim(size_t max_records) {
  if (fences_.size() <= max_records) return;
  std::vector<std::string> dropped = fences_.Trim(max_records, [this](std::string_view resource) {
    // Held in any database: keep its fenced owner.
    for (int i = 0; i < keyspace_.db_count(); i++) {
      if (keyspace_.db(i).Find(resource, LookupMode::kNoTouch) != nullptr) return true;
    }
    return false;
  });
  if (dropped.empty() || !propagation_.active()) return;
  Argv floor{"LOCK.FLOOR", FormatInt64(fences_.floor()), FormatInt64(fences_.seen_floor())};
  floor.insert(floor.end(), std::make_move_iterator(dropped.begin()),
               std::make_move_iterator(dropped.end()));
  propagation_.Add(kNoDatabase, std::move(floor));
}

}  // namespace keyward
