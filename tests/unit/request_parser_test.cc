#include "server/protocol/request_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

namespace keyward {
namespace {

using ::testing::ElementsAre;
using Status = RequestParser::Status;

// Feeds `input` to a parser as a client would deliver it, cut at `cuts`, and returns every
// command parsed (or the error text as a single pseudo-command "ERROR: ...").
std::vector<std::vector<std::string>> ParseInPieces(std::string_view input,
                                                    const std::vector<size_t>& cuts,
                                                    ParserLimits limits = {}) {
  RequestParser parser(limits);
  std::vector<std::vector<std::string>> commands;
  std::string buffer;
  size_t fed = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(input.size());
  for (size_t end : ends) {
    buffer.append(input.substr(fed, end - fed));
    fed = end;
    while (true) {
      Status st = parser.Parse(buffer);
      if (st == Status::kNeedMore) break;
      if (st == Status::kError) {
        commands.push_back({"ERROR: " + parser.error()});
        return commands;
      }
      if (st == Status::kOk) {
        std::vector<std::string> args(parser.args().begin(), parser.args().end());
        commands.push_back(args);
      }
      buffer.erase(0, parser.consumed());
      if (buffer.empty()) break;
    }
  }
  return commands;
}

TEST(RequestParserTest, MultibulkEverySplit) {
  const std::string input =
      "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nva\r\nl\r\n*1\r\n$4\r\nPING\r\nPING\r\n*0\r\n"
      "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n";
  const std::vector<std::vector<std::string>> expected = {
      {"SET", "key", "va\r\nl"}, {"PING"}, {"PING"}, {"ECHO", ""}};
  EXPECT_EQ(ParseInPieces(input, {}), expected);
  // Every single split point and every pair of split points.
  for (size_t i = 1; i < input.size(); i++) {
    EXPECT_EQ(ParseInPieces(input, {i}), expected) << "split at " << i;
    for (size_t j = i + 1; j < input.size(); j++) {
      ASSERT_EQ(ParseInPieces(input, {i, j}), expected) << "split at " << i << "," << j;
    }
  }
  // Byte by byte.
  std::vector<size_t> all;
  for (size_t i = 1; i < input.size(); i++) all.push_back(i);
  EXPECT_EQ(ParseInPieces(input, all), expected);
}

TEST(RequestParserTest, InlineCommands) {
  EXPECT_EQ(ParseInPieces("set k \"a b\\x41\\n\" 'it''s'\r\n", {}).size(), 1u);
  auto cmds = ParseInPieces("set k \"a b\\x41\\n\" 'x\\'y'\r\nget k\n", {});
  ASSERT_EQ(cmds.size(), 2u);
  EXPECT_THAT(cmds[0], ElementsAre("set", "k", "a bA\n", "x'y"));
  EXPECT_THAT(cmds[1], ElementsAre("get", "k"));
  EXPECT_TRUE(ParseInPieces("\r\n   \r\n", {}).empty());  // empty lines are skipped
}

TEST(RequestParserTest, ProtocolErrors) {
  auto error = [](std::string_view input, ParserLimits limits = {}) {
    auto cmds = ParseInPieces(input, {}, limits);
    return cmds.empty() ? std::string("none") : cmds.back()[0];
  };
  EXPECT_EQ(error("*x\r\n"), "ERROR: Protocol error: invalid multibulk length");
  EXPECT_EQ(error("*1\r\n+PING\r\n"), "ERROR: Protocol error: expected '$', got '+'");
  EXPECT_EQ(error("*1\r\n$-1\r\n"), "ERROR: Protocol error: invalid bulk length");
  EXPECT_EQ(error("*1\r\n$x\r\n"), "ERROR: Protocol error: invalid bulk length");
  EXPECT_EQ(error("*1\r\n$2000000\r\n", {.max_bulk_len = 1024}),
            "ERROR: Protocol error: invalid bulk length");
  EXPECT_EQ(error("\"abc\r\n"), "ERROR: Protocol error: unbalanced quotes in request");
  EXPECT_EQ(error("\"abc\"def\r\n"), "ERROR: Protocol error: unbalanced quotes in request");
  EXPECT_EQ(error(std::string(70000, 'a')), "ERROR: Protocol error: too big inline request");
  EXPECT_EQ(error("*" + std::string(70000, '1')),
            "ERROR: Protocol error: too big mbulk count string");
  EXPECT_EQ(error("*1\r\n$" + std::string(70000, '1')),
            "ERROR: Protocol error: too big bulk count string");
}

TEST(RequestParserTest, UnauthenticatedLimits) {
  RequestParser parser;
  parser.set_authenticated(false);
  EXPECT_EQ(parser.Parse("*11\r\n"), Status::kError);
  EXPECT_EQ(parser.error(), "Protocol error: unauthenticated multibulk length");
  RequestParser p2;
  p2.set_authenticated(false);
  EXPECT_EQ(p2.Parse("*1\r\n$16385\r\n"), Status::kError);
  EXPECT_EQ(p2.error(), "Protocol error: unauthenticated bulk length");
}

TEST(RequestParserTest, BigBulkHint) {
  RequestParser parser;
  std::string header = "*1\r\n$100000\r\n";
  EXPECT_EQ(parser.Parse(header), Status::kNeedMore);
  EXPECT_EQ(parser.bytes_hint(), header.size() + 100000 + 2);
}

TEST(RequestParserTest, RandomGarbageNeverCrashes) {
  std::mt19937 rng(42);
  for (int round = 0; round < 2000; round++) {
    std::string input;
    size_t n = rng() % 64;
    static constexpr char kAlphabet[] = "*$\r\n0123456789-+\" 'abcx\\";
    for (size_t i = 0; i < n; i++) input += kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
    ParseInPieces(input, {n / 2});  // must terminate without crashing
  }
}

}  // namespace
}  // namespace keyward

namespace keyward {
namespace {

TEST(RequestParserTest, HeaderLinesEndAtCarriageReturnLikeRedis) {
  // Redis finds a header's end by its '\r' and skips the next byte unchecked.
  auto cmds = ParseInPieces("*2\rx$4\rxECHO\r\n$1\r\nz\r\n", {});
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_THAT(cmds[0], ElementsAre("ECHO", "z"));
}

TEST(RequestParserTest, InlineWithNulNeverCompletesLikeRedis) {
  // Redis searches the newline with strchr, which stops at the NUL: the command waits for more
  // input and finally hits the inline size limit.
  EXPECT_TRUE(ParseInPieces(std::string("SET a\0b c\r\n", 11), {}).empty());
  auto cmds = ParseInPieces(std::string("SET a\0b\r\n", 9) + std::string(70000, 'x'), {});
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0][0], "ERROR: Protocol error: too big inline request");
}

}  // namespace
}  // namespace keyward
