// The reconnect (Backoff) and liveness (HealthCheck) state machines, without sockets or clocks:
// the tests play the run loop, asking for delays and reporting ticks and data, and check the
// answers. Randomness is pinned by the seed, so every run draws the same jitter.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

#include "keyward/client/reconnect.h"

namespace keyward::client {
namespace {

using std::chrono::milliseconds;
using Action = HealthCheck::Action;

ReconnectPolicy NoJitter(milliseconds initial, milliseconds max, double multiplier) {
  ReconnectPolicy policy;
  policy.initial_delay = initial;
  policy.max_delay = max;
  policy.multiplier = multiplier;
  policy.jitter = 0;
  return policy;
}

// The next `n` delays, in milliseconds; -1 where the backoff gave up.
std::vector<int64_t> Draw(Backoff& backoff, int n) {
  std::vector<int64_t> out;
  for (int i = 0; i < n; ++i) {
    auto delay = backoff.NextDelay();
    out.push_back(delay ? delay->count() : -1);
  }
  return out;
}

// ---- Backoff

TEST(ClientBackoffTest, GrowsByTheMultiplierUpToMaxDelay) {
  Backoff backoff(NoJitter(milliseconds(50), milliseconds(2000), 2.0), 1);
  EXPECT_EQ(backoff.attempts(), 0);
  EXPECT_EQ(Draw(backoff, 9),
            (std::vector<int64_t>{50, 100, 200, 400, 800, 1600, 2000, 2000, 2000}));
  EXPECT_EQ(backoff.attempts(), 9);

  Backoff triple(NoJitter(milliseconds(10), milliseconds(1000), 3.0), 1);
  EXPECT_EQ(Draw(triple, 7), (std::vector<int64_t>{10, 30, 90, 270, 810, 1000, 1000}));
}

TEST(ClientBackoffTest, DefaultPolicyStartsAtInitialDelayWithinJitter) {
  ReconnectPolicy policy;
  EXPECT_TRUE(policy.enabled);
  EXPECT_EQ(policy.max_attempts, 0);  // never gives up
  Backoff backoff(policy, 7);
  auto first = backoff.NextDelay();
  ASSERT_TRUE(first);
  EXPECT_LE(*first, policy.initial_delay);
  EXPECT_GE(first->count(), std::floor(policy.initial_delay.count() * (1 - policy.jitter)));
}

TEST(ClientBackoffTest, JitterKeepsEachDelayWithinItsRange) {
  for (double jitter : {0.25, 0.5, 1.0}) {
    ReconnectPolicy policy = NoJitter(milliseconds(50), milliseconds(2000), 2.0);
    policy.jitter = jitter;
    Backoff backoff(policy, 12345);
    Backoff exact(NoJitter(milliseconds(50), milliseconds(2000), 2.0), 1);
    const std::vector<int64_t> nominal = Draw(exact, 10);  // 50 ... 2000, 2000, 2000
    bool below_nominal = false;
    for (int round = 0; round < 200; ++round) {
      const std::vector<int64_t> delays = Draw(backoff, 10);
      for (size_t i = 0; i < delays.size(); ++i) {
        const double d = static_cast<double>(nominal[i]);
        ASSERT_LE(delays[i], nominal[i]) << "jitter " << jitter << ", attempt " << i;
        ASSERT_GE(delays[i], std::floor(d * (1 - jitter)))
            << "jitter " << jitter << ", attempt " << i;
        below_nominal = below_nominal || delays[i] < nominal[i];
      }
      backoff.Reset();
    }
    // Jitter actually spreads the delays.
    EXPECT_TRUE(below_nominal) << "jitter " << jitter;
  }
}

TEST(ClientBackoffTest, SeedsDecideTheJitter) {
  ReconnectPolicy policy;  // jitter 0.5
  Backoff a(policy, 1);
  Backoff b(policy, 2);
  Backoff a_again(policy, 1);
  const std::vector<int64_t> from_a = Draw(a, 20);
  EXPECT_NE(from_a, Draw(b, 20));
  EXPECT_EQ(from_a, Draw(a_again, 20));
}

TEST(ClientBackoffTest, ZeroJitterIsDeterministicWhateverTheSeed) {
  const ReconnectPolicy policy = NoJitter(milliseconds(30), milliseconds(500), 2.0);
  Backoff a(policy, 1);
  Backoff b(policy, 987654321);
  const std::vector<int64_t> from_a = Draw(a, 8);
  EXPECT_EQ(from_a, (std::vector<int64_t>{30, 60, 120, 240, 480, 500, 500, 500}));
  EXPECT_EQ(from_a, Draw(b, 8));
}

TEST(ClientBackoffTest, MaxAttemptsGivesUpAfterThatManyDelays) {
  ReconnectPolicy policy = NoJitter(milliseconds(50), milliseconds(2000), 2.0);
  policy.max_attempts = 3;
  Backoff backoff(policy, 1);
  EXPECT_EQ(Draw(backoff, 5), (std::vector<int64_t>{50, 100, 200, -1, -1}));
  EXPECT_EQ(backoff.attempts(), 3);
  // A successful connection in between gives a fresh allowance.
  backoff.Reset();
  EXPECT_EQ(backoff.attempts(), 0);
  EXPECT_EQ(Draw(backoff, 4), (std::vector<int64_t>{50, 100, 200, -1}));
}

TEST(ClientBackoffTest, ResetStartsAgainFromInitialDelay) {
  Backoff backoff(NoJitter(milliseconds(50), milliseconds(2000), 2.0), 1);
  Draw(backoff, 5);
  backoff.Reset();
  EXPECT_EQ(Draw(backoff, 3), (std::vector<int64_t>{50, 100, 200}));
}

TEST(ClientBackoffTest, DisabledGivesUpImmediately) {
  ReconnectPolicy policy;
  policy.enabled = false;
  Backoff backoff(policy, 1);
  EXPECT_EQ(backoff.NextDelay(), std::nullopt);
  EXPECT_EQ(backoff.NextDelay(), std::nullopt);
}

TEST(ClientBackoffTest, LongOutageStaysAtMaxDelay) {
  // multiplier^attempts overflows a double after about a thousand attempts at x2 (and much sooner
  // at x10); the delay must stay at max_delay, not wrap or turn into garbage.
  for (double multiplier : {2.0, 10.0}) {
    Backoff backoff(NoJitter(milliseconds(1000), milliseconds(3'600'000), multiplier), 1);
    std::optional<milliseconds> last;
    for (int i = 0; i < 100'000; ++i) {
      last = backoff.NextDelay();
      ASSERT_TRUE(last);
      ASSERT_GE(last->count(), 1000) << "attempt " << i;
      ASSERT_LE(last->count(), 3'600'000) << "attempt " << i;
    }
    EXPECT_EQ(*last, milliseconds(3'600'000));
    EXPECT_EQ(backoff.attempts(), 100'000);
  }
  // With jitter the delay stays within [max * (1 - jitter), max].
  ReconnectPolicy policy = NoJitter(milliseconds(50), milliseconds(2000), 2.0);
  policy.jitter = 0.5;
  Backoff jittered(policy, 99);
  for (int i = 0; i < 100'000; ++i) {
    auto delay = jittered.NextDelay();
    ASSERT_TRUE(delay);
    if (i >= 6) {  // 50 * 2^6 > 2000: capped from here on
      ASSERT_GE(delay->count(), 1000) << "attempt " << i;
    }
    ASSERT_LE(delay->count(), 2000) << "attempt " << i;
  }
}

// initial_delay 0 means "retry at once", forever. (Regression: 0 * pow(...) became NaN once the
// power overflowed, and the delay jumped to max_delay.)
TEST(ClientBackoffTest, ZeroInitialDelayStaysZero) {
  Backoff backoff(NoJitter(milliseconds(0), milliseconds(2000), 2.0), 1);
  for (int i = 0; i < 2000; ++i) {
    auto delay = backoff.NextDelay();
    ASSERT_TRUE(delay);
    ASSERT_EQ(delay->count(), 0) << "attempt " << i;
  }
}

// ---- HealthCheck

TEST(ClientHealthCheckTest, ZeroIntervalDisablesIt) {
  HealthCheck check(milliseconds(0));
  EXPECT_FALSE(check.enabled());
  // However long the connection stays silent, nothing is sent and it is never declared dead.
  for (int i = 0; i < 10; ++i) EXPECT_EQ(check.OnTick(), Action::kNothing) << "tick " << i;
}

TEST(ClientHealthCheckTest, IdleTickPingsAndASecondIdleTickIsDead) {
  HealthCheck check(milliseconds(500));
  EXPECT_TRUE(check.enabled());
  EXPECT_EQ(check.interval(), milliseconds(500));
  EXPECT_EQ(check.OnTick(), Action::kPing);
  EXPECT_EQ(check.OnTick(), Action::kDead);
  EXPECT_EQ(check.OnTick(), Action::kDead);  // stays dead until Reset()
}

TEST(ClientHealthCheckTest, DataBetweenTicksMeansAlive) {
  HealthCheck check(milliseconds(100));
  check.OnData();
  EXPECT_EQ(check.OnTick(), Action::kNothing);
  // Idle again: ping; the PONG (data) arrives: alive, and the count starts over.
  EXPECT_EQ(check.OnTick(), Action::kPing);
  check.OnData();
  EXPECT_EQ(check.OnTick(), Action::kNothing);
  EXPECT_EQ(check.OnTick(), Action::kPing);
  EXPECT_EQ(check.OnTick(), Action::kDead);
}

TEST(ClientHealthCheckTest, BusyConnectionNeverPings) {
  HealthCheck check(milliseconds(100));
  for (int i = 0; i < 100; ++i) {
    check.OnData();
    check.OnData();
    EXPECT_EQ(check.OnTick(), Action::kNothing) << "tick " << i;
  }
}

TEST(ClientHealthCheckTest, ResetForgetsThePreviousConnection) {
  HealthCheck check(milliseconds(100));
  EXPECT_EQ(check.OnTick(), Action::kPing);
  check.Reset();
  // The PING belonged to the old connection: the new one gets its own before being dead.
  EXPECT_EQ(check.OnTick(), Action::kPing);
  EXPECT_EQ(check.OnTick(), Action::kDead);

  // Data seen on the old connection does not vouch for the new one.
  check.Reset();
  check.OnData();
  check.Reset();
  EXPECT_EQ(check.OnTick(), Action::kPing);
}

}  // namespace
}  // namespace keyward::client
