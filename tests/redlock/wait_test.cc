// Blocking acquisition: on one Keyward instance waiters queue server-side and are served in
// arrival order; on three they block on LOCK.WAIT and are woken by the release itself; on Redis
// they poll. A wait that ends says so (with the holder's lease), and a cancelled waiter leaves
// nothing behind. Whether a client is blocked is read from the server (LOCK.INFO waiters,
// INFO commandstats), never guessed from time.
#include <gtest/gtest.h>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <atomic>
#include <functional>
#include <thread>

#include "keyward/redlock/async_redlock.h"
#include "redlock_test_support.h"

namespace keyward::testing {
namespace {

using redlock::AcquireOptions;
using redlock::Lock;
using redlock::LockError;
using redlock::Redlock;
using redlock::Result;

AcquireOptions Waiting(Millis wait) {
  AcquireOptions options;
  options.ttl = 60000ms;
  options.wait = wait;
  options.retry_delay = 20ms;
  options.retry_jitter = 10ms;
  return options;
}

AcquireOptions Held() {
  AcquireOptions options;
  options.ttl = 60000ms;
  options.retry_count = 0;
  return options;
}

// Blocked clients waiting for `resource`, summed over the instances.
int64_t Waiters(Cluster& cluster, const std::string& resource) {
  int64_t total = 0;
  for (size_t i = 0; i < cluster.size(); ++i) {
    total += std::max<int64_t>(0, cluster.InfoInteger(i, resource, "waiters"));
  }
  return total;
}

// How many times `command` ran on `server` (INFO commandstats).
int64_t Calls(ServerProcess& server, std::string_view command) {
  client::Reply info = server.RawCommand({"INFO", "commandstats"});
  auto text = info.as_string();
  if (!text) return 0;
  const std::string needle = "cmdstat_" + std::string(command) + ":calls=";
  size_t at = text->find(needle);
  if (at == std::string_view::npos) return 0;
  return std::stoll(std::string(text->substr(at + needle.size(), 20)));
}

// Result<T> has no default state, which co_spawn wants of a coroutine's value: store it instead.
asio::awaitable<void> StoreAcquire(redlock::AsyncRedlock* redlock, std::string resource,
                                   std::optional<Result<Lock>>* out) {
  out->emplace(co_await redlock->Acquire(std::move(resource), Waiting(redlock::kWaitForever)));
}

class KeywardWaitTest : public ClusterTest {};

TEST_P(KeywardWaitTest, AWaiterIsWokenByTheRelease) {
  Redlock holder(cluster().urls(), TestOptions());
  Redlock waiter(cluster().urls(), TestOptions());
  Result<Lock> held = holder.Acquire("queue", Held());
  ASSERT_TRUE(held);
  std::optional<Result<Lock>> got;
  std::thread t([&] { got.emplace(waiter.Acquire("queue", Waiting(redlock::kWaitForever))); });
  ASSERT_TRUE(WaitUntil([&] { return Waiters(cluster(), "queue") == 1; }));
  EXPECT_FALSE(got.has_value());
  ASSERT_FALSE(holder.Release(*held));
  t.join();
  ASSERT_TRUE(*got) << got->error().message();
  EXPECT_GT(*(*got)->token, *held->token);
  EXPECT_GT((*got)->validity(), std::chrono::steady_clock::duration::zero());
  ASSERT_FALSE(waiter.Release(**got));
}

TEST_P(KeywardWaitTest, AWaitThatEndsSaysWhoHoldsItForHowLong) {
  Redlock holder(cluster().urls(), TestOptions());
  Redlock waiter(cluster().urls(), TestOptions());
  ASSERT_TRUE(holder.Acquire("busy", Held()));
  Result<Lock> late = waiter.Acquire("busy", Waiting(200ms));
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error(), LockError::kTimedOut) << late.error().message();
  ASSERT_TRUE(late.error().holder_ttl) << late.error().message();
  EXPECT_LE(*late.error().holder_ttl, 60000ms);
  // The server forgot the waiter.
  EXPECT_TRUE(WaitUntil([&] { return Waiters(cluster(), "busy") == 0; }));
}

TEST_P(KeywardWaitTest, ACancelledWaiterLeavesNothingBehind) {
  Redlock holder(cluster().urls(), TestOptions());
  Result<Lock> held = holder.Acquire("cancel", Held());
  ASSERT_TRUE(held);

  asio::io_context io;
  redlock::AsyncRedlock waiter(io.get_executor(), cluster().urls(), TestOptions());
  asio::cancellation_signal cancel;
  std::optional<Result<Lock>> got;
  asio::co_spawn(io, StoreAcquire(&waiter, "cancel", &got),
                 asio::bind_cancellation_slot(cancel.slot(), [](std::exception_ptr) {}));
  const auto run_until = [&io](auto done) {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (!done() && std::chrono::steady_clock::now() < deadline) io.run_one_for(20ms);
    return done();
  };
  ASSERT_TRUE(run_until([&] { return Waiters(cluster(), "cancel") == 1; }));
  cancel.emit(asio::cancellation_type::terminal);
  ASSERT_TRUE(run_until([&] { return got.has_value(); }));
  ASSERT_FALSE(*got);
  EXPECT_EQ(got->error(), LockError::kCancelled);
  ASSERT_TRUE(run_until([&] { return Waiters(cluster(), "cancel") == 0; }));

  // Once the holder lets go, the lock is free for anyone: the cancelled waiter did not take it.
  ASSERT_FALSE(holder.Release(*held));
  io.restart();
  io.poll();
  Redlock third(cluster().urls(), TestOptions());
  EXPECT_TRUE(third.Acquire("cancel", Held()));
  waiter.Close();
  io.restart();
  io.poll();
}

INSTANTIATE_TEST_SUITE_P(Clusters, KeywardWaitTest,
                         ::testing::Values(ClusterSpec{ServerKind::kKeyward, 1},
                                           ClusterSpec{ServerKind::kKeyward, 3}),
                         ClusterName);

// kWaiters clients queue for `resource` one after the other (each only once the previous one is
// queued) behind a holder; `released` runs once all are queued, before the holder releases. Each
// waiter releases as soon as it holds the lock. Returns the order in which they held it, and
// checks that their fencing tokens grew in that order.
constexpr int kWaiters = 4;

std::vector<int> ServeQueuedWaiters(
    Cluster& cluster, const std::string& resource, const std::function<void()>& released = [] {}) {
  Redlock holder(cluster.urls(), TestOptions());
  Result<Lock> held = holder.Acquire(resource, Held());
  EXPECT_TRUE(held);
  if (!held) return {};
  std::mutex order_mutex;
  std::vector<int> order;
  std::vector<uint64_t> tokens;
  std::vector<std::unique_ptr<Redlock>> nodes;
  std::vector<std::thread> threads;
  for (int i = 0; i < kWaiters; ++i) {
    nodes.push_back(std::make_unique<Redlock>(cluster.urls(), TestOptions()));
    threads.emplace_back([&, i] {
      Result<Lock> lock = nodes[i]->Acquire(resource, Waiting(redlock::kWaitForever));
      ASSERT_TRUE(lock) << lock.error().message();
      {
        std::lock_guard<std::mutex> guard(order_mutex);
        order.push_back(i);
        tokens.push_back(*lock->token);
      }
      nodes[i]->Release(*lock);
    });
    // The next one arrives only once this one is queued.
    EXPECT_TRUE(WaitUntil([&] { return Waiters(cluster, resource) == i + 1; }));
  }
  released();
  EXPECT_FALSE(holder.Release(*held));
  for (auto& t : threads) t.join();
  for (size_t i = 1; i < tokens.size(); ++i) EXPECT_GT(tokens[i], tokens[i - 1]);
  return order;
}

TEST(RedlockFifoTest, OneInstanceServesWaitersInArrivalOrder) {
  Cluster cluster(ServerKind::kKeyward, 1);
  RequireLockCommands(cluster);
  EXPECT_EQ(ServeQueuedWaiters(cluster, "fifo"), (std::vector<int>{0, 1, 2, 3}));
}

// Three instances: waiters block on the first instance that refused them, with HANDOFF, so each
// release wakes the next waiter alone: they hold the lock in the order they queued, and each
// queues and runs a round once more only (a release that woke every waiter made all of them run a
// round and the losers queue again). The woken waiter's round waits for the holder's release to
// reach the other instances, so it does not lose its turn to a release in flight.
TEST(RedlockFifoTest, ThreeInstancesWakeOneWaiterPerReleaseInArrivalOrder) {
  Cluster cluster(ServerKind::kKeyward, 3);
  RequireLockCommands(cluster);
  int64_t rounds_before = 0;
  std::vector<int> order = ServeQueuedWaiters(cluster, "herd", [&] {
    // Every waiter queued on the first instance.
    EXPECT_EQ(Calls(cluster[0], "lock.wait"), kWaiters);
    rounds_before = Calls(cluster[0], "lock.acquire");
  });
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
  // After the release, each waiter ran one round, the one after its wake-up, and nobody queued
  // again.
  EXPECT_EQ(Calls(cluster[0], "lock.wait"), kWaiters);
  EXPECT_EQ(Calls(cluster[0], "lock.acquire") - rounds_before, kWaiters);
}

int64_t IntegerOf(const client::Reply& reply) {
  auto value = reply.as_integer();
  return value ? *value : -1000;
}

std::string StringOf(const client::Reply& reply) {
  auto value = reply.as_string();
  return value ? std::string(*value) : "(none)";
}

// The grant of a queued acquisition reaches the client late (here: its event loop is not run
// until the lease has expired and someone else took the lock). The client must not return it as
// a valid lock: it confirms the grant before counting any validity.
TEST(RedlockWaitValidityTest, AGrantThatArrivesAfterItsLeaseEndedIsNotReturned) {
  Cluster cluster(ServerKind::kKeyward, 1);
  RequireLockCommands(cluster);
  ServerProcess& server = cluster[0];
  ASSERT_EQ(
      IntegerOf(server.RawCommand({"LOCK.ACQUIRE", "late", "holder", "60000"}).as_array()->front()),
      1);

  asio::io_context io;
  redlock::RedlockOptions redlock_options = TestOptions();
  redlock_options.instance_timeout = 100ms;  // far below the 300 ms lease the waiter asks for
  redlock::AsyncRedlock waiter(io.get_executor(), cluster.urls(), redlock_options);
  std::optional<Result<Lock>> got;
  AcquireOptions options = Waiting(redlock::kWaitForever);
  options.ttl = 300ms;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { got.emplace(co_await waiter.Acquire("late", options)); },
      asio::detached);
  const auto run_until = [&io](auto done) {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (!done() && std::chrono::steady_clock::now() < deadline) io.run_one_for(20ms);
    return done();
  };
  ASSERT_TRUE(run_until([&] { return Waiters(cluster, "late") == 1; }));

  // Handed over while the waiter's process does not run; the 300 ms lease ends (LOCK.WAIT returns
  // when the key is gone) and a thief takes the lock.
  EXPECT_EQ(IntegerOf(server.RawCommand({"LOCK.RELEASE", "late", "holder"})), 1);
  EXPECT_EQ(IntegerOf(server.RawCommand({"LOCK.WAIT", "late", "0"})), 1);
  ASSERT_EQ(
      IntegerOf(server.RawCommand({"LOCK.ACQUIRE", "late", "thief", "60000"}).as_array()->front()),
      1);

  // The waiter resumes: it must queue again rather than return a lock the thief holds.
  ASSERT_TRUE(run_until([&] { return got.has_value() || Waiters(cluster, "late") == 1; }));
  if (got) {
    ASSERT_TRUE(*got) << (*got).error().message();
    FAIL() << "returned a lock valid for " << redlock::FloorMillis((**got).validity()).count()
           << " ms while the server's holder is " << StringOf(server.RawCommand({"GET", "late"}));
  }
  EXPECT_EQ(IntegerOf(server.RawCommand({"LOCK.RELEASE", "late", "thief"})), 1);
  ASSERT_TRUE(run_until([&] { return got.has_value(); }));
  ASSERT_TRUE(*got) << (*got).error().message();
  EXPECT_TRUE((**got).valid());
  EXPECT_EQ(StringOf(server.RawCommand({"GET", "late"})), (**got).owner);
  waiter.Close();
  io.restart();
  io.poll();
}

TEST(RedisWaitTest, AWaiterPollsUntilTheRelease) {
  if (!RedisAvailable()) GTEST_SKIP() << "redis-server is not installed";
  Cluster cluster(ServerKind::kRedis, 3);
  Redlock holder(cluster.urls(), TestOptions());
  Redlock waiter(cluster.urls(), TestOptions());
  Result<Lock> held = holder.Acquire("polled", Held());
  ASSERT_TRUE(held);
  const int64_t before = Calls(cluster[0], "evalsha");
  std::optional<Result<Lock>> got;
  std::thread t([&] { got.emplace(waiter.Acquire("polled", Waiting(30000ms))); });
  // Refused twice at least (the first attempt and a poll), then released.
  ASSERT_TRUE(WaitUntil([&] { return Calls(cluster[0], "evalsha") >= before + 2; }));
  EXPECT_FALSE(got.has_value());
  ASSERT_FALSE(holder.Release(*held));
  t.join();
  ASSERT_TRUE(*got) << got->error().message();
  EXPECT_EQ((*got)->fencing_token().error(), LockError::kFencingUnavailable);
}

}  // namespace
}  // namespace keyward::testing
