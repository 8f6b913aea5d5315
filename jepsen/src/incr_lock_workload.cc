#include "incr_lock_workload.h"

#include <random>
#include <thread>
#include <vector>

#include "keyward/client/client.h"
#include "keyward/client/config.h"

namespace keyward::jepsen {

namespace {

constexpr const char* kReleaseScript =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end "
    "return 0";

void Worker(int index, const LockWorkloadOptions& o, History& h, ClientStalls& stalls,
            const std::atomic<bool>& stop) {
  std::mt19937_64 rng = ProcessRng(o, index);
  auto parsed = client::ParseUrl(o.urls.at(0));
  client::ClientOptions options;
  if (parsed) options.connection = *parsed;
  options.connection.connect_timeout = std::chrono::milliseconds(200);
  options.connection.command_timeout = std::chrono::milliseconds(500);
  options.queue_while_disconnected = false;
  options.connection.source_address = ProcessAddress(o, index);
  client::Client c(options);
  const std::string owner = "p" + std::to_string(index);
  const std::string ttl = std::to_string(o.ttl.count());
  int process = index;
  while (!stop.load()) {
    const nlohmann::json target = {{"resource", o.resource}};
    const auto invoked = History::Clock::now();
    h.Add(process, OpType::kInvoke, "acquire", target);
    auto set = c.Command("SET", o.resource, owner, "NX", "PX", ttl);
    if (!set || set->is_error() || set->is_null()) {
      h.Add(process, OpType::kFail, "acquire", target);
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 5));
      continue;
    }
    auto incr = c.Command("INCR", o.resource + ":token");
    auto token = incr ? incr->as_integer() : client::Expected<int64_t>(incr.error());
    if (!token || *token < 0) {
      // It holds the lock without a token: it gives it up.
      h.Add(process, OpType::kFail, "acquire", target);
      c.Command("EVAL", kReleaseScript, "1", o.resource, owner);
      continue;
    }
    h.Add(process, OpType::kOk, "acquire",
          {{"resource", o.resource},
           {"token", static_cast<uint64_t>(*token)},
           {"valid_until", h.ToNs(invoked + o.ttl)}});
    if (const int64_t ms = stalls.Take(index); ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % (o.hold_max_ms + 1)));
    h.Add(process, OpType::kInvoke, "release", target);
    auto del = c.Command("EVAL", kReleaseScript, "1", o.resource, owner);
    RecordRelease(
        h, &process, o.concurrency, o.resource,
        del && !del->is_error() ? std::nullopt : std::optional<std::string>("release failed"));
  }
}

}  // namespace

void RunIncrLockWorkload(const LockWorkloadOptions& options, History& history, ClientStalls& stalls,
                         const std::atomic<bool>& stop) {
  RunProcesses(options.concurrency, [&](int i) { Worker(i, options, history, stalls, stop); });
}

}  // namespace keyward::jepsen
