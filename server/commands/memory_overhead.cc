#include "server/commands/memory_overhead.h"

#include "server/commands/services.h"
#include "server/scripting/function_engine.h"
#include "server/scripting/lua_engine.h"

namespace keyward {

namespace {

// Redis's "(float)a / b": a ratio of byte counts computed in float.
float FloatRatio(size_t a, size_t b) { return static_cast<float>(a) / static_cast<float>(b); }

int64_t Diff(size_t a, size_t b) { return static_cast<int64_t>(a) - static_cast<int64_t>(b); }

}  // namespace

MemoryOverhead GetMemoryOverhead(Services& s) {
  MemoryOverhead mh;
  const size_t used = UsedMemoryBytes();
  mh.total_allocated = used;
  mh.startup_allocated = s.state.used_memory_startup;
  s.stats.UpdatePeakMemory(used);
  mh.peak_allocated = s.stats.peak_memory;

  // glibc has no notion of "active" pages and no per-allocator resident count: active is what
  // its arenas and mmapped chunks hold, resident is the process's RSS (Redis's own fallback for
  // allocators without statistics).
  mh.allocator_allocated = used;
  mh.allocator_active = AllocatorActiveBytes();
  mh.process_rss = ResidentMemoryBytes();
  mh.allocator_resident = mh.process_rss;
  mh.total_frag = FloatRatio(mh.process_rss, used);
  mh.total_frag_bytes = Diff(mh.process_rss, used);
  mh.allocator_frag = FloatRatio(mh.allocator_active, mh.allocator_allocated);
  mh.allocator_frag_bytes = Diff(mh.allocator_active, mh.allocator_allocated);
  mh.allocator_rss = FloatRatio(mh.allocator_resident, mh.allocator_active);
  mh.allocator_rss_bytes = Diff(mh.allocator_resident, mh.allocator_active);
  mh.rss_extra = FloatRatio(mh.process_rss, mh.allocator_resident);
  mh.rss_extra_bytes = Diff(mh.process_rss, mh.allocator_resident);

  size_t total = mh.startup_allocated;
  // Clients count their query buffer, their pending output and their own record (CLIENT
  // LIST's tot-mem).
  for (Client* c : s.clients.all()) {
    mh.clients_normal +=
        c->transport()->pending_output() + c->transport()->input_capacity() + sizeof(Client);
  }
  total += mh.clients_normal;
  mh.lua_caches = s.lua.cache_bytes();
  total += mh.lua_caches;
  mh.functions_caches = s.functions.cache_bytes();
  total += mh.functions_caches;
  for (int i = 0; i < s.keyspace.db_count(); i++) {
    const Database& db = s.keyspace.db(i);
    if (db.size() == 0) continue;
    mh.total_keys += db.size();
    mh.dbs.push_back({i, db.TableMemoryUsage(), db.ExpiresMemoryUsage()});
    total += mh.dbs.back().overhead_ht_main + mh.dbs.back().overhead_ht_expires;
  }
  mh.overhead_total = total;
  mh.dataset = used > total ? used - total : 0;
  mh.peak_perc = static_cast<float>(used) * 100 / static_cast<float>(mh.peak_allocated);
  // The figures net of what the server needed to start.
  const size_t net_usage = used > mh.startup_allocated ? used - mh.startup_allocated : 1;
  mh.dataset_perc = static_cast<float>(mh.dataset) * 100 / static_cast<float>(net_usage);
  mh.bytes_per_key = mh.total_keys != 0 ? net_usage / mh.total_keys : 0;
  return mh;
}

std::string MemoryDoctorReport(const MemoryOverhead& mh, const DoctorInputs& in) {
  // getMemoryDoctorReport's thresholds: below 5 MB the instance is too empty to judge.
  constexpr size_t kTenMb = 10 << 20;
  bool empty = false, big_peak = false, high_frag = false, high_alloc_frag = false,
       high_alloc_rss = false, high_proc_rss = false, big_client_buf = false, big_slave_buf = false,
       many_scripts = false;
  int reports = 0;
  if (mh.total_allocated < 5 * 1024 * 1024) {
    empty = true;
    reports++;
  } else {
    // The peak is above 150% of what is used now.
    big_peak = static_cast<float>(mh.peak_allocated) / static_cast<float>(mh.total_allocated) > 1.5;
    // RSS / used, allocator active / allocated, allocator resident / active, process RSS /
    // allocator resident: each too high by its ratio and by 10 MB.
    high_frag = mh.total_frag > 1.4 && mh.total_frag_bytes > static_cast<int64_t>(kTenMb);
    high_alloc_frag =
        mh.allocator_frag > 1.1 && mh.allocator_frag_bytes > static_cast<int64_t>(kTenMb);
    high_alloc_rss =
        mh.allocator_rss > 1.1 && mh.allocator_rss_bytes > static_cast<int64_t>(kTenMb);
    high_proc_rss = mh.rss_extra > 1.1 && mh.rss_extra_bytes > static_cast<int64_t>(kTenMb);
    // Clients holding more than 200 KB each on average, replicas more than 10 MB.
    big_client_buf = in.clients > 0 && mh.clients_normal / in.clients > 1024 * 200;
    big_slave_buf = in.replicas > 0 && mh.clients_slaves / in.replicas > kTenMb;
    many_scripts = in.cached_scripts > 1000;
    reports += big_peak + high_frag + high_alloc_frag + high_alloc_rss + high_proc_rss +
               big_client_buf + big_slave_buf + many_scripts;
  }

  if (reports == 0) {
    return "Hi Sam, I can't find any memory issue in your instance. I can only account for what "
           "occurs on this base.\n";
  }
  if (empty) {
    return "Hi Sam, this instance is empty or is using very little memory, my issues detector "
           "can't be used in these conditions. Please, leave for your mission on Earth and fill "
           "it with some data. The new Sam and I will be back to our programming as soon as I "
           "finished rebooting.\n";
  }
  std::string s = "Sam, I detected a few issues in this Redis instance memory implants:\n\n";
  if (big_peak) {
    s += " * Peak memory: In the past this instance used more than 150% the memory that is "
         "currently using. The allocator is normally not able to release memory after a peak, so "
         "you can expect to see a big fragmentation ratio, however this is actually harmless and "
         "is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is "
         "currently bigger than expected, the memory will be used as soon as you fill the Redis "
         "instance with more data. If the memory peak was only occasional and you want to try to "
         "reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is "
         "to shutdown and restart the instance.\n\n";
  }
  if (high_frag) {
    s += " * High total RSS: This instance has a memory fragmentation and RSS overhead greater "
         "than 1.4 (this means that the Resident Set Size of the Redis process is much larger "
         "than the sum of the logical allocations Redis performed). This problem is usually due "
         "either to a large peak memory (check if there is a peak memory entry above in the "
         "report) or may result from a workload that causes the allocator to fragment memory a "
         "lot. If the problem is a large peak memory, then there is no issue. Otherwise, make "
         "sure you are using the Jemalloc allocator and not the default libc malloc. Note: The "
         "currently used allocator is \"";
    s += kAllocatorName;
    s += "\".\n\n";
  }
  if (high_alloc_frag) {
    s += " * High allocator fragmentation: This instance has an allocator external "
         "fragmentation greater than 1.1. This problem is usually due either to a large peak "
         "memory (check if there is a peak memory entry above in the report) or may result from "
         "a workload that causes the allocator to fragment memory a lot. You can try enabling "
         "'activedefrag' config option.\n\n";
  }
  if (high_alloc_rss) {
    s += " * High allocator RSS overhead: This instance has an RSS memory overhead is greater "
         "than 1.1 (this means that the Resident Set Size of the allocator is much larger than "
         "the sum what the allocator actually holds). This problem is usually due to a large "
         "peak memory (check if there is a peak memory entry above in the report), you can try "
         "the MEMORY PURGE command to reclaim it.\n\n";
  }
  if (high_proc_rss) {
    s += " * High process RSS overhead: This instance has non-allocator RSS memory overhead is "
         "greater than 1.1 (this means that the Resident Set Size of the Redis process is much "
         "larger than the RSS the allocator holds). This problem may be due to Lua scripts or "
         "Modules.\n\n";
  }
  if (big_slave_buf) {
    s += " * Big replica buffers: The replica output buffers in this instance are greater than "
         "10MB for each replica (on average). This likely means that there is some replica "
         "instance that is struggling receiving data, either because it is too slow or because "
         "of networking issues. As a result, data piles on the master output buffers. Please try "
         "to identify what replica is not receiving data correctly and why. You can use the INFO "
         "output in order to check the replicas delays and the CLIENT LIST command to check the "
         "output buffers of each replica.\n\n";
  }
  if (big_client_buf) {
    s += " * Big client buffers: The clients output buffers in this instance are greater than "
         "200K per client (on average). This may result from different causes, like Pub/Sub "
         "clients subscribed to channels bot not receiving data fast enough, so that data piles "
         "on the Redis instance output buffer, or clients sending commands with large replies or "
         "very large sequences of commands in the same pipeline. Please use the CLIENT LIST "
         "command in order to investigate the issue if it causes problems in your instance, or "
         "to understand better why certain clients are using a big amount of memory.\n\n";
  }
  if (many_scripts) {
    s += " * Many scripts: There seem to be many cached scripts in this instance (more than "
         "1000). This may be because scripts are generated and `EVAL`ed, instead of being "
         "parameterized (with KEYS and ARGV), `SCRIPT LOAD`ed and `EVALSHA`ed. Unless `SCRIPT "
         "FLUSH` is called periodically, the scripts' caches may end up consuming most of your "
         "memory.\n\n";
  }
  s += "I'm here to keep you safe, Sam. I want to help you.\n";
  return s;
}

}  // namespace keyward
