// What an acquisition does after a failed attempt: sleep a random delay and retry (a bounded
// number of times), or, when the caller waits for the lock up to a deadline, wait for a release.
// Sans-I/O: the caller performs the sleep or the LOCK.WAIT and attempts again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>

#include "keyward/redlock/acquire_round.h"
#include "keyward/redlock/quorum.h"

namespace keyward::redlock {

// Delays drawn uniformly from [delay - jitter, delay + jitter] (never negative), so contenders
// that failed together (a split vote) do not all come back in the same millisecond.
class RetryDelay {
 public:
  RetryDelay(Millis delay, Millis jitter, uint64_t seed = std::random_device{}())
      : delay_(delay), jitter_(jitter), random_(seed) {}
  Millis Next();

 private:
  Millis delay_;
  Millis jitter_;
  std::mt19937_64 random_;
};

// The next step of a blocking acquisition after the attempt described by `round` failed with
// `failure`.
struct WaitStep {
  enum class Kind {
    kWaitFree,  // LOCK.WAIT resource `duration` on `instance`, then attempt again
    kSleep,     // sleep `duration`, then attempt again
    kGiveUp,    // the deadline passed: fail with kTimedOut
  };
  Kind kind = Kind::kGiveUp;
  size_t instance = 0;
  Millis duration{0};
};

// - Past the deadline: give up.
// - The resource was cleanly held by another owner (no instance granted) and every instance
//   offers LOCK.WAIT (`server_wait`): block on an instance that refused until it is free, bounded
//   by that holder's remaining TTL there (at its end the key expires, which wakes the waiter too)
//   and by the time left. A release wakes the waiter at once, so the lock changes hands in about
//   one round trip instead of a polling period.
// - Otherwise (a split vote, too few answers, plain Redis, a holder without a TTL): sleep a
//   random delay, bounded by the time left. After a split vote every contender released what it
//   had, and only randomness breaks the symmetry.
// `deadline` nullopt waits forever.
WaitStep PlanWait(const Decision& failure, const AcquireRound& round, bool server_wait,
                  std::optional<Clock::time_point> deadline, Clock::time_point now,
                  RetryDelay& delay);

}  // namespace keyward::redlock
