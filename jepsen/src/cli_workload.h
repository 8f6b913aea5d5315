// The `cli` workload: the lock as users of `keyward lock` hold it, with a real process tree under
// it. Each client process loops: it runs
//   keyward lock jepsen-lock --ttl T --timeout 100 --servers ... --source-addr A [--wait W]
//       -- keyward-jepsen cli-child ...
// (`keyward` beside the harness; A its group's address, so partitions cut it off as they cut the
// other clients). The child (RunCliChild) forks a grandchild that only sleeps, reports both pids
// and its fencing token to the harness over a unix socket ("hello": the acquire completes), writes
// its token to the fenced store, holds the lock a random 0-TTL ms (sometimes ignoring SIGTERM, as
// a stubborn program does), says "bye" (the release begins) and exits; `keyward` kills what is
// left of the group and releases. `keyward`'s exit ends the operation: 0 released; 75 / 69 the
// lock was not had (fail); anything else after a hello (76 the lease was lost, a kill) an unknown
// release (info, the process continues under a new number).
//
// What is checked, besides the tokens and the store (lock_checker.h): at every hello the harness
// looks for a live process (/proc: not a zombie, its command line this run's child of that
// acquisition) of any other acquisition's tree and records those it finds in the acquire's
// "outlived" (a tree that outlived its lock into the next holder's time: the checker's
// `child-outlived`); after the last `keyward` exited, any tree still alive is recorded the same
// way. The nemesis's client faults act on the `keyward` processes: `client-pause` stops one
// (SIGSTOP, for at least twice the TTL: its child runs on, nobody renews) and `client-kill`
// SIGKILLs one.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "history.h"
#include "lock_workload.h"

namespace keyward::jepsen {

class CliReports;

// One `keyward lock` run by client `index`, recorded as `process`.
struct CliAttempt {
  int index = 0;
  int process = 0;
  int64_t attempt = 0;
  pid_t pid = -1;
};

// The clients' side of the workload, for the workload's loop and the scenarios' choreographies.
class CliClients {
 public:
  CliClients(const LockWorkloadOptions& options, std::string keyward, std::string self,
             std::string log, History& history, ClientStalls& clients);
  ~CliClients();
  // Listens for the children's reports. The error, or nullopt.
  std::optional<std::string> Start();
  // Records the acquire's invocation and starts `keyward lock` (`wait_ms` -1: no --wait) whose
  // child holds `hold_ms` (`stubborn`: ignoring SIGTERM).
  CliAttempt Launch(int index, int process, int64_t wait_ms, int64_t hold_ms, bool stubborn);
  // Whether its child said hello (its acquire completed).
  bool Holding(const CliAttempt& attempt) const;
  // Waits for its `keyward` to exit and records the outcome. The process number to go on with.
  int Finish(const CliAttempt& attempt);
  // After every `keyward` exited: records (as `process`'s "trees") and kills any tree alive.
  void FinalCheck(int process);

 private:
  const LockWorkloadOptions& o_;
  std::string keyward_, self_, log_, servers_;
  History& h_;
  ClientStalls& clients_;
  std::unique_ptr<CliReports> reports_;
  std::atomic<bool> done_{false};
  std::thread server_;
};

// Runs until `stop`; returns when every `keyward` has exited. `keyward` and `self` (this
// harness, which `keyward` runs as the child) are binaries; their output goes to `log`.
void RunCliWorkload(const LockWorkloadOptions& options, const std::string& keyward,
                    const std::string& self, const std::string& log, History& history,
                    ClientStalls& clients, const std::atomic<bool>& stop);

// `keyward-jepsen cli-child SOCKET ATTEMPT HOLD-MS STUBBORN`: the command `keyward lock` runs
// (above). The exit code.
int RunCliChild(const std::vector<std::string>& args);

}  // namespace keyward::jepsen
