// The lock workloads: `concurrency` client processes (threads with their own connections, each
// its own Redlock over every node) contend for one resource. Each loops: acquire (with a fencing
// token when --fence on), then inside the critical section
//   lock         a random hold
//   fenced-lock  a write of the token to the store, and a random hold
//   lock-set     a read-modify-write of a set in the store: read it, add a unique element,
//                write it back ("add"; ok when the store accepted the write)
// then release. After the run a final read of the set ("read"). Every step enters the history;
// a process whose operation ended in an unknown state continues under a new process number, as
// in Jepsen. The nemesis's client-pause makes a process stall inside its next critical section
// (between its read and its write in lock-set) for longer than its lease, as a GC pause would.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "history.h"
#include "keyward/redlock/lock.h"

namespace keyward::jepsen {

// What the locks protect: a storage service per resource. With fencing it checks tokens
// (Kleppmann's fenced storage): a write of fenced-lock only with a token above every token it
// accepted; lock-set's read and write only with a token not below the highest it has seen, read
// or written. Without fencing it accepts everything.
class Store {
 public:
  explicit Store(bool fenced) : fenced_(fenced) {}
  // `again`: the holder of `token` writes once more (a leader dispatching under its term): an
  // equal token is accepted too.
  bool Write(const std::string& resource, uint64_t token, bool again = false);
  // lock-set: reads the set (false: a stale token), `stall`, writes it back with `element`.
  bool Add(const std::string& resource, uint64_t token, int64_t element,
           const std::function<void()>& stall);
  std::vector<int64_t> Elements(const std::string& resource);

 private:
  bool SeeToken(const std::string& resource, uint64_t token);  // under mu_
  bool fenced_;
  std::mutex mu_;
  std::map<std::string, uint64_t> highest_;
  std::map<std::string, std::vector<int64_t>> sets_;
};

// The nemesis's hold on the client processes: a stall (ms) a process serves inside its next
// critical section; for the cli workload, the pid of the `keyward` each process runs now (0:
// none), which the nemesis stops or kills.
class ClientStalls {
 public:
  explicit ClientStalls(int processes)
      : stalls_(static_cast<size_t>(processes)),
        pids_(static_cast<size_t>(processes)),
        holding_(static_cast<size_t>(processes)) {}
  void Request(int process, int64_t ms) { stalls_[static_cast<size_t>(process)] = ms; }
  int64_t Take(int process) { return stalls_[static_cast<size_t>(process)].exchange(0); }
  void SetPid(int process, int pid) { pids_[static_cast<size_t>(process)] = pid; }
  int Pid(int process) const { return pids_[static_cast<size_t>(process)].load(); }
  // Whether the process's `keyward` holds the lock now (its child said hello).
  void SetHolding(int process, bool holding) { holding_[static_cast<size_t>(process)] = holding; }
  bool Holding(int process) const { return holding_[static_cast<size_t>(process)].load(); }
  int size() const { return static_cast<int>(stalls_.size()); }

 private:
  std::vector<std::atomic<int64_t>> stalls_;
  std::vector<std::atomic<int>> pids_;
  std::vector<std::atomic<bool>> holding_;
};

struct LockWorkloadOptions {
  std::vector<std::string> urls;
  // Client process i connects from client_addresses[i % size] (its side of a partition,
  // network.h); empty: from 127.0.0.1.
  std::vector<std::string> client_addresses;
  int concurrency = 5;
  std::chrono::milliseconds ttl{1000};
  bool fence = true;                     // ask for tokens (and check them)
  std::string workload = "fenced-lock";  // lock, fenced-lock, lock-set
  int hold_max_ms = 20;                  // the critical section lasts 0..hold_max_ms
  std::string resource = "jepsen-lock";
  uint64_t seed = 1;
};

// Client process `index`'s address, its Redlock options (timeouts, its jitter seed, its
// address) and random stream.
std::string ProcessAddress(const LockWorkloadOptions& options, int index);
redlock::RedlockOptions ProcessRedlockOptions(const LockWorkloadOptions& options, int index);
std::mt19937_64 ProcessRng(const LockWorkloadOptions& options, int index);

// Runs `body(index)` on `processes` threads and joins them (the workloads' client processes).
void RunProcesses(int processes, const std::function<void(int index)>& body);
// A release's outcome: ok, or (an error) unknown, after which the process continues under a new
// number (`*process` += `concurrency`), as in Jepsen.
void RecordRelease(History& h, int* process, int concurrency, const std::string& resource,
                   const std::optional<std::string>& error);

// Runs until `stop`; returns when every process finished its current operation.
void RunLockWorkload(const LockWorkloadOptions& options, History& history, ClientStalls& stalls,
                     const std::atomic<bool>& stop);

}  // namespace keyward::jepsen
