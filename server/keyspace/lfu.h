// Redis's LFU access counters (evict.c), kept in an entry's 24 LRU bits while an LFU
// maxmemory-policy is selected: the high 16 bits are the minute (mod 65536) of the last
// decrement, the low 8 bits a logarithmic counter that new keys start at 5, that grows with
// probability 1/((counter-5)*lfu-log-factor+1) per access, and that loses one per
// lfu-decay-time minutes without access.
#pragma once

#include <cstdint>

namespace keyward::lfu {

inline constexpr uint32_t kInitialCounter = 5;

inline uint32_t Minutes(int64_t now_ms) {
  return static_cast<uint32_t>((now_ms / 1000 / 60) & 65535);
}

// A new key's bits.
inline uint32_t Initial(int64_t now_ms) { return (Minutes(now_ms) << 8) | kInitialCounter; }

// The counter after the decay since its last decrement (Redis's LFUDecrAndReturn).
inline uint32_t Decayed(uint32_t bits, int64_t now_ms, int64_t decay_time) {
  const uint32_t ldt = bits >> 8;
  const uint32_t counter = bits & 255;
  const uint32_t now = Minutes(now_ms);
  const uint32_t elapsed = now >= ldt ? now - ldt : 65535 - ldt + now;
  const uint32_t periods = decay_time > 0 ? elapsed / static_cast<uint32_t>(decay_time) : 0;
  return periods > counter ? 0 : counter - periods;
}

// One access (Redis's updateLFU): decay, then a logarithmic increment. `random01` is uniform in
// [0, 1].
inline uint32_t Accessed(uint32_t bits, int64_t now_ms, int64_t decay_time, int64_t log_factor,
                         double random01) {
  uint32_t counter = Decayed(bits, now_ms, decay_time);
  if (counter < 255) {
    const double base = counter > kInitialCounter ? counter - kInitialCounter : 0;
    if (random01 < 1.0 / (base * static_cast<double>(log_factor) + 1)) counter++;
  }
  return (Minutes(now_ms) << 8) | counter;
}

}  // namespace keyward::lfu
