// Typed configuration values the server reads on its hot paths. Each field is bound to an option
// of the same Redis name in server_config.cc; CONFIG SET writes here.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace keyward {

enum class LogLevel { kDebug = 0, kVerbose = 1, kNotice = 2, kWarning = 3 };
// enable-debug-command, enable-module-command, enable-protected-configs: no, yes, local.
enum class DebugCommand { kNo = 0, kYes = 1, kLocal = 2 };
enum class Supervised { kNo = 0, kUpstart = 1, kSystemd = 2, kAuto = 3 };
// oom-score-adj: no; relative (also spelt yes): added to the score the process started with;
// absolute.
enum class OomScoreAdj { kNo = 0, kRelative = 1, kAbsolute = 2 };
// What a command from the master's stream or the AOF that fails leads to.
enum class PropagationErrorBehavior { kIgnore = 0, kPanic = 1, kPanicOnReplicas = 2 };

// client-output-buffer-limit classes, in Redis's CONFIG GET order.
enum class ClientClass { kNormal = 0, kReplica = 1, kPubSub = 2 };
struct OutputBufferLimit {
  int64_t hard = 0;          // bytes; 0: none
  int64_t soft = 0;          // bytes; 0: none
  int64_t soft_seconds = 0;  // how long the soft limit may be exceeded
};

// repl-diskless-load's values, in the order the configuration names them.
inline constexpr int kDisklessLoadDisabled = 0;
inline constexpr int kDisklessLoadOnEmptyDb = 1;
inline constexpr int kDisklessLoadSwapdb = 2;

struct ServerSettings {
  // Network
  int64_t port = 6379;
  std::vector<std::string> bind = {"*", "-::*"};
  std::string unixsocket;
  int64_t unixsocketperm = 0;
  int64_t tcp_backlog = 511;
  int64_t tcp_keepalive = 300;
  int64_t timeout = 0;
  int64_t maxclients = 10000;
  bool protected_mode = true;
  std::string requirepass;
  // ACL (server/acl/): the ACL file (ACL LOAD/SAVE), the log's length, whether new users may use
  // every channel (acl-pubsub-default allchannels: 1), and the config file's `user` lines as
  // {"user", name, rules...} (selectors merged), loaded once the command table exists.
  std::string acl_file;
  int64_t acllog_max_len = 128;
  int acl_pubsub_default = 0;
  std::vector<std::vector<std::string>> acl_user_lines;
  // Set by the server: the default user's password follows requirepass.
  std::function<void()> on_requirepass_change;
  // Set by the server: the users as `user` lines, for CONFIG REWRITE (none with an ACL file).
  std::function<std::vector<std::string>()> acl_rewrite;
  // Protocol limits
  int64_t proto_max_bulk_len = 512LL * 1024 * 1024;
  int64_t client_query_buffer_limit = 1024LL * 1024 * 1024;
  // Redis's defaults: normal clients unbounded, replicas (and MONITOR) 256mb/64mb/60s,
  // subscribers 32mb/8mb/60s.
  OutputBufferLimit client_output_buffer_limit[3] = {
      {0, 0, 0}, {256LL << 20, 64LL << 20, 60}, {32LL << 20, 8LL << 20, 60}};
  // notify-keyspace-events as notify::k* flags; 0: no notifications.
  uint32_t notify_keyspace_events = 0;
  // Keyspace
  int64_t databases = 16;
  // Freeing in the background (Redis's lazyfree-lazy-*): evicted keys, expired keys, keys the
  // server deletes itself (an overwrite, RENAME), DEL/FLUSH* without ASYNC, a replica's flush.
  bool lazyfree_lazy_eviction = false;
  bool lazyfree_lazy_expire = false;
  bool lazyfree_lazy_server_del = false;
  bool lazyfree_lazy_user_flush = false;
  bool lazyfree_lazy_user_del = false;
  bool replica_lazy_flush = false;
  int64_t active_expire_effort = 1;
  // Encodings of the collection types (Redis's names; the *-ziplist-* spellings are aliases).
  int64_t hash_max_listpack_entries = 512;
  int64_t hash_max_listpack_value = 64;
  int64_t zset_max_listpack_entries = 128;
  int64_t zset_max_listpack_value = 64;
  int64_t set_max_intset_entries = 512;
  int64_t list_max_listpack_size = -2;
  int64_t list_compress_depth = 0;
  // A list element this long or longer gets a plain node of its own (Redis's packed_threshold;
  // not a configuration option: DEBUG QUICKLIST-PACKED-THRESHOLD sets it).
  size_t list_packed_threshold = size_t{1} << 30;
  // Where a stream's node closes: this many bytes or entries (0: no limit).
  int64_t stream_node_max_bytes = 4096;
  int64_t stream_node_max_entries = 100;
  // A sparse HyperLogLog longer than this turns dense (hll-sparse-max-bytes).
  int64_t hll_sparse_max_bytes = 3000;
  bool activerehashing = true;
  // Server
  int64_t hz = 10;
  bool dynamic_hz = true;
  int loglevel = static_cast<int>(LogLevel::kNotice);
  std::string logfile;
  std::string pidfile;
  std::string dir;
  int64_t slowlog_log_slower_than = 10000;
  int64_t slowlog_max_len = 128;
  int64_t latency_monitor_threshold = 0;
  // Per-command latency histograms (INFO latencystats, LATENCY HISTOGRAM), and the percentiles
  // INFO latencystats prints.
  bool latency_tracking = true;
  std::vector<double> latency_tracking_info_percentiles = {50.0, 99.0, 99.9};
  int enable_debug_command = static_cast<int>(DebugCommand::kNo);
  int enable_module_command = static_cast<int>(DebugCommand::kNo);
  int enable_protected_configs = static_cast<int>(DebugCommand::kNo);
  int propagation_error_behavior = static_cast<int>(PropagationErrorBehavior::kIgnore);
  // The process (server/process/).
  bool daemonize = false;
  int supervised = static_cast<int>(Supervised::kNo);
  bool always_show_logo = false;
  bool set_proc_title = true;
  std::string proc_title_template = "{title} {listen-addr} {server-mode}";
  int oom_score_adj = static_cast<int>(OomScoreAdj::kNo);
  int64_t oom_score_adj_values[3] = {0, 200, 800};  // master, replica, background child
  bool disable_thp = true;
  bool crash_log_enabled = true;
  bool crash_memcheck_enabled = true;
  bool jemalloc_bg_thread = true;  // Keyward uses the C library's allocator: no effect
  int64_t busy_reply_threshold = 5000;
  // Client-side caching: keys the tracking table remembers before it forgets (and invalidates)
  // some (tracking-table-max-keys; 0: no limit).
  int64_t tracking_table_max_keys = 1000000;
  // Coordination: how long after start native lock acquisitions are refused (Redlock's delayed
  // restart; ms), and how many fencing records are kept before idle ones are folded away.
  int64_t lock_restart_delay = 0;
  int64_t lock_max_records = 1000000;
  // Replication and locks (docs/coordination.md): a promoted replica's counters start this far
  // above the highest it knows; it grants no lock for lock-promotion-delay ms (-1: the longest
  // lease granted); fenced acquisitions answer once lock-fence-replicas replicas acknowledged
  // their record, or fail after lock-fence-timeout ms.
  int64_t lock_promotion_token_gap = int64_t{1} << 32;
  int64_t lock_promotion_delay = -1;
  int64_t lock_fence_replicas = 0;
  int64_t lock_fence_timeout = 1000;
  // RDB persistence: save points (seconds, changes), the file in `dir`, LZF and CRC64 in it,
  // refusing writes after a failed background save, removing the file a replica synced from,
  // a delay per key written (microseconds; Redis's test knob, for a snapshot that lasts), and how
  // often loading serves clients (-LOADING).
  std::vector<std::pair<int64_t, int64_t>> save_params = {{3600, 1}, {300, 100}, {60, 10000}};
  std::string dbfilename = "dump.rdb";
  bool rdbcompression = true;
  bool rdbchecksum = true;
  bool stop_writes_on_bgsave_error = true;
  bool rdb_del_sync_files = false;
  // Replication (server/replication/). replicaof: the master at start-up (CONFIG GET shows the
  // current one; REPLICAOF changes it); empty host: none.
  std::string replicaof_host;
  int64_t replicaof_port = 0;
  std::string masterauth, masteruser;
  bool replica_read_only = true;
  bool replica_serve_stale_data = true;
  int64_t replica_priority = 100;
  bool replica_announced = true;
  std::string replica_announce_ip;
  std::string bind_source_addr;  // bind-source-addr
  int64_t replica_announce_port = 0;
  bool replica_ignore_maxmemory = true;
  bool replica_ignore_disk_write_errors = false;
  int64_t repl_timeout = 60;              // seconds
  int64_t repl_ping_replica_period = 10;  // seconds
  int64_t repl_backlog_size = 1 << 20;    // bytes
  int64_t repl_backlog_ttl = 3600;        // seconds without replicas before it is freed
  bool repl_diskless_sync = true;
  int64_t repl_diskless_sync_delay = 5;  // seconds
  int64_t repl_diskless_sync_max_replicas = 0;
  int repl_diskless_load = 0;  // kDisklessLoadDisabled, kDisklessLoadOnEmptyDb, kDisklessLoadSwapdb
  bool repl_disable_tcp_nodelay = false;
  int64_t min_replicas_to_write = 0;
  int64_t min_replicas_max_lag = 10;  // seconds
  // Called when repl-backlog-size changes (the backlog resizes).
  std::function<void()> on_repl_backlog_size_change;
  bool rdb_save_incremental_fsync = true;
  int64_t rdb_key_save_delay = 0;
  int64_t key_load_delay = 0;  // microseconds per key loaded (Redis's test knob)
  int64_t loading_process_events_interval_bytes = 2 * 1024 * 1024;
  // AOF persistence (storage/aof_persistence.h): on or off, the directory and the files' base
  // name, the fsync policy, no fsync while a snapshot job runs, automatic rewrites (growth in
  // percent over the size after the last rewrite, and a minimum size), loading a truncated last
  // file, the RDB form for the base file, "#TS:" annotations, and Redis's test knob that keeps
  // HISTORY files.
  bool appendonly = false;
  std::string appenddirname = "appendonlydir";
  std::string appendfilename = "appendonly.aof";
  enum class AppendFsync : int { kNo = 0, kAlways = 1, kEverysec = 2 };
  int appendfsync = static_cast<int>(AppendFsync::kEverysec);
  bool no_appendfsync_on_rewrite = false;
  int64_t auto_aof_rewrite_percentage = 100;
  int64_t auto_aof_rewrite_min_size = 64 * 1024 * 1024;
  bool aof_load_truncated = true;
  bool aof_use_rdb_preamble = true;
  bool aof_timestamp_enabled = false;
  bool aof_rewrite_incremental_fsync = true;
  bool aof_disable_auto_gc = false;
  // Set by the server: CONFIG SET appendonly starts or stops the AOF (an error text refuses).
  std::function<std::optional<std::string>()> on_appendonly_change;

  // Set by the process that owns the listeners: re-listens after CONFIG SET port. Returns an
  // error text to refuse the change (the old port stays).
  std::function<std::optional<std::string>()> on_port_change;
  // Set by the process: applies proc-title-template, oom-score-adj(-values) and
  // crash-log-enabled after CONFIG SET.
  std::function<std::optional<std::string>()> on_proc_title_change;
  std::function<std::optional<std::string>()> on_oom_score_change;
  std::function<void()> on_crash_log_change;

  // maxmemory and eviction (engine/eviction.h). The policies in Redis's order (its error text
  // lists them so).
  enum class MaxmemoryPolicy : int {
    kVolatileLru,
    kVolatileLfu,
    kVolatileRandom,
    kVolatileTtl,
    kAllkeysLru,
    kAllkeysLfu,
    kAllkeysRandom,
    kNoEviction,
  };
  int64_t maxmemory = 0;
  int maxmemory_policy = static_cast<int>(MaxmemoryPolicy::kNoEviction);
  int64_t maxmemory_samples = 5;
  int64_t maxmemory_eviction_tenacity = 10;
  int64_t lfu_log_factor = 10;
  int64_t lfu_decay_time = 1;
  // Whether the LRU bits of entries hold LFU counters (an LFU policy is selected).
  bool lfu_policy() const {
    const auto p = static_cast<MaxmemoryPolicy>(maxmemory_policy);
    return p == MaxmemoryPolicy::kVolatileLfu || p == MaxmemoryPolicy::kAllkeysLfu;
  }
  // Set by the server: evicts at once after CONFIG SET maxmemory lowered the limit.
  std::function<void()> on_maxmemory_change;

  // The metrics endpoint's port (Prometheus text over HTTP); 0: off.
  int64_t metrics_port = 0;

  // TLS (Redis's tls-* options; net/tls.h builds the contexts). tls_port 0: no TLS listener.
  int64_t tls_port = 0;
  std::string tls_cert_file, tls_key_file, tls_key_file_pass;
  std::string tls_client_cert_file, tls_client_key_file, tls_client_key_file_pass;
  std::string tls_dh_params_file, tls_ca_cert_file, tls_ca_cert_dir;
  std::string tls_protocols, tls_ciphers, tls_ciphersuites;
  int tls_auth_clients = 1;  // net::TlsAuthClients: no, yes, optional
  bool tls_replication = false;
  bool tls_cluster = false;
  bool tls_prefer_server_ciphers = false;
  bool tls_session_caching = true;
  int64_t tls_session_cache_size = 20 * 1024;
  int64_t tls_session_cache_timeout = 300;
  // Set by the process that owns the listeners: rebuilds the TLS contexts after CONFIG SET of a
  // tls-* option, and re-listens after CONFIG SET tls-port. An error text refuses the change.
  std::function<std::optional<std::string>()> on_tls_change;
  std::function<std::optional<std::string>()> on_tls_port_change;

  // Sentinel mode (keyward-sentinel, or --sentinel): known before the options are declared, as
  // it changes defaults (port 26379, protected-mode no).
  bool sentinel_mode = false;
  // The configuration's `sentinel ...` lines, applied by the sentinel once it exists.
  std::vector<std::vector<std::string>> sentinel_lines;
  // Set by the sentinel: its state as `sentinel ...` lines, for every rewrite of the file.
  std::function<std::vector<std::string>()> sentinel_rewrite;
};

}  // namespace keyward
