#include "keyward/redlock/quorum.h"

#include <algorithm>

namespace keyward::redlock {

Clock::duration Drift(Millis ttl) {
  // ttl * 0.01 in microseconds is ttl_ms * 10.
  const auto one_percent = std::chrono::microseconds(ttl.count() * 10);
  return std::chrono::duration_cast<Clock::duration>(one_percent + Millis(2));
}

Clock::duration Validity(Millis ttl, Clock::duration elapsed) {
  return std::chrono::duration_cast<Clock::duration>(ttl) - elapsed - Drift(ttl);
}

Clock::time_point ValidUntil(Clock::time_point started, Millis ttl) {
  return started + std::chrono::duration_cast<Clock::duration>(ttl) - Drift(ttl);
}

Millis FloorMillis(Clock::duration d) { return std::chrono::floor<Millis>(d); }

std::optional<Millis> HolderTtlForMajority(size_t instances,
                                           std::vector<std::optional<Millis>> refused_ttls) {
  const size_t majority = Majority(instances);
  const size_t refused = std::min(refused_ttls.size(), instances);
  const size_t free_now = instances - refused;
  if (free_now >= majority) return Millis(0);
  // This many refusals must end before a majority is free; they end in TTL order (a missing TTL
  // never ends, so it sorts last).
  const size_t must_end = majority - free_now;
  std::sort(refused_ttls.begin(), refused_ttls.end(),
            [](const std::optional<Millis>& a, const std::optional<Millis>& b) {
              if (!a) return false;
              if (!b) return true;
              return *a < *b;
            });
  const std::optional<Millis>& last = refused_ttls[must_end - 1];
  if (!last) return std::nullopt;
  return std::max(*last, Millis(0));
}

}  // namespace keyward::redlock
