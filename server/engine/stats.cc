#include "server/engine/stats.h"

#include <malloc.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#if defined(__SANITIZE_ADDRESS__)
#define KEYWARD_SANITIZER_ALLOCATOR 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KEYWARD_SANITIZER_ALLOCATOR 1
#endif
#endif
#ifdef KEYWARD_SANITIZER_ALLOCATOR
// From the sanitizer runtime (sanitizer/allocator_interface.h, which GCC does not ship).
extern "C" size_t __sanitizer_get_current_allocated_bytes();
#endif

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
  const uint64_t counts[kMetricCount] = {total_commands_processed, total_net_input_bytes,
                                         total_net_output_bytes};
  for (int m = 0; m < kMetricCount; m++) {
    Rate& r = rates[m];
    const uint64_t delta = counts[m] - r.last_count;
    r.samples[r.idx] = dt > 0 ? static_cast<int64_t>(delta * 1000 / dt) : 0;
    r.idx = (r.idx + 1) % kSamples;
    r.last_count = counts[m];
  }
  last_sample_ms = now_ms;
}

int64_t ServerStats::instantaneous(Metric m) const {
  int64_t sum = 0;
  for (int64_t v : rates[m].samples) sum += v;
  return sum / kSamples;
}

size_t UsedMemoryBytes() {
#ifdef KEYWARD_SANITIZER_ALLOCATOR
  return __sanitizer_get_current_allocated_bytes();
#else
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
#endif
}

size_t AllocatorActiveBytes() {
#ifdef KEYWARD_SANITIZER_ALLOCATOR
  return __sanitizer_get_current_allocated_bytes();
#else
  struct mallinfo2 mi = mallinfo2();
  return mi.arena + mi.hblkhd;
#endif
}

size_t ResidentMemoryBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

size_t TotalSystemMemoryBytes() {
  struct sysinfo si;
  if (sysinfo(&si) != 0) return 0;
  return static_cast<size_t>(si.totalram) * si.mem_unit;
}

std::string AllocatorStatsReport() {
#ifdef KEYWARD_SANITIZER_ALLOCATOR
  return {};
#else
  char* text = nullptr;
  size_t size = 0;
  FILE* out = open_memstream(&text, &size);
  if (out == nullptr) return {};
  const bool ok = malloc_info(0, out) == 0;
  std::fclose(out);
  std::string report = ok ? std::string(text, size) : std::string();
  std::free(text);
  return report;
#endif
}

}  // namespace keyward
