#include "lock_workload.h"

#include <algorithm>
#include <random>
#include <thread>

#include "keyward/redlock/redlock.h"

namespace keyward::jepsen {

bool Store::SeeToken(const std::string& resource, uint64_t token) {
  uint64_t& highest = highest_[resource];
  if (fenced_ && token < highest) return false;
  highest = std::max(highest, token);
  return true;
}

bool Store::Add(const std::string& resource, uint64_t token, int64_t element,
                const std::function<void()>& stall) {
  std::vector<int64_t> set;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!SeeToken(resource, token)) return false;
    set = sets_[resource];
  }
  stall();
  set.push_back(element);
  std::lock_guard<std::mutex> lock(mu_);
  if (!SeeToken(resource, token)) return false;
  sets_[resource] = std::move(set);
  return true;
}

std::vector<int64_t> Store::Elements(const std::string& resource) {
  std::lock_guard<std::mutex> lock(mu_);
  return sets_[resource];
}

bool Store::Write(const std::string& resource, uint64_t token, bool again) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = highest_.find(resource);
  if (fenced_ && it != highest_.end() && (token < it->second || (token == it->second && !again))) {
    return false;
  }
  if (it == highest_.end() || token > it->second) highest_[resource] = token;
  return true;
}

std::string ProcessAddress(const LockWorkloadOptions& o, int index) {
  if (o.client_addresses.empty()) return "";
  return o.client_addresses[static_cast<size_t>(index) % o.client_addresses.size()];
}

redlock::RedlockOptions ProcessRedlockOptions(const LockWorkloadOptions& o, int index) {
  redlock::RedlockOptions ro;
  ro.configure = [address = ProcessAddress(o, index)](client::ClientOptions& c) {
    c.connection.source_address = address;
  };
  ro.instance_timeout = std::chrono::milliseconds(100);
  ro.connect_timeout = std::chrono::milliseconds(500);
  ro.seed = o.seed * 7919 + static_cast<uint64_t>(index) + 1;
  return ro;
}

std::mt19937_64 ProcessRng(const LockWorkloadOptions& o, int index) {
  return std::mt19937_64(o.seed * 1000003 + static_cast<uint64_t>(index));
}

void RunProcesses(int processes, const std::function<void(int index)>& body) {
  std::vector<std::thread> threads;
  for (int i = 0; i < processes; i++) threads.emplace_back(body, i);
  for (std::thread& t : threads) t.join();
}

void RecordRelease(History& h, int* process, int concurrency, const std::string& resource,
                   const std::optional<std::string>& error) {
  if (error) {
    // Whether the instances dropped the key is unknown: a new process carries on.
    h.Add(*process, OpType::kInfo, "release", {{"resource", resource}, {"error", *error}});
    *process += concurrency;
  } else {
    h.Add(*process, OpType::kOk, "release", {{"resource", resource}});
  }
}

namespace {

void Worker(int index, const LockWorkloadOptions& o, History& h, Store& store, ClientStalls& stalls,
            const std::atomic<bool>& stop) {
  std::mt19937_64 rng = ProcessRng(o, index);
  redlock::Redlock redlock(o.urls, ProcessRedlockOptions(o, index));
  int process = index;
  int64_t next_element = 0;
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
    // The critical section, where the nemesis may stall this process.
    const uint64_t token = lock->token.value_or(0);
    auto stall = [&] {
      if (const int64_t ms = stalls.Take(index); ms > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
      }
    };
    if (o.workload == "fenced-lock") {
      stall();
      h.Add(process, OpType::kInvoke, "write", {{"resource", o.resource}, {"token", token}});
      const bool accepted = store.Write(o.resource, token);
      h.Add(process, OpType::kOk, "write",
            {{"resource", o.resource}, {"token", token}, {"accepted", accepted}});
    } else if (o.workload == "lock-set") {
      const int64_t element = static_cast<int64_t>(index) * 1000000000 + next_element++;
      const nlohmann::json add = {{"resource", o.resource}, {"element", element}};
      h.Add(process, OpType::kInvoke, "add", add);
      const bool accepted = store.Add(o.resource, token, element, stall);
      h.Add(process, accepted ? OpType::kOk : OpType::kFail, "add", add);
    } else {
      stall();
    }
    pause(o.hold_max_ms);
    h.Add(process, OpType::kInvoke, "release", target);
    redlock::Error error = redlock.Release(*lock);
    RecordRelease(h, &process, o.concurrency, o.resource,
                  error ? std::optional<std::string>(error.message()) : std::nullopt);
  }
}

}  // namespace

void RunLockWorkload(const LockWorkloadOptions& options, History& history, ClientStalls& stalls,
                     const std::atomic<bool>& stop) {
  Store store(options.fence);
  RunProcesses(options.concurrency,
               [&](int i) { Worker(i, options, history, store, stalls, stop); });
  if (options.workload == "lock-set") {
    // The final read, once every process is done.
    const int process = options.concurrency * 1000;
    const nlohmann::json target = {{"resource", options.resource}};
    history.Add(process, OpType::kInvoke, "read", target);
    history.Add(process, OpType::kOk, "read",
                {{"resource", options.resource}, {"elements", store.Elements(options.resource)}});
  }
}

}  // namespace keyward::jepsen
