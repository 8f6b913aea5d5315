#include "replica_set.h"

#include <chrono>
#include <thread>

namespace keyward::jepsen {

std::optional<int> ReplicaSet::BestReplica(const std::vector<int>& candidates) const {
  std::optional<int> best;
  int64_t best_offset = -1;
  for (int i : candidates) {
    const std::string offset =
        InfoField(*nodes_[static_cast<size_t>(i)], "replication", "master_repl_offset");
    if (offset.empty()) continue;
    const int64_t o = std::stoll(offset);
    if (o > best_offset) {
      best = i;
      best_offset = o;
    }
  }
  return best;
}

std::optional<std::string> ReplicaSet::Form() {
  for (size_t i = 1; i < nodes_.size(); i++) {
    if (auto e = Rejoin(static_cast<int>(i))) return e;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (size_t i = 1; i < nodes_.size(); i++) {
    while (InfoField(*nodes_[i], "replication", "master_link_status") != "up") {
      if (std::chrono::steady_clock::now() > deadline) {
        return "node " + std::to_string(i + 1) + " did not sync with the master within 30 s";
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  return std::nullopt;
}

ReplicaSet::Master ReplicaSet::master() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {nodes_[static_cast<size_t>(master_)]->url(), epoch_};
}

int ReplicaSet::master_index() const {
  std::lock_guard<std::mutex> lock(mu_);
  return master_;
}

std::optional<std::string> ReplicaSet::Promote(int index, const std::vector<int>& reachable) {
  const std::string r = Admin(*nodes_[static_cast<size_t>(index)], {"REPLICAOF", "NO", "ONE"});
  if (r != "OK") return "REPLICAOF NO ONE on node " + std::to_string(index + 1) + ": " + r;
  {
    std::lock_guard<std::mutex> lock(mu_);
    master_ = index;
    epoch_++;
  }
  std::optional<std::string> error;
  for (int i : reachable) {
    if (i == index) continue;
    if (auto e = Rejoin(i); e && !error) error = e;
  }
  return error;
}

std::optional<std::string> ReplicaSet::Rejoin(int index) {
  const int master = master_index();
  if (index == master) return std::nullopt;
  const Node& m = *nodes_[static_cast<size_t>(master)];
  const std::string r =
      Admin(*nodes_[static_cast<size_t>(index)], {"REPLICAOF", m.host(), std::to_string(m.port())});
  if (r.rfind("OK", 0) != 0) return "REPLICAOF on node " + std::to_string(index + 1) + ": " + r;
  return std::nullopt;
}

}  // namespace keyward::jepsen
