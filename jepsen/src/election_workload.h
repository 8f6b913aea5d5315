// election: `concurrency` candidates campaign for leadership through the library's Election
// (redlock/include/keyward/redlock/election.h). A campaign that wins is recorded as an acquire
// with the term as its token; the leader then dispatches jobs stamped with its term to the
// fenced store every few milliseconds while its lease holds (renewed in the background), for up
// to twice the TTL, and resigns. The lock checker applies: one leader at a time on lease
// intervals (a release records the lease's latest validity), terms unique and increasing in real
// time, the store never accepting an older term.
#pragma once

#include <atomic>

#include "history.h"
#include "lock_workload.h"

namespace keyward::jepsen {

void RunElectionWorkload(const LockWorkloadOptions& options, History& history, ClientStalls& stalls,
                         const std::atomic<bool>& stop);

}  // namespace keyward::jepsen
