// Redlock against real servers, over 1, 3 and 5 keyward-servers and 3 redis-servers: acquire,
// exclusion, release, extend, re-entry, fencing tokens (and their absence on Redis), the reasons
// given on failure, a minority unreachable, and the validity rule.
#include <gtest/gtest.h>

#include <csignal>
#include <thread>

#include "redlock_test_support.h"

namespace keyward::testing {
namespace {

using redlock::AcquireOptions;
using redlock::Backend;
using redlock::Lock;
using redlock::LockError;
using redlock::Redlock;
using redlock::Result;

AcquireOptions NoRetry(Millis ttl = 10000ms) {
  AcquireOptions options;
  options.ttl = ttl;
  options.retry_count = 0;
  return options;
}

class LockTest : public ClusterTest {};

TEST_P(LockTest, AcquireHoldsOnAMajorityAndExcludesOthersUntilReleased) {
  Redlock alice(cluster().urls(), TestOptions());
  Redlock bob(cluster().urls(), TestOptions());
  Result<Lock> lock = alice.Acquire("orders:42", NoRetry());
  ASSERT_TRUE(lock) << lock.error().message();
  EXPECT_EQ(lock->owner.size(), 40u);  // 20 random bytes, hex
  EXPECT_GT(lock->validity(), std::chrono::steady_clock::duration::zero());
  EXPECT_GE(cluster().CountHolding("orders:42", lock->owner), redlock::Majority(cluster().size()));

  Result<Lock> refused = bob.Acquire("orders:42", NoRetry());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), LockError::kHeldByOther) << refused.error().message();
  ASSERT_TRUE(refused.error().holder_ttl);
  EXPECT_LE(*refused.error().holder_ttl, 10000ms);
  EXPECT_NE(refused.error().message().find("held by another owner"), std::string::npos);
  // A failed attempt leaves nothing of bob's behind.
  for (const std::string& value : cluster().Values("orders:42")) EXPECT_EQ(value, lock->owner);

  EXPECT_FALSE(alice.Release(*lock));
  EXPECT_TRUE(ReleasedEverywhere(cluster(), "orders:42", lock->owner));
  Result<Lock> next = bob.Acquire("orders:42", NoRetry());
  ASSERT_TRUE(next) << next.error().message();
  EXPECT_FALSE(bob.Release(*next));
}

TEST_P(LockTest, BackendsAreDetectedAndFencingTokensIncreaseOnKeyward) {
  Redlock redlock(cluster().urls(), TestOptions());
  ASSERT_FALSE(redlock.Connect());
  for (const auto& status : redlock.instances()) {
    EXPECT_EQ(status.backend, keyward() ? Backend::kKeyward : Backend::kRedis) << status.url;
  }
  std::vector<uint64_t> tokens;
  for (int i = 0; i < 5; ++i) {
    Result<Lock> lock = redlock.Acquire("tokens", NoRetry());
    ASSERT_TRUE(lock) << lock.error().message();
    auto token = lock->fencing_token();
    if (keyward()) {
      ASSERT_TRUE(token) << token.error().message();
      tokens.push_back(*token);
    } else {
      EXPECT_EQ(token.error(), LockError::kFencingUnavailable);
    }
    ASSERT_FALSE(redlock.Release(*lock));
  }
  for (size_t i = 1; i < tokens.size(); ++i) EXPECT_GT(tokens[i], tokens[i - 1]);

  AcquireOptions fenced = NoRetry();
  fenced.require_fencing = true;
  Result<Lock> lock = redlock.Acquire("tokens", fenced);
  if (keyward()) {
    EXPECT_TRUE(lock) << lock.error().message();
  } else {
    ASSERT_FALSE(lock);
    EXPECT_EQ(lock.error(), LockError::kFencingUnavailable);
    // The refusal happens before anything is taken.
    EXPECT_EQ(cluster().CountHolding("tokens", ""), cluster().size());
  }
}

TEST_P(LockTest, ReentryBySameOwnerKeepsTheToken) {
  Redlock redlock(cluster().urls(), TestOptions());
  Result<Lock> first = redlock.Acquire("reentrant", NoRetry());
  ASSERT_TRUE(first) << first.error().message();
  AcquireOptions again = NoRetry();
  again.owner = first->owner;
  Result<Lock> second = redlock.Acquire("reentrant", again);
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_EQ(second->token, first->token);
  EXPECT_FALSE(redlock.Release(*second));
}

TEST_P(LockTest, ReentryKeepsTheTokenAfterAContendersFence) {
  Redlock redlock(cluster().urls(), TestOptions());
  Result<Lock> first = redlock.Acquire("contended", NoRetry());
  ASSERT_TRUE(first) << first.error().message();
  // A contender that lost the race commits nothing, but its FENCE moves the counters past the
  // holder's token everywhere. (Redis has no counters: the re-entry has no token either.)
  ASSERT_EQ(first->token.has_value(), keyward());
  for (size_t i = 0; i < cluster().size() && keyward(); ++i) {
    cluster()[i].RawCommand(
        {"LOCK.FENCE", "contended", "loser", std::to_string(*first->token + 5)});
  }
  AcquireOptions again = NoRetry();
  again.owner = first->owner;
  Result<Lock> second = redlock.Acquire("contended", again);
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_EQ(second->token, first->token);
  EXPECT_FALSE(redlock.Release(*second));
}

// A re-entry that fails (here: a majority paused, so no quorum) must not release the lock the
// caller still holds.
TEST_P(LockTest, AFailedReentryLeavesTheHeldLockAlone) {
  Redlock redlock(cluster().urls(), TestOptions());
  Result<Lock> held = redlock.Acquire("kept", NoRetry(60000ms));
  ASSERT_TRUE(held) << held.error().message();
  const size_t majority = redlock::Majority(cluster().size());
  for (size_t i = 0; i < majority; ++i) cluster()[i].Signal(SIGSTOP);
  AcquireOptions again = NoRetry(60000ms);
  again.owner = held->owner;
  Result<Lock> reentry = redlock.Acquire("kept", again);
  for (size_t i = 0; i < majority; ++i) cluster()[i].Signal(SIGCONT);
  ASSERT_FALSE(reentry);
  EXPECT_EQ(reentry.error(), LockError::kNoQuorum) << reentry.error().message();
  // Whatever the failed attempt sent is answered before this extension (one connection per
  // instance, replies in order): the lock is still the caller's everywhere.
  EXPECT_FALSE(redlock.Extend(*held, 60000ms));
  EXPECT_EQ(cluster().CountHolding("kept", held->owner), cluster().size());
  EXPECT_FALSE(redlock.Release(*held));
}

TEST_P(LockTest, ExtendRestartsTheLeaseOnlyForTheHolder) {
  Redlock redlock(cluster().urls(), TestOptions());
  Result<Lock> lock = redlock.Acquire("extend", NoRetry(2000ms));
  ASSERT_TRUE(lock) << lock.error().message();
  const auto before = lock->valid_until;
  ASSERT_FALSE(redlock.Extend(*lock, 60000ms));
  EXPECT_GT(lock->valid_until, before);
  EXPECT_EQ(lock->ttl, 60000ms);
  // The instances now expire it later than the first TTL ever allowed.
  for (size_t i = 0; i < cluster().size(); ++i) {
    auto pttl = cluster()[i].RawCommand({"PTTL", "extend"}).as_integer();
    ASSERT_TRUE(pttl);
    EXPECT_GT(*pttl, 2000);
  }
  ASSERT_FALSE(redlock.Release(*lock));
  redlock::Error late = redlock.Extend(*lock, 60000ms);
  EXPECT_EQ(late, LockError::kNotHeld) << late.message();
  EXPECT_TRUE(ReleasedEverywhere(cluster(), "extend", lock->owner));
}

TEST_P(LockTest, ReleasingWhatIsNoLongerHeldSaysSo) {
  Redlock redlock(cluster().urls(), TestOptions());
  Result<Lock> lock = redlock.Acquire("gone", NoRetry());
  ASSERT_TRUE(lock);
  ASSERT_FALSE(redlock.Release(*lock));
  redlock::Error again = redlock.Release(*lock);
  EXPECT_EQ(again, LockError::kNotHeld) << again.message();
  // Another owner's lock is never released by a stale holder.
  Result<Lock> other = redlock.Acquire("gone", NoRetry());
  ASSERT_TRUE(other);
  EXPECT_EQ(redlock.Release(*lock), LockError::kNotHeld);
  EXPECT_GE(cluster().CountHolding("gone", other->owner), redlock::Majority(cluster().size()));
}

TEST_P(LockTest, NoLockIsHandedOutWithoutValidity) {
  // ttl 2 ms: the drift alone (2.02 ms) exceeds it, so the validity is never positive.
  Redlock redlock(cluster().urls(), TestOptions());
  Result<Lock> lock = redlock.Acquire("instant", NoRetry(2ms));
  ASSERT_FALSE(lock);
  EXPECT_EQ(lock.error(), LockError::kTimedOut) << lock.error().message();
  EXPECT_NE(lock.error().detail.find("validity"), std::string::npos);
  // What was granted was released everywhere (or expired: 2 ms).
  EXPECT_TRUE(WaitUntil([&] { return cluster().CountHolding("instant", "") == cluster().size(); }));
}

TEST_P(LockTest, RetriesWithJitterUntilTheHoldersLeaseEnds) {
  Redlock alice(cluster().urls(), TestOptions());
  Redlock bob(cluster().urls(), TestOptions());
  // Alice never releases: her lease ending is what lets Bob in.
  Result<Lock> held = alice.Acquire("retry", NoRetry(300ms));
  ASSERT_TRUE(held) << held.error().message();
  AcquireOptions options;
  options.retry_count = 100000;
  options.retry_delay = 10ms;
  options.retry_jitter = 5ms;
  Result<Lock> lock = bob.Acquire("retry", options);
  ASSERT_TRUE(lock) << lock.error().message();
  if (keyward()) {
    EXPECT_GT(*lock->token, *held->token);
  }
  ASSERT_FALSE(bob.Release(*lock));
}

TEST_P(LockTest, LockGuardReleasesAtTheEndOfItsScope) {
  Redlock redlock(cluster().urls(), TestOptions());
  std::string owner;
  {
    Result<Lock> lock = redlock.Acquire("guarded", NoRetry());
    ASSERT_TRUE(lock) << lock.error().message();
    redlock::LockGuard guard(redlock, *lock);
    owner = guard.lock().owner;
    EXPECT_GE(cluster().CountHolding("guarded", owner), redlock::Majority(cluster().size()));
  }
  EXPECT_TRUE(ReleasedEverywhere(cluster(), "guarded", owner));
}

TEST_P(LockTest, InvalidArgumentsAreRefused) {
  Redlock redlock(cluster().urls(), TestOptions());
  EXPECT_EQ(redlock.Acquire("", NoRetry()).error(), LockError::kInvalidArgument);
  EXPECT_EQ(redlock.Acquire("x", NoRetry(0ms)).error(), LockError::kInvalidArgument);
  EXPECT_THROW(Redlock({}, TestOptions()), std::invalid_argument);
  EXPECT_THROW(Redlock({"redis://secret@host"}, TestOptions()), std::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(Clusters, LockTest,
                         ::testing::Values(ClusterSpec{ServerKind::kKeyward, 1},
                                           ClusterSpec{ServerKind::kKeyward, 3},
                                           ClusterSpec{ServerKind::kKeyward, 5},
                                           ClusterSpec{ServerKind::kRedis, 3}),
                         ClusterName);

// calls of `command` (lowercase) on `server`, from INFO commandstats.
int64_t Calls(ServerProcess& server, const std::string& command) {
  client::Reply info = server.RawCommand({"INFO", "commandstats"});
  auto text = info.as_string();
  if (!text) return -1;
  const std::string needle = "cmdstat_" + command + ":calls=";
  const size_t at = text->find(needle);
  if (at == std::string_view::npos) return 0;
  return std::stoll(std::string(text->substr(at + needle.size(), 20)));
}

// Over N instances a fenced acquisition commits its token in one round trip once the client
// knows the counters (LOCK.ACQUIRE ... PROPOSE), with no LOCK.FENCE round, and tokens still
// increase.
TEST(OneRoundTripTest, AFencedAcquisitionNeedsNoSecondRoundOnceTheCountersAreKnown) {
  Cluster cluster(ServerKind::kKeyward, 3);
  RequireLockCommands(cluster);
  Redlock redlock(cluster.urls(), TestOptions());
  Result<Lock> first = redlock.Acquire("quick", NoRetry());
  ASSERT_TRUE(first) << first.error().message();
  ASSERT_FALSE(redlock.Release(*first));
  std::vector<int64_t> fences;
  for (size_t i = 0; i < cluster.size(); ++i) fences.push_back(Calls(cluster[i], "lock.fence"));
  uint64_t last = *first->token;
  for (int round = 0; round < 3; ++round) {
    Result<Lock> next = redlock.Acquire("quick", NoRetry());
    ASSERT_TRUE(next) << next.error().message();
    EXPECT_GT(*next->token, last);
    last = *next->token;
    // Every instance counted it as the holder's token.
    for (size_t i = 0; i < cluster.size(); ++i) {
      EXPECT_EQ(cluster.InfoInteger(i, "quick", "holder_token"), static_cast<int64_t>(last));
    }
    ASSERT_FALSE(redlock.Release(*next));
  }
  for (size_t i = 0; i < cluster.size(); ++i) {
    EXPECT_EQ(Calls(cluster[i], "lock.fence"), fences[i]) << "a second round was sent";
  }
  // Someone else moved the counters on: the stale proposal is not counted, phase 2 commits a
  // token above them.
  for (size_t i = 0; i < cluster.size(); ++i) {
    cluster[i].RawCommand({"LOCK.FENCE", "quick", "nobody", std::to_string(last + 100)});
  }
  Result<Lock> after = redlock.Acquire("quick", NoRetry());
  ASSERT_TRUE(after) << after.error().message();
  EXPECT_GT(*after->token, last + 100);
}

// A round is decided as soon as its outcome is: a paused instance (no health check, a 30 s
// timeout) holds up neither a release (a majority released it) nor an acquisition that a
// majority already refused; what was sent to it runs when it wakes up, in order.
TEST(DecideAtAMajorityTest, APausedInstanceHoldsUpNeitherAReleaseNorARefusal) {
  Cluster cluster(ServerKind::kKeyward, 3);
  RequireLockCommands(cluster);
  redlock::RedlockOptions options = TestOptions();
  options.instance_timeout = 30000ms;
  options.configure = [](client::ClientOptions& o) { o.health_check_interval = Millis(0); };
  Redlock redlock(cluster.urls(), options);
  Result<Lock> held = redlock.Acquire("majority", NoRetry(60000ms));
  ASSERT_TRUE(held) << held.error().message();
  cluster[2].Signal(SIGSTOP);
  const auto started = std::chrono::steady_clock::now();
  ASSERT_FALSE(redlock.Release(*held));
  for (int i = 0; i < 2; ++i) {  // someone else holds it on the two awake instances
    cluster[i].RawCommand({"SET", "majority", "someone-else", "PX", "60000"});
  }
  Result<Lock> refused = redlock.Acquire("majority", NoRetry(60000ms));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), LockError::kHeldByOther) << refused.error().message();
  const auto elapsed = std::chrono::steady_clock::now() - started;
  cluster[2].Signal(SIGCONT);
  // Far below the paused instance's 30 s timeout (a round that waited for it would take that).
  EXPECT_LT(elapsed, 20s);
  // Once awake, the paused instance ran what it was sent, in order: released, then the refused
  // attempt's grant released again. (An extension through the same connection comes after.)
  Lock probe = *held;
  EXPECT_EQ(redlock.Extend(probe, 1000ms), LockError::kNotHeld);
  EXPECT_EQ(cluster[2].RawCommand({"EXISTS", "majority"}).as_integer().value(), 0);
}

TEST(DecideAtAMajorityTest, AnInstanceThatTimedOutLatelyHoldsUpNoSplitRound) {
  // One instance cut off (stopped) and the two others split between two owners: once a request
  // to the cut-off one timed out, a round that cannot win without it is given up at once, its
  // grant released, instead of holding that grant for another instance timeout (which made
  // contenders split the vote round after round: the harness's partition runs).
  Cluster cluster(ServerKind::kKeyward, 3);
  RequireLockCommands(cluster);
  redlock::RedlockOptions options = TestOptions();
  options.configure = [](client::ClientOptions& o) { o.health_check_interval = Millis(0); };
  Redlock redlock(cluster.urls(), options);
  ASSERT_FALSE(redlock.Connect());
  cluster[2].Signal(SIGSTOP);
  // The first round waits for the stopped instance (a success waits for every answer).
  Result<Lock> first = redlock.Acquire("split", NoRetry(60000ms));
  ASSERT_TRUE(first) << first.error().message();
  ASSERT_FALSE(redlock.Release(*first));
  // (If an assertion below fails, the instance must still be continued.)
  struct Continue {
    ServerProcess& server;
    ~Continue() { server.Signal(SIGCONT); }
  } continue_at_exit{cluster[2]};
  cluster[0].RawCommand({"SET", "split", "someone-else", "PX", "60000"});
  Result<Lock> split = redlock.Acquire("split", NoRetry(60000ms));
  ASSERT_FALSE(split);
  EXPECT_EQ(split.error(), LockError::kHeldByOther) << split.error().message();
  EXPECT_NE(split.error().message().find("(1 not waited for)"), std::string::npos)
      << split.error().message();
  // Its grant on the second instance is released behind it.
  EXPECT_TRUE(WaitUntil([&] {
    return cluster[1].RawCommand({"EXISTS", "split"}).as_integer().value() == 0;
  }));
  // A majority of grants is a success without the stopped instance; what it grants once it runs
  // again is released behind the request, so the lock is held where it was seen granted.
  cluster[0].RawCommand({"DEL", "split"});
  Result<Lock> held = redlock.Acquire("split", NoRetry(60000ms));
  ASSERT_TRUE(held) << held.error().message();
  cluster[2].Signal(SIGCONT);
  EXPECT_TRUE(WaitUntil([&] {
    return cluster[2].RawCommand({"EXISTS", "split"}).as_integer().value() == 0;
  }));
  EXPECT_EQ(cluster.CountHolding("split", held->owner), 2u);
  EXPECT_FALSE(redlock.Release(*held));
}

// ---- instances that cannot be reached

// URLs of ports nobody listens on.
std::vector<std::string> DeadUrls(size_t n) {
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) out.push_back("redis://127.0.0.1:" + std::to_string(FreePort()));
  return out;
}

class UnreachableTest : public ClusterTest {};

TEST_P(UnreachableTest, AMinorityUnreachableDoesNotPreventTheLock) {
  std::vector<std::string> urls = cluster().urls();
  const size_t dead = urls.size() == 3 ? 1 : 2;  // of 3 (+1) or 5 (+2): still a majority alive
  urls.resize(urls.size() - dead);
  for (const auto& url : DeadUrls(dead)) urls.push_back(url);
  Redlock redlock(urls, TestOptions());
  for (int i = 0; i < 3; ++i) {
    Result<Lock> lock = redlock.Acquire("minority", NoRetry());
    ASSERT_TRUE(lock) << lock.error().message();
    ASSERT_FALSE(redlock.Release(*lock));
  }
}

TEST_P(UnreachableTest, AMajorityUnreachableIsNoQuorum) {
  std::vector<std::string> urls = cluster().urls();
  const size_t majority = redlock::Majority(urls.size());
  urls.resize(urls.size() - majority);
  for (const auto& url : DeadUrls(majority)) urls.push_back(url);
  Redlock redlock(urls, TestOptions());
  Result<Lock> lock = redlock.Acquire("majority", NoRetry());
  ASSERT_FALSE(lock);
  EXPECT_EQ(lock.error(), LockError::kNoQuorum) << lock.error().message();
  EXPECT_NE(lock.error().detail.find("no answer from " + std::to_string(majority)),
            std::string::npos)
      << lock.error().message();
  // The reachable minority is released again (behind the grant, without the caller waiting).
  EXPECT_TRUE(
      WaitUntil([&] { return cluster().CountHolding("majority", "") == cluster().size(); }));
  EXPECT_EQ(redlock.Connect(), LockError::kNoQuorum);
}

INSTANTIATE_TEST_SUITE_P(Clusters, UnreachableTest,
                         ::testing::Values(ClusterSpec{ServerKind::kKeyward, 3},
                                           ClusterSpec{ServerKind::kKeyward, 5},
                                           ClusterSpec{ServerKind::kRedis, 3}),
                         ClusterName);

}  // namespace
}  // namespace keyward::testing
