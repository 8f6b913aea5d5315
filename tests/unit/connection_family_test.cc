#include "tests/support/command_test.h"

namespace keyward::test {
namespace {

using ::testing::ElementsAre;

class ConnectionFamilyTest : public CommandTest {};

TEST_F(ConnectionFamilyTest, Ping) {
  EXPECT_EQ(Run({"ping"}), "PONG");
  EXPECT_EQ(RunRaw({"ping"}), "+PONG\r\n");
  EXPECT_EQ(RunRaw({"ping", "hello"}), "$5\r\nhello\r\n");
  EXPECT_THAT(Run({"ping", "a", "b"}), ErrorIs("ERR wrong number of arguments for 'ping' command"));
}

TEST_F(ConnectionFamilyTest, Echo) {
  EXPECT_EQ(Run({"echo", "x y"}), "x y");
  EXPECT_THAT(Run({"echo"}), ErrorIs("ERR wrong number of arguments for 'echo' command"));
}

TEST_F(ConnectionFamilyTest, UnknownCommand) {
  EXPECT_THAT(Run({"foo", "a", "b"}),
              ErrorIs("ERR unknown command 'foo', with args beginning with: 'a' 'b' "));
  EXPECT_THAT(Run({"config", "foo"}), ErrorIs("ERR unknown subcommand 'foo'. Try CONFIG HELP."));
  EXPECT_THAT(Run({"config"}), ErrorIs("ERR wrong number of arguments for 'config' command"));
  EXPECT_THAT(Run({"config", "get"}),
              ErrorIs("ERR wrong number of arguments for 'config|get' command"));
}

TEST_F(ConnectionFamilyTest, Select) {
  EXPECT_EQ(Run({"select", "3"}), "OK");
  EXPECT_EQ(client().db, 3);
  EXPECT_THAT(Run({"select", "16"}), ErrorIs("ERR DB index is out of range"));
  EXPECT_THAT(Run({"select", "-1"}), ErrorIs("ERR DB index is out of range"));
  EXPECT_THAT(Run({"select", "x"}), ErrorIs("ERR value is not an integer or out of range"));
}

TEST_F(ConnectionFamilyTest, HelloSwitchesProtocol) {
  Resp r = Run({"hello", "3"});
  ASSERT_EQ(r.type, Resp::Type::kMap);
  EXPECT_EQ(r[0], "server");
  EXPECT_EQ(r[1], "redis");
  EXPECT_EQ(r[5], 3);
  EXPECT_EQ(client().resp, 3);
  EXPECT_EQ(RunRaw({"echo", "x"}), "$1\r\nx\r\n");
  EXPECT_EQ(Run({"hello", "2"}).type, Resp::Type::kArray);
  EXPECT_THAT(Run({"hello", "4"}), ErrorIs("NOPROTO unsupported protocol version"));
  EXPECT_THAT(Run({"hello", "x"}),
              ErrorIs("ERR Protocol version is not an integer or out of range"));
  EXPECT_THAT(Run({"hello", "3", "foo"}), ErrorIs("ERR Syntax error in HELLO option 'foo'"));
  EXPECT_EQ(Run({"hello", "3", "setname", "app"}).type, Resp::Type::kMap);
  EXPECT_EQ(Run({"client", "getname"}), "app");
}

TEST_F(ConnectionFamilyTest, AuthWithoutPassword) {
  EXPECT_THAT(Run({"auth", "x"}),
              ErrorIs("ERR AUTH <password> called without any password configured for the "
                      "default user. Are you sure your configuration is correct?"));
  EXPECT_EQ(Run({"auth", "default", "anything"}), "OK");
  EXPECT_THAT(Run({"auth", "bob", "x"}),
              ErrorIs("WRONGPASS invalid username-password pair or user is disabled."));
}

TEST_F(ConnectionFamilyTest, RequirePass) {
  EXPECT_EQ(Run({"config", "set", "requirepass", "secret"}), "OK");
  EXPECT_THAT(Run("new", {"ping"}), ErrorIs("NOAUTH Authentication required."));
  EXPECT_THAT(Run("new", {"auth", "wrong"}),
              ErrorIs("WRONGPASS invalid username-password pair or user is disabled."));
  EXPECT_EQ(Run("new", {"auth", "secret"}), "OK");
  EXPECT_EQ(Run("new", {"ping"}), "PONG");
  EXPECT_EQ(Run("new", {"reset"}), "RESET");
  EXPECT_THAT(Run("new", {"ping"}), ErrorIs("NOAUTH Authentication required."));
  EXPECT_EQ(Run("other", {"hello", "3", "auth", "default", "secret"}).type, Resp::Type::kMap);
}

TEST_F(ConnectionFamilyTest, QuitClosesAfterReply) {
  EXPECT_EQ(Run("q", {"quit"}), "OK");
  EXPECT_TRUE(Closed("q"));
}

TEST_F(ConnectionFamilyTest, InlineAndPipelined) {
  EXPECT_EQ(Send("PING\r\nECHO \"a b\"\r\n"), "+PONG\r\n$3\r\na b\r\n");
  EXPECT_EQ(Send("*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$1\r\nz\r\n"), "+PONG\r\n$1\r\nz\r\n");
}

TEST_F(ConnectionFamilyTest, ProtocolErrorClosesConnection) {
  EXPECT_EQ(Send("*1\r\n+PING\r\n", "bad"), "-ERR Protocol error: expected '$', got '+'\r\n");
  EXPECT_TRUE(Closed("bad"));
  EXPECT_EQ(Send("*x\r\n", "bad2"), "-ERR Protocol error: invalid multibulk length\r\n");
  EXPECT_EQ(Send("\"unbalanced\r\n", "bad3"),
            "-ERR Protocol error: unbalanced quotes in request\r\n");
}

}  // namespace
}  // namespace keyward::test
