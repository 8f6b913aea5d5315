// The append-only file, as Redis 7.0's multi-part AOF, without fork:
//
// - `appenddirname` holds a manifest (aof_manifest.h), one BASE file (a snapshot: RDB with
//   aof-use-rdb-preamble, else commands) and INCR files of the commands since. This consumer of
//   the propagation stream appends every command to a buffer; the buffer is written to the last
//   INCR file once per loop turn, before any reply of that turn goes out (the host's output gate
//   holds them), and synced per `appendfsync`: always (before the replies), everysec (by a
//   thread, once a second), no (by the kernel).
// - Fencing records (LOCK.RECORD, LOCK.FLOOR) are synced before the replies whatever appendfsync
//   says: a token is never acknowledged before it is on disk (group commit: one fsync covers
//   every record of the turn).
// - BGREWRITEAOF opens a new INCR file, then writes a new BASE from a Snapshot of the dataset as
//   it was at that moment (the SnapshotJob, shared with BGSAVE); when it is in place the
//   manifest names it and the INCR files before the new one become HISTORY, then are deleted.
// - At start-up the files named by the manifest are replayed through Executor::Apply; a
//   truncated last file is cut back to its last complete command (aof-load-truncated).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "server/core/clock.h"
#include "server/core/settings.h"
#include "server/engine/propagation.h"
#include "server/engine/server_state.h"
#include "server/keyspace/keyspace.h"
#include "server/storage/aof_manifest.h"
#include "server/storage/snapshot_job.h"

namespace keyward {

class Executor;
class FunctionEngine;
class LockManager;

// fsyncs (and closes) AOF descriptors on a thread of its own (Redis's bio AOF_FSYNC jobs).
class AofSyncThread {
 public:
  AofSyncThread();
  ~AofSyncThread();
  // Syncs `fd`; closes it afterwards when `close`.
  void Sync(int fd, bool close);
  bool busy() const { return pending_.load() > 0; }
  // Whether the last sync failed (cheap: the gatekeeper asks before every write).
  bool failed() const { return failed_.load(std::memory_order_relaxed); }
  // "" while every sync succeeded; the last error otherwise (cleared by the next success).
  std::string error() const;
  void WaitIdle();

 private:
  void Run();
  mutable std::mutex mu_;
  std::condition_variable cv_, idle_;
  std::deque<std::pair<int, bool>> jobs_;
  std::atomic<int> pending_{0};
  std::atomic<bool> failed_{false};
  bool stop_ = false;
  std::string error_;
  std::thread thread_;  // last: it starts once everything it uses is constructed
};

class AofPersistence : public PropagationConsumer {
 public:
  struct Parts {
    const ServerSettings& settings;
    ServerState& state;
    Keyspace& keyspace;
    Propagation& propagation;
    FunctionEngine& functions;
    LockManager& locks;
    Clock& clock;
    SnapshotJob& job;
    Executor& executor;
  };
  explicit AofPersistence(Parts parts);
  ~AofPersistence() override;

  enum class State { kOff, kOn, kWaitRewrite };
  State state() const { return state_; }
  bool enabled() const { return state_ != State::kOff; }

  // Start-up: reads the manifest whatever `appendonly` says. With appendonly no, marks an
  // existing directory stale (this life does not append to it). With yes: adopts an old-style
  // file, replays the files, then opens the last INCR file for appending (creating a BASE first
  // when there was nothing). The error text when the server must not start.
  std::optional<std::string> StartUp();
  // DEBUG LOADAOF: the buffer written, the dataset and the functions emptied, the directory's
  // manifest read again and its files replayed. The error text when they cannot be loaded.
  std::optional<std::string> Reload();
  // CONFIG SET appendonly yes / no. Start: false (logged) when the rewrite cannot start.
  bool Start();
  void Stop();

  // BGREWRITEAOF.
  enum class RewriteOutcome { kStarted, kScheduled, kInProgress, kFailed };
  RewriteOutcome BackgroundRewrite(bool in_exec);
  bool rewrite_in_progress() const { return job_kind_running(); }

  // The cron: auto-rewrite, a scheduled rewrite, the everysec fsync, a write postponed by an
  // error.
  void Cron();
  // SHUTDOWN (and SIGTERM): a running rewrite is abandoned, the buffer written and synced. False
  // (the server must stay up) while the first rewrite of a just-enabled AOF runs, unless `force`.
  bool PrepareForShutdown(bool force);
  // -MISCONF-like refusal after a failed write: "-MISCONF Errors writing to the AOF file: ...".
  std::optional<std::string> WriteError() const;

  // PropagationConsumer.
  void OnCommand(const Argv& argv) override;
  void OnPending() override;

  struct Info {
    bool enabled = false;
    bool rewrite_in_progress = false;
    bool rewrite_scheduled = false;
    int64_t last_rewrite_time_sec = -1;
    int64_t current_rewrite_time_sec = -1;
    bool last_bgrewrite_ok = true;
    bool last_write_ok = true;
    uint64_t rewrites = 0;
    uint64_t consecutive_failures = 0;
    // When enabled.
    uint64_t current_size = 0;
    uint64_t base_size = 0;
    size_t buffer_length = 0;
    bool pending_bio_fsync = false;
    uint64_t delayed_fsync = 0;
  };
  Info info() const;

 private:
  std::string Dir() const;
  // The INCR file of an AOF being enabled, named when its first BASE is in place.
  std::string TempIncrName() const;
  std::string PathOf(const std::string& name) const { return Dir() + "/" + name; }
  bool job_kind_running() const { return p_.job.kind() == SnapshotJob::Kind::kAofRewrite; }
  // manifest_ from the directory (empty when there is none); the error when it is invalid.
  std::optional<std::string> ReadManifest();
  // Replays the files of manifest_; the error when they cannot be loaded.
  // `truncated`: set when the last file was cut back.
  std::optional<std::string> Load(bool* truncated);
  std::optional<std::string> LoadFile(const AofFileInfo& info, bool last, uint64_t* size,
                                      bool* truncated);
  // Opens (O_APPEND) the file the commands go to; the error text on failure.
  std::optional<std::string> OpenForAppend(const std::string& name, bool truncate);
  // Writes the buffer; syncs it as the policy (or a fencing record) requires.
  void Flush();
  void ScheduleFlush();
  void FlushAndRelease();
  void ReleaseGate();
  // Whether commands go to a file now (on; or being enabled while its first rewrite runs).
  bool appending() const;
  bool StartRewrite();
  void RewriteDoneOk(bool rdb_preamble);
  void RewriteFailed(const std::string& error);
  // After repeated failures automatic rewrites wait 1, 2, 4 ... 60 minutes (Redis's limit).
  bool RewriteLimited();
  SnapshotJob::Request RewriteRequest(const std::string& temp, const std::string& final) const;
  void DeleteHistory();
  int64_t NowSecs() const { return p_.clock.NowMs() / 1000; }

  Parts p_;
  State state_ = State::kOff;
  AofManifest manifest_;
  int fd_ = -1;
  std::string buf_;
  bool flush_posted_ = false;    // a flush task is posted
  bool gate_held_ = false;       // the host's output is held until the buffer is written
  bool must_sync_ = false;       // a fencing record waits in the buffer or unsynced in the file
  int64_t last_timestamp_ = 0;   // of the last "#TS:" annotation
  uint64_t current_size_ = 0;    // BASE and INCR files
  uint64_t last_incr_size_ = 0;  // the INCR file being written
  uint64_t rewrite_base_size_ = 0;
  uint64_t fsync_offset_ = 0;  // current_size_ when last synced
  int64_t last_fsync_ = 0;     // unix seconds
  bool last_write_ok_ = true;
  std::string last_write_error_;
  int64_t last_write_error_log_ = 0;
  uint64_t delayed_fsync_ = 0;
  // Rewrites.
  bool rewrite_scheduled_ = false;
  bool last_bgrewrite_ok_ = true;
  int64_t last_rewrite_time_sec_ = -1;
  uint64_t rewrites_ = 0;
  uint64_t consecutive_failures_ = 0;
  int64_t next_rewrite_time_ = 0;  // the limit after repeated failures
  int next_delay_minutes_ = 0;
  AofSyncThread sync_;
};

}  // namespace keyward
