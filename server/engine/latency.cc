#include "server/engine/latency.h"

#include <strings.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "server/core/strings.h"

namespace keyward {

std::vector<LatencySample> LatencyTimeSeries::InOrder() const {
  std::vector<LatencySample> out;
  for (int j = 0; j < kLen; j++) {
    const LatencySample& s = samples[(idx + j) % kLen];
    if (s.time_sec != 0) out.push_back(s);
  }
  return out;
}

void LatencyMonitor::AddSample(std::string_view event, int64_t latency_ms, int64_t now_sec) {
  auto it =
      std::find_if(events_.begin(), events_.end(), [&](const auto& e) { return e.first == event; });
  if (it == events_.end()) {
    events_.emplace_back(std::string(event), LatencyTimeSeries{});
    it = std::prev(events_.end());
  }
  LatencyTimeSeries& ts = it->second;
  ts.max = std::max(ts.max, latency_ms);
  // One slot per second: a second sample in the same second only keeps the worse of the two.
  LatencySample& prev =
      ts.samples[(ts.idx + LatencyTimeSeries::kLen - 1) % LatencyTimeSeries::kLen];
  if (prev.time_sec == now_sec) {
    prev.latency_ms = std::max(prev.latency_ms, latency_ms);
    return;
  }
  ts.samples[ts.idx] = {now_sec, latency_ms};
  ts.idx = (ts.idx + 1) % LatencyTimeSeries::kLen;
}

int LatencyMonitor::Reset(std::optional<std::string_view> event) {
  const size_t before = events_.size();
  std::erase_if(events_, [&](const auto& e) {
    return !event.has_value() || EqualsIgnoreCase(e.first, *event);
  });
  return static_cast<int>(before - events_.size());
}

const LatencyTimeSeries* LatencyMonitor::Find(std::string_view event) const {
  for (const auto& [name, ts] : events_) {
    if (name == event) return &ts;
  }
  return nullptr;
}

void LatencyMonitor::RecordCommand(const CommandSpec& cmd, int64_t duration_us) {
  // Redis records nanoseconds (its clock is in microseconds), clamped into the histogram.
  const int64_t ns = std::clamp(duration_us * 1000, kHistogramMin, kHistogramMax);
  auto& h = histograms_[&cmd];
  if (!h) h = std::make_unique<HdrHistogram>(kHistogramMin, kHistogramMax, kHistogramPrecision);
  h->Record(ns);
}

const HdrHistogram* LatencyMonitor::HistogramOf(const CommandSpec& cmd) const {
  auto it = histograms_.find(&cmd);
  return it == histograms_.end() ? nullptr : it->second.get();
}

std::string FormatPercentile(double p) {
  char buf[128];
  const int n = std::snprintf(buf, sizeof(buf), "%f", p);
  std::string s(buf, static_cast<size_t>(n));
  // trimDoubleString: "99.900000" -> "99.9", "50.000000" -> "50".
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

int64_t SmapsBytes(std::string_view field) {
  std::ifstream in("/proc/self/smaps");
  std::string line;
  int64_t bytes = 0;
  while (std::getline(in, line)) {
    if (line.compare(0, field.size(), field) == 0) {
      bytes += std::strtoll(line.c_str() + field.size(), nullptr, 10) * 1024;
    }
  }
  return bytes;
}

namespace {

// analyzeLatencyForEvent's figures.
struct LatencyStats {
  int64_t avg = 0;
  int64_t mad = 0;  // mean absolute deviation from the average
  int samples = 0;
  int64_t period = 0;  // seconds from the oldest sample to now (at least 1)
};

LatencyStats Analyze(const LatencyTimeSeries& ts, int64_t now_sec) {
  LatencyStats ls;
  uint64_t sum = 0;
  for (const LatencySample& s : ts.samples) {
    if (s.time_sec == 0) continue;
    ls.samples++;
    sum += static_cast<uint64_t>(s.latency_ms);
    if (ls.period == 0 || s.time_sec < ls.period) ls.period = s.time_sec;
  }
  if (ls.samples == 0) return ls;
  ls.avg = static_cast<int64_t>(sum / static_cast<uint64_t>(ls.samples));
  ls.period = now_sec - ls.period;
  if (ls.period == 0) ls.period = 1;
  sum = 0;
  for (const LatencySample& s : ts.samples) {
    if (s.time_sec == 0) continue;
    sum += static_cast<uint64_t>(std::abs(ls.avg - s.latency_ms));
  }
  ls.mad = static_cast<int64_t>(sum / static_cast<uint64_t>(ls.samples));
  return ls;
}

}  // namespace

std::string LatencyDoctorReport(const LatencyMonitor& monitor, const ServerSettings& settings,
                                int64_t now_sec, int64_t anon_huge_pages) {
  if (monitor.events().empty() && settings.latency_monitor_threshold == 0) {
    return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis "
           "instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in "
           "order to enable it. If we weren't in a deep space mission I'd suggest to take a look "
           "at https://redis.io/topics/latency-monitor.\n";
  }
  // Only the events Keyward records have advice here: fork, AOF and eviction events never
  // happen, so their advice could never be given.
  bool slowlog_enabled = false, slowlog_tuning = false, slowlog_inspect = false;
  bool scheduler = false, hz = false, large_objects = false, disable_thp = false;
  int advices = 0;
  int eventnum = 0;
  std::string report;
  for (const auto& [event, ts] : monitor.events()) {
    eventnum++;
    if (eventnum == 1) {
      report +=
          "Dave, I have observed latency spikes in this Redis instance. You don't mind talking "
          "about it, do you Dave?\n\n";
    }
    const LatencyStats ls = Analyze(ts, now_sec);
    char line[512];
    std::snprintf(line, sizeof(line),
                  "%d. %s: %d latency spikes (average %lums, mean deviation %lums, period %.2f "
                  "sec). Worst all time event %lums.",
                  eventnum, event.c_str(), ls.samples, static_cast<unsigned long>(ls.avg),
                  static_cast<unsigned long>(ls.mad), static_cast<double>(ls.period) / ls.samples,
                  static_cast<unsigned long>(ts.max));
    report += line;
    if (EqualsIgnoreCase(event, "command")) {
      if (settings.slowlog_log_slower_than < 0) {
        slowlog_enabled = true;
        advices++;
      } else if (settings.slowlog_log_slower_than / 1000 > settings.latency_monitor_threshold) {
        slowlog_tuning = true;
        advices++;
      }
      slowlog_inspect = true;
      large_objects = true;
      advices += 2;
    }
    if (EqualsIgnoreCase(event, "fast-command")) {
      scheduler = true;
      advices++;
    }
    if (EqualsIgnoreCase(event, "expire-cycle")) {
      hz = true;
      large_objects = true;
      advices += 2;
    }
    report += "\n";
  }
  if (anon_huge_pages > 0) {
    disable_thp = true;
    advices++;
  }

  if (eventnum == 0 && advices == 0) {
    report +=
        "Dave, no latency spike was observed during the lifetime of this Redis instance, not in "
        "the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, "
        "and think things over.\n";
    return report;
  }
  if (eventnum > 0 && advices == 0) {
    report +=
        "\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please "
        "use the Redis community to get some help, providing this report in your help "
        "request.\n";
    return report;
  }
  const std::string threshold_us =
      std::to_string(static_cast<unsigned long long>(settings.latency_monitor_threshold) * 1000);
  report += "\nI have a few advices for you:\n\n";
  if (slowlog_enabled) {
    report +=
        "- There are latency issues with potentially slow commands you are using. Try to enable "
        "the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than " +
        threshold_us +
        "'. If the Slow log is disabled Redis is not able to log slow commands execution for "
        "you.\n";
  }
  if (slowlog_tuning) {
    report +=
        "- Your current Slow Log configuration only logs events that are slower than your "
        "configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than " +
        threshold_us + "'.\n";
  }
  if (slowlog_inspect) {
    report +=
        "- Check your Slow Log to understand what are the commands you are running which are too "
        "slow to execute. Please check https://redis.io/commands/slowlog for more information.\n";
  }
  if (scheduler) {
    report +=
        "- The system is slow to execute Redis code paths not containing system calls. This "
        "usually means the system does not provide Redis CPU time to run for long periods. You "
        "should try to:\n"
        "  1) Lower the system load.\n"
        "  2) Use a computer / VM just for Redis if you are running other software in the same "
        "system.\n"
        "  3) Check if you have a \"noisy neighbour\" problem.\n"
        "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in "
        "your system.\n"
        "  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, "
        "if you are using Jemalloc. However this may create fragmentation problems.\n";
  }
  if (hz && settings.hz < 100) {
    report +=
        "- In order to make the Redis keys expiring process more incremental, try to set the "
        "'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n";
  }
  if (large_objects) {
    report +=
        "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a "
        "blocking operation. If you have very large objects that are often deleted, expired, or "
        "evicted, try to fragment those objects into multiple smaller objects.\n";
  }
  if (disable_thp) {
    report +=
        "- I detected a non zero amount of anonymous huge pages used by your process. This "
        "creates very serious latency events in different conditions, especially when Redis is "
        "persisting on disk. To disable THP support use the command 'echo never > "
        "/sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it into "
        "/etc/rc.local so that the command will be executed again after a reboot. Note that "
        "even if you have already disabled THP, you still need to restart the Redis process to "
        "get rid of the huge pages already created.\n";
  }
  return report;
}

namespace {

// Redis's sparkline.c: each column a sample, `rows` rows of three heights each ("_o#" at the
// top of a column, '|' below), then the labels written vertically after one blank row.
std::string RenderSparkline(const std::vector<std::pair<double, std::string>>& seq, int columns,
                            int rows) {
  static constexpr char kFill[] = "_o#";
  constexpr int kCharsetLen = 3;
  constexpr int kLabelMarginTop = 1;
  double min = 0, max = 0;
  bool labels = false;
  for (size_t i = 0; i < seq.size(); i++) {
    const double v = seq[i].first;
    if (i == 0) {
      min = max = v;
    } else if (v < min) {
      min = v;
    } else if (v > max) {
      max = v;
    }
    labels |= !seq[i].second.empty();
  }
  std::string out;
  for (size_t offset = 0; offset < seq.size(); offset += static_cast<size_t>(columns)) {
    const size_t len = std::min(seq.size() - offset, static_cast<size_t>(columns));
    if (offset != 0) out += '\n';
    double relmax = max - min;
    if (relmax == 0) relmax = 1;
    const int steps = kCharsetLen * rows;
    for (int row = 0;; row++) {
      bool loop = false;
      std::string chars(len, ' ');
      for (size_t j = 0; j < len; j++) {
        const auto& [value, label] = seq[offset + j];
        // The C code truncates the product before dividing.
        int step = static_cast<int>(static_cast<int>((value - min) * steps) / relmax);
        step = std::clamp(step, 0, steps - 1);
        if (row < rows) {
          const int charidx = step - ((rows - row - 1) * kCharsetLen);
          loop = true;
          if (charidx >= 0 && charidx < kCharsetLen) {
            chars[j] = kFill[charidx];
          } else if (charidx >= kCharsetLen) {
            chars[j] = '|';
          }
        } else {
          if (labels && row - rows < kLabelMarginTop) {
            loop = true;
            break;
          }
          const int label_char = row - rows - kLabelMarginTop;
          if (static_cast<int>(label.size()) > label_char) {
            loop = true;
            chars[j] = label[static_cast<size_t>(label_char)];
          }
        }
      }
      if (!loop) break;
      out += chars;
      out += '\n';
    }
  }
  return out;
}

}  // namespace

std::string LatencyGraph(std::string_view event, const LatencyTimeSeries& ts, int64_t now_sec) {
  std::vector<std::pair<double, std::string>> seq;
  int64_t min = 0, max = 0;
  for (const LatencySample& s : ts.InOrder()) {
    if (seq.empty()) {
      min = max = s.latency_ms;
    } else {
      min = std::min(min, s.latency_ms);
      max = std::max(max, s.latency_ms);
    }
    // The label: how long ago, in seconds, minutes, hours or days.
    const int64_t elapsed = now_sec - s.time_sec;
    std::string label;
    if (elapsed < 60) {
      label = std::to_string(elapsed) + "s";
    } else if (elapsed < 3600) {
      label = std::to_string(elapsed / 60) + "m";
    } else if (elapsed < 3600 * 24) {
      label = std::to_string(elapsed / 3600) + "h";
    } else {
      label = std::to_string(elapsed / (3600 * 24)) + "d";
    }
    seq.emplace_back(static_cast<double>(s.latency_ms), std::move(label));
  }
  std::string graph = std::string(event) + " - high " + std::to_string(max) + " ms, low " +
                      std::to_string(min) + " ms (all time high " + std::to_string(ts.max) +
                      " ms)\n";
  graph += std::string(80, '-');
  graph += '\n';
  graph += RenderSparkline(seq, 80, 4);
  return graph;
}

}  // namespace keyward
