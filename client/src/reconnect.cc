#include "keyward/client/reconnect.h"

#include <algorithm>
#include <cmath>

namespace keyward::client {

std::optional<std::chrono::milliseconds> Backoff::NextDelay() {
  if (!policy_.enabled) return std::nullopt;
  if (policy_.max_attempts > 0 && attempts_ >= policy_.max_attempts) return std::nullopt;
  // initial * multiplier^attempts, computed in double and capped before converting, so a long
  // outage cannot overflow the exponent into nonsense.
  const double base = static_cast<double>(policy_.initial_delay.count());
  const double cap = static_cast<double>(policy_.max_delay.count());
  // A zero base stays zero (0 * inf would be NaN once the power overflows); otherwise an
  // overflowing power is +inf, which the cap absorbs.
  double delay =
      base <= 0 ? 0 : std::min(cap, base * std::pow(std::max(1.0, policy_.multiplier), attempts_));
  const double jitter = std::clamp(policy_.jitter, 0.0, 1.0);
  if (jitter > 0 && delay > 0) {
    std::uniform_real_distribution<double> draw(delay * (1 - jitter), delay);
    delay = draw(random_);
  }
  ++attempts_;
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(delay)));
}

HealthCheck::Action HealthCheck::OnTick() {
  if (!enabled()) return Action::kNothing;
  if (data_) {
    data_ = false;
    pinged_ = false;
    return Action::kNothing;
  }
  if (pinged_) return Action::kDead;
  pinged_ = true;
  return Action::kPing;
}

}  // namespace keyward::client
