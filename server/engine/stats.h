// The server's statistics as INFO reports them: connections, commands, network bytes, error
// replies by code, and the instantaneous ops/sec the cron samples. Per-command statistics live
// in each CommandSpec; the dirty counter belongs to the propagation stream.
#pragma once

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
  uint64_t total_error_replies = 0;
  uint64_t unexpected_error_replies = 0;
  uint64_t client_query_buffer_limit_disconnections = 0;
  std::map<std::string, uint64_t, std::less<>> error_stats;  // "ERR" -> count

  // Counts an error reply by its code, the first word of `reply` (which starts with '-').
  void CountErrorReply(std::string_view reply);

  // Instantaneous ops/sec: one sample every 100 ms (the cron), averaged over the last 16.
  static constexpr int kSamples = 16;
  int64_t ops_samples[kSamples] = {};
  int sample_idx = 0;
  int64_t last_sample_ms = 0;
  uint64_t last_sample_ops = 0;
  void SampleOps(int64_t now_ms);
  int64_t instantaneous_ops() const;
};

}  // namespace keyward
