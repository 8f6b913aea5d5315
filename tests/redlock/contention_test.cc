// Many clients contending for one lock, each writing to a fenced resource while it holds the lock,
// over 1, 3 and 5 keyward-servers and 3 redis-servers, with one instance SIGKILLed, SIGSTOPped or
// restarted empty in the middle of the run. What must hold throughout:
// - never two holders inside at once (no timing faults are injected into the clients). Each
//   holder stays inside for a random while (doing "work"), and waits a random while before it
//   contends again, so that overlapping holders would be caught inside together. An
//   instance that restarts empty has forgotten the locks it granted, so exclusion needs
//   Redlock's delayed restart: Keyward's lock-restart-delay (one TTL), and for Redis, which has
//   none, the instance stays down for one TTL before it comes back;
// - on Keyward, every holder's token is accepted by the resource: tokens strictly increase in the
//   order the holders came, so no holder was ever accepted out of order;
// - every client that waited got the lock (a minority fault never blocks progress).
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <random>
#include <thread>

#include "redlock_test_support.h"

namespace keyward::testing {
namespace {

using redlock::AcquireOptions;
using redlock::Lock;
using redlock::Redlock;
using redlock::Result;

enum class Fault { kNone, kKill, kStop, kRestartEmpty };

std::string FaultName(Fault f) {
  switch (f) {
    case Fault::kNone:
      return "NoFault";
    case Fault::kKill:
      return "Kill";
    case Fault::kStop:
      return "Stop";
    case Fault::kRestartEmpty:
      return "RestartEmpty";
  }
  return "?";
}

struct ContentionSpec {
  ClusterSpec cluster;
  Fault fault;
};

std::string ContentionName(const ::testing::TestParamInfo<ContentionSpec>& info) {
  return ToString(info.param.cluster.kind) + std::to_string(info.param.cluster.size) +
         FaultName(info.param.fault);
}

class ContentionTest : public ::testing::TestWithParam<ContentionSpec> {
 protected:
  void SetUp() override {
    const ClusterSpec spec = GetParam().cluster;
    if (spec.kind == ServerKind::kRedis && !RedisAvailable()) {
      GTEST_SKIP() << "redis-server is not installed";
    }
    cluster_ = std::make_unique<Cluster>(spec.kind, spec.size);
    RequireLockCommands(*cluster_);
  }
  std::unique_ptr<Cluster> cluster_;
};

constexpr int kClients = 6;
constexpr std::chrono::milliseconds kTtl{3000};
// Acquisitions before the fault, while it lasts, and in all.
constexpr int kBefore = 12;
constexpr int kDuring = 8;
constexpr int kTotal = 32;

TEST_P(ContentionTest, HoldersAreExclusiveAndTokensStrictlyIncrease) {
  const bool keyward = GetParam().cluster.kind == ServerKind::kKeyward;
  Cluster& cluster = *cluster_;
  FencedResource resource;
  std::atomic<int> acquisitions{0};
  std::atomic<bool> give_up{false};
  std::mutex errors_mutex;
  std::vector<std::string> errors;

  redlock::RedlockOptions options = TestOptions();
  // A stopped instance costs every round this much: short enough to keep the run brisk, long
  // enough for sanitizer builds.
  options.instance_timeout = 200ms;
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      std::mt19937 rng(
          static_cast<unsigned>(::testing::UnitTest::GetInstance()->random_seed() + c));
      std::uniform_int_distribution<int> work_us(200, 3000);
      std::uniform_int_distribution<int> pause_us(0, 2000);
      Redlock redlock(cluster.urls(), options);
      AcquireOptions acquire;
      acquire.ttl = kTtl;
      acquire.wait = 30000ms;
      acquire.retry_delay = 20ms;  // the polling period on Redis, the split-vote backoff on Keyward
      acquire.retry_jitter = 15ms;
      while (acquisitions.load() < kTotal && !give_up.load()) {
        Result<Lock> lock = redlock.Acquire("contended", acquire);
        if (!lock) {
          std::lock_guard<std::mutex> guard(errors_mutex);
          errors.push_back("client " + std::to_string(c) + ": " + lock.error().message());
          continue;
        }
        if (keyward) {
          EXPECT_TRUE(lock->token) << "no token from Keyward";
        }
        resource.Enter(lock->token);
        // Work while holding the lock: the time another holder would be caught inside.
        std::this_thread::sleep_for(std::chrono::microseconds(work_us(rng)));
        EXPECT_TRUE(lock->valid()) << "the work outlasted the lock's validity";
        resource.Leave();
        ++acquisitions;
        // Under a fault a release may miss the faulty instance; the majority is what counts.
        redlock.Release(*lock);
        std::this_thread::sleep_for(std::chrono::microseconds(pause_us(rng)));
      }
    });
  }

  const Fault fault = GetParam().fault;
  // A failure here (a restarted server that does not come back) must still join the clients.
  try {
    if (fault != Fault::kNone) {
      if (!WaitUntil([&] { return acquisitions.load() >= kBefore; }, 120s)) give_up = true;
      switch (fault) {
        case Fault::kKill:
          cluster[0].Kill();
          break;
        case Fault::kStop:
          cluster[0].Signal(SIGSTOP);
          break;
        case Fault::kRestartEmpty:
          if (keyward) {
            cluster[0].Restart({"--lock-restart-delay", std::to_string(kTtl.count())});
          } else {
            // The delayed restart done by hand: every lease granted before the crash has ended.
            cluster[0].Kill();
            const auto back = std::chrono::steady_clock::now() + kTtl;
            if (!WaitUntil([&] { return std::chrono::steady_clock::now() >= back; }, 30s)) {
              give_up = true;
            }
            cluster[0].Restart();
          }
          break;
        case Fault::kNone:
          break;
      }
      if (!WaitUntil([&] { return acquisitions.load() >= kBefore + kDuring; }, 120s)) {
        give_up = true;
      }
      if (fault == Fault::kStop) cluster[0].Signal(SIGCONT);
    }
  } catch (const std::exception& e) {
    ADD_FAILURE() << "injecting the fault failed: " << e.what();
    give_up = true;
  }
  for (auto& t : clients) t.join();

  EXPECT_FALSE(give_up.load()) << "the clients stopped making progress";
  EXPECT_TRUE(errors.empty()) << errors.size() << " failed acquisitions, first: " << errors[0];
  EXPECT_GE(resource.entries(), kTotal);
  EXPECT_EQ(resource.max_inside(), 1) << "two holders were inside at once";
  if (keyward) {
    EXPECT_TRUE(resource.rejected().empty())
        << resource.rejected().size() << " holders came with a token older than one accepted";
    std::vector<uint64_t> accepted = resource.accepted();
    EXPECT_EQ(accepted.size(), static_cast<size_t>(resource.entries()));
    for (size_t i = 1; i < accepted.size(); ++i) EXPECT_GT(accepted[i], accepted[i - 1]);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Clusters, ContentionTest,
    ::testing::Values(ContentionSpec{{ServerKind::kKeyward, 1}, Fault::kNone},
                      ContentionSpec{{ServerKind::kKeyward, 3}, Fault::kNone},
                      ContentionSpec{{ServerKind::kKeyward, 3}, Fault::kKill},
                      ContentionSpec{{ServerKind::kKeyward, 3}, Fault::kStop},
                      ContentionSpec{{ServerKind::kKeyward, 3}, Fault::kRestartEmpty},
                      ContentionSpec{{ServerKind::kKeyward, 5}, Fault::kNone},
                      ContentionSpec{{ServerKind::kKeyward, 5}, Fault::kKill},
                      ContentionSpec{{ServerKind::kKeyward, 5}, Fault::kStop},
                      ContentionSpec{{ServerKind::kKeyward, 5}, Fault::kRestartEmpty},
                      ContentionSpec{{ServerKind::kRedis, 3}, Fault::kNone},
                      ContentionSpec{{ServerKind::kRedis, 3}, Fault::kKill},
                      ContentionSpec{{ServerKind::kRedis, 3}, Fault::kStop},
                      ContentionSpec{{ServerKind::kRedis, 3}, Fault::kRestartEmpty}),
    ContentionName);

}  // namespace
}  // namespace keyward::testing
