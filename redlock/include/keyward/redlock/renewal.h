// The renewal decisions of a lease, without I/O or clock: when to renew, with which TTL, whether a
// round renewed the lease, failed (retry soon), or lost it, and when the lease ends for good.
//
//   LeaseSchedule schedule(ttl, acquired_at, lock.valid_until, limits);
//   loop:
//     step = schedule.Next(now())
//     kWait:  sleep until step.at
//     kRenew: run a renewal round with step.ttl, finished by step.deadline, then
//             schedule.OnRound(started, now(), step.ttl, tally)
//     kLost:  signal the loss (step.reason) and stop
//
// Rules:
// - renew about every ttl/3 (LeaseLimits::renew_every overrides, capped at ttl/2), from the start
// of the last
//   successful round; after a failed round, retry after ttl/10 (bounded to [1 ms, 1 s]);
// - a round renews the lease when a majority extended the existing lock (an owner-checked
//   extension: the key survived there) and its answers arrived before the validity ran out; the
//   new validity counts from the round's start (ttl - elapsed - drift). Re-creating the lock where
//   it vanished never counts as renewing it: that repairs a minority, after the majority extended;
// - the lease is lost when the validity runs out before a majority renewed, or when so many
//   instances answered that the lock is no longer the owner's there (gone, or another owner's)
//   that no majority can extend it (no point waiting for the validity's end);
// - bounds: after max_renewals renewals, or when renewing could not take the lease past
//   max_duration (counted from the acquisition; the last renewal's TTL is shortened to end there),
//   the lease is not renewed again and ends, as a loss, when its validity runs out. 0 means
//   unbounded for both.
#pragma once

#include <cstddef>
#include <string>

#include "keyward/redlock/errors.h"
#include "keyward/redlock/quorum.h"

namespace keyward::redlock {

struct LeaseLimits {
  Millis renew_every{0};   // 0: ttl / 3; at most ttl / 2
  int max_renewals = 0;    // 0: unbounded
  Millis max_duration{0};  // 0: unbounded
};

// A renewal round's answers, counted.
struct RenewalTally {
  size_t instances = 0;
  size_t granted = 0;   // extended: the lock was still the owner's there
  size_t refused = 0;   // not extended: the lock was gone or another owner's there
  size_t repaired = 0;  // of those, re-created for the owner after a majority extended
  std::string detail;   // why the others did not answer, for the error
  // When the extensions were all in (before any repair): what OnRound's `now` should be.
  Clock::time_point decided_at{};
};

class LeaseSchedule {
 public:
  LeaseSchedule(Millis ttl, Clock::time_point acquired, Clock::time_point valid_until,
                LeaseLimits limits = {});

  struct Step {
    enum class Kind { kWait, kRenew, kLost };
    Kind kind = Kind::kWait;
    Clock::time_point at;        // kWait: ask again then
    Millis ttl{0};               // kRenew: the TTL to set
    Clock::time_point deadline;  // kRenew: the round is useless past this (the validity's end)
    Error reason;                // kLost
  };
  Step Next(Clock::time_point now);

  enum class Outcome { kRenewed, kFailed, kLost };
  // The round Next() asked for, started at `started` with `ttl`, ended at `now`.
  Outcome OnRound(Clock::time_point started, Clock::time_point now, Millis ttl,
                  const RenewalTally& tally);

  int renewals() const { return renewals_; }
  int consecutive_failures() const { return failures_; }
  Clock::time_point valid_until() const { return valid_until_; }
  Clock::duration period() const { return period_; }
  bool lost() const { return static_cast<bool>(loss_); }
  const Error& loss() const { return loss_; }
  // Why the last round failed (kFailed), for the renewal-failed callback.
  const Error& last_failure() const { return last_failure_; }

 private:
  // Whether the bounds allow a renewal at `t` at all.
  bool RenewalAllowedAt(Clock::time_point t) const;
  // The TTL to renew with at `now`, or 0 when the limits forbid renewing.
  Millis RenewalTtl(Clock::time_point now) const;
  Step Lose(Error reason);

  Millis ttl_;
  Clock::time_point acquired_;
  Clock::time_point valid_until_;
  LeaseLimits limits_;
  Clock::duration period_;
  Clock::duration retry_after_;
  Clock::time_point next_renewal_;
  int renewals_ = 0;
  int failures_ = 0;
  bool exhausted_ = false;  // the bounds allow no more renewals
  Error last_failure_;
  Error loss_;
};

}  // namespace keyward::redlock
