// The renewal decisions of a lease, with a manual clock: when to renew (about ttl/3), what a
// round's answers mean (renewed, failed and retried soon, lost), that a lease is lost when its
// validity runs out before a majority renewed or when a majority says another owner holds it,
// and the bounds (max renewals, max duration).
#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "keyward/redlock/renewal.h"

namespace keyward::redlock {
namespace {

using namespace std::chrono_literals;
using StepKind = LeaseSchedule::Step::Kind;
using Outcome = LeaseSchedule::Outcome;

const Clock::time_point kT0 = Clock::time_point() + 1000h;

RenewalTally Tally(size_t n, size_t granted, size_t refused) {
  return RenewalTally{n, granted, refused, 0, refused + granted < n ? "timed out" : ""};
}

// A 3000 ms lease acquired at kT0.
LeaseSchedule Schedule(LeaseLimits limits = {}) {
  return LeaseSchedule(3000ms, kT0, ValidUntil(kT0, 3000ms), limits);
}

TEST(RedlockLeaseScheduleTest, RenewsAtAThirdOfTheTtl) {
  LeaseSchedule s = Schedule();
  LeaseSchedule::Step step = s.Next(kT0 + 10ms);
  ASSERT_EQ(step.kind, StepKind::kWait);
  EXPECT_EQ(step.at, kT0 + 1000ms);
  step = s.Next(kT0 + 1000ms);
  ASSERT_EQ(step.kind, StepKind::kRenew);
  EXPECT_EQ(step.ttl, 3000ms);
  // The round is useless once the validity is gone.
  EXPECT_EQ(step.deadline, kT0 + 3000ms - Drift(3000ms));
}

TEST(RedlockLeaseScheduleTest, ARenewalCountsItsValidityFromItsStart) {
  LeaseSchedule s = Schedule();
  const Clock::time_point started = kT0 + 1000ms;
  EXPECT_EQ(s.OnRound(started, started + 5ms, 3000ms, Tally(3, 2, 0)), Outcome::kRenewed);
  EXPECT_EQ(s.renewals(), 1);
  EXPECT_EQ(s.valid_until(), started + 3000ms - Drift(3000ms));
  LeaseSchedule::Step step = s.Next(started + 5ms);
  ASSERT_EQ(step.kind, StepKind::kWait);
  EXPECT_EQ(step.at, started + 1000ms);
}

TEST(RedlockLeaseScheduleTest, AFailedRoundIsRetriedSoonAndReported) {
  LeaseSchedule s = Schedule();
  const Clock::time_point started = kT0 + 1000ms;
  EXPECT_EQ(s.OnRound(started, started + 50ms, 3000ms, Tally(3, 1, 0)), Outcome::kFailed);
  EXPECT_EQ(s.consecutive_failures(), 1);
  EXPECT_EQ(s.last_failure(), LockError::kNoQuorum);
  EXPECT_NE(s.last_failure().detail.find("renewed on 1"), std::string::npos)
      << s.last_failure().message();
  // Retry after ttl/10, not after another third of the TTL.
  LeaseSchedule::Step step = s.Next(started + 50ms);
  ASSERT_EQ(step.kind, StepKind::kWait);
  EXPECT_EQ(step.at, started + 50ms + 300ms);
  EXPECT_FALSE(s.lost());
}

TEST(RedlockLeaseScheduleTest, LostWhenTheValidityRunsOutBeforeAMajorityRenewed) {
  LeaseSchedule s = Schedule();
  Clock::time_point now = kT0 + 1000ms;
  while (true) {
    LeaseSchedule::Step step = s.Next(now);
    if (step.kind == StepKind::kLost) {
      EXPECT_EQ(step.reason, LockError::kLeaseLost);
      EXPECT_NE(step.reason.detail.find("validity ran out"), std::string::npos);
      EXPECT_NE(step.reason.detail.find("failed renewals"), std::string::npos);
      break;
    }
    if (step.kind == StepKind::kWait) {
      now = step.at;
      continue;
    }
    // Every round reaches one instance only.
    EXPECT_EQ(s.OnRound(now, now + 10ms, step.ttl, Tally(3, 1, 0)), Outcome::kFailed);
    now += 10ms;
  }
  EXPECT_GE(now, kT0 + 3000ms - Drift(3000ms));
  EXPECT_TRUE(s.lost());
  // Lost stays lost.
  EXPECT_EQ(s.Next(now + 1s).kind, StepKind::kLost);
}

TEST(RedlockLeaseScheduleTest, AMajorityOfGrantsThatArrivesTooLateIsALoss) {
  LeaseSchedule s = Schedule();
  const Clock::time_point started = kT0 + 2900ms;
  // Answered after the validity's end (kT0 + 2968 ms): someone else may have held it meanwhile.
  EXPECT_EQ(s.OnRound(started, kT0 + 2970ms, 3000ms, Tally(3, 3, 0)), Outcome::kLost);
  EXPECT_EQ(s.loss(), LockError::kLeaseLost);
}

TEST(RedlockLeaseScheduleTest, AMajorityHeldByAnotherOwnerIsALossAtOnce) {
  LeaseSchedule s = Schedule();
  const Clock::time_point started = kT0 + 1000ms;
  EXPECT_EQ(s.OnRound(started, started + 3ms, 3000ms, Tally(3, 1, 2)), Outcome::kLost);
  EXPECT_NE(s.loss().detail.find("another owner"), std::string::npos) << s.loss().message();
  EXPECT_EQ(s.Next(started + 3ms).kind, StepKind::kLost);
}

TEST(RedlockLeaseScheduleTest, ALockGoneFromTooManyInstancesIsLostEvenIfRecreated) {
  // Four instances, a majority is three: with two answering that the lock is no longer the
  // owner's, no majority can extend it again. Re-creating it there (repair) hides nothing.
  LeaseSchedule s = Schedule();
  const Clock::time_point started = kT0 + 1000ms;
  RenewalTally tally = Tally(4, 2, 2);
  tally.repaired = 2;
  EXPECT_EQ(s.OnRound(started, started + 3ms, 3000ms, tally), Outcome::kLost);
  EXPECT_NE(s.loss().detail.find("no longer the owner's on a majority"), std::string::npos)
      << s.loss().message();
  // One gone of four: a majority may still extend it; the round just failed.
  LeaseSchedule t = Schedule();
  EXPECT_EQ(t.OnRound(started, started + 3ms, 3000ms, Tally(4, 2, 1)), Outcome::kFailed);
}

TEST(RedlockLeaseScheduleTest, MaxRenewalsEndsTheLeaseWithItsLastValidity) {
  LeaseSchedule s = Schedule({.max_renewals = 2});
  Clock::time_point now = kT0 + 1000ms;
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(s.Next(now).kind, StepKind::kRenew);
    ASSERT_EQ(s.OnRound(now, now, 3000ms, Tally(3, 3, 0)), Outcome::kRenewed);
    now += 1000ms;
  }
  LeaseSchedule::Step step = s.Next(now);
  ASSERT_EQ(step.kind, StepKind::kWait);
  EXPECT_EQ(step.at, s.valid_until());
  step = s.Next(s.valid_until());
  ASSERT_EQ(step.kind, StepKind::kLost);
  EXPECT_NE(step.reason.detail.find("limit of 2 renewals"), std::string::npos)
      << step.reason.message();
}

TEST(RedlockLeaseScheduleTest, MaxDurationShortensTheLastRenewalsToEndOnTime) {
  LeaseSchedule s = Schedule({.max_duration = 4000ms});
  Clock::time_point now = kT0;
  std::vector<Millis> ttls;
  while (true) {
    LeaseSchedule::Step step = s.Next(now);
    if (step.kind == StepKind::kLost) {
      EXPECT_NE(step.reason.detail.find("maximum duration of 4000 ms"), std::string::npos)
          << step.reason.message();
      break;
    }
    if (step.kind == StepKind::kWait) {
      now = step.at;
      continue;
    }
    ttls.push_back(step.ttl);
    ASSERT_EQ(s.OnRound(now, now, step.ttl, Tally(3, 3, 0)), Outcome::kRenewed);
    // Never past the bound.
    EXPECT_LE(s.valid_until(), kT0 + 4000ms);
  }
  // Renewed at 1000 ms (full TTL), then at 2000 and 3000 ms with what was left of the 4000.
  EXPECT_EQ(ttls, (std::vector<Millis>{3000ms, 2000ms, 1000ms}));
  EXPECT_LE(now, kT0 + 4000ms);
}

TEST(RedlockLeaseScheduleTest, RenewEveryOverridesTheThird) {
  LeaseSchedule s = Schedule({.renew_every = 250ms});
  EXPECT_EQ(s.Next(kT0).at, kT0 + 250ms);
  EXPECT_EQ(s.period(), Clock::duration(250ms));
}

}  // namespace
}  // namespace keyward::redlock
