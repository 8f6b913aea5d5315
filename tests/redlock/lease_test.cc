// Leases against real servers: automatic renewal, renewal that repairs a minority that lost the
// lock (and never re-creates it on a majority), the loss signal (callback, stop_token, WaitLost)
// when a majority disappears or says another owner holds the resource, the renewal-failed callback,
// bounds, and release.
#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <csignal>

#include "redlock_test_support.h"

namespace keyward::testing {
namespace {

using redlock::AcquireOptions;
using redlock::Error;
using redlock::Lease;
using redlock::LeaseOptions;
using redlock::LockError;
using redlock::Redlock;
using redlock::Result;

AcquireOptions Ttl(Millis ttl) {
  AcquireOptions options;
  options.ttl = ttl;
  options.retry_count = 0;
  return options;
}

// Records what a lease reports through its callbacks (called on the Redlock's thread).
struct Signals {
  std::atomic<int> failed_renewals{0};
  std::atomic<int> losses{0};
  std::mutex mutex;
  Error loss;

  LeaseOptions Options(redlock::LeaseLimits limits = {}) {
    LeaseOptions options;
    options.limits = limits;
    options.on_renewal_failed = [this](const Error&) { ++failed_renewals; };
    options.on_lost = [this](const Error& e) {
      std::lock_guard<std::mutex> guard(mutex);
      loss = e;
      ++losses;
    };
    return options;
  }
};

// A lease taken on a test-driven io_context (run here until the acquisition ended): no renewal
// round runs while the test does not run `io`.
std::optional<Result<Lease>> AcquireLeaseOn(asio::io_context& io, redlock::AsyncRedlock& redlock,
                                            std::string resource, Millis ttl) {
  std::optional<Result<Lease>> lease;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        lease.emplace(co_await redlock.AcquireLease(resource, Ttl(ttl)));
      },
      asio::detached);
  while (!lease) io.run_one();
  return lease;
}

class LeaseTest : public ClusterTest {};

TEST_P(LeaseTest, RenewsInTheBackgroundUntilReleased) {
  Redlock redlock(cluster().urls(), TestOptions());
  Signals signals;
  // 900 ms lease, renewed every 300 ms: after four renewals it has outlived its first TTL.
  Result<Lease> lease = redlock.AcquireLease("renewed", Ttl(900ms), signals.Options());
  ASSERT_TRUE(lease) << lease.error().message();
  const std::string owner = lease->owner();
  ASSERT_TRUE(WaitUntil([&] { return lease->renewals() >= 4; }));
  EXPECT_TRUE(lease->active());
  EXPECT_FALSE(lease->lost());
  EXPECT_GE(cluster().CountHolding("renewed", owner), redlock::Majority(cluster().size()));
  EXPECT_GT(lease->validity(), std::chrono::steady_clock::duration::zero());
  EXPECT_EQ(lease->fencing_token().has_value(), keyward());

  ASSERT_FALSE(redlock.Release(*lease));
  EXPECT_FALSE(lease->active());
  EXPECT_TRUE(ReleasedEverywhere(cluster(), "renewed", owner));
  // Releasing is not a loss.
  EXPECT_EQ(signals.losses.load(), 0);
  EXPECT_FALSE(lease->stop_token().stop_requested());
}

// A lock that vanished from a majority (expiry, DEL, FLUSHALL, restarts without data) may have
// been held by someone else in between: the lease is lost, and renewing must not re-create it and
// carry on. The lease runs on a test-driven io_context, so no renewal round can fall between the
// FLUSHALLs: the next round sees the lock gone from a majority at once.
TEST_P(LeaseTest, ALockThatVanishedFromAMajorityIsLostNotRecreated) {
  asio::io_context io;
  redlock::AsyncRedlock redlock(io.get_executor(), cluster().urls(), TestOptions());
  std::optional<Result<Lease>> lease = AcquireLeaseOn(io, redlock, "vanished", 3000ms);
  ASSERT_TRUE(*lease) << (*lease).error().message();
  Lease& held = **lease;
  const std::string owner = held.owner();
  const int renewals = held.renewals();
  const size_t majority = redlock::Majority(cluster().size());
  for (size_t i = 0; i < majority; ++i) cluster()[i].RawCommand({"FLUSHALL"});
  // Someone else takes it and lets go in between, where it vanished.
  for (size_t i = 0; i < majority; ++i) {
    cluster()[i].RawCommand({"SET", "vanished", "someone-else", "NX", "PX", "60000"});
    cluster()[i].RawCommand({"DEL", "vanished"});
  }
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!held.lost() && held.renewals() == renewals &&
         std::chrono::steady_clock::now() < deadline) {
    io.run_one_for(20ms);
  }
  ASSERT_TRUE(held.lost()) << "the next renewal round counted a re-created lock as renewed";
  EXPECT_EQ(held.renewals(), renewals);
  EXPECT_NE(held.loss().detail.find("no longer the owner's on a majority"), std::string::npos)
      << held.loss().message();
  EXPECT_LT(cluster().CountHolding("vanished", owner), majority);
  lease.reset();
  redlock.Close();
  io.restart();
  io.poll();
}

TEST_P(LeaseTest, LossFiresWhenAMajorityDisappears) {
  Redlock redlock(cluster().urls(), TestOptions());
  Signals signals;
  Result<Lease> lease = redlock.AcquireLease("vanishing", Ttl(900ms), signals.Options());
  ASSERT_TRUE(lease) << lease.error().message();
  std::stop_token stop = lease->stop_token();
  for (size_t i = 0; i < redlock::Majority(cluster().size()); ++i) cluster()[i].Kill();

  ASSERT_TRUE(WaitUntil([&] { return stop.stop_requested(); }));
  EXPECT_TRUE(lease->lost());
  EXPECT_FALSE(lease->active());
  EXPECT_EQ(signals.losses.load(), 1);
  // Renewals failed (and were reported) before the validity ran out.
  EXPECT_GE(signals.failed_renewals.load(), 1);
  std::lock_guard<std::mutex> guard(signals.mutex);
  EXPECT_EQ(signals.loss, LockError::kLeaseLost);
  EXPECT_NE(signals.loss.detail.find("validity ran out"), std::string::npos)
      << signals.loss.message();
  EXPECT_EQ(lease->loss(), LockError::kLeaseLost);
}

TEST_P(LeaseTest, LossFiresWhenAMajorityIsPausedAndRecoveryDoesNotUndoIt) {
  Redlock redlock(cluster().urls(), TestOptions());
  Signals signals;
  Result<Lease> lease = redlock.AcquireLease("paused", Ttl(1500ms), signals.Options());
  ASSERT_TRUE(lease) << lease.error().message();
  const size_t majority = redlock::Majority(cluster().size());
  for (size_t i = 0; i < majority; ++i) cluster()[i].Signal(SIGSTOP);
  ASSERT_TRUE(WaitUntil([&] { return lease->lost(); }));
  for (size_t i = 0; i < majority; ++i) cluster()[i].Signal(SIGCONT);
  EXPECT_EQ(signals.losses.load(), 1);
  EXPECT_EQ(lease->loss(), LockError::kLeaseLost);
  // Once lost, a lease stays lost, and releasing it says so.
  EXPECT_EQ(redlock.Release(*lease), LockError::kNotHeld);
}

TEST_P(LeaseTest, LossFiresAtOnceWhenAMajorityHasAnotherOwner) {
  Redlock redlock(cluster().urls(), TestOptions());
  Signals signals;
  // A long TTL: only the majority's answer can end this lease early.
  Result<Lease> lease =
      redlock.AcquireLease("stolen", Ttl(60000ms), signals.Options({.renew_every = 100ms}));
  ASSERT_TRUE(lease) << lease.error().message();
  for (size_t i = 0; i < redlock::Majority(cluster().size()); ++i) {
    cluster()[i].RawCommand({"SET", "stolen", "someone-else", "PX", "60000"});
  }
  ASSERT_TRUE(WaitUntil([&] { return lease->lost(); }));
  EXPECT_NE(lease->loss().detail.find("another owner"), std::string::npos)
      << lease->loss().message();
  // The other owner's keys are left alone.
  EXPECT_EQ(cluster().CountHolding("stolen", "someone-else"), redlock::Majority(cluster().size()));
}

TEST_P(LeaseTest, BoundedRenewalsEndTheLease) {
  Redlock redlock(cluster().urls(), TestOptions());
  Signals signals;
  Result<Lease> lease =
      redlock.AcquireLease("bounded", Ttl(600ms), signals.Options({.max_renewals = 2}));
  ASSERT_TRUE(lease) << lease.error().message();
  ASSERT_TRUE(WaitUntil([&] { return lease->lost(); }));
  EXPECT_EQ(lease->renewals(), 2);
  EXPECT_EQ(signals.failed_renewals.load(), 0);
  EXPECT_NE(lease->loss().detail.find("limit of 2 renewals"), std::string::npos)
      << lease->loss().message();
  // Ended leases let go of the lock.
  EXPECT_TRUE(WaitUntil([&] { return cluster().CountHolding("bounded", lease->owner()) == 0; }));
}

TEST_P(LeaseTest, DestroyingALeaseReleasesIt) {
  Redlock redlock(cluster().urls(), TestOptions());
  std::string owner;
  {
    Result<Lease> lease = redlock.AcquireLease("scoped", Ttl(60000ms));
    ASSERT_TRUE(lease) << lease.error().message();
    owner = lease->owner();
  }
  EXPECT_TRUE(ReleasedEverywhere(cluster(), "scoped", owner));
}

// The coroutine form: work raced against WaitLost() is cancelled the moment the lease is lost.
TEST_P(LeaseTest, WaitLostCancelsCoroutineWork) {
  using namespace asio::experimental::awaitable_operators;
  asio::io_context io;
  redlock::AsyncRedlock redlock(io.get_executor(), cluster().urls(), TestOptions());
  std::optional<Result<Lease>> lease = AcquireLeaseOn(io, redlock, "cancelling", 900ms);
  ASSERT_TRUE(*lease) << lease->error().message();

  bool work_finished = false;
  std::optional<Error> lost;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        asio::steady_timer forever(io, asio::steady_timer::time_point::max());
        auto outcome = co_await (forever.async_wait(asio::use_awaitable) || (**lease).WaitLost());
        if (outcome.index() == 0) work_finished = true;
        if (outcome.index() == 1) lost = std::get<1>(outcome);
      },
      asio::detached);
  io.poll();
  for (size_t i = 0; i < redlock::Majority(cluster().size()); ++i) cluster()[i].Kill();
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!lost && !work_finished && std::chrono::steady_clock::now() < deadline) {
    io.run_one_for(100ms);
  }
  ASSERT_TRUE(lost) << "WaitLost() did not complete";
  EXPECT_FALSE(work_finished);
  EXPECT_EQ(*lost, LockError::kLeaseLost);
  lease.reset();
  redlock.Close();
  io.restart();
  io.poll();
}

// A minority that lost the lock gets it back from the next renewal, which a majority proved.
class LeaseRepairTest : public ClusterTest {};

TEST_P(LeaseRepairTest, RenewalRepairsAMinorityThatLostTheLock) {
  Redlock redlock(cluster().urls(), TestOptions());
  Result<Lease> lease = redlock.AcquireLease("repaired", Ttl(3000ms));
  ASSERT_TRUE(lease) << lease.error().message();
  const std::string owner = lease->owner();
  // (A majority at least: instances the acquisition did not wait for are released behind it.)
  ASSERT_TRUE(WaitUntil([&] {
    return cluster().CountHolding("repaired", owner) == cluster().size();
  })) << "the renewal did not repair what the acquisition released";
  // A minority loses the key: one to a FLUSHALL, on five instances another to a restart
  // without its data.
  const size_t minority = cluster().size() - redlock::Majority(cluster().size());
  std::vector<size_t> lost = {0};
  cluster()[0].RawCommand({"FLUSHALL"});
  for (size_t i = 1; i < minority; ++i) {
    cluster()[i].Restart();
    lost.push_back(i);
  }
  ASSERT_TRUE(WaitUntil([&] {
    return cluster().CountHolding("repaired", owner) == cluster().size();
  })) << "the renewal did not re-create the lock where it was lost";
  if (keyward()) {
    // The counters where it was re-created are at least the lease's token: a later acquisition
    // that wins there reads a counter that high.
    for (size_t i : lost) {
      EXPECT_GE(cluster().InfoInteger(i, "repaired", "token"),
                static_cast<int64_t>(*lease->fencing_token()));
    }
  }
  EXPECT_TRUE(lease->active());
  EXPECT_FALSE(lease->lost());
}

INSTANTIATE_TEST_SUITE_P(Clusters, LeaseRepairTest,
                         ::testing::Values(ClusterSpec{ServerKind::kKeyward, 3},
                                           ClusterSpec{ServerKind::kKeyward, 5},
                                           ClusterSpec{ServerKind::kRedis, 3}),
                         ClusterName);

INSTANTIATE_TEST_SUITE_P(Clusters, LeaseTest,
                         ::testing::Values(ClusterSpec{ServerKind::kKeyward, 1},
                                           ClusterSpec{ServerKind::kKeyward, 3},
                                           ClusterSpec{ServerKind::kRedis, 3}),
                         ClusterName);

}  // namespace
}  // namespace keyward::testing
