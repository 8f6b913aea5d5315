// Server commands: INFO, TIME, LASTSAVE, SHUTDOWN, MONITOR, SLOWLOG.
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <set>

#include "server/commands/families.h"
#include "server/commands/memory_overhead.h"
#include "server/commands/services.h"
#include "server/core/errors.h"
#include "server/core/strings.h"
#include "server/engine/context.h"
#include "server/engine/registry.h"
#include "server/persistence/rdb_codec.h"
#include "server/replication/replication.h"
#include "server/scripting/function_engine.h"
#include "server/scripting/lua_engine.h"
#include "server/sentinel/sentinel.h"
#include "server/storage/aof_persistence.h"
#include "server/storage/rdb_persistence.h"

namespace keyward {

namespace {

// "1.23M" as Redis's bytesToHuman prints sizes.
std::string Human(double n) {
  char buf[64];
  if (n < 1024) {
    std::snprintf(buf, sizeof(buf), "%lluB", static_cast<unsigned long long>(n));
  } else if (n < 1024.0 * 1024) {
    std::snprintf(buf, sizeof(buf), "%.2fK", n / 1024);
  } else if (n < 1024.0 * 1024 * 1024) {
    std::snprintf(buf, sizeof(buf), "%.2fM", n / (1024.0 * 1024));
  } else {
    std::snprintf(buf, sizeof(buf), "%.2fG", n / (1024.0 * 1024 * 1024));
  }
  return buf;
}

class InfoWriter {
 public:
  void Section(std::string_view name) {
    if (!out_.empty()) out_ += "\r\n";
    out_ += "# ";
    out_ += name;
    out_ += "\r\n";
  }
  template <typename T>
  void Field(std::string_view name, const T& value) {
    out_ += name;
    out_ += ':';
    if constexpr (std::is_arithmetic_v<T>) {
      out_ += std::to_string(value);
    } else {
      out_ += value;
    }
    out_ += "\r\n";
  }
  void Line(const std::string& line) { out_ += line + "\r\n"; }
  std::string& str() { return out_; }

 private:
  std::string out_;
};

std::string Fixed2(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.2f", v);
  return buf;
}

void InfoServer(InfoWriter& w, Services& s) {
  struct utsname name;
  uname(&name);
  int64_t uptime = (s.keyspace.now_ms() - s.state.start_time_ms) / 1000;
  w.Section("Server");
  w.Field("redis_version", std::string(KEYWARD_REDIS_VERSION));
  w.Field("redis_git_sha1", std::string("00000000"));
  w.Field("redis_git_dirty", 0);
  w.Field("redis_build_id", std::string("0"));
  w.Field("redis_mode", std::string(s.sentinel != nullptr ? "sentinel" : "standalone"));
  w.Field("keyward_version", std::string(KEYWARD_VERSION));
  // Wall clock minus server clock: non-zero while a wall-clock jump is being absorbed.
  w.Field("keyward_clock_offset_us", s.clock.WallOffsetUs());
  w.Field("os", std::string(name.sysname) + " " + name.release + " " + name.machine);
  w.Field("arch_bits", 64);
  w.Field("monotonic_clock", std::string("POSIX clock_gettime"));
  w.Field("multiplexing_api", std::string("epoll"));
  w.Field("atomicvar_api", std::string("c11-builtin"));
  w.Field("gcc_version", std::to_string(__GNUC__) + "." + std::to_string(__GNUC_MINOR__) + "." +
                             std::to_string(__GNUC_PATCHLEVEL__));
  w.Field("process_id", static_cast<int64_t>(getpid()));
  w.Field("process_supervised", std::string("no"));
  w.Field("run_id", s.state.run_id);
  w.Field("tcp_port", s.settings.port);
  w.Field("server_time_usec", s.clock.NowUs());
  w.Field("uptime_in_seconds", uptime);
  w.Field("uptime_in_days", uptime / 86400);
  w.Field("hz", s.settings.hz);
  w.Field("configured_hz", s.settings.hz);
  w.Field("lru_clock", (s.keyspace.now_ms() / 1000) & 0xFFFFFF);
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  w.Field("executable", n > 0 ? std::string(exe, n) : std::string());
  w.Field("config_file", s.config.config_file());
  w.Field("io_threads_active", 0);
}

void InfoClients(InfoWriter& w, Services& s) {
  w.Section("Clients");
  // Replicas are not counted (Redis: clients minus slaves).
  size_t replicas = 0;
  for (Client* c : s.clients.all()) replicas += c->has(Client::kReplica) ? 1 : 0;
  w.Field("connected_clients", s.clients.size() - replicas);
  w.Field("cluster_connections", 0);
  w.Field("maxclients", s.settings.maxclients);
  size_t max_in = 0, max_out = 0;
  for (Client* c : s.clients.all()) {
    max_in = std::max(max_in, c->transport()->buffered_input());
    max_out = std::max(max_out, c->transport()->output().size());
  }
  w.Field("client_recent_max_input_buffer", max_in);
  w.Field("client_recent_max_output_buffer", max_out);
  // Clients a pause holds count as blocked (Redis 7.0 postpones them as blocked clients).
  w.Field("blocked_clients", s.blocking.blocked_clients() + s.pause.held());
  w.Field("tracking_clients", s.tracking.clients());
  w.Field("clients_in_timeout_table", s.blocking.timed_waiters());
}

// Redis's "%.2f" ratios, with Redis's 0/0 guarded: a ratio of nothing prints 0.00.
std::string Ratio(double num, double den) { return Fixed2(den != 0 ? num / den : 0); }

// INFO memory, in genRedisInfoString's order. What Keyward measures: used_memory (the
// allocator's count), the RSS, the peak (kept by the cron and by INFO), the memory in use at
// startup, the Lua states of EVAL and FUNCTION (lua_gc), their caches, the clients' buffers, the
// keyspace's tables, the machine's memory, lazy freeing. What is fixed because the feature does
// not exist yet: replication and AOF buffers, cluster links, defrag.
void InfoMemory(InfoWriter& w, Services& s) {
  // Redis's getMemoryOverheadData (memory_overhead.h), which MEMORY STATS reads too. As Redis:
  // the cron samples the peak, and INFO raises it if used memory is higher now.
  const MemoryOverhead mh = GetMemoryOverhead(s);
  const size_t used = mh.total_allocated, rss = mh.process_rss, peak = mh.peak_allocated;
  const size_t startup = mh.startup_allocated;
  const int64_t lua_eval = s.lua.memory_bytes();
  const int64_t lua_functions = s.functions.memory_bytes();
  const size_t scripts_eval = mh.lua_caches;
  const size_t scripts_functions = mh.functions_caches;
  const size_t system = TotalSystemMemoryBytes();
  const size_t clients_normal = mh.clients_normal;
  const size_t overhead = mh.overhead_total;
  const size_t dataset = mh.dataset;
  const size_t net_usage = used > startup ? used - startup : 1;
  const size_t allocated = mh.allocator_allocated, active = mh.allocator_active,
               resident = mh.allocator_resident;
  auto diff = [](size_t a, size_t b) { return static_cast<int64_t>(a) - static_cast<int64_t>(b); };
  w.Section("Memory");
  w.Field("used_memory", used);
  w.Field("used_memory_human", Human(static_cast<double>(used)));
  w.Field("used_memory_rss", rss);
  w.Field("used_memory_rss_human", Human(static_cast<double>(rss)));
  w.Field("used_memory_peak", peak);
  w.Field("used_memory_peak_human", Human(static_cast<double>(peak)));
  w.Field("used_memory_peak_perc", Ratio(used * 100.0, static_cast<double>(peak)) + "%");
  w.Field("used_memory_overhead", overhead);
  w.Field("used_memory_startup", startup);
  w.Field("used_memory_dataset", dataset);
  w.Field("used_memory_dataset_perc", Ratio(dataset * 100.0, static_cast<double>(net_usage)) + "%");
  w.Field("allocator_allocated", allocated);
  w.Field("allocator_active", active);
  w.Field("allocator_resident", resident);
  w.Field("total_system_memory", system);
  w.Field("total_system_memory_human", Human(static_cast<double>(system)));
  w.Field("used_memory_lua", lua_eval);  // Redis: deprecated name of used_memory_vm_eval
  w.Field("used_memory_vm_eval", lua_eval);
  w.Field("used_memory_lua_human", Human(static_cast<double>(lua_eval)));
  w.Field("used_memory_scripts_eval", scripts_eval);
  w.Field("number_of_cached_scripts", s.lua.script_count());
  w.Field("number_of_functions", s.functions.function_count());
  w.Field("number_of_libraries", s.functions.library_count());
  w.Field("used_memory_vm_functions", lua_functions);
  w.Field("used_memory_vm_total", lua_eval + lua_functions);
  w.Field("used_memory_vm_total_human", Human(static_cast<double>(lua_eval + lua_functions)));
  w.Field("used_memory_functions", scripts_functions);
  w.Field("used_memory_scripts", scripts_eval + scripts_functions);
  w.Field("used_memory_scripts_human",
          Human(static_cast<double>(scripts_eval + scripts_functions)));
  w.Field("maxmemory", s.settings.maxmemory);
  w.Field("maxmemory_human", Human(static_cast<double>(s.settings.maxmemory)));
  w.Field("maxmemory_policy", *s.config.GetValue("maxmemory-policy"));
  w.Field("allocator_frag_ratio",
          Ratio(static_cast<double>(active), static_cast<double>(allocated)));
  w.Field("allocator_frag_bytes", diff(active, allocated));
  w.Field("allocator_rss_ratio", Ratio(static_cast<double>(resident), static_cast<double>(active)));
  w.Field("allocator_rss_bytes", diff(resident, active));
  w.Field("rss_overhead_ratio", Ratio(static_cast<double>(rss), static_cast<double>(resident)));
  w.Field("rss_overhead_bytes", diff(rss, resident));
  w.Field("mem_fragmentation_ratio", Ratio(static_cast<double>(rss), static_cast<double>(used)));
  w.Field("mem_fragmentation_bytes", diff(rss, used));
  // No AOF and no replicas: no buffer is left out of eviction's count, none exists.
  w.Field("mem_not_counted_for_evict", 0);
  w.Field("mem_replication_backlog", s.replication.source().backlog().memory());
  w.Field("mem_total_replication_buffers", 0);
  w.Field("mem_clients_slaves", 0);
  w.Field("mem_clients_normal", clients_normal);
  w.Field("mem_cluster_links", 0);
  w.Field("mem_aof_buffer", 0);
  w.Field("mem_allocator", std::string(kAllocatorName));
  w.Field("active_defrag_running", 0);
  w.Field("lazyfree_pending_objects", s.keyspace.lazy_freer().pending());
  w.Field("lazyfreed_objects", s.keyspace.lazy_freer().freed());
}

// INFO persistence: the RDB and AOF fields from storage/ (no fork: the copy-on-write fields stay 0,
// and current_fork_perc is the share of keys the running snapshot job has written).
void InfoPersistence(InfoWriter& w, Services& s) {
  const RdbPersistence::Info rdb = s.rdb.info();
  w.Section("Persistence");
  w.Field("loading", rdb.loading ? 1 : 0);
  w.Field("async_loading", rdb.async_loading ? 1 : 0);
  if (rdb.loading || rdb.async_loading) {
    const int64_t now = s.clock.NowMs() / 1000;
    const double perc = rdb.loading_total_bytes == 0
                            ? 0.0
                            : static_cast<double>(rdb.loading_loaded_bytes) * 100.0 /
                                  static_cast<double>(rdb.loading_total_bytes);
    const int64_t elapsed = now - rdb.loading_start_time;
    // Redis's integer arithmetic: bytes left over bytes per second so far.
    const uint64_t rate =
        elapsed <= 0 ? 0 : rdb.loading_loaded_bytes / static_cast<uint64_t>(elapsed);
    const int64_t eta =
        rate == 0
            ? 1
            : static_cast<int64_t>((rdb.loading_total_bytes - rdb.loading_loaded_bytes) / rate);
    w.Field("loading_start_time", rdb.loading_start_time);
    w.Field("loading_total_bytes", rdb.loading_total_bytes);
    w.Field("loading_rdb_used_mem", rdb.loading_rdb_used_mem);
    w.Field("loading_loaded_bytes", rdb.loading_loaded_bytes);
    w.Field("loading_loaded_perc", Fixed2(perc));
    w.Field("loading_eta_seconds", eta);
  }
  w.Field("current_cow_peak", 0);
  w.Field("current_cow_size", 0);
  w.Field("current_cow_size_age", 0);
  const double fork_perc = rdb.current_save_keys_total == 0
                               ? 0.0
                               : static_cast<double>(rdb.current_save_keys_processed) * 100.0 /
                                     static_cast<double>(rdb.current_save_keys_total);
  w.Field("current_fork_perc", Fixed2(fork_perc));
  w.Field("current_save_keys_processed", rdb.current_save_keys_processed);
  w.Field("current_save_keys_total", rdb.current_save_keys_total);
  w.Field("rdb_changes_since_last_save", s.propagation.dirty());
  w.Field("rdb_bgsave_in_progress", s.rdb.bgsave_in_progress() ? 1 : 0);
  w.Field("rdb_last_save_time", rdb.lastsave);
  w.Field("rdb_last_bgsave_status", std::string(rdb.last_bgsave_ok ? "ok" : "err"));
  w.Field("rdb_last_bgsave_time_sec", rdb.last_bgsave_time_sec);
  w.Field("rdb_current_bgsave_time_sec", rdb.current_bgsave_time_sec);
  w.Field("rdb_saves", rdb.saves);
  w.Field("rdb_last_cow_size", 0);
  w.Field("rdb_last_load_keys_expired", rdb.last_load_keys_expired);
  w.Field("rdb_last_load_keys_loaded", rdb.last_load_keys_loaded);
  const AofPersistence::Info aof = s.aof.info();
  w.Field("aof_enabled", aof.enabled ? 1 : 0);
  w.Field("aof_rewrite_in_progress", aof.rewrite_in_progress ? 1 : 0);
  w.Field("aof_rewrite_scheduled", aof.rewrite_scheduled ? 1 : 0);
  w.Field("aof_last_rewrite_time_sec", aof.last_rewrite_time_sec);
  w.Field("aof_current_rewrite_time_sec", aof.current_rewrite_time_sec);
  w.Field("aof_last_bgrewrite_status", std::string(aof.last_bgrewrite_ok ? "ok" : "err"));
  w.Field("aof_rewrites", aof.rewrites);
  w.Field("aof_rewrites_consecutive_failures", aof.consecutive_failures);
  w.Field("aof_last_write_status", std::string(aof.last_write_ok ? "ok" : "err"));
  w.Field("aof_last_cow_size", 0);
  w.Field("module_fork_in_progress", 0);
  w.Field("module_fork_last_cow_size", 0);
  if (s.settings.appendonly) {
    w.Field("aof_current_size", aof.current_size);
    w.Field("aof_base_size", aof.base_size);
    w.Field("aof_pending_rewrite", aof.rewrite_scheduled ? 1 : 0);  // the same flag in Redis
    w.Field("aof_buffer_length", aof.buffer_length);
    w.Field("aof_pending_bio_fsync", aof.pending_bio_fsync ? 1 : 0);
    w.Field("aof_delayed_fsync", aof.delayed_fsync);
  }
}

// INFO stats. Replication, eviction, forks, MIGRATE, defrag and io-threads do not exist yet:
// their fields are Redis's idle values. expired_stale_perc is 0.00 because the active cycle
// walks an expiry index in deadline order instead of sampling, so it keeps no such estimate.
void InfoStats(InfoWriter& w, Services& s) {
  ServerStats& st = s.stats;
  KeyspaceStats& ks = s.keyspace.stats();
  auto kbps = [&](ServerStats::Metric m) {
    return Fixed2(static_cast<double>(st.instantaneous(m)) / 1024);
  };
  w.Section("Stats");
  w.Field("total_connections_received", st.total_connections_received);
  w.Field("total_commands_processed", st.total_commands_processed);
  w.Field("instantaneous_ops_per_sec", st.instantaneous_ops());
  w.Field("total_net_input_bytes", st.total_net_input_bytes);
  w.Field("total_net_output_bytes", st.total_net_output_bytes);
  w.Field("total_net_repl_input_bytes", st.total_net_repl_input_bytes);
  w.Field("total_net_repl_output_bytes", st.total_net_repl_output_bytes);
  w.Field("instantaneous_input_kbps", kbps(ServerStats::kMetricNetInput));
  w.Field("instantaneous_output_kbps", kbps(ServerStats::kMetricNetOutput));
  w.Field("instantaneous_input_repl_kbps", std::string("0.00"));
  w.Field("instantaneous_output_repl_kbps", std::string("0.00"));
  w.Field("rejected_connections", st.rejected_connections);
  w.Field("sync_full", st.sync_full);
  w.Field("sync_partial_ok", st.sync_partial_ok);
  w.Field("sync_partial_err", st.sync_partial_err);
  w.Field("expired_keys", ks.expired);
  w.Field("expired_stale_perc", std::string("0.00"));
  w.Field("expired_time_cap_reached_count", ks.expire_cycle_time_limit_hits);
  w.Field("expire_cycle_cpu_milliseconds", st.expire_cycle_time_us / 1000);
  w.Field("evicted_keys", st.evicted_keys);
  w.Field("evicted_clients", 0);
  w.Field("total_eviction_exceeded_time", 0);
  w.Field("current_eviction_exceeded_time", 0);
  w.Field("keyspace_hits", ks.hits);
  w.Field("keyspace_misses", ks.misses);
  w.Field("pubsub_channels", s.pubsub.Count(PubSubKind::kChannel));
  w.Field("pubsub_patterns", s.pubsub.Count(PubSubKind::kPattern));
  w.Field("pubsubshard_channels", s.pubsub.Count(PubSubKind::kShard));
  w.Field("latest_fork_usec", 0);
  w.Field("total_forks", 0);
  w.Field("migrate_cached_sockets", 0);
  w.Field("slave_expires_tracked_keys", 0);
  w.Field("active_defrag_hits", 0);
  w.Field("active_defrag_misses", 0);
  w.Field("active_defrag_key_hits", 0);
  w.Field("active_defrag_key_misses", 0);
  w.Field("total_active_defrag_time", 0);
  w.Field("current_active_defrag_time", 0);
  w.Field("tracking_total_keys", s.tracking.total_keys());
  w.Field("tracking_total_items", s.tracking.total_items());
  w.Field("tracking_total_prefixes", s.tracking.total_prefixes());
  w.Field("unexpected_error_replies", st.unexpected_error_replies);
  w.Field("total_error_replies", st.total_error_replies);
  // RESTORE payloads are not deep-sanitized (sanitize-dump-payload's default, "no").
  w.Field("dump_payload_sanitizations", 0);
  w.Field("total_reads_processed", st.total_reads_processed);
  w.Field("total_writes_processed", st.total_writes_processed);
  w.Field("io_threaded_reads_processed", 0);
  w.Field("io_threaded_writes_processed", 0);
  // Keyward's replies have no fixed-size reply buffer for Redis 7.0 to shrink or grow.
  w.Field("reply_buffer_shrinks", 0);
  w.Field("reply_buffer_expands", 0);
  w.Field("client_query_buffer_limit_disconnections", st.client_query_buffer_limit_disconnections);
}

void InfoReplication(InfoWriter& w, Services& s) {
  w.Section("Replication");
  w.str() += s.replication.Info();
}

void InfoCpu(InfoWriter& w) {
  struct rusage self, children;
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  auto secs = [](const timeval& tv) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%ld.%06ld", static_cast<long>(tv.tv_sec),
                  static_cast<long>(tv.tv_usec));
    return std::string(buf);
  };
  w.Section("CPU");
  w.Field("used_cpu_sys", secs(self.ru_stime));
  w.Field("used_cpu_user", secs(self.ru_utime));
  w.Field("used_cpu_sys_children", secs(children.ru_stime));
  w.Field("used_cpu_user_children", secs(children.ru_utime));
  // INFO runs on the event loop's thread: this is the main thread's own share.
  struct rusage main_thread;
  getrusage(RUSAGE_THREAD, &main_thread);
  w.Field("used_cpu_sys_main_thread", secs(main_thread.ru_stime));
  w.Field("used_cpu_user_main_thread", secs(main_thread.ru_utime));
}

void InfoCommandStats(InfoWriter& w, Services& s) {
  w.Section("Commandstats");
  auto line = [&](const CommandSpec& cmd) {
    const CommandStats& st = cmd.stats();
    if (st.calls == 0 && st.rejected_calls == 0 && st.failed_calls == 0) return;
    std::string name = cmd.full_name();
    w.Line("cmdstat_" + name + ":calls=" + std::to_string(st.calls) +
           ",usec=" + std::to_string(st.usec) +
           ",usec_per_call=" + Fixed2(st.calls ? static_cast<double>(st.usec) / st.calls : 0) +
           ",rejected_calls=" + std::to_string(st.rejected_calls) +
           ",failed_calls=" + std::to_string(st.failed_calls));
  };
  for (const CommandSpec* cmd : s.registry.all()) {
    line(*cmd);
    for (const auto& sub : cmd->subcommands()) line(*sub);
  }
}

// Each command's percentiles of its histogram, in microseconds with three decimals (Redis's
// fillPercentileDistributionLatencies); nothing but the header with latency-tracking off.
void InfoLatencyStats(InfoWriter& w, Services& s) {
  w.Section("Latencystats");
  if (!s.settings.latency_tracking) return;
  auto line = [&](const CommandSpec& cmd) {
    const HdrHistogram* h = s.latency.HistogramOf(cmd);
    if (h == nullptr) return;
    std::string text = "latency_percentiles_usec_" + cmd.full_name() + ":";
    const auto& percentiles = s.settings.latency_tracking_info_percentiles;
    for (size_t i = 0; i < percentiles.size(); i++) {
      char value[64];
      std::snprintf(value, sizeof(value), "%.3f",
                    static_cast<double>(h->ValueAtPercentile(percentiles[i])) / 1000.0);
      if (i > 0) text += ',';
      // Appended piece by piece: "p" + std::string trips GCC 12's -Wrestrict false positive.
      text += 'p';
      text += FormatPercentile(percentiles[i]);
      text += '=';
      text += value;
    }
    w.Line(text);
  };
  for (const CommandSpec* cmd : s.registry.all()) {
    line(*cmd);
    for (const auto& sub : cmd->subcommands()) line(*sub);
  }
}

void InfoErrorStats(InfoWriter& w, Services& s) {
  w.Section("Errorstats");
  for (const auto& [code, count] : s.stats.error_stats) {
    w.Line("errorstat_" + code + ":count=" + std::to_string(count));
  }
}

void InfoKeyspace(InfoWriter& w, Services& s) {
  w.Section("Keyspace");
  Keyspace& ks = s.keyspace;
  for (int i = 0; i < ks.db_count(); i++) {
    Database& db = ks.db(i);
    if (db.size() == 0) continue;
    w.Line("db" + std::to_string(i) + ":keys=" + std::to_string(db.size()) + ",expires=" +
           std::to_string(db.expires_count()) + ",avg_ttl=" + std::to_string(db.AverageTtlMs()));
  }
}

// A sentinel's own section: its masters and their state as seen from here.
void InfoSentinel(InfoWriter& w, sentinel::Sentinel& sentinel) {
  w.Section("Sentinel");
  w.Field("sentinel_masters", sentinel.masters().size());
  w.Field("sentinel_tilt", sentinel.tilt() ? 1 : 0);
  w.Field("sentinel_tilt_since_seconds",
          sentinel.tilt() ? (sentinel.now() - sentinel.tilt_start_time()) / 1000 : int64_t{-1});
  w.Field("sentinel_running_scripts", sentinel.running_scripts());
  w.Field("sentinel_scripts_queue_length", sentinel.scripts().size());
  w.Field("sentinel_simulate_failure_flags", sentinel.simfailure_flags());
  int id = 0;
  for (const auto& [name, m] : sentinel.masters()) {
    const char* status = m->is(sentinel::kODown)   ? "odown"
                         : m->is(sentinel::kSDown) ? "sdown"
                                                   : "ok";
    w.Line("master" + std::to_string(id++) + ":name=" + name + ",status=" + status +
           ",address=" + sentinel.Announce(m->addr) + ":" + std::to_string(m->addr.port) +
           ",slaves=" + std::to_string(m->slaves.size()) +
           ",sentinels=" + std::to_string(m->sentinels.size() + 1));
  }
}

}  // namespace

std::string RenderInfo(Services& s, const std::vector<std::string>& sections) {
  // Sections: "default" (none given), "all", "everything", or any list of names.
  std::set<std::string> wanted;
  bool all = false;
  if (sections.empty()) wanted.insert("default");
  for (const auto& name : sections) wanted.insert(ToLower(name));
  if (wanted.count("all") || wanted.count("everything")) all = true;
  bool def = wanted.count("default") > 0;
  auto want = [&](const char* name, bool in_default) {
    return all || wanted.count(name) > 0 || (def && in_default);
  };
  InfoWriter w;
  if (s.sentinel != nullptr) {
    // A sentinel has five sections, all of them in the default.
    if (want("server", true)) InfoServer(w, s);
    if (want("clients", true)) InfoClients(w, s);
    if (want("stats", true)) InfoStats(w, s);
    if (want("cpu", true)) InfoCpu(w);
    if (want("sentinel", true)) InfoSentinel(w, *s.sentinel);
    return w.str();
  }
  if (want("server", true)) InfoServer(w, s);
  if (want("clients", true)) InfoClients(w, s);
  if (want("memory", true)) InfoMemory(w, s);
  if (want("persistence", true)) InfoPersistence(w, s);
  if (want("stats", true)) InfoStats(w, s);
  if (want("replication", true)) InfoReplication(w, s);
  if (want("cpu", true)) InfoCpu(w);
  if (want("modules", true)) w.Section("Modules");
  if (want("commandstats", false)) InfoCommandStats(w, s);
  if (want("errorstats", true)) InfoErrorStats(w, s);
  if (want("latencystats", false)) InfoLatencyStats(w, s);
  if (want("cluster", true)) {
    w.Section("Cluster");
    w.Field("cluster_enabled", 0);
  }
  if (want("keyspace", true)) InfoKeyspace(w, s);
  return w.str();
}

namespace {

void CmdInfo(CmdArgs args, CommandContext& ctx) {
  std::vector<std::string> sections;
  for (size_t j = 1; j < args.size(); j++) sections.emplace_back(args[j]);
  std::string text = RenderInfo(ctx.services(), sections);
  // A sentinel answers with a bulk string in RESP3 too, as Redis's does.
  if (ctx.services().sentinel != nullptr) return ctx.rb().SendBulk(text);
  ctx.rb().SendVerbatim(text);
}

void CmdTime(CmdArgs args, CommandContext& ctx) {
  int64_t us = ctx.services().clock.NowUs();
  ctx.rb().StartArray(2);
  ctx.rb().SendBulk(std::to_string(us / 1000000));
  ctx.rb().SendBulk(std::to_string(us % 1000000));
}

// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]: with save points (unless NOSAVE) or SAVE, the
// final snapshot is written first; if that fails the server stays up (unless FORCE).
void CmdShutdown(CmdArgs args, CommandContext& ctx) {
  bool abort = false, save = false, nosave = false, force = false;
  for (size_t j = 1; j < args.size(); j++) {
    if (EqualsIgnoreCase(args[j], "NOSAVE")) {
      nosave = true;
    } else if (EqualsIgnoreCase(args[j], "NOW")) {
      continue;
    } else if (EqualsIgnoreCase(args[j], "FORCE")) {
      force = true;
    } else if (EqualsIgnoreCase(args[j], "SAVE")) {
      save = true;
    } else if (EqualsIgnoreCase(args[j], "ABORT")) {
      abort = true;
    } else {
      return ctx.rb().SendError(errors::kSyntax);
    }
  }
  if ((abort && args.size() != 2) || (save && nosave)) {
    return ctx.rb().SendError(errors::kSyntax);
  }
  if (abort) return ctx.rb().SendError(errors::kNoShutdownInProgress);
  if (!ctx.services().aof.PrepareForShutdown(force)) {
    return ctx.rb().SendError(errors::kShutdownFailed);
  }
  if (!ctx.services().rdb.SaveOnShutdown(save, nosave)) {
    if (!force) {
      spdlog::warn("Error trying to save the DB, can't exit.");
      return ctx.rb().SendError(errors::kShutdownFailed);
    }
    spdlog::warn("Error trying to save the DB. Exit anyway.");
  }
  ServerState& state = ctx.services().state;
  state.shutting_down = true;
  if (state.host != nullptr) state.host->RequestShutdown();
  // Like Redis, the client gets no reply: the connection closes as the server exits.
  ctx.services().clients.Close(ctx.client(), /*after_reply=*/true);
}

void CmdMonitor(CmdArgs args, CommandContext& ctx) {
  if (ctx.client().has(Client::kMonitor)) return;
  ctx.services().monitors.Add(ctx.client());
  ctx.rb().SendOk();
}

void CmdSlowlogGet(CmdArgs args, CommandContext& ctx) {
  int64_t count = 10;
  if (args.size() > 3) return ctx.rb().SendError(errors::SubcommandSyntax("slowlog", args[1]));
  if (args.size() == 3) {
    if (!ParseInt64(args[2], &count) || count < -1) {
      return ctx.rb().SendError(errors::kSlowlogCount);
    }
    if (count == -1) count = INT64_MAX;
  }
  auto& log = ctx.services().slowlog.entries();
  size_t n = std::min<size_t>(log.size(), static_cast<size_t>(count));
  ReplyBuilder& rb = ctx.rb();
  rb.StartArray(n);
  for (size_t i = 0; i < n; i++) {
    const SlowLogEntry& e = log[i];
    rb.StartArray(6);
    rb.SendLong(static_cast<int64_t>(e.id));
    rb.SendLong(e.time_sec);
    rb.SendLong(e.duration_us);
    rb.StartArray(e.args.size());
    for (const auto& a : e.args) rb.SendBulk(a);
    rb.SendBulk(e.peer);
    rb.SendBulk(e.client_name);
  }
}

void CmdSlowlogLen(CmdArgs args, CommandContext& ctx) {
  ctx.rb().SendLong(static_cast<int64_t>(ctx.services().slowlog.entries().size()));
}

void CmdSlowlogReset(CmdArgs args, CommandContext& ctx) {
  ctx.services().slowlog.Reset();
  ctx.rb().SendOk();
}

void CmdSlowlogHelp(CmdArgs args, CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "GET [<count>]",
      "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
      "    Entries are made of:",
      "    id, timestamp, time in microseconds, arguments array, client IP and port,",
      "    client name",
      "LEN",
      "    Return the length of the slowlog.",
      "RESET",
      "    Reset the slowlog.",
  };
  ctx.rb().SendHelp("SLOWLOG", kLines);
}

}  // namespace

void RegisterServerFamily(CommandRegistry& r) {
  constexpr uint32_t kLS = CO::kLoading | CO::kStale;
  r << CommandSpec{"info",
                   -1,
                   kLS | CO::kSentinel,
                   0,
                   0,
                   0,
                   Acl::kDangerous,
                   CmdInfo,
                   {"Get information and statistics about the server", "1.0.0", "server", "O(1)",
                    "[section [section ...]]"}}
    << CommandSpec{"time",
                   1,
                   kLS | CO::kFast,
                   0,
                   0,
                   0,
                   0,
                   CmdTime,
                   {"Return the current server time", "2.6.0", "server", "O(1)", ""}}
    << CommandSpec{"shutdown",
                   -1,
                   CO::kAdmin | CO::kNoScript | CO::kLoading | CO::kStale | CO::kNoMulti |
                       CO::kSentinel | CO::kAllowBusy,
                   0,
                   0,
                   0,
                   0,
                   CmdShutdown,
                   {"Synchronously save the dataset to disk and then shut down the server", "1.0.0",
                    "server", "O(N) when saving, where N is the total number of keys",
                    "[NOSAVE|SAVE] [NOW] [FORCE] [ABORT]"}}
    << CommandSpec{"monitor",
                   1,
                   CO::kAdmin | CO::kNoScript | kLS,
                   0,
                   0,
                   0,
                   0,
                   CmdMonitor,
                   {"Listen for all requests received by the server in real time", "1.0.0",
                    "server", "", ""}};
  CommandSpec slowlog{
      "slowlog",
      -2,
      0,
      0,
      0,
      0,
      0,
      nullptr,
      {"A container for slow log commands", "2.2.12", "server", "Depends on subcommand.", ""}};
  slowlog
      .AddSubcommand({"get",
                      -2,
                      CO::kAdmin | kLS,
                      0,
                      0,
                      0,
                      0,
                      CmdSlowlogGet,
                      {"Get the slow log's entries", "2.2.12", "server",
                       "O(N) where N is the number of entries returned", "[count]"}})
      .AddSubcommand({"len",
                      2,
                      CO::kAdmin | kLS,
                      0,
                      0,
                      0,
                      0,
                      CmdSlowlogLen,
                      {"Get the slow log's length", "2.2.12", "server", "O(1)", ""}})
      .AddSubcommand({"reset",
                      2,
                      CO::kAdmin | kLS,
                      0,
                      0,
                      0,
                      0,
                      CmdSlowlogReset,
                      {"Clear all entries from the slow log", "2.2.12", "server",
                       "O(N) where N is the number of entries in the slowlog", ""}})
      .AddSubcommand(
          {"help",
           2,
           kLS,
           0,
           0,
           0,
           0,
           CmdSlowlogHelp,
           {"Show helpful text about the different subcommands", "6.2.0", "server", "O(1)", ""}});
  r << std::move(slowlog);
}

}  // namespace keyward
