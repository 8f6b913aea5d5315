// The workloads on replicated data (replica_set.h). Client processes send every operation to the
// master the harness knows, and follow it when it changes, as Sentinel's clients do:
//   register  read (GET), write (SET) and cas (a script: SET if GET equals) of small values on
//             keys used for 200 operations each, checked for linearizability (linear_checker.h)
//   set       adds of unique elements (SADD), and after the heal a final read (SMEMBERS) from
//             the master, checked as Jepsen's set (set_checker.h)
// An operation that timed out or whose connection broke may or may not have happened: info, and
// the process continues under a new number; a refusal (an error reply, no connection) did not
// happen: fail.
#pragma once

#include <atomic>

#include "history.h"
#include "lock_workload.h"
#include "replica_set.h"

namespace keyward::jepsen {

inline constexpr const char* kSetKey = "jepsen-set";

// Runs until `stop`; returns when every process finished its current operation.
void RunKvWorkload(const LockWorkloadOptions& options, ReplicaSet& replicas, History& history,
                   const std::atomic<bool>& stop);
// The set workload's final read, from the master (after the heal and the recovery).
void FinalSetRead(const LockWorkloadOptions& options, ReplicaSet& replicas, History& history);

}  // namespace keyward::jepsen
