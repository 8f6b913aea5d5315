#include "nemesis.h"

#include <algorithm>
#include <random>
#include <thread>

namespace keyward::jepsen {

namespace {

// Sleeps up to `d`, waking early when `stop` is set.
void Wait(std::chrono::milliseconds d, const std::atomic<bool>& stop) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (!stop.load() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

std::optional<std::string> RunNemesis(const NemesisOptions& o,
                                      std::vector<std::unique_ptr<Node>>& nodes,
                                      ClientStalls& clients, Partitioner* partitioner, History& h,
                                      const std::atomic<bool>& stop) {
  std::optional<std::string> error;
  std::mt19937_64 rng(o.seed);
  auto start = [&](Node& n) {
    if (auto e = n.Start(); e && !error) error = e;
  };
  while (!o.faults.empty() && !stop.load()) {
    Wait(o.interval, stop);
    if (stop.load()) break;
    const std::string& fault = o.faults[rng() % o.faults.size()];
    if (fault == "client-pause") {
      const int process = static_cast<int>(rng() % static_cast<uint64_t>(clients.size()));
      const int64_t ms = std::max<int64_t>(o.duration.count(), 2 * o.ttl.count());
      h.Add(kNemesis, OpType::kInfo, fault, {{"client", process}, {"ms", ms}});
      clients.Request(process, ms);
      continue;
    }
    Node& node = *nodes[rng() % nodes.size()];
    const nlohmann::json target = {{"node", node.id()}, {"port", node.port()}};
    h.Add(kNemesis, OpType::kInfo, fault, target);
    if (fault == "pause") {
      node.Pause();
    } else if (fault == "partition") {
      if (!partitioner->Isolate(node.port()) && !error) error = "iptables failed to cut a node";
    } else {
      node.Kill();
      if (fault == "restart-empty") node.Wipe();
    }
    // The fault lasts its whole duration, even past the end of the run: the heal below comes
    // after it.
    std::this_thread::sleep_for(o.duration);
    const char* healed = "start";
    if (fault == "pause") {
      node.Resume();
      healed = "resume";
    } else if (fault == "partition") {
      partitioner->Heal();
      healed = "heal";
    } else {
      start(node);
    }
    h.Add(kNemesis, OpType::kInfo, healed, target);
  }
  // The final heal: no partition, every node up.
  if (partitioner != nullptr) partitioner->Heal();
  for (auto& n : nodes) {
    if (n->paused()) n->Resume();
    if (!n->running()) start(*n);
  }
  return error;
}

}  // namespace keyward::jepsen
