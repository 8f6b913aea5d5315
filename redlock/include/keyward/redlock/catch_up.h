// Catching up an instance that started without its fencing counters (docs/coordination.md,
// "An instance that restarted empty"), as a pure decision over the instances' answers.
//
// A token T1 committed before instance X restarted empty was counted by a majority M1; after the
// restart, only M1 without X still knows it, at least Majority(N) - 1 instances. X answers
// LOCK.FENCE with UNSETTLED and PROPOSE with -1 (it counts nothing) until a client has read the
// highest counters of N - Majority(N) + 1 of its peers that are settled themselves (never lost
// theirs, or caught up): any such set shares an instance with M1 without X, for every resource,
// so the highest counter read is at least every T1, and X, with every counter raised to it
// (LOCK.CATCHUP counter run-id), counts again without any clock assumption: uniqueness and
// real-time order follow as in acquire_round.h.
//
// Timing: a FENCE that completes T1 may still be on its way to a peer when X restarts. Its holder
// uses T1 only if the FENCE round ended within the acquisition's validity (ttl - elapsed - drift,
// from the round's first request, which came before X's restart), so every FENCE that counts for
// T1 landed within one lease of X's restart: by the end of X's restart delay (lock-restart-delay,
// at least the longest lease, as exclusion already needs). Each answer reports how long ago the
// instance's delay ended (`ready`); the round's requests all go out after `sent`, so the peers'
// counters are used for X only if `ready` (less the 1% drift) covers the time from `sent` to X's
// answer: the delay had then ended before any peer was read.
//
// When too few settled instances exist for that (a fresh cluster, or a majority restarted without
// its counters), the answers of every instance are the most anyone knows: once all N answered,
// each unsettled one is raised to the highest counter of all (with a majority lost, tokens rest on
// the boot floors' clock assumption, as docs/coordination.md states). Without an answer from
// every instance this is not done: one that did not answer may be the one that knows the last
// token.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "keyward/redlock/quorum.h"

namespace keyward::redlock {

// One instance's answer to LOCK.CATCHUP.
struct CatchUpReport {
  bool settled = true;
  uint64_t counter = 0;          // its highest counter
  Millis ready{0};               // how long before answering its restart delay had ended
  std::string run_id;            // the instance's life that answered (a restart makes a new one)
  Clock::duration round_trip{};  // from sending the request to this answer
};

struct CatchUpPlan {
  uint64_t counter = 0;           // what each instance below is raised to
  std::vector<size_t> instances;  // the unsettled instances to raise and settle
  bool bootstrap = false;         // too few settled: from every instance's answer
};

// `reports[i]`: instance i's answer, nullopt when it gave none.
CatchUpPlan PlanCatchUp(const std::vector<std::optional<CatchUpReport>>& reports);

}  // namespace keyward::redlock
