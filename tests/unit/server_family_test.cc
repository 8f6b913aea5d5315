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

// The value of one INFO field, as a number (fields like "12.50%" lose their unit).
double InfoValue(const std::string& info, const std::string& field) {
  const std::string key = "\r\n" + field + ":";
  const size_t at = info.find(key);
  if (at == std::string::npos) {
    ADD_FAILURE() << "no field " << field;
    return -1;
  }
  return std::strtod(info.c_str() + at + key.size(), nullptr);
}

TEST_F(ServerFamilyTest, InfoCountsReadsAndWrites) {
  const std::string before = Run({"info", "stats"}).str;
  Run({"ping"});
  Run({"set", "k", "v"});
  RunRaw({"ping"});
  const std::string after = Run({"info", "stats"}).str;
  // Three commands and the second INFO, each its own read event; the first INFO's reply and the
  // three replies, each its own write (the second INFO's reply is written after it counted).
  EXPECT_EQ(InfoValue(after, "total_reads_processed") - InfoValue(before, "total_reads_processed"),
            4);
  EXPECT_EQ(
      InfoValue(after, "total_writes_processed") - InfoValue(before, "total_writes_processed"), 4);
  EXPECT_EQ(Run({"config", "resetstat"}), "OK");
  EXPECT_EQ(InfoValue(Run({"info", "stats"}).str, "total_reads_processed"), 1);
}

TEST_F(ServerFamilyTest, InfoNetworkRatesFollowTraffic) {
  AdvanceMs(1000);  // past the first sample, whose interval starts at the epoch
  std::string info = Run({"info", "stats"}).str;
  EXPECT_EQ(InfoValue(info, "instantaneous_input_kbps"), 0);
  Run({"set", "big", std::string(200000, 'x')});
  Run({"get", "big"});
  AdvanceMs(100);  // one cron sample over the 100 ms that saw the traffic
  info = Run({"info", "stats"}).str;
  EXPECT_GT(InfoValue(info, "instantaneous_input_kbps"), 0);
  EXPECT_GT(InfoValue(info, "instantaneous_output_kbps"), 0);
  EXPECT_GT(InfoValue(info, "instantaneous_ops_per_sec"), 0);
  AdvanceMs(2000);  // sixteen quiet samples later, the rates are back to nothing
  info = Run({"info", "stats"}).str;
  EXPECT_EQ(InfoValue(info, "instantaneous_input_kbps"), 0);
}

TEST_F(ServerFamilyTest, InfoMemoryPeakAndOverhead) {
  std::string info = Run({"info", "memory"}).str;
  EXPECT_GT(InfoValue(info, "used_memory"), 0);
  EXPECT_GE(InfoValue(info, "used_memory_peak"), InfoValue(info, "used_memory"));
  EXPECT_GT(InfoValue(info, "used_memory_startup"), 0);
  EXPECT_GE(InfoValue(info, "used_memory_overhead"), InfoValue(info, "used_memory_startup"));
  EXPECT_GT(InfoValue(info, "total_system_memory"), 0);
  Run({"set", "big", std::string(4 << 20, 'x')});
  info = Run({"info", "memory"}).str;
  const double with_big = InfoValue(info, "used_memory");
  // The 4 MB value is dataset, not overhead.
  EXPECT_GE(InfoValue(info, "used_memory_dataset"), 4 << 20);
  Run({"del", "big"});
  info = Run({"info", "memory"}).str;
  EXPECT_LT(InfoValue(info, "used_memory"), with_big);
  EXPECT_GE(InfoValue(info, "used_memory_peak"), with_big);
  EXPECT_LT(InfoValue(info, "used_memory_peak_perc"), 100);
}

TEST_F(ServerFamilyTest, InfoScriptsAndFunctions) {
  std::string info = Run({"info", "memory"}).str;
  EXPECT_EQ(InfoValue(info, "number_of_cached_scripts"), 0);
  EXPECT_EQ(InfoValue(info, "number_of_functions"), 0);
  const double lua_before = InfoValue(info, "used_memory_lua");
  const double cache_before = InfoValue(info, "used_memory_scripts_eval");
  for (int i = 0; i < 200; i++) {
    Run({"script", "load", "return " + std::to_string(i) + " .. '" + std::string(64, 'a') + "'"});
  }
  info = Run({"info", "memory"}).str;
  EXPECT_EQ(InfoValue(info, "number_of_cached_scripts"), 200);
  EXPECT_GT(InfoValue(info, "used_memory_lua"), lua_before);
  EXPECT_EQ(InfoValue(info, "used_memory_vm_eval"), InfoValue(info, "used_memory_lua"));
  EXPECT_GT(InfoValue(info, "used_memory_scripts_eval"), cache_before + 200 * 64);
  EXPECT_EQ(Run({"function", "load",
                 "#!lua name=lib\n"
                 "redis.register_function('f1', function() return 1 end)\n"
                 "redis.register_function('f2', function() return 2 end)"}),
            "lib");
  info = Run({"info", "memory"}).str;
  EXPECT_EQ(InfoValue(info, "number_of_functions"), 2);
  EXPECT_EQ(InfoValue(info, "number_of_libraries"), 1);
  EXPECT_GT(InfoValue(info, "used_memory_functions"), 0);
  EXPECT_EQ(InfoValue(info, "used_memory_vm_total"),
            InfoValue(info, "used_memory_vm_eval") + InfoValue(info, "used_memory_vm_functions"));
  EXPECT_EQ(Run({"script", "flush"}), "OK");
  EXPECT_EQ(InfoValue(Run({"info", "memory"}).str, "number_of_cached_scripts"), 0);
}

TEST_F(ServerFamilyTest, InfoLazyFreedObjects) {
  for (int i = 0; i < 10; i++) Run({"set", "k" + std::to_string(i), "v"});
  EXPECT_EQ(Run({"flushall", "async"}), "OK");
  server().keyspace().lazy_freer().Drain();
  EXPECT_EQ(InfoValue(Run({"info", "memory"}).str, "lazyfreed_objects"), 10);
  EXPECT_EQ(Run({"config", "resetstat"}), "OK");
  EXPECT_EQ(InfoValue(Run({"info", "memory"}).str, "lazyfreed_objects"), 0);
}

TEST_F(ServerFamilyTest, InfoFixedValuesOfAbsentFeatures) {
  const std::string info = Run({"info", "everything"}).str;
  for (const char* line :
       {"rdb_last_bgsave_time_sec:-1\r\n", "aof_rewrites:0\r\n", "sync_full:0\r\n",
        "instantaneous_input_repl_kbps:0.00\r\n", "mem_aof_buffer:0\r\n",
        "active_defrag_running:0\r\n", "current_fork_perc:0.00\r\n", "\r\n# Latencystats\r\n"}) {
    EXPECT_THAT(info, HasSubstr(line));
  }
  EXPECT_THAT(info, HasSubstr("\r\nused_cpu_user_main_thread:"));
}

}  // namespace
}  // namespace keyward::test
