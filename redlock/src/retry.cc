#include "keyward/redlock/retry.h"

#include <algorithm>

namespace keyward::redlock {

Millis RetryDelay::Next() {
  const int64_t low = std::max<int64_t>(0, (delay_ - jitter_).count());
  const int64_t high = std::max<int64_t>(low, (delay_ + jitter_).count());
  std::uniform_int_distribution<int64_t> pick(low, high);
  return Millis(pick(random_));
}

WaitStep PlanWait(const Decision& failure, const AcquireRound& round, bool server_wait,
                  std::optional<Clock::time_point> deadline, Clock::time_point now,
                  RetryDelay& delay) {
  WaitStep step;
  std::optional<Millis> left;
  if (deadline) {
    if (now >= *deadline) return step;  // kGiveUp
    // Rounded up: 0.4 ms left is still worth one last attempt after a 1 ms wait.
    left = std::chrono::ceil<Millis>(*deadline - now);
  }
  const auto bounded = [&left](Millis d) { return left ? std::min(d, *left) : d; };

  const std::optional<size_t> refusing = round.RefusingInstance();
  if (server_wait && !failure.split && failure.error == LockError::kHeldByOther && refusing) {
    const std::optional<Millis> ttl = round.answer(*refusing).holder_ttl;
    if (ttl) {
      step.kind = WaitStep::Kind::kWaitFree;
      step.instance = *refusing;
      // One millisecond past the holder's end: its expiry wakes the wait, not the timeout.
      step.duration = bounded(*ttl + Millis(1));
      return step;
    }
  }
  step.kind = WaitStep::Kind::kSleep;
  step.duration = bounded(delay.Next());
  return step;
}

}  // namespace keyward::redlock
