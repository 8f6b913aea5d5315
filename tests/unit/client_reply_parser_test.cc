// The client's reply model and its incremental reply parser. The parser is fed every split of its
// input, byte by byte, and malformed or hostile input, which must give an error, never a crash.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "keyward/client/error.h"
#include "keyward/client/reply.h"
#include "keyward/client/reply_parser.h"

namespace keyward::client {

// gtest prints a mismatching Reply in RESP-like notation instead of raw bytes.
void PrintTo(const Reply& r, std::ostream* os) {
  *os << ToString(r.type());
  if (auto s = r.as_string()) *os << "(" << *s << ")";
  if (auto e = r.as_error()) *os << "(" << *e << ")";
  if (r.type() == ReplyType::kInteger || r.type() == ReplyType::kBoolean ||
      r.type() == ReplyType::kDouble) {
    *os << "(" << *r.as_double() << ")";
  }
  if (auto map = r.as_map(); map && r.type() == ReplyType::kMap) {
    *os << "{";
    for (MapView::Entry e : *map) {
      PrintTo(e.key, os);
      *os << ": ";
      PrintTo(e.value, os);
      *os << ", ";
    }
    *os << "}";
  } else if (auto items = r.as_array()) {
    *os << "[";
    for (const Reply& e : *items) {
      PrintTo(e, os);
      *os << ", ";
    }
    *os << "]";
  }
}

namespace {

Reply Str(std::string s) { return Reply::BulkString(std::move(s)); }
Reply Simple(std::string s) { return Reply::SimpleString(std::move(s)); }
Reply Int(int64_t v) { return Reply::Integer(v); }
Reply Arr(std::vector<Reply> v) { return Reply::Aggregate(ReplyType::kArray, std::move(v)); }
Reply Map(std::vector<Reply> flat) { return Reply::Aggregate(ReplyType::kMap, std::move(flat)); }
Reply Set(std::vector<Reply> v) { return Reply::Aggregate(ReplyType::kSet, std::move(v)); }
Reply Push(std::vector<Reply> v) { return Reply::Aggregate(ReplyType::kPush, std::move(v)); }

struct Outcome {
  std::vector<Reply> replies;
  std::error_code error;
};

// Feeds the chunks one after the other, pulling every complete reply after each.
Outcome ParseChunks(const std::vector<std::string_view>& chunks, ReplyParserLimits limits = {}) {
  ReplyParser parser(limits);
  Outcome out;
  for (std::string_view chunk : chunks) {
    parser.Feed(chunk);
    while (true) {
      auto next = parser.Next();
      if (!next) {
        out.error = next.error();
        return out;
      }
      if (!*next) break;
      out.replies.push_back(std::move(**next));
    }
  }
  return out;
}

Outcome ParseAll(std::string_view input, ReplyParserLimits limits = {}) {
  return ParseChunks({input}, limits);
}

Outcome ParseByteByByte(std::string_view input, ReplyParserLimits limits = {}) {
  std::vector<std::string_view> chunks;
  for (size_t i = 0; i < input.size(); ++i) chunks.push_back(input.substr(i, 1));
  return ParseChunks(chunks, limits);
}

// The single reply `input` holds, checked to parse identically whole and byte by byte.
Reply ParseOne(std::string_view input) {
  Outcome whole = ParseAll(input);
  Outcome bytes = ParseByteByByte(input);
  EXPECT_FALSE(whole.error) << whole.error.message();
  EXPECT_EQ(whole.replies.size(), 1u) << input;
  EXPECT_EQ(whole.replies, bytes.replies) << input;
  return whole.replies.empty() ? Reply() : whole.replies[0];
}

std::error_code ParseError(std::string_view input, ReplyParserLimits limits = {}) {
  std::error_code whole = ParseAll(input, limits).error;
  EXPECT_EQ(whole, ParseByteByByte(input, limits).error) << input;
  return whole;
}

// ---- Every type, RESP2 forms first.

TEST(ClientReplyParser, Resp2Types) {
  EXPECT_EQ(ParseOne("+OK\r\n"), Simple("OK"));
  EXPECT_EQ(ParseOne("+\r\n"), Simple(""));
  EXPECT_EQ(ParseOne("-ERR unknown command\r\n"), Reply::Error("ERR unknown command"));
  EXPECT_EQ(ParseOne(":42\r\n"), Int(42));
  EXPECT_EQ(ParseOne(":-9223372036854775808\r\n"), Int(std::numeric_limits<int64_t>::min()));
  EXPECT_EQ(ParseOne("$5\r\nhello\r\n"), Str("hello"));
  EXPECT_EQ(ParseOne("$0\r\n\r\n"), Str(""));
  EXPECT_EQ(ParseOne("$4\r\na\r\nb\r\n"), Str("a\r\nb"));  // bulk strings are binary safe
  EXPECT_EQ(ParseOne(std::string_view("$3\r\n\0\0\0\r\n", 9)), Str(std::string(3, '\0')));
  EXPECT_TRUE(ParseOne("$-1\r\n").is_null());
  EXPECT_TRUE(ParseOne("*-1\r\n").is_null());
  EXPECT_EQ(ParseOne("*0\r\n"), Arr({}));
  EXPECT_EQ(ParseOne("*3\r\n:1\r\n$1\r\na\r\n$-1\r\n"), Arr({Int(1), Str("a"), Reply()}));
}

TEST(ClientReplyParser, Resp3Scalars) {
  EXPECT_TRUE(ParseOne("_\r\n").is_null());
  EXPECT_EQ(ParseOne(",1.5\r\n"), Reply::Double(1.5));
  EXPECT_EQ(ParseOne(",-2\r\n"), Reply::Double(-2));
  EXPECT_EQ(ParseOne(",1e300\r\n"), Reply::Double(1e300));
  EXPECT_EQ(ParseOne(",inf\r\n"), Reply::Double(INFINITY));
  EXPECT_EQ(ParseOne(",-inf\r\n"), Reply::Double(-INFINITY));
  EXPECT_TRUE(std::isnan(*ParseOne(",nan\r\n").as_double()));
  EXPECT_EQ(ParseOne("#t\r\n"), Reply::Boolean(true));
  EXPECT_EQ(ParseOne("#f\r\n"), Reply::Boolean(false));
  EXPECT_EQ(ParseOne("(3492890328409238509324850943850943825024385\r\n"),
            Reply::BigNumber("3492890328409238509324850943850943825024385"));
  EXPECT_EQ(ParseOne("(-12\r\n"), Reply::BigNumber("-12"));
  EXPECT_EQ(ParseOne("!21\r\nSYNTAX invalid syntax\r\n"), Reply::Error("SYNTAX invalid syntax"));
  Reply verbatim = ParseOne("=15\r\ntxt:Some string\r\n");
  EXPECT_EQ(verbatim, Reply::Verbatim("txt", "Some string"));
  EXPECT_EQ(verbatim.verbatim_format(), "txt");
  EXPECT_EQ(*verbatim.as_string(), "Some string");
  EXPECT_EQ(ParseOne("=4\r\nmkd:\r\n"), Reply::Verbatim("mkd", ""));
}

TEST(ClientReplyParser, Resp3Aggregates) {
  EXPECT_EQ(ParseOne("%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n"),
            Map({Simple("first"), Int(1), Simple("second"), Int(2)}));
  EXPECT_EQ(ParseOne("%0\r\n"), Map({}));
  EXPECT_EQ(ParseOne("~3\r\n+a\r\n+b\r\n+c\r\n"), Set({Simple("a"), Simple("b"), Simple("c")}));
  EXPECT_EQ(ParseOne("~0\r\n"), Set({}));
  EXPECT_EQ(ParseOne(">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"),
            Push({Str("message"), Str("ch"), Str("hi")}));
  EXPECT_EQ(ParseOne(">0\r\n"), Push({}));
}

TEST(ClientReplyParser, NestedAggregates) {
  // An XREAD-like shape: map of stream -> array of [id, [field, value]].
  Reply r = ParseOne(
      "%1\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
      "*2\r\n$3\r\n2-0\r\n*0\r\n");
  EXPECT_EQ(r, Map({Str("s"), Arr({Arr({Str("1-0"), Arr({Str("f"), Str("v")})}),
                                   Arr({Str("2-0"), Arr({})})})}));
  EXPECT_EQ(ParseOne("*2\r\n*1\r\n*1\r\n:1\r\n~1\r\n%1\r\n#t\r\n_\r\n"),
            Arr({Arr({Arr({Int(1)})}), Set({Map({Reply::Boolean(true), Reply()})})}));
}

TEST(ClientReplyParser, AttributesAttachToTheFollowingValue) {
  Reply scalar = ParseOne("|1\r\n+ttl\r\n:3600\r\n:7\r\n");
  EXPECT_EQ(scalar, Int(7));
  ASSERT_EQ(scalar.attributes().size(), 1u);
  EXPECT_EQ(*scalar.attributes().Find("ttl"), Int(3600));

  // Inside an aggregate, an attribute is not an element: the array still has two.
  Reply array = ParseOne("*2\r\n:1\r\n|1\r\n+key-popularity\r\n,0.5\r\n:2\r\n");
  EXPECT_EQ(array, Arr({Int(1), Int(2)}));
  EXPECT_TRUE(array.attributes().empty());
  EXPECT_EQ(*(*array.as_array())[1].attributes().Find("key-popularity"), Reply::Double(0.5));

  // Before an aggregate header, it annotates the aggregate, not its first element.
  Reply annotated = ParseOne("|1\r\n+a\r\n+b\r\n*1\r\n:1\r\n");
  EXPECT_EQ(annotated.attributes().size(), 1u);
  EXPECT_TRUE((*annotated.as_array())[0].attributes().empty());

  // Consecutive attributes accumulate; an empty one annotates nothing.
  Reply two = ParseOne("|1\r\n+a\r\n:1\r\n|0\r\n|1\r\n+b\r\n:2\r\n+x\r\n");
  EXPECT_EQ(two.attributes().size(), 2u);
  EXPECT_EQ(*two.attributes().Find("b"), Int(2));
}

// ---- Splits: the parser keeps its progress whatever the chunking.

constexpr std::string_view kMultiReply =
    "+OK\r\n-ERR x\r\n:12\r\n$5\r\nhe\r\no\r\n$-1\r\n*-1\r\n_\r\n,3.25\r\n#t\r\n(123\r\n"
    "=7\r\ntxt:abc\r\n!3\r\nbad\r\n*2\r\n%1\r\n+k\r\n~1\r\n:1\r\n*0\r\n"
    ">2\r\n+p\r\n$0\r\n\r\n|1\r\n+m\r\n+n\r\n:5\r\n";

std::vector<Reply> ExpectedMultiReply() {
  return {Simple("OK"),
          Reply::Error("ERR x"),
          Int(12),
          Str("he\r\no"),
          Reply(),
          Reply(),
          Reply(),
          Reply::Double(3.25),
          Reply::Boolean(true),
          Reply::BigNumber("123"),
          Reply::Verbatim("txt", "abc"),
          Reply::Error("bad"),
          Arr({Map({Simple("k"), Set({Int(1)})}), Arr({})}),
          Push({Simple("p"), Str("")}),
          Int(5)};
}

TEST(ClientReplyParser, EverySplitPoint) {
  const std::vector<Reply> expected = ExpectedMultiReply();
  EXPECT_EQ(ParseAll(kMultiReply).replies, expected);
  for (size_t i = 0; i <= kMultiReply.size(); ++i) {
    for (size_t j = i; j <= kMultiReply.size(); ++j) {
      Outcome out = ParseChunks(
          {kMultiReply.substr(0, i), kMultiReply.substr(i, j - i), kMultiReply.substr(j)});
      ASSERT_FALSE(out.error) << "split at " << i << ", " << j;
      ASSERT_EQ(out.replies, expected) << "split at " << i << ", " << j;
    }
  }
}

TEST(ClientReplyParser, ByteByByte) {
  EXPECT_EQ(ParseByteByByte(kMultiReply).replies, ExpectedMultiReply());
}

TEST(ClientReplyParser, LargeBulkArrivesInPieces) {
  const std::string body(100000, 'x');
  const std::string input = "$100000\r\n" + body + "\r\n";
  ReplyParser parser;
  for (size_t at = 0; at < input.size(); at += 4096) {
    auto next = parser.Next();
    ASSERT_TRUE(next);
    ASSERT_FALSE(*next);
    parser.Feed(std::string_view(input).substr(at, 4096));
  }
  auto next = parser.Next();
  ASSERT_TRUE(next && *next);
  EXPECT_EQ(**next, Str(body));
  EXPECT_EQ(parser.buffered(), 0u);
}

// ---- Limits.

TEST(ClientReplyParser, NestingLimit) {
  ReplyParserLimits limits;
  limits.max_depth = 3;
  EXPECT_EQ(ParseAll("*1\r\n*1\r\n*1\r\n:1\r\n", limits).replies.size(), 1u);
  // An empty aggregate opens nothing, so it fits at the limit.
  EXPECT_EQ(ParseAll("*1\r\n*1\r\n*1\r\n*0\r\n", limits).replies.size(), 1u);
  EXPECT_EQ(ParseError("*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", limits), ClientError::kNestingTooDeep);
  EXPECT_EQ(ParseError("%1\r\n~1\r\n>1\r\n|1\r\n", limits), ClientError::kNestingTooDeep);
  // The default limit stops a hostile stream of headers.
  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += "*1\r\n";
  EXPECT_EQ(ParseAll(deep).error, ClientError::kNestingTooDeep);
}

TEST(ClientReplyParser, SizeLimits) {
  ReplyParserLimits limits;
  limits.max_bulk_len = 5;
  limits.max_aggregate_len = 2;
  limits.max_line_len = 8;
  EXPECT_EQ(ParseAll("$5\r\nhello\r\n", limits).replies.size(), 1u);
  // Refused from the header alone: the body is never waited for.
  EXPECT_EQ(ParseError("$6\r\n", limits), ClientError::kBulkTooLarge);
  EXPECT_EQ(ParseError("!6\r\n", limits), ClientError::kBulkTooLarge);
  EXPECT_EQ(ParseError("=6\r\n", limits), ClientError::kBulkTooLarge);
  EXPECT_EQ(ParseAll("*2\r\n:1\r\n:2\r\n", limits).replies.size(), 1u);
  EXPECT_EQ(ParseError("*3\r\n", limits), ClientError::kAggregateTooLarge);
  EXPECT_EQ(ParseError("%3\r\n", limits), ClientError::kAggregateTooLarge);
  EXPECT_EQ(ParseAll("+1234567\r\n", limits).replies.size(), 1u);  // 8 bytes with the type
  EXPECT_EQ(ParseError("+12345678\r\n", limits), ClientError::kLineTooLong);
  EXPECT_EQ(ParseError("+123456789", limits), ClientError::kLineTooLong);  // no newline yet
  // Default limits: a huge declared count is refused, and none is pre-allocated.
  EXPECT_EQ(ParseError("$536870913\r\n"), ClientError::kBulkTooLarge);
  EXPECT_EQ(ParseError("*4294967297\r\n"), ClientError::kAggregateTooLarge);
  EXPECT_FALSE(ParseAll("*4294967296\r\n").error);  // accepted, waiting for elements
}

// ---- Malformed input: the right error, never a crash.

TEST(ClientReplyParser, MalformedInput) {
  const std::vector<std::string_view> bad = {
      "?x\r\n",
      "\r\n",
      "\n",
      "+OK\n",
      "+OK\rx\n",
      ":\r\n",
      ":12a\r\n",
      ": 1\r\n",
      ":+1\r\n",
      ":99999999999999999999\r\n",
      ",\r\n",
      ",abc\r\n",
      ",1.5x\r\n",
      "#\r\n",
      "#x\r\n",
      "#tt\r\n",
      "_x\r\n",
      "(\r\n",
      "(12a\r\n",
      "(-\r\n",
      "$\r\n",
      "$-2\r\n",
      "$x\r\n",
      "$3\r\nabcd\r\n",
      "$3\r\nabc\n\r",
      "!-1\r\n",
      "=-1\r\n",
      "=3\r\ntxt\r\n",
      "=5\r\ntxtab\r\n",
      "*-2\r\n",
      "%-1\r\n",
      "~-1\r\n",
      ">-1\r\n",
      "|-1\r\n",
      "*x\r\n",
      "$?\r\n",
      "*?\r\n",
      ";4\r\n",
      ".\r\n",
      "*1\r\n:1\n",
  };
  for (std::string_view input : bad) {
    EXPECT_EQ(ParseError(input), ClientError::kProtocolError) << input;
  }
}

TEST(ClientReplyParser, ErrorsAreStickyUntilReset) {
  ReplyParser parser;
  parser.Feed("+a\r\n?\r\n+b\r\n");
  auto first = parser.Next();
  ASSERT_TRUE(first && *first);
  EXPECT_EQ(**first, Simple("a"));
  EXPECT_EQ(parser.Next().error(), ClientError::kProtocolError);
  EXPECT_FALSE(parser.error_detail().empty());
  EXPECT_EQ(parser.Next().error(), ClientError::kProtocolError);
  parser.Reset();
  EXPECT_EQ(parser.buffered(), 0u);
  parser.Feed(":1\r\n");
  auto after = parser.Next();
  ASSERT_TRUE(after && *after);
  EXPECT_EQ(**after, Int(1));
}

TEST(ClientReplyParser, RandomGarbageNeverCrashes) {
  // Fixed seed: deterministic. Mutations of a valid stream reach deep into the parser's states.
  std::mt19937 rng(12345);
  const std::string alphabet = "+-:$*%~>|_,#(!=\r\n0123456789-?x";
  for (int round = 0; round < 2000; ++round) {
    std::string input(kMultiReply);
    for (int k = 0; k < 3; ++k) input[rng() % input.size()] = alphabet[rng() % alphabet.size()];
    ReplyParserLimits limits;
    limits.max_bulk_len = 1 << 20;
    Outcome whole = ParseAll(input, limits);
    Outcome bytes = ParseByteByByte(input, limits);
    EXPECT_EQ(whole.error, bytes.error) << input;
    EXPECT_EQ(whole.replies, bytes.replies) << input;
  }
}

// ---- Typed access.

TEST(ClientReply, TypedAccess) {
  EXPECT_EQ(*Int(5).as_integer(), 5);
  EXPECT_EQ(*Str("x").as_string(), "x");
  EXPECT_EQ(*Simple("OK").as_string(), "OK");
  EXPECT_EQ(*Reply::BigNumber("123").as_string(), "123");
  EXPECT_EQ(*Reply::Error("ERR no").as_error(), "ERR no");
  EXPECT_EQ(*Reply::Double(2.5).as_double(), 2.5);
  EXPECT_EQ(*Reply::Boolean(true).as_boolean(), true);
  EXPECT_EQ(Set({Int(1)}).as_array()->size(), 1u);
  EXPECT_EQ(Push({Int(1), Int(2)}).as_array()->size(), 2u);

  const Reply reply = Map({Str("a"), Int(1), Str("b"), Int(2)});
  MapView map = *reply.as_map();  // a view: the Reply must outlive it
  EXPECT_EQ(map.size(), 2u);
  EXPECT_EQ(map.key(1), Str("b"));
  EXPECT_EQ(*map.Find("b"), Int(2));
  EXPECT_EQ(map.Find("c"), nullptr);
  int64_t sum = 0;
  for (MapView::Entry e : map) sum += *e.value.as_integer();
  EXPECT_EQ(sum, 3);
}

TEST(ClientReply, Resp2FormsThroughTypedAccess) {
  EXPECT_EQ(*Str("1.5").as_double(), 1.5);  // ZSCORE in RESP2
  EXPECT_EQ(*Str("-inf").as_double(), -INFINITY);
  EXPECT_EQ(*Int(3).as_double(), 3.0);
  EXPECT_EQ(*Int(1).as_boolean(), true);
  EXPECT_EQ(*Int(0).as_boolean(), false);
  EXPECT_EQ(Arr({Str("f"), Str("v")}).as_map()->size(), 1u);  // HGETALL in RESP2
  EXPECT_EQ(*Arr({Str("f"), Str("v")}).as_map()->Find("f"), Str("v"));
}

TEST(ClientReply, MismatchesGiveTheRightError) {
  EXPECT_EQ(Str("5").as_integer().error(), ClientError::kWrongReplyType);
  EXPECT_EQ(Reply().as_integer().error(), ClientError::kNullReply);
  EXPECT_EQ(Reply::Error("ERR x").as_integer().error(), ClientError::kServerError);
  EXPECT_EQ(Reply::Error("ERR x").as_string().error(), ClientError::kServerError);
  EXPECT_EQ(Int(1).as_string().error(), ClientError::kWrongReplyType);
  EXPECT_EQ(Int(1).as_array().error(), ClientError::kWrongReplyType);
  EXPECT_EQ(Int(1).as_map().error(), ClientError::kWrongReplyType);
  EXPECT_EQ(Int(1).as_error().error(), ClientError::kWrongReplyType);
  EXPECT_EQ(Reply().as_error().error(), ClientError::kNullReply);
  EXPECT_EQ(Int(2).as_boolean().error(), ClientError::kWrongReplyType);
  EXPECT_EQ(Str("abc").as_double().error(), ClientError::kWrongReplyType);
  EXPECT_EQ(Str("").as_double().error(), ClientError::kWrongReplyType);
  EXPECT_EQ(Str("1.5x").as_double().error(), ClientError::kWrongReplyType);
  EXPECT_EQ(Arr({Int(1)}).as_map().error(), ClientError::kWrongReplyType);  // odd length
  EXPECT_EQ(Map({}).as_array().error(), ClientError::kWrongReplyType);
  EXPECT_EQ(Reply().as_array().error(), ClientError::kNullReply);
  EXPECT_FALSE(Int(1).as_integer().error());
}

TEST(ClientErrorCategory, NameAndMessages) {
  std::error_code ec = ClientError::kNestingTooDeep;
  EXPECT_EQ(ec.category(), ClientCategory());
  EXPECT_STREQ(ec.category().name(), "keyward.client");
  EXPECT_EQ(ec.message(), "reply nesting too deep");
  EXPECT_EQ(std::error_code(ClientError::kServerError).message(), "server replied with an error");
  EXPECT_NE(ec, std::make_error_code(std::errc::protocol_error));
}

}  // namespace
}  // namespace keyward::client
