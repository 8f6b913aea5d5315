// election: `concurrency` candidates campaign for leadership through the library's Election
// (redlock/include/keyward/redlock/election.h). A campaign that wins is recorded as an acquire
// with the term as its token; the leader then dispatches jobs stamped with its term to the
// fenced store every few milliseconds while its lease holds (renewed in the background), for up
// to twice the TTL, and resigns. The lock checker applies: one leader at a time on lease
// intervals (a release records the lease's latest validity), terms unique and increasing in real
// time, the store never accepting an older term.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "history.h"
#include "keyward/redlock/election.h"
#include "keyward/redlock/redlock.h"
#include "lock_workload.h"

namespace keyward::jepsen {

// A campaign by `process`, recorded as an acquire (ok: the term as its token, the lease's
// validity; fail: the error).
redlock::Result<redlock::Leadership> RecordedCampaign(redlock::Redlock& redlock,
                                                      redlock::Election& election, History& h,
                                                      int process, const std::string& resource,
                                                      const std::string& value,
                                                      std::chrono::milliseconds wait);
// A resignation, recorded as a release (its invocation with the lease's latest validity); an
// error while the lease was not lost makes it unknown (RecordRelease).
void RecordedResign(redlock::Redlock& redlock, redlock::Leadership& leadership, History& h,
                    int* process, int concurrency, const std::string& resource);

void RunElectionWorkload(const LockWorkloadOptions& options, History& history, ClientStalls& stalls,
                         const std::atomic<bool>& stop);

}  // namespace keyward::jepsen
