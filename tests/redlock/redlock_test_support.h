// Fixtures for the lock library against real servers: a cluster of N keyward-server or Debian
// redis-server processes on free loopback ports (tests/client/server_process.h), the Redlock
// options the suites use, and a fenced resource that records every token it accepted.
//
// Nothing here sleeps to order events: waits are WaitFor(condition) (tests/client), whose
// intervals are polling periods and whose durations are deadlines only a broken library reaches.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "client_test_support.h"
#include "keyward/redlock/redlock.h"
#include "server_process.h"

namespace keyward::testing {

using namespace std::chrono_literals;
using redlock::Millis;

// A cluster shape: which server, how many.
struct ClusterSpec {
  ServerKind kind;
  size_t size;
};

inline std::string ClusterName(const ::testing::TestParamInfo<ClusterSpec>& info) {
  return ToString(info.param.kind) + std::to_string(info.param.size);
}

class Cluster {
 public:
  Cluster(ServerKind kind, size_t size) {
    for (size_t i = 0; i < size; ++i) servers_.push_back(std::make_unique<ServerProcess>(kind));
  }

  size_t size() const { return servers_.size(); }
  ServerProcess& operator[](size_t i) { return *servers_[i]; }
  std::vector<std::string> urls() const {
    std::vector<std::string> out;
    for (const auto& s : servers_) out.push_back(s->url());
    return out;
  }

  // The value of `key` on each instance ("" when missing or unreachable).
  std::vector<std::string> Values(const std::string& key) {
    std::vector<std::string> out;
    for (auto& s : servers_) {
      std::string value;
      try {
        if (s->alive()) {
          client::Reply reply = s->RawCommand({"GET", key});
          if (auto text = reply.as_string()) value = std::string(*text);
        }
      } catch (const std::exception&) {
      }
      out.push_back(value);
    }
    return out;
  }
  // How many instances hold `key` with `value`.
  size_t CountHolding(const std::string& key, const std::string& value) {
    auto values = Values(key);
    return std::count(values.begin(), values.end(), value);
  }
  // LOCK.INFO `resource` field `field` (an integer) on instance i, or -1000 when unavailable.
  int64_t InfoInteger(size_t i, const std::string& resource, const std::string& field) {
    try {
      client::Reply reply = servers_[i]->RawCommand({"LOCK.INFO", resource});
      auto map = reply.as_map();
      if (!map) return -1000;
      const client::Reply* value = map->Find(field);
      if (!value) return -1000;
      auto number = value->as_integer();
      return number ? *number : -1000;
    } catch (const std::exception&) {
      return -1000;
    }
  }

 private:
  std::vector<std::unique_ptr<ServerProcess>> servers_;
};

// Polls `condition` until it holds; false after `deadline` (which only a broken library reaches:
// the interval is a polling period, not an ordering assumption).
template <typename Condition>
[[nodiscard]] bool WaitUntil(Condition condition, std::chrono::seconds deadline = 30s) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

// What a returned Release promises: the lock is gone from a majority at once (Release is decided
// there), and from the other instances once their in-flight releases land.
inline ::testing::AssertionResult ReleasedEverywhere(Cluster& cluster, const std::string& key,
                                                     const std::string& owner) {
  const size_t held = cluster.CountHolding(key, owner);
  if (held > cluster.size() - redlock::Majority(cluster.size())) {
    return ::testing::AssertionFailure() << "still held on " << held << " of " << cluster.size();
  }
  if (!WaitUntil([&] { return cluster.CountHolding(key, owner) == 0; })) {
    return ::testing::AssertionFailure() << "never released on the minority";
  }
  return ::testing::AssertionSuccess();
}

// Fails the test (rather than skipping it) when a keyward-server lacks the LOCK.* commands.
inline void RequireLockCommands(Cluster& cluster) {
  for (size_t i = 0; i < cluster.size(); ++i) {
    if (cluster[i].kind() != ServerKind::kKeyward) continue;
    ASSERT_TRUE(Supports(cluster[i], "lock.acquire"))
        << "keyward-server at " << cluster[i].url() << " has no LOCK.ACQUIRE";
  }
}

// A fixture over one cluster shape; redis-server clusters are skipped when it is not installed.
class ClusterTest : public ::testing::TestWithParam<ClusterSpec> {
 protected:
  void SetUp() override {
    if (GetParam().kind == ServerKind::kRedis && !RedisAvailable()) {
      GTEST_SKIP() << "redis-server is not installed";
    }
    cluster_ = std::make_unique<Cluster>(GetParam().kind, GetParam().size);
    RequireLockCommands(*cluster_);
  }
  bool keyward() const { return GetParam().kind == ServerKind::kKeyward; }
  Cluster& cluster() { return *cluster_; }

  std::unique_ptr<Cluster> cluster_;
};

// Timeouts generous enough for sanitizer builds on a loaded two-core machine; TTLs in the tests
// are long next to them, so validity is never the issue unless a test makes it one.
inline redlock::RedlockOptions TestOptions() {
  redlock::RedlockOptions options;
  options.instance_timeout = 500ms;
  options.connect_timeout = 2000ms;
  return options;
}

// A resource guarded by fencing tokens, as a database would check them: a write is accepted
// only if its token is higher than every token accepted before. It also records how many holders
// were inside at once, which must never exceed one while no timing fault is injected.
class FencedResource {
 public:
  // Enter the critical section with `token` (nullopt: no fencing, Redis). Returns whether the
  // write was accepted.
  bool Enter(std::optional<uint64_t> token) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++inside_;
    max_inside_ = std::max(max_inside_, inside_);
    ++entries_;
    if (!token) return true;
    if (!accepted_.empty() && *token <= accepted_.back()) {
      rejected_.push_back(*token);
      return false;
    }
    accepted_.push_back(*token);
    return true;
  }
  void Leave() {
    std::lock_guard<std::mutex> lock(mutex_);
    --inside_;
  }

  int entries() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_;
  }
  int max_inside() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return max_inside_;
  }
  std::vector<uint64_t> accepted() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return accepted_;
  }
  std::vector<uint64_t> rejected() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return rejected_;
  }

 private:
  mutable std::mutex mutex_;
  int inside_ = 0;
  int max_inside_ = 0;
  int entries_ = 0;
  std::vector<uint64_t> accepted_;
  std::vector<uint64_t> rejected_;
};

}  // namespace keyward::testing
