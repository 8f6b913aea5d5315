// Where the server's memory goes: Redis's struct redisMemOverhead and getMemoryOverheadData
// (object.c), the one accounting INFO memory, MEMORY STATS and MEMORY DOCTOR read.
//
// Redis takes its allocator figures from a sample its cron keeps; Keyward measures them when
// asked. With glibc there is no per-allocator resident count: the process's RSS stands for it,
// as Redis does for allocators without statistics (so rss_extra is 1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace keyward {

struct Services;

// INFO mem_allocator and MEMORY DOCTOR's "currently used allocator" (Redis's ZMALLOC_LIB).
inline constexpr char kAllocatorName[] = "libc";

struct MemoryOverhead {
  size_t peak_allocated = 0;
  size_t total_allocated = 0;  // used_memory
  size_t startup_allocated = 0;
  // Replication, cluster and AOF buffers: Keyward has none of them yet.
  size_t repl_backlog = 0;
  size_t clients_slaves = 0;
  size_t clients_normal = 0;  // every client's query buffer, pending output and own record
  size_t cluster_links = 0;
  size_t aof_buffer = 0;
  size_t lua_caches = 0;        // EVAL's scripts
  size_t functions_caches = 0;  // FUNCTION's libraries
  // Each non-empty database's tables.
  struct Db {
    int id = 0;
    size_t overhead_ht_main = 0;
    size_t overhead_ht_expires = 0;
  };
  std::vector<Db> dbs;
  size_t overhead_total = 0;
  size_t total_keys = 0;
  size_t bytes_per_key = 0;
  size_t dataset = 0;
  // Redis computes the ratios in float: kept in float, so "%.17g" prints the same digits.
  float dataset_perc = 0;
  float peak_perc = 0;
  // The allocator's view.
  size_t allocator_allocated = 0;
  size_t allocator_active = 0;
  size_t allocator_resident = 0;
  size_t process_rss = 0;
  float allocator_frag = 0;
  int64_t allocator_frag_bytes = 0;
  float allocator_rss = 0;
  int64_t allocator_rss_bytes = 0;
  float rss_extra = 0;
  int64_t rss_extra_bytes = 0;
  float total_frag = 0;
  int64_t total_frag_bytes = 0;
};

// Measures the server now. As INFO does in Redis, the peak the cron keeps is first raised to
// what is used now, so no report shows a peak below the current figure.
MemoryOverhead GetMemoryOverhead(Services& s);

// What getMemoryDoctorReport decides from the accounting, apart from it so it can be tested on
// any figures: the clients that are not replicas, the replicas, and EVAL's cached scripts.
struct DoctorInputs {
  size_t clients = 0;
  size_t replicas = 0;
  size_t cached_scripts = 0;
};
std::string MemoryDoctorReport(const MemoryOverhead& mh, const DoctorInputs& in);

}  // namespace keyward
