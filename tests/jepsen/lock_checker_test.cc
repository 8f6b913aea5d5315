// The lock checkers on hand-made histories: each anomaly the checker exists for must be found
// (a checker that never fails proves nothing), and histories that keep the promises pass.
#include "lock_checker.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "history_builder.h"

namespace keyward::jepsen {
namespace {

class HistoryBuilder : public testing::HistoryRecorder {
 public:
  // A holding by `process`: acquire invoked at `inv`, ok at `ok` with `token` and a lease until
  // `valid_until`, released (invoked) at `rel` (-1: never).
  HistoryBuilder& Hold(int process, int64_t inv, int64_t ok, int64_t valid_until, int64_t rel,
                       std::optional<uint64_t> token = std::nullopt,
                       const std::string& resource = "r") {
    Push(process, OpType::kInvoke, "acquire", inv, {{"resource", resource}});
    nlohmann::json got = {{"resource", resource}, {"valid_until", valid_until}};
    if (token) got["token"] = *token;
    Push(process, OpType::kOk, "acquire", ok, got);
    if (rel >= 0) {
      Push(process, OpType::kInvoke, "release", rel, {{"resource", resource}});
      Push(process, OpType::kOk, "release", rel + 1, {{"resource", resource}});
    }
    return *this;
  }
  HistoryBuilder& Write(int process, int64_t inv, int64_t done, uint64_t token, bool accepted) {
    Push(process, OpType::kInvoke, "write", inv, {{"resource", "r"}, {"token", token}});
    Push(process, OpType::kOk, "write", done,
         {{"resource", "r"}, {"token", token}, {"accepted", accepted}});
    return *this;
  }
  HistoryBuilder& Failed(int process, int64_t inv, int64_t done) {
    Push(process, OpType::kInvoke, "acquire", inv, {{"resource", "r"}});
    Push(process, OpType::kFail, "acquire", done, {{"resource", "r"}});
    return *this;
  }
};

std::vector<std::string> Kinds(const LockCheck& check) {
  std::vector<std::string> kinds;
  for (const Anomaly& a : check.anomalies) kinds.push_back(a.kind);
  return kinds;
}

TEST(LockCheckerTest, SequentialHoldingsWithRisingTokensAreValid) {
  HistoryBuilder h;
  h.Hold(0, 0, 10, 1000, 50, 1)
      .Hold(1, 5, 60, 1060, 90, 2)
      .Failed(2, 20, 30)
      .Hold(2, 95, 100, 1100, 150, 3);
  LockCheck check = CheckLocks(h.ops(), /*fenced=*/true);
  EXPECT_TRUE(check.valid) << check.ToJson().dump();
  EXPECT_EQ(check.acquisitions, 3);
  EXPECT_EQ(check.attempts, 4);
  EXPECT_EQ(check.overruns, 0);
}

TEST(LockCheckerTest, OverlappingLeasesAreAViolation) {
  HistoryBuilder h;
  // Process 1 was granted the lock at 60 while process 0's lease ran to 100.
  h.Hold(0, 0, 10, 100, 200, 1).Hold(1, 50, 60, 1060, 300, 2);
  LockCheck check = CheckLocks(h.ops(), /*fenced=*/true);
  EXPECT_FALSE(check.valid);
  EXPECT_EQ(Kinds(check), std::vector<std::string>{"lease-overlap"});
}

TEST(LockCheckerTest, AHoldPastItsLeaseIsAnOverrunNotAViolation) {
  HistoryBuilder h;
  // Process 0 (paused) believed it held the lock until 200, but its lease ended at 100; process
  // 1 was granted the lock at 150.
  h.Hold(0, 0, 10, 100, 200, 1).Hold(1, 120, 150, 1150, 300, 2);
  LockCheck check = CheckLocks(h.ops(), /*fenced=*/true);
  EXPECT_TRUE(check.valid) << check.ToJson().dump();
  EXPECT_EQ(check.overruns, 1);
}

TEST(LockCheckerTest, AnUnreleasedLeaseStillCountsUntilItEnds) {
  HistoryBuilder h;
  h.Hold(0, 0, 10, 500, -1, 1).Hold(1, 100, 200, 1200, 300, 2);
  EXPECT_EQ(Kinds(CheckLocks(h.ops(), true)), std::vector<std::string>{"lease-overlap"});
}

TEST(LockCheckerTest, OtherResourcesDoNotConflict) {
  HistoryBuilder h;
  h.Hold(0, 0, 10, 1000, 500, 1, "a").Hold(1, 0, 20, 1000, 500, 1, "b");
  EXPECT_TRUE(CheckLocks(h.ops(), true).valid);
}

TEST(LockCheckerTest, ATokenIssuedTwiceIsFound) {
  HistoryBuilder h;
  h.Hold(0, 0, 10, 100, 50, 7).Hold(1, 60, 70, 170, 90, 7);
  LockCheck check = CheckLocks(h.ops(), true);
  EXPECT_FALSE(check.valid);
  EXPECT_EQ(Kinds(check)[0], "duplicate-token");
}

TEST(LockCheckerTest, ATokenBelowAnEarlierCompletedOneIsFound) {
  HistoryBuilder h;
  // Process 0 completed with 9 before process 1 invoked; process 1 got 5.
  h.Hold(0, 0, 10, 100, 50, 9).Hold(1, 60, 70, 170, 90, 5);
  EXPECT_EQ(Kinds(CheckLocks(h.ops(), true)), std::vector<std::string>{"token-order"});
  // Without fencing, tokens are not checked.
  EXPECT_TRUE(CheckLocks(h.ops(), false).valid);
}

TEST(LockCheckerTest, ConcurrentAcquisitionsMayCompleteInEitherTokenOrder) {
  HistoryBuilder h;
  // Both invoked before either completed: no real-time order between them. (Their leases do not
  // overlap: process 1's began when process 0's had ended.)
  h.Hold(0, 0, 10, 30, 30, 9).Hold(1, 5, 40, 140, 90, 5);
  EXPECT_TRUE(CheckLocks(h.ops(), true).valid) << CheckLocks(h.ops(), true).ToJson().dump();
}

TEST(LockCheckerTest, AMissingTokenIsFoundWhenFencingWasAskedFor) {
  HistoryBuilder h;
  h.Hold(0, 0, 10, 100, 50);
  EXPECT_EQ(Kinds(CheckLocks(h.ops(), true)), std::vector<std::string>{"missing-token"});
  EXPECT_TRUE(CheckLocks(h.ops(), false).valid);
}

TEST(LockCheckerTest, AStoreThatAcceptedALowerTokenIsFound) {
  HistoryBuilder h;
  h.Hold(0, 0, 10, 1000, 400, 2).Hold(1, 0, 500, 1500, 900, 3);
  h.Write(1, 600, 610, 3, true).Write(0, 620, 630, 2, true);
  EXPECT_EQ(Kinds(CheckLocks(h.ops(), true)), std::vector<std::string>{"store-token-regression"});
}

TEST(LockCheckerTest, AHolderMayWriteAgainUnderItsTokenButNoOneElseMay) {
  // A leader dispatching several jobs under its term: fine.
  HistoryBuilder leader;
  leader.Hold(0, 0, 10, 1000, 400, 5).Write(0, 20, 30, 5, true).Write(0, 40, 50, 5, true);
  EXPECT_TRUE(CheckLocks(leader.ops(), true).valid);
  // Another process accepted with the same token: a regression.
  HistoryBuilder other;
  other.Hold(0, 0, 10, 100, 90, 5).Write(0, 20, 30, 5, true);
  other.Hold(1, 95, 100, 1100, 400, 6).Write(1, 120, 130, 5, true);
  EXPECT_EQ(Kinds(CheckLocks(other.ops(), true)),
            std::vector<std::string>{"store-token-regression"});
}

TEST(LockCheckerTest, ALeaseRenewedUntilItsReleaseCountsToItsLatestValidity) {
  // Process 0's lease, renewed, ran to 500 (its release records it); process 1 was granted the
  // lock at 300: an overlap, though the validity at the grant (100) had long passed.
  HistoryBuilder h;
  h.Hold(0, 0, 10, 100, -1, 1).Hold(1, 250, 300, 1300, 600, 2);
  std::vector<Op> ops = h.ops();
  Op release;
  release.process = 0;
  release.type = OpType::kInvoke;
  release.f = "release";
  release.time_ns = 500;
  release.value = {{"resource", "r"}, {"valid_until", 500}};
  ops.push_back(release);
  std::stable_sort(ops.begin(), ops.end(),
                   [](const Op& a, const Op& b) { return a.time_ns < b.time_ns; });
  EXPECT_EQ(Kinds(CheckLocks(ops, true)), std::vector<std::string>{"lease-overlap"});
}

TEST(LockCheckerTest, WithoutFencingAWriteAfterTheLeaseWhileAnotherHoldsIsFound) {
  HistoryBuilder h;
  // Process 0's lease ended at 100; it wrote at 300 (a pause), after process 1 was granted the
  // lock at 150: the store accepted it.
  h.Hold(0, 0, 10, 100, 400, 0).Hold(1, 120, 150, 1150, 500, 0);
  h.Write(1, 200, 210, 0, true).Write(0, 300, 310, 0, true);
  EXPECT_EQ(Kinds(CheckLocks(h.ops(), false)), std::vector<std::string>{"write-outside-lease"});
  // The same write inside the writer's lease is fine.
  HistoryBuilder ok;
  ok.Hold(0, 0, 10, 100, 90, 0).Write(0, 20, 30, 0, true).Hold(1, 120, 150, 1150, 500, 0);
  EXPECT_TRUE(CheckLocks(ok.ops(), false).valid);
}

// The cli workload: an acquire that found another acquisition's process tree alive.
TEST(LockCheckerTest, AProcessTreeThatOutlivedItsLockIsFound) {
  HistoryBuilder h;
  h.Hold(0, 0, 10, 10, 50, 1).Hold(1, 60, 70, 70, 90, 2);
  std::vector<Op> ops = h.ops();
  EXPECT_TRUE(CheckLocks(ops, /*fenced=*/true).valid);
  for (Op& op : ops) {
    if (op.f == "acquire" && op.type == OpType::kOk) op.value["outlived"] = nlohmann::json::array();
  }
  EXPECT_TRUE(CheckLocks(ops, /*fenced=*/true).valid) << "an empty list is no anomaly";
  // The second acquisition found the first one's tree alive.
  Op& second = ops[5];
  ASSERT_TRUE(second.f == "acquire" && second.type == OpType::kOk && second.process == 1);
  second.value["outlived"].push_back({{"token", 1}, {"attempt", 1}, {"pid", 4242}});
  LockCheck check = CheckLocks(ops, /*fenced=*/true);
  EXPECT_FALSE(check.valid);
  EXPECT_EQ(Kinds(check), std::vector<std::string>{"child-outlived"});
}

TEST(LockCheckerTest, HistoriesRoundTripThroughTheirFile) {
  HistoryBuilder h;
  h.Hold(0, 0, 10, 100, 50, 1).Failed(1, 5, 7);
  const std::vector<Op> ops = h.ops();
  const std::string path = ::testing::TempDir() + "/history.jsonl";
  ASSERT_FALSE(SaveHistory(ops, path));
  std::string error;
  auto back = LoadHistory(path, &error);
  ASSERT_TRUE(back) << error;
  ASSERT_EQ(back->size(), ops.size());
  for (size_t i = 0; i < ops.size(); i++) EXPECT_EQ(ToJson((*back)[i]), ToJson(ops[i]));
}

}  // namespace
}  // namespace keyward::jepsen
