// The nemesis: faults injected on a schedule, recorded in the history (process "nemesis", type
// info) when each begins and when it is healed:
//   kill              SIGKILL a node, then restart it with its data (AOF, appendfsync always)
//   pause             SIGSTOP a node, then SIGCONT
//   restart-empty     SIGKILL a node and delete its data, then restart it with nothing
//   partition         one node cut off from the others and from their clients (network.h)
//   partition-halves  the nodes split in two halves (a minority and a majority), clients with
//                     their node
//   partition-ring    every node hears a majority of the nodes, no two the same one
//   partition-bridge  two halves, and one node that hears both and is heard by both
//   loss              a share (20%) of one node's packets dropped at random
//   clock             one node's wall clock stepped 1-5 s either way, running twice or half as
//                     fast, or strobing (stepped ahead and back every 100 ms) (libfaketime,
//                     nodes.h), then set right again
//   client-pause      a client process stalls inside its next critical section for the duration
//                     (at least twice the TTL: its lease runs out meanwhile), as in a GC pause;
//                     for the cli workload, a running `keyward` is stopped (SIGSTOP) that long
//   client-kill       (cli workload) a running `keyward` SIGKILLed
//   failover          (replicated workloads) the master cut off from the other nodes and from
//                     their clients; halfway through, a replica promoted (what Sentinel does on
//                     the majority's side) and the clients sent to it; at the heal, the old master
//                     made its replica. Writes it acknowledged meanwhile are lost: asynchronous
//                     replication's known anomaly
// With a replica set, a node that restarts is made a replica of the master again.
// Every `interval` a fault (drawn with the seed, as is its target) begins and lasts `duration`.
// Serial schedule: one fault at a time, the next `interval` after the last healed. Overlapping
// schedule: a fault begins every `interval` whatever is in force, on a node no other node fault
// holds; partitions and losses in force combine. When the run stops everything is healed: every
// node running, not paused, no network fault.
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
#include "network.h"
#include "nodes.h"
#include "replica_set.h"

namespace keyward::jepsen {

const std::vector<std::string>& KnownFaults();
// Whether `fault` needs iptables (root).
bool IsNetworkFault(const std::string& fault);

struct NemesisOptions {
  std::vector<std::string> faults;  // of KnownFaults(); empty: none
  std::chrono::milliseconds interval{2000};
  std::chrono::milliseconds duration{1500};
  std::chrono::milliseconds ttl{1000};  // the locks' (client-pause lasts at least twice that)
  bool overlap = false;                 // the overlapping schedule
  bool cli_clients = false;             // client faults act on the cli workload's `keyward`s
  double loss_probability = 0.2;
  // A fixed schedule instead of drawn faults (the scenarios): each step begins at `at` after the
  // start, on node `node` (0-based; -1: drawn), and lasts `duration`.
  struct Step {
    std::chrono::milliseconds at{0};
    std::string fault;
    int node = -1;
    std::string clock;  // the clock fault's offset (libfaketime's form); "": drawn
  };
  std::vector<Step> script;
  uint64_t seed = 1;
};

// Runs the schedule until `stop`, then heals. The first error a fault or a restart met, if any.
std::optional<std::string> RunNemesis(const NemesisOptions& options,
                                      std::vector<std::unique_ptr<Node>>& nodes,
                                      ClientStalls& clients, Network& network, ReplicaSet* replicas,
                                      History& history, const std::atomic<bool>& stop);

}  // namespace keyward::jepsen
