// The server's statistics as INFO reports them: connections, commands, network bytes, error
// replies by code, and the instantaneous ops/sec the cron samples. Per-command statistics live
// in each CommandSpec; the dirty counter belongs to the propagation stream.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace keyward {

struct ServerStats {
  uint64_t total_connections_received = 0;
  uint64_t total_commands_processed = 0;
  uint64_t rejected_connections = 0;
  uint64_t total_net_input_bytes = 0;
  uint64_t total_net_output_bytes = 0;
  // Replication: bytes read from the master's link, written to replicas; full and partial syncs
  // served (partial ones refused: sync_partial_err).
  uint64_t total_net_repl_input_bytes = 0;
  uint64_t total_net_repl_output_bytes = 0;
  uint64_t sync_full = 0;
  uint64_t sync_partial_ok = 0;
  uint64_t sync_partial_err = 0;
  uint64_t total_error_replies = 0;
  uint64_t unexpected_error_replies = 0;
  uint64_t evicted_keys = 0;  // maxmemory evictions (INFO evicted_keys)
  uint64_t client_query_buffer_limit_disconnections = 0;
  // Read events handed to the server (each batch of bytes a connection received) and writes of
  // pending replies (Redis's stat_total_reads_processed / stat_total_writes_processed).
  uint64_t total_reads_processed = 0;
  uint64_t total_writes_processed = 0;
  // The highest used_memory seen by the cron or by INFO (Redis's stat_peak_memory).
  uint64_t peak_memory = 0;
  // Time the active expiry cycle ran, in microseconds (INFO expire_cycle_cpu_milliseconds).
  uint64_t expire_cycle_time_us = 0;
  std::map<std::string, uint64_t, std::less<>> error_stats;  // "ERR" -> count

  // Counts an error reply by its code, the first word of `reply` (which starts with '-').
  void CountErrorReply(std::string_view reply);

  // Raises peak_memory to `used` if it is higher.
  void UpdatePeakMemory(uint64_t used) { peak_memory = std::max(peak_memory, used); }

  // Instantaneous metrics, as Redis's trackInstantaneousMetric: one sample every 100 ms (the
  // cron) of each counter's rate per second, averaged over the last 16 samples.
  static constexpr int kSamples = 16;
  enum Metric { kMetricCommands, kMetricNetInput, kMetricNetOutput, kMetricCount };
  struct Rate {
    int64_t samples[kSamples] = {};
    int idx = 0;
    uint64_t last_count = 0;
  };
  Rate rates[kMetricCount];
  int64_t last_sample_ms = 0;
  void SampleOps(int64_t now_ms);
  int64_t instantaneous(Metric m) const;
  int64_t instantaneous_ops() const { return instantaneous(kMetricCommands); }
};

// Bytes the allocator handed out and still holds for the program (INFO used_memory): glibc's
// mallinfo2, or the sanitizer allocator's count in a sanitizer build (where mallinfo2 is empty).
size_t UsedMemoryBytes();
// glibc's arenas plus its mmapped chunks: what the allocator holds from the system, free
// chunks included (INFO allocator_active). The used bytes in a sanitizer build.
size_t AllocatorActiveBytes();
// The process's resident set (INFO used_memory_rss), from /proc/self/statm.
size_t ResidentMemoryBytes();
// Physical memory of the machine (INFO total_system_memory), from sysinfo(2).
size_t TotalSystemMemoryBytes();
// The allocator's own statistics report (MEMORY MALLOC-STATS, where Redis prints jemalloc's):
// glibc's malloc_info(3) XML. Empty in a sanitizer build, whose allocator is not glibc's (its
// arenas would report next to nothing).
std::string AllocatorStatsReport();

}  // namespace keyward
