// Catching up an instance that started without its fencing counters (catch_up.h): which answers
// are enough, to what it is raised, and when the answers are not enough.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <vector>

#include "keyward/redlock/catch_up.h"

namespace keyward::redlock {
namespace {

using namespace std::chrono_literals;
using Reports = std::vector<std::optional<CatchUpReport>>;

CatchUpReport Settled(uint64_t counter) {
  CatchUpReport r;
  r.settled = true;
  r.counter = counter;
  r.ready = 60000ms;
  r.round_trip = 1ms;
  return r;
}

// Unsettled, its restart delay over for `ready`, answered after `round_trip`.
CatchUpReport Unsettled(uint64_t counter, Millis ready = 5000ms, Clock::duration round_trip = 1ms) {
  CatchUpReport r;
  r.settled = false;
  r.counter = counter;
  r.ready = ready;
  r.run_id = "life-" + std::to_string(counter);
  r.round_trip = round_trip;
  return r;
}

TEST(RedlockCatchUpTest, AnInstanceCatchesUpFromEnoughSettledPeers) {
  // N = 3: both peers (any one of them may be the only other member of a majority that counted).
  CatchUpPlan plan = PlanCatchUp({Settled(700), Unsettled(100), Settled(900)});
  EXPECT_EQ(plan.instances, std::vector<size_t>{1});
  EXPECT_EQ(plan.counter, 900u);  // the highest read
  EXPECT_FALSE(plan.bootstrap);
  // N = 5: three settled peers of four.
  plan = PlanCatchUp({Settled(5), Unsettled(1), std::nullopt, Settled(7), Settled(6)});
  EXPECT_EQ(plan.instances, std::vector<size_t>{1});
  EXPECT_EQ(plan.counter, 7u);
  // Two unsettled of five, three settled peers answering: both catch up.
  plan = PlanCatchUp({Unsettled(9), Unsettled(1), Settled(5), Settled(8), Settled(6)});
  EXPECT_EQ(plan.instances, (std::vector<size_t>{0, 1}));
  EXPECT_EQ(plan.counter, 9u);
  // N = 4 (a majority is 3): two settled peers are enough to meet every majority's others.
  plan = PlanCatchUp({Unsettled(1), Settled(3), Settled(2), std::nullopt});
  EXPECT_EQ(plan.instances, std::vector<size_t>{0});
}

TEST(RedlockCatchUpTest, TooFewSettledPeersCatchNothingUp) {
  // N = 3 with a peer missing: the missing one may be the only one that knows the last token.
  EXPECT_TRUE(PlanCatchUp({std::nullopt, Unsettled(100), Settled(900)}).instances.empty());
  // N = 5: two settled peers of four are not enough.
  EXPECT_TRUE(PlanCatchUp({Settled(5), Unsettled(1), std::nullopt, std::nullopt, Settled(6)})
                  .instances.empty());
  // A majority unsettled while a settled instance is out of reach is not a fresh cluster: it
  // may be the one that counted the last token.
  CatchUpPlan plan = PlanCatchUp({std::nullopt, Unsettled(100), Unsettled(200)});
  EXPECT_TRUE(plan.instances.empty());
  EXPECT_FALSE(plan.bootstrap);
}

TEST(RedlockCatchUpTest, TooFewSettledStartFromTheHighestOfAllOnceEveryInstanceAnswered) {
  CatchUpPlan plan = PlanCatchUp({Unsettled(300), Unsettled(100), Unsettled(200)});
  EXPECT_TRUE(plan.bootstrap);
  EXPECT_EQ(plan.instances, (std::vector<size_t>{0, 1, 2}));
  EXPECT_EQ(plan.counter, 300u);
  // A majority restarted without counters while the third is settled: with every answer in, the
  // third's counter (perhaps the last token) is the most anyone knows.
  plan = PlanCatchUp({Settled(900), Unsettled(100), Unsettled(200)});
  EXPECT_TRUE(plan.bootstrap);
  EXPECT_EQ(plan.instances, (std::vector<size_t>{1, 2}));
  EXPECT_EQ(plan.counter, 900u);
  // One instance (its own peers' majority is itself).
  plan = PlanCatchUp({Unsettled(42)});
  EXPECT_TRUE(plan.bootstrap);
  EXPECT_EQ(plan.instances, std::vector<size_t>{0});
}

TEST(RedlockCatchUpTest, AnInstanceWhoseDelayEndedDuringTheRoundWaits) {
  // Its restart delay ended 3 ms before it answered, 5 ms after the requests went out: the peers
  // may have been read before the delay ended, when a FENCE that completes a token could still be
  // on its way to them.
  CatchUpPlan plan = PlanCatchUp({Settled(7), Unsettled(1, 3ms, 5ms), Settled(9)});
  EXPECT_TRUE(plan.instances.empty());
  // Ended long enough before (the 1% drift taken off `ready`).
  plan = PlanCatchUp({Settled(7), Unsettled(1, 100ms, 99ms), Settled(9)});
  EXPECT_EQ(plan.instances, std::vector<size_t>{1});
  plan = PlanCatchUp({Settled(7), Unsettled(1, 100ms, 99ms + 1us), Settled(9)});
  EXPECT_TRUE(plan.instances.empty());
  // The same holds when every instance starts from the floors.
  plan = PlanCatchUp({Unsettled(3), Unsettled(1, 0ms, 1ms), Unsettled(2)});
  EXPECT_TRUE(plan.bootstrap);
  EXPECT_EQ(plan.instances, (std::vector<size_t>{0, 2}));
}

}  // namespace
}  // namespace keyward::redlock
