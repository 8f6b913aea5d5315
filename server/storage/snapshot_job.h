// The one snapshot of the dataset being written to a file, for BGSAVE or for an AOF rewrite (the
// processes Redis forks for these, of which it also runs one at a time): a Snapshot walk that the
// event loop steps between its other events, its bytes written, synced and renamed into place by
// a BackgroundFileWriter thread. The cron sees the file done and calls the requester back.
//
// A step writes entries for up to kStepBudgetUs (checking the clock every kStepEntries entries)
// before the loop serves its other events again: under load the snapshot advances as fast as that
// pause per loop turn allows, and an idle server runs it back to back. rdb-key-save-delay slows it
// to one key per delay, as Redis's child sleeps after each key (tests keep a snapshot running).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "server/core/clock.h"
#include "server/core/settings.h"
#include "server/engine/server_state.h"
#include "server/engine/timers.h"
#include "server/keyspace/keyspace.h"
#include "server/storage/file_writer.h"
#include "server/storage/snapshot.h"

namespace keyward {

class SnapshotJob {
 public:
  // kReplicas: a diskless full sync, the RDB streamed to replicas as it is written.
  enum class Kind { kNone, kRdb, kAofRewrite, kReplicas };
  struct Parts {
    const ServerSettings& settings;
    ServerState& state;
    Keyspace& keyspace;
    Timers& timers;
    Clock& clock;
  };
  struct Request {
    Kind kind = Kind::kRdb;
    std::string temp_path;   // written here...
    std::string final_path;  // ...and renamed to this once synced
    std::string header;      // the file's beginning (magic, AUX fields, functions)
    std::unique_ptr<SnapshotFormat> format;
    BackgroundFileWriter::Trailer trailer = BackgroundFileWriter::Trailer::kCrc64;
    // Background jobs: called from the cron when the file is in place ("") or failed.
    std::function<void(const std::string& error)> done;
    // Without a file (kReplicas): every byte goes to `sink`, the trailer (checksum) computed
    // here, and the walk pauses while `sink_backlog()` (what the receivers have not taken yet)
    // is over kMaxSinkBacklog. `done` follows the last byte.
    std::function<void(std::string_view bytes)> sink;
    std::function<size_t()> sink_backlog;
  };
  static constexpr size_t kMaxSinkBacklog = 4 * 1024 * 1024;

  explicit SnapshotJob(Parts parts) : p_(parts), snapshot_(parts.keyspace) {}
  ~SnapshotJob() { writer_.Cancel(); }

  // Starts a background job (none may be running); the error text when its file cannot be
  // created (then nothing runs and `done` is not called).
  std::optional<std::string> Start(Request request);
  // Writes the whole file now, waiting for the disk (SAVE, a rewrite at start-up). "" on
  // success, else what failed. A background job still running is completed first (its walk
  // run to the end, its file written) and reported to its requester.
  std::string RunForeground(Request request);
  // Stops the background job at once and removes its temp file; `done` is not called.
  void Abandon();
  // Steps a job whose step is not scheduled (no event loop) and reports a finished file.
  void Cron();

  bool running() const { return kind_ != Kind::kNone; }
  Kind kind() const { return kind_; }
  int64_t start_ms() const { return start_ms_; }
  uint64_t entries_written() const { return snapshot_.entries_written(); }
  const Snapshot& snapshot() const { return snapshot_; }
  uint64_t keys_total() const { return keys_total_; }

 private:
  void Step();
  void Report(const std::string& error);
  // Whether the output can take more now (the writer thread or the sink's receivers).
  bool OutputHasRoom() const;
  // The walk ended: the file is finished by the writer, or the sink gets the trailer.
  void WalkDone();

  Parts p_;
  Snapshot snapshot_;
  BackgroundFileWriter writer_;
  // A job without a file (Request::sink).
  std::function<void(std::string_view)> sink_;
  std::function<size_t()> sink_backlog_;
  BackgroundFileWriter::Trailer trailer_ = BackgroundFileWriter::Trailer::kCrc64;
  uint64_t crc_ = 0;
  Kind kind_ = Kind::kNone;
  std::string final_path_;
  std::function<void(const std::string&)> done_;
  bool walk_done_ = false;     // the snapshot is written; the writer finishes the file
  bool step_pending_ = false;  // a step is posted to the loop or on a timer
  uint64_t generation_ = 0;    // of the job the posted steps belong to
  int64_t start_ms_ = 0;
  uint64_t keys_total_ = 0;
};

}  // namespace keyward
