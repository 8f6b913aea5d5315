// Options of the server itself, in-process: the lazyfree-lazy-* family, activerehashing, and
// propagation-error-behavior.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "tests/support/command_test.h"
#include "tests/support/test_values.h"

namespace keyward::test {
namespace {

// A list that records the thread it was freed on.
class WatchedList : public TestList {
 public:
  WatchedList(size_t n, std::thread::id* freed_on)
      : TestList(std::vector<std::string>(n, "x")), freed_on_(freed_on) {}
  ~WatchedList() override { *freed_on_ = std::this_thread::get_id(); }

 private:
  std::thread::id* freed_on_;
};

class ServerOptionsTest : public CommandTest {
 protected:
  // A big list under `key`, whose freeing thread lands in *freed_on.
  void MakeBigList(const std::string& key, std::thread::id* freed_on, int64_t expire_ms = -1) {
    SkipReplayCheck("values made directly in the keyspace");
    server().keyspace().db(0).Upsert(Entry::NewValue(
        key, std::make_unique<WatchedList>(Keyspace::kLazyFreeThreshold + 1, freed_on), expire_ms));
  }
};

TEST_F(ServerOptionsTest, LazyfreeLazyServerDelFreesOverwrittenValuesInTheBackground) {
  for (const char* setting : {"no", "yes"}) {
    ASSERT_EQ(Run({"config", "set", "lazyfree-lazy-server-del", setting}), "OK");
    std::thread::id freed_on;
    MakeBigList("k", &freed_on);
    EXPECT_EQ(Run({"set", "k", "a string now"}), "OK");  // overwrites the list
    server().keyspace().lazy_freer().Drain();
    EXPECT_EQ(freed_on != std::this_thread::get_id(), std::string(setting) == "yes") << setting;
  }
}

TEST_F(ServerOptionsTest, LazyfreeLazyExpireFreesInTheBackgroundAndPropagatesUnlink) {
  ASSERT_EQ(Run({"config", "set", "lazyfree-lazy-expire", "yes"}), "OK");
  Run({"debug", "set-active-expire", "0"});
  std::thread::id freed_on;
  MakeBigList("k", &freed_on, server().now_ms() + 100);
  TakePropagated();
  AdvanceMs(100);
  EXPECT_EQ(Run({"exists", "k"}), 0);  // expired on access
  server().keyspace().lazy_freer().Drain();
  EXPECT_NE(freed_on, std::this_thread::get_id());
  EXPECT_EQ(TakePropagated(), (std::vector<Argv>{{"UNLINK", "k"}}));
  // Without it: freed here, propagated as DEL.
  ASSERT_EQ(Run({"config", "set", "lazyfree-lazy-expire", "no"}), "OK");
  Run({"set", "s", "v", "px", "100"});
  TakePropagated();
  AdvanceMs(100);
  Run({"get", "s"});
  EXPECT_EQ(TakePropagated(), (std::vector<Argv>{{"DEL", "s"}}));
}

TEST_F(ServerOptionsTest, ActiveRehashingMovesResizingTablesAlong) {
  Database& db = server().keyspace().db(0);
  auto fill_until_rehashing = [&](const std::string& prefix) {
    for (int i = 0; !db.rehashing(); i++) {
      ASSERT_LT(i, 100000);
      Run({"set", prefix + std::to_string(i), "v"});
    }
  };
  ASSERT_EQ(Run({"config", "set", "activerehashing", "no"}), "OK");
  fill_until_rehashing("a");
  AdvanceMs(1000);  // ten cron ticks
  EXPECT_TRUE(db.rehashing());
  ASSERT_EQ(Run({"config", "set", "activerehashing", "yes"}), "OK");
  AdvanceMs(1000);
  EXPECT_FALSE(db.rehashing());
}

TEST_F(ServerOptionsTest, AFailedCommandFromTheStreamIsCountedAndLoggedByDefault) {
  SkipReplayCheck("commands applied from an AOF are not propagated again");
  Run({"set", "s", "not a number"});
  std::vector<std::string_view> incr{"incr", "s"};
  EXPECT_EQ(server().executor().Apply(CallerKind::kAofReplay, client("aof"), incr), std::nullopt);
  EXPECT_THAT(Run({"info", "stats"}).str, ::testing::HasSubstr("unexpected_error_replies:1\r\n"));
}

TEST_F(ServerOptionsTest, PropagationErrorBehaviorPanicStopsTheServer) {
  // The server has a background thread (lazy freeing): re-run the test in the child.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SkipReplayCheck("commands applied from an AOF are not propagated again");
  Run({"set", "s", "not a number"});
  std::vector<std::string_view> incr{"incr", "s"};
  // panic-on-replicas: the AOF's failure is only logged; the master's stops the server.
  ASSERT_EQ(Run({"config", "set", "propagation-error-behavior", "panic-on-replicas"}), "OK");
  EXPECT_EQ(server().executor().Apply(CallerKind::kAofReplay, client("aof"), incr), std::nullopt);
  EXPECT_DEATH(server().executor().Apply(CallerKind::kMaster, client("master"), incr), "");
  ASSERT_EQ(Run({"config", "set", "propagation-error-behavior", "panic"}), "OK");
  EXPECT_DEATH(server().executor().Apply(CallerKind::kAofReplay, client("aof"), incr), "");
}

}  // namespace
}  // namespace keyward::test
