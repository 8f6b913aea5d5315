#include "tests/support/command_test.h"

namespace keyward::test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class ClientFamilyTest : public CommandTest {};

TEST_F(ClientFamilyTest, IdAndName) {
  Resp id = Run({"client", "id"});
  ASSERT_EQ(id.type, Resp::Type::kInt);
  EXPECT_EQ(id.integer, static_cast<int64_t>(client().id()));
  EXPECT_TRUE(Run({"client", "getname"}).is_null());
  EXPECT_EQ(Run({"client", "setname", "worker-1"}), "OK");
  EXPECT_EQ(Run({"client", "getname"}), "worker-1");
  EXPECT_THAT(Run({"client", "setname", "a b"}),
              ErrorIs("ERR Client names cannot contain spaces, newlines or special characters."));
  EXPECT_EQ(Run({"client", "setname", ""}), "OK");
  EXPECT_TRUE(Run({"client", "getname"}).is_null());
  EXPECT_THAT(Run({"client", "foo"}), ErrorIs("ERR unknown subcommand 'foo'. Try CLIENT HELP."));
  EXPECT_THAT(Run({"client", "setname"}),
              ErrorIs("ERR wrong number of arguments for 'client|setname' command"));
}

TEST_F(ClientFamilyTest, ListAndInfo) {
  Run({"client", "setname", "me"});
  Run("other", {"select", "2"});
  Resp list = Run({"client", "list"});
  ASSERT_EQ(list.type, Resp::Type::kBulk);
  EXPECT_THAT(list.str, HasSubstr("name=me "));
  EXPECT_THAT(list.str, HasSubstr("db=2 "));
  EXPECT_THAT(list.str, HasSubstr("cmd=client|list "));
  Resp info = Run({"client", "info"});
  EXPECT_THAT(info.str, StartsWith("id=" + std::to_string(client().id()) + " addr="));
  EXPECT_THAT(info.str, HasSubstr(" resp=2\n"));
  std::string other_id = std::to_string(client("other").id());
  Resp only = Run({"client", "list", "id", other_id});
  EXPECT_THAT(only.str, StartsWith("id=" + other_id + " "));
  EXPECT_THAT(Run({"client", "list", "id", "x"}), ErrorIs("ERR Invalid client ID"));
  EXPECT_EQ(Run({"client", "list", "id", "0"}), "");
  EXPECT_THAT(Run({"client", "list", "type", "bad"}), ErrorIs("ERR Unknown client type 'bad'"));
  EXPECT_THAT(Run({"client", "list", "foo"}), ErrorIs("ERR syntax error"));
}

TEST_F(ClientFamilyTest, Kill) {
  Run("victim", {"ping"});
  std::string id = std::to_string(client("victim").id());
  EXPECT_EQ(Run({"client", "kill", "id", id}), 1);
  EXPECT_TRUE(Closed("victim"));
  EXPECT_EQ(Run({"client", "kill", "id", "9999"}), 0);
  EXPECT_THAT(Run({"client", "kill", "1.2.3.4:5"}), ErrorIs("ERR No such client"));
  EXPECT_THAT(Run({"client", "kill", "foo", "bar"}), ErrorIs("ERR syntax error"));
  EXPECT_THAT(Run({"client", "kill", "id", "0"}),
              ErrorIs("ERR client-id should be greater than 0"));
  // SKIPME yes (default) spares the caller; SKIPME no kills it after the reply.
  EXPECT_EQ(Run({"client", "kill", "addr", "127.0.0.1:50000"}), 0);
  EXPECT_EQ(Run("self", {"client", "kill", "addr", "127.0.0.1:50000", "skipme", "no"}), 2);
  EXPECT_TRUE(Closed("self"));
}

TEST_F(ClientFamilyTest, PauseWritesHoldsWritersUntilUnpause) {
  EXPECT_EQ(Run({"client", "pause", "100000", "write"}), "OK");
  EXPECT_EQ(Run("reader", {"get", "k"}).type, Resp::Type::kNull);  // reads go on
  EXPECT_EQ(RunRaw({"set", "k", "v"}, "writer"), "");              // the write is held
  EXPECT_TRUE(client("writer").has(Client::kPaused));
  EXPECT_EQ(Run({"client", "unpause"}), "OK");
  EXPECT_EQ(Send("", "writer"), "+OK\r\n");  // released by UNPAUSE
  EXPECT_EQ(Run({"get", "k"}), "v");
}

TEST_F(ClientFamilyTest, PauseEndsWithItsTimeout) {
  EXPECT_EQ(Run({"client", "pause", "50"}), "OK");
  EXPECT_EQ(RunRaw({"ping"}, "held"), "");
  AdvanceMs(60);
  server().RunCron();
  EXPECT_EQ(Send("", "held"), "+PONG\r\n");
}

TEST_F(ClientFamilyTest, PauseErrors) {
  EXPECT_THAT(Run({"client", "pause", "x"}),
              ErrorIs("ERR timeout is not an integer or out of range"));
  EXPECT_THAT(Run({"client", "pause", "-1"}), ErrorIs("ERR timeout is negative"));
  EXPECT_THAT(Run({"client", "pause", "10", "foo"}),
              ErrorIs("ERR CLIENT PAUSE mode must be WRITE or ALL"));
}

TEST_F(ClientFamilyTest, ReplyModes) {
  EXPECT_EQ(RunRaw({"client", "reply", "off"}), "");
  EXPECT_EQ(RunRaw({"set", "a", "1"}), "");
  EXPECT_EQ(RunRaw({"client", "reply", "on"}), "+OK\r\n");
  EXPECT_EQ(RunRaw({"client", "reply", "skip"}), "");
  EXPECT_EQ(RunRaw({"get", "a"}), "");
  EXPECT_EQ(RunRaw({"get", "a"}), "$1\r\n1\r\n");
  EXPECT_THAT(Run({"client", "reply", "maybe"}), ErrorIs("ERR syntax error"));
}

TEST_F(ClientFamilyTest, NoEvict) {
  EXPECT_EQ(Run({"client", "no-evict", "on"}), "OK");
  EXPECT_TRUE(client().has(Client::kNoEvict));
  EXPECT_EQ(Run({"client", "no-evict", "off"}), "OK");
  EXPECT_THAT(Run({"client", "no-evict", "maybe"}), ErrorIs("ERR syntax error"));
}

TEST_F(ClientFamilyTest, Help) {
  Resp help = Run({"client", "help"});
  ASSERT_TRUE(help.is_array());
  EXPECT_EQ(help[0], "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
}

}  // namespace
}  // namespace keyward::test
