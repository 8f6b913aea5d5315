// The gatekeeper: one table decides which checks apply to which caller. Each check is shown to
// apply where the table says and not elsewhere: a network client, a script's redis.call,
// LOCK.GUARD's write, and the AOF replay (which must obey).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/core/errors.h"
#include "tests/support/command_test.h"

namespace keyward::test {
namespace {

class GatekeeperTest : public CommandTest {
 protected:
  // A command from the AOF: nullopt when it ran, else why it was refused.
  std::optional<std::string> Replay(std::vector<std::string> argv) {
    std::vector<std::string_view> args(argv.begin(), argv.end());
    return server().executor().Apply(CallerKind::kAofReplay, client("aof"), args);
  }
  static std::string Text(std::string_view s) { return std::string(s); }
};

TEST_F(GatekeeperTest, LoadingRefusesClientsButNotTheReplay) {
  SkipReplayCheck("commands applied from an AOF are not propagated again");
  server().state().loading = true;
  EXPECT_THAT(Run({"set", "k", "v"}), ErrorIs(Text(errors::kLoading)));
  EXPECT_THAT(Run({"get", "k"}), ErrorIs(Text(errors::kLoading)));
  EXPECT_FALSE(Run({"info", "server"}).is_error());  // flagged loading: allowed
  EXPECT_EQ(Replay({"set", "k", "v"}), std::nullopt);
  server().state().loading = false;
  EXPECT_EQ(Run({"get", "k"}), "v");
}

TEST_F(GatekeeperTest, AReadOnlyReplicaRefusesWritesFromEveryoneButItsMaster) {
  SkipReplayCheck("commands applied from an AOF are not propagated again");
  server().state().replica = true;
  EXPECT_THAT(Run({"set", "k", "v"}), ErrorIs(Text(errors::kReadOnlyReplica)));
  EXPECT_TRUE(Run({"get", "k"}).is_null());
  // From a script (Redis's text, raised as the script's error) and from LOCK.GUARD too.
  EXPECT_THAT(Run({"eval", "return redis.call('set', 'k', 'v')", "0"}),
              ErrorStartsWith(Text(errors::kReadOnlyReplica)));
  EXPECT_THAT(Run({"lock.guard", "res", "1", "set", "k", "v"}),
              ErrorIs(Text(errors::kReadOnlyReplica)));
  // The stream obeys.
  EXPECT_EQ(Replay({"set", "k", "v"}), std::nullopt);
  EXPECT_EQ(Run({"get", "k"}), "v");
  server().settings().replica_read_only = false;
  EXPECT_EQ(Run({"set", "k", "w"}), "OK");
}

TEST_F(GatekeeperTest, TheReplayIsCheckedOnlyForBeingWellFormed) {
  SkipReplayCheck("commands applied from an AOF are not propagated again");
  EXPECT_EQ(Replay({"nosuchcommand"}), errors::UnknownCommand("nosuchcommand", nullptr, 0));
  EXPECT_EQ(Replay({"get"}), errors::WrongArgs("get"));
  // Authentication and CLIENT PAUSE are for clients only.
  EXPECT_EQ(Run("admin", {"config", "set", "requirepass", "secret"}), "OK");
  EXPECT_EQ(Replay({"set", "a", "1"}), std::nullopt);
  Run("admin", {"auth", "secret"});
  Run("admin", {"client", "pause", "100000", "write"});
  EXPECT_EQ(Replay({"set", "b", "1"}), std::nullopt);
  EXPECT_TRUE(Run("paused", {"auth", "secret"}) == "OK");
  EXPECT_TRUE(Run("paused", {"set", "c", "1"}).is_none());  // held
  Run("admin", {"client", "unpause"});
  EXPECT_EQ(Reply("paused"), "OK");
}

TEST_F(GatekeeperTest, ScriptsAndGuardsWordTheirRefusalsTheirOwnWay) {
  EXPECT_THAT(Run({"eval", "return redis.call('nosuch')", "0"}),
              ErrorStartsWith(Text(errors::kScriptUnknownCommand)));
  EXPECT_THAT(Run({"eval", "return redis.call('get')", "0"}),
              ErrorStartsWith(Text(errors::kScriptWrongArgs)));
  EXPECT_THAT(Run({"eval", "return redis.call('subscribe', 'x')", "0"}),
              ErrorStartsWith(Text(errors::kScriptNoScript)));
  EXPECT_THAT(Run({"eval_ro", "return redis.call('set', 'a', '1')", "0"}),
              ErrorStartsWith(Text(errors::kScriptWriteInReadOnly)));
  EXPECT_THAT(Run({"eval_ro", "return redis.call('publish', 'ch', 'm')", "0"}),
              ErrorStartsWith(Text(errors::kScriptWriteInReadOnly)));
  // LOCK.GUARD: a client's texts for unknown commands and arity; writes only.
  EXPECT_THAT(Run({"lock.guard", "r", "1", "nosuch"}),
              ErrorIs(errors::UnknownCommand("nosuch", nullptr, 0)));
  EXPECT_THAT(Run({"lock.guard", "r", "1", "set", "k"}), ErrorIs(errors::WrongArgs("set")));
  EXPECT_THAT(Run({"lock.guard", "r", "1", "get", "k"}), ErrorIs(errors::GuardNotAWrite("get")));
  EXPECT_THAT(Run({"lock.guard", "r", "1", "lock.guard", "r", "1", "set", "k", "v"}),
              ErrorIs(errors::GuardNotAWrite("lock.guard")));
  EXPECT_THAT(Run({"lock.guard", "r", "1", "lock.acquire", "k", "o", "10"}),
              ErrorIs(errors::GuardNotAWrite("lock.acquire")));
}

TEST_F(GatekeeperTest, TheAclAndMemoryHooksApplyWhereTheTableSays) {
  SkipReplayCheck("commands applied from an AOF are not propagated again");
  server().gatekeeper().hooks().acl = [](CallerKind, const Client&, const CommandSpec& cmd,
                                         CmdArgs) -> std::optional<std::string> {
    if (cmd.full_name() == "set")
      return "NOPERM this user has no permissions to run the 'set' command";
    return std::nullopt;
  };
  EXPECT_THAT(Run({"set", "k", "v"}), ErrorStartsWith("NOPERM"));
  EXPECT_THAT(Run({"eval", "return redis.call('set', 'k', 'v')", "0"}), ErrorStartsWith("NOPERM"));
  EXPECT_EQ(Replay({"set", "k", "v"}), std::nullopt);  // the AOF is not a user
  server().gatekeeper().hooks().acl = nullptr;  // (the server's own hook is gone for this test)

  server().gatekeeper().hooks().out_of_memory = [] { return true; };
  EXPECT_THAT(Run({"set", "k", "w"}), ErrorIs(Text(errors::kOom)));  // deny-oom
  EXPECT_EQ(Run({"del", "k"}), 1);                                   // not deny-oom
  server().gatekeeper().hooks().out_of_memory = nullptr;
}

TEST_F(GatekeeperTest, ScriptsRunWithTheFlagsTheyDeclare) {
  // Redis's getCommandFlags: a script with a shebang is a write unless it says no-writes, and
  // never "may replicate"; without one, EVAL's own flags stand.
  Run({"function", "load",
       "#!lua name=lib\n"
       "redis.register_function{function_name='ro', callback=function() return 2 end,"
       " flags={'no-writes'}}\n"
       "redis.register_function('rw', function() return 3 end)"});
  Run("admin", {"client", "pause", "100000", "write"});
  EXPECT_EQ(Run("a", {"eval", "#!lua flags=no-writes\nreturn 1", "0"}), 1);  // runs
  EXPECT_TRUE(Run("b", {"eval", "return 1", "0"}).is_none());                // held: may replicate
  EXPECT_TRUE(Run("c", {"eval", "#!lua\nreturn 1", "0"}).is_none());         // held: a write
  EXPECT_EQ(Run("e", {"fcall", "ro", "0"}), 2);                              // no-writes: runs
  EXPECT_TRUE(Run("d", {"fcall", "rw", "0"}).is_none());                     // held
  Run("admin", {"client", "unpause"});
  EXPECT_EQ(Reply("b"), 1);
  EXPECT_EQ(Reply("c"), 1);
  EXPECT_EQ(Reply("d"), 3);
  // On a read-only replica, a script that declares writes is refused before it runs.
  SkipReplayCheck("the replica state is set by hand");
  server().state().replica = true;
  EXPECT_THAT(Run({"eval", "#!lua\nreturn 1", "0"}), ErrorIs(Text(errors::kReadOnlyReplica)));
  EXPECT_EQ(Run({"eval", "#!lua flags=no-writes\nreturn 1", "0"}), 1);
  server().state().replica = false;
}

TEST_F(GatekeeperTest, DebugIsAProtectedCommand) {
  settings_for_test().enable_debug_command = static_cast<int>(DebugCommand::kNo);
  EXPECT_THAT(Run({"debug", "sleep", "0"}),
              ErrorIs(errors::ProtectedCommand("DEBUG", "enable-debug-command")));
  // Arity is checked first, as in Redis.
  EXPECT_THAT(Run({"debug"}), ErrorIs(errors::WrongArgs("debug")));
  settings_for_test().enable_debug_command = static_cast<int>(DebugCommand::kLocal);
  EXPECT_EQ(Run({"debug", "sleep", "0"}), "OK");  // the test connection is loopback
}

TEST_F(GatekeeperTest, InsideMultiCommandsAreQueuedAfterEveryOtherCheck) {
  EXPECT_EQ(Run({"multi"}), "OK");
  EXPECT_EQ(Run({"set", "k", "v"}), "QUEUED");
  EXPECT_EQ(Run({"get", "k"}), "QUEUED");
  // Refusals still come first, and mark the transaction as failed.
  EXPECT_THAT(Run({"get"}), ErrorIs(errors::WrongArgs("get")));
  EXPECT_THAT(Run({"shutdown"}), ErrorIs(Text(errors::kNotAllowedInMulti)));
  EXPECT_TRUE(client().has(Client::kDirtyExec));
  // QUIT and RESET are not queued: RESET discards the transaction.
  EXPECT_EQ(Run({"reset"}), "RESET");
  EXPECT_FALSE(client().has(Client::kMulti | Client::kDirtyExec));
  EXPECT_TRUE(Run({"get", "k"}).is_null());  // nothing ran
}

TEST_F(GatekeeperTest, ExecIsJudgedByTheCommandsItRuns) {
  // EXEC is no write, but a transaction holding one is refused on a read-only replica, and the
  // transaction is gone.
  server().state().replica = true;
  server().settings().replica_read_only = true;
  EXPECT_EQ(Run({"multi"}), "OK");
  EXPECT_EQ(Run({"get", "k"}), "QUEUED");
  EXPECT_THAT(Run({"exec"}).strings(), ::testing::ElementsAre("(nil)"));
  EXPECT_EQ(Run({"multi"}), "OK");
  EXPECT_THAT(Run({"set", "k", "v"}), ErrorIs(Text(errors::kReadOnlyReplica)));
  EXPECT_THAT(Run({"exec"}), ErrorIs(Text(errors::kExecAbort)));
  EXPECT_EQ(Run({"multi"}), "OK");
  server().state().replica = false;
  EXPECT_EQ(Run({"set", "k", "v"}), "QUEUED");
  server().state().replica = true;
  EXPECT_THAT(Run({"exec"}), ErrorIs(errors::ExecAbortBecause(errors::kReadOnlyReplica)));
  EXPECT_FALSE(client().has(Client::kMulti));
  server().state().replica = false;
  EXPECT_TRUE(Run({"get", "k"}).is_null());
}

TEST_F(GatekeeperTest, RejectedCallsAreCountedPerCommand) {
  Run({"get"});
  Run({"eval", "return redis.call('get')", "0"});
  Resp stats = Run({"info", "commandstats"});
  EXPECT_THAT(stats.str, ::testing::HasSubstr("cmdstat_get:calls=0,usec=0,usec_per_call=0.00,"
                                              "rejected_calls=2,failed_calls=0"));
}

}  // namespace
}  // namespace keyward::test
