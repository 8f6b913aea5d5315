// The replicated topology of the `register` and `set` workloads: node 1 starts as the master, the
// others as its replicas, and the harness plays the failover orchestrator's part (what Sentinel
// does): it knows which node is the master, tells the clients (they follow at once, as clients of
// Sentinel do), promotes a replica (REPLICAOF NO ONE, the others REPLICAOF it), and turns a node
// that comes back (a restart, a healed partition) into a replica of the master it knows. It talks
// to the nodes over its own connections (127.0.0.1), which no fault touches.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "nodes.h"

namespace keyward::jepsen {

class ReplicaSet {
 public:
  explicit ReplicaSet(std::vector<std::unique_ptr<Node>>& nodes) : nodes_(nodes) {}

  // Makes every node but the first a replica of it and waits until each is in sync (30 s at
  // most). The error, or nullopt.
  std::optional<std::string> Form();

  // The master the clients should use, and a number that changes with it.
  struct Master {
    std::string url;
    uint64_t epoch = 0;
  };
  Master master() const;
  int master_index() const;

  // Promotes node `index` (REPLICAOF NO ONE) and points the nodes in `reachable` (indices) at it.
  // The error, or nullopt.
  std::optional<std::string> Promote(int index, const std::vector<int>& reachable);
  // Of `candidates`, the replica Sentinel would promote: the one that has processed the most of
  // the master's stream (INFO master_repl_offset); nullopt when none answers.
  std::optional<int> BestReplica(const std::vector<int>& candidates) const;
  // Points node `index` at the current master (it came back, or was cut off when the master
  // changed). Nothing for the master itself.
  std::optional<std::string> Rejoin(int index);

 private:
  std::vector<std::unique_ptr<Node>>& nodes_;
  mutable std::mutex mu_;
  int master_ = 0;
  uint64_t epoch_ = 0;
};

}  // namespace keyward::jepsen
