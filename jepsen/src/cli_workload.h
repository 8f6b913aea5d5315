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

#include <atomic>
#include <string>
#include <vector>

#include "history.h"
#include "lock_workload.h"

namespace keyward::jepsen {

// Runs until `stop`; returns when every `keyward` has exited. `keyward` and `self` (this
// harness, which `keyward` runs as the child) are binaries; their output goes to `log`.
void RunCliWorkload(const LockWorkloadOptions& options, const std::string& keyward,
                    const std::string& self, const std::string& log, History& history,
                    ClientStalls& clients, const std::atomic<bool>& stop);

// `keyward-jepsen cli-child SOCKET ATTEMPT HOLD-MS STUBBORN`: the command `keyward lock` runs
// (above). The exit code.
int RunCliChild(const std::vector<std::string>& args);

}  // namespace keyward::jepsen
