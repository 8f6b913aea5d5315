#include "keyward/redlock/acquire_round.h"

#include <algorithm>

namespace keyward::redlock {

AcquireRound::AcquireRound(size_t instances, Millis ttl, Fencing fencing, Clock::time_point started)
    : ttl_(ttl),
      fencing_(fencing),
      started_(started),
      answers_(instances, AcquireAnswer::Failed("no answer")),
      fences_(instances, FenceAnswer::kFailed) {}

void AcquireRound::OnAcquire(size_t instance, AcquireAnswer answer) {
  if (instance < answers_.size()) answers_[instance] = std::move(answer);
}

void AcquireRound::OnFence(size_t instance, FenceAnswer answer) {
  if (instance < fences_.size()) fences_[instance] = answer;
}

size_t AcquireRound::Count(AcquireAnswer::Kind kind) const {
  return std::count_if(answers_.begin(), answers_.end(),
                       [kind](const AcquireAnswer& a) { return a.kind == kind; });
}

bool AcquireRound::AnyUnsettled() const {
  return std::any_of(answers_.begin(), answers_.end(),
                     [](const AcquireAnswer& a) { return a.unsettled; }) ||
         std::find(fences_.begin(), fences_.end(), FenceAnswer::kUnsettled) != fences_.end();
}

std::optional<size_t> AcquireRound::RefusingInstance() const {
  for (size_t i = 0; i < answers_.size(); ++i) {
    if (answers_[i].kind == AcquireAnswer::Kind::kRefused) return i;
  }
  return std::nullopt;
}

std::string AcquireRound::Tally() const {
  const size_t n = answers_.size();
  const auto skipped = static_cast<size_t>(std::count_if(
      answers_.begin(), answers_.end(), [](const AcquireAnswer& a) { return a.not_waited_for(); }));
  std::string out = "granted on " + std::to_string(granted()) + ", refused on " +
                    std::to_string(refused()) + ", no answer from " +
                    std::to_string(n - granted() - refused() - skipped) + " of " +
                    std::to_string(n) + " instances";
  if (skipped > 0) out += " (" + std::to_string(skipped) + " not waited for)";
  out += "; a majority is " + std::to_string(Majority(n));
  // The first failure says why the instances that did not answer did not (all usually alike).
  for (const AcquireAnswer& a : answers_) {
    if (a.kind == AcquireAnswer::Kind::kFailed && !a.not_waited_for()) {
      out += " (" + a.why + ")";
      break;
    }
  }
  return out;
}

Decision AcquireRound::Failed(Error error, bool split) const {
  Decision d;
  d.kind = Decision::Kind::kFailed;
  d.error = std::move(error);
  d.split = split;
  return d;
}

bool AcquireRound::Decided(size_t instances,
                           const std::vector<std::optional<AcquireAnswer>>& answers,
                           const std::vector<bool>& unresponsive) {
  size_t pending = 0;   // answers still to come
  size_t possible = 0;  // of those, from instances not known to be unresponsive
  size_t granted = 0;
  for (size_t i = 0; i < answers.size(); ++i) {
    if (!answers[i]) {
      ++pending;
      if (i >= unresponsive.size() || !unresponsive[i]) ++possible;
    } else if (answers[i]->kind == AcquireAnswer::Kind::kGranted) {
      ++granted;
    }
  }
  // A failure is decided as soon as a majority of grants is out of reach. A success waits for
  // every answer (or its timeout) except those of instances that timed out lately: a grant that
  // landed after the round ended would be a lock this holder never saw granted, which a renewal
  // could not tell from one held all along, so what those may still grant is released behind
  // the request (TryOnce). Only those are not waited for: the others answer in a round trip, and
  // their answers tell "held by another owner" from "no quorum".
  // (Never before any answer is in: with one instance, or with every instance unresponsive, the
  // round waits as it always did.)
  if (pending == 0) return true;
  if (granted + pending < Majority(instances)) {
    // A split (grants to undo) is decided at once. A clean refusal waits for the answer of the
    // first instance that is not unresponsive: a waiter queues on the first instance that refused
    // it (PlanWait), and waiters that agree on it are woken one per release in arrival order
    // (LOCK.WAIT ... HANDOFF); deciding on whichever answers came first would queue them on
    // different instances. It costs the round at most that instance's answer time.
    if (granted > 0) return true;
    for (size_t i = 0; i < answers.size(); ++i) {
      if (answers[i]) {
        if (answers[i]->kind == AcquireAnswer::Kind::kRefused) return true;  // the queue
        continue;
      }
      if (i < unresponsive.size() && unresponsive[i]) continue;
      return false;  // the first instance that may still refuse has not answered
    }
    return true;
  }
  return possible == 0 && pending < answers.size();
}

std::optional<uint64_t> AcquireRound::ReentryToken() const {
  std::optional<uint64_t> best;
  size_t best_votes = 0;
  for (const AcquireAnswer& a : answers_) {
    if (a.kind != AcquireAnswer::Kind::kGranted || !a.reentered || !a.holder_token) continue;
    const auto votes = static_cast<size_t>(
        std::count_if(answers_.begin(), answers_.end(), [&](const AcquireAnswer& b) {
          return b.kind == AcquireAnswer::Kind::kGranted && b.reentered &&
                 b.holder_token == a.holder_token;
        }));
    if (votes > best_votes) {
      best_votes = votes;
      best = a.holder_token;
    }
  }
  if (best_votes >= Majority(answers_.size())) return best;
  return std::nullopt;
}

Decision AcquireRound::AfterAcquire(Clock::time_point now) const {
  const size_t n = answers_.size();
  const size_t majority = Majority(n);
  const size_t grants = granted();
  if (grants < majority) {
    const bool split = grants > 0;
    // Refusals that make a majority impossible even if every silent instance had granted: the
    // resource is held elsewhere. Otherwise too few answered to decide.
    if (n - refused() < majority) {
      std::vector<std::optional<Millis>> ttls;
      for (const AcquireAnswer& a : answers_) {
        if (a.kind == AcquireAnswer::Kind::kRefused) ttls.push_back(a.holder_ttl);
      }
      return Failed(Error(LockError::kHeldByOther, Tally(), HolderTtlForMajority(n, ttls)), split);
    }
    if (grants + refused() < majority) return Failed(Error(LockError::kNoQuorum, Tally()), split);
    // Enough answers, but split between owners (contenders taking different instances).
    return Failed(Error(LockError::kHeldByOther, "the vote was split: " + Tally()), split);
  }
  if (now >= valid_until()) {
    return Failed(Error(LockError::kTimedOut,
                        "a majority granted the lock, but after its validity (ttl - elapsed - "
                        "drift) had run out: " +
                            std::to_string(FloorMillis(now - started_).count()) +
                            " ms elapsed of a " + std::to_string(ttl_.count()) + " ms ttl"),
                  false);
  }
  Decision d;
  d.valid_until = valid_until();
  switch (fencing_) {
    case Fencing::kNone:
      d.kind = Decision::Kind::kHeld;
      break;
    case Fencing::kSingleTrip:
      d.kind = Decision::Kind::kHeld;
      for (const AcquireAnswer& a : answers_) {
        if (a.kind == AcquireAnswer::Kind::kGranted && a.counter) d.token = *a.counter;
      }
      break;
    case Fencing::kTwoPhase: {
      if (std::optional<uint64_t> kept = ReentryToken()) {
        d.kind = Decision::Kind::kHeld;
        d.token = kept;
        break;
      }
      if (proposal_) {
        const auto counted = static_cast<size_t>(
            std::count_if(answers_.begin(), answers_.end(), [](const AcquireAnswer& a) {
              return a.kind == AcquireAnswer::Kind::kGranted && a.counted;
            }));
        if (counted >= majority) {
          d.kind = Decision::Kind::kHeld;
          d.token = proposal_;
          break;
        }
      }
      // Refusals count too: an instance the lease did not reach may hold the highest counter.
      uint64_t highest = 0;
      for (const AcquireAnswer& a : answers_) {
        if (a.counter) highest = std::max(highest, *a.counter);
      }
      d.kind = Decision::Kind::kFence;
      d.token = highest + 1;
      break;
    }
  }
  return d;
}

Decision AcquireRound::AfterFence(Clock::time_point now) const {
  const size_t n = answers_.size();
  const size_t majority = Majority(n);
  uint64_t highest = 0;
  for (const AcquireAnswer& a : answers_) {
    if (a.counter) highest = std::max(highest, *a.counter);
  }
  const uint64_t token = highest + 1;
  const auto counted =
      static_cast<size_t>(std::count(fences_.begin(), fences_.end(), FenceAnswer::kCounted));
  const auto not_counted =
      static_cast<size_t>(std::count(fences_.begin(), fences_.end(), FenceAnswer::kNotCounted));
  const auto unsettled =
      static_cast<size_t>(std::count(fences_.begin(), fences_.end(), FenceAnswer::kUnsettled));
  std::string tally = "token " + std::to_string(token) + " counted on " + std::to_string(counted) +
                      ", not counted on " + std::to_string(not_counted) + " of " +
                      std::to_string(n) + " instances; a majority is " + std::to_string(majority);
  if (unsettled > 0) {
    tally += " (" + std::to_string(unsettled) +
             " restarted without their counters and have not caught up yet)";
  }
  if (counted < majority) {
    if (counted + not_counted < majority) return Failed(Error(LockError::kNoQuorum, tally), true);
    // "Not counted" where the lease was ours means the counter had moved past T: a concurrent
    // acquisition fenced a token at least as high. Retrying reads the higher counter.
    return Failed(Error(LockError::kHeldByOther, "a concurrent acquisition fenced first: " + tally),
                  true);
  }
  if (now >= valid_until()) {
    return Failed(Error(LockError::kTimedOut,
                        "the token was committed after the validity had run out: " +
                            std::to_string(FloorMillis(now - started_).count()) +
                            " ms elapsed of a " + std::to_string(ttl_.count()) + " ms ttl"),
                  false);
  }
  Decision d;
  d.kind = Decision::Kind::kHeld;
  d.token = token;
  d.valid_until = valid_until();
  return d;
}

}  // namespace keyward::redlock
