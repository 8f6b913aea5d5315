// The server's notion of time.
//
// Redis keeps expiry times as absolute wall-clock milliseconds, so a jump of the machine's clock
// expires (or immortalises) every key at once. Keyward keeps the same absolute, Redis-compatible
// times (for EXPIREAT, persistence and replication) but lets its own clock advance with the
// monotonic clock, steering towards the system clock gradually: at most kMaxSlew of the elapsed
// time. A lease of 10 s therefore lasts between 9.99 and 10.01 s whatever the wall clock does,
// well inside the 1% drift that Redlock clients budget for.
#pragma once

#include <cstdint>
#include <memory>

namespace keyward {

class Clock {
 public:
  virtual ~Clock() = default;
  // Server time: unix milliseconds, never going backwards.
  virtual int64_t NowMs() = 0;
  // Server time in microseconds (for latency statistics and TIME).
  virtual int64_t NowUs() = 0;
  // Monotonic microseconds, for measuring durations only.
  virtual int64_t MonotonicUs() = 0;
  // How far the machine's wall clock is from server time (INFO keyward_clock_offset_us).
  virtual int64_t WallOffsetUs() const { return 0; }
};

// Reads the two clocks the server steers with. Injected so tests can jump the "wall clock".
class TimeSource {
 public:
  virtual ~TimeSource() = default;
  virtual int64_t WallUs() = 0;
  virtual int64_t MonotonicUs() = 0;
};

class SystemTimeSource : public TimeSource {
 public:
  int64_t WallUs() override;
  int64_t MonotonicUs() override;
};

// The production clock: monotonic progress, slewed towards wall time.
class SlewedClock : public Clock {
 public:
  // Fraction of elapsed monotonic time by which the clock may be steered towards wall time.
  static constexpr double kMaxSlew = 0.001;
  // How often (monotonic microseconds) the wall clock is sampled.
  static constexpr int64_t kWallSampleUs = 1000;

  explicit SlewedClock(TimeSource* source);
  int64_t NowMs() override { return NowUs() / 1000; }
  int64_t NowUs() override;
  int64_t MonotonicUs() override;
  // Current difference wall - server time, in microseconds (reported in INFO).
  int64_t OffsetUs() const { return wall_minus_server_us_; }
  int64_t WallOffsetUs() const override { return wall_minus_server_us_; }

 private:
  TimeSource* source_;
  int64_t last_mono_us_;
  int64_t last_wall_sample_us_;
  int64_t server_us_;
  int64_t wall_minus_server_us_ = 0;
};

// A clock that only moves when told to: for deterministic tests.
class ManualClock : public Clock {
 public:
  explicit ManualClock(int64_t start_ms = 1'700'000'000'000) : now_us_(start_ms * 1000) {}
  int64_t NowMs() override { return now_us_ / 1000; }
  int64_t NowUs() override { return now_us_; }
  int64_t MonotonicUs() override { return now_us_; }
  void AdvanceMs(int64_t ms) { now_us_ += ms * 1000; }
  void SetMs(int64_t ms) { now_us_ = ms * 1000; }

 private:
  int64_t now_us_;
};

}  // namespace keyward
