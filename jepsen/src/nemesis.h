// The nemesis: faults injected into the nodes on a schedule, one at a time. Every `interval` it
// picks one of its faults and a node at random (seeded), applies the fault, waits `duration`,
// heals it, and records both moments in the history (process "nemesis", type info):
//   kill           SIGKILL, then a restart with the node's data (AOF, appendfsync always)
//   pause          SIGSTOP, then SIGCONT
//   restart-empty  SIGKILL and the node's data deleted, then a restart with nothing
//   partition      the node cut off (partition.h: every TCP segment to or from it dropped), then
//                  healed
//   client-pause   a client process stalls inside its next critical section for the duration
//                  (at least twice the TTL: its lease runs out meanwhile), as in a GC pause
// At the end every node is healed: running, not paused.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "history.h"
#include "lock_workload.h"
#include "nodes.h"
#include "partition.h"

namespace keyward::jepsen {

inline const std::vector<std::string>& KnownFaults() {
  static const std::vector<std::string> faults = {"kill", "pause", "restart-empty", "partition",
                                                  "client-pause"};
  return faults;
}

struct NemesisOptions {
  std::vector<std::string> faults;  // of KnownFaults(); empty: none
  std::chrono::milliseconds interval{2000};
  std::chrono::milliseconds duration{1500};
  std::chrono::milliseconds ttl{1000};  // the locks' (client-pause lasts at least twice that)
  uint64_t seed = 1;
};

// Runs the schedule until `stop`, then heals. The first error a restart met, if any.
std::optional<std::string> RunNemesis(const NemesisOptions& options,
                                      std::vector<std::unique_ptr<Node>>& nodes,
                                      ClientStalls& clients, Partitioner* partitioner,
                                      History& history, const std::atomic<bool>& stop);

}  // namespace keyward::jepsen
