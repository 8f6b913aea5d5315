// Pub/sub against real servers: channel and pattern subscriptions, the push handler, pushes
// interleaved with replies on one connection, subscriptions restored after a restart, and the
// synchronous Client's ReceivePush().
//
// Nothing here sleeps: every wait is RunUntil(condition), and the durations in it are deadlines
// that only a broken client reaches.
#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "async_test_support.h"
#include "keyward/client/async_client.h"
#include "keyward/client/client.h"

namespace keyward::testing {
namespace {

using client::AsyncClient;
using client::Client;
using client::ClientError;
using client::ConnectionEvent;
using client::Reply;
using Kind = ConnectionEvent::Kind;
using namespace std::chrono_literals;

// ---- 9. pub/sub ----

class PubSubTest : public AsyncClientTest {
 protected:
  void SetUp() override {
    AsyncClientTest::SetUp();
    if (IsSkipped()) return;
  }

  // PUBLISH from another connection; the number of subscribers that got it.
  int64_t Publish(const std::string& channel, const std::string& message) {
    auto receivers = server().RawCommand({"PUBLISH", channel, message}).as_integer();
    return receivers ? *receivers : -1;
  }

  std::vector<std::string> NextPush(AsyncClient& client) {
    auto push = loop_.Await(client.ReceivePush());
    if (!push) return {"<error: " + push.error().message() + ">"};
    return Texts(*push);
  }
};

using Strings = std::vector<std::string>;

TEST_P(PubSubTest, SubscribeThenReceiveMessages) {
  AsyncClient client(loop_.executor(), Options());
  auto subscribed = loop_.Await(client.Exec(Make({{"SUBSCRIBE", "news"}})));
  ASSERT_TRUE(subscribed) << subscribed.error().message();
  EXPECT_TRUE(subscribed->empty());  // confirmations are pushes, not replies
  EXPECT_EQ(NextPush(client), (Strings{"subscribe", "news", "1"}));
  // The confirmation means the server has the subscription: a PUBLISH now reaches it.
  EXPECT_EQ(Publish("news", "hello"), 1);
  EXPECT_EQ(NextPush(client), (Strings{"message", "news", "hello"}));
  EXPECT_EQ(Publish("news", "again"), 1);
  EXPECT_EQ(NextPush(client), (Strings{"message", "news", "again"}));
}

TEST_P(PubSubTest, PatternAndChannelBothDeliverOnePublish) {
  AsyncClient client(loop_.executor(), Options());
  ASSERT_TRUE(
      loop_.Await(client.Exec(Make({{"SUBSCRIBE", "news.tech"}, {"PSUBSCRIBE", "news.*"}}))));
  EXPECT_EQ(NextPush(client), (Strings{"subscribe", "news.tech", "1"}));
  EXPECT_EQ(NextPush(client), (Strings{"psubscribe", "news.*", "2"}));
  EXPECT_EQ(Publish("news.tech", "chips"), 2);
  std::set<Strings> received = {NextPush(client), NextPush(client)};
  EXPECT_EQ(received, (std::set<Strings>{{"message", "news.tech", "chips"},
                                         {"pmessage", "news.*", "news.tech", "chips"}}));
  // Only the pattern matches this one.
  EXPECT_EQ(Publish("news.sport", "goal"), 1);
  EXPECT_EQ(NextPush(client), (Strings{"pmessage", "news.*", "news.sport", "goal"}));
}

TEST_P(PubSubTest, PushHandlerReceivesPushes) {
  AsyncClient client(loop_.executor(), Options());
  // Shared: the handler belongs to the client, whose run loop may outlive this frame briefly.
  auto pushes = std::make_shared<std::vector<Strings>>();
  client.SetPushHandler([pushes](const Reply& push) { pushes->push_back(Texts(push)); });
  ASSERT_TRUE(loop_.Await(client.Exec(Make({{"SUBSCRIBE", "news"}}))));
  ASSERT_TRUE(loop_.RunUntil([&] { return pushes->size() == 1; }));
  EXPECT_EQ(Publish("news", "hello"), 1);
  ASSERT_TRUE(loop_.RunUntil([&] { return pushes->size() == 2; }));
  EXPECT_EQ(*pushes,
            (std::vector<Strings>{{"subscribe", "news", "1"}, {"message", "news", "hello"}}));
  // Nothing went to the ReceivePush() queue meanwhile: switching back finds it empty, and the
  // next message lands there.
  client.SetPushHandler({});
  EXPECT_EQ(Publish("news", "queued"), 1);
  EXPECT_EQ(NextPush(client), (Strings{"message", "news", "queued"}));
  EXPECT_EQ(pushes->size(), 2u);
}

TEST_P(PubSubTest, CommandsInterleaveWithPushesOnOneConnection) {
  AsyncClient client(loop_.executor(), Options());
  ASSERT_TRUE(loop_.Await(client.Exec(Make({{"SUBSCRIBE", "news"}}))));
  EXPECT_EQ(NextPush(client), (Strings{"subscribe", "news", "1"}));
  // On RESP3 a subscribed connection runs any command; its own PUBLISHes come back as pushes
  // between the replies, and neither may be mistaken for the other.
  auto replies = loop_.Await(client.Exec(Make({{"PUBLISH", "news", "m1"},
                                               {"ECHO", "x"},
                                               {"PUBLISH", "news", "m2"},
                                               {"SET", "k", "v"},
                                               {"GET", "k"}})));
  ASSERT_TRUE(replies) << replies.error().message();
  EXPECT_EQ(Texts(Reply::Aggregate(client::ReplyType::kArray, std::move(*replies))),
            (Strings{"1", "x", "1", "OK", "v"}));
  EXPECT_EQ(NextPush(client), (Strings{"message", "news", "m1"}));
  EXPECT_EQ(NextPush(client), (Strings{"message", "news", "m2"}));
}

TEST_P(PubSubTest, SubscriptionsAreRestoredAfterTheServerRestarts) {
  AsyncClient client(loop_.executor(), FastOptions());
  EventLog log;
  client.SetConnectionHandler(log.Handler());
  ASSERT_TRUE(loop_.Await(client.Exec(Make({{"SUBSCRIBE", "news"}, {"PSUBSCRIBE", "alerts.*"}}))));
  EXPECT_EQ(NextPush(client), (Strings{"subscribe", "news", "1"}));
  EXPECT_EQ(NextPush(client), (Strings{"psubscribe", "alerts.*", "2"}));
  server().Restart();
  ASSERT_TRUE(loop_.RunUntil([&] { return log.Count(Kind::kConnected) == 2; }));
  // Nobody asked: the client subscribed again, and the confirmations say so.
  std::set<Strings> restored = {NextPush(client), NextPush(client)};
  EXPECT_EQ(restored,
            (std::set<Strings>{{"subscribe", "news", "1"}, {"psubscribe", "alerts.*", "2"}}));
  EXPECT_EQ(Publish("news", "after-restart"), 1);
  EXPECT_EQ(NextPush(client), (Strings{"message", "news", "after-restart"}));
  EXPECT_EQ(Publish("alerts.fire", "drill"), 1);
  EXPECT_EQ(NextPush(client), (Strings{"pmessage", "alerts.*", "alerts.fire", "drill"}));
}

TEST_P(PubSubTest, SyncClientReceivesPushes) {
  Client client(Options());
  auto subscribed = client.Exec(Make({{"SUBSCRIBE", "news"}}));
  ASSERT_TRUE(subscribed) << subscribed.error().message();
  EXPECT_TRUE(subscribed->empty());
  auto confirmation = client.ReceivePush(std::chrono::seconds(10));
  ASSERT_TRUE(confirmation) << confirmation.error().message();
  EXPECT_EQ(Texts(*confirmation), (Strings{"subscribe", "news", "1"}));
  EXPECT_EQ(Publish("news", "hello"), 1);
  auto message = client.ReceivePush(std::chrono::seconds(10));
  ASSERT_TRUE(message) << message.error().message();
  EXPECT_EQ(Texts(*message), (Strings{"message", "news", "hello"}));
  // Nothing published: the wait ends at its limit, and the connection is still usable.
  auto nothing = client.ReceivePush(50ms);
  ASSERT_FALSE(nothing);
  EXPECT_EQ(nothing.error(), ClientError::kTimeout);
  EXPECT_EQ(client.Command("ECHO", "still-here")->as_string().value(), "still-here");
}

KEYWARD_INSTANTIATE_SERVER_TEST(PubSubTest);

}  // namespace
}  // namespace keyward::testing
