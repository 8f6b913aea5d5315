// Pub/sub in-process: confirmations, delivery, RESP2 subscribed mode, RESP3 pushes, keyspace
// notifications and output buffer limits, through the real gatekeeper, with named connections
// standing for separate clients. Byte-level agreement with Redis is checked by
// tests/differential/test_pubsub.py and test_keyspace_events.py.
#include <string>
#include <vector>

#include "tests/support/command_test.h"

namespace keyward::test {
namespace {

class PubSubFamilyTest : public CommandTest {
 protected:
  // Everything the server wrote to `connection` since the last look (messages to a subscriber).
  std::string Pending(const std::string& connection) { return Send("", connection); }

  static std::string Message(std::string_view channel, std::string_view payload) {
    return "*3\r\n$7\r\nmessage\r\n$" + std::to_string(channel.size()) + "\r\n" +
           std::string(channel) + "\r\n$" + std::to_string(payload.size()) + "\r\n" +
           std::string(payload) + "\r\n";
  }
};

TEST_F(PubSubFamilyTest, SubscribeConfirmsEachChannelWithTheRunningCount) {
  EXPECT_EQ(RunRaw({"subscribe", "a", "b", "a"}, "sub"),
            "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
            "*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"
            // Subscribing again is confirmed, and counts nothing new.
            "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:2\r\n");
  // Patterns share the count with channels; shard channels have their own.
  EXPECT_EQ(RunRaw({"psubscribe", "n*"}, "sub"), "*3\r\n$10\r\npsubscribe\r\n$2\r\nn*\r\n:3\r\n");
  EXPECT_EQ(RunRaw({"ssubscribe", "s"}, "sub"), "*3\r\n$10\r\nssubscribe\r\n$1\r\ns\r\n:1\r\n");
  EXPECT_EQ(Run({"pubsub", "numsub", "a", "b", "zz"}).strings(),
            (std::vector<std::string>{"a", "1", "b", "1", "zz", "0"}));
  EXPECT_EQ(Run({"pubsub", "numpat"}).integer, 1);
  EXPECT_EQ(Run({"pubsub", "shardnumsub", "s"}).strings(), (std::vector<std::string>{"s", "1"}));
}

TEST_F(PubSubFamilyTest, PublishDeliversToEverySubscriberInOrder) {
  RunRaw({"subscribe", "news"}, "s1");
  RunRaw({"subscribe", "news"}, "s2");
  EXPECT_EQ(Run({"publish", "news", "first"}).integer, 2);
  EXPECT_EQ(Run({"publish", "news", "second"}).integer, 2);
  EXPECT_EQ(Run({"publish", "other", "x"}).integer, 0);
  for (const char* s : {"s1", "s2"}) {
    EXPECT_EQ(Pending(s), Message("news", "first") + Message("news", "second")) << s;
  }
}

TEST_F(PubSubFamilyTest, ChannelAndMatchingPatternBothDeliver) {
  RunRaw({"subscribe", "news.tech"}, "sub");
  RunRaw({"psubscribe", "news.*"}, "sub");
  EXPECT_EQ(Run({"publish", "news.tech", "hi"}).integer, 2);
  EXPECT_EQ(Pending("sub"), Message("news.tech", "hi") +
                                "*4\r\n$8\r\npmessage\r\n$6\r\nnews.*\r\n$9\r\nnews.tech\r\n"
                                "$2\r\nhi\r\n");
}

TEST_F(PubSubFamilyTest, PatternsUseRedisGlobRules) {
  RunRaw({"psubscribe", "h?llo", "h[ae]y", "x[^b]z", "esc\\*"}, "sub");
  Pending("sub");
  EXPECT_EQ(Run({"publish", "hello", "1"}).integer, 1);
  EXPECT_EQ(Run({"publish", "heeello", "1"}).integer, 0);
  EXPECT_EQ(Run({"publish", "hey", "1"}).integer, 1);
  EXPECT_EQ(Run({"publish", "hiy", "1"}).integer, 0);
  EXPECT_EQ(Run({"publish", "xaz", "1"}).integer, 1);
  EXPECT_EQ(Run({"publish", "xbz", "1"}).integer, 0);
  EXPECT_EQ(Run({"publish", "esc*", "1"}).integer, 1);
  EXPECT_EQ(Run({"publish", "escX", "1"}).integer, 0);
}

TEST_F(PubSubFamilyTest, Resp2SubscribedModeAllowsOnlyPubSubCommands) {
  RunRaw({"subscribe", "a"}, "sub");
  EXPECT_EQ(RunRaw({"get", "k"}, "sub"),
            "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / "
            "RESET are allowed in this context\r\n");
  // PING answers in the array form a subscriber can parse.
  EXPECT_EQ(RunRaw({"ping"}, "sub"), "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
  EXPECT_EQ(RunRaw({"ping", "x"}, "sub"), "*2\r\n$4\r\npong\r\n$1\r\nx\r\n");
  // Unsubscribing from everything ends the mode.
  EXPECT_EQ(RunRaw({"unsubscribe"}, "sub"), "*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:0\r\n");
  EXPECT_EQ(RunRaw({"get", "k"}, "sub"), "$-1\r\n");
  // With nothing held, UNSUBSCRIBE confirms a null channel.
  EXPECT_EQ(RunRaw({"unsubscribe"}, "sub"), "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n");
}

TEST_F(PubSubFamilyTest, Resp3PushesInterleaveWithReplies) {
  RunRaw({"hello", "3"}, "sub");
  EXPECT_EQ(RunRaw({"subscribe", "a"}, "sub"), ">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n");
  Run({"publish", "a", "m"});
  // Any command works while subscribed; the message waits in the output before its reply.
  EXPECT_EQ(RunRaw({"get", "k"}, "sub"),
            ">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nm\r\n"
            "_\r\n");
  EXPECT_EQ(RunRaw({"ping"}, "sub"), "+PONG\r\n");
  EXPECT_EQ(RunRaw({"unsubscribe", "zz"}, "sub"), ">3\r\n$11\r\nunsubscribe\r\n$2\r\nzz\r\n:1\r\n");
}

TEST_F(PubSubFamilyTest, ResetDropsEverySubscriptionSilently) {
  RunRaw({"subscribe", "a"}, "sub");
  RunRaw({"psubscribe", "p*"}, "sub");
  RunRaw({"ssubscribe", "s"}, "sub");
  EXPECT_EQ(RunRaw({"reset"}, "sub"), "+RESET\r\n");
  EXPECT_EQ(Run({"pubsub", "numsub", "a"}).strings(), (std::vector<std::string>{"a", "0"}));
  EXPECT_EQ(Run({"pubsub", "numpat"}).integer, 0);
  EXPECT_EQ(Run({"publish", "a", "x"}).integer, 0);
  EXPECT_EQ(Run({"spublish", "s", "x"}).integer, 0);
  EXPECT_EQ(Pending("sub"), "");
}

TEST_F(PubSubFamilyTest, ClientListAndInfoShowSubscriptions) {
  RunRaw({"subscribe", "a", "b"}, "sub");
  RunRaw({"psubscribe", "p*"}, "sub");
  std::string list = Run({"client", "list"}).str;
  EXPECT_NE(list.find("flags=P db=0 sub=2 psub=1 ssub=0"), std::string::npos) << list;
  std::string info = Run({"info", "stats"}).str;
  EXPECT_NE(info.find("pubsub_channels:2\r\n"), std::string::npos) << info;
  EXPECT_NE(info.find("pubsub_patterns:1\r\n"), std::string::npos) << info;
  EXPECT_NE(info.find("pubsubshard_channels:0\r\n"), std::string::npos) << info;
}

// ---- keyspace notifications ----

TEST_F(PubSubFamilyTest, NotificationsAreOffByDefault) {
  RunRaw({"psubscribe", "*"}, "sub");
  Run({"set", "k", "v"});
  EXPECT_EQ(Pending("sub"), "");
}

TEST_F(PubSubFamilyTest, KeyspaceAndKeyeventChannels) {
  Run({"config", "set", "notify-keyspace-events", "KE$g"});
  RunRaw({"psubscribe", "__key*__:*"}, "sub");
  Run({"set", "k", "v"});
  Run({"del", "k"});
  EXPECT_EQ(Pending("sub"),
            "*4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n$16\r\n__keyspace@0__:k\r\n$3\r\nset\r\n"
            "*4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n$18\r\n__keyevent@0__:set\r\n$1\r\nk\r\n"
            "*4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n$16\r\n__keyspace@0__:k\r\n$3\r\ndel\r\n"
            "*4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n$18\r\n__keyevent@0__:del\r\n$1\r\n"
            "k\r\n");
}

TEST_F(PubSubFamilyTest, OnlyEnabledClassesAreSent) {
  // Generic events only, key-event channel only: SET ($) is silent, DEL (g) is not.
  Run({"config", "set", "notify-keyspace-events", "Eg"});
  EXPECT_EQ(Run({"config", "get", "notify-keyspace-events"}).strings(),
            (std::vector<std::string>{"notify-keyspace-events", "gE"}));
  RunRaw({"subscribe", "__keyevent@0__:set", "__keyevent@0__:del"}, "sub");
  Run({"set", "k", "v"});
  Run({"del", "k"});
  EXPECT_EQ(Pending("sub"), Message("__keyevent@0__:del", "k"));
}

TEST_F(PubSubFamilyTest, NewKeyEventComesBeforeTheCommandsOwn) {
  Run({"config", "set", "notify-keyspace-events", "En$"});
  RunRaw({"psubscribe", "__keyevent@0__:*"}, "sub");
  Run({"set", "k", "v"});  // new key: "new", then "set"
  Run({"set", "k", "w"});  // existing key: "set" only
  std::string got = Pending("sub");
  auto at = [&](std::string_view event) {
    return got.find("__keyevent@0__:" + std::string(event));
  };
  ASSERT_NE(at("new"), std::string::npos) << got;
  EXPECT_LT(at("new"), at("set"));
  EXPECT_EQ(got.find("__keyevent@0__:new", at("new") + 1), std::string::npos) << got;
}

TEST_F(PubSubFamilyTest, ExpiredEventFromLazyExpiry) {
  Run({"config", "set", "notify-keyspace-events", "Ex"});
  Run({"debug", "set-active-expire", "0"});
  Run({"set", "k", "v", "px", "100"});
  RunRaw({"subscribe", "__keyevent@0__:expired"}, "sub");
  AdvanceMs(200);
  EXPECT_TRUE(Run({"get", "k"}).is_null());
  EXPECT_EQ(Pending("sub"), Message("__keyevent@0__:expired", "k"));
}

TEST_F(PubSubFamilyTest, KeyMissEventsNeedTheirOwnFlag) {
  Run({"config", "set", "notify-keyspace-events", "EA"});  // A leaves out m
  RunRaw({"subscribe", "__keyevent@0__:keymiss"}, "sub");
  Run({"get", "nothing"});
  EXPECT_EQ(Pending("sub"), "");
  Run({"config", "set", "notify-keyspace-events", "Em"});
  Run({"get", "nothing"});
  EXPECT_EQ(Pending("sub"), Message("__keyevent@0__:keymiss", "nothing"));
}

TEST_F(PubSubFamilyTest, InvalidEventClassIsRefused) {
  EXPECT_EQ(RunRaw({"config", "set", "notify-keyspace-events", "KEQ"}),
            "-ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - "
            "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.\r\n");
}

// ---- output buffer limits ----

TEST_F(PubSubFamilyTest, HardLimitDisconnectsASubscriberThatDoesNotRead) {
  Run({"config", "set", "client-output-buffer-limit", "pubsub 4kb 0 0"});
  RunRaw({"subscribe", "feed"}, "slow");
  RunRaw({"subscribe", "feed"}, "fast");
  const std::string payload(1000, 'x');
  int published = 0;
  while (!Closed("slow") && published < 100) {
    Run({"publish", "feed", payload});
    ++published;
    Pending("fast");  // this one keeps up
  }
  EXPECT_TRUE(Closed("slow"));
  // Redis counts what overflows the 16 KB reply buffer: 4 KB beyond it is about 20 messages.
  EXPECT_GE(published, 17);
  EXPECT_LE(published, 21);
  // The others are unaffected, and the closed one no longer counts.
  EXPECT_FALSE(Closed("fast"));
  EXPECT_EQ(Run({"publish", "feed", "after"}).integer, 1);
  EXPECT_EQ(Pending("fast"), Message("feed", "after"));
}

TEST_F(PubSubFamilyTest, SoftLimitDisconnectsOnlyAfterItsGracePeriod) {
  Run({"config", "set", "client-output-buffer-limit", "pubsub 0 2kb 10"});
  RunRaw({"subscribe", "feed"}, "slow");
  const std::string payload(5000, 'x');
  for (int i = 0; i < 5; i++) Run({"publish", "feed", payload});  // 25 KB: 16 KB + 2 KB passed
  EXPECT_FALSE(Closed("slow"));  // over the soft limit, but not for 10 s yet
  AdvanceMs(11000);
  Run({"publish", "feed", payload});
  EXPECT_TRUE(Closed("slow"));
}

TEST_F(PubSubFamilyTest, SoftLimitClockRestartsWhenTheClientCatchesUp) {
  Run({"config", "set", "client-output-buffer-limit", "pubsub 0 2kb 10"});
  RunRaw({"subscribe", "feed"}, "sub");
  const std::string payload(5000, 'x');
  for (int i = 0; i < 4; i++) Run({"publish", "feed", payload});  // over 16 KB + 2 KB
  AdvanceMs(6000);
  Pending("sub");  // reads everything: back under the limit
  Run({"publish", "feed", payload});
  AdvanceMs(6000);
  for (int i = 0; i < 4; i++) Run({"publish", "feed", payload});
  EXPECT_FALSE(Closed("sub"));  // over again, but only just now
}

TEST_F(PubSubFamilyTest, NormalClassLimitAppliesToAClientsOwnReplies) {
  Run({"set", "big", std::string(3000, 'v')});
  Run({"config", "set", "client-output-buffer-limit", "normal 8kb 0 0"});
  std::string pipeline;
  for (int i = 0; i < 10; i++) pipeline += "*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n";
  Send(pipeline, "greedy");
  EXPECT_TRUE(Closed("greedy"));
  EXPECT_EQ(Run({"ping"}).str, "PONG");
}

TEST_F(PubSubFamilyTest, OutputBufferLimitConfigRoundTrips) {
  EXPECT_EQ(Run({"config", "get", "client-output-buffer-limit"}).strings(),
            (std::vector<std::string>{
                "client-output-buffer-limit",
                "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"}));
  Run({"config", "set", "client-output-buffer-limit", "pubsub 1mb 2k 3 replica 1 2 3"});
  EXPECT_EQ(Run({"config", "get", "client-output-buffer-limit"}).strings()[1],
            "normal 0 0 0 slave 1 2 3 pubsub 1048576 2000 3");
  EXPECT_EQ(RunRaw({"config", "set", "client-output-buffer-limit", "master 1 2 3"}),
            "-ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - "
            "Invalid client class specified in buffer limit configuration.\r\n");
}

}  // namespace
}  // namespace keyward::test
