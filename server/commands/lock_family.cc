// Native coordination commands: LOCK.ACQUIRE (with fencing and fair waiting), LOCK.FENCE,
// LOCK.RELEASE, LOCK.EXTEND, LOCK.WAIT, LOCK.INFO and LOCK.GUARD. The state and the waiting live
// in server/coordination/lock_manager; this file parses arguments and builds replies.
// docs/commands/coordination.md describes them; COORDINATION.md's ACQ and FENCE steps are
// LOCK.ACQUIRE (without FENCE) and LOCK.FENCE.
#include <algorithm>
#include <string>

#include "server/commands/families.h"
#include "server/commands/replica_acks.h"
#include "server/commands/services.h"
#include "server/coordination/lock_manager.h"
#include "server/coordination/lock_waits.h"
#include "server/core/errors.h"
#include "server/core/strings.h"
#include "server/engine/command_meta.h"
#include "server/engine/context.h"
#include "server/engine/registry.h"

namespace keyward {

namespace {

// A lease length: a positive integer of milliseconds, as SET ... PX wants it.
bool ParseTtl(std::string_view arg, CommandContext& ctx, int64_t* ttl) {
  if (!ParseInt64(arg, ttl)) {
    ctx.rb().SendError(errors::kNotInteger);
    return false;
  }
  if (*ttl <= 0) {
    ctx.rb().SendError(errors::InvalidExpireTime(ctx.cmd().full_name()));
    return false;
  }
  return true;
}

// A wait in milliseconds, as BLPOP's timeout: 0 waits forever.
bool ParseTimeout(std::string_view arg, CommandContext& ctx, int64_t* timeout) {
  if (!ParseInt64(arg, timeout)) {
    ctx.rb().SendError(errors::kTimeoutNotInteger);
    return false;
  }
  if (*timeout < 0) {
    ctx.rb().SendError(errors::kTimeoutNegative);
    return false;
  }
  return true;
}

// An integer of the stream's records: 0 (none yet) to kMaxToken.
// A decimal integer too large for 64 bits is out of the range too, not "not an integer".
bool IsDecimal(std::string_view arg) {
  if (!arg.empty() && arg.front() == '-') arg.remove_prefix(1);
  return !arg.empty() && arg.front() != '0' &&
         std::all_of(arg.begin(), arg.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool ParseCounter(std::string_view arg, CommandContext& ctx, int64_t* value) {
  if (!ParseInt64(arg, value)) {
    ctx.rb().SendError(IsDecimal(arg) ? errors::kCounterOutOfRange : errors::kNotInteger);
    return false;
  }
  if (*value < 0 || *value > kMaxToken) {
    ctx.rb().SendError(errors::kCounterOutOfRange);
    return false;
  }
  return true;
}

// A fencing token: 1 to kMaxToken, so that no counter can overflow.
bool ParseToken(std::string_view arg, CommandContext& ctx, int64_t* token) {
  if (!ParseInt64(arg, token)) {
    ctx.rb().SendError(IsDecimal(arg) ? errors::kTokenOutOfRange : errors::kNotInteger);
    return false;
  }
  if (*token >= 1 && *token <= kMaxToken) return true;
  ctx.rb().SendError(errors::kTokenOutOfRange);
  return false;
}

// LOCK.ACQUIRE resource owner ttl-ms [WAIT timeout-ms] [FENCE | PROPOSE token]
void CmdAcquire(CmdArgs args, CommandContext& ctx) {
  AcquireRequest req{.resource = args[1], .owner = args[2]};
  if (!ParseTtl(args[3], ctx, &req.ttl_ms)) return;
  bool wait = false;
  int64_t timeout = 0;
  for (size_t i = 4; i < args.size(); i++) {
    if (EqualsIgnoreCase(args[i], "fence")) {
      req.fence = true;
    } else if (EqualsIgnoreCase(args[i], "wait") && i + 1 < args.size()) {
      if (!ParseTimeout(args[++i], ctx, &timeout)) return;
      wait = true;
    } else if (EqualsIgnoreCase(args[i], "propose") && i + 1 < args.size()) {
      if (!ParseToken(args[++i], ctx, &req.propose)) return;
    } else {
      return ctx.rb().SendError(errors::kSyntax);
    }
  }
  // PROPOSE is the one-round-trip form over N instances: not with FENCE (one instance) nor a
  // server-side wait.
  if (req.propose != 0 && (req.fence || wait)) return ctx.rb().SendError(errors::kSyntax);
  LockManager& locks = ctx.services().locks;
  // Free, but a LOCK.WAIT ... HANDOFF waiter woken for it may still take it: a waiting
  // acquisition queues behind it (as one already queued stays there) instead of overtaking it.
  if (wait && ctx.may_block() && ctx.services().lock_waits.HandoffPending(ctx, req.resource)) {
    return ctx.services().lock_waits.Block(ctx, req, true, timeout);
  }
  Result<AcquireOutcome> out = locks.Acquire(ctx, req);
  if (!out) return SendAcquireError(ctx, out.status(), req.resource);
  if (!out->granted && wait && ctx.may_block()) {
    return ctx.services().lock_waits.Block(ctx, req, true, timeout);
  }
  if (out->restarting) {
    // Not a refusal by a holder: this instance may not count in a quorum yet (it cannot know
    // which locks it granted before it restarted). An error, so clients count it as no answer.
    return ctx.rb().SendError(
        errors::Restarting(out->pttl, ctx.services().locks.DelayOption(ctx.now_ms())));
  }
  const bool proposed = req.propose != 0;
  if (out->granted && (req.fence || out->counted)) {
    const AcquireOutcome outcome = *out;
    auto reply = [outcome, proposed](ReplyBuilder& rb, int64_t) {
      SendAcquireOutcome(rb, outcome, proposed);
    };
    if (HoldFencedReply(ctx, reply)) return;
  }
  SendAcquireOutcome(ctx.rb(), *out, proposed);
}

// LOCK.FENCE resource owner token
void CmdFence(CmdArgs args, CommandContext& ctx) {
  int64_t token;
  if (!ParseToken(args[3], ctx, &token)) return;
  const FenceOutcome outcome = ctx.services().locks.Fence(ctx, args[1], args[2], token);
  if (outcome == FenceOutcome::kUnsettled) return ctx.rb().SendError(errors::Unsettled());
  const auto answer = static_cast<int64_t>(outcome);
  if (outcome == FenceOutcome::kCounted &&
      HoldFencedReply(ctx, [answer](ReplyBuilder& rb, int64_t) { rb.SendLong(answer); })) {
    return;
  }
  ctx.rb().SendLong(answer);
}

// LOCK.CATCHUP: [settled, counter, ready-ms, run-id, counting], the first step of catching an
// instance that started without its counters up with its peers (counter: its highest; counting:
// whether its LOCK.FENCE counts, i.e. settled or not guarding its restarts).
// LOCK.CATCHUP counter run-id: the second: every counter raised to `counter` and the instance
// settled, if this is still the life of it (run-id) that answered the first step and it is not
// settled yet; 1, else 0. Both refuse during the restart delay of an instance that is not settled:
// it cannot say yet what its peers' counters include.
void CmdCatchUp(CmdArgs args, CommandContext& ctx) {
  if (args.size() != 1 && args.size() != 3) return ctx.rb().SendError(errors::kSyntax);
  LockManager& locks = ctx.services().locks;
  const int64_t now = ctx.now_ms();
  int64_t counter = 0;
  if (args.size() == 3 && !ParseCounter(args[1], ctx, &counter)) return;
  const CatchUpState state = locks.CatchUpStateOf(now);
  if (!state.settled) {
    if (const int64_t left = locks.RestartDelayLeft(now); left > 0) {
      return ctx.rb().SendError(errors::Restarting(left, locks.DelayOption(now)));
    }
  }
  if (args.size() == 1) {
    ctx.rb().StartArray(5);
    ctx.rb().SendLong(state.settled ? 1 : 0);
    ctx.rb().SendLong(state.counter);
    ctx.rb().SendLong(state.ready_ms);
    ctx.rb().SendBulk(ctx.executor().state().run_id);
    ctx.rb().SendLong(locks.Unsettled() ? 0 : 1);
    return;
  }
  if (args[2] != ctx.executor().state().run_id || !locks.CatchUp(ctx, counter)) {
    return ctx.rb().SendLong(0);
  }
  if (HoldFencedReply(ctx, [](ReplyBuilder& rb, int64_t) { rb.SendLong(1); })) return;
  ctx.rb().SendLong(1);
}

// LOCK.RELEASE resource owner
void CmdRelease(CmdArgs args, CommandContext& ctx) {
  ctx.rb().SendLong(ctx.services().locks.Release(ctx, args[1], args[2]) ? 1 : 0);
}

// LOCK.EXTEND resource owner ttl-ms
void CmdExtend(CmdArgs args, CommandContext& ctx) {
  int64_t ttl;
  if (!ParseTtl(args[3], ctx, &ttl)) return;
  Result<bool> extended = ctx.services().locks.Extend(ctx, args[1], args[2], ttl);
  if (!extended) return ctx.rb().SendError(errors::InvalidExpireTime(ctx.cmd().full_name()));
  ctx.rb().SendLong(*extended ? 1 : 0);
}

constexpr int64_t kMaxHandoffMs = 60000;

// LOCK.WAIT resource timeout-ms [HANDOFF window-ms]: 1 once the resource is free, 0 at the
// timeout. With HANDOFF, one such waiter is woken per release (see LockWaits).
void CmdWait(CmdArgs args, CommandContext& ctx) {
  int64_t timeout;
  if (!ParseTimeout(args[2], ctx, &timeout)) return;
  int64_t handoff_ms = 0;
  if (args.size() != 3) {
    if (args.size() != 5 || !EqualsIgnoreCase(args[3], "handoff")) {
      return ctx.rb().SendError(errors::kSyntax);
    }
    if (!ParseInt64(args[4], &handoff_ms) || handoff_ms < 0 || handoff_ms > kMaxHandoffMs) {
      return ctx.rb().SendError(errors::kHandoffOutOfRange);
    }
  }
  LockManager& locks = ctx.services().locks;
  LockWaits& waits = ctx.services().lock_waits;
  Result<std::optional<std::string_view>> holder = locks.Holder(ctx.db(), args[1], nullptr);
  if (!holder) return ctx.SendStatus(holder.status());
  // Free, and no other HANDOFF waiter is taking it: at once.
  const bool free_for_me =
      !holder->has_value() && (handoff_ms == 0 || !waits.HandoffPending(ctx, args[1]));
  if (free_for_me) return ctx.rb().SendLong(1);
  if (!ctx.may_block()) return ctx.rb().SendLong(holder->has_value() ? 0 : 1);
  waits.Block(ctx, AcquireRequest{.resource = args[1], .owner = {}}, false, timeout, handoff_ms);
}

// LOCK.INFO resource: owner, pttl, token, holder_token, seen, waiters.
void CmdInfo(CmdArgs args, CommandContext& ctx) {
  LockManager& locks = ctx.services().locks;
  int64_t pttl = -2;
  Result<std::optional<std::string_view>> holder = locks.Holder(ctx.db(), args[1], &pttl);
  if (!holder) return ctx.SendStatus(holder.status());
  const FenceRecord* rec = locks.fences().Peek(args[1]);
  ReplyBuilder& rb = ctx.rb();
  rb.StartMap(6);
  rb.SendBulk("owner");
  if (holder->has_value()) {
    rb.SendBulk(**holder);
  } else {
    rb.SendNull();
  }
  rb.SendBulk("pttl");
  rb.SendLong(holder->has_value() ? pttl : -2);
  rb.SendBulk("token");
  rb.SendLong(rec != nullptr ? rec->counter : locks.fences().floor());
  // The holder's own token, when this instance counted it (the counter may have moved past it:
  // FENCEs of contenders that lost raise it too).
  rb.SendBulk("holder_token");
  if (holder->has_value() && rec != nullptr && rec->fenced_token != 0 &&
      rec->fenced_owner == **holder) {
    rb.SendLong(rec->fenced_token);
  } else {
    rb.SendNull();
  }
  rb.SendBulk("seen");
  rb.SendLong(locks.fences().SeenOf(args[1]));  // what LOCK.GUARD checks against
  rb.SendBulk("waiters");
  rb.SendLong(static_cast<int64_t>(ctx.services().blocking.waiters(ctx.client().db, args[1])));
}

// LOCK.GUARD resource token command [arg ...]: the write runs only if `token` is at least the
// highest token a guarded write of this resource carried, which it then becomes. The write passes
// the gatekeeper as a guarded write (writes only; none that blocks, scripts or guards).
void CmdGuard(CmdArgs args, CommandContext& ctx) {
  int64_t token;
  if (!ParseToken(args[2], ctx, &token)) return;
  LockManager& locks = ctx.services().locks;
  int64_t limit;
  if (const LockManager::Guard guard = locks.GuardAllows(args[1], token, &limit);
      guard != LockManager::Guard::kAllowed) {
    // Checked after the command is known to be runnable, as before any effect.
    const Verdict verdict = ctx.executor().gatekeeper().Check(CallerKind::kGuard, ctx.client(),
                                                              args.subspan(3), ctx.now_ms());
    if (verdict.action == Verdict::kRefuse) return ctx.rb().SendError(verdict.error);
    if (guard == LockManager::Guard::kNotIssued) {
      return ctx.rb().SendError(errors::NotIssued(token, limit, args[1]));
    }
    return ctx.rb().SendError(errors::Fenced(token, limit, args[1]));
  }
  // Replicas and the AOF receive the write itself, then the raised mark; never the guard.
  ctx.PropagateOnlyCollected();
  const std::string& out = *ctx.rb().sink();
  const size_t reply_at = out.size();
  if (auto refused =
          ctx.executor().CallNested(CallerKind::kGuard, ctx, ctx.client(), args.subspan(3))) {
    return ctx.rb().SendError(*refused);
  }
  const bool failed = out.size() > reply_at && out[reply_at] == '-';
  if (!failed) locks.GuardAccepted(ctx, args[1], token);
}

// The coordination state belongs to no database: propagated without a SELECT.
void PropagateWithoutDatabase(CommandContext& ctx, CmdArgs args) {
  ctx.PropagateOnlyCollected();
  if (ctx.propagating()) ctx.executor().propagation().Add(-1, Argv(args.begin(), args.end()));
}

// LOCK.RECORD resource counter seen fenced-owner fenced-token: sets a fencing record, as the
// propagation stream carries it to replicas and the AOF. Counters and guard marks only rise.
void CmdRecord(CmdArgs args, CommandContext& ctx) {
  FenceRecord rec;
  if (!ParseCounter(args[2], ctx, &rec.counter) || !ParseCounter(args[3], ctx, &rec.seen) ||
      !ParseCounter(args[5], ctx, &rec.fenced_token)) {
    return;
  }
  rec.fenced_owner = std::string(args[4]);
  ctx.services().locks.ApplyRecord(args[1], rec);
  ctx.AddDirty();
  PropagateWithoutDatabase(ctx, args);
  ctx.rb().SendOk();
}

// LOCK.FLOOR floor seen-floor [resource ...]: raises the per-instance floors (counters, guard
// marks) and forgets the records folded into them (the stream's record of lock-max-records
// trimming).
void CmdFloor(CmdArgs args, CommandContext& ctx) {
  int64_t floor;
  int64_t seen_floor;
  if (!ParseCounter(args[1], ctx, &floor) || !ParseCounter(args[2], ctx, &seen_floor)) return;
  ctx.services().locks.ApplyFloor(floor, seen_floor,
                                  std::vector<std::string_view>(args.begin() + 3, args.end()));
  ctx.AddDirty();
  PropagateWithoutDatabase(ctx, args);
  ctx.rb().SendOk();
}

// LOCK.EPOCH epoch floor: a promotion's record (replication): the epoch, and every fencing
// counter raised to at least `floor`.
void CmdEpoch(CmdArgs args, CommandContext& ctx) {
  int64_t epoch;
  int64_t floor;
  if (!ParseCounter(args[1], ctx, &epoch) || !ParseCounter(args[2], ctx, &floor)) return;
  ctx.services().locks.ApplyEpoch(epoch, floor);
  ctx.AddDirty();
  PropagateWithoutDatabase(ctx, args);
  ctx.rb().SendOk();
}

// LOCK.LEASE milliseconds: the longest lease granted so far (the stream's form; a promoted
// replica waits that long before granting locks, lock-promotion-delay).
void CmdLease(CmdArgs args, CommandContext& ctx) {
  int64_t ms;
  if (!ParseInt64(args[1], &ms) || ms < 0) return ctx.rb().SendError(errors::kNotInteger);
  ctx.services().locks.ApplyLongestLease(ms);
  ctx.AddDirty();
  PropagateWithoutDatabase(ctx, args);
  ctx.rb().SendOk();
}

// LOCK.HOLDOFF milliseconds: the master grants no lock for that long yet (its promotion or
// restart delay), sent to replicas when a FAILOVER starts: the replica that takes over waits
// out the rest.
void CmdHoldoff(CmdArgs args, CommandContext& ctx) {
  int64_t ms;
  if (!ParseInt64(args[1], &ms) || ms < 0) return ctx.rb().SendError(errors::kNotInteger);
  ctx.services().locks.ApplyHoldoff(ms, ctx.now_ms());
  ctx.AddDirty();
  PropagateWithoutDatabase(ctx, args);
  ctx.rb().SendOk();
}

// COMMAND INFO's key specs. The lock is a string key; LOCK.GUARD's other keys are those of the
// command it runs (COMMAND GETKEYS resolves them).
const CommandMeta kAcquireMeta{
    "lock.acquire",
    "",
    {{"Creates the lock's key, or restarts its TTL when the owner holds it", "RW access update",
      "index", 1, "", 0, "range", 0, 1, 0}}};
const CommandMeta kFenceMeta{
    "lock.fence", "", {{"", "RO access", "index", 1, "", 0, "range", 0, 1, 0}}};
const CommandMeta kReleaseMeta{
    "lock.release", "", {{"", "RW access delete", "index", 1, "", 0, "range", 0, 1, 0}}};
const CommandMeta kExtendMeta{
    "lock.extend", "", {{"", "RW access update", "index", 1, "", 0, "range", 0, 1, 0}}};
const CommandMeta kWaitMeta{"lock.wait", "", {{"", "RO", "index", 1, "", 0, "range", 0, 1, 0}}};
const CommandMeta kInfoMeta{
    "lock.info", "", {{"", "RO access", "index", 1, "", 0, "range", 0, 1, 0}}};
const CommandMeta kGuardMeta{"lock.guard",
                             "",
                             {{"Reads the resource's guard mark and raises it to the token",
                               "RW access update", "index", 1, "", 0, "range", 0, 1, 0},
                              {"The keys of the guarded command", "RW access update", "index", 3,
                               "", 0, "unknown", 0, 0, 0}}};
const CommandMeta kRecordMeta{
    "lock.record", "", {{"", "RW update", "index", 1, "", 0, "range", 0, 1, 0}}};

}  // namespace

void RegisterLockFamily(CommandRegistry& r) {
  constexpr uint32_t kW = CO::kWrite;
  constexpr uint32_t kWD = CO::kWrite | CO::kDenyOom;
  constexpr uint32_t kF = CO::kFast;
  constexpr uint64_t kCoord = Acl::kCoordination;
  // The propagation stream's own commands (replicas, the AOF) are not for services: like
  // REPLCONF and PSYNC they are @admin @dangerous, and outside @coordination.
  constexpr uint64_t kStream = Acl::kAdmin | Acl::kDangerous;
  constexpr std::string_view kGroup = "coordination";
  // clang-format off
  r << CommandSpec{"lock.acquire", -4, kWD | CO::kBlocking, 1, 1, 1, kCoord, CmdAcquire,
                   {"Take a lock with a lease, optionally waiting in line and fencing it",
                    "7.0.0", kGroup, "O(1)",
                    "resource owner milliseconds [WAIT timeout] [FENCE|PROPOSE token]"}}.WithMeta(&kAcquireMeta)
    << CommandSpec{"lock.fence", 4, kW | kF, 1, 1, 1, kCoord, CmdFence,
                   {"Commit a fencing token for a lock held by the owner", "7.0.0", kGroup,
                    "O(1)", "resource owner token"}}.WithMeta(&kFenceMeta)
    << CommandSpec{"lock.catchup", -1, kW | CO::kNoScript, 0, 0, 0, kCoord, CmdCatchUp,
                   {"Catch the fencing counters up with the peers after a start without them",
                    "7.0.0", kGroup, "O(N) where N is the number of fencing records",
                    "[counter run-id]"}}
    << CommandSpec{"lock.release", 3, kW | kF, 1, 1, 1, kCoord, CmdRelease,
                   {"Release a lock held by the owner", "7.0.0", kGroup, "O(1)",
                    "resource owner"}}.WithMeta(&kReleaseMeta)
    << CommandSpec{"lock.extend", 4, kW | kF, 1, 1, 1, kCoord, CmdExtend,
                   {"Restart the lease of a lock held by the owner", "7.0.0", kGroup, "O(1)",
                    "resource owner milliseconds"}}.WithMeta(&kExtendMeta)
    << CommandSpec{"lock.wait", -3, CO::kReadOnly | CO::kBlocking, 1, 1, 1, kCoord, CmdWait,
                   {"Wait until a lock is free", "7.0.0", kGroup, "O(1)",
                    "resource timeout [HANDOFF window]"}}.WithMeta(&kWaitMeta)
    << CommandSpec{"lock.info", 2, CO::kReadOnly | kF, 1, 1, 1, kCoord, CmdInfo,
                   {"Show a lock's holder, lease, fencing counter and waiters", "7.0.0", kGroup,
                    "O(1)", "resource"}}.WithMeta(&kInfoMeta)
    << CommandSpec{"lock.guard", -4, kWD | CO::kMovableKeys, 1, 1, 1, kCoord, CmdGuard,
                   {"Run a write only if its fencing token is not older than the last one",
                    "7.0.0", kGroup, "O(1) plus the command's complexity",
                    "resource token command [arg ...]"}}.WithMeta(&kGuardMeta)
    // The propagation stream's coordination state (replicas, the AOF, replays). Admin-only in
    // spirit: they can raise counters but never lower them.
    << CommandSpec{"lock.record", 6, kW | CO::kNoScript | kF, 1, 1, 1, kStream,
                   CmdRecord,
                   {"Set a fencing record (the propagation stream's form)", "7.0.0", kGroup,
                    "O(1)", "resource counter seen fenced-owner fenced-token"}}.WithMeta(&kRecordMeta)
    << CommandSpec{"lock.floor", -3, kW | CO::kNoScript | kF, 0, 0, 0, kStream, CmdFloor,
                   {"Raise the fencing floor and forget folded records (the propagation "
                    "stream's form)",
                    "7.0.0", kGroup, "O(N) where N is the number of resources", "floor seen-floor [resource ...]"}}
    << CommandSpec{"lock.epoch", 3, kW | CO::kNoScript | kF, 0, 0, 0, kStream, CmdEpoch,
                   {"Raise the promotion epoch and every fencing counter (the propagation "
                    "stream's form of a promotion)",
                    "7.0.0", kGroup, "O(N) where N is the number of resources", "epoch floor"}}
    << CommandSpec{"lock.lease", 2, kW | CO::kNoScript | kF, 0, 0, 0, kStream, CmdLease,
                   {"Record the longest lease granted (the propagation stream's form)", "7.0.0",
                    kGroup, "O(1)", "milliseconds"}}
    << CommandSpec{"lock.holdoff", 2, kW | CO::kNoScript | kF, 0, 0, 0, kStream,
                   CmdHoldoff,
                   {"Grant no lock for that long (the stream's form of a master's running "
                    "promotion or restart delay, sent when a FAILOVER starts)",
                    "7.0.0", kGroup, "O(1)", "milliseconds"}};
  // clang-format on
}

}  // namespace keyward
