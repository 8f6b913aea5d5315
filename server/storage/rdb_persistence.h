// RDB persistence, as Redis 7.0 offers it, without fork:
//
// - SAVE writes a snapshot in the foreground; BGSAVE runs it as the background SnapshotJob
//   (snapshot_job.h, shared with the AOF rewrite, one at a time as Redis's children) to
//   "temp-<pid>.rdb", renamed over `dbfilename` in `dir` when complete. The dataset is never
//   copied: memory grows by the output buffers.
// - save points ("save 3600 1 300 100 ..."), BGSAVE SCHEDULE and the retry delay after a failed
//   background save are checked by the cron, as Redis's serverCron does.
// - after a failed background save, with stop-writes-on-bgsave-error and save points, writes
//   are refused with -MISCONF until a save succeeds (the gatekeeper asks DiskError()).
// - the file is loaded at start-up (clients get -LOADING meanwhile) and by DEBUG RELOAD.
// - Keyward's coordination state goes in AUX fields that Redis skips: "keyward-fence-floor"
//   (the two floors) and one "keyward-fence" per fencing record, so counters survive a restart.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "server/core/clock.h"
#include "server/core/settings.h"
#include "server/engine/propagation.h"
#include "server/engine/server_state.h"
#include "server/engine/timers.h"
#include "server/keyspace/keyspace.h"
#include "server/storage/rdb_loader.h"
#include "server/storage/snapshot_job.h"

namespace keyward {

class FunctionEngine;
class LockManager;

// The start of an RDB file: the magic, AUX fields (Redis's and the fencing state) and the
// function libraries. `aof_base`: the base file of an AOF (Redis's "aof-base" AUX field).
std::string RdbHeader(const FunctionEngine& functions, const LockManager& locks, bool aof_base,
                      bool with_functions = true);
// A whole RDB file without keys (redis-cli --functions-rdb: REPLCONF rdb-filter-only): the header
// (with the function libraries or not), the end, the checksum.
std::string RdbWithoutData(const ServerSettings& settings, const FunctionEngine& functions,
                           const LockManager& locks, bool with_functions);
// A snapshot request written as an RDB file: that header, the records (rdbcompression) and the
// checksum (rdbchecksum).
void SetRdbFormat(SnapshotJob::Request& r, const ServerSettings& settings,
                  const FunctionEngine& functions, const LockManager& locks, bool aof_base);
// Loads RDB bytes into the dataset as the server's files load: the function libraries, Keyward's
// AUX fields, clients served (-LOADING) every loading-process-events-interval-bytes; `extra`'s aux
// and progress handlers are called too. `allow_dup`: DEBUG RELOAD MERGE.
struct RdbDatasetParts {
  const ServerSettings& settings;
  ServerState& state;
  Keyspace& keyspace;
  FunctionEngine& functions;
  LockManager& locks;
};
RdbLoadResult LoadRdbDataset(std::string_view data, const RdbDatasetParts& parts, bool allow_dup,
                             const RdbLoadHandlers& extra = {});
RdbLoadResult LoadRdbDataset(rdb::Reader& in, const RdbDatasetParts& parts, bool allow_dup,
                             const RdbLoadHandlers& extra = {});
// Applies an AUX field of Keyward's own while loading (ignores the others).
void ApplyRdbAux(LockManager& locks, std::string_view key, std::string_view value);

class RdbPersistence {
 public:
  struct Parts {
    const ServerSettings& settings;
    ServerState& state;
    Keyspace& keyspace;
    Propagation& propagation;  // the dirty counter
    FunctionEngine& functions;
    LockManager& locks;
    Clock& clock;
    SnapshotJob& job;
  };
  explicit RdbPersistence(Parts parts);

  // SAVE (and SHUTDOWN, DEBUG RELOAD, FLUSHALL with save points): false when the file could
  // not be written (the reason is logged, as Redis does).
  bool Save();
  // BGSAVE: started, or false when another snapshot job (an AOF rewrite) runs.
  bool BackgroundSave();
  // BGSAVE SCHEDULE (or BGSAVE inside EXEC): the cron starts it when it can.
  void ScheduleBackgroundSave() { bgsave_scheduled_ = true; }
  bool bgsave_in_progress() const { return p_.job.kind() == SnapshotJob::Kind::kRdb; }
  // Whether any background snapshot (a BGSAVE or an AOF rewrite) runs.
  bool job_running() const { return p_.job.running(); }
  // Told when a background save ends: "" and the file's path when it is in place, else why it
  // failed or was abandoned (replication sends that file to its replicas).
  void OnBackgroundSaveDone(
      std::function<void(const std::string& error, const std::string& path)> fn) {
    on_background_done_ = std::move(fn);
  }

  // The cron: save points, a scheduled BGSAVE (the job's own cron reports completion).
  void Cron();
  // Stops a running background save; its temp file is removed (FLUSHALL, SHUTDOWN, a
  // foreground save). Not a failure: rdb_last_bgsave_status does not change.
  void AbandonBackgroundSave();
  // After FLUSHALL (which abandoned any background save first): with save points, the empty
  // dataset is saved at once (Redis's flushAllDataAndResetRDB).
  void OnFlushAll();
  // SHUTDOWN / SIGTERM: a running background save is abandoned; then the final snapshot when
  // `save` (SHUTDOWN SAVE) or save points exist unless `nosave`. False when it failed.
  bool SaveOnShutdown(bool save, bool nosave);

  // Start-up: loads `dbfilename` if it exists. The error text when it exists and cannot be
  // loaded (the server must not start).
  std::optional<std::string> LoadAtStartup();
  // A replica's full sync: loads `dbfilename` (the master's snapshot, just received) into the
  // emptied dataset. The error text when it cannot be loaded.
  // `*repl_stream_db` gets its repl-stream-db AUX field (0 without one); `progress` is called
  // now and then while it loads.
  std::optional<std::string> LoadReceived(int64_t* repl_stream_db, std::function<void()> progress);
  // The same, read from `in` as the master sends it (repl-diskless-load): `total_bytes` is the
  // payload's size when the master announced one (0 when it did not).
  // With `async`, the RDB goes into `async->keyspace` (not the dataset, which is served
  // meanwhile: async_loading) and its function libraries' code into `async->functions`.
  struct AsyncTarget {
    Keyspace* keyspace;
    std::vector<std::string>* functions;
  };
  std::optional<std::string> LoadStream(rdb::Reader& in, uint64_t total_bytes,
                                        int64_t* repl_stream_db, std::function<void()> progress,
                                        const AsyncTarget* async = nullptr);
  // AUX fields that replication adds to every RDB this server writes (repl-stream-db, repl-id,
  // repl-offset, as Redis's rdbSaveInfo).
  void SetReplicationAux(std::function<std::string()> fn) { replication_aux_ = std::move(fn); }
  std::string ReplicationAux() const { return replication_aux_ ? replication_aux_() : ""; }
  // What the last file loaded said of replication (repl-id, repl-offset, repl-stream-db): a
  // replica restarted with its data asks its master to continue from there.
  struct ReplicationInfo {
    std::string replid;
    int64_t offset = -1;
    int64_t stream_db = 0;
  };
  const ReplicationInfo& loaded_replication() const { return loaded_repl_; }
  // DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE].
  enum class ReloadOutcome { kOk, kSaveFailed, kLoadFailed };
  ReloadOutcome Reload(bool merge, bool flush, bool save);

  // -MISCONF when writes are refused because the last background save failed.
  std::optional<std::string> DiskError() const;

  // INFO persistence.
  struct Info {
    bool loading = false;
    bool async_loading = false;
    int64_t loading_start_time = 0;
    uint64_t loading_total_bytes = 0;
    int64_t loading_rdb_used_mem = 0;
    uint64_t loading_loaded_bytes = 0;
    int64_t lastsave = 0;  // unix seconds
    bool last_bgsave_ok = true;
    int64_t last_bgsave_time_sec = -1;
    int64_t current_bgsave_time_sec = -1;
    uint64_t saves = 0;
    uint64_t last_load_keys_loaded = 0;
    uint64_t last_load_keys_expired = 0;
    uint64_t current_save_keys_processed = 0;
    uint64_t current_save_keys_total = 0;
  };
  Info info() const;
  int64_t lastsave() const { return lastsave_; }

 private:
  std::string Path() const { return p_.settings.dbfilename; }
  std::string TempPath() const;
  // An RDB snapshot of everything to `final_path`.
  SnapshotJob::Request Request(std::string temp_path, std::string final_path) const;
  // Loads the file at Path() into the (emptied or not) keyspace.
  std::optional<std::string> Load(bool allow_dup);
  // Loads from `in` (`total_bytes` of them, 0: unknown), with the logs Redis prints.
  std::optional<std::string> LoadFrom(rdb::Reader& in, uint64_t total_bytes, bool allow_dup,
                                      const AsyncTarget* async = nullptr);
  void StartBackground();
  void BackgroundDone(const std::string& error);
  int64_t NowSecs() { return p_.clock.NowMs() / 1000; }

  Parts p_;
  std::function<void(const std::string&, const std::string&)> on_background_done_;
  std::function<std::string()> replication_aux_;
  std::function<void()> loading_progress_;  // LoadReceived's
  ReplicationInfo loaded_repl_;
  bool bgsave_scheduled_ = false;
  uint64_t dirty_at_bgsave_ = 0;
  int64_t lastsave_ = 0;
  int64_t last_bgsave_try_ = 0;
  bool last_bgsave_ok_ = true;
  int64_t last_bgsave_time_sec_ = -1;
  uint64_t saves_ = 0;
  uint64_t last_load_keys_loaded_ = 0;
  uint64_t last_load_keys_expired_ = 0;
  // Loading in progress.
  int64_t loading_start_time_ = 0;
  uint64_t loading_total_bytes_ = 0;
  int64_t loading_rdb_used_mem_ = 0;
  uint64_t loading_loaded_bytes_ = 0;
};

}  // namespace keyward
