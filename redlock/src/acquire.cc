// The acquisition loop: attempt on every instance in parallel (with the FENCE phase when fencing),
// release everywhere after a failed attempt, then retry after a random delay, or wait for a
// release up to a deadline. The decisions are AcquireRound's and PlanWait's; this file performs
// them.
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "core.h"
#include "keyward/redlock/owner.h"
#include "keyward/redlock/retry.h"

namespace keyward::redlock::detail {
namespace {

struct Attempt {
  AcquireRound round;
  Decision decision;
  bool cancelled = false;
};

Lock MakeLock(const std::string& resource, const std::string& owner, Millis ttl,
              Clock::time_point started, const Decision& held) {
  Lock lock;
  lock.resource = resource;
  lock.owner = owner;
  lock.ttl = ttl;
  lock.acquired_at = started;
  lock.valid_until = held.valid_until;
  lock.token = held.token;
  return lock;
}

// What undoing a failed or cancelled attempt releases: what it created, and nothing the caller
// held before it. An instance that re-entered keeps the caller's lock. One that did not answer
// may have granted slowly: with a fresh owner it is released too; with a caller-chosen owner (a
// possible re-entry) it is left alone, since a release there could delete the lock the caller
// still holds (at worst, a lock this attempt created there lingers until its TTL). `round` is
// null when no answer is known (cancelled during phase 1).
std::vector<bool> ToUndo(size_t instances, const AcquireRound* round, bool reentry) {
  std::vector<bool> which(instances, !reentry);
  if (round == nullptr) return which;
  for (size_t i = 0; i < instances; ++i) {
    const AcquireAnswer& a = round->answer(i);
    if (a.kind == AcquireAnswer::Kind::kGranted) which[i] = !a.reentered;
    // Refused: another owner's lock, which a compare-and-delete would not touch anyway.
    if (a.kind == AcquireAnswer::Kind::kRefused) which[i] = false;
  }
  return which;
}

// Phase 2: LOCK.FENCE `token` on every instance, the answers fed to the round. False when the
// caller cancelled (what the attempt created is then released in the background and the
// attempt marked).
asio::awaitable<bool> FenceEverywhere(std::shared_ptr<Core> core, std::string resource,
                                      std::string owner, uint64_t token, bool reentry,
                                      Attempt* attempt) {
  auto cancellation = co_await asio::this_coro::cancellation_state;
  const Millis timeout = core->options.instance_timeout;
  // Decided at a majority: counted there, or too few left that could count it.
  const size_t n = core->size();
  auto decided = [n](const Partial<FenceAnswer>& fences) {
    size_t counted = 0;
    size_t pending = 0;
    for (const auto& f : fences) {
      if (!f) ++pending;
      if (f == FenceAnswer::kCounted) ++counted;
    }
    return counted >= Majority(n) || counted + pending < Majority(n);
  };
  auto fences = co_await core->ForEach<FenceAnswer>(
      [&](Instance& instance) { return instance.Fence(resource, owner, token, timeout); },
      FenceAnswer::kFailed, decided);
  if (Cancelled(cancellation)) {
    ReleaseInBackground(core, resource, owner, ToUndo(core->size(), &attempt->round, reentry));
    attempt->cancelled = true;
    co_return false;
  }
  for (size_t i = 0; i < fences.size(); ++i) attempt->round.OnFence(i, fences[i]);
  co_return true;
}

// One attempt: ACQ on every instance, FENCE on every instance when phase 1 asks for it. What a
// failed attempt created is released (ToUndo) before the caller retries.
asio::awaitable<Attempt> TryOnce(std::shared_ptr<Core> core, std::string resource,
                                 std::string owner, Millis ttl, Fencing fencing, bool reentry,
                                 std::optional<size_t> woken_on = std::nullopt) {
  auto cancellation = co_await asio::this_coro::cancellation_state;
  const Millis timeout = core->options.instance_timeout;
  Attempt attempt{AcquireRound(core->size(), ttl, fencing, Clock::now()), Decision{}};
  const bool fence_now = fencing == Fencing::kSingleTrip;
  // A possible re-entry over N instances asks each for the owner's token there, so that a
  // re-entry keeps it (AcquireRound::AfterAcquire). A fresh owner proposes the next token from
  // the counters seen last, to commit it in this one round trip.
  const bool holder_token = reentry && fencing == Fencing::kTwoPhase;
  std::optional<uint64_t> propose;
  if (fencing == Fencing::kTwoPhase && !reentry && core->AllKeyward()) {
    propose = core->Proposal(resource);
  }
  if (propose) attempt.round.set_proposal(*propose);
  // A failure is decided without waiting for the slowest instances, nor for those that timed out
  // lately (a fresh owner only: a re-entry waits for every answer, so that a majority can agree
  // on the held token, and leaves unanswered instances alone); a grant of theirs is undone behind
  // their requests.
  std::function<bool(const Partial<AcquireAnswer>&)> decided;
  if (!reentry) {
    std::vector<bool> unresponsive;
    const Clock::time_point now = Clock::now();
    for (const auto& instance : core->instances)
      unresponsive.push_back(instance->Unresponsive(now));
    decided = [n = core->size(),
               unresponsive = std::move(unresponsive)](const Partial<AcquireAnswer>& answers) {
      return AcquireRound::Decided(n, answers, unresponsive);
    };
  }
  // Woken by a release on instance `woken_on`: the holder released every instance at once, and
  // its release may not have reached the others yet. Their acquisitions wait for it (LOCK.WAIT
  // in the same round trip), so that this waiter, whose turn it is (LOCK.WAIT ... HANDOFF), does
  // not fail on a lock that is already being released and pass its turn on by undoing its grant.
  // At most a fifth of the instance timeout: the wait holds up the instance's shared connection
  // (a lock held by someone else there makes it wait that long), and what queues behind it must
  // still be answered within its own timeout.
  const Instance* woken = woken_on ? core->instances[*woken_on].get() : nullptr;
  const Millis settle_for = std::max(Millis(1), timeout / 5);
  auto answers = co_await core->ForEach<AcquireAnswer>(
      [&](Instance& instance) {
        const Millis settle = woken != nullptr && &instance != woken ? settle_for : Millis(0);
        return instance.Acquire(resource, owner, ttl, fence_now, timeout, holder_token, propose,
                                settle);
      },
      AcquireAnswer::Failed(std::string(AcquireAnswer::kNotWaitedFor)), decided);
  if (Cancelled(cancellation)) {
    ReleaseInBackground(core, resource, owner, ToUndo(core->size(), nullptr, reentry));
    attempt.cancelled = true;
    co_return attempt;
  }
  for (size_t i = 0; i < answers.size(); ++i) {
    if (answers[i].counter) core->NoteCounter(resource, *answers[i].counter);
    attempt.round.OnAcquire(i, std::move(answers[i]));
  }
  // An instance that turned out to be plain Redis in this round has no counter to fence.
  if (core->FencingMode() == Fencing::kNone) attempt.round.set_fencing(Fencing::kNone);
  attempt.decision = attempt.round.AfterAcquire(Clock::now());
  if (attempt.decision.kind != Decision::Kind::kFailed) {
    // Held without the instances not waited for (they timed out lately): what they may still
    // grant is released behind the request, so the lock is held where it was seen granted.
    std::vector<bool> late;
    for (size_t i = 0; i < core->size(); ++i) {
      if (!attempt.round.answer(i).not_waited_for()) continue;
      late.resize(core->size(), false);
      late[i] = true;
    }
    if (!late.empty()) ReleaseInBackground(core, resource, owner, std::move(late));
  }

  if (attempt.decision.kind == Decision::Kind::kFence) {
    if (!co_await FenceEverywhere(core, resource, owner, *attempt.decision.token, reentry,
                                  &attempt)) {
      co_return attempt;
    }
    attempt.decision = attempt.round.AfterFence(Clock::now());
  }
  if (attempt.decision.token) core->NoteCounter(resource, *attempt.decision.token);
  if (attempt.decision.kind == Decision::Kind::kFailed) {
    // In the background (Drain() waits for it before a close), its requests sent before the
    // next attempt's on the same connections.
    ReleaseInBackground(core, resource, owner, ToUndo(core->size(), &attempt.round, reentry));
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    if (Cancelled(cancellation)) attempt.cancelled = true;
  }
  co_return attempt;
}

// One Keyward instance and a wait: LOCK.ACQUIRE ... WAIT ... FENCE. The server queues the request
// (first come, first served) and answers it when the release or the expiry hands the lock over.
//
// Validity: a grant answered within one instance timeout of sending counts from the sending, as
// any request. A grant that waited was made when the lock was handed over, and the answer may
// then have reached this process much later (a paused process, a retransmit, a busy executor):
// its age is unknown. It is confirmed with an owner-checked LOCK.EXTEND, and the validity counts
// from the sending of that; a lock that expired in between is not returned.
asio::awaitable<Result<Lock>> AcquireQueued(std::shared_ptr<Core> core, std::string resource,
                                            std::string owner, Millis ttl,
                                            std::optional<Clock::time_point> deadline,
                                            bool reentry) {
  auto cancellation = co_await asio::this_coro::cancellation_state;
  Instance& instance = *core->instances[0];
  const std::shared_ptr<Instance> keep_alive = core->instances[0];
  const Millis timeout = core->options.instance_timeout;
  Millis wait(0);  // forever
  if (deadline) {
    wait = std::chrono::ceil<Millis>(*deadline - Clock::now());
    if (wait.count() <= 0) co_return Error(LockError::kTimedOut, "the wait ended");
  }
  Clock::time_point sent = Clock::now();
  AcquireAnswer answer =
      co_await instance.AcquireWaiting(resource, owner, ttl, true, wait, timeout);
  if (Cancelled(cancellation)) {
    // The request may have been granted just before the connection was closed.
    if (!reentry) ReleaseInBackground(core, resource, owner);
    co_return Error(LockError::kCancelled);
  }
  const bool waited = Clock::now() - sent > timeout;
  if (answer.kind == AcquireAnswer::Kind::kGranted && waited) {
    sent = Clock::now();
    auto confirmed = co_await instance.Extend(resource, owner, ttl, timeout);
    if (Cancelled(cancellation)) {
      if (!reentry) ReleaseInBackground(core, resource, owner);
      co_return Error(LockError::kCancelled);
    }
    if (!confirmed || !*confirmed) {
      // Expired (and perhaps taken by someone else) before the answer reached us, or the
      // instance did not answer: the grant proves nothing. (Compare-and-delete: a lock that is
      // someone else's by now is left alone.)
      if (!reentry) ReleaseInBackground(core, resource, owner);
      co_return Error(LockError::kNotHeld,
                      confirmed ? "the waited-for lock expired before its grant arrived"
                                : "the waited-for grant could not be confirmed: " +
                                      confirmed.error().message());
    }
  }
  AcquireRound round(1, ttl, Fencing::kSingleTrip, sent);
  round.OnAcquire(0, std::move(answer));
  Decision decision = round.AfterAcquire(Clock::now());
  if (decision.kind == Decision::Kind::kHeld) {
    co_return MakeLock(resource, owner, ttl, round.started(), decision);
  }
  if (round.granted() > 0) {
    if (!round.answer(0).reentered) co_await ReleaseLock(core, resource, owner);
    // Granted, but its validity was gone by the time it arrived: not the end of the wait.
    co_return Error(LockError::kNotHeld, decision.error.message());
  }
  if (decision.error == LockError::kHeldByOther) {
    // The server's own timeout: the wait is over.
    decision.error.code = make_error_code(LockError::kTimedOut);
    decision.error.detail = "the lock was still held by another owner when the wait ended";
  }
  co_return decision.error;
}

}  // namespace

asio::awaitable<Result<Lock>> AcquireLock(std::shared_ptr<Core> core, std::string resource,
                                          AcquireOptions options) {
  if (resource.empty()) co_return Error(LockError::kInvalidArgument, "empty resource name");
  if (options.ttl.count() <= 0) {
    co_return Error(LockError::kInvalidArgument, "the TTL must be positive");
  }
  auto cancellation = co_await asio::this_coro::cancellation_state;
  const std::string owner = options.owner.empty() ? NewOwnerToken() : options.owner;
  RetryDelay delay(options.retry_delay, options.retry_jitter, core->NextSeed());
  const bool blocking = options.wait.has_value();
  std::optional<Clock::time_point> deadline;
  if (blocking && *options.wait != kWaitForever) deadline = Clock::now() + *options.wait;
  const Clock::time_point began = Clock::now();

  Error last;
  std::optional<size_t> woken_on;  // the instance whose LOCK.WAIT said the lock is free
  bool retried_after_catch_up = false;
  for (int attempt = 0;; ++attempt) {
    if (core->closed) co_return Error(LockError::kClosed);
    const Fencing fencing = core->FencingMode();
    if (options.require_fencing && fencing == Fencing::kNone) {
      co_return Error(LockError::kFencingUnavailable,
                      "an instance is plain Redis and the caller requires a fencing token");
    }

    // One instance and a wait: find out whether it can queue the request server-side before
    // the first attempt, so that waiters are served in arrival order from the start.
    if (blocking && core->size() == 1 && core->instances[0]->backend() == Backend::kUnknown) {
      const std::shared_ptr<Instance> instance = core->instances[0];
      co_await instance->Detect();
      if (Cancelled(cancellation)) co_return Error(LockError::kCancelled);
    }
    if (blocking && core->size() == 1 && core->instances[0]->backend() == Backend::kKeyward) {
      Result<Lock> queued = co_await AcquireQueued(core, resource, owner, options.ttl, deadline,
                                                   !options.owner.empty());
      if (queued || queued.error() == LockError::kTimedOut ||
          queued.error() == LockError::kCancelled) {
        co_return queued;
      }
      // Unreachable, or the grant came too late to be valid: wait a little and queue again.
      last = queued.error();
      if (deadline && Clock::now() >= *deadline) break;
      if (!co_await Sleep(delay.Next()) || Cancelled(cancellation)) {
        co_return Error(LockError::kCancelled);
      }
      continue;
    }

    // A caller-chosen owner may be re-entering a lock it holds; a fresh random one cannot.
    Attempt tried = co_await TryOnce(core, resource, owner, options.ttl, fencing,
                                     !options.owner.empty(), woken_on);
    woken_on.reset();
    if (tried.cancelled) co_return Error(LockError::kCancelled);
    // An instance that started without its counters counted nothing: catch it up (behind a lock
    // that is held; before the next attempt of one that failed, which then follows at once, once
    // per call without using a retry).
    const bool unsettled = tried.round.AnyUnsettled();
    if (tried.decision.kind == Decision::Kind::kHeld && unsettled) CatchUpInBackground(core);
    bool caught_up = false;
    if (tried.decision.kind != Decision::Kind::kHeld && unsettled) {
      caught_up = co_await CatchUpEverywhere(core);
      if (Cancelled(cancellation)) co_return Error(LockError::kCancelled);
    }
    if (tried.decision.kind == Decision::Kind::kHeld) {
      if (options.require_fencing && !tried.decision.token) {
        // The round found an instance to be plain Redis only after it was granted.
        ReleaseInBackground(core, resource, owner,
                            ToUndo(core->size(), &tried.round, !options.owner.empty()));
        co_return Error(LockError::kFencingUnavailable,
                        "an instance is plain Redis and the caller requires a fencing token");
      }
      co_return MakeLock(resource, owner, options.ttl, tried.round.started(), tried.decision);
    }
    last = tried.decision.error;
    if (options.require_fencing && core->FencingMode() == Fencing::kNone) continue;
    if (caught_up && !retried_after_catch_up && !(deadline && Clock::now() >= *deadline)) {
      retried_after_catch_up = true;
      --attempt;  // the attempt could not have succeeded: it does not use up a retry
      continue;
    }

    if (!blocking) {
      if (attempt >= options.retry_count) co_return last;
      if (!co_await Sleep(delay.Next()) || Cancelled(cancellation)) {
        co_return Error(LockError::kCancelled);
      }
      continue;
    }
    const WaitStep step =
        PlanWait(tried.decision, tried.round, core->AllKeyward(), deadline, Clock::now(), delay);
    if (step.kind == WaitStep::Kind::kGiveUp) break;
    if (step.kind == WaitStep::Kind::kWaitFree) {
      // Woken by the release (1), or by the holder's TTL or our deadline (0): either way the
      // next attempt tells. An error (the instance went away) costs nothing more than a retry.
      const std::shared_ptr<Instance> instance = core->instances[step.instance];
      auto free =
          co_await instance->WaitFree(resource, step.duration, core->options.instance_timeout);
      if (free && *free) woken_on = step.instance;
    } else {
      co_await Sleep(step.duration);
    }
    if (Cancelled(cancellation)) co_return Error(LockError::kCancelled);
  }
  Error timed_out(LockError::kTimedOut,
                  "waited " + std::to_string(FloorMillis(Clock::now() - began).count()) +
                      " ms; last attempt: " + last.message(),
                  last.holder_ttl);
  co_return timed_out;
}

}  // namespace keyward::redlock::detail
