#include "server/core/clock.h"

#include <gtest/gtest.h>

namespace keyward {
namespace {

class FakeTimeSource : public TimeSource {
 public:
  int64_t WallUs() override { return wall_us; }
  int64_t MonotonicUs() override { return mono_us; }
  void Advance(int64_t us) {
    wall_us += us;
    mono_us += us;
  }
  int64_t wall_us = 1'700'000'000'000'000;
  int64_t mono_us = 5'000'000;
};

TEST(SlewedClockTest, FollowsWallClockWhenInStep) {
  FakeTimeSource src;
  SlewedClock clock(&src);
  int64_t start = clock.NowUs();
  EXPECT_EQ(start, src.wall_us);
  src.Advance(1'000'000);
  EXPECT_EQ(clock.NowUs(), start + 1'000'000);
}

TEST(SlewedClockTest, ForwardWallJumpDoesNotShortenLeases) {
  FakeTimeSource src;
  SlewedClock clock(&src);
  int64_t start = clock.NowMs();
  // A lease of 10 s granted now must last between 9.99 s and 10.01 s of real (monotonic) time,
  // even though the wall clock jumps an hour forward.
  int64_t deadline = start + 10'000;
  src.wall_us += 3600LL * 1000 * 1000;
  int64_t elapsed_ms = 0;
  while (clock.NowMs() < deadline) {
    src.mono_us += 1000;
    src.wall_us += 1000;
    elapsed_ms++;
  }
  EXPECT_GE(elapsed_ms, 9'990);
  EXPECT_LE(elapsed_ms, 10'000);
  // The clock still converges towards wall time: the offset shrank.
  EXPECT_LT(clock.OffsetUs(), 3600LL * 1000 * 1000);
}

TEST(SlewedClockTest, BackwardWallJumpDoesNotLengthenLeasesOrGoBack) {
  FakeTimeSource src;
  SlewedClock clock(&src);
  int64_t start = clock.NowMs();
  int64_t deadline = start + 10'000;
  src.wall_us -= 3600LL * 1000 * 1000;
  int64_t previous = clock.NowUs();
  int64_t elapsed_ms = 0;
  while (clock.NowMs() < deadline) {
    src.mono_us += 1000;
    src.wall_us += 1000;
    elapsed_ms++;
    int64_t now = clock.NowUs();
    ASSERT_GE(now, previous);  // never backwards
    previous = now;
  }
  EXPECT_GE(elapsed_ms, 10'000);
  EXPECT_LE(elapsed_ms, 10'011);
}

TEST(SlewedClockTest, ConvergesToWallTime) {
  FakeTimeSource src;
  SlewedClock clock(&src);
  src.wall_us += 50'000;  // 50 ms ahead
  for (int i = 0; i < 200; i++) {
    src.Advance(1'000'000);
    clock.NowUs();
  }
  // After 200 s at 0.1% slew the 50 ms offset is gone.
  EXPECT_EQ(clock.NowUs(), src.wall_us);
}

TEST(ManualClockTest, MovesOnlyWhenTold) {
  ManualClock clock(1000);
  EXPECT_EQ(clock.NowMs(), 1000);
  clock.AdvanceMs(5);
  EXPECT_EQ(clock.NowMs(), 1005);
}

}  // namespace
}  // namespace keyward
