// The lock checkers (../shared/HARNESS.md, "Lock-specific checking").
//
// From a history the checker rebuilds every holding: a process's acquire that completed ok
// (invocation `inv`, completion `ok`, the token and the validity the client computed), up to the
// invocation of its release (`rel`; never, if it did not release before the test ended).
//   believed hold  H = [ok, rel]
//   lease          L = [ok, min(rel, valid_until)]
// - Mutual exclusion: two leases of one resource that overlap are a violation. Holds that
//   overlap only past a lease's end are lease overruns: expected when a holder is paused, and
//   exactly what fencing is for; counted, not a violation.
// - Fencing (when tokens were asked for): every holding has a token; no token of a resource is
//   issued twice; real-time order: if holding a completed before holding b was invoked, a's
//   token is below b's.
// - The store: with fencing, every write it accepted carried a token above every token it had
//   accepted before (what a store protected by fencing promises); without, no write it accepted
//   began outside its writer's lease after another holding of the resource had begun (the update
//   the lock alone did not keep out).
// - The cli workload's process trees: an acquire (or the final "trees" check) that found processes
//   of another acquisition's tree alive records them in its "outlived", as does an "orphan" (a
//   child that reported after its `keyward` had exited): `child-outlived`.
#pragma once

#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "history.h"

namespace keyward::jepsen {

struct Holding {
  int process = 0;
  std::string resource;
  int64_t invoke_ns = 0;
  int64_t ok_ns = 0;
  int64_t release_ns = INT64_MAX;  // the release's invocation; INT64_MAX: never released
  int64_t valid_until_ns = 0;
  std::optional<uint64_t> token;
  int64_t lease_end() const { return std::min(release_ns, valid_until_ns); }
};

struct Anomaly {
  std::string kind;  // "lease-overlap", "duplicate-token", "token-order", "missing-token", ...
  nlohmann::json detail;
};

struct LockCheck {
  bool valid = true;
  std::vector<Anomaly> anomalies;
  int64_t acquisitions = 0;  // holdings
  int64_t attempts = 0;      // acquire invocations
  int64_t overruns = 0;      // holds overlapping past a lease's end
  int64_t writes_accepted = 0, writes_refused = 0;
  nlohmann::json ToJson() const;
};

// The holdings of `ops` (acquire/release operations of the lock workloads).
std::vector<Holding> Holdings(const std::vector<Op>& ops);
// `fenced`: the workload asked for tokens (fencing checks apply).
LockCheck CheckLocks(const std::vector<Op>& ops, bool fenced);

}  // namespace keyward::jepsen
