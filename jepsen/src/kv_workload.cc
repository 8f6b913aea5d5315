#include "kv_workload.h"

#include <random>
#include <thread>

#include "keyward/client/client.h"
#include "keyward/client/config.h"

namespace keyward::jepsen {

namespace {

constexpr int kOpsPerKey = 200;  // Jepsen's bound: the linearizability search stays tractable
constexpr int kValues = 5;       // register values 0..4, as Jepsen's

constexpr const char* kCasScript =
    "if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('set', KEYS[1], ARGV[2]) "
    "return 1 end return 0";

// A connection to the master of the moment, made again when the harness names another.
class MasterClient {
 public:
  MasterClient(ReplicaSet& replicas, std::string source)
      : replicas_(replicas), source_(std::move(source)) {}

  client::Client& get() {
    const ReplicaSet::Master m = replicas_.master();
    if (!client_ || m.epoch != epoch_) {
      client::ClientOptions options;
      if (auto parsed = client::ParseUrl(m.url)) options.connection = *parsed;
      options.connection.connect_timeout = std::chrono::milliseconds(200);
      options.connection.command_timeout = std::chrono::milliseconds(500);
      options.connection.source_address = source_;
      options.queue_while_disconnected = false;
      client_ = std::make_unique<client::Client>(options);
      epoch_ = m.epoch;
    }
    return *client_;
  }

 private:
  ReplicaSet& replicas_;
  std::string source_;
  std::unique_ptr<client::Client> client_;
  uint64_t epoch_ = 0;
};

// How an operation ended: its reply, or whether it may have happened.
enum class Outcome { kOk, kFail, kInfo };

Outcome Classify(const client::Expected<client::Reply>& reply) {
  if (!reply) {
    const auto e = reply.error();
    const bool unknown =
        e == client::ClientError::kTimeout || e == client::ClientError::kConnectionLost;
    return unknown ? Outcome::kInfo : Outcome::kFail;
  }
  return reply->is_error() ? Outcome::kFail : Outcome::kOk;
}

std::string ErrorText(const client::Expected<client::Reply>& reply) {
  if (!reply) return reply.error().message();
  if (reply->is_error()) return std::string(reply->as_error().value());
  return "";
}

void Worker(int index, const LockWorkloadOptions& o, ReplicaSet& replicas, History& h,
            std::atomic<int64_t>& ops, const std::atomic<bool>& stop) {
  std::mt19937_64 rng = ProcessRng(o, index);
  MasterClient master(replicas, ProcessAddress(o, index));
  int process = index;
  int64_t next_element = 0;
  while (!stop.load()) {
    nlohmann::json value;
    std::string f;
    client::Expected<client::Reply> reply = client::Reply();
    if (o.workload == "set") {
      f = "add";
      const int64_t element = static_cast<int64_t>(index) * 1000000000 + next_element++;
      value = {{"element", element}};
      h.Add(process, OpType::kInvoke, f, value);
      reply = master.get().Command("SADD", kSetKey, std::to_string(element));
    } else {
      const std::string key = "r" + std::to_string(ops.fetch_add(1) / kOpsPerKey);
      const uint64_t pick = rng() % 3;
      if (pick == 0) {
        f = "read";
        value = {{"key", key}};
        h.Add(process, OpType::kInvoke, f, value);
        reply = master.get().Command("GET", key);
        if (reply && !reply->is_error()) {
          auto s = reply->as_string();
          value["value"] = s ? nlohmann::json(std::stoll(std::string(*s))) : nlohmann::json();
        }
      } else if (pick == 1) {
        f = "write";
        value = {{"key", key}, {"value", static_cast<int64_t>(rng() % kValues)}};
        h.Add(process, OpType::kInvoke, f, value);
        reply = master.get().Command("SET", key, std::to_string(value["value"].get<int64_t>()));
      } else {
        f = "cas";
        const auto from = static_cast<int64_t>(rng() % kValues);
        const auto to = static_cast<int64_t>(rng() % kValues);
        value = {{"key", key}, {"from", from}, {"to", to}};
        h.Add(process, OpType::kInvoke, f, value);
        reply = master.get().Command("EVAL", kCasScript, "1", key, std::to_string(from),
                                     std::to_string(to));
        // 0: the register did not hold `from`, nothing was written.
        if (reply && !reply->is_error() && reply->as_integer() && *reply->as_integer() == 0) {
          value["error"] = "compare failed";
          h.Add(process, OpType::kFail, f, value);
          continue;
        }
      }
    }
    switch (Classify(reply)) {
      case Outcome::kOk:
        h.Add(process, OpType::kOk, f, value);
        break;
      case Outcome::kFail:
        value["error"] = ErrorText(reply);
        h.Add(process, OpType::kFail, f, value);
        std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 10));
        break;
      case Outcome::kInfo:
        value["error"] = ErrorText(reply);
        h.Add(process, OpType::kInfo, f, value);
        process += o.concurrency;
        break;
    }
  }
}

}  // namespace

void RunKvWorkload(const LockWorkloadOptions& options, ReplicaSet& replicas, History& history,
                   const std::atomic<bool>& stop) {
  std::atomic<int64_t> ops{0};
  RunProcesses(options.concurrency,
               [&](int i) { Worker(i, options, replicas, history, ops, stop); });
}

void FinalSetRead(const LockWorkloadOptions& options, ReplicaSet& replicas, History& history) {
  const int process = options.concurrency * 1000;
  history.Add(process, OpType::kInvoke, "read", {{"key", kSetKey}});
  MasterClient master(replicas, "");
  auto reply = master.get().Command("SMEMBERS", kSetKey);
  if (!reply || reply->is_error()) {
    history.Add(process, OpType::kFail, "read", {{"key", kSetKey}, {"error", ErrorText(reply)}});
    return;
  }
  std::vector<int64_t> elements;
  if (auto items = reply->as_array()) {
    for (const client::Reply& item : *items) {
      if (auto s = item.as_string()) elements.push_back(std::stoll(std::string(*s)));
    }
  }
  history.Add(process, OpType::kOk, "read", {{"key", kSetKey}, {"elements", elements}});
}

}  // namespace keyward::jepsen
