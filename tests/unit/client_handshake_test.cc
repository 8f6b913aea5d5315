// The connection set-up state machine, without sockets: every written byte is compared with what
// the request encoder makes of the expected commands, and replies are either hand-built or parsed
// from the bytes Redis 7.0.15 / Redis 5 actually send.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "keyward/client/config.h"
#include "keyward/client/error.h"
#include "keyward/client/handshake.h"
#include "keyward/client/reply.h"
#include "keyward/client/reply_parser.h"
#include "keyward/client/request.h"

namespace keyward::client {
namespace {

using Action = Handshake::Action;

// The bytes of a pipeline of commands, each given as its words.
std::string Wire(std::initializer_list<std::vector<std::string>> commands) {
  Request req;
  for (const auto& words : commands) {
    req.PushRange(words.front(), std::vector<std::string>(words.begin() + 1, words.end()));
  }
  return std::string(req.payload());
}

// One complete reply from raw RESP bytes.
Reply Parse(std::string_view bytes) {
  ReplyParser parser;
  parser.Feed(bytes);
  auto next = parser.Next();
  EXPECT_TRUE(next && *next) << bytes;
  EXPECT_EQ(parser.buffered(), 0u) << bytes;
  return next && *next ? std::move(**next) : Reply();
}

Reply Ok() { return Reply::SimpleString("OK"); }

// What Redis 7.0.15 answers HELLO 3 with, on the wire.
constexpr std::string_view kRedisHello =
    "%7\r\n"
    "$6\r\nserver\r\n$5\r\nredis\r\n"
    "$7\r\nversion\r\n$6\r\n7.0.15\r\n"
    "$5\r\nproto\r\n:3\r\n"
    "$2\r\nid\r\n:42\r\n"
    "$4\r\nmode\r\n$10\r\nstandalone\r\n"
    "$4\r\nrole\r\n$6\r\nmaster\r\n"
    "$7\r\nmodules\r\n*0\r\n";

// Redis 5 (no HELLO) and Redis 7 wording of the unknown-command error.
constexpr std::string_view kUnknownHello5 =
    "-ERR unknown command `HELLO`, with args beginning with: `3`, \r\n";
constexpr std::string_view kUnknownHello7 =
    "-ERR unknown command 'HELLO', with args beginning with: '3' \r\n";

ConnectionConfig Config(std::string user, std::string password, std::string name, int db) {
  ConnectionConfig c;
  c.user = std::move(user);
  c.password = std::move(password);
  c.client_name = std::move(name);
  c.db = db;
  return c;
}

void ExpectFailed(const Handshake& hs, ClientError error, std::string_view server_error) {
  EXPECT_TRUE(hs.failed());
  EXPECT_FALSE(hs.done());
  EXPECT_EQ(hs.error(), make_error_code(error)) << hs.error().message();
  EXPECT_EQ(hs.server_error(), server_error);
  EXPECT_FALSE(hs.error_detail().empty());
}

TEST(ClientHandshakeTest, Resp3Plain) {
  Handshake hs(ConnectionConfig{});
  EXPECT_EQ(hs.protocol(), 0);
  EXPECT_EQ(hs.Start(), Wire({{"HELLO", "3"}}));
  EXPECT_EQ(hs.protocol(), 0);
  Handshake::Step step = hs.OnReply(Parse(kRedisHello));
  EXPECT_EQ(step.action, Action::kDone);
  EXPECT_EQ(step.bytes, "");
  EXPECT_TRUE(hs.done());
  EXPECT_FALSE(hs.failed());
  EXPECT_FALSE(hs.error());
  EXPECT_EQ(hs.protocol(), 3);
  ASSERT_TRUE(hs.server_hello());
  EXPECT_EQ(hs.server_hello()->server, "redis");
  EXPECT_EQ(hs.server_hello()->version, "7.0.15");
  EXPECT_EQ(hs.server_hello()->id, 42);
  EXPECT_EQ(hs.server_hello()->mode, "standalone");
  EXPECT_EQ(hs.server_hello()->role, "master");
}

TEST(ClientHandshakeTest, Resp3AuthNameAndDb) {
  Handshake hs(Config("alice", "s3cret", "worker-1", 2));
  EXPECT_EQ(hs.Start(), Wire({{"HELLO", "3", "AUTH", "alice", "s3cret", "SETNAME", "worker-1"}}));
  Handshake::Step step = hs.OnReply(Parse(kRedisHello));
  EXPECT_EQ(step.action, Action::kWrite);
  EXPECT_EQ(step.bytes, Wire({{"SELECT", "2"}}));
  EXPECT_FALSE(hs.done());
  EXPECT_EQ(hs.protocol(), 3);
  step = hs.OnReply(Parse("+OK\r\n"));
  EXPECT_EQ(step.action, Action::kDone);
  EXPECT_TRUE(hs.done());
  EXPECT_EQ(hs.server_hello()->id, 42);
}

TEST(ClientHandshakeTest, Resp3PasswordOnlyAuthenticatesDefaultUser) {
  Handshake hs(Config("", "pw", "", 0));
  EXPECT_EQ(hs.Start(), Wire({{"HELLO", "3", "AUTH", "default", "pw"}}));
  EXPECT_EQ(hs.OnReply(Parse(kRedisHello)).action, Action::kDone);
}

TEST(ClientHandshakeTest, Resp3NameOnly) {
  Handshake hs(Config("", "", "svc", 0));
  EXPECT_EQ(hs.Start(), Wire({{"HELLO", "3", "SETNAME", "svc"}}));
  EXPECT_EQ(hs.OnReply(Parse(kRedisHello)).action, Action::kDone);
  EXPECT_EQ(hs.protocol(), 3);
}

TEST(ClientHandshakeTest, Resp3DbOnly) {
  Handshake hs(Config("", "", "", 15));
  EXPECT_EQ(hs.Start(), Wire({{"HELLO", "3"}}));
  Handshake::Step step = hs.OnReply(Parse(kRedisHello));
  ASSERT_EQ(step.action, Action::kWrite);
  EXPECT_EQ(step.bytes, Wire({{"SELECT", "15"}}));
  EXPECT_EQ(hs.OnReply(Ok()).action, Action::kDone);
}

TEST(ClientHandshakeTest, HelloFieldsAreOptional) {
  // A server may leave fields out; what is there is read, the rest stays empty.
  Handshake hs(ConnectionConfig{});
  hs.Start();
  Reply hello =
      Reply::Aggregate(ReplyType::kMap, {Reply::BulkString("server"), Reply::BulkString("keyward"),
                                         Reply::BulkString("id"), Reply::Integer(7)});
  EXPECT_EQ(hs.OnReply(hello).action, Action::kDone);
  EXPECT_EQ(hs.protocol(), 3);
  EXPECT_EQ(hs.server_hello()->server, "keyward");
  EXPECT_EQ(hs.server_hello()->version, "");
  EXPECT_EQ(hs.server_hello()->id, 7);
}

TEST(ClientHandshakeTest, HelloReportingProto2IsBelieved) {
  // RESP2's form of the map (a flat array), with proto 2: what a server that ignored the 3 says.
  Handshake hs(ConnectionConfig{});
  hs.Start();
  Reply hello = Parse("*4\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:2\r\n");
  EXPECT_EQ(hs.OnReply(hello).action, Action::kDone);
  EXPECT_EQ(hs.protocol(), 2);
  EXPECT_EQ(hs.server_hello()->server, "redis");
}

TEST(ClientHandshakeTest, Resp2FallbackWithNothingConfigured) {
  for (std::string_view error : {kUnknownHello5, kUnknownHello7}) {
    Handshake hs(ConnectionConfig{});
    hs.Start();
    Handshake::Step step = hs.OnReply(Parse(error));
    EXPECT_EQ(step.action, Action::kDone) << error;
    EXPECT_EQ(step.bytes, "");
    EXPECT_EQ(hs.protocol(), 2);
    EXPECT_FALSE(hs.server_hello());
    EXPECT_FALSE(hs.error());
  }
}

TEST(ClientHandshakeTest, Resp2FallbackPipelinesAuthNameAndDb) {
  Handshake hs(Config("", "secret", "worker-1", 3));
  EXPECT_EQ(hs.Start(), Wire({{"HELLO", "3", "AUTH", "default", "secret", "SETNAME", "worker-1"}}));
  Handshake::Step step = hs.OnReply(Parse(kUnknownHello5));
  ASSERT_EQ(step.action, Action::kWrite);
  // One write; a password-only AUTH is the one-argument form Redis < 6 understands.
  EXPECT_EQ(step.bytes,
            Wire({{"AUTH", "secret"}, {"CLIENT", "SETNAME", "worker-1"}, {"SELECT", "3"}}));
  EXPECT_EQ(hs.protocol(), 2);
  EXPECT_EQ(hs.OnReply(Parse("+OK\r\n")).action, Action::kWaitReply);
  EXPECT_EQ(hs.OnReply(Parse("+OK\r\n")).action, Action::kWaitReply);
  EXPECT_FALSE(hs.done());
  EXPECT_EQ(hs.OnReply(Parse("+OK\r\n")).action, Action::kDone);
  EXPECT_TRUE(hs.done());
  EXPECT_FALSE(hs.server_hello());
}

TEST(ClientHandshakeTest, Resp2FallbackAuthWithUser) {
  Handshake hs(Config("alice", "pw", "", 0));
  hs.Start();
  Handshake::Step step = hs.OnReply(Parse(kUnknownHello7));
  ASSERT_EQ(step.action, Action::kWrite);
  EXPECT_EQ(step.bytes, Wire({{"AUTH", "alice", "pw"}}));
  EXPECT_EQ(hs.OnReply(Ok()).action, Action::kDone);
  EXPECT_EQ(hs.protocol(), 2);
}

TEST(ClientHandshakeTest, Resp2FallbackDefaultUserUsesOneArgumentAuth) {
  Handshake hs(Config("default", "pw", "", 0));
  hs.Start();
  EXPECT_EQ(hs.OnReply(Parse(kUnknownHello7)).bytes, Wire({{"AUTH", "pw"}}));
}

TEST(ClientHandshakeTest, Resp2FallbackNameOnly) {
  Handshake hs(Config("", "", "svc", 0));
  hs.Start();
  Handshake::Step step = hs.OnReply(Parse(kUnknownHello5));
  ASSERT_EQ(step.action, Action::kWrite);
  EXPECT_EQ(step.bytes, Wire({{"CLIENT", "SETNAME", "svc"}}));
  EXPECT_EQ(hs.OnReply(Ok()).action, Action::kDone);
}

TEST(ClientHandshakeTest, Resp2FallbackOnNoproto) {
  Handshake hs(Config("", "", "", 4));
  hs.Start();
  Handshake::Step step = hs.OnReply(Parse("-NOPROTO unsupported protocol version\r\n"));
  ASSERT_EQ(step.action, Action::kWrite);
  EXPECT_EQ(step.bytes, Wire({{"SELECT", "4"}}));
  EXPECT_EQ(hs.protocol(), 2);
  EXPECT_EQ(hs.OnReply(Ok()).action, Action::kDone);
}

TEST(ClientHandshakeTest, WrongPasswordResp3) {
  Handshake hs(Config("alice", "wrong", "svc", 1));
  hs.Start();
  Handshake::Step step =
      hs.OnReply(Parse("-WRONGPASS invalid username-password pair or user is disabled.\r\n"));
  EXPECT_EQ(step.action, Action::kFailed);
  ExpectFailed(hs, ClientError::kAuthFailed,
               "WRONGPASS invalid username-password pair or user is disabled.");
  EXPECT_EQ(hs.protocol(), 0);
}

TEST(ClientHandshakeTest, WrongPasswordResp2) {
  // Redis < 6 says "ERR invalid password"; a RESP2-only proxy in front of Redis 6 says WRONGPASS.
  for (std::string_view error :
       {"-ERR invalid password\r\n",
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"}) {
    Handshake hs(Config("", "wrong", "svc", 2));
    hs.Start();
    ASSERT_EQ(hs.OnReply(Parse(kUnknownHello5)).action, Action::kWrite);
    EXPECT_EQ(hs.OnReply(Parse(error)).action, Action::kFailed);
    std::string text(error.substr(1, error.size() - 3));
    ExpectFailed(hs, ClientError::kAuthFailed, text);
    EXPECT_EQ(hs.protocol(), 2);
    // The pipelined SETNAME and SELECT answer NOAUTH after it; the machine stays failed.
    EXPECT_EQ(hs.OnReply(Parse("-NOAUTH Authentication required.\r\n")).action, Action::kFailed);
    EXPECT_EQ(hs.OnReply(Parse("-NOAUTH Authentication required.\r\n")).action, Action::kFailed);
    ExpectFailed(hs, ClientError::kAuthFailed, text);
  }
}

TEST(ClientHandshakeTest, NoAuthOnHello) {
  // No credentials configured, but the server requires them (Redis 7.0.15's exact text).
  constexpr std::string_view kText =
      "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "
      "AUTH <user> <pass> option can be used to authenticate the client and select the RESP "
      "protocol version at the same time";
  Handshake hs(ConnectionConfig{});
  hs.Start();
  EXPECT_EQ(hs.OnReply(Reply::Error(std::string(kText))).action, Action::kFailed);
  ExpectFailed(hs, ClientError::kAuthFailed, kText);
}

TEST(ClientHandshakeTest, NoAuthOnResp2Select) {
  Handshake hs(Config("", "", "", 1));
  hs.Start();
  ASSERT_EQ(hs.OnReply(Parse(kUnknownHello5)).action, Action::kWrite);
  EXPECT_EQ(hs.OnReply(Parse("-NOAUTH Authentication required.\r\n")).action, Action::kFailed);
  ExpectFailed(hs, ClientError::kAuthFailed, "NOAUTH Authentication required.");
}

TEST(ClientHandshakeTest, OtherServerErrors) {
  {
    Handshake hs(Config("", "", "bad name", 0));
    hs.Start();
    std::string text = "ERR Client names cannot contain spaces, newlines or special characters.";
    EXPECT_EQ(hs.OnReply(Reply::Error(text)).action, Action::kFailed);
    ExpectFailed(hs, ClientError::kServerError, text);
  }
  {
    Handshake hs(Config("", "", "", 99));
    hs.Start();
    ASSERT_EQ(hs.OnReply(Parse(kRedisHello)).action, Action::kWrite);
    EXPECT_EQ(hs.OnReply(Parse("-ERR DB index is out of range\r\n")).action, Action::kFailed);
    ExpectFailed(hs, ClientError::kServerError, "ERR DB index is out of range");
    EXPECT_EQ(hs.protocol(), 3);  // HELLO had succeeded
  }
  {
    // An ACL refusal is not a credentials failure: the login worked, the command is denied.
    Handshake hs(Config("", "", "", 1));
    hs.Start();
    ASSERT_EQ(hs.OnReply(Parse(kRedisHello)).action, Action::kWrite);
    std::string text = "NOPERM this user has no permissions to run the 'select' command";
    EXPECT_EQ(hs.OnReply(Reply::Error(text)).action, Action::kFailed);
    ExpectFailed(hs, ClientError::kServerError, text);
  }
  {
    Handshake hs(ConnectionConfig{});
    hs.Start();
    EXPECT_EQ(hs.OnReply(Parse("-LOADING Redis is loading the dataset in memory\r\n")).action,
              Action::kFailed);
    ExpectFailed(hs, ClientError::kServerError, "LOADING Redis is loading the dataset in memory");
  }
}

TEST(ClientHandshakeTest, UnexpectedReplyTypes) {
  {
    Handshake hs(ConnectionConfig{});
    hs.Start();
    EXPECT_EQ(hs.OnReply(Reply::Integer(3)).action, Action::kFailed);
    ExpectFailed(hs, ClientError::kWrongReplyType, "");
  }
  {
    Handshake hs(ConnectionConfig{});
    hs.Start();
    EXPECT_EQ(hs.OnReply(Ok()).action, Action::kFailed);  // HELLO answers a map, never +OK
    ExpectFailed(hs, ClientError::kWrongReplyType, "");
  }
  {
    Handshake hs(ConnectionConfig{});
    hs.Start();
    EXPECT_EQ(hs.OnReply(Parse("*3\r\n:1\r\n:2\r\n:3\r\n")).action, Action::kFailed);  // odd
    ExpectFailed(hs, ClientError::kWrongReplyType, "");
  }
  {
    Handshake hs(Config("", "", "", 1));
    hs.Start();
    ASSERT_EQ(hs.OnReply(Parse(kRedisHello)).action, Action::kWrite);
    EXPECT_EQ(hs.OnReply(Reply::BulkString("OK")).action, Action::kFailed);  // not +OK
    ExpectFailed(hs, ClientError::kWrongReplyType, "");
  }
  {
    Handshake hs(Config("", "pw", "", 0));
    hs.Start();
    ASSERT_EQ(hs.OnReply(Parse(kUnknownHello5)).action, Action::kWrite);
    EXPECT_EQ(hs.OnReply(Reply::SimpleString("QUEUED")).action, Action::kFailed);
    ExpectFailed(hs, ClientError::kWrongReplyType, "");
  }
  {
    Handshake hs(Config("", "", "svc", 0));
    hs.Start();
    ASSERT_EQ(hs.OnReply(Parse(kUnknownHello5)).action, Action::kWrite);
    EXPECT_EQ(hs.OnReply(Reply::Null()).action, Action::kFailed);
    ExpectFailed(hs, ClientError::kWrongReplyType, "");
  }
}

TEST(ClientHandshakeTest, ReplyWhenNoneIsAwaited) {
  {
    Handshake hs(ConnectionConfig{});
    EXPECT_EQ(hs.OnReply(Ok()).action, Action::kFailed);  // before Start()
    ExpectFailed(hs, ClientError::kProtocolError, "");
  }
  {
    Handshake hs(ConnectionConfig{});
    hs.Start();
    ASSERT_EQ(hs.OnReply(Parse(kRedisHello)).action, Action::kDone);
    EXPECT_EQ(hs.OnReply(Ok()).action, Action::kFailed);  // after kDone
    ExpectFailed(hs, ClientError::kProtocolError, "");
  }
}

TEST(ClientHandshakeTest, StartRestartsFromScratch) {
  Handshake hs(Config("", "pw", "", 1));
  hs.Start();
  ASSERT_EQ(hs.OnReply(Parse("-WRONGPASS nope\r\n")).action, Action::kFailed);
  EXPECT_EQ(hs.Start(), Wire({{"HELLO", "3", "AUTH", "default", "pw"}}));
  EXPECT_FALSE(hs.failed());
  EXPECT_FALSE(hs.error());
  EXPECT_EQ(hs.server_error(), "");
  EXPECT_EQ(hs.protocol(), 0);
  ASSERT_EQ(hs.OnReply(Parse(kRedisHello)).action, Action::kWrite);
  EXPECT_EQ(hs.OnReply(Ok()).action, Action::kDone);
  EXPECT_EQ(hs.protocol(), 3);
}

TEST(ClientHandshakeTest, AuthFailedErrorCode) {
  std::error_code ec = ClientError::kAuthFailed;
  EXPECT_EQ(&ec.category(), &ClientCategory());
  EXPECT_EQ(ec.message(), "authentication failed");
  EXPECT_NE(ec, make_error_code(ClientError::kServerError));
}

}  // namespace
}  // namespace keyward::client
