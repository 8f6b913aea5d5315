// The lock workloads: `concurrency` client processes (threads with their own connections, each
// its own Redlock over every node) contend for one resource. Each loops: acquire (with a fencing
// token for fenced-lock, or when --fence on), then inside the critical section a write to the
// store (fenced-lock) and a random hold, then release. Every step enters the history; a process
// whose operation ended in an unknown state continues under a new process number, as in Jepsen.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "history.h"

namespace keyward::jepsen {

// What the locks protect: a register per resource that, with fencing, accepts a write only with
// a token above every token it accepted before (a storage service that checks fencing tokens);
// without, accepts every write.
class Store {
 public:
  explicit Store(bool fenced) : fenced_(fenced) {}
  bool Write(const std::string& resource, uint64_t token);

 private:
  bool fenced_;
  std::mutex mu_;
  std::map<std::string, uint64_t> highest_;
};

struct LockWorkloadOptions {
  std::vector<std::string> urls;
  int concurrency = 5;
  std::chrono::milliseconds ttl{1000};
  bool fence = true;     // ask for tokens (and check them)
  bool store = true;     // write to the store inside the critical section (fenced-lock)
  int hold_max_ms = 20;  // the critical section lasts 0..hold_max_ms
  std::string resource = "jepsen-lock";
  uint64_t seed = 1;
};

// Runs until `stop`; returns when every process finished its current operation.
void RunLockWorkload(const LockWorkloadOptions& options, History& history,
                     const std::atomic<bool>& stop);

}  // namespace keyward::jepsen
