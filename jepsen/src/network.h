// Where the nodes and the clients are on the network, and the nemesis's cuts between them.
//
// Everything is on loopback, no setup needed: node i listens on 127.A.B.(10+i), its own address
// (A.B drawn from the run's pid, so that concurrent runs do not share addresses), and its
// replication link is bound to it (bind-source-addr); the connections of client group g come
// from 127.A.B.(110+g). Client group g lives beside node g: a partition puts it on that node's
// side. The harness's own control connections (start, health checks, failover) come from
// 127.0.0.1, which no fault touches (as Jepsen's control node reaches every node).
//
// Faults are iptables rules (root) in a chain of the run's own, "KWJ-<pid>", jumped to from INPUT,
// which every loopback packet passes: a grudge (node x does not hear from node y, Jepsen's term)
// drops every packet from y's address or y's client group to x's address; loss drops a share of
// a node's packets at random (iptables statistic). Healing flushes only that chain; it is removed
// at the end, and `keyward-jepsen clean` removes chains a crashed run left behind.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace keyward::jepsen {

// For each node (0-based), the nodes it does not hear from. Jepsen's grudge.
using Grudge = std::map<int, std::set<int>>;

// Jepsen's partition shapes over `n` nodes (nemesis/combined.clj), drawn with `rng`:
//   one       a node cut off from every other (both ways)
//   halves    two halves, cut from each other (a minority and a majority)
//   ring      every node hears a majority, no two the same one (for 3 nodes, one-way cuts)
//   bridge    two halves, and one node hearing both, heard by both
// nullopt for an unknown shape.
std::optional<Grudge> PartitionShape(const std::string& shape, int n, std::mt19937_64& rng);
// Whether `from` is heard by `to` under `grudge`.
bool Hears(const Grudge& grudge, int to, int from);

class Network {
 public:
  explicit Network(int client_groups);
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  std::string NodeAddress(int node) const;  // 0-based
  std::string ClientAddress(int group) const;
  int client_groups() const { return client_groups_; }

  // Creates the chain "KWJ-<pid>" (root and iptables needed for any fault). The error, or
  // nullopt.
  std::optional<std::string> Setup();
  bool ready() const { return !chain_.empty(); }
  const std::string& chain() const { return chain_; }

  // Adds `grudge`'s drops (on top of what is in force).
  bool Partition(const Grudge& grudge);
  // Drops `probability` of the packets to and from `node` (not the harness's own).
  bool Loss(int node, double probability);
  // Flushes every fault.
  bool Heal();

 private:
  std::string base_;  // "127.A.B."
  int client_groups_;
  std::string chain_;
};

// Removes every KWJ-<pid> chain whose run is gone (and its jump from INPUT). How many.
int RemoveLeftoverChains();

}  // namespace keyward::jepsen
