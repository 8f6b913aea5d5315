// One acquisition round as a state machine, with a manual clock: the majority, the validity
// (never handed out at or below zero), the two-phase fencing token (T = max of every counter seen,
// granted or refused, + 1; committed on a majority of "counted"), the one-trip form for one
// instance, plain Redis (no token), and the reasons given when it fails.
#include <gtest/gtest.h>

#include <chrono>

#include "keyward/redlock/acquire_round.h"
#include "keyward/redlock/lock.h"

namespace keyward::redlock {
namespace {

using namespace std::chrono_literals;
using Kind = Decision::Kind;

class ManualClock {
 public:
  Clock::time_point now() const { return now_; }
  void Advance(Clock::duration d) { now_ += d; }

 private:
  Clock::time_point now_ = Clock::time_point() + 1000h;
};

class RedlockAcquireRoundTest : public ::testing::Test {
 protected:
  ManualClock clock_;
};

TEST_F(RedlockAcquireRoundTest, TwoPhaseTokenIsOneMoreThanEveryCounterSeenIncludingRefusals) {
  AcquireRound round(5, 10000ms, Fencing::kTwoPhase, clock_.now());
  round.OnAcquire(0, AcquireAnswer::Granted(41));
  round.OnAcquire(1, AcquireAnswer::Granted(39));
  round.OnAcquire(2, AcquireAnswer::Granted(40));
  // An instance that refused (held by a stale owner) carries the highest counter: it counts.
  round.OnAcquire(3, AcquireAnswer::Refused(57, 800ms));
  round.OnAcquire(4, AcquireAnswer::Failed("timed out"));
  clock_.Advance(4ms);
  Decision d = round.AfterAcquire(clock_.now());
  ASSERT_EQ(d.kind, Kind::kFence);
  EXPECT_EQ(d.token, 58u);
}

TEST_F(RedlockAcquireRoundTest, TokenCommitsWhenAMajorityCountedIt) {
  const Clock::time_point started = clock_.now();
  AcquireRound round(3, 10000ms, Fencing::kTwoPhase, started);
  round.OnAcquire(0, AcquireAnswer::Granted(7));
  round.OnAcquire(1, AcquireAnswer::Granted(9));
  round.OnAcquire(2, AcquireAnswer::Granted(8));
  ASSERT_EQ(round.AfterAcquire(clock_.now()).kind, Kind::kFence);
  round.OnFence(0, FenceAnswer::kCounted);
  round.OnFence(1, FenceAnswer::kNotCounted);
  round.OnFence(2, FenceAnswer::kCounted);
  clock_.Advance(6ms);
  Decision d = round.AfterFence(clock_.now());
  ASSERT_EQ(d.kind, Kind::kHeld);
  EXPECT_EQ(d.token, 10u);
  // Validity counts from the first request of phase 1, not from the FENCE.
  EXPECT_EQ(d.valid_until, started + 10000ms - Drift(10000ms));
}

TEST_F(RedlockAcquireRoundTest, TokenNotCountedOnAMajorityMeansAConcurrentFence) {
  AcquireRound round(3, 10000ms, Fencing::kTwoPhase, clock_.now());
  for (size_t i = 0; i < 3; ++i) round.OnAcquire(i, AcquireAnswer::Granted(5));
  ASSERT_EQ(round.AfterAcquire(clock_.now()).kind, Kind::kFence);
  round.OnFence(0, FenceAnswer::kCounted);
  round.OnFence(1, FenceAnswer::kNotCounted);
  round.OnFence(2, FenceAnswer::kNotCounted);
  Decision d = round.AfterFence(clock_.now());
  ASSERT_EQ(d.kind, Kind::kFailed);
  EXPECT_EQ(d.error, LockError::kHeldByOther);
  EXPECT_NE(d.error.detail.find("concurrent"), std::string::npos) << d.error.message();
}

TEST_F(RedlockAcquireRoundTest, FenceAnswersFromTooFewInstancesIsNoQuorum) {
  AcquireRound round(3, 10000ms, Fencing::kTwoPhase, clock_.now());
  for (size_t i = 0; i < 3; ++i) round.OnAcquire(i, AcquireAnswer::Granted(5));
  ASSERT_EQ(round.AfterAcquire(clock_.now()).kind, Kind::kFence);
  round.OnFence(0, FenceAnswer::kCounted);  // 1 and 2 never answered
  Decision d = round.AfterFence(clock_.now());
  ASSERT_EQ(d.kind, Kind::kFailed);
  EXPECT_EQ(d.error, LockError::kNoQuorum);
}

TEST_F(RedlockAcquireRoundTest, NeverHandsOutALockWhoseValidityRanOutDuringTheFence) {
  AcquireRound round(3, 1000ms, Fencing::kTwoPhase, clock_.now());
  for (size_t i = 0; i < 3; ++i) round.OnAcquire(i, AcquireAnswer::Granted(1));
  clock_.Advance(500ms);
  ASSERT_EQ(round.AfterAcquire(clock_.now()).kind, Kind::kFence);
  for (size_t i = 0; i < 3; ++i) round.OnFence(i, FenceAnswer::kCounted);
  // ttl - drift = 988 ms: exactly at the end there is no validity left.
  clock_.Advance(488ms);
  Decision d = round.AfterFence(clock_.now());
  ASSERT_EQ(d.kind, Kind::kFailed);
  EXPECT_EQ(d.error, LockError::kTimedOut);
}

TEST_F(RedlockAcquireRoundTest, NeverHandsOutALockWhoseValidityRanOutDuringPhaseOne) {
  AcquireRound round(1, 1000ms, Fencing::kSingleTrip, clock_.now());
  round.OnAcquire(0, AcquireAnswer::Granted(3));
  clock_.Advance(988ms);
  Decision late = round.AfterAcquire(clock_.now());
  ASSERT_EQ(late.kind, Kind::kFailed);
  EXPECT_EQ(late.error, LockError::kTimedOut);
  EXPECT_NE(late.error.detail.find("988 ms elapsed of a 1000 ms ttl"), std::string::npos)
      << late.error.message();
  // One microsecond earlier it is still (barely) valid.
  Decision early = round.AfterAcquire(clock_.now() - std::chrono::microseconds(1));
  EXPECT_EQ(early.kind, Kind::kHeld);
}

TEST_F(RedlockAcquireRoundTest, SingleInstanceTakesTheTokenFromTheGrantItself) {
  AcquireRound round(1, 10000ms, Fencing::kSingleTrip, clock_.now());
  round.OnAcquire(0, AcquireAnswer::Granted(1024000001));
  Decision d = round.AfterAcquire(clock_.now());
  ASSERT_EQ(d.kind, Kind::kHeld);
  EXPECT_EQ(d.token, 1024000001u);
}

TEST_F(RedlockAcquireRoundTest, PlainRedisHoldsWithoutAToken) {
  AcquireRound round(3, 10000ms, Fencing::kNone, clock_.now());
  round.OnAcquire(0, AcquireAnswer::Granted());
  round.OnAcquire(1, AcquireAnswer::Granted());
  round.OnAcquire(2, AcquireAnswer::Refused(std::nullopt, 300ms));
  Decision d = round.AfterAcquire(clock_.now());
  ASSERT_EQ(d.kind, Kind::kHeld);
  EXPECT_FALSE(d.token);
  Lock lock;
  lock.token = d.token;
  EXPECT_EQ(lock.fencing_token().error(), LockError::kFencingUnavailable);
}

TEST_F(RedlockAcquireRoundTest, AnInstanceFoundToBeRedisTurnsFencingOff) {
  AcquireRound round(3, 10000ms, Fencing::kTwoPhase, clock_.now());
  round.OnAcquire(0, AcquireAnswer::Granted(5));
  round.OnAcquire(1, AcquireAnswer::Granted());  // answered by the script
  round.OnAcquire(2, AcquireAnswer::Granted(6));
  round.set_fencing(Fencing::kNone);
  Decision d = round.AfterAcquire(clock_.now());
  EXPECT_EQ(d.kind, Kind::kHeld);
  EXPECT_FALSE(d.token);
}

TEST_F(RedlockAcquireRoundTest, MinorityUnreachableStillHolds) {
  AcquireRound round(5, 10000ms, Fencing::kNone, clock_.now());
  round.OnAcquire(0, AcquireAnswer::Granted());
  round.OnAcquire(1, AcquireAnswer::Failed("connection refused"));
  round.OnAcquire(2, AcquireAnswer::Granted());
  round.OnAcquire(3, AcquireAnswer::Failed("timed out"));
  round.OnAcquire(4, AcquireAnswer::Granted());
  EXPECT_EQ(round.AfterAcquire(clock_.now()).kind, Kind::kHeld);
}

TEST_F(RedlockAcquireRoundTest, HeldByAnotherOwnerSaysWhereAndForHowLong) {
  AcquireRound round(3, 10000ms, Fencing::kTwoPhase, clock_.now());
  round.OnAcquire(0, AcquireAnswer::Refused(12, 900ms));
  round.OnAcquire(1, AcquireAnswer::Refused(12, 850ms));
  round.OnAcquire(2, AcquireAnswer::Granted(11));
  Decision d = round.AfterAcquire(clock_.now());
  ASSERT_EQ(d.kind, Kind::kFailed);
  EXPECT_EQ(d.error, LockError::kHeldByOther);
  EXPECT_EQ(d.error.holder_ttl, std::optional(850ms));
  EXPECT_EQ(round.RefusingInstance(), std::optional<size_t>(0));
  EXPECT_TRUE(d.split);  // one instance granted: it must be released
  EXPECT_NE(d.error.message().find("refused on 2"), std::string::npos) << d.error.message();
}

TEST_F(RedlockAcquireRoundTest, NoAnswersIsNoQuorumWithTheReason) {
  AcquireRound round(3, 10000ms, Fencing::kTwoPhase, clock_.now());
  round.OnAcquire(0, AcquireAnswer::Failed("Connection refused"));
  round.OnAcquire(1, AcquireAnswer::Granted(1));
  // Instance 2 never reported: counted as no answer.
  Decision d = round.AfterAcquire(clock_.now());
  ASSERT_EQ(d.kind, Kind::kFailed);
  EXPECT_EQ(d.error, LockError::kNoQuorum);
  EXPECT_NE(d.error.detail.find("Connection refused"), std::string::npos) << d.error.message();
  EXPECT_FALSE(round.RefusingInstance());
}

TEST_F(RedlockAcquireRoundTest, SplitVoteIsHeldByOtherAndFlaggedAsSplit) {
  // Two contenders took one instance each; the third did not answer.
  AcquireRound round(3, 10000ms, Fencing::kTwoPhase, clock_.now());
  round.OnAcquire(0, AcquireAnswer::Granted(4));
  round.OnAcquire(1, AcquireAnswer::Refused(4, 10000ms));
  round.OnAcquire(2, AcquireAnswer::Failed("timed out"));
  Decision d = round.AfterAcquire(clock_.now());
  ASSERT_EQ(d.kind, Kind::kFailed);
  EXPECT_EQ(d.error, LockError::kHeldByOther);
  EXPECT_TRUE(d.split);
}

TEST_F(RedlockAcquireRoundTest, OnlyAFailureIsDecidedBeforeEveryAnswerIsIn) {
  using Partial = std::vector<std::optional<AcquireAnswer>>;
  const AcquireAnswer granted = AcquireAnswer::Granted(5);
  const AcquireAnswer refused = AcquireAnswer::Refused(5, 100ms);
  // Two refusals of three: a majority of grants is out of reach.
  EXPECT_TRUE(AcquireRound::Decided(3, Partial{refused, refused, std::nullopt}));
  // Two grants of three: a success waits for the third (a late grant must not go unseen).
  EXPECT_FALSE(AcquireRound::Decided(3, Partial{granted, granted, std::nullopt}));
  EXPECT_FALSE(AcquireRound::Decided(3, Partial{granted, refused, std::nullopt}));
  EXPECT_TRUE(AcquireRound::Decided(3, Partial{granted, granted, refused}));
  // Two refusals, the first instance's answer still out: waited for, so that every waiter queues
  // on the first instance (unless it timed out lately); a split is not waited for.
  EXPECT_FALSE(AcquireRound::Decided(3, Partial{std::nullopt, refused, refused}));
  EXPECT_TRUE(
      AcquireRound::Decided(3, Partial{std::nullopt, refused, refused}, {true, false, false}));
  EXPECT_TRUE(
      AcquireRound::Decided(3, Partial{refused, std::nullopt, refused}, {true, false, false}));
  EXPECT_FALSE(AcquireRound::Decided(
      3, Partial{AcquireAnswer::Failed("refused connection"), std::nullopt, refused}));
  EXPECT_TRUE(AcquireRound::Decided(5, Partial{std::nullopt, granted, refused, refused, refused}));
  // Five: one grant and three refusals leave at most two grants.
  EXPECT_TRUE(AcquireRound::Decided(5, Partial{granted, refused, refused, refused, std::nullopt}));
  EXPECT_FALSE(
      AcquireRound::Decided(5, Partial{granted, refused, refused, std::nullopt, std::nullopt}));
}

TEST_F(RedlockAcquireRoundTest, AFailureDoesNotWaitForAnInstanceThatTimedOutLately) {
  using Partial = std::vector<std::optional<AcquireAnswer>>;
  const AcquireAnswer granted = AcquireAnswer::Granted(5);
  const AcquireAnswer refused = AcquireAnswer::Refused(5, 100ms);
  // Granted on one, refused on one: only the third could still make a majority ...
  EXPECT_FALSE(AcquireRound::Decided(3, Partial{granted, refused, std::nullopt}));
  // ... and it timed out lately: the round is lost, decided now.
  EXPECT_TRUE(
      AcquireRound::Decided(3, Partial{granted, refused, std::nullopt}, {false, false, true}));
  // A majority of grants without it is a success (its late grant is released behind it) ...
  EXPECT_TRUE(
      AcquireRound::Decided(3, Partial{granted, granted, std::nullopt}, {false, false, true}));
  // ... while one that answers lately is waited for (a late grant must not go unseen).
  EXPECT_FALSE(
      AcquireRound::Decided(3, Partial{granted, granted, std::nullopt}, {false, true, false}));
  // Five, two unresponsive: the responsive instance's answer is still waited for (it tells a
  // refusal from silence) ...
  EXPECT_FALSE(
      AcquireRound::Decided(5, Partial{granted, refused, std::nullopt, std::nullopt, std::nullopt},
                            {false, false, false, true, true}));
  // ... and once it is in, the unresponsive two are not.
  EXPECT_TRUE(AcquireRound::Decided(5,
                                    Partial{granted, refused, refused, std::nullopt, std::nullopt},
                                    {false, false, false, true, true}));
  EXPECT_TRUE(AcquireRound::Decided(5,
                                    Partial{granted, granted, granted, std::nullopt, std::nullopt},
                                    {false, false, false, true, true}));
  // Never before any answer is in: one instance, or all of them unresponsive, are waited for.
  EXPECT_FALSE(AcquireRound::Decided(1, Partial{std::nullopt}, {true}));
  EXPECT_FALSE(AcquireRound::Decided(3, Partial{std::nullopt, std::nullopt, std::nullopt},
                                     {true, true, true}));
}

TEST_F(RedlockAcquireRoundTest, AProposalCountedByAMajorityIsHeldInOneRoundTrip) {
  AcquireRound round(3, 10000ms, Fencing::kTwoPhase, clock_.now());
  round.set_proposal(21);
  AcquireAnswer counted = AcquireAnswer::Granted(21);
  counted.counted = true;
  round.OnAcquire(0, counted);
  round.OnAcquire(1, counted);
  round.OnAcquire(2, AcquireAnswer::Failed("timed out"));
  Decision d = round.AfterAcquire(clock_.now());
  ASSERT_EQ(d.kind, Kind::kHeld);
  EXPECT_EQ(d.token, 21u);
}

TEST_F(RedlockAcquireRoundTest, AStaleProposalFallsBackToFenceAboveEveryCounter) {
  // Counted on one instance only: another acquisition moved the others past 21.
  AcquireRound round(3, 10000ms, Fencing::kTwoPhase, clock_.now());
  round.set_proposal(21);
  AcquireAnswer counted = AcquireAnswer::Granted(21);
  counted.counted = true;
  round.OnAcquire(0, counted);
  round.OnAcquire(1, AcquireAnswer::Granted(30));
  round.OnAcquire(2, AcquireAnswer::Refused(30, 500ms));
  Decision d = round.AfterAcquire(clock_.now());
  ASSERT_EQ(d.kind, Kind::kFence);
  EXPECT_EQ(d.token, 31u);
  // Counts from refusals never make a proposal held.
  AcquireRound refused(3, 10000ms, Fencing::kTwoPhase, clock_.now());
  refused.set_proposal(21);
  AcquireAnswer not_granted = AcquireAnswer::Refused(21, 500ms);
  not_granted.counted = true;  // (a server never says so; the round must not trust it anyway)
  for (size_t i = 0; i < 3; ++i) refused.OnAcquire(i, not_granted);
  EXPECT_EQ(refused.AfterAcquire(clock_.now()).kind, Kind::kFailed);
}

TEST_F(RedlockAcquireRoundTest, ReentryKeepsTheTokenWhenAMajorityReportsIt) {
  AcquireRound round(3, 10000ms, Fencing::kTwoPhase, clock_.now());
  // The owner holds token 20 on two instances; contenders' FENCEs that were not counted moved
  // the counters past it (25, 30). The third instance lost the lock and granted it anew.
  round.OnAcquire(0, AcquireAnswer::Reentered(25, 20));
  round.OnAcquire(1, AcquireAnswer::Reentered(30, 20));
  round.OnAcquire(2, AcquireAnswer::Granted(17));
  Decision d = round.AfterAcquire(clock_.now());
  ASSERT_EQ(d.kind, Kind::kHeld);
  EXPECT_EQ(d.token, 20u);  // the held token, not a counter
}

TEST_F(RedlockAcquireRoundTest, AReentryWithoutAMajorityBehindOneTokenTakesANewOne) {
  // Re-entered on a majority, but the instances name different tokens (one re-fenced later):
  // nothing proves either is still the latest, so phase 2 commits a new one above every counter.
  AcquireRound split(3, 10000ms, Fencing::kTwoPhase, clock_.now());
  split.OnAcquire(0, AcquireAnswer::Reentered(25, 20));
  split.OnAcquire(1, AcquireAnswer::Reentered(30, 21));
  split.OnAcquire(2, AcquireAnswer::Granted(17));
  Decision d = split.AfterAcquire(clock_.now());
  ASSERT_EQ(d.kind, Kind::kFence);
  EXPECT_EQ(d.token, 31u);
  // Re-entered on a minority only: the lock was lost on a majority, this is a new acquisition.
  AcquireRound lost(3, 10000ms, Fencing::kTwoPhase, clock_.now());
  lost.OnAcquire(0, AcquireAnswer::Reentered(25, 20));
  lost.OnAcquire(1, AcquireAnswer::Granted(26));
  lost.OnAcquire(2, AcquireAnswer::Granted(17));
  d = lost.AfterAcquire(clock_.now());
  ASSERT_EQ(d.kind, Kind::kFence);
  EXPECT_EQ(d.token, 27u);
  // A re-entry whose instances never counted a token for the owner (no holder token).
  AcquireRound unfenced(3, 10000ms, Fencing::kTwoPhase, clock_.now());
  for (size_t i = 0; i < 3; ++i) unfenced.OnAcquire(i, AcquireAnswer::Reentered(40));
  EXPECT_EQ(unfenced.AfterAcquire(clock_.now()).token, 41u);
}

}  // namespace
}  // namespace keyward::redlock
