// Retry delays with jitter, and the next step of a blocking acquisition (wait for a release on an
// instance that refused, sleep, or give up), with a manual clock and a pinned random seed.
#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include "keyward/redlock/retry.h"

namespace keyward::redlock {
namespace {

using namespace std::chrono_literals;
using StepKind = WaitStep::Kind;

const Clock::time_point kT0 = Clock::time_point() + 1000h;

TEST(RedlockRetryDelayTest, DrawsWithinDelayPlusOrMinusJitter) {
  RetryDelay delay(200ms, 100ms, 42);
  std::set<int64_t> seen;
  for (int i = 0; i < 500; ++i) {
    Millis d = delay.Next();
    EXPECT_GE(d, 100ms);
    EXPECT_LE(d, 300ms);
    seen.insert(d.count());
  }
  // Jitter means contenders do not come back together: the draws spread out.
  EXPECT_GT(seen.size(), 50u);
}

TEST(RedlockRetryDelayTest, SameSeedSameDelaysAndNeverNegative) {
  RetryDelay a(10ms, 50ms, 7);
  RetryDelay b(10ms, 50ms, 7);
  for (int i = 0; i < 100; ++i) {
    Millis d = a.Next();
    EXPECT_EQ(d, b.Next());
    EXPECT_GE(d, 0ms);
  }
  RetryDelay fixed(25ms, 0ms, 1);
  EXPECT_EQ(fixed.Next(), 25ms);
}

class RedlockPlanWaitTest : public ::testing::Test {
 protected:
  // A round where instance 1 and 2 refused (holder's TTL 400 and 300 ms) and nothing granted.
  AcquireRound HeldRound() {
    AcquireRound round(3, 10000ms, Fencing::kTwoPhase, kT0);
    round.OnAcquire(0, AcquireAnswer::Failed("timed out"));
    round.OnAcquire(1, AcquireAnswer::Refused(9, 400ms));
    round.OnAcquire(2, AcquireAnswer::Refused(9, 300ms));
    return round;
  }
  RetryDelay delay_{200ms, 0ms, 1};
};

TEST_F(RedlockPlanWaitTest, HeldElsewhereWaitsForTheReleaseOnARefusingInstance) {
  AcquireRound round = HeldRound();
  Decision failure = round.AfterAcquire(kT0);
  ASSERT_FALSE(failure.split);
  WaitStep step = PlanWait(failure, round, true, kT0 + 5s, kT0, delay_);
  EXPECT_EQ(step.kind, StepKind::kWaitFree);
  EXPECT_EQ(step.instance, 1u);
  // Bounded by that instance's holder TTL: its expiry, not the timeout, wakes the wait.
  EXPECT_EQ(step.duration, 401ms);
}

TEST_F(RedlockPlanWaitTest, WaitIsBoundedByTheTimeLeftAndForeverHasNoBound) {
  AcquireRound round = HeldRound();
  Decision failure = round.AfterAcquire(kT0);
  EXPECT_EQ(PlanWait(failure, round, true, kT0 + 150ms, kT0, delay_).duration, 150ms);
  EXPECT_EQ(PlanWait(failure, round, true, std::nullopt, kT0, delay_).duration, 401ms);
}

TEST_F(RedlockPlanWaitTest, GivesUpAtTheDeadline) {
  AcquireRound round = HeldRound();
  Decision failure = round.AfterAcquire(kT0);
  EXPECT_EQ(PlanWait(failure, round, true, kT0 + 1s, kT0 + 1s, delay_).kind, StepKind::kGiveUp);
  EXPECT_EQ(PlanWait(failure, round, true, kT0 + 1s, kT0 + 2s, delay_).kind, StepKind::kGiveUp);
}

TEST_F(RedlockPlanWaitTest, PlainRedisPollsWithJitter) {
  AcquireRound round = HeldRound();
  Decision failure = round.AfterAcquire(kT0);
  WaitStep step = PlanWait(failure, round, false, kT0 + 5s, kT0, delay_);
  EXPECT_EQ(step.kind, StepKind::kSleep);
  EXPECT_EQ(step.duration, 200ms);
  // The last sleep ends at the deadline, for one last attempt.
  EXPECT_EQ(PlanWait(failure, round, false, kT0 + 50ms, kT0, delay_).duration, 50ms);
}

TEST_F(RedlockPlanWaitTest, SplitVoteSleepsRatherThanWaiting) {
  AcquireRound round(3, 10000ms, Fencing::kTwoPhase, kT0);
  round.OnAcquire(0, AcquireAnswer::Granted(3));
  round.OnAcquire(1, AcquireAnswer::Refused(3, 10000ms));
  round.OnAcquire(2, AcquireAnswer::Refused(3, 10000ms));
  Decision failure = round.AfterAcquire(kT0);
  ASSERT_TRUE(failure.split);
  EXPECT_EQ(PlanWait(failure, round, true, kT0 + 5s, kT0, delay_).kind, StepKind::kSleep);
}

TEST_F(RedlockPlanWaitTest, HolderWithoutTtlOrNoQuorumSleeps) {
  AcquireRound forever(1, 10000ms, Fencing::kSingleTrip, kT0);
  forever.OnAcquire(0, AcquireAnswer::Refused(3, std::nullopt));
  EXPECT_EQ(PlanWait(forever.AfterAcquire(kT0), forever, true, kT0 + 5s, kT0, delay_).kind,
            StepKind::kSleep);

  AcquireRound silent(3, 10000ms, Fencing::kTwoPhase, kT0);
  Decision failure = silent.AfterAcquire(kT0);
  ASSERT_EQ(failure.error, LockError::kNoQuorum);
  EXPECT_EQ(PlanWait(failure, silent, true, kT0 + 5s, kT0, delay_).kind, StepKind::kSleep);
}

}  // namespace
}  // namespace keyward::redlock
