// Redlock's arithmetic with a manual clock: majorities, drift, validity, the grant-time estimate
// of a waited grant, and the holder's remaining lease as it matters for a majority.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <vector>

#include "keyward/redlock/quorum.h"

namespace keyward::redlock {
namespace {

using namespace std::chrono_literals;
using std::chrono::microseconds;

// A monotonic instant far from the epoch, so that subtracting durations stays meaningful.
const Clock::time_point kT0 = Clock::time_point() + 1000h;

TEST(RedlockQuorumTest, MajorityIsHalfPlusOne) {
  EXPECT_EQ(Majority(1), 1u);
  EXPECT_EQ(Majority(2), 2u);
  EXPECT_EQ(Majority(3), 2u);
  EXPECT_EQ(Majority(4), 3u);
  EXPECT_EQ(Majority(5), 3u);
  EXPECT_EQ(Majority(7), 4u);
  // Any two majorities of the same N overlap.
  for (size_t n = 1; n <= 9; ++n) EXPECT_GT(2 * Majority(n), n) << n;
}

TEST(RedlockQuorumTest, DriftIsOnePercentPlusTwoMilliseconds) {
  EXPECT_EQ(Drift(10000ms), Clock::duration(102ms));
  EXPECT_EQ(Drift(1000ms), Clock::duration(12ms));
  // Kept below the millisecond: 1% of 150 ms is 1.5 ms.
  EXPECT_EQ(Drift(150ms), Clock::duration(microseconds(3500)));
}

TEST(RedlockQuorumTest, ValidityIsTtlMinusElapsedMinusDrift) {
  EXPECT_EQ(Validity(10000ms, 50ms), Clock::duration(9848ms));
  EXPECT_EQ(Validity(1000ms, 0ms), Clock::duration(988ms));
  // Past the TTL minus the drift, nothing is left to act on.
  EXPECT_EQ(Validity(1000ms, 988ms), Clock::duration::zero());
  EXPECT_LT(Validity(1000ms, 990ms), Clock::duration::zero());
  EXPECT_EQ(ValidUntil(kT0, 10000ms), kT0 + 9898ms);
  EXPECT_EQ(FloorMillis(microseconds(1999)), 1ms);
  EXPECT_EQ(FloorMillis(microseconds(999)), 0ms);
}

TEST(RedlockQuorumTest, HolderTtlIsTheEndThatFreesAMajority) {
  // 3 instances, the holder has two: a majority is free as soon as either of them expires.
  EXPECT_EQ(HolderTtlForMajority(3, {500ms, 480ms}), std::optional(480ms));
  // All three: two must expire, the second one to go decides.
  EXPECT_EQ(HolderTtlForMajority(3, {500ms, 480ms, 700ms}), std::optional(500ms));
  // 5 instances, 3 refused: two are free, one more is needed.
  EXPECT_EQ(HolderTtlForMajority(5, {300ms, 100ms, 200ms}), std::optional(100ms));
  // A majority is free already (the refusals were a minority): nothing to wait for.
  EXPECT_EQ(HolderTtlForMajority(5, {300ms, 100ms}), std::optional(0ms));
  // The decisive holder has no TTL: the wait has no end.
  EXPECT_EQ(HolderTtlForMajority(3, {std::nullopt, 100ms, std::nullopt}), std::nullopt);
  // A missing TTL that is not needed does not matter.
  EXPECT_EQ(HolderTtlForMajority(3, {std::nullopt, 100ms}), std::optional(100ms));
}

}  // namespace
}  // namespace keyward::redlock
