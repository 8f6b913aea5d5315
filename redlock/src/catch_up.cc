#include "keyward/redlock/catch_up.h"

#include <algorithm>

namespace keyward::redlock {

namespace {

// Whether the instance's restart delay had ended before the round's requests were sent: it
// answered `ready` after the end, at most `round_trip` after the sending (1% drift allowed).
bool ReadyBeforeSending(const CatchUpReport& r) {
  const Clock::duration ready = r.ready - r.ready / 100;
  return ready >= r.round_trip;
}

}  // namespace

CatchUpPlan PlanCatchUp(const std::vector<std::optional<CatchUpReport>>& reports) {
  const size_t instances = reports.size();
  CatchUpPlan plan;
  size_t settled = 0;
  size_t unsettled = 0;  // (counted for the plan below)
  for (const auto& r : reports) {
    if (!r) continue;
    plan.counter = std::max(plan.counter, r->counter);
    ++(r->settled ? settled : unsettled);
  }
  // Enough settled peers to share an instance with every majority's other members.
  const size_t needed = instances - Majority(instances) + 1;
  // Too few settled: a majority lost its counters. With every instance's answer in, the highest
  // counter of all is as much as anyone knows.
  plan.bootstrap = settled < needed && settled + unsettled == instances;
  if (settled < needed && !plan.bootstrap) return plan;
  for (size_t i = 0; i < reports.size(); ++i) {
    if (reports[i] && !reports[i]->settled && ReadyBeforeSending(*reports[i])) {
      plan.instances.push_back(i);
    }
  }
  return plan;
}

}  // namespace keyward::redlock
