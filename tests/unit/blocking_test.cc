// The blocking registry on its own, with a family of waits defined here: waits on keys served in
// arrival order right after the command that made the key ready, waits on a condition, deadlines,
// CLIENT UNBLOCK with both reasons, disconnects, and what a blocked client sent meanwhile.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/core/errors.h"
#include "server/engine/context.h"
#include "server/engine/propagation.h"
#include "tests/support/command_test.h"

namespace keyward::test {
namespace {

// "Take" waits: a waiter is served when its key holds a string, which it then deletes (a queue
// of one-shot jobs, as BLPOP will be with lists). Condition waits are served when `open` is set.
class TakeWaits : public BlockHandler {
 public:
  explicit TakeWaits(const CommandRegistry& registry) : registry_(registry) {}
  const CommandSpec* command() const override { return registry_.Find("get"); }
  bool TryServe(CommandContext& ctx, WaitState* state, std::string_view key) override {
    if (key.empty()) {  // a condition wait
      if (!open) return false;
      ctx.rb().SendSimple("OPEN");
      return true;
    }
    Entry* e = ctx.db().Find(key);
    if (e == nullptr || e->type() != ObjType::kString) return false;
    ctx.rb().SendBulk(e->string_value());
    ctx.db().Delete(key);
    ctx.AddDirty();
    ctx.Propagate({"DEL", key});
    return true;
  }
  void OnTimeout(Client& c, WaitState*) override { c.rb().SendNull(); }
  void OnQueueEmpty(int db, std::string_view key) override { emptied.emplace_back(key); }

  bool open = false;
  std::vector<std::string> emptied;

 private:
  const CommandRegistry& registry_;
};

class BlockingTest : public CommandTest {
 protected:
  BlockingTest() : waits_(server().registry()) {}
  // The waits' handler goes before the server's clients would: close them first.
  ~BlockingTest() override { CloseConnections(); }

  // Blocks the named connection's client on `keys` (timeout 0: none).
  void Wait(const std::string& conn, std::vector<std::string> keys, int64_t timeout_ms = 0,
            WaitCondition condition = WaitCondition::kKeys) {
    Client& c = client(conn);
    BlockRequest req;
    req.condition = condition;
    req.db = c.db;
    req.keys = std::move(keys);
    req.deadline_ms = timeout_ms > 0 ? server().now_ms() + timeout_ms : -1;
    req.handler = &waits_;
    server().blocking().Block(c, std::move(req));
  }

  TakeWaits waits_;
};

TEST_F(BlockingTest, WaitersAreServedInArrivalOrderRightAfterTheWrite) {
  Wait("w1", {"job"});
  Wait("w2", {"job"});
  Wait("w3", {"other", "job"});
  EXPECT_TRUE(IsBlocked("w1") && IsBlocked("w2") && IsBlocked("w3"));
  EXPECT_EQ(server().blocking().waiters(0, "job"), 3u);
  EXPECT_EQ(Run({"set", "job", "first"}), "OK");
  // Served in the same turn as the SET: the first waiter took it, the others still wait.
  EXPECT_EQ(Reply("w1"), "first");
  EXPECT_FALSE(IsBlocked("w1"));
  EXPECT_TRUE(Reply("w2").is_none());
  EXPECT_TRUE(IsBlocked("w2"));
  EXPECT_TRUE(Run({"get", "job"}).is_null());
  Run({"set", "job", "second"});
  EXPECT_EQ(Reply("w2"), "second");
  // w3 waits on two keys: either serves it, and it leaves both queues.
  Run({"set", "other", "third"});
  EXPECT_EQ(Reply("w3"), "third");
  EXPECT_EQ(server().blocking().waiters(0, "job"), 0u);
  EXPECT_EQ(server().blocking().blocked_clients(), 0u);
  EXPECT_THAT(waits_.emptied, ::testing::UnorderedElementsAre("job", "other"));
}

TEST_F(BlockingTest, AServedWaitIsItsOwnExecutionUnit) {
  Wait("w", {"job"});
  Run({"set", "job", "x"});
  EXPECT_EQ(Reply("w"), "x");
  // The SET, then the waiter's DEL: two units, so no MULTI around them.
  EXPECT_EQ(TakePropagated(), (std::vector<Argv>{{"set", "job", "x"}, {"DEL", "job"}}));
}

TEST_F(BlockingTest, KeysOfOtherDatabasesDoNotWakeWaiters) {
  Run("w", {"select", "1"});
  Wait("w", {"job"});
  Run({"set", "job", "in db 0"});
  EXPECT_TRUE(IsBlocked("w"));
  Run({"select", "1"});
  Run({"set", "job", "in db 1"});
  EXPECT_EQ(Reply("w"), "in db 1");
}

TEST_F(BlockingTest, DeadlinesEndWaitsWithTheTimeoutReply) {
  Wait("w", {"job"}, 500);
  AdvanceMs(499);
  EXPECT_TRUE(IsBlocked("w"));
  AdvanceMs(1);
  EXPECT_TRUE(Reply("w").is_null());
  EXPECT_FALSE(IsBlocked("w"));
  EXPECT_EQ(server().timers().size(), 0u);
}

TEST_F(BlockingTest, ClientUnblockEndsAWaitEitherWay) {
  Wait("w1", {"job"});
  Wait("w2", {"job"});
  const std::string id1 = std::to_string(client("w1").id());
  const std::string id2 = std::to_string(client("w2").id());
  EXPECT_EQ(Run({"client", "unblock", id1}), 1);  // TIMEOUT: the timeout reply
  EXPECT_TRUE(Reply("w1").is_null());
  EXPECT_EQ(Run({"client", "unblock", id2, "error"}), 1);
  EXPECT_THAT(Reply("w2"), ErrorIs(std::string(errors::kUnblocked)));
  EXPECT_EQ(Run({"client", "unblock", id2}), 0);  // not blocked any more
}

TEST_F(BlockingTest, ConditionWaitsAreServedEachOnItsOwn) {
  Wait("a", {}, 0, WaitCondition::kReplicationOffset);
  Wait("b", {}, 0, WaitCondition::kReplicationOffset);
  server().blocking().SignalCondition(WaitCondition::kReplicationOffset);
  server().blocking().ServeReady();
  EXPECT_TRUE(IsBlocked("a") && IsBlocked("b"));  // not open yet
  waits_.open = true;
  server().blocking().SignalCondition(WaitCondition::kReplicationOffset);
  server().blocking().ServeReady();
  EXPECT_EQ(Reply("a"), "OPEN");
  EXPECT_EQ(Reply("b"), "OPEN");
}

TEST_F(BlockingTest, WhatABlockedClientSentRunsAfterItsReply) {
  Wait("w", {"job"});
  EXPECT_EQ(Send("*1\r\n$4\r\nPING\r\n", "w"), "");  // waits in the buffer
  Run({"set", "job", "x"});
  EXPECT_EQ(Send("", "w"), "$1\r\nx\r\n+PONG\r\n");
}

TEST_F(BlockingTest, ADisconnectedWaiterLeavesTheQueue) {
  Wait("gone", {"job"});
  Wait("next", {"job"});
  server().clients().Close(client("gone"));
  Run({"set", "job", "x"});
  EXPECT_EQ(Reply("next"), "x");
}

TEST_F(BlockingTest, NothingIsServedWhileAScriptIsBusy) {
  // Other clients' commands run while a script is busy; a waiter served then would act inside
  // the script. Ready keys wait until the script is done.
  Wait("w", {"job"});
  server().state().busy_script = BusyScript{};
  server().keyspace().db(0).Add(Entry::NewString("job", "x"));  // as the script's write would
  server().blocking().ServeReady();
  EXPECT_TRUE(IsBlocked("w"));
  server().state().busy_script.reset();
  server().blocking().ServeReady();
  EXPECT_EQ(Reply("w"), "x");
  SkipReplayCheck("a key made directly in the keyspace");
}

TEST_F(BlockingTest, BlockedClientsAreNotIdleAndShowInInfo) {
  settings_for_test().timeout = 1;
  Wait("w", {"job"});
  EXPECT_THAT(Run({"info", "clients"}).str, ::testing::HasSubstr("blocked_clients:1\r\n"));
  AdvanceMs(5000);  // the cron's idle check skips blocked clients
  EXPECT_FALSE(Closed("w"));
  EXPECT_TRUE(IsBlocked("w"));
}

}  // namespace
TEST_F(BlockingTest, WaitsWithADeadlineShowInTheTimeoutTable) {
  // INFO clients_in_timeout_table counts the blocked clients whose wait has a deadline (Redis's
  // clients_timeout_table): BLPOP k 100 does, BLPOP k 0 does not.
  Send(EncodeCommand({"blpop", "a", "100"}), "timed");
  Send(EncodeCommand({"blpop", "b", "0"}), "forever");
  const std::string info = Run({"info", "clients"}).str;
  EXPECT_THAT(info, ::testing::HasSubstr("blocked_clients:2\r\n"));
  EXPECT_THAT(info, ::testing::HasSubstr("clients_in_timeout_table:1\r\n"));
  Run({"rpush", "a", "x"});
  EXPECT_THAT(Run({"info", "clients"}).str, ::testing::HasSubstr("clients_in_timeout_table:0\r\n"));
  CloseConnections();
}

}  // namespace keyward::test
