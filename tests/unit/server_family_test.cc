#include "tests/support/command_test.h"

namespace keyward::test {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

class ServerFamilyTest : public CommandTest {};

TEST_F(ServerFamilyTest, InfoDefaultSections) {
  Run({"set", "k", "v"});
  Resp info = Run({"info"});
  ASSERT_EQ(info.type, Resp::Type::kBulk);
  EXPECT_THAT(info.str, StartsWith("# Server\r\nredis_version:7.0.15\r\n"));
  for (const char* section : {"# Clients", "# Memory", "# Persistence", "# Stats", "# Replication",
                              "# CPU", "# Errorstats", "# Keyspace"}) {
    EXPECT_THAT(info.str, HasSubstr(std::string("\r\n\r\n") + section + "\r\n"));
  }
  EXPECT_THAT(info.str, HasSubstr("db0:keys=1,expires=0,avg_ttl=0\r\n"));
  EXPECT_THAT(info.str, Not(HasSubstr("# Commandstats")));
  EXPECT_THAT(info.str, HasSubstr("role:master\r\n"));
}

TEST_F(ServerFamilyTest, InfoSectionsAndStats) {
  Run({"get", "missing"});
  Run({"set", "k", "v"});
  Run({"get", "k"});
  Run({"foo"});
  Resp stats = Run({"info", "stats"});
  EXPECT_THAT(stats.str, StartsWith("# Stats\r\n"));
  EXPECT_THAT(stats.str, HasSubstr("keyspace_hits:1\r\n"));
  EXPECT_THAT(stats.str, HasSubstr("keyspace_misses:1\r\n"));
  EXPECT_THAT(stats.str, HasSubstr("total_error_replies:1\r\n"));
  Resp cmdstats = Run({"info", "commandstats"});
  EXPECT_THAT(cmdstats.str, HasSubstr("cmdstat_get:calls=2,"));
  EXPECT_THAT(cmdstats.str, HasSubstr("cmdstat_set:calls=1,"));
  Resp errors = Run({"info", "errorstats"});
  EXPECT_THAT(errors.str, HasSubstr("errorstat_ERR:count=1\r\n"));
  Resp all = Run({"info", "all"});
  EXPECT_THAT(all.str, HasSubstr("# Commandstats"));
  EXPECT_EQ(Run({"config", "resetstat"}), "OK");
  EXPECT_THAT(Run({"info", "stats"}).str, HasSubstr("keyspace_hits:0\r\n"));
}

TEST_F(ServerFamilyTest, InfoInResp3IsVerbatim) {
  Run({"hello", "3"});
  EXPECT_EQ(Run({"info", "server"}).type, Resp::Type::kVerbatim);
}

TEST_F(ServerFamilyTest, TimeAndLastSave) {
  Resp t = Run({"time"});
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0], std::to_string(clock().NowMs() / 1000));
  EXPECT_EQ(Run({"lastsave"}), clock().NowMs() / 1000);
}

TEST_F(ServerFamilyTest, SlowLog) {
  EXPECT_EQ(Run({"config", "set", "slowlog-log-slower-than", "0"}), "OK");
  Run({"set", "k", std::string(200, 'x')});
  Resp log = Run({"slowlog", "get", "1"});
  ASSERT_EQ(log.size(), 1u);
  Resp entry = log[0];
  ASSERT_EQ(entry.size(), 6u);
  EXPECT_EQ(entry[3][0], "set");
  EXPECT_EQ(entry[3][2], std::string(128, 'x') + "... (72 more bytes)");
  EXPECT_GE(Run({"slowlog", "len"}).integer, 2);
  EXPECT_EQ(Run({"slowlog", "reset"}), "OK");
  EXPECT_THAT(Run({"slowlog", "get", "-2"}),
              ErrorIs("ERR count should be greater than or equal to -1"));
  EXPECT_EQ(Run({"config", "set", "slowlog-log-slower-than", "-1"}), "OK");
  Run({"slowlog", "reset"});
  Run({"ping"});
  EXPECT_EQ(Run({"slowlog", "len"}), 0);
}

TEST_F(ServerFamilyTest, MonitorSeesOtherClientsCommands) {
  EXPECT_EQ(Run("mon", {"monitor"}), "OK");
  Run({"set", "k", "a\"b"});
  std::string seen = Send("", "mon");
  EXPECT_THAT(seen, HasSubstr("[0 127.0.0.1:50000] \"set\" \"k\" \"a\\\"b\"\r\n"));
  EXPECT_THAT(seen, StartsWith("+"));
  Run({"config", "get", "port"});  // admin commands are not shown
  EXPECT_EQ(Send("", "mon"), "");
}

TEST_F(ServerFamilyTest, Debug) {
  SkipReplayCheck("DEBUG POPULATE writes keys without propagating them, as in Redis");
  EXPECT_EQ(Run({"debug", "sleep", "0"}), "OK");
  EXPECT_EQ(Run({"debug", "populate", "10"}), "OK");
  EXPECT_EQ(Run({"get", "key:3"}), "value:3");
  EXPECT_EQ(Run({"debug", "populate", "3", "p", "20"}), "OK");
  EXPECT_EQ(Run({"strlen", "p:1"}), 20);
  EXPECT_EQ(Run({"debug", "set-active-expire", "0"}), "OK");
  EXPECT_FALSE(server().services().cron.active_expire_enabled);
  EXPECT_THAT(Run({"debug", "nope"}),
              ErrorIs("ERR unknown subcommand or wrong number of arguments for 'nope'. Try DEBUG "
                      "HELP."));
}

TEST_F(ServerFamilyTest, DebugIsDisabledByDefault) {
  EXPECT_EQ(Run({"config", "get", "enable-debug-command"})[1], "yes");  // set by the fixture
  settings_for_test().enable_debug_command = static_cast<int>(DebugCommand::kNo);
  EXPECT_THAT(Run({"debug", "sleep", "0"}), ErrorStartsWith("ERR DEBUG command not allowed."));
}

TEST_F(ServerFamilyTest, ActiveExpiryDeletesDueKeysInTheCron) {
  Run({"set", "a", "1", "px", "100"});
  Run({"set", "b", "1", "px", "300"});
  Run({"set", "c", "1"});
  AdvanceMs(150);
  server().RunCron();
  EXPECT_EQ(Run({"dbsize"}), 2);  // DBSIZE counts keys without touching them
  AdvanceMs(200);
  server().RunCron();
  EXPECT_EQ(Run({"dbsize"}), 1);
  EXPECT_THAT(Run({"info", "stats"}).str, HasSubstr("expired_keys:2\r\n"));
}

TEST_F(ServerFamilyTest, ExpiryIgnoresWallClockJumps) {
  // The fixture's clock is the server clock itself; a jump of the machine's wall clock is
  // absorbed by SlewedClock (clock_test.cc). Here: the deadline is absolute server time.
  Run({"set", "k", "v", "ex", "10"});
  AdvanceMs(9999);
  EXPECT_EQ(Run({"get", "k"}), "v");
  AdvanceMs(1);
  EXPECT_TRUE(Run({"get", "k"}).is_null());
}

TEST_F(ServerFamilyTest, ShutdownAbortWithoutShutdown) {
  EXPECT_THAT(Run({"shutdown", "abort"}), ErrorIs("ERR No shutdown in progress."));
  EXPECT_THAT(Run({"shutdown", "foo"}), ErrorIs("ERR syntax error"));
}

TEST_F(ServerFamilyTest, CommandIntrospection) {
  int64_t count = Run({"command", "count"}).integer;
  EXPECT_GT(count, 60);
  EXPECT_EQ(Run({"command"}).size(), static_cast<size_t>(count));
  Resp get = Run({"command", "info", "get", "nosuch"});
  ASSERT_EQ(get.size(), 2u);
  EXPECT_EQ(get[0][0], "get");
  EXPECT_EQ(get[0][1], 2);
  EXPECT_THAT(get[0][2].strings(), Contains("readonly"));
  EXPECT_THAT(get[0][6].strings(), Contains("@string"));
  EXPECT_TRUE(get[1].is_null());
  Resp keys = Run({"command", "getkeys", "mset", "a", "1", "b", "2"});
  EXPECT_THAT(keys.strings(), ::testing::ElementsAre("a", "b"));
  EXPECT_THAT(Run({"command", "getkeys", "ping", "x"}),
              ErrorIs("ERR The command has no key arguments"));
  EXPECT_THAT(Run({"command", "getkeys", "nosuch", "x"}), ErrorIs("ERR Invalid command specified"));
  EXPECT_THAT(Run({"command", "getkeys", "get"}),
              ErrorIs("ERR wrong number of arguments for 'command|getkeys' command"));
  Resp list = Run({"command", "list", "filterby", "pattern", "client*"});
  EXPECT_THAT(list.strings(), Contains("client|kill"));
  Resp docs = Run({"command", "docs", "set"});
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0], "set");
}

}  // namespace
}  // namespace keyward::test
