// One acquisition attempt over N instances, as a state machine without I/O: the caller sends the
// requests, feeds each instance's answer in, and asks what follows.
//
//   AcquireRound round(3, Millis(10000), Fencing::kTwoPhase, now());   // requests sent now
//   round.OnAcquire(0, AcquireAnswer::Granted(41));                     // LOCK.ACQUIRE answers
//   round.OnAcquire(1, AcquireAnswer::Refused(40, Millis(900)));
//   round.OnAcquire(2, AcquireAnswer::Granted(43));
//   Decision d = round.AfterAcquire(now());   // kFence with token 44 = max(41, 40, 43) + 1
//   round.OnFence(0, FenceAnswer::kCounted); ...                        // LOCK.FENCE answers
//   d = round.AfterFence(now());              // kHeld (token 44, valid_until) or kFailed
//
// The two-phase fencing counter of COORDINATION.md:
// - phase 1 (ACQ): the lease is taken where free; every instance, granting or refusing, reports
//   its counter F(R). With a majority of grants and positive validity, T = max(every F seen) + 1.
// - phase 2 (FENCE T, to all N): T is the fencing token if a majority counted it and the
//   validity is still positive. A majority of "counted" answers is what makes T unique (two
//   majorities overlap, and an instance counts a T once) and larger than every token committed
//   before (the overlapping instance already had F >= the earlier token).
// With one instance the phases collapse into LOCK.ACQUIRE ... FENCE (Fencing::kSingleTrip), whose
// grant carries the token.
//
// One round trip (kTwoPhase with a proposal): the client proposes T from the counters it saw last
// (LOCK.ACQUIRE ... PROPOSE T); an instance that grants the lock also counts T if T is above its
// counter, in the same atomic step, exactly as if the new holder's LOCK.FENCE T had followed the
// grant at once. When a majority counted T, the lock is held with T and phase 2 is skipped;
// otherwise phase 2 runs as usual with max + 1 of the counters reported (which, where T was
// counted, are T). The proof is the two-phase one: an instance counts a T at most once and never
// lowers its counter, so two majorities that counted the same T would share an instance that
// counted it twice (uniqueness); and if acquisition A's commit completed before B's request
// began, the instance B's majority shares with A's had a counter >= T_A already, so B's T_B was
// counted there only if T_B > T_A (real-time order). A proposal below a counter is simply not
// counted: a stale guess costs the second round trip, never safety.
//
// Re-entry (kTwoPhase): when a majority answers that the owner already held the lock there and
// reports the same token T counted for it (AcquireAnswer::holder_token), the lock is held with T
// and phase 2 is skipped: the re-entry keeps its token. No other acquisition can have committed a
// token since T on those instances: its FENCE would have been counted on at least one of them
// (two majorities overlap), which would then name the other owner as the holder of the counter.
// Against Redis instances there are no counters (Fencing::kNone): the lock is held without a token.
//
// A lock is never handed out with a non-positive validity (ttl - elapsed - drift), measured from
// the instant the first request was sent (`started`) to the decision.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keyward/redlock/errors.h"
#include "keyward/redlock/quorum.h"

namespace keyward::redlock {

enum class Fencing {
  kNone,        // some instance is plain Redis: no fencing token
  kSingleTrip,  // N = 1 Keyward: LOCK.ACQUIRE ... FENCE grants and fences in one step
  kTwoPhase,    // N > 1 Keyward: LOCK.ACQUIRE, then LOCK.FENCE T to all
};

// What one instance answered to the acquisition request.
struct AcquireAnswer {
  enum class Kind {
    kGranted,  // the lease is ours on this instance (new, or re-entrant)
    kRefused,  // another owner holds it (or the instance is in its restart delay)
    kFailed,   // no usable answer: timeout, connection error, unexpected reply
  };
  Kind kind = Kind::kFailed;
  // kGranted: the owner already held the lock there (its lease restarted) rather than the
  // request creating it. A failed attempt undoes only what it created.
  bool reentered = false;
  // kGranted with a proposed token (one round trip): the instance counted it with the grant.
  bool counted = false;
  // A proposal not counted because the instance restarted without its counters and has not
  // been caught up since (catch_up.h).
  bool unsettled = false;
  // F(R) as the instance reported it (Keyward; with FENCE, the token itself). Absent on Redis.
  std::optional<uint64_t> counter;
  // A re-entry on Keyward: the token this instance counted for the owner (LOCK.INFO's
  // holder_token), when asked for and known.
  std::optional<uint64_t> holder_token;
  // kRefused: the holder's remaining TTL there; absent when it has none or it is unknown.
  std::optional<Millis> holder_ttl;
  // kFailed: why, for the error detail ("timed out", "unknown command 'LOCK.ACQUIRE'").
  std::string why;

  static AcquireAnswer Granted(std::optional<uint64_t> counter = std::nullopt) {
    AcquireAnswer a;
    a.kind = Kind::kGranted;
    a.counter = counter;
    return a;
  }
  // Granted to the owner that already held it; `holder_token`: its token there, if known.
  static AcquireAnswer Reentered(std::optional<uint64_t> counter,
                                 std::optional<uint64_t> holder_token = std::nullopt) {
    AcquireAnswer a = Granted(counter);
    a.reentered = true;
    a.holder_token = holder_token;
    return a;
  }
  static AcquireAnswer Refused(std::optional<uint64_t> counter, std::optional<Millis> ttl) {
    AcquireAnswer a;
    a.kind = Kind::kRefused;
    a.counter = counter;
    a.holder_ttl = ttl;
    return a;
  }
  static AcquireAnswer Failed(std::string why) {
    AcquireAnswer a;
    a.why = std::move(why);
    return a;
  }
  // No answer because the round was decided without it (the request still runs).
  static constexpr std::string_view kNotWaitedFor = "not waited for: a majority decided";
  bool not_waited_for() const { return kind == Kind::kFailed && why == kNotWaitedFor; }
};

// What one instance answered to LOCK.FENCE. kUnsettled: not counted, because the instance
// restarted without its counters and has not been caught up since (LOCK.FENCE: UNSETTLED).
enum class FenceAnswer { kCounted, kNotCounted, kUnsettled, kFailed };

struct Decision {
  enum class Kind {
    kFence,   // phase 2 follows: send LOCK.FENCE resource owner `token` to every instance
    kHeld,    // the lock is held until `valid_until`, with `token` when fenced
    kFailed,  // release on every instance (also those that did not answer), then retry or give up
  };
  Kind kind = Kind::kFailed;
  std::optional<uint64_t> token;
  Clock::time_point valid_until;
  Error error;  // kFailed
  // kFailed: some instances granted but not a majority (a split vote between contenders, or a
  // minority reachable). Waiting for a release would then be futile: retry after a random delay.
  bool split = false;
};

class AcquireRound {
 public:
  // `started`: when the first request of the round was sent.
  AcquireRound(size_t instances, Millis ttl, Fencing fencing, Clock::time_point started);

  size_t instances() const { return answers_.size(); }
  Fencing fencing() const { return fencing_; }
  // An instance found to be plain Redis during phase 1 turns fencing off for the round (its
  // answers carry no counter).
  void set_fencing(Fencing fencing) { fencing_ = fencing; }
  // kTwoPhase in one round trip: phase 1 proposed `token` (LOCK.ACQUIRE ... PROPOSE).
  void set_proposal(uint64_t token) { proposal_ = token; }
  std::optional<uint64_t> proposal() const { return proposal_; }
  Clock::time_point started() const { return started_; }
  Clock::time_point valid_until() const { return ValidUntil(started_, ttl_); }

  // Phase 1: each instance's answer (an instance not reported counts as failed).
  void OnAcquire(size_t instance, AcquireAnswer answer);
  Decision AfterAcquire(Clock::time_point now) const;

  // Phase 2 (kTwoPhase only): each instance's answer to LOCK.FENCE.
  void OnFence(size_t instance, FenceAnswer answer);
  Decision AfterFence(Clock::time_point now) const;

  // Whether the answers in so far (nullopt: not yet) settle phase 1 of a round over `instances`:
  // every instance answered, or a majority of grants is out of reach (a failure, decided without
  // the slowest instances; what they may still grant is released behind their requests, in
  // order on the same connections). A success waits for every answer: a grant landing after the
  // round ended would be a lock the holder never saw granted, and a renewal could not tell it
  // from one held all along. `unresponsive[i]`: instance i timed out lately
  // (Instance::Unresponsive): once every other instance answered, the round is decided without
  // it, so that a round whose answered instances split is given up at once instead of holding
  // its partial grants for the instance timeout (which made contenders split the vote round
  // after round while one instance was cut off), and a majority of grants from the others is a
  // success without it (the caller releases what it may still grant behind the request).
  static bool Decided(size_t instances, const std::vector<std::optional<AcquireAnswer>>& answers,
                      const std::vector<bool>& unresponsive = {});

  // Whether an instance answered that it has not caught up since a restart without its
  // counters (phase 1's proposal or phase 2): the caller catches it up (catch_up.h).
  bool AnyUnsettled() const;

  size_t granted() const { return Count(AcquireAnswer::Kind::kGranted); }
  size_t refused() const { return Count(AcquireAnswer::Kind::kRefused); }
  const AcquireAnswer& answer(size_t instance) const { return answers_[instance]; }
  // An instance that refused because another owner holds the resource (the first one: blocking
  // clients then queue on the same instance), or nullopt.
  std::optional<size_t> RefusingInstance() const;

 private:
  size_t Count(AcquireAnswer::Kind kind) const;
  // The token a majority re-entered with (the same holder token on each), or nullopt.
  std::optional<uint64_t> ReentryToken() const;
  Decision Failed(Error error, bool split) const;
  // "granted on 1, refused on 2 (another owner), no answer from 0 of 3; a majority is 2".
  std::string Tally() const;

  Millis ttl_;
  Fencing fencing_;
  std::optional<uint64_t> proposal_;
  Clock::time_point started_;
  std::vector<AcquireAnswer> answers_;
  std::vector<FenceAnswer> fences_;
};

}  // namespace keyward::redlock
