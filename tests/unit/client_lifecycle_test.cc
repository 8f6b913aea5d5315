// Connection-level limits and edge cases found in review: the query buffer limit of a client held
// by CLIENT PAUSE, limits that CONFIG SET changes for connected clients, CLIENT PAUSE with a
// timeout that overflows, CLIENT LIST with long names, argument-count errors of subcommands.
#include "tests/support/command_test.h"

namespace keyward::test {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;

class ClientLifecycleTest : public CommandTest {};

// A SET of `n` bytes, as protocol.
std::string BigSet(size_t n) {
  return "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$" + std::to_string(n) + "\r\n" + std::string(n, 'x') +
         "\r\n";
}

TEST_F(ClientLifecycleTest, PausedClientOverQueryBufferLimitIsClosed) {
  EXPECT_EQ(Run({"config", "set", "client-query-buffer-limit", "1mb"}), "OK");
  EXPECT_EQ(Run({"client", "pause", "100000", "write"}), "OK");
  EXPECT_EQ(RunRaw({"set", "a", "1"}, "writer"), "");  // held
  ASSERT_TRUE(client("writer").has(Client::kPaused));
  // Complete commands pile up behind the held one; below the limit the client stays.
  std::string chunk = BigSet(100 * 1000);
  for (int i = 0; i < 9; i++) EXPECT_EQ(Send(chunk, "writer"), "");
  EXPECT_FALSE(Closed("writer"));
  // Past the limit Redis closes it, paused or not.
  for (int i = 0; i < 2; i++) Send(chunk, "writer");
  EXPECT_TRUE(Closed("writer"));
  EXPECT_THAT(Run({"info", "stats"}).str,
              HasSubstr("client_query_buffer_limit_disconnections:1\r\n"));
  // Nothing it sent ran.
  EXPECT_EQ(Run({"client", "unpause"}), "OK");
  EXPECT_TRUE(Run({"get", "a"}).is_null());
  EXPECT_TRUE(Run({"get", "k"}).is_null());
}

TEST_F(ClientLifecycleTest, PausedClientBelowLimitRunsEverythingOnUnpause) {
  EXPECT_EQ(Run({"client", "pause", "100000", "write"}), "OK");
  EXPECT_EQ(Send("SET a 1\r\nINCR a\r\n", "writer"), "");
  EXPECT_EQ(Send("INCR a\r\n", "writer"), "");
  EXPECT_EQ(Run({"client", "unpause"}), "OK");
  EXPECT_EQ(Send("", "writer"), "+OK\r\n:2\r\n:3\r\n");
  EXPECT_EQ(Send("GET a\r\n", "writer"), "$1\r\n3\r\n");
}

TEST_F(ClientLifecycleTest, ProtoMaxBulkLenAppliesToConnectedClients) {
  EXPECT_EQ(Run("other", {"ping"}), "PONG");  // connected before the change
  EXPECT_EQ(Run({"config", "set", "proto-max-bulk-len", "1mb"}), "OK");
  EXPECT_EQ(Send("*2\r\n$4\r\necho\r\n$2000000\r\n", "other"),
            "-ERR Protocol error: invalid bulk length\r\n");
  EXPECT_TRUE(Closed("other"));
  // And back up again.
  EXPECT_EQ(Run({"config", "set", "proto-max-bulk-len", "512mb"}), "OK");
  Resp r = Run({"echo", std::string(2000000, 'y')});
  EXPECT_EQ(r.str.size(), 2000000u);
}

TEST_F(ClientLifecycleTest, PauseWithOverflowingTimeoutIsANoOpLikeRedis70) {
  // Redis 7.0.15 replies OK and, the deadline having wrapped into the past, pauses nothing.
  EXPECT_EQ(Run({"client", "pause", "9223372036854775807"}), "OK");
  EXPECT_EQ(Run("writer", {"set", "k", "v"}), "OK");
  EXPECT_EQ(Run({"client", "pause", "9223372036854775000", "write"}), "OK");
  EXPECT_EQ(Run("writer", {"set", "k", "w"}), "OK");
  // An ordinary pause still works afterwards.
  EXPECT_EQ(Run({"client", "pause", "100000", "write"}), "OK");
  EXPECT_EQ(RunRaw({"set", "k", "z"}, "writer"), "");
  EXPECT_EQ(Run({"client", "unpause"}), "OK");
  EXPECT_EQ(Send("", "writer"), "+OK\r\n");
}

TEST_F(ClientLifecycleTest, ClientListPrintsLongNamesWhole) {
  std::string name(3000, 'n');
  EXPECT_EQ(Run({"client", "setname", name}), "OK");
  Resp info = Run({"client", "info"});
  EXPECT_THAT(info.str, HasSubstr(" name=" + name + " age="));
  EXPECT_THAT(info.str, EndsWith(" resp=2\n"));
  Resp list = Run({"client", "list"});
  EXPECT_THAT(list.str, HasSubstr(" name=" + name + " age="));
  EXPECT_THAT(list.str, EndsWith(" resp=2\n"));
}

TEST_F(ClientLifecycleTest, ClientListFlagOrder) {
  EXPECT_EQ(Run("w", {"client", "no-evict", "on"}), "OK");
  EXPECT_EQ(Run({"client", "pause", "100000", "write"}), "OK");
  EXPECT_EQ(RunRaw({"set", "k", "v"}, "w"), "");  // held
  std::string id = std::to_string(client("w").id());
  // Redis prints the letters in its own order: b (blocked by the pause) before e (no-evict).
  EXPECT_THAT(Run({"client", "list", "id", id}).str, HasSubstr(" flags=be "));
  EXPECT_EQ(Run({"client", "unpause"}), "OK");
  EXPECT_EQ(Send("", "w"), "+OK\r\n");
  EXPECT_THAT(Run({"client", "list", "id", id}).str, HasSubstr(" flags=e "));
}

TEST_F(ClientLifecycleTest, ReplyOffAlsoSilencesRefusedCommands) {
  EXPECT_EQ(RunRaw({"client", "reply", "off"}), "");
  EXPECT_EQ(RunRaw({"foobar"}), "");         // unknown command
  EXPECT_EQ(RunRaw({"config"}), "");         // container without a subcommand
  EXPECT_EQ(RunRaw({"config", "foo"}), "");  // unknown subcommand
  EXPECT_EQ(RunRaw({"get"}), "");            // wrong arity
  EXPECT_EQ(RunRaw({"client", "reply", "on"}), "+OK\r\n");
  // A refused command uses up a SKIP, as in Redis.
  EXPECT_EQ(RunRaw({"client", "reply", "skip"}), "");
  EXPECT_EQ(RunRaw({"foobar"}), "");
  EXPECT_EQ(RunRaw({"ping"}), "+PONG\r\n");
  // The refusals still count as errors.
  EXPECT_THAT(Run({"info", "stats"}).str, HasSubstr("total_error_replies:5\r\n"));
}

TEST_F(ClientLifecycleTest, ClearingRequirepassLetsUnauthenticatedClientsIn) {
  EXPECT_EQ(Run({"config", "set", "requirepass", "foo"}), "OK");
  EXPECT_THAT(Run("late", {"ping"}), ErrorIs("NOAUTH Authentication required."));
  EXPECT_EQ(Send("*11\r\n", "late"), "-ERR Protocol error: unauthenticated multibulk length\r\n");
  EXPECT_THAT(Run("late2", {"ping"}), ErrorIs("NOAUTH Authentication required."));
  EXPECT_EQ(Run({"config", "set", "requirepass", ""}), "OK");
  // As in Redis, the default user is now "nopass": no AUTH needed, no unauthenticated limits.
  EXPECT_EQ(Run("late2", {"ping"}), "PONG");
  std::vector<std::string> echo(11, "x");
  echo[0] = "echo";
  EXPECT_THAT(Run("late2", echo), ErrorIs("ERR wrong number of arguments for 'echo' command"));
}

TEST_F(ClientLifecycleTest, SubcommandArgumentCountErrors) {
  EXPECT_THAT(Run({"client", "pause", "10", "all", "x"}),
              ErrorIs("ERR unknown subcommand or wrong number of arguments for 'pause'. Try "
                      "CLIENT HELP."));
  EXPECT_THAT(Run({"slowlog", "get", "1", "2"}),
              ErrorIs("ERR unknown subcommand or wrong number of arguments for 'get'. Try "
                      "SLOWLOG HELP."));
  EXPECT_THAT(Run({"SLOWLOG", "GET", "1", "2"}),
              ErrorIs("ERR unknown subcommand or wrong number of arguments for 'GET'. Try "
                      "SLOWLOG HELP."));
}

}  // namespace
}  // namespace keyward::test
