// The latency monitor and the per-command latency histograms (Redis's latency.c).
//
// Monitor: named events ("command", "fast-command", "expire-cycle") each keep a ring of 160
// samples, one per second: a sample in the same second as the previous one only raises that
// one's latency (latencyAddSample). Samples are only taken once an event reaches
// latency-monitor-threshold (0 turns the monitor off). LATENCY LATEST / HISTORY / GRAPH / DOCTOR
// read them, LATENCY RESET drops them.
//
// Tracking: every command's duration goes into a histogram of its own (latency-tracking), the
// source of INFO latencystats and LATENCY HISTOGRAM; CONFIG RESETSTAT drops them.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "server/core/settings.h"
#include "server/engine/hdr_histogram.h"

namespace keyward {

class CommandSpec;

struct LatencySample {
  int64_t time_sec = 0;  // 0: an empty slot
  int64_t latency_ms = 0;
};

struct LatencyTimeSeries {
  static constexpr int kLen = 160;  // LATENCY_TS_LEN
  int idx = 0;                      // the slot the next sample goes to
  int64_t max = 0;                  // all-time high, kept across the ring's turns
  std::array<LatencySample, kLen> samples{};

  const LatencySample& latest() const { return samples[(idx + kLen - 1) % kLen]; }
  // The samples present, oldest first.
  std::vector<LatencySample> InOrder() const;
};

class LatencyMonitor {
 public:
  // Redis's histogram bounds: 1 ns to 1 s, 2 significant figures; durations are recorded in
  // nanoseconds and clamped into that range.
  static constexpr int64_t kHistogramMin = 1;
  static constexpr int64_t kHistogramMax = 1000000000;
  static constexpr int kHistogramPrecision = 2;

  // latencyAddSampleIfNeeded: only with the monitor on and the latency at the threshold.
  void AddSampleIfNeeded(std::string_view event, int64_t latency_ms, int64_t threshold_ms,
                         int64_t now_sec) {
    if (Exceeds(latency_ms, threshold_ms)) AddSample(event, latency_ms, now_sec);
  }
  // Whether a latency is sampled: the monitor is on and the latency at its threshold. (A caller
  // that must read the clock for the sample's time asks first: most commands are not sampled.)
  static bool Exceeds(int64_t latency_ms, int64_t threshold_ms) {
    return threshold_ms > 0 && latency_ms >= threshold_ms;
  }
  void AddSample(std::string_view event, int64_t latency_ms, int64_t now_sec);
  // Drops the named event (case-insensitive, as latencyResetEvent), or all of them; returns how
  // many were dropped.
  int Reset(std::optional<std::string_view> event);
  // Exact-name lookup (Redis's event dictionary compares case-sensitively).
  const LatencyTimeSeries* Find(std::string_view event) const;
  const std::vector<std::pair<std::string, LatencyTimeSeries>>& events() const { return events_; }

  // A command's run of `duration_us` into its histogram.
  void RecordCommand(const CommandSpec& cmd, int64_t duration_us);
  const HdrHistogram* HistogramOf(const CommandSpec& cmd) const;
  void ResetHistograms() { histograms_.clear(); }

 private:
  std::vector<std::pair<std::string, LatencyTimeSeries>> events_;  // in order of first sample
  std::unordered_map<const CommandSpec*, std::unique_ptr<HdrHistogram>> histograms_;
};

// LATENCY DOCTOR's report (createLatencyReport). `anon_huge_pages` is the process's
// AnonHugePages in bytes (its own advice).
std::string LatencyDoctorReport(const LatencyMonitor& monitor, const ServerSettings& settings,
                                int64_t now_sec, int64_t anon_huge_pages);
// LATENCY GRAPH's text (latencyCommandGenSparkeline).
std::string LatencyGraph(std::string_view event, const LatencyTimeSeries& ts, int64_t now_sec);
// The sum of a /proc/self/smaps field over all mappings, in bytes
// (zmalloc_get_smap_bytes_by_field).
int64_t SmapsBytes(std::string_view field);
// A percentile as Redis prints it: "%f" with the trailing zeros (and dot) trimmed.
std::string FormatPercentile(double p);

}  // namespace keyward
