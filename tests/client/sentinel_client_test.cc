// redis+sentinel:// in the synchronous and the asynchronous client, against real keyward-servers
// watched by a keyward sentinel: the master is found through the sentinels (one that is down is
// skipped), a name no sentinel knows and an address that is not a master are refused
// (kNoMaster), and after a failover the next connection finds the promoted replica.
#include <signal.h>

#include <thread>

#include "async_test_support.h"
#include "keyward/client/client.h"

namespace keyward::testing {
namespace {

using client::Client;
using client::ClientError;

// Polls `done` until it holds or `limit` passes (a failover takes a few seconds by design:
// down-after-milliseconds 1000, then the election and the promotion).
template <typename F>
bool Eventually(F done, std::chrono::seconds limit = std::chrono::seconds(90)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling interval
  }
  return true;
}

std::string Field(const client::Reply& info, const std::string& name) {
  auto text = info.as_string();
  if (!text) return "";
  const std::string key = name + ":";
  size_t at = text->find(key);
  if (at == std::string_view::npos) return "";
  size_t end = text->find("\r\n", at);
  return std::string(text->substr(at + key.size(), end - at - key.size()));
}

class SentinelClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The replica's first sync at once (Redis's default waits 5 s for more replicas).
    master_ = std::make_unique<ServerProcess>(
        ServerKind::kKeyward, std::vector<std::string>{"--repl-diskless-sync-delay", "0"});
    replica_ = std::make_unique<ServerProcess>(
        ServerKind::kKeyward,
        std::vector<std::string>{"--replicaof", "127.0.0.1", std::to_string(master_->port())});
    ASSERT_TRUE(Eventually([&] {
      return Field(replica_->RawCommand({"INFO", "replication"}), "master_link_status") == "up";
    }));
    sentinel_ = std::make_unique<ServerProcess>(
        ServerKind::kKeywardSentinel,
        std::vector<std::string>{
            "sentinel monitor m 127.0.0.1 " + std::to_string(master_->port()) + " 1",
            "sentinel down-after-milliseconds m 1000", "sentinel failover-timeout m 10000",
            // The replica under the name "r": what a sentinel names is checked with ROLE.
            "sentinel monitor r 127.0.0.1 " + std::to_string(replica_->port()) + " 1"});
    // A sentinel that is down: its port has nothing behind it.
    auto gone = std::make_unique<ServerProcess>(ServerKind::kKeyward);
    dead_port_ = gone->port();
    gone->Kill();
  }

  std::string Url(const std::string& name) {
    return "redis+sentinel://127.0.0.1:" + std::to_string(dead_port_) +
           ",127.0.0.1:" + std::to_string(sentinel_->port()) + "/" + name;
  }
  client::ClientOptions OptionsFor(const std::string& name) {
    auto options = client::OptionsFromUrl(Url(name));
    EXPECT_TRUE(options);
    options->connection.connect_timeout = std::chrono::seconds(5);
    return *options;
  }
  // Kills the master and waits until the sentinel names the replica.
  void FailOver() {
    master_->Kill();
    ASSERT_TRUE(Eventually([&] {
      client::Reply addr = sentinel_->RawCommand({"SENTINEL", "GET-MASTER-ADDR-BY-NAME", "m"});
      auto parts = addr.as_array();
      return parts && parts->size() == 2 &&
             (*parts)[1].as_string().value() == std::to_string(replica_->port()) &&
             Field(replica_->RawCommand({"INFO", "replication"}), "role") == "master";
    })) << "no failover";
  }

  std::unique_ptr<ServerProcess> master_, replica_, sentinel_;
  uint16_t dead_port_ = 0;
};

TEST_F(SentinelClientTest, SyncClientFindsTheMasterPastADeadSentinel) {
  Client c(OptionsFor("m"));
  ASSERT_FALSE(c.Connect());
  ASSERT_TRUE(c.Command("SET", "k", "v"));
  EXPECT_EQ(Field(*c.Command("INFO", "server"), "tcp_port"), std::to_string(master_->port()));
}

TEST_F(SentinelClientTest, ASentinelNamingANonMasterIsPassedOver) {
  // A sentinel with a stale view: it names the replica for "m". Asked first, it is passed over
  // for the next one, which names the master; that one is asked first from then on.
  ServerProcess stale(ServerKind::kKeywardSentinel,
                      {"sentinel monitor m 127.0.0.1 " + std::to_string(replica_->port()) + " 1"});
  auto options =
      client::OptionsFromUrl("redis+sentinel://127.0.0.1:" + std::to_string(stale.port()) +
                             ",127.0.0.1:" + std::to_string(sentinel_->port()) + "/m");
  ASSERT_TRUE(options);
  Client c(*options);
  ASSERT_FALSE(c.Connect());
  EXPECT_EQ(Field(*c.Command("INFO", "server"), "tcp_port"), std::to_string(master_->port()));
  // No sentinel answering at all is a transport error, not "no master".
  auto nobody =
      client::OptionsFromUrl("redis+sentinel://127.0.0.1:" + std::to_string(dead_port_) + "/m");
  ASSERT_TRUE(nobody);
  Client none(*nobody);
  std::error_code error = none.Connect();
  EXPECT_TRUE(error);
  EXPECT_NE(error, ClientError::kNoMaster);
}

TEST_F(SentinelClientTest, UnknownNameAndNonMasterAreRefused) {
  Client unknown(OptionsFor("nosuch"));
  EXPECT_EQ(unknown.Connect(), ClientError::kNoMaster);
  // The sentinel names the replica's address for "r": ROLE says slave, so it is not used.
  Client replica(OptionsFor("r"));
  EXPECT_EQ(replica.Connect(), ClientError::kNoMaster);
  EXPECT_EQ(std::error_code(ClientError::kNoMaster).message(),
            "no master: the sentinels do not name one, or it is not a master");
}

TEST_F(SentinelClientTest, SyncClientFollowsAFailover) {
  Client c(OptionsFor("m"));
  ASSERT_TRUE(c.Command("SET", "before", "1"));
  ASSERT_TRUE(c.Command("WAIT", 1, 5000));
  FailOver();
  // The next commands reconnect, asking the sentinel again: they reach the promoted replica.
  ASSERT_TRUE(Eventually([&] {
    auto r = c.Command("SET", "after", "2");
    return r && !r->is_error();
  }));
  EXPECT_EQ(Field(*c.Command("INFO", "server"), "tcp_port"), std::to_string(replica_->port()));
  EXPECT_EQ(c.Command("GET", "before")->as_string().value(), "1");
}

class SentinelAsyncClientTest : public SentinelClientTest {
 protected:
  EventLoop loop_;
};

TEST_F(SentinelAsyncClientTest, AsyncClientFindsAndFollowsTheMaster) {
  client::ClientOptions options = OptionsFor("m");
  options.reconnect.initial_delay = std::chrono::milliseconds(5);
  options.reconnect.max_delay = std::chrono::milliseconds(50);
  client::AsyncClient c(loop_.executor(), options);
  auto port_of = [&] {
    auto info = loop_.Await(c.Command("INFO", "server"));
    return info ? Field(*info, "tcp_port") : std::string();
  };
  EXPECT_FALSE(loop_.Await(c.Connect()));
  EXPECT_EQ(port_of(), std::to_string(master_->port()));
  FailOver();
  ASSERT_TRUE(Eventually([&] {
    auto r = loop_.Await(c.Command("SET", "after", "2"));
    return r && !r->is_error();
  }));
  EXPECT_EQ(port_of(), std::to_string(replica_->port()));

  client::AsyncClient unknown(loop_.executor(), OptionsFor("nosuch"));
  EXPECT_EQ(loop_.Await(unknown.Connect()), ClientError::kNoMaster);
}

}  // namespace
}  // namespace keyward::testing
