// What the native locks count for the metrics endpoint (docs/operations.md): acquisitions by
// outcome, re-entries, fencing tokens issued, releases, extensions, leases that ran out before
// their holder released them, and waits, with the wait and the hand-off latencies as
// histograms (Prometheus's cumulative buckets are made when rendered).
#pragma once

#include <array>
#include <cstdint>

namespace keyward {

class LatencyHistogram {
 public:
  // Upper bounds of the buckets, in microseconds (the last bucket, +Inf, is implicit).
  static constexpr std::array<int64_t, 16> kBoundsUs = {
      100,   250,    500,    1000,   2500,    5000,    10000,   25000,
      50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};

  void Observe(int64_t us) {
    if (us < 0) us = 0;
    size_t i = 0;
    while (i < kBoundsUs.size() && us > kBoundsUs[i]) i++;
    buckets_[i]++;
    count_++;
    sum_us_ += us;
  }
  // Observations in bucket `i` alone (i == kBoundsUs.size(): above the last bound).
  uint64_t bucket(size_t i) const { return buckets_[i]; }
  uint64_t count() const { return count_; }
  int64_t sum_us() const { return sum_us_; }

 private:
  std::array<uint64_t, kBoundsUs.size() + 1> buckets_{};
  uint64_t count_ = 0;
  int64_t sum_us_ = 0;
};

struct LockMetrics {
  uint64_t granted = 0;     // LOCK.ACQUIRE granted (at once or to a waiter), re-entries included
  uint64_t busy = 0;        // refused: held by another owner
  uint64_t restarting = 0;  // refused: the restart or promotion delay
  uint64_t reentries = 0;   // granted to the owner already holding it
  uint64_t tokens = 0;      // fencing tokens issued (the counter moved for a grant)
  uint64_t releases = 0;    // owner-checked releases that deleted the lock
  uint64_t extensions = 0;  // owner-checked extensions
  uint64_t lease_expiries = 0;  // locks whose lease ran out while held (a holder lost its lease)
  uint64_t waits_started = 0;
  uint64_t waits_granted = 0;
  uint64_t waits_timed_out = 0;
  uint64_t catch_ups = 0;         // caught up (LOCK.CATCHUP) after it started without its counters
  uint64_t free_wakes = 0;        // LOCK.WAIT waiters woken because the resource became free
  LatencyHistogram wait_latency;  // from the wait's start to its grant
  LatencyHistogram handoff_latency;  // from the lock's removal to the next waiter's grant
};

}  // namespace keyward
