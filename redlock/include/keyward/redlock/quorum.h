// The arithmetic of Redlock: majorities, clock drift, validity, and the holder's remaining lease
// as it matters for a majority. Pure functions of their arguments (times are passed in, read from
// a monotonic clock by the caller), unit-tested with a manual clock.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <vector>

namespace keyward::redlock {

// Validity is measured with a monotonic clock only: a wall-clock jump must neither shorten nor
// lengthen a lease as the holder sees it.
using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;

// N/2 + 1: any two majorities of the same N instances share at least one instance.
constexpr size_t Majority(size_t instances) { return instances / 2 + 1; }

// The clock drift allowed for a lease of `ttl`: ttl * 0.01 + 2 ms (the Redlock reference value,
// also used by node-redlock, redsync and pottery). Kept in microseconds: 1% of a 150 ms lease is
// 1.5 ms, and rounding it to whole milliseconds would hand out 0.5 ms of validity that is not
// there.
Clock::duration Drift(Millis ttl);

// How long the holder may act: ttl - elapsed - drift, where `elapsed` is the time from sending
// the first request of the round to the decision. Non-positive means the lock must not be used.
Clock::duration Validity(Millis ttl, Clock::duration elapsed);

// The instant the validity runs out for a round whose requests were sent at `started`:
// started + ttl - drift.
Clock::time_point ValidUntil(Clock::time_point started, Millis ttl);

// Whole milliseconds, rounded down (a validity of 0.9 ms is 0 ms: not enough to act on).
Millis FloorMillis(Clock::duration d);

// The wait, as the holder's leases go, until a majority of `instances` can be free, given the
// remaining TTL that each refusing instance reported (nullopt: no TTL, or unknown). The instances
// that did not refuse are taken to be free. Returns 0 when a majority is already free of this
// holder (the refusals came from several owners, or failures dominated), nullopt when the wait
// depends on a lease without an end.
std::optional<Millis> HolderTtlForMajority(size_t instances,
                                           std::vector<std::optional<Millis>> refused_ttls);

}  // namespace keyward::redlock
