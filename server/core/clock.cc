#include "server/core/clock.h"

#include <algorithm>
#include <chrono>

namespace keyward {

int64_t SystemTimeSource::WallUs() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

int64_t SystemTimeSource::MonotonicUs() {
  using namespace std::chrono;
  return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
}

SlewedClock::SlewedClock(TimeSource* source)
    : source_(source),
      last_mono_us_(source->MonotonicUs()),
      last_wall_sample_us_(last_mono_us_),
      server_us_(source->WallUs()) {}

int64_t SlewedClock::NowUs() {
  int64_t mono = source_->MonotonicUs();
  int64_t elapsed = mono - last_mono_us_;
  if (elapsed <= 0) return server_us_;
  last_mono_us_ = mono;
  int64_t advanced = server_us_ + elapsed;
  // Between wall-clock samples the server clock is the monotonic clock exactly: reading the wall
  // clock once per millisecond at most keeps the per-command cost to one clock read.
  if (mono - last_wall_sample_us_ < kWallSampleUs) {
    server_us_ = advanced;
    return server_us_;
  }
  elapsed = mono - last_wall_sample_us_;
  last_wall_sample_us_ = mono;
  // Steer towards wall time by at most kMaxSlew of the elapsed time, so a wall-clock jump is
  // absorbed gradually instead of moving every deadline.
  int64_t error = source_->WallUs() - advanced;
  int64_t max_step = static_cast<int64_t>(static_cast<double>(elapsed) * kMaxSlew);
  int64_t step = std::clamp(error, -max_step, max_step);
  server_us_ = advanced + step;
  wall_minus_server_us_ = error - step;
  return server_us_;
}

int64_t SlewedClock::MonotonicUs() { return source_->MonotonicUs(); }

}  // namespace keyward
