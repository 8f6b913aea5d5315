// A pipeline on a database large enough for the session to prefetch its keys (session.cc,
// kPrefetchMinKeys) is answered exactly as each of its commands must be, also while the key
// table rehashes under it and when the pipeline switches databases halfway (run under the
// sanitizers, this also checks that the look-ahead reads nothing out of bounds).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/command_test.h"

namespace keyward::test {
namespace {

std::string Multibulk(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return out;
}

class SessionPrefetchTest : public CommandTest {};

TEST_F(SessionPrefetchTest, APipelineOverALargeTableIsAnsweredAsEachCommandMustBe) {
  SkipReplayCheck("DEBUG POPULATE writes keys without propagating them, as in Redis");
  // Past the prefetch threshold, and past a power of two so the table is still rehashing.
  ASSERT_EQ(Run({"debug", "populate", "70000", "key"}), "OK");
  std::vector<std::vector<std::string>> commands;
  for (int i = 0; i < 40; ++i) {
    const std::string n = std::to_string(i * 1699 % 70000);
    commands.push_back({"GET", "key:" + n});
    commands.push_back({"SET", "new:" + std::to_string(i), "v" + n});  // inserts grow the table
    commands.push_back({"INCR", "counter"});
    commands.push_back({"GET", "absent:" + n});
    if (i == 20) commands.push_back({"SELECT", "1"});
    if (i == 30) commands.push_back({"SELECT", "0"});
    commands.push_back({"PING"});
  }
  std::string pipeline;
  for (const auto& c : commands) pipeline += Multibulk(c);

  // The replies, written out from what each command must answer.
  std::string expected;
  int counter_db0 = 0;
  int counter_db1 = 0;
  int db = 0;
  for (int i = 0; i < 40; ++i) {
    const std::string n = std::to_string(i * 1699 % 70000);
    expected += db == 0 ? "$" + std::to_string(("value:" + n).size()) + "\r\nvalue:" + n + "\r\n"
                        : "$-1\r\n";
    expected += "+OK\r\n";
    expected += ":" + std::to_string(db == 0 ? ++counter_db0 : ++counter_db1) + "\r\n";
    expected += "$-1\r\n";
    if (i == 20) {
      expected += "+OK\r\n";
      db = 1;
    }
    if (i == 30) {
      expected += "+OK\r\n";
      db = 0;
    }
    expected += "+PONG\r\n";
  }
  EXPECT_EQ(Send(pipeline), expected);
  EXPECT_EQ(Run({"dbsize"}), 70000 + 40 - 10 + 1);  // 30 new keys and the counter in db 0
}

}  // namespace
}  // namespace keyward::test
