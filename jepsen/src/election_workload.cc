#include "election_workload.h"

#include <random>
#include <thread>
#include <vector>

#include "keyward/redlock/election.h"
#include "keyward/redlock/redlock.h"

namespace keyward::jepsen {

redlock::Result<redlock::Leadership> RecordedCampaign(redlock::Redlock& redlock,
                                                      redlock::Election& election, History& h,
                                                      int process, const std::string& resource,
                                                      const std::string& value,
                                                      std::chrono::milliseconds wait) {
  h.Add(process, OpType::kInvoke, "acquire", {{"resource", resource}});
  redlock::Result<redlock::Leadership> lead = redlock.Run(election.Campaign(value, wait));
  if (!lead) {
    h.Add(process, OpType::kFail, "acquire",
          {{"resource", resource}, {"error", lead.error().message()}});
  } else {
    h.Add(process, OpType::kOk, "acquire",
          {{"resource", resource},
           {"token", lead->term()},
           {"valid_until", h.ToNs(lead->lease().valid_until())}});
  }
  return lead;
}

void RecordedResign(redlock::Redlock& redlock, redlock::Leadership& leadership, History& h,
                    int* process, int concurrency, const std::string& resource) {
  h.Add(*process, OpType::kInvoke, "release",
        {{"resource", resource}, {"valid_until", h.ToNs(leadership.lease().valid_until())}});
  redlock::Error error = redlock.Run(leadership.Resign());
  RecordRelease(h, process, concurrency, resource,
                error && !leadership.lease().lost() ? std::optional<std::string>(error.message())
                                                    : std::nullopt);
}

namespace {

void Candidate(int index, const LockWorkloadOptions& o, History& h, Store& store,
               ClientStalls& stalls, const std::atomic<bool>& stop) {
  std::mt19937_64 rng = ProcessRng(o, index);
  redlock::Redlock redlock(o.urls, ProcessRedlockOptions(o, index));
  redlock::ElectionOptions eo;
  eo.ttl = o.ttl;
  redlock::Election election(redlock.async(), o.resource, eo);
  int process = index;
  const std::string value = "candidate-" + std::to_string(index);
  while (!stop.load()) {
    redlock::Result<redlock::Leadership> lead = RecordedCampaign(
        redlock, election, h, process, o.resource, value, std::chrono::milliseconds(300));
    if (!lead) continue;
    const uint64_t term = lead->term();
    // Lead: dispatch jobs stamped with the term while the lease holds.
    const auto until =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(rng() % (2 * o.ttl.count()));
    while (!stop.load() && std::chrono::steady_clock::now() < until && !lead->lease().lost()) {
      if (const int64_t ms = stalls.Take(index); ms > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        if (lead->lease().lost()) break;  // a leader checks before acting
      }
      h.Add(process, OpType::kInvoke, "write", {{"resource", o.resource}, {"token", term}});
      const bool accepted = store.Write(o.resource, term, /*again=*/true);
      h.Add(process, OpType::kOk, "write",
            {{"resource", o.resource}, {"token", term}, {"accepted", accepted}});
      std::this_thread::sleep_for(std::chrono::milliseconds(5 + rng() % 20));
    }
    // It stops leading now; its lease ran at least until its latest validity.
    RecordedResign(redlock, *lead, h, &process, o.concurrency, o.resource);
  }
}

}  // namespace

void RunElectionWorkload(const LockWorkloadOptions& options, History& history, ClientStalls& stalls,
                         const std::atomic<bool>& stop) {
  // Terms are fencing tokens: the store checks them as fenced-lock's does.
  Store store(/*fenced=*/true);
  RunProcesses(options.concurrency,
               [&](int i) { Candidate(i, options, history, store, stalls, stop); });
}

}  // namespace keyward::jepsen
