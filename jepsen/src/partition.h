// Network partitions on loopback with iptables (root): a chain of the run's own, jumped to from
// INPUT, where cutting a node off adds rules that drop every TCP segment to or from its port
// (connections hang, as across a real partition, rather than being refused), and healing
// flushes only that chain. `keyward-jepsen clean` removes chains a crashed run left behind.
#pragma once

#include <optional>
#include <string>

namespace keyward::jepsen {

class Partitioner {
 public:
  // Creates the chain "KWJ-<pid>". The error (not root, no iptables), or nullopt.
  std::optional<std::string> Setup();
  ~Partitioner();
  Partitioner() = default;
  Partitioner(const Partitioner&) = delete;
  Partitioner& operator=(const Partitioner&) = delete;

  bool Isolate(int port);
  bool Heal();

 private:
  std::string chain_;
};

// Removes every KWJ-* chain (and its jump from INPUT). How many.
int RemoveLeftoverChains();

}  // namespace keyward::jepsen
