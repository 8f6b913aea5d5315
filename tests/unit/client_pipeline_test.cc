// The client's execute/read state machine (Pipeline<Op>) and the subscription tracker
// (SubscriptionSet), without sockets: requests are added and "written" by TakeWrite(), the server's
// answer is fed as raw RESP bytes (in every chunking, for one representative stream), and each
// event is rendered as text so that a mismatch shows which request got which reply.
#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "keyward/client/error.h"
#include "keyward/client/pipeline.h"
#include "keyward/client/reply.h"
#include "keyward/client/request.h"
#include "keyward/client/subscriptions.h"

namespace keyward::client {
namespace {

using IntPipeline = Pipeline<int>;
using Kind = IntPipeline::Event::Kind;

// A request made of `commands`, each given as its words.
Request Req(std::initializer_list<std::vector<std::string>> commands) {
  Request req;
  for (const auto& words : commands) {
    req.PushRange(words.front(), std::vector<std::string>(words.begin() + 1, words.end()));
  }
  return req;
}

// The bytes the request encoder makes of `commands`.
std::string Wire(std::initializer_list<std::vector<std::string>> commands) {
  return std::string(Req(commands).payload());
}

// Compact RESP-like text of a reply: +simple $bulk :int -error null, *[..] for arrays, >[..] for
// pushes, %{k v} for maps.
std::string Render(const Reply& r) {
  auto join = [](std::span<const Reply> items) {
    std::string out;
    for (const Reply& item : items) {
      if (!out.empty()) out += ' ';
      out += Render(item);
    }
    return out;
  };
  switch (r.type()) {
    case ReplyType::kNull:
      return "null";
    case ReplyType::kSimpleString:
      return "+" + std::string(*r.as_string());
    case ReplyType::kBulkString:
      return "$" + std::string(*r.as_string());
    case ReplyType::kError:
      return "-" + std::string(*r.as_error());
    case ReplyType::kInteger:
      return ":" + std::to_string(*r.as_integer());
    case ReplyType::kArray:
      return "*[" + join(*r.as_array()) + "]";
    case ReplyType::kPush:
      return ">[" + join(*r.as_array()) + "]";
    case ReplyType::kMap: {
      std::string out;
      const MapView map = *r.as_map();  // a named copy: the Expected is a temporary
      for (MapView::Entry e : map) {
        if (!out.empty()) out += ' ';
        out += Render(e.key) + " " + Render(e.value);
      }
      return "%{" + out + "}";
    }
    default:
      return "<" + std::string(ToString(r.type())) + ">";
  }
}

// "<op>: reply reply ..." for a completion, "push <reply>" for a push.
template <typename Op>
std::string Render(const typename Pipeline<Op>::Event& event) {
  if (event.kind == Pipeline<Op>::Event::Kind::kPush) return "push " + Render(event.push);
  std::string out;
  if constexpr (std::is_same_v<Op, std::string>) {
    out = event.op + ":";
  } else {
    out = std::to_string(event.op) + ":";
  }
  for (const Reply& reply : event.replies) out += " " + Render(reply);
  return out;
}

// Every event available now, rendered; stops at the first error, which is returned in `error`.
struct Drained {
  std::vector<std::string> events;
  std::error_code error;
};

template <typename Op>
Drained Drain(Pipeline<Op>& pipeline) {
  Drained out;
  while (true) {
    auto next = pipeline.Next();
    if (!next) {
      out.error = next.error();
      return out;
    }
    if (!*next) return out;
    out.events.push_back(Render<Op>(**next));
  }
}

using Events = std::vector<std::string>;

// ---- Matching

TEST(ClientPipelineTest, RepliesAreMatchedFirstInFirstOutAcrossMultiCommandRequests) {
  IntPipeline p;
  EXPECT_TRUE(p.empty());
  p.Add(Req({{"SET", "k", "v"}, {"GET", "k"}, {"INCR", "n"}}), 1);
  p.Add(Req({{"GET", "missing"}}), 2);
  p.Add(Req({{"MGET", "a", "b"}, {"DEL", "a"}}), 3);
  EXPECT_EQ(p.queued(), 3u);
  EXPECT_EQ(p.in_flight(), 0u);
  EXPECT_FALSE(p.empty());
  // Nothing is written yet, so nothing can complete.
  EXPECT_EQ(Drain(p).events, Events{});

  EXPECT_EQ(p.TakeWrite(), Wire({{"SET", "k", "v"},
                                 {"GET", "k"},
                                 {"INCR", "n"},
                                 {"GET", "missing"},
                                 {"MGET", "a", "b"},
                                 {"DEL", "a"}}));
  EXPECT_EQ(p.queued(), 0u);
  EXPECT_EQ(p.in_flight(), 3u);

  p.Feed("+OK\r\n$1\r\nv\r\n:1\r\n_\r\n*2\r\n$1\r\nx\r\n_\r\n:0\r\n");
  Drained d = Drain(p);
  EXPECT_FALSE(d.error);
  EXPECT_EQ(d.events, (Events{"1: +OK $v :1", "2: null", "3: *[$x null] :0"}));
  EXPECT_TRUE(p.empty());
}

TEST(ClientPipelineTest, RequestCompletesOnlyWhenItsLastReplyArrives) {
  IntPipeline p;
  p.Add(Req({{"PING"}, {"PING"}}), 1);
  p.TakeWrite();
  p.Feed("+PONG\r\n");
  EXPECT_EQ(Drain(p).events, Events{});
  EXPECT_EQ(p.in_flight(), 1u);
  p.Feed("+PONG\r\n");
  EXPECT_EQ(Drain(p).events, Events{"1: +PONG +PONG"});
}

TEST(ClientPipelineTest, ErrorRepliesAreRepliesLikeAnyOther) {
  // A "-ERR" answers its command; it must not shift the matching of the commands after it.
  IntPipeline p;
  p.Add(Req({{"INCR", "s"}, {"GET", "s"}}), 1);
  p.Add(Req({{"PING"}}), 2);
  p.TakeWrite();
  p.Feed("-ERR value is not an integer or out of range\r\n$1\r\nx\r\n+PONG\r\n");
  EXPECT_EQ(Drain(p).events,
            (Events{"1: -ERR value is not an integer or out of range $x", "2: +PONG"}));
}

TEST(ClientPipelineTest, RequestsWrittenInSeveralBatchesKeepTheirOrder) {
  IntPipeline p;
  p.Add(Req({{"GET", "a"}}), 1);
  EXPECT_EQ(p.TakeWrite(), Wire({{"GET", "a"}}));
  p.Add(Req({{"GET", "b"}}), 2);
  EXPECT_EQ(p.queued(), 1u);
  EXPECT_EQ(p.in_flight(), 1u);
  p.Feed("$1\r\nA\r\n");
  // The queued request is not in flight: the reply goes to the first one only.
  EXPECT_EQ(Drain(p).events, Events{"1: $A"});
  EXPECT_EQ(p.TakeWrite(), Wire({{"GET", "b"}}));
  p.Feed("$1\r\nB\r\n");
  EXPECT_EQ(Drain(p).events, Events{"2: $B"});
}

// ---- Chunking: one stream of replies and pushes, cut everywhere.

// Four requests (one subscribe-only) and the RESP3 stream a server sends back, with pushes between
// requests and between the replies of one request.
struct Scenario {
  static void AddRequests(IntPipeline& p) {
    p.Add(Req({{"SET", "k", "v"}, {"GET", "k"}}), 1);
    p.Add(Req({{"SUBSCRIBE", "ch"}}), 2);
    p.Add(Req({{"HGETALL", "h"}, {"LRANGE", "l", "0", "-1"}, {"INCR", "n"}}), 3);
    p.Add(Req({{"GET", "missing"}}), 4);
  }
  static constexpr std::string_view kStream =
      "+OK\r\n"
      ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n"  // inside request 1
      "$1\r\nv\r\n"
      ">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"  // request 2's confirmation
      "%1\r\n$1\r\nf\r\n$1\r\nx\r\n"
      ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n"  // inside request 3
      "*2\r\n$1\r\na\r\n$1\r\nb\r\n"
      ":7\r\n"
      ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$3\r\nbye\r\n"  // between requests 3 and 4
      "_\r\n";
  static Events Expected() {
    return {"push >[$invalidate *[$k]]",
            "1: +OK $v",
            "2:",
            "push >[$subscribe $ch :1]",
            "push >[$message $ch $hello]",
            "3: %{$f $x} *[$a $b] :7",
            "push >[$message $ch $bye]",
            "4: null"};
  }
};

// Feeds `chunks` one at a time, draining after each, as the read loop does.
Drained FeedChunks(IntPipeline& p, const std::vector<std::string_view>& chunks) {
  Drained all;
  for (std::string_view chunk : chunks) {
    p.Feed(chunk);
    Drained d = Drain(p);
    all.events.insert(all.events.end(), d.events.begin(), d.events.end());
    if (d.error) {
      all.error = d.error;
      break;
    }
  }
  return all;
}

TEST(ClientPipelineTest, EverySplitOfTheStreamGivesTheSameEvents) {
  const std::string_view s = Scenario::kStream;
  const Events expected = Scenario::Expected();
  for (size_t i = 0; i <= s.size(); ++i) {
    for (size_t j = i; j <= s.size(); ++j) {
      IntPipeline p;
      Scenario::AddRequests(p);
      p.TakeWrite();
      Drained d = FeedChunks(p, {s.substr(0, i), s.substr(i, j - i), s.substr(j)});
      ASSERT_FALSE(d.error) << "split at " << i << ", " << j << ": " << d.error.message();
      ASSERT_EQ(d.events, expected) << "split at " << i << ", " << j;
      ASSERT_TRUE(p.empty()) << "split at " << i << ", " << j;
    }
  }
}

TEST(ClientPipelineTest, ByteByByte) {
  const std::string_view s = Scenario::kStream;
  IntPipeline p;
  Scenario::AddRequests(p);
  p.TakeWrite();
  std::vector<std::string_view> bytes;
  for (size_t i = 0; i < s.size(); ++i) bytes.push_back(s.substr(i, 1));
  Drained d = FeedChunks(p, bytes);
  EXPECT_FALSE(d.error);
  EXPECT_EQ(d.events, Scenario::Expected());
  EXPECT_TRUE(p.empty());
}

// ---- Pushes

TEST(ClientPipelineTest, Resp3PushesAreRoutedAsPushesWithoutDisturbingMatching) {
  IntPipeline p;
  p.Add(Req({{"GET", "a"}, {"GET", "b"}}), 1);
  p.Add(Req({{"GET", "c"}}), 2);
  p.TakeWrite();
  p.Feed(
      ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\na\r\n"  // before any reply
      "$1\r\nA\r\n"
      ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nb\r\n"  // between the replies of request 1
      "$1\r\nB\r\n"
      ">2\r\n$10\r\ninvalidate\r\n_\r\n"  // between requests (a FLUSHALL invalidation)
      "$1\r\nC\r\n");
  Drained d = Drain(p);
  EXPECT_FALSE(d.error);
  EXPECT_EQ(d.events, (Events{"push >[$invalidate *[$a]]", "push >[$invalidate *[$b]]", "1: $A $B",
                              "push >[$invalidate null]", "2: $C"}));
}

TEST(ClientPipelineTest, PushWithNothingInFlightIsNotAnError) {
  IntPipeline p;
  p.Feed(">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n");
  Drained d = Drain(p);
  EXPECT_FALSE(d.error);
  EXPECT_EQ(d.events, Events{"push >[$message $ch $hi]"});
}

TEST(ClientPipelineTest, Resp3ArraysAreNeverPushesEvenWhenSubscribed) {
  // RESP3 marks pushes with '>'; an array that merely looks like a message is a reply.
  IntPipeline p;
  p.Add(Req({{"SUBSCRIBE", "ch"}}), 1);
  p.Add(Req({{"LRANGE", "l", "0", "-1"}}), 2);
  p.TakeWrite();
  p.Feed(
      ">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
      "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n");
  EXPECT_EQ(Drain(p).events, (Events{"1:", "push >[$subscribe $ch :1]", "2: *[$message $ch $hi]"}));
}

// ---- Subscribe-family requests

TEST(ClientPipelineTest, SubscribeOnlyRequestCompletesOnWriteWithNoReplies) {
  IntPipeline p;
  p.Add(Req({{"SUBSCRIBE", "a", "b"}, {"PSUBSCRIBE", "n.*"}}), 1);
  // Queued, not written: not complete yet.
  EXPECT_EQ(Drain(p).events, Events{});
  p.TakeWrite();
  // No byte has arrived, and none is needed.
  EXPECT_EQ(Drain(p).events, Events{"1:"});
  EXPECT_TRUE(p.empty());
  // Its confirmations then arrive as pushes, and are not replies to anything.
  p.Feed(
      ">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
      ">3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"
      ">3\r\n$10\r\npsubscribe\r\n$3\r\nn.*\r\n:3\r\n");
  Drained d = Drain(p);
  EXPECT_FALSE(d.error);
  EXPECT_EQ(d.events, (Events{"push >[$subscribe $a :1]", "push >[$subscribe $b :2]",
                              "push >[$psubscribe $n.* :3]"}));
}

TEST(ClientPipelineTest, SubscribeOnlyRequestWaitsForTheRequestsBeforeIt) {
  IntPipeline p;
  p.Add(Req({{"GET", "k"}}), 1);
  p.Add(Req({{"SUBSCRIBE", "ch"}}), 2);
  p.Add(Req({{"GET", "j"}}), 3);
  p.TakeWrite();
  EXPECT_EQ(Drain(p).events, Events{});  // completions stay in order
  p.Feed("$1\r\nK\r\n>3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n$1\r\nJ\r\n");
  EXPECT_EQ(Drain(p).events, (Events{"1: $K", "2:", "push >[$subscribe $ch :1]", "3: $J"}));
}

TEST(ClientPipelineTest, MixedRequestExpectsRepliesOnlyForItsOtherCommands) {
  IntPipeline p;
  p.Add(Req({{"SUBSCRIBE", "ch"}, {"PING"}, {"UNSUBSCRIBE"}}), 1);
  p.TakeWrite();
  p.Feed(
      ">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
      "+PONG\r\n"
      ">3\r\n$11\r\nunsubscribe\r\n$2\r\nch\r\n:0\r\n");
  EXPECT_EQ(Drain(p).events,
            (Events{"push >[$subscribe $ch :1]", "1: +PONG", "push >[$unsubscribe $ch :0]"}));
}

// ---- RESP2 pub/sub

TEST(ClientPipelineTest, Resp2PubSubArraysArePushesOnlyAfterASubscribeWasWritten) {
  IntPipeline p;
  p.set_protocol(2);
  EXPECT_EQ(p.protocol(), 2);
  const std::string looks_like_a_message = "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n";

  // Before any subscribe: an array that looks like a message is an ordinary reply.
  p.Add(Req({{"LRANGE", "l", "0", "-1"}}), 1);
  p.TakeWrite();
  p.Feed(looks_like_a_message);
  EXPECT_EQ(Drain(p).events, Events{"1: *[$message $ch $hi]"});

  p.Add(Req({{"SUBSCRIBE", "ch"}}), 2);
  p.TakeWrite();
  p.Add(Req({{"PING"}}), 3);
  p.TakeWrite();
  p.Feed("*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"  // the confirmation
         + looks_like_a_message +
         "*4\r\n$8\r\npmessage\r\n$3\r\nc.*\r\n$3\r\nc.1\r\n$1\r\nx\r\n"
         // PING in RESP2 subscribed mode answers ["pong", ""], which is its reply, not a push.
         "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
  Drained d = Drain(p);
  EXPECT_FALSE(d.error);
  EXPECT_EQ(d.events, (Events{"2:", "push *[$subscribe $ch :1]", "push *[$message $ch $hi]",
                              "push *[$pmessage $c.* $c.1 $x]", "3: *[$pong $]"}));
}

TEST(ClientPipelineTest, Resp2ResetLeavesPubSubMode) {
  IntPipeline p;
  p.set_protocol(2);
  p.Add(Req({{"SUBSCRIBE", "ch"}}), 1);
  p.TakeWrite();
  p.Feed("*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
  EXPECT_EQ(Drain(p).events, (Events{"1:", "push *[$subscribe $ch :1]"}));

  p.Add(Req({{"RESET"}}), 2);
  p.TakeWrite();
  p.Feed("+RESET\r\n");
  EXPECT_EQ(Drain(p).events, Events{"2: +RESET"});

  p.Add(Req({{"LRANGE", "l", "0", "-1"}}), 3);
  p.TakeWrite();
  p.Feed("*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n");
  EXPECT_EQ(Drain(p).events, Events{"3: *[$message $ch $hi]"});
}

// RESET and a new SUBSCRIBE pipelined: the SUBSCRIBE is written before the +RESET reply arrives,
// and its confirmation arrives after it.
// (Regression: the mode used to be set at write time and cleared by the +RESET reply, forgetting
// the SUBSCRIBE written behind the RESET.)
TEST(ClientPipelineTest, Resp2SubscribeWrittenBehindResetStaysInPubSubMode) {
  IntPipeline p;
  p.set_protocol(2);
  p.Add(Req({{"SUBSCRIBE", "a"}}), 1);
  p.TakeWrite();
  p.Add(Req({{"RESET"}}), 2);
  p.Add(Req({{"SUBSCRIBE", "b"}}), 3);
  p.TakeWrite();
  p.Feed(
      "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
      "+RESET\r\n"
      "*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:1\r\n");
  Drained d = Drain(p);
  EXPECT_FALSE(d.error) << d.error.message();
  EXPECT_EQ(d.events, (Events{"1:", "push *[$subscribe $a :1]", "2: +RESET",
                              "3:", "push *[$subscribe $b :1]"}));
}

TEST(ClientPipelineTest, Resp2DisconnectLeavesPubSubMode) {
  IntPipeline p;
  p.set_protocol(2);
  p.Add(Req({{"SUBSCRIBE", "ch"}}), 1);
  p.TakeWrite();
  EXPECT_EQ(Drain(p).events, Events{"1:"});
  p.OnDisconnect();
  // The new connection has no subscription until one is written again.
  p.Add(Req({{"LRANGE", "l", "0", "-1"}}), 2);
  p.TakeWrite();
  p.Feed("*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n");
  EXPECT_EQ(Drain(p).events, Events{"2: *[$message $ch $hi]"});
}

// ---- Errors

TEST(ClientPipelineTest, ReplyNobodyAskedForIsAProtocolError) {
  {
    IntPipeline p;
    p.Feed("+OK\r\n");
    Drained d = Drain(p);
    EXPECT_EQ(d.events, Events{});
    EXPECT_EQ(d.error, make_error_code(ClientError::kProtocolError));
  }
  {
    // One reply too many after a complete exchange.
    IntPipeline p;
    p.Add(Req({{"PING"}}), 1);
    p.TakeWrite();
    p.Feed("+PONG\r\n+PONG\r\n");
    Drained d = Drain(p);
    EXPECT_EQ(d.events, Events{"1: +PONG"});
    EXPECT_EQ(d.error, make_error_code(ClientError::kProtocolError));
  }
  {
    // A reply to a request that is queued but not written is not expected either.
    IntPipeline p;
    p.Add(Req({{"PING"}}), 1);
    p.Feed("+PONG\r\n");
    EXPECT_EQ(Drain(p).error, make_error_code(ClientError::kProtocolError));
  }
}

TEST(ClientPipelineTest, MalformedBytesAreAnError) {
  IntPipeline p;
  p.Add(Req({{"GET", "a"}}), 1);
  p.Add(Req({{"GET", "b"}}), 2);
  p.TakeWrite();
  p.Feed("$1\r\nA\r\n?what\r\n");
  Drained d = Drain(p);
  EXPECT_EQ(d.events, Events{"1: $A"});
  EXPECT_EQ(d.error, make_error_code(ClientError::kProtocolError));
  // The stream is out of sync: the error stays until the connection is reset.
  p.Feed("$1\r\nB\r\n");
  EXPECT_EQ(Drain(p).error, make_error_code(ClientError::kProtocolError));
  EXPECT_EQ(p.OnDisconnect(), std::vector<int>{2});
  p.Add(Req({{"GET", "c"}}), 3);
  p.TakeWrite();
  p.Feed("$1\r\nC\r\n");
  d = Drain(p);
  EXPECT_FALSE(d.error);
  EXPECT_EQ(d.events, Events{"3: $C"});
}

// ---- Cancellation

TEST(ClientPipelineTest, CancelQueuedRequestRemovesItsBytes) {
  IntPipeline p;
  p.Add(Req({{"GET", "a"}}), 1);
  const uint64_t b = p.Add(Req({{"SET", "b", "1"}, {"GET", "b"}}), 2);
  p.Add(Req({{"GET", "c"}}), 3);
  EXPECT_EQ(p.Cancel(b), std::optional<int>(2));
  EXPECT_EQ(p.queued(), 2u);
  EXPECT_EQ(p.Cancel(b), std::nullopt);  // already cancelled
  EXPECT_EQ(p.TakeWrite(), Wire({{"GET", "a"}, {"GET", "c"}}));
  p.Feed("$1\r\nA\r\n$1\r\nC\r\n");
  Drained d = Drain(p);
  EXPECT_FALSE(d.error);
  EXPECT_EQ(d.events, (Events{"1: $A", "3: $C"}));
}

TEST(ClientPipelineTest, CancelInFlightRequestDropsItsReplies) {
  IntPipeline p;
  const uint64_t a = p.Add(Req({{"GET", "a"}, {"GET", "a2"}}), 1);
  p.Add(Req({{"GET", "b"}}), 2);
  p.TakeWrite();
  // Half of request 1's replies are in before it is cancelled.
  p.Feed("$1\r\nA\r\n");
  EXPECT_EQ(Drain(p).events, Events{});
  EXPECT_EQ(p.Cancel(a), std::optional<int>(1));
  EXPECT_EQ(p.Cancel(a), std::nullopt);
  // It was sent: it stays in flight so that its remaining reply is consumed.
  EXPECT_EQ(p.in_flight(), 2u);
  p.Feed("$2\r\nA2\r\n");
  Drained d = Drain(p);
  EXPECT_FALSE(d.error);
  EXPECT_EQ(d.events, Events{});
  EXPECT_EQ(p.in_flight(), 1u);
  p.Feed("$1\r\nB\r\n");
  d = Drain(p);
  EXPECT_FALSE(d.error);
  EXPECT_EQ(d.events, Events{"2: $B"});
  EXPECT_TRUE(p.empty());
}

TEST(ClientPipelineTest, CancelAfterCompletionOrOfUnknownIdGivesNothing) {
  IntPipeline p;
  const uint64_t a = p.Add(Req({{"PING"}}), 1);
  const uint64_t b = p.Add(Req({{"PING"}}), 2);
  EXPECT_NE(a, b);
  p.TakeWrite();
  p.Feed("+PONG\r\n");
  EXPECT_EQ(Drain(p).events, Events{"1: +PONG"});
  EXPECT_EQ(p.Cancel(a), std::nullopt);
  EXPECT_EQ(p.Cancel(b + 100), std::nullopt);
  EXPECT_EQ(p.in_flight(), 1u);  // request 2 is untouched
  p.Feed("+PONG\r\n");
  EXPECT_EQ(Drain(p).events, Events{"2: +PONG"});
}

// ---- Disconnection and closing

TEST(ClientPipelineTest, DisconnectReturnsInFlightOpsAndKeepsQueuedOnes) {
  IntPipeline p;
  p.Add(Req({{"GET", "a"}}), 1);
  const uint64_t b = p.Add(Req({{"GET", "b"}}), 2);
  p.Add(Req({{"GET", "c"}}), 3);
  p.TakeWrite();
  EXPECT_EQ(p.Cancel(b), std::optional<int>(2));  // cancelled in flight: not handed back again
  p.Add(Req({{"GET", "d"}}), 4);
  p.Add(Req({{"GET", "e"}}), 5);
  // Part of request 1's reply, then the connection drops.
  p.Feed("$5\r\nhel");
  EXPECT_EQ(Drain(p).events, Events{});

  EXPECT_EQ(p.OnDisconnect(), (std::vector<int>{1, 3}));
  EXPECT_EQ(p.in_flight(), 0u);
  EXPECT_EQ(p.queued(), 2u);
  EXPECT_EQ(p.parser().buffered(), 0u);

  // The new connection: queued requests are written, and the dropped partial reply does not
  // prefix the new stream.
  EXPECT_EQ(p.TakeWrite(), Wire({{"GET", "d"}, {"GET", "e"}}));
  p.Feed("$1\r\nD\r\n$1\r\nE\r\n");
  Drained d = Drain(p);
  EXPECT_FALSE(d.error);
  EXPECT_EQ(d.events, (Events{"4: $D", "5: $E"}));
}

TEST(ClientPipelineTest, DisconnectBeforeAnythingWasWrittenKeepsEveryRequest) {
  IntPipeline p;
  p.Add(Req({{"GET", "a"}}), 1);
  EXPECT_EQ(p.OnDisconnect(), std::vector<int>{});
  EXPECT_EQ(p.queued(), 1u);
  EXPECT_EQ(p.TakeWrite(), Wire({{"GET", "a"}}));
}

TEST(ClientPipelineTest, TakeAllReturnsEveryOpInOrderAndEmptiesThePipeline) {
  IntPipeline p;
  p.Add(Req({{"GET", "a"}}), 1);
  const uint64_t b = p.Add(Req({{"GET", "b"}}), 2);
  p.TakeWrite();
  p.Add(Req({{"GET", "c"}}), 3);
  const uint64_t d = p.Add(Req({{"GET", "d"}}), 4);
  p.Add(Req({{"GET", "e"}}), 5);
  p.Cancel(b);  // in flight
  p.Cancel(d);  // queued
  EXPECT_EQ(p.TakeAll(), (std::vector<int>{1, 3, 5}));
  EXPECT_TRUE(p.empty());
  EXPECT_EQ(p.queued(), 0u);
  EXPECT_EQ(p.in_flight(), 0u);
  EXPECT_EQ(p.TakeWrite(), "");
  EXPECT_EQ(p.TakeAll(), std::vector<int>{});
}

// ---- TakeWrite

TEST(ClientPipelineTest, TakeWriteOfOneRequestGivesItsBytes) {
  Pipeline<std::string> p;
  Request req = Req({{"SET", "k", "v"}, {"GET", "k"}});
  const std::string bytes(req.payload());
  p.Add(std::move(req), "op");
  EXPECT_EQ(p.TakeWrite(), bytes);
  EXPECT_EQ(p.TakeWrite(), "");  // nothing queued any more
  p.Feed("+OK\r\n$1\r\nv\r\n");
  EXPECT_EQ(Drain(p).events, Events{"op: +OK $v"});
}

TEST(ClientPipelineTest, TakeWriteOfSeveralRequestsConcatenatesThemInOrder) {
  Pipeline<std::string> p;
  p.Add(Req({{"GET", "a"}}), "first");
  p.Add(Req({{"SUBSCRIBE", "ch"}}), "second");
  p.Add(Req({{"MSET", "a", "1", "b", "2"}, {"GET", "b"}}), "third");
  EXPECT_EQ(p.TakeWrite(),
            Wire({{"GET", "a"}, {"SUBSCRIBE", "ch"}, {"MSET", "a", "1", "b", "2"}, {"GET", "b"}}));
  EXPECT_EQ(p.queued(), 0u);
  EXPECT_EQ(p.in_flight(), 3u);
  p.Feed("$1\r\n1\r\n+OK\r\n$1\r\n2\r\n");
  EXPECT_EQ(Drain(p).events, (Events{"first: $1", "second:", "third: +OK $2"}));
}

// ---- SubscriptionSet

Reply Bulk(std::string s) { return Reply::BulkString(std::move(s)); }

// A confirmation or message, as RESP3 (push) or RESP2 (array) sends it.
Reply Confirm(ReplyType type, std::string kind, std::optional<std::string> name, int64_t count) {
  return Reply::Aggregate(
      type, {Bulk(std::move(kind)), name ? Bulk(*name) : Reply::Null(), Reply::Integer(count)});
}

using Names = std::set<std::string>;

class ClientSubscriptionSetTest : public ::testing::TestWithParam<ReplyType> {};

TEST_P(ClientSubscriptionSetTest, ConfirmationsAddAndRemove) {
  const ReplyType type = GetParam();
  SubscriptionSet set;
  EXPECT_TRUE(set.empty());
  set.OnPush(Confirm(type, "subscribe", "a", 1));
  set.OnPush(Confirm(type, "subscribe", "b", 2));
  set.OnPush(Confirm(type, "psubscribe", "n.*", 3));
  set.OnPush(Confirm(type, "psubscribe", "m.*", 4));
  set.OnPush(Confirm(type, "ssubscribe", "s1", 1));
  set.OnPush(Confirm(type, "ssubscribe", "s2", 2));
  EXPECT_FALSE(set.empty());
  EXPECT_EQ(set.channels(), (Names{"a", "b"}));
  EXPECT_EQ(set.patterns(), (Names{"m.*", "n.*"}));
  EXPECT_EQ(set.shard_channels(), (Names{"s1", "s2"}));

  set.OnPush(Confirm(type, "unsubscribe", "a", 3));
  set.OnPush(Confirm(type, "punsubscribe", "n.*", 2));
  set.OnPush(Confirm(type, "sunsubscribe", "s2", 1));
  EXPECT_EQ(set.channels(), (Names{"b"}));
  EXPECT_EQ(set.patterns(), (Names{"m.*"}));
  EXPECT_EQ(set.shard_channels(), (Names{"s1"}));

  // Each kind only touches its own set: a channel and a pattern may share a name.
  set.OnPush(Confirm(type, "unsubscribe", "m.*", 1));
  set.OnPush(Confirm(type, "punsubscribe", "b", 1));
  EXPECT_EQ(set.channels(), (Names{"b"}));
  EXPECT_EQ(set.patterns(), (Names{"m.*"}));

  set.OnPush(Confirm(type, "unsubscribe", "b", 2));
  set.OnPush(Confirm(type, "punsubscribe", "m.*", 1));
  set.OnPush(Confirm(type, "sunsubscribe", "s1", 0));
  EXPECT_TRUE(set.empty());
}

TEST_P(ClientSubscriptionSetTest, UnsubscribeWithNullNameIsIgnored) {
  // What Redis answers UNSUBSCRIBE / PUNSUBSCRIBE with when nothing is subscribed.
  const ReplyType type = GetParam();
  SubscriptionSet set;
  set.OnPush(Confirm(type, "subscribe", "a", 1));
  set.OnPush(Confirm(type, "unsubscribe", std::nullopt, 0));
  set.OnPush(Confirm(type, "punsubscribe", std::nullopt, 0));
  set.OnPush(Confirm(type, "sunsubscribe", std::nullopt, 0));
  EXPECT_EQ(set.channels(), (Names{"a"}));
  EXPECT_TRUE(set.patterns().empty());
  EXPECT_TRUE(set.shard_channels().empty());
}

TEST_P(ClientSubscriptionSetTest, MessagesAreIgnored) {
  const ReplyType type = GetParam();
  SubscriptionSet set;
  set.OnPush(Reply::Aggregate(type, {Bulk("message"), Bulk("x"), Bulk("hello")}));
  set.OnPush(Reply::Aggregate(type, {Bulk("smessage"), Bulk("y"), Bulk("hello")}));
  set.OnPush(Reply::Aggregate(type, {Bulk("pmessage"), Bulk("z.*"), Bulk("z.1"), Bulk("hi")}));
  // A message whose payload is a number is still a message.
  set.OnPush(Reply::Aggregate(type, {Bulk("message"), Bulk("x"), Reply::Integer(1)}));
  set.OnPush(Reply::Aggregate(type, {Bulk("invalidate"), Reply::Null()}));
  EXPECT_TRUE(set.empty());
}

INSTANTIATE_TEST_SUITE_P(Resp3AndResp2, ClientSubscriptionSetTest,
                         ::testing::Values(ReplyType::kPush, ReplyType::kArray),
                         [](const auto& info) {
                           return info.param == ReplyType::kPush ? "Push" : "Array";
                         });

TEST(ClientSubscriptionSetRestoreTest, RestoreSubscribesToEverythingHeld) {
  SubscriptionSet set;
  set.OnPush(Confirm(ReplyType::kPush, "subscribe", "b", 1));
  set.OnPush(Confirm(ReplyType::kPush, "subscribe", "a", 2));
  set.OnPush(Confirm(ReplyType::kPush, "psubscribe", "n.*", 3));
  set.OnPush(Confirm(ReplyType::kPush, "ssubscribe", "s2", 1));
  set.OnPush(Confirm(ReplyType::kPush, "ssubscribe", "s1", 2));
  Request req = set.Restore();
  // One SUBSCRIBE and one PSUBSCRIBE with every name; one SSUBSCRIBE per shard channel (on a
  // cluster the channels of one SSUBSCRIBE must share a slot).
  EXPECT_EQ(req.payload(),
            "*3\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n$1\r\nb\r\n"
            "*2\r\n$10\r\nPSUBSCRIBE\r\n$3\r\nn.*\r\n"
            "*2\r\n$10\r\nSSUBSCRIBE\r\n$2\r\ns1\r\n"
            "*2\r\n$10\r\nSSUBSCRIBE\r\n$2\r\ns2\r\n");
  EXPECT_EQ(req.size(), 4u);
  EXPECT_EQ(req.expected_replies(), 0u);
  EXPECT_TRUE(req.has_subscribe());
  // Restoring does not forget: Clear() does.
  EXPECT_FALSE(set.empty());
  set.Clear();
  EXPECT_TRUE(set.empty());
}

TEST(ClientSubscriptionSetRestoreTest, RestoreOfOnlyPatternsHasNoSubscribe) {
  SubscriptionSet set;
  set.OnPush(Confirm(ReplyType::kArray, "psubscribe", "p*", 1));
  EXPECT_EQ(set.Restore().payload(), "*2\r\n$10\r\nPSUBSCRIBE\r\n$2\r\np*\r\n");
}

TEST(ClientSubscriptionSetRestoreTest, EmptySetRestoresNothing) {
  SubscriptionSet set;
  Request req = set.Restore();
  EXPECT_TRUE(req.empty());
  EXPECT_EQ(req.payload(), "");
  EXPECT_EQ(req.expected_replies(), 0u);
  EXPECT_FALSE(req.has_subscribe());
}

TEST(ClientSubscriptionSetRestoreTest, RestoredRequestCompletesOnWriteInAPipeline) {
  // The reconnect path: the restore request is added first, completes as soon as it is written,
  // and its confirmations rebuild a cleared set.
  SubscriptionSet set;
  set.OnPush(Confirm(ReplyType::kPush, "subscribe", "ch", 1));
  IntPipeline p;
  p.Add(set.Restore(), 1);
  set.Clear();
  EXPECT_EQ(p.TakeWrite(), Wire({{"SUBSCRIBE", "ch"}}));
  p.Feed(">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
  std::vector<std::string> events;
  while (true) {
    auto next = p.Next();
    ASSERT_TRUE(next);
    if (!*next) break;
    if ((*next)->kind == Kind::kPush) set.OnPush((*next)->push);
    events.push_back(Render<int>(**next));
  }
  EXPECT_EQ(events, (Events{"1:", "push >[$subscribe $ch :1]"}));
  EXPECT_EQ(set.channels(), (Names{"ch"}));
}

}  // namespace
}  // namespace keyward::client
