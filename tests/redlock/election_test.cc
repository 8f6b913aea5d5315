// Leader election on 1 and 3 keyward-servers: campaign (blocking until elected), the advertised
// value, leader(), observe, resign, terms that increase with every leader, a deposed leader's
// writes refused, the loss signal, and the refusal on plain Redis.
#include "keyward/redlock/election.h"

#include <gtest/gtest.h>

#include <asio/post.hpp>
#include <atomic>
#include <future>
#include <thread>

#include "redlock_test_support.h"

namespace keyward::testing {
namespace {

using redlock::Election;
using redlock::ElectionOptions;
using redlock::Error;
using redlock::LeaderInfo;
using redlock::Leadership;
using redlock::LockError;
using redlock::Observer;
using redlock::Redlock;
using redlock::Result;

ElectionOptions Fast() {
  ElectionOptions options;
  options.ttl = 3000ms;
  options.observe_period = 50ms;
  return options;
}

class ElectionTest : public ClusterTest {};

TEST_P(ElectionTest, CampaignAdvertisesAndLeaderReadsItBack) {
  Redlock redlock(cluster().urls(), TestOptions());
  Election election(redlock.async(), "scheduler", Fast());
  Result<std::optional<LeaderInfo>> nobody = redlock.Run(election.Leader());
  ASSERT_TRUE(nobody) << nobody.error().message();
  EXPECT_FALSE(*nobody);

  Result<Leadership> leadership = redlock.Run(election.Campaign("10.0.0.7:8080"));
  ASSERT_TRUE(leadership) << leadership.error().message();
  EXPECT_GT(leadership->term(), 0u);
  EXPECT_EQ(leadership->term(), *leadership->lease().fencing_token());

  Result<std::optional<LeaderInfo>> leader = redlock.Run(election.Leader());
  ASSERT_TRUE(leader && *leader) << (leader ? "no leader" : leader.error().message());
  EXPECT_EQ((*leader)->owner, leadership->lease().owner());
  EXPECT_EQ((*leader)->term, leadership->term());
  EXPECT_EQ((*leader)->value, "10.0.0.7:8080");
  // Stored as "<term> <value>" under NAME:leader.
  EXPECT_EQ(cluster().Values("scheduler:leader")[0],
            std::to_string(leadership->term()) + " 10.0.0.7:8080");

  ASSERT_FALSE(redlock.Run(leadership->Proclaim("10.0.0.7:9090")));
  leader = redlock.Run(election.Leader());
  ASSERT_TRUE(leader && *leader);
  EXPECT_EQ((*leader)->value, "10.0.0.7:9090");
  ASSERT_FALSE(redlock.Run(leadership->Resign()));
  leader = redlock.Run(election.Leader());
  ASSERT_TRUE(leader);
  EXPECT_FALSE(*leader);
}

TEST_P(ElectionTest, ASecondCandidateWaitsAndTakesOverWithAHigherTerm) {
  Redlock first_node(cluster().urls(), TestOptions());
  Redlock second_node(cluster().urls(), TestOptions());
  Election first(first_node.async(), "scheduler", Fast());
  Election second(second_node.async(), "scheduler", Fast());
  Result<Leadership> a = first_node.Run(first.Campaign("a"));
  ASSERT_TRUE(a) << a.error().message();

  std::optional<Result<Leadership>> b;
  std::atomic<bool> b_done{false};
  std::thread candidate([&] {
    b.emplace(second_node.Run(second.Campaign("b")));
    b_done = true;
  });
  // The second candidate is queued behind the leader (LOCK.WAIT or LOCK.ACQUIRE ... WAIT).
  ASSERT_TRUE(WaitUntil([&] {
    for (size_t i = 0; i < cluster().size(); ++i) {
      if (cluster().InfoInteger(i, "scheduler", "waiters") > 0) return true;
    }
    return false;
  }));
  EXPECT_FALSE(b_done.load());
  ASSERT_FALSE(first_node.Run(a->Resign()));
  candidate.join();
  ASSERT_TRUE(*b) << b->error().message();
  EXPECT_GT((*b)->term(), a->term());

  Result<std::optional<LeaderInfo>> leader = first_node.Run(first.Leader());
  ASSERT_TRUE(leader && *leader);
  EXPECT_EQ((*leader)->value, "b");
  EXPECT_EQ((*leader)->term, (*b)->term());
  ASSERT_FALSE(second_node.Run((*b)->Resign()));
}

TEST_P(ElectionTest, ObserveStreamsEveryChange) {
  Redlock observer_node(cluster().urls(), TestOptions());
  Redlock leader_node(cluster().urls(), TestOptions());
  Election watching(observer_node.async(), "scheduler", Fast());
  Election leading(leader_node.async(), "scheduler", Fast());
  Observer observer = watching.Observe();

  auto first = observer_node.Run(observer.Next());
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_FALSE(*first);  // nobody leads yet

  Result<Leadership> leadership = leader_node.Run(leading.Campaign("v1"));
  ASSERT_TRUE(leadership);
  auto elected = observer_node.Run(observer.Next());
  ASSERT_TRUE(elected && *elected);
  EXPECT_EQ((*elected)->value, "v1");
  EXPECT_EQ((*elected)->term, leadership->term());

  ASSERT_FALSE(leader_node.Run(leadership->Proclaim("v2")));
  auto proclaimed = observer_node.Run(observer.Next());
  ASSERT_TRUE(proclaimed && *proclaimed);
  EXPECT_EQ((*proclaimed)->value, "v2");

  // Resigning wakes the observer through LOCK.WAIT.
  ASSERT_FALSE(leader_node.Run(leadership->Resign()));
  auto resigned = observer_node.Run(observer.Next());
  ASSERT_TRUE(resigned);
  EXPECT_FALSE(*resigned);
}

TEST_P(ElectionTest, ObserversAreWokenByTheServersLockEventsNotByPolling) {
  // A period far longer than the test: every change below must reach the observer through the
  // server's events on __lock@0__:scheduler (and the leader's "proclaimed" on the same channel),
  // or the Next() calls would not return.
  ElectionOptions slow = Fast();
  slow.observe_period = std::chrono::hours(1);
  Redlock observer_node(cluster().urls(), TestOptions());
  Redlock leader_node(cluster().urls(), TestOptions());
  Election watching(observer_node.async(), "scheduler", slow);
  Election leading(leader_node.async(), "scheduler", Fast());
  Observer observer = watching.Observe();
  auto first = observer_node.Run(observer.Next());
  ASSERT_TRUE(first && !*first);

  Result<Leadership> leadership = leader_node.Run(leading.Campaign("v1"));
  ASSERT_TRUE(leadership);
  // The lock is taken before the value is written: the observer may see the leader first with
  // no value, then with it.
  std::optional<LeaderInfo> seen;
  while (!seen || !seen->value) {
    auto next = observer_node.Run(observer.Next());
    ASSERT_TRUE(next && *next) << (next ? "no leader" : next.error().message());
    EXPECT_EQ((*next)->term, leadership->term());
    seen = *next;
  }
  EXPECT_EQ(seen->value, "v1");
  ASSERT_FALSE(leader_node.Run(leadership->Proclaim("v2")));
  auto proclaimed = observer_node.Run(observer.Next());
  ASSERT_TRUE(proclaimed && *proclaimed);
  EXPECT_EQ((*proclaimed)->value, "v2");
  ASSERT_FALSE(leader_node.Run(leadership->Resign()));
  auto resigned = observer_node.Run(observer.Next());
  ASSERT_TRUE(resigned);
  EXPECT_FALSE(*resigned);
}

TEST_P(ElectionTest, ADeposedLeaderIsFencedAndToldItLost) {
  Redlock old_node(cluster().urls(), TestOptions());
  Redlock new_node(cluster().urls(), TestOptions());
  Election old_election(old_node.async(), "scheduler", Fast());
  Election new_election(new_node.async(), "scheduler", Fast());
  Result<Leadership> old_leader = old_node.Run(old_election.Campaign("old"));
  ASSERT_TRUE(old_leader);

  // The old leader's process stalls (its thread is blocked, as in a long GC pause), its lock
  // vanishes everywhere meanwhile, and a new leader is elected before it wakes up.
  std::promise<void> wake;
  std::future<void> woken = wake.get_future();
  std::atomic<bool> stalled{false};
  asio::post(old_node.async().executor(), [&stalled, &woken] {
    stalled = true;
    woken.wait();
  });
  ASSERT_TRUE(WaitUntil([&] { return stalled.load(); }));
  for (size_t i = 0; i < cluster().size(); ++i) {
    cluster()[i].RawCommand({"LOCK.RELEASE", "scheduler", old_leader->lease().owner()});
  }
  Result<Leadership> new_leader = new_node.Run(new_election.Campaign("new"));
  ASSERT_TRUE(new_leader) << new_leader.error().message();
  EXPECT_GT(new_leader->term(), old_leader->term());
  wake.set_value();

  // Its late write is refused, and its lease reports the loss at its next renewal.
  Error late = old_node.Run(old_leader->Proclaim("stale"));
  EXPECT_EQ(late, LockError::kLeaseLost) << late.message();
  EXPECT_TRUE(WaitUntil([&] { return old_leader->lease().stop_token().stop_requested(); }));
  EXPECT_NE(old_leader->lease().loss().detail.find("another owner"), std::string::npos)
      << old_leader->lease().loss().message();
  auto leader = new_node.Run(new_election.Leader());
  ASSERT_TRUE(leader && *leader);
  EXPECT_EQ((*leader)->value, "new");
  EXPECT_EQ((*leader)->term, new_leader->term());
}

// Every instance restarts without its data, one at a time: the leader's renewal gives each its
// lock back (and the leader re-advertises its value there), and readers still find the leader
// with its term and value, not a restarted instance's boot floor.
TEST(ElectionRollingRestartTest, TheLeaderIsFoundWithItsTermAndValueAfterEveryInstanceRestarted) {
  Cluster cluster(ServerKind::kKeyward, 3);
  RequireLockCommands(cluster);
  Redlock redlock(cluster.urls(), TestOptions());
  ElectionOptions options;
  options.ttl = 1500ms;  // renewed every 500 ms
  Election election(redlock.async(), "scheduler", options);
  Result<Leadership> leadership = redlock.Run(election.Campaign("node-a"));
  ASSERT_TRUE(leadership) << leadership.error().message();
  const std::string owner = leadership->lease().owner();
  const std::string advertised = std::to_string(leadership->term()) + " node-a";
  for (size_t i = 0; i < cluster.size(); ++i) {
    cluster[i].Restart();
    ASSERT_TRUE(WaitUntil([&] {
      return cluster.Values("scheduler")[i] == owner &&
             cluster.Values("scheduler:leader")[i] == advertised;
    })) << "instance "
        << i << " did not get the lock and the value back";
  }
  ASSERT_FALSE(leadership->lease().lost()) << leadership->lease().loss().message();
  Result<std::optional<LeaderInfo>> leader = redlock.Run(election.Leader());
  ASSERT_TRUE(leader && *leader) << (leader ? "no leader" : leader.error().message());
  EXPECT_EQ((*leader)->owner, owner);
  EXPECT_EQ((*leader)->term, leadership->term());
  EXPECT_EQ((*leader)->value, "node-a");
  ASSERT_FALSE(redlock.Run(leadership->Resign()));
}

// A majority that refuses connections fails each read at once; a loop on Next() (`keyward observe`)
// must not spin on it: consecutive errors are spaced by a doubling backoff. (A lower bound on the
// elapsed time: a slow machine only makes it longer.)
TEST(ElectionUnreachableTest, ObserveBacksOffWhileNoMajorityAnswers) {
  Cluster cluster(ServerKind::kKeyward, 1);
  std::vector<std::string> urls = cluster.urls();
  for (int i = 0; i < 2; ++i) urls.push_back("redis://127.0.0.1:" + std::to_string(FreePort()));
  Redlock redlock(urls, TestOptions());
  ElectionOptions options;
  options.observe_period = 400ms;
  Election election(redlock.async(), "dark", options);
  Observer observer = election.Observe();
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) {
    auto read = redlock.Run(observer.Next());
    ASSERT_FALSE(read);
    EXPECT_EQ(read.error(), LockError::kNoQuorum) << read.error().message();
  }
  // 50 + 100 + 200 + 400 ms of backoff before the second to fifth reads (capped at the period).
  EXPECT_GE(std::chrono::steady_clock::now() - started, 750ms);
}

TEST_P(ElectionTest, CampaignWithADeadlineTimesOut) {
  Redlock a_node(cluster().urls(), TestOptions());
  Redlock b_node(cluster().urls(), TestOptions());
  Election a(a_node.async(), "scheduler", Fast());
  Election b(b_node.async(), "scheduler", Fast());
  Result<Leadership> leader = a_node.Run(a.Campaign("a"));
  ASSERT_TRUE(leader);
  Result<Leadership> late = b_node.Run(b.Campaign("b", 200ms));
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error(), LockError::kTimedOut) << late.error().message();
}

TEST_P(ElectionTest, ALeadershipDroppedWithItsRedlockIsStillReleased) {
  std::string owner;
  {
    Redlock redlock(cluster().urls(), TestOptions());
    Election election(redlock.async(), "scheduler", Fast());
    Result<Leadership> leadership = redlock.Run(election.Campaign("v"));
    ASSERT_TRUE(leadership) << leadership.error().message();
    owner = leadership->lease().owner();
    // The leadership goes first (declared last): its lease is released in the background, and
    // the Redlock lets that finish before it closes.
  }
  EXPECT_EQ(cluster().CountHolding("scheduler", owner), 0u);
}

INSTANTIATE_TEST_SUITE_P(Clusters, ElectionTest,
                         ::testing::Values(ClusterSpec{ServerKind::kKeyward, 1},
                                           ClusterSpec{ServerKind::kKeyward, 3}),
                         ClusterName);

TEST(ElectionOnRedisTest, NeedsKeyward) {
  if (!RedisAvailable()) GTEST_SKIP() << "redis-server is not installed";
  Cluster cluster(ServerKind::kRedis, 3);
  Redlock redlock(cluster.urls(), TestOptions());
  Election election(redlock.async(), "scheduler", Fast());
  Result<Leadership> leadership = redlock.Run(election.Campaign("v", 1000ms));
  ASSERT_FALSE(leadership);
  EXPECT_EQ(leadership.error(), LockError::kFencingUnavailable) << leadership.error().message();
  EXPECT_EQ(redlock.Run(election.Leader()).error(), LockError::kFencingUnavailable);
}

}  // namespace
}  // namespace keyward::testing
