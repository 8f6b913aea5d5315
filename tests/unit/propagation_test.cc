// The propagation stream: SELECT owned by the stream, execution units wrapped in MULTI/EXEC,
// expiry DELs, the coordination state as commands of its own, and the dirty counter.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/command_test.h"

namespace keyward::test {
namespace {

using ::testing::ElementsAre;
using Stream = std::vector<Argv>;

class PropagationTest : public CommandTest {
 protected:
  // The stream as consumers receive it, SELECTs included, since the last call.
  Stream Take() {
    Stream out(stream().begin() + static_cast<long>(seen_), stream().end());
    seen_ = stream().size();
    return out;
  }
  size_t seen_ = 0;
};

TEST_F(PropagationTest, SelectIsEmittedWhenTheDatabaseChanges) {
  Run({"set", "a", "1"});
  Run({"set", "b", "2"});
  Run({"select", "3"});  // selecting changes nothing: nothing is emitted
  EXPECT_EQ(Take(), (Stream{{"SELECT", "0"}, {"set", "a", "1"}, {"set", "b", "2"}}));
  Run({"set", "c", "3"});
  Run("other", {"set", "d", "4"});  // another client, database 0
  EXPECT_EQ(Take(),
            (Stream{{"SELECT", "3"}, {"set", "c", "3"}, {"SELECT", "0"}, {"set", "d", "4"}}));
}

TEST_F(PropagationTest, ANewConsumerGetsASelectFirst) {
  Run({"set", "a", "1"});
  StreamRecorder late;
  server().propagation().AddConsumer(&late);
  Run({"set", "b", "2"});
  server().propagation().RemoveConsumer(&late);
  EXPECT_EQ(late.commands(), (Stream{{"SELECT", "0"}, {"set", "b", "2"}}));
}

TEST_F(PropagationTest, ReadsAndFailedWritesPropagateNothing) {
  Run({"set", "a", "1"});
  Take();
  Run({"get", "a"});
  Run({"incr", "nosuchtype-but-string"});  // creates it: propagated
  Run({"set", "s", "x"});
  Run({"incr", "s"});  // fails: nothing
  Run({"del", "nokey"});
  EXPECT_EQ(Take(), (Stream{{"incr", "nosuchtype-but-string"}, {"set", "s", "x"}}));
}

TEST_F(PropagationTest, AWriteThatExpiredAKeyIsOneTransaction) {
  // Redis 7.0: a command's lazy expiries and its own effect form one execution unit.
  Run({"debug", "set-active-expire", "0"});
  Run({"set", "k", "old", "px", "100"});
  AdvanceMs(100);
  Take();
  Run({"append", "k", "new"});
  EXPECT_EQ(Take(), (Stream{{"MULTI"}, {"DEL", "k"}, {"append", "k", "new"}, {"EXEC"}}));
  // A read that expires a key propagates the DEL alone.
  Run({"set", "r", "v", "px", "100"});
  AdvanceMs(100);
  Take();
  Run({"get", "r"});
  EXPECT_EQ(Take(), (Stream{{"DEL", "r"}}));
}

TEST_F(PropagationTest, ActiveExpiryPropagatesEachKeyOnItsOwn) {
  for (const char* k : {"a", "b", "c"}) Run({"set", k, "v", "px", "50"});
  Take();
  AdvanceMs(100);  // a cron tick runs the active cycle
  Stream got = Take();
  ASSERT_EQ(got.size(), 3u);
  for (const Argv& argv : got) EXPECT_EQ(argv[0], "DEL");
}

TEST_F(PropagationTest, ScriptsPropagateTheirWritesAsOneTransaction) {
  Run({"select", "2"});
  Run({"eval",
       "redis.call('set', 'x', '1'); redis.call('select', '5'); redis.call('set', 'y', '2')", "0"});
  EXPECT_EQ(Take(), (Stream{{"SELECT", "2"},
                            {"MULTI"},
                            {"set", "x", "1"},
                            {"SELECT", "5"},
                            {"set", "y", "2"},
                            {"EXEC"}}));
}

TEST_F(PropagationTest, FencedAcquisitionCarriesItsCounter) {
  Resp r = Run({"lock.acquire", "res", "me", "1000", "FENCE"});
  ASSERT_EQ(r.size(), 3u);
  const std::string token = std::to_string(r[1].integer);
  const std::string deadline = std::to_string(server().now_ms() + 1000);
  // The key and the counter go together: a replica or an AOF holds the same counter.
  EXPECT_EQ(Take(), (Stream{{"SELECT", "0"},
                            {"MULTI"},
                            {"SET", "res", "me", "PXAT", deadline},
                            // The longest lease so far (a promoted replica waits that long).
                            {"LOCK.LEASE", "1000"},
                            {"LOCK.RECORD", "res", token, "0", "me", token},
                            {"EXEC"}}));
  // Re-entry keeps the token: only the lease moves.
  Run({"lock.acquire", "res", "me", "1000", "FENCE"});
  EXPECT_EQ(Take(), (Stream{{"PEXPIREAT", "res", deadline}}));
}

TEST_F(PropagationTest, FenceAndGuardPropagateTheRecordNotTheCommand) {
  Run({"lock.acquire", "res", "me", "10000"});
  Take();
  EXPECT_EQ(Run({"lock.fence", "res", "me", "4000000000000000"}), 1);
  EXPECT_EQ(Take(),
            (Stream{{"LOCK.RECORD", "res", "4000000000000000", "0", "me", "4000000000000000"}}));
  EXPECT_EQ(Run({"lock.guard", "res", "4000000000000000", "set", "data", "v1"}), "OK");
  EXPECT_EQ(Take(), (Stream{{"MULTI"},
                            {"set", "data", "v1"},
                            {"LOCK.RECORD", "res", "4000000000000000", "4000000000000000", "me",
                             "4000000000000000"},
                            {"EXEC"}}));
  // A refused guarded write changes nothing.
  EXPECT_THAT(Run({"lock.guard", "res", "5", "set", "data", "v0"}), ErrorStartsWith("FENCED"));
  EXPECT_EQ(Take(), Stream{});
}

TEST_F(PropagationTest, TrimmingPropagatesTheFloor) {
  server().settings().lock_max_records = 1;
  Run({"lock.acquire", "a", "me", "10", "FENCE"});
  Run({"lock.acquire", "b", "me", "10", "FENCE"});
  AdvanceMs(100);  // the locks expire; the cron trims the idle records
  Stream got = Take();
  ASSERT_FALSE(got.empty());
  const Argv& floor = got.back();
  ASSERT_GE(floor.size(), 3u);
  EXPECT_EQ(floor[0], "LOCK.FLOOR");
  EXPECT_EQ(floor[1], std::to_string(server().locks().fences().floor()));
  EXPECT_EQ(floor[2], std::to_string(server().locks().fences().seen_floor()));
  EXPECT_LE(server().locks().fences().size(), 1u);
}

TEST_F(PropagationTest, TheMastersStreamPropagatesOnTheAofDoesNot) {
  SkipReplayCheck("commands applied from an AOF are not propagated again");
  Client& applier = client("applier");
  auto apply = [&](CallerKind kind, std::vector<std::string> argv) {
    std::vector<std::string_view> args(argv.begin(), argv.end());
    return server().executor().Apply(kind, applier, args);
  };
  Take();
  EXPECT_EQ(apply(CallerKind::kAofReplay, {"set", "from-aof", "1"}), std::nullopt);
  EXPECT_EQ(Take(), Stream{});
  // The master's commands go on to this server's own replicas, its MULTI/EXEC kept.
  EXPECT_EQ(apply(CallerKind::kMaster, {"MULTI"}), std::nullopt);
  EXPECT_EQ(apply(CallerKind::kMaster, {"set", "a", "1"}), std::nullopt);
  EXPECT_EQ(apply(CallerKind::kMaster, {"set", "b", "2"}), std::nullopt);
  EXPECT_EQ(Take(), Stream{});  // the unit is still open
  EXPECT_EQ(apply(CallerKind::kMaster, {"EXEC"}), std::nullopt);
  EXPECT_EQ(Take(),
            (Stream{{"SELECT", "0"}, {"MULTI"}, {"set", "a", "1"}, {"set", "b", "2"}, {"EXEC"}}));
  EXPECT_EQ(apply(CallerKind::kMaster, {"EXEC"}), std::string("ERR EXEC without MULTI"));
}

TEST_F(PropagationTest, CoordinationStateNeedsNoSelect) {
  Run({"select", "4"});
  Run({"set", "x", "1"});
  Take();
  Run({"lock.record", "res", "7", "0", "me", "7"});
  EXPECT_EQ(Take(), (Stream{{"lock.record", "res", "7", "0", "me", "7"}}));
}

TEST_F(PropagationTest, DirtyCountsChangesWithOrWithoutConsumers) {
  const uint64_t before = server().propagation().dirty();
  Run({"mset", "a", "1", "b", "2"});
  Run({"get", "a"});
  Run({"del", "a", "b", "c"});
  EXPECT_EQ(server().propagation().dirty(), before + 4);
}

TEST_F(PropagationTest, OffsetCountsTheEncodedStream) {
  const uint64_t before = server().propagation().offset();
  Run({"set", "a", "1"});
  // SELECT 0 and SET a 1, as RESP: what a replication offset counts.
  EXPECT_EQ(server().propagation().offset() - before,
            EncodeCommand({"SELECT", "0"}).size() + EncodeCommand({"set", "a", "1"}).size());
}

}  // namespace
}  // namespace keyward::test
