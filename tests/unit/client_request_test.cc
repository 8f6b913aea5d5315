// The client's request encoder. Every test checks the exact bytes, and a small hand-written
// decoder (not the server's request parser: the client does not depend on server/) reads them
// back, so a wrong length or count cannot hide behind a matching prefix.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <deque>
#include <forward_list>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "keyward/client/request.h"

namespace keyward::client {
namespace {

using Command = std::vector<std::string>;

// Decodes a sequence of multibulks strictly; nullopt on any deviation from the RESP grammar or
// leftover bytes.
std::optional<std::vector<Command>> Decode(std::string_view in) {
  auto read_number = [&in](char marker) -> std::optional<size_t> {
    if (in.empty() || in.front() != marker) return std::nullopt;
    size_t end = in.find("\r\n");
    if (end == std::string_view::npos || end == 1) return std::nullopt;
    size_t n = 0;
    for (char c : in.substr(1, end - 1)) {
      if (c < '0' || c > '9') return std::nullopt;
      n = n * 10 + static_cast<size_t>(c - '0');
    }
    in.remove_prefix(end + 2);
    return n;
  };
  std::vector<Command> out;
  while (!in.empty()) {
    auto count = read_number('*');
    if (!count || *count == 0) return std::nullopt;
    Command cmd;
    for (size_t i = 0; i < *count; ++i) {
      auto len = read_number('$');
      if (!len || in.size() < *len + 2 || in.substr(*len, 2) != "\r\n") return std::nullopt;
      cmd.emplace_back(in.substr(0, *len));
      in.remove_prefix(*len + 2);
    }
    out.push_back(std::move(cmd));
  }
  return out;
}

// The single command in `req`, decoded.
Command Only(const Request& req) {
  auto commands = Decode(req.payload());
  if (!commands || commands->size() != 1) return {"<undecodable>"};
  return commands->front();
}

TEST(ClientRequestTest, EmptyRequest) {
  Request req;
  EXPECT_TRUE(req.empty());
  EXPECT_EQ(req.size(), 0u);
  EXPECT_EQ(req.payload(), "");
}

TEST(ClientRequestTest, CommandAloneIsExact) {
  Request req;
  req.Push("PING");
  EXPECT_EQ(req.payload(), "*1\r\n$4\r\nPING\r\n");
  EXPECT_EQ(req.size(), 1u);
  EXPECT_FALSE(req.empty());
}

TEST(ClientRequestTest, MixedArgumentsAreExact) {
  Request req;
  std::string key = "key";
  req.Push("SET", key, 42, 1.5, std::string_view{"v"});
  EXPECT_EQ(req.payload(), "*5\r\n$3\r\nSET\r\n$3\r\nkey\r\n$2\r\n42\r\n$3\r\n1.5\r\n$1\r\nv\r\n");
  EXPECT_EQ(Only(req), (Command{"SET", "key", "42", "1.5", "v"}));
}

TEST(ClientRequestTest, StringLikeArguments) {
  Request req;
  const char* c_string = "cs";
  char array[] = "arr";
  std::string owned = "own";
  req.Push("ECHO", c_string, array, owned, std::string_view("view"), "lit");
  EXPECT_EQ(Only(req), (Command{"ECHO", "cs", "arr", "own", "view", "lit"}));
}

TEST(ClientRequestTest, BulkStringsAreBinarySafe) {
  Request req;
  std::string binary("a\0b\r\n", 5);
  req.Push("SET", binary, "");
  EXPECT_EQ(req.payload(), std::string("*3\r\n$3\r\nSET\r\n$5\r\na\0b\r\n\r\n$0\r\n\r\n", 30));
  EXPECT_EQ(Only(req), (Command{"SET", binary, ""}));
}

TEST(ClientRequestTest, IntegersOfEveryWidth) {
  Request req;
  req.Push("X", int8_t{-8}, uint8_t{200}, short{-300}, 7u, -1L, std::numeric_limits<int64_t>::min(),
           std::numeric_limits<uint64_t>::max(), 0);
  EXPECT_EQ(Only(req), (Command{"X", "-8", "200", "-300", "7", "-1", "-9223372036854775808",
                                "18446744073709551615", "0"}));
  Request exact;
  exact.Push("INCRBY", "n", -12);
  EXPECT_EQ(exact.payload(), "*3\r\n$6\r\nINCRBY\r\n$1\r\nn\r\n$3\r\n-12\r\n");
}

TEST(ClientRequestTest, DoublesUseShortestRoundTripText) {
  Request req;
  req.Push("X", 0.1, 1.0, -2.5, 1e300, 5e-324, 0.1 + 0.2, -0.0,
           std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(Only(req), (Command{"X", "0.1", "1", "-2.5", "1e+300", "5e-324", "0.30000000000000004",
                                "-0", "inf", "-inf"}));
}

TEST(ClientRequestTest, FloatsAreShortestAsFloats) {
  Request req;
  req.Push("X", 0.1f, 3.25f, 1.0L / 4);
  // 0.1f widened to double would print as 0.10000000149011612.
  EXPECT_EQ(Only(req), (Command{"X", "0.1", "3.25", "0.25"}));
}

TEST(ClientRequestTest, RangeArgumentsAreFlattened) {
  Request req;
  std::vector<std::string> keys{"a", "b", "c"};
  req.Push("DEL", keys);
  EXPECT_EQ(req.payload(), "*4\r\n$3\r\nDEL\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n");

  req.Clear();
  std::array<int, 2> numbers{1, 2};
  std::span<const int> span(numbers);
  req.Push("RPUSH", "list", span, "tail", std::vector<double>{0.5});
  EXPECT_EQ(Only(req), (Command{"RPUSH", "list", "1", "2", "tail", "0.5"}));
}

TEST(ClientRequestTest, EmptyRangeContributesNothing) {
  Request req;
  req.Push("DEL", std::vector<std::string>{});
  EXPECT_EQ(req.payload(), "*1\r\n$3\r\nDEL\r\n");
}

TEST(ClientRequestTest, PushRangeWithPairs) {
  Request req;
  std::vector<std::pair<std::string, int>> pairs{{"k1", 1}, {"k2", 2}};
  req.PushRange("MSET", pairs);
  EXPECT_EQ(req.payload(), "*5\r\n$4\r\nMSET\r\n$2\r\nk1\r\n$1\r\n1\r\n$2\r\nk2\r\n$1\r\n2\r\n");

  req.Clear();
  std::map<std::string, std::string> fields{{"f1", "v1"}, {"f2", "v2"}};
  req.PushRange("HSET", "h", fields);
  EXPECT_EQ(Only(req), (Command{"HSET", "h", "f1", "v1", "f2", "v2"}));
}

TEST(ClientRequestTest, PushRangeOfScalars) {
  Request req;
  std::deque<std::string_view> members{"x", "y"};
  req.PushRange("SADD", "s", members);
  req.PushRange("EXISTS", std::vector<const char*>{"a", "b"});
  auto commands = Decode(req.payload());
  ASSERT_TRUE(commands);
  EXPECT_EQ(*commands, (std::vector<Command>{{"SADD", "s", "x", "y"}, {"EXISTS", "a", "b"}}));
}

TEST(ClientRequestTest, UnsizedForwardRangeIsCountedCorrectly) {
  Request req;
  std::forward_list<std::string> keys{"a", "b", "c"};
  req.Push("DEL", keys);
  EXPECT_EQ(Only(req), (Command{"DEL", "a", "b", "c"}));
}

TEST(ClientRequestTest, PipelineCountsCommands) {
  Request req;
  req.Push("MULTI");
  req.Push("INCR", "n");
  req.Push("EXEC");
  EXPECT_EQ(req.size(), 3u);
  EXPECT_EQ(req.payload(),
            "*1\r\n$5\r\nMULTI\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n*1\r\n$4\r\nEXEC\r\n");
}

TEST(ClientRequestTest, LongArgumentLengthHasSeveralDigits) {
  Request req;
  std::string big(12345, 'x');
  req.Push("SET", "k", big);
  EXPECT_TRUE(req.payload().starts_with("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$12345\r\nxxx"));
  EXPECT_EQ(Only(req), (Command{"SET", "k", big}));
}

TEST(ClientRequestTest, ClearForgetsCommandsAndCanBeReused) {
  Request req;
  req.Reserve(1024);
  req.Push("GET", "a");
  req.Clear();
  EXPECT_TRUE(req.empty());
  EXPECT_EQ(req.payload(), "");
  req.Push("GET", "b");
  EXPECT_EQ(req.size(), 1u);
  EXPECT_EQ(req.payload(), "*2\r\n$3\r\nGET\r\n$1\r\nb\r\n");
}

TEST(ClientRequestTest, ExpectedRepliesSkipsTheSubscribeFamily) {
  Request req;
  EXPECT_EQ(req.expected_replies(), 0u);
  EXPECT_FALSE(req.has_subscribe());
  req.Push("GET", "k");
  req.Push("SET", "k", "v");
  EXPECT_EQ(req.expected_replies(), 2u);
  EXPECT_FALSE(req.has_subscribe());
  // Subscribe-family commands are answered by pushed confirmations, not replies.
  req.Push("SUBSCRIBE", "a", "b");
  req.Push("punsubscribe");
  req.Push("PING");
  EXPECT_EQ(req.size(), 5u);
  EXPECT_EQ(req.expected_replies(), 3u);
  EXPECT_TRUE(req.has_subscribe());
  // PUBLISH is an ordinary command with an ordinary reply.
  req.Push("PUBLISH", "a", "msg");
  EXPECT_EQ(req.expected_replies(), 4u);

  Request only;
  only.Push("SSUBSCRIBE", "s");
  only.Push("SUNSUBSCRIBE");
  EXPECT_EQ(only.size(), 2u);
  EXPECT_EQ(only.expected_replies(), 0u);
  EXPECT_TRUE(only.has_subscribe());

  req.Clear();
  EXPECT_EQ(req.expected_replies(), 0u);
  EXPECT_FALSE(req.has_subscribe());
}

TEST(ClientRequestTest, IsSubscribeFamilyIgnoresCase) {
  for (const char* name :
       {"SUBSCRIBE", "UNSUBSCRIBE", "PSUBSCRIBE", "PUNSUBSCRIBE", "SSUBSCRIBE", "SUNSUBSCRIBE",
        "subscribe", "unsubscribe", "psubscribe", "punsubscribe", "ssubscribe", "sunsubscribe",
        "SubScribe", "pUnSubscribe", "sUNSUBSCRIBE"}) {
    EXPECT_TRUE(Request::IsSubscribeFamily(name)) << name;
  }
}

TEST(ClientRequestTest, IsSubscribeFamilyRejectsNearMisses) {
  for (std::string_view name :
       {"", "SUBSCRIBES", "SUBSCRIB", "UNSUBSCRIB", "PUBLISH", "SPUBLISH", "PUBSUB", "XSUBSCRIBE",
        "QSUBSCRIBE", "PSUBSCRIBER", "SUBSCRIBE ", " SUBSCRIBE", "SUNSUBSCRIBEX", "S_UNSUBSCRIBE",
        "PSUNSUBSCRIBE", "GET", "RESET"}) {
    EXPECT_FALSE(Request::IsSubscribeFamily(name)) << name;
  }
  // A NUL inside the name is a different name, not a terminator.
  EXPECT_FALSE(Request::IsSubscribeFamily(std::string_view("SUBSCRIBE\0", 10)));
  EXPECT_FALSE(Request::IsSubscribeFamily(std::string_view("SUBSC\0IBE", 9)));
}

TEST(ClientRequestTest, AppendConcatenatesCommandsAndCounts) {
  Request multi;
  multi.Push("MULTI");
  Request body;
  body.Push("INCR", "n");
  body.Push("SUBSCRIBE", "ch");
  Request exec;
  exec.Push("EXEC");

  multi.Append(body);
  multi.Append(exec);
  multi.Append(Request{});  // appending nothing changes nothing
  auto commands = Decode(multi.payload());
  ASSERT_TRUE(commands);
  EXPECT_EQ(*commands,
            (std::vector<Command>{{"MULTI"}, {"INCR", "n"}, {"SUBSCRIBE", "ch"}, {"EXEC"}}));
  EXPECT_EQ(multi.payload(), std::string("*1\r\n$5\r\nMULTI\r\n") + std::string(body.payload()) +
                                 std::string(exec.payload()));
  EXPECT_EQ(multi.size(), 4u);
  EXPECT_EQ(multi.expected_replies(), 3u);
  EXPECT_TRUE(multi.has_subscribe());
  // The appended request is left as it was.
  EXPECT_EQ(body.size(), 2u);
  EXPECT_EQ(Decode(body.payload()), (std::vector<Command>{{"INCR", "n"}, {"SUBSCRIBE", "ch"}}));

  // has_subscribe is sticky in both directions of an append.
  Request subscribe;
  subscribe.Push("PSUBSCRIBE", "p*");
  Request plain;
  plain.Push("PING");
  subscribe.Append(plain);
  EXPECT_TRUE(subscribe.has_subscribe());
  EXPECT_EQ(subscribe.expected_replies(), 1u);

  Request empty;
  empty.Append(plain);
  EXPECT_EQ(empty.payload(), plain.payload());
  EXPECT_EQ(empty.size(), 1u);
  EXPECT_FALSE(empty.has_subscribe());
}

TEST(ClientRequestTest, TakePayloadMovesTheBytesAndEmptiesTheRequest) {
  Request req;
  req.Push("SUBSCRIBE", "ch");
  req.Push("GET", "k");
  const std::string expected(req.payload());
  std::string bytes = req.TakePayload();
  EXPECT_EQ(bytes, expected);
  EXPECT_EQ(bytes, "*2\r\n$9\r\nSUBSCRIBE\r\n$2\r\nch\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
  EXPECT_TRUE(req.empty());
  EXPECT_EQ(req.size(), 0u);
  EXPECT_EQ(req.expected_replies(), 0u);
  EXPECT_FALSE(req.has_subscribe());
  EXPECT_EQ(req.payload(), "");
  EXPECT_EQ(req.TakePayload(), "");
  // The request is reusable.
  req.Push("PING");
  EXPECT_EQ(req.payload(), "*1\r\n$4\r\nPING\r\n");
  EXPECT_EQ(req.expected_replies(), 1u);
}

// Compile-time contract: what is refused stays refused.
static_assert(BulkArg<std::string>);
static_assert(BulkArg<const char*>);
static_assert(BulkArg<int>);
static_assert(BulkArg<double>);
static_assert(BulkArg<std::vector<std::string>>);
static_assert(BulkArg<std::map<std::string, int>>);
static_assert(!BulkArg<bool>);
static_assert(!BulkArg<char>);
static_assert(!BulkArg<std::vector<char>>);
static_assert(!BulkArg<std::vector<bool>>);
static_assert(!BulkArg<std::vector<std::vector<std::string>>>);

}  // namespace
}  // namespace keyward::client
