// The set checker on hand-made histories: lost and unexpected elements must be found.
#include "set_checker.h"

#include <gtest/gtest.h>

#include <vector>

namespace keyward::jepsen {
namespace {

Op Make(int process, OpType type, const char* f, nlohmann::json value) {
  Op op;
  op.process = process;
  op.type = type;
  op.f = f;
  op.value = std::move(value);
  return op;
}

std::vector<Op> Adds(std::initializer_list<std::pair<int64_t, OpType>> adds,
                     std::vector<int64_t> final_read) {
  std::vector<Op> ops;
  for (auto [e, outcome] : adds) {
    ops.push_back(Make(0, OpType::kInvoke, "add", {{"element", e}}));
    ops.push_back(Make(0, outcome, "add", {{"element", e}}));
  }
  ops.push_back(Make(9, OpType::kInvoke, "read", nullptr));
  ops.push_back(Make(9, OpType::kOk, "read", {{"elements", final_read}}));
  return ops;
}

TEST(SetCheckerTest, EveryAcknowledgedAddInTheFinalReadIsValid) {
  // A failed add may be there or not; so may one whose outcome is unknown.
  SetCheck check = CheckSet(Adds(
      {{1, OpType::kOk}, {2, OpType::kFail}, {3, OpType::kInfo}, {4, OpType::kOk}}, {1, 3, 4}));
  EXPECT_TRUE(check.valid);
  EXPECT_EQ(check.attempted, 4);
  EXPECT_EQ(check.acknowledged, 2);
}

TEST(SetCheckerTest, AnAcknowledgedAddMissingIsLost) {
  SetCheck check = CheckSet(Adds({{1, OpType::kOk}, {2, OpType::kOk}}, {2}));
  EXPECT_FALSE(check.valid);
  EXPECT_EQ(check.lost, std::vector<int64_t>{1});
}

TEST(SetCheckerTest, AnElementNeverAddedIsUnexpected) {
  SetCheck check = CheckSet(Adds({{1, OpType::kOk}}, {1, 7}));
  EXPECT_FALSE(check.valid);
  EXPECT_EQ(check.unexpected, std::vector<int64_t>{7});
}

TEST(SetCheckerTest, WithoutAFinalReadNothingIsKnown) {
  std::vector<Op> ops = Adds({{1, OpType::kOk}}, {1});
  ops.pop_back();
  SetCheck check = CheckSet(ops);
  EXPECT_FALSE(check.valid);
  EXPECT_FALSE(check.read);
}

}  // namespace
}  // namespace keyward::jepsen
