// The synchronous client against real servers: round trips, typed access, pipelines,
// transactions, connection settings, timeouts, and servers that die, pause or lie.
#include <signal.h>

#include "client_test_support.h"

namespace keyward::testing {
namespace {

using client::Client;
using client::ClientError;
using client::Reply;
using client::ReplyType;
using client::Request;

class SyncClientTest : public ServerTest {};

TEST_P(SyncClientTest, RoundTripsAndTypedAccess) {
  Client client(Options());
  ASSERT_FALSE(client.Connect());
  EXPECT_EQ(client.protocol(), 3);
  ASSERT_TRUE(client.Command("SET", "counter", 41));
  auto incremented = client.Command("INCR", "counter");
  ASSERT_TRUE(incremented);
  EXPECT_EQ(incremented->as_integer().value(), 42);
  EXPECT_EQ(client.Command("GET", "counter")->as_string().value(), "42");
  // A missing key is a null reply, and typed access says so rather than returning garbage.
  auto missing = client.Command("GET", "no-such-key");
  ASSERT_TRUE(missing);
  EXPECT_TRUE(missing->is_null());
  EXPECT_EQ(missing->as_string().error(), ClientError::kNullReply);
  // A server error is a reply, not a transport failure.
  auto refused = client.Command("INCR", "no-such-key", "extra");
  ASSERT_TRUE(refused);
  ASSERT_TRUE(refused->is_error());
  EXPECT_EQ(refused->as_error().value(), "ERR wrong number of arguments for 'incr' command");
  EXPECT_EQ(refused->as_integer().error(), ClientError::kServerError);
  // Binary-safe values survive the trip.
  const std::string binary("a\0b\r\nc", 6);
  ASSERT_TRUE(client.Command("SET", "bin", binary));
  EXPECT_EQ(client.Command("GET", "bin")->as_string().value(), binary);
}

TEST_P(SyncClientTest, PipelineRepliesArriveInOrder) {
  Client client(Options());
  Request pipeline;
  for (int i = 0; i < 500; ++i) pipeline.Push("SET", "key:" + std::to_string(i), i);
  for (int i = 0; i < 500; ++i) pipeline.Push("GET", "key:" + std::to_string(i));
  auto replies = client.Exec(std::move(pipeline));
  ASSERT_TRUE(replies);
  ASSERT_EQ(replies->size(), 1000u);
  for (int i = 0; i < 500; ++i) {
    EXPECT_EQ((*replies)[i].as_string().value(), "OK");
    EXPECT_EQ((*replies)[500 + i].as_string().value(), std::to_string(i));
  }
}

TEST_P(SyncClientTest, TransactionReturnsExecReply) {
  Client client(Options());
  Request commands;
  commands.Push("SET", "tx", 1);
  commands.Push("INCRBY", "tx", 9);
  auto exec = client.Transaction(commands);
  ASSERT_TRUE(exec);
  auto results = exec->as_array();
  ASSERT_TRUE(results);
  ASSERT_EQ(results->size(), 2u);
  EXPECT_EQ((*results)[1].as_integer().value(), 10);
  // A command refused while queueing aborts the whole transaction.
  Request bad;
  bad.Push("SET", "tx", 2);
  bad.Push("INCRBY", "tx");
  auto aborted = client.Transaction(bad);
  ASSERT_TRUE(aborted);
  EXPECT_TRUE(aborted->is_error());
  EXPECT_EQ(client.Command("GET", "tx")->as_string().value(), "10");
}

TEST_P(SyncClientTest, UrlSelectsDatabaseAndNamesTheConnection) {
  auto options = client::OptionsFromUrl(server().url() + "/3");
  ASSERT_TRUE(options);
  options->connection.client_name = "sync-test";
  Client client(*options);
  ASSERT_TRUE(client.Command("SET", "in-db-3", "yes"));
  auto info = client.Command("CLIENT", "INFO");
  ASSERT_TRUE(info);
  std::string text(info->as_string().value());
  EXPECT_NE(text.find(" db=3 "), std::string::npos) << text;
  EXPECT_NE(text.find(" name=sync-test "), std::string::npos) << text;
  // db 0 does not see it (checked over a separate raw connection).
  EXPECT_TRUE(server().RawCommand({"GET", "in-db-3"}).is_null());
}

TEST_P(SyncClientTest, SourceAddressIsTheConnectionsLocalAddress) {
  // (The fault-injection harness places clients on sides of a partition by their address.)
  // (Protected mode serves 127.0.0.1 only.)
  server().RawCommand({"CONFIG", "SET", "protected-mode", "no"});
  auto options = Options();
  options.connection.source_address = "127.0.0.9";
  Client client(options);
  auto info = client.Command("CLIENT", "INFO");
  ASSERT_TRUE(info);
  std::string text(info->as_string().value());
  EXPECT_NE(text.find(" addr=127.0.0.9:"), std::string::npos) << text;
  // An address this machine does not have fails the connection instead of being ignored.
  options.connection.source_address = "192.0.2.1";
  Client unusable(options);
  EXPECT_TRUE(unusable.Connect());
  options.connection.source_address = "not an address";
  Client garbled(options);
  EXPECT_TRUE(garbled.Connect());
}

TEST_P(SyncClientTest, UnixSocket) {
  auto options = client::OptionsFromUrl("unix://" + server().unix_path());
  ASSERT_TRUE(options);
  Client client(*options);
  EXPECT_EQ(client.Command("PING")->as_string().value(), "PONG");
}

TEST_P(SyncClientTest, TimedOutBlpopDoesNotTakeTheNextJob) {
  Client client(Options());
  ASSERT_FALSE(client.Connect());
  // BLPOP blocks until a push; the call gives up after 50 ms ...
  Request blpop;
  blpop.Push("BLPOP", "queue", 0);
  auto blocked = client.Exec(std::move(blpop), std::chrono::milliseconds(50));
  ASSERT_FALSE(blocked);
  EXPECT_EQ(blocked.error(), ClientError::kTimeout);
  // ... and its connection is closed with it, so the server stops waiting on its behalf ...
  WaitFor([&] { return InfoField(server(), "blocked_clients") == "0"; }, "BLPOP to be forgotten");
  // ... and a job pushed afterwards stays in the queue instead of vanishing into a reply that
  // nobody reads.
  server().RawCommand({"RPUSH", "queue", "job"});
  EXPECT_EQ(client.Command("LLEN", "queue")->as_integer().value(), 1);
  EXPECT_EQ(client.Command("ECHO", "after")->as_string().value(), "after");
}

TEST_P(SyncClientTest, TimeoutOnAPausedServerThenRecovery) {
  Client client(Options());
  ASSERT_FALSE(client.Connect());
  server().Signal(SIGSTOP);
  auto stalled = client.Exec(
      [] {
        Request r;
        r.Push("PING");
        return r;
      }(),
      std::chrono::milliseconds(100));
  ASSERT_FALSE(stalled);
  EXPECT_EQ(stalled.error(), ClientError::kTimeout);
  server().Signal(SIGCONT);
  // The server answers the stalled PING (dropped) and then this one.
  EXPECT_EQ(client.Command("ECHO", "back")->as_string().value(), "back");
}

TEST_P(SyncClientTest, ReconnectsAfterTheServerRestarts) {
  Client client(Options());
  ASSERT_TRUE(client.Command("SET", "k", "v"));
  server().Kill();
  auto down = client.Command("GET", "k");
  ASSERT_FALSE(down);  // refused, or lost: either way an error, not a hang
  server().Restart();
  auto again = client.Command("PING");
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(again->as_string().value(), "PONG");
}

TEST_P(SyncClientTest, ConnectionRefusedIsASystemError) {
  auto options = Options();
  options.connection.port = FreePort();
  Client client(options);
  std::error_code error = client.Connect();
  EXPECT_EQ(error, std::errc::connection_refused) << error.message();
  auto command = client.Command("PING");
  ASSERT_FALSE(command);
  EXPECT_EQ(command.error(), std::errc::connection_refused);
}

KEYWARD_INSTANTIATE_SERVER_TEST(SyncClientTest);

class AuthTest : public ServerTest {
 protected:
  std::vector<std::string> ServerArgs() override { return {"--requirepass", "s3cret"}; }
};

TEST_P(AuthTest, PasswordFromUrl) {
  auto options =
      client::OptionsFromUrl("redis://:s3cret@127.0.0.1:" + std::to_string(server().port()));
  ASSERT_TRUE(options);
  Client client(*options);
  ASSERT_FALSE(client.Connect());
  EXPECT_EQ(client.Command("PING")->as_string().value(), "PONG");
}

TEST_P(AuthTest, WrongPasswordIsAuthFailed) {
  auto options = Options();
  options.connection.password = "wrong";
  Client client(options);
  EXPECT_EQ(client.Connect(), ClientError::kAuthFailed);
  auto command = client.Command("PING");
  ASSERT_FALSE(command);
  EXPECT_EQ(command.error(), ClientError::kAuthFailed);
}

KEYWARD_INSTANTIATE_SERVER_TEST(AuthTest);

}  // namespace
}  // namespace keyward::testing
