// Client-side caching in-process: what the differential suite (tests/differential/
// test_tracking.py) does not reach: tracking-table-max-keys, clients that go away (as tracker and
// as redirect target), scripts reading for their caller, and the counters INFO shows.
#include <string>
#include <vector>

#include "tests/support/command_test.h"

namespace keyward::test {
namespace {

using ::testing::HasSubstr;

class TrackingTest : public CommandTest {
 protected:
  void TrackInResp3(const std::string& conn, std::vector<std::string> options = {}) {
    Run(conn, {"hello", "3"});
    std::vector<std::string> cmd{"client", "tracking", "on"};
    cmd.insert(cmd.end(), options.begin(), options.end());
    ASSERT_EQ(Run(conn, cmd), "OK");
  }
  // The keys of the invalidation pushes `conn` received since its last command.
  std::vector<std::string> Invalidated(const std::string& conn) {
    return InvalidatedIn(Send("", conn));
  }
  // The keys of the invalidation pushes in `raw` (other replies skipped).
  static std::vector<std::string> InvalidatedIn(const std::string& raw) {
    std::vector<std::string> keys;
    size_t pos = 0;
    while (pos < raw.size()) {
      size_t used = 0;
      Resp r = ParseResp(std::string_view(raw).substr(pos), &used);
      if (used == 0) break;
      pos += used;
      if (r.type == Resp::Type::kPush && r.size() == 2 && r[0] == "invalidate") {
        if (r[1].is_null()) keys.push_back("<all>");
        for (const Resp& k : r[1].elems) keys.push_back(k.str);
      }
    }
    return keys;
  }
  int64_t InfoField(const std::string& name) {
    const std::string info = Run({"info", "everything"}).str;
    const size_t at = info.find(name + ":");
    return at == std::string::npos ? -1 : std::stoll(info.substr(at + name.size() + 1));
  }
};

TEST_F(TrackingTest, TheTableLimitForgetsKeysAndTellsTheirClients) {
  TrackInResp3("a");
  for (int i = 0; i < 5; i++) Run("a", {"get", "k" + std::to_string(i)});
  EXPECT_EQ(InfoField("tracking_total_keys"), 5);
  EXPECT_EQ(InfoField("tracking_total_items"), 5);
  EXPECT_EQ(Run({"config", "set", "tracking-table-max-keys", "2"}), "OK");
  // Checked before the next command: three keys go, and their client hears of each.
  // They follow the reply of the command they were found before.
  const std::string raw = RunRaw({"ping"}, "a");
  EXPECT_TRUE(raw.starts_with("+PONG\r\n")) << raw;
  EXPECT_EQ(InvalidatedIn(raw).size(), 3u);
  EXPECT_EQ(InfoField("tracking_total_keys"), 2);
  // 0 means no limit.
  EXPECT_EQ(Run({"config", "set", "tracking-table-max-keys", "0"}), "OK");
  for (int i = 0; i < 5; i++) Run("a", {"get", "k" + std::to_string(i)});
  EXPECT_EQ(Run("a", {"ping"}), "PONG");
  EXPECT_EQ(InfoField("tracking_total_keys"), 5);
}

TEST_F(TrackingTest, AClientThatLeavesIsForgotten) {
  TrackInResp3("a");
  TrackInResp3("b");
  Run("a", {"get", "k"});
  Run("b", {"get", "k"});
  EXPECT_EQ(InfoField("tracking_clients"), 2);
  EXPECT_EQ(InfoField("tracking_total_items"), 2);
  CloseConnections();
  // The closed clients' ids are still in the table; the write finds nobody to tell.
  EXPECT_EQ(Run({"set", "k", "v"}), "OK");
  EXPECT_EQ(InfoField("tracking_clients"), 0);
  EXPECT_EQ(InfoField("tracking_total_items"), 0);
}

TEST_F(TrackingTest, ARedirectTargetThatLeavesBreaksTheRedirection) {
  const int64_t target = Run("target", {"client", "id"}).integer;
  Run("a", {"hello", "3"});
  ASSERT_EQ(Run("a", {"client", "tracking", "on", "redirect", std::to_string(target)}), "OK");
  Run("a", {"get", "k"});
  EXPECT_EQ(Run({"client", "kill", "id", std::to_string(target)}), 1);
  Run({"set", "k", "v"});
  std::string raw = Send("", "a");
  EXPECT_THAT(raw, HasSubstr("tracking-redir-broken\r\n:" + std::to_string(target)));
  EXPECT_THAT(Run("a", {"client", "info"}).str, HasSubstr("flags=tR "));
}

TEST_F(TrackingTest, AScriptReadsForTheClientThatCalledIt) {
  TrackInResp3("a");
  Run("a", {"eval", "return redis.call('get', KEYS[1])", "1", "k"});
  Run("a", {"eval_ro", "return redis.call('get', 'other')", "0"});
  Run({"mset", "k", "1", "other", "2"});
  auto keys = Invalidated("a");
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{"k", "other"}));
}

TEST_F(TrackingTest, BroadcastPrefixesAreCountedAndDropped) {
  TrackInResp3("a", {"bcast", "prefix", "x:", "prefix", "y:"});
  TrackInResp3("b", {"bcast", "prefix", "x:"});
  EXPECT_EQ(InfoField("tracking_total_prefixes"), 2);
  Run("b", {"client", "tracking", "off"});
  EXPECT_EQ(InfoField("tracking_total_prefixes"), 2);  // a still has both
  Run("a", {"reset"});
  EXPECT_EQ(InfoField("tracking_total_prefixes"), 0);
  EXPECT_EQ(InfoField("tracking_clients"), 0);
}

}  // namespace
}  // namespace keyward::test
