#include "lock_workload.h"

#include <random>
#include <thread>

#include "keyward/redlock/redlock.h"

namespace keyward::jepsen {

bool Store::Write(const std::string& resource, uint64_t token) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = highest_.find(resource);
  if (fenced_ && it != highest_.end() && token <= it->second) return false;
  if (it == highest_.end() || token > it->second) highest_[resource] = token;
  return true;
}

namespace {

void Worker(int index, const LockWorkloadOptions& o, History& h, Store* store,
            const std::atomic<bool>& stop) {
  std::mt19937_64 rng(o.seed * 1000003 + static_cast<uint64_t>(index));
  redlock::RedlockOptions ro;
  ro.instance_timeout = std::chrono::milliseconds(100);
  ro.connect_timeout = std::chrono::milliseconds(500);
  ro.seed = o.seed * 7919 + static_cast<uint64_t>(index) + 1;
  redlock::Redlock redlock(o.urls, ro);
  int process = index;
  auto pause = [&](int max_ms) {
    if (max_ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % (max_ms + 1)));
    }
  };
  while (!stop.load()) {
    const nlohmann::json target = {{"resource", o.resource}};
    h.Add(process, OpType::kInvoke, "acquire", target);
    redlock::AcquireOptions ao;
    ao.ttl = o.ttl;
    ao.retry_count = 0;
    ao.require_fencing = o.fence;
    redlock::Result<redlock::Lock> lock = redlock.Acquire(o.resource, ao);
    if (!lock) {
      h.Add(process, OpType::kFail, "acquire",
            {{"resource", o.resource}, {"error", lock.error().message()}});
      pause(10);
      continue;
    }
    nlohmann::json got = {{"resource", o.resource}, {"valid_until", h.ToNs(lock->valid_until)}};
    if (lock->token) got["token"] = *lock->token;
    h.Add(process, OpType::kOk, "acquire", got);
    // The critical section: a write to the store, and time inside.
    if (store != nullptr) {
      const uint64_t token = lock->token.value_or(0);
      h.Add(process, OpType::kInvoke, "write", {{"resource", o.resource}, {"token", token}});
      const bool accepted = store->Write(o.resource, token);
      h.Add(process, OpType::kOk, "write",
            {{"resource", o.resource}, {"token", token}, {"accepted", accepted}});
    }
    pause(o.hold_max_ms);
    h.Add(process, OpType::kInvoke, "release", target);
    redlock::Error error = redlock.Release(*lock);
    if (error) {
      // Whether the instances dropped the key is unknown: a new process carries on.
      h.Add(process, OpType::kInfo, "release",
            {{"resource", o.resource}, {"error", error.message()}});
      process += o.concurrency;
    } else {
      h.Add(process, OpType::kOk, "release", target);
    }
  }
}

}  // namespace

void RunLockWorkload(const LockWorkloadOptions& options, History& history,
                     const std::atomic<bool>& stop) {
  Store store(options.fence);
  std::vector<std::thread> workers;
  for (int i = 0; i < options.concurrency; i++) {
    workers.emplace_back(Worker, i, std::cref(options), std::ref(history),
                         options.store ? &store : nullptr, std::cref(stop));
  }
  for (std::thread& t : workers) t.join();
}

}  // namespace keyward::jepsen
