// An instance that restarted without its fencing counters (no persistence, lock-restart-delay
// set) must not count towards a FENCE majority until it has caught up with a majority of its
// peers (docs/coordination.md#an-instance-that-restarted-empty). Without that rule, a token
// could be committed below one committed before: tokens are driven by the highest counter of
// any instance, i.e. by one machine's boot floor (its wall clock), which the restarted instance's
// new floor need not reach.
#include <gtest/gtest.h>

#include <csignal>
#include <optional>

#include "redlock_test_support.h"

namespace keyward::testing {
namespace {

using redlock::AcquireOptions;
using redlock::Lock;
using redlock::Redlock;
using redlock::Result;

constexpr Millis kRestartDelay = 1500ms;  // the longest TTL used, as the delay must be
constexpr Millis kTtl = 1000ms;

std::vector<std::string> Args() {
  return {"--lock-restart-delay", std::to_string(kRestartDelay.count())};
}

AcquireOptions Retrying(int attempts) {
  AcquireOptions options;
  options.ttl = kTtl;
  options.retry_count = attempts;
  options.retry_delay = 100ms;
  options.retry_jitter = 20ms;
  return options;
}

// Three instances; `a`'s clock runs far ahead (its boot floor, hence its counters, are 10^12
// above the others'), as after a boot with a wrong clock that NTP later stepped back.
class CatchUpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 3; ++i)
      servers_.push_back(std::make_unique<ServerProcess>(ServerKind::kKeyward, Args()));
    for (auto& s : servers_) ASSERT_TRUE(Supports(*s, "lock.acquire"));
    a_floor_ = Counter(a(), "r") + kAhead;
    a().RawCommand({"LOCK.FLOOR", std::to_string(a_floor_), "0"});
    ASSERT_EQ(Counter(a(), "r"), a_floor_);
  }
  ServerProcess& a() { return *servers_[0]; }
  ServerProcess& b() { return *servers_[1]; }
  ServerProcess& c() { return *servers_[2]; }
  std::vector<std::string> urls() const {
    return {servers_[0]->url(), servers_[1]->url(), servers_[2]->url()};
  }
  // Until the server's restart delay is over (LOCK.ACQUIRE answers RESTARTING before; the probe
  // lock lives 1 ms).
  [[nodiscard]] static bool WaitOutRestartDelay(ServerProcess& server) {
    return WaitUntil([&] {
      return !server.RawCommand({"LOCK.ACQUIRE", "probe", "probe", "1"}).as_error();
    });
  }
  // LOCK.CATCHUP's first element.
  static bool Settled(ServerProcess& server) {
    client::Reply reply = server.RawCommand({"LOCK.CATCHUP"});
    auto elements = reply.as_array();
    return elements && !elements->empty() && (*elements)[0].as_integer().value() == 1;
  }
  // F(R) on `server` (LOCK.INFO's token).
  static int64_t Counter(ServerProcess& server, const std::string& resource) {
    client::Reply reply = server.RawCommand({"LOCK.INFO", resource});
    const client::Reply* token = reply.as_map()->Find("token");
    return *token->as_integer();
  }

  static constexpr int64_t kAhead = 1000000000000;  // about 11 days of boot floor
  int64_t a_floor_ = 0;
  std::vector<std::unique_ptr<ServerProcess>> servers_;
};

// Every instance of a fresh cluster (started without counters, lock-restart-delay set) is
// unsettled: the first fenced acquisition that reaches all of them settles them all from the
// highest boot floor. One that reaches only some cannot: the missing one may be the one that
// knows the last token.
TEST_F(CatchUpTest, AFreshClusterSettlesOnceEveryInstanceAnswers) {
  for (auto* s : {&a(), &b(), &c()}) ASSERT_TRUE(WaitOutRestartDelay(*s));
  c().Signal(SIGSTOP);
  Redlock redlock(urls(), TestOptions());
  Result<Lock> refused = redlock.Acquire("r", Retrying(2));
  ASSERT_FALSE(refused) << "committed " << *refused->token << " without hearing from c";
  EXPECT_NE(refused.error().message().find("have not caught up"), std::string::npos)
      << refused.error().message();
  // c, just resumed, may first work through what queued while it was stopped: the client keeps
  // trying until every instance answered the catch-up and a lock is held.
  c().Signal(SIGCONT);
  std::optional<Lock> lock;
  ASSERT_TRUE(WaitUntil([&] {
    Result<Lock> attempt = redlock.Acquire("r", Retrying(2));
    if (attempt) lock = *attempt;
    return lock.has_value();
  }));
  // Above a's floor, the highest: every instance now counts from there.
  EXPECT_GT(*lock->token, static_cast<uint64_t>(a_floor_));
  // (A FENCE round ends at a majority: the last instance's count may land just after.)
  for (auto* s : {&a(), &b(), &c()}) {
    EXPECT_TRUE(WaitUntil([&] { return Counter(*s, "r") == static_cast<int64_t>(*lock->token); }))
        << s->url() << " counts " << Counter(*s, "r");
  }
  (void)redlock.Release(*lock);
  for (auto* s : {&a(), &b(), &c()}) EXPECT_TRUE(Settled(*s)) << s->url();
}

TEST_F(CatchUpTest, ARestartedInstanceCommitsNoTokenBelowOneCommittedBeforeItsRestart) {
  {
    // The cluster settles (every instance answering) before anything is committed.
    for (auto* s : {&a(), &b(), &c()}) ASSERT_TRUE(WaitOutRestartDelay(*s));
    Redlock all(urls(), TestOptions());
    Result<Lock> lock = all.Acquire("warm-up", Retrying(2));
    ASSERT_TRUE(lock) << lock.error().message();
    ASSERT_FALSE(all.Release(*lock));
  }
  // T1 is committed on a and b only: the client's third instance is unreachable (c never hears
  // of the resource, as if it had been partitioned away).
  uint64_t t1 = 0;
  {
    Redlock first({a().url(), b().url(), "redis://127.0.0.1:" + std::to_string(FreePort())},
                  TestOptions());
    Result<Lock> lock = first.Acquire("r", Retrying(2));
    ASSERT_TRUE(lock) << lock.error().message();
    t1 = *lock->token;
    ASSERT_GT(t1, static_cast<uint64_t>(Counter(c(), "r")));
    ASSERT_FALSE(first.Release(*lock));
  }
  // b restarts empty: its new floor is below T1 (a's clock was ahead). Then a is paused: b and c
  // form a majority, and neither knows T1.
  b().Kill();
  b().Restart();
  ASSERT_LT(Counter(b(), "r"), static_cast<int64_t>(t1));
  ASSERT_TRUE(WaitOutRestartDelay(b()));
  a().Signal(SIGSTOP);
  Redlock second(urls(), TestOptions());
  {
    Result<Lock> lock = second.Acquire("r", Retrying(2));
    if (lock) {
      ASSERT_GT(*lock->token, t1) << "a token went backwards across an empty restart";
      ASSERT_FALSE(second.Release(*lock));
    }
    // b cannot catch up without a: only a and c together are a majority of its peers.
    EXPECT_FALSE(lock) << "committed " << *lock->token << " without a majority that knew T1";
  }
  // With a back, b catches up from a and c, and counts again. A catch-up needs the answers of
  // both, and a, just resumed, may first be working through what queued while it was stopped:
  // attempts may fail for a while (no quorum), and a lock granted by a and c alone catches b up
  // behind the grant. So the client keeps acquiring, as a live one would, until a lock is held
  // and b is settled, with every counter at least T1 (an unsettled instance's FENCE changes
  // nothing, so only a catch-up raised it); every token it gets is above T1.
  a().Signal(SIGCONT);
  int held = 0;
  EXPECT_TRUE(WaitUntil([&] {
    if (Result<Lock> lock = second.Acquire("r", Retrying(2))) {
      EXPECT_GT(*lock->token, t1);
      ++held;
      (void)second.Release(*lock);
    }
    return held > 0 && Settled(b());
  }));
  EXPECT_GE(Counter(b(), "r"), static_cast<int64_t>(t1));
}

}  // namespace
}  // namespace keyward::testing
