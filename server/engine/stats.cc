#include "server/engine/stats.h"

namespace keyward {

void ServerStats::CountErrorReply(std::string_view reply) {
  // INFO errorstats counts by the error's code: the first word after '-'.
  std::string_view err = reply.substr(1);
  total_error_replies++;
  std::string_view code = err.substr(0, err.find_first_of(" \r"));
  auto it = error_stats.find(code);
  if (it == error_stats.end()) it = error_stats.emplace(std::string(code), 0).first;
  it->second++;
}

void ServerStats::SampleOps(int64_t now_ms) {
  if (now_ms - last_sample_ms < 100) return;
  const int64_t dt = now_ms - last_sample_ms;
  const uint64_t ops = total_commands_processed - last_sample_ops;
  ops_samples[sample_idx] = dt > 0 ? static_cast<int64_t>(ops * 1000 / dt) : 0;
  sample_idx = (sample_idx + 1) % kSamples;
  last_sample_ms = now_ms;
  last_sample_ops = total_commands_processed;
}

int64_t ServerStats::instantaneous_ops() const {
  int64_t sum = 0;
  for (int64_t v : ops_samples) sum += v;
  return sum / kSamples;
}

}  // namespace keyward
