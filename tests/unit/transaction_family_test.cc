// Transactions in-process: what the differential suite (tests/differential/test_transactions.py)
// cannot see from outside: the propagated form of EXEC, waiters served after it, the lock
// commands inside it and against WATCH, MONITOR's order, statistics, the slow log, and a client
// that goes away in the middle.
#include <string>
#include <vector>

#include "server/core/errors.h"
#include "tests/support/command_test.h"

namespace keyward::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Command = std::vector<std::string>;

class TransactionFamilyTest : public CommandTest {
 protected:
  std::vector<Command> Propagated() {
    std::vector<Command> out;
    for (const Argv& a : TakePropagated()) out.emplace_back(a.begin(), a.end());
    return out;
  }
  // WATCH key on `conn`, then `write` on another connection, then the transaction: whether it
  // ran.
  bool WatchSurvives(const std::vector<std::string>& write) {
    EXPECT_EQ(Run("watcher", {"watch", "res"}), "OK");
    Run("writer", write);
    EXPECT_EQ(Run("watcher", {"multi"}), "OK");
    EXPECT_EQ(Run("watcher", {"ping"}), "QUEUED");
    return !Run("watcher", {"exec"}).is_null();
  }
};

TEST_F(TransactionFamilyTest, QueuedCommandsRunAtExecInOrder) {
  EXPECT_EQ(Run({"multi"}), "OK");
  EXPECT_EQ(Run({"set", "a", "1"}), "QUEUED");
  EXPECT_EQ(Run({"incr", "a"}), "QUEUED");
  EXPECT_EQ(Run("other", {"get", "a"}).is_null(), true);  // nothing ran yet
  Resp r = Run({"exec"});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0], "OK");
  EXPECT_EQ(r[1], 2);
  EXPECT_EQ(Run("other", {"get", "a"}), "2");
  EXPECT_FALSE(client().has(Client::kMulti));
}

TEST_F(TransactionFamilyTest, OneWriteIsPropagatedAloneAndMoreAsOneTransaction) {
  Propagated();
  Run({"multi"});
  Run({"get", "a"});
  Run({"exec"});
  EXPECT_THAT(Propagated(), IsEmpty());
  Run({"multi"});
  Run({"set", "a", "1"});
  Run({"get", "a"});
  Run({"exec"});
  EXPECT_THAT(Propagated(), ElementsAre(Command{"set", "a", "1"}));
  Run({"multi"});
  Run({"set", "a", "2"});
  Run({"rpush", "l", "x"});
  Run({"blpop", "l", "0"});  // runs as LPOP and is propagated so
  Run({"exec"});
  EXPECT_THAT(Propagated(),
              ElementsAre(Command{"MULTI"}, Command{"set", "a", "2"}, Command{"rpush", "l", "x"},
                          Command{"LPOP", "l"}, Command{"EXEC"}));
}

TEST_F(TransactionFamilyTest, SelectInsideIsPropagatedWithTheRightDatabases) {
  TakePropagatedWithDb();
  Run({"multi"});
  Run({"set", "a", "0"});
  Run({"select", "3"});
  Run({"set", "a", "3"});
  Run({"exec"});
  auto got = TakePropagatedWithDb();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[1], (std::pair<int, Argv>{0, {"set", "a", "0"}}));
  EXPECT_EQ(got[2], (std::pair<int, Argv>{3, {"set", "a", "3"}}));
  EXPECT_EQ(client().db, 3);
}

TEST_F(TransactionFamilyTest, WaitersAreServedWithWhatTheWholeTransactionLeft) {
  EXPECT_EQ(RunRaw({"blpop", "q", "0"}, "waiter"), "");
  Run({"multi"});
  Run({"rpush", "q", "a"});
  Run({"lpop", "q"});
  Run({"exec"});
  EXPECT_TRUE(IsBlocked("waiter"));
  Run({"multi"});
  Run({"rpush", "q", "b", "c"});
  Run({"exec"});
  EXPECT_THAT(Reply("waiter").strings(), ElementsAre("q", "b"));
}

TEST_F(TransactionFamilyTest, LockReleaseExpiryAndHandOffBreakTheWatch) {
  EXPECT_EQ(Run({"lock.acquire", "res", "a", "1000"})[0], 1);
  EXPECT_TRUE(WatchSurvives({"lock.acquire", "res", "b", "1000"}));  // refused: no change
  EXPECT_FALSE(WatchSurvives({"lock.extend", "res", "a", "5000"}));
  EXPECT_FALSE(WatchSurvives({"lock.release", "res", "a"}));
  // A hand-off to a waiter changes the lock's owner.
  EXPECT_EQ(Run({"lock.acquire", "res", "a", "1000"})[0], 1);
  EXPECT_EQ(RunRaw({"lock.acquire", "res", "w", "5000", "WAIT", "0"}, "w"), "");
  EXPECT_EQ(Run("watcher", {"watch", "res"}), "OK");
  EXPECT_EQ(Run({"lock.release", "res", "a"}), 1);
  EXPECT_EQ(Reply("w")[0], 1);
  Run("watcher", {"multi"});
  EXPECT_TRUE(Run("watcher", {"exec"}).is_null());
  // The lease running out is a change too.
  EXPECT_EQ(Run("watcher", {"watch", "res"}), "OK");
  AdvanceMs(5001);
  Run("watcher", {"multi"});
  EXPECT_TRUE(Run("watcher", {"exec"}).is_null());
}

TEST_F(TransactionFamilyTest, AWaitInsideATransactionDoesNotBlock) {
  EXPECT_EQ(Run("holder", {"lock.acquire", "res", "h", "10000"})[0], 1);
  Run({"multi"});
  EXPECT_EQ(Run({"lock.acquire", "res", "me", "1000", "WAIT", "0"}), "QUEUED");
  EXPECT_EQ(Run({"ping"}), "QUEUED");
  Resp r = Run({"exec"});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_FALSE(IsBlocked());
  EXPECT_EQ(r[0][0], 0);  // not granted, at once
  EXPECT_EQ(r[1], "PONG");
  EXPECT_EQ(server().blocking().waiters(0, "res"), 0u);
}

TEST_F(TransactionFamilyTest, MonitorSeesMultiThenTheCommandsThenExec) {
  EXPECT_EQ(Run("mon", {"monitor"}), "OK");
  Run({"multi"});
  Run({"set", "a", "1"});
  Run({"exec"});
  std::string seen = Send("", "mon");
  const size_t multi = seen.find("\"multi\"");
  const size_t set = seen.find("\"set\" \"a\" \"1\"");
  const size_t exec = seen.find("\"exec\"");
  ASSERT_NE(multi, std::string::npos) << seen;
  ASSERT_NE(set, std::string::npos) << seen;
  ASSERT_NE(exec, std::string::npos) << seen;
  EXPECT_LT(multi, set);
  EXPECT_LT(set, exec);
  // A refused EXEC still tells monitors the transaction is over.
  Run({"multi"});
  Run({"exec", "extra"});
  EXPECT_THAT(Send("", "mon"), HasSubstr("\"EXEC\""));
}

TEST_F(TransactionFamilyTest, InnerCommandsCountAsTheClientsOwn) {
  Run({"config", "set", "slowlog-log-slower-than", "0"});
  Run({"slowlog", "reset"});
  Run({"set", "s", "text"});
  Run({"multi"});
  Run({"incr", "s"});
  Run({"get", "s"});
  Run({"exec"});
  Resp log = Run({"slowlog", "get", "10"});
  std::vector<std::string> names;
  for (const Resp& entry : log.elems) names.push_back(entry[3][0].str);
  // EXEC itself is skip_slowlog (MULTI is not); the commands it ran are logged, newest first.
  EXPECT_THAT(names, ElementsAre("get", "incr", "multi", "set", "slowlog"));
  Resp stats = Run({"info", "commandstats"});
  EXPECT_THAT(stats.str, HasSubstr("cmdstat_incr:calls=1,"));
  EXPECT_THAT(stats.str, HasSubstr("rejected_calls=0,failed_calls=1"));
  EXPECT_THAT(stats.str, HasSubstr("cmdstat_exec:calls=1,"));
  EXPECT_THAT(Run({"info", "errorstats"}).str, HasSubstr("errorstat_ERR:count=1"));
}

TEST_F(TransactionFamilyTest, AClientClosingInsideMultiOrWatchingLeavesNothingBehind) {
  Run("gone", {"watch", "a", "b"});
  Run("gone", {"multi"});
  Run("gone", {"set", "a", "1"});
  Run("other", {"watch", "a"});
  CloseConnections();
  // The watch table no longer names the closed clients: a write touching the keys is safe.
  EXPECT_EQ(Run({"set", "a", "2"}), "OK");
  EXPECT_EQ(Run({"set", "b", "2"}), "OK");
}

TEST_F(TransactionFamilyTest, ClientListShowsTheTransaction) {
  Run({"multi"});
  Run({"ping"});
  Run({"ping"});
  Resp r = Run({"exec"});
  Run({"multi"});
  Run({"ping"});
  std::string info = Run("other", {"client", "list"}).str;
  EXPECT_THAT(info, HasSubstr("flags=x db=0 sub=0 psub=0 ssub=0 multi=1 "));
  Run({"discard"});
  Run({"watch", "k"});
  Run("other", {"set", "k", "v"});
  EXPECT_THAT(Run("other", {"client", "list"}).str, HasSubstr("flags=d db=0"));
}

}  // namespace
}  // namespace keyward::test
