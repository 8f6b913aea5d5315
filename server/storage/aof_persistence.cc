#include "server/storage/aof_persistence.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "server/coordination/lock_manager.h"
#include "server/core/resp.h"
#include "server/core/strings.h"
#include "server/engine/capture_transport.h"
#include "server/engine/client.h"
#include "server/engine/executor.h"
#include "server/engine/host.h"
#include "server/scripting/function_engine.h"
#include "server/storage/aof_format.h"
#include "server/storage/aof_loader.h"
#include "server/storage/file_io.h"
#include "server/storage/mapped_file.h"
#include "server/storage/rdb_loader.h"
#include "server/storage/rdb_persistence.h"

namespace keyward {
namespace {

using Fsync = ServerSettings::AppendFsync;

// Redis's AOF_REWRITE_LIMITE_THRESHOLD and AOF_REWRITE_LIMITE_MAX_MINUTES.
constexpr uint64_t kRewriteLimitThreshold = 3;
constexpr int kRewriteLimitMaxMinutes = 60;
constexpr int64_t kWriteErrorLogRate = 30;  // seconds between two write error lines

bool Exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

bool IsDir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The size of a file, or -1 with errno set.
int64_t FileSize(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.st_size);
}

bool IsFenceRecord(const Argv& argv) { return !argv.empty() && IsCoordinationRecord(argv[0]); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// AofSyncThread

AofSyncThread::AofSyncThread() {
  thread_ = std::thread([this] { Run(); });
}

AofSyncThread::~AofSyncThread() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void AofSyncThread::Sync(int fd, bool close) {
  pending_++;
  {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.emplace_back(fd, close);
  }
  cv_.notify_one();
}

std::string AofSyncThread::error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

void AofSyncThread::WaitIdle() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_.wait(lock, [this] { return pending_.load() == 0; });
}

void AofSyncThread::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
    if (jobs_.empty()) return;  // stopping, nothing left
    auto [fd, close] = jobs_.front();
    jobs_.pop_front();
    lock.unlock();
    const bool ok = ::fdatasync(fd) == 0 || errno == EBADF || errno == EINVAL;
    const std::string error = ok ? std::string() : std::string(std::strerror(errno));
    if (close) ::close(fd);
    lock.lock();
    if (!ok) {
      spdlog::warn("Fail to fsync the AOF file: {}", error);
      error_ = error;
    } else {
      error_.clear();
    }
    failed_.store(!ok, std::memory_order_relaxed);
    pending_--;
    idle_.notify_all();
  }
}

// ---------------------------------------------------------------------------------------------
// AofPersistence

AofPersistence::AofPersistence(Parts parts) : p_(parts) {}

AofPersistence::~AofPersistence() {
  sync_.WaitIdle();  // no sync queued on a descriptor closed here
  if (fd_ >= 0) ::close(fd_);
}

std::string AofPersistence::Dir() const { return p_.settings.appenddirname; }

std::string AofPersistence::TempIncrName() const {
  return "temp-" + p_.settings.appendfilename + ".incr";
}

std::optional<std::string> AofPersistence::OpenForAppend(const std::string& name, bool truncate) {
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : O_APPEND);
  int fd = ::open(PathOf(name).c_str(), flags, 0644);
  if (fd < 0) {
    return "Can't open the append-only file " + name + ": " + std::strerror(errno);
  }
  if (fd_ >= 0) {
    // fsynced and closed in the background: in everysec the sync may come late, in always the
    // file is already synced.
    sync_.Sync(fd_, /*close=*/true);
    fsync_offset_ = current_size_;
    last_fsync_ = NowSecs();
  }
  fd_ = fd;
  last_incr_size_ = 0;
  // The new file starts with a SELECT of its own.
  p_.propagation.ForceSelect();
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Appending

bool AofPersistence::appending() const {
  return state_ == State::kOn || (state_ == State::kWaitRewrite && job_kind_running());
}

void AofPersistence::OnPending() {
  if (appending()) ScheduleFlush();
}

void AofPersistence::OnCommand(const Argv& argv) {
  if (!appending()) {
    if (gate_held_) ScheduleFlush();  // the unit that held it ended: let its output go
    return;
  }
  if (p_.settings.aof_timestamp_enabled) {
    const int64_t now = NowSecs();
    if (now > last_timestamp_) {
      last_timestamp_ = now;
      aof::AppendTimestamp(buf_, now);
    }
  }
  AppendArrayHeader(buf_, argv.size());
  for (const std::string& a : argv) AppendBulk(buf_, a);
  if (IsFenceRecord(argv)) must_sync_ = true;
  ScheduleFlush();
}

void AofPersistence::ScheduleFlush() {
  if (flush_posted_) return;
  ServerHost* host = p_.state.host;
  if (host == nullptr) return Flush();  // no event loop: at once
  flush_posted_ = true;
  // No reply of this turn goes out before the buffer is written (and synced when it must be).
  if (!gate_held_) {
    gate_held_ = true;
    host->HoldOutput();
  }
  host->Post([this, host] {
    // When a sync will follow, one more turn of the queue first: the connections whose requests
    // arrived while this turn's were handled join the same group commit. A write alone is not
    // worth the wait.
    const bool syncing =
        must_sync_ || static_cast<Fsync>(p_.settings.appendfsync) == Fsync::kAlways;
    if (syncing) {
      host->Post([this] { FlushAndRelease(); });
    } else {
      FlushAndRelease();
    }
  });
}

void AofPersistence::FlushAndRelease() {
  flush_posted_ = false;
  Flush();
  // Run from inside a unit that holds effects (a busy script that wrote, serving other clients):
  // they are not in the buffer yet, and nothing may go out before they are. The unit's end
  // reaches OnCommand, whose flush opens the gate. A unit with nothing pending (a read-only
  // script after a write of the same turn) has no such end: release now.
  if (!(p_.propagation.in_unit() && p_.propagation.has_pending())) ReleaseGate();
}

void AofPersistence::ReleaseGate() {
  if (!gate_held_) return;
  gate_held_ = false;
  if (p_.state.host != nullptr) p_.state.host->ReleaseOutput();
}

void AofPersistence::Flush() {
  if (fd_ < 0) {
    buf_.clear();
    return;
  }
  const auto policy = static_cast<Fsync>(p_.settings.appendfsync);
  const int64_t now = NowSecs();
  if (!buf_.empty()) {
    int error = 0;
    size_t written = WriteFully(fd_, buf_, &error);
    if (written != buf_.size()) {
      const bool can_log = now - last_write_error_log_ > kWriteErrorLogRate;
      if (can_log) last_write_error_log_ = now;
      if (written == 0) {
        if (can_log) spdlog::warn("Error writing to the AOF file: {}", std::strerror(error));
      } else {
        if (can_log) {
          spdlog::warn("Short write while writing to the AOF file: (nwritten={}, expected={})",
                       written, buf_.size());
        }
        // Take the partial command back out, so the file stays loadable.
        if (::ftruncate(fd_, static_cast<off_t>(last_incr_size_)) == 0) {
          written = 0;
        } else if (can_log) {
          spdlog::warn(
              "Could not remove short write from the append-only file.  Redis may refuse to load "
              "the AOF the next time it starts.  ftruncate: {}",
              std::strerror(errno));
        }
        error = ENOSPC;
      }
      last_write_error_ = std::strerror(error);
      if (policy == Fsync::kAlways || must_sync_) {
        // Replies wait in the output buffers and the dataset cannot be rolled back: with a
        // promise that acknowledged writes are on disk, the only way out is to stop.
        spdlog::critical(
            "Can't recover from AOF write error when the AOF fsync policy is 'always'. "
            "Exiting...");
        spdlog::shutdown();
        std::_Exit(1);
      }
      last_write_ok_ = false;
      if (written > 0) {
        current_size_ += written;
        last_incr_size_ += written;
        buf_.erase(0, written);
      }
      return;  // the cron tries again; writes are refused meanwhile (-MISCONF)
    }
    if (!last_write_ok_) {
      spdlog::warn("AOF write error looks solved, Redis can write again.");
      last_write_ok_ = true;
    }
    current_size_ += written;
    last_incr_size_ += written;
    if (buf_.capacity() > 64 * 1024) {
      std::string().swap(buf_);
    } else {
      buf_.clear();
    }
  } else if (!(must_sync_ || (policy == Fsync::kEverysec && fsync_offset_ != current_size_ &&
                              now > last_fsync_ && !sync_.busy()))) {
    return;
  }
  // A fencing record is synced whatever the policy (and whatever no-appendfsync-on-rewrite).
  if (!must_sync_ && p_.settings.no_appendfsync_on_rewrite && p_.job.running()) return;
  if (policy == Fsync::kAlways || must_sync_) {
    if (::fdatasync(fd_) != 0) {
      spdlog::critical(
          "Can't persist AOF for fsync error when the AOF fsync policy is 'always': {}. "
          "Exiting...",
          std::strerror(errno));
      spdlog::shutdown();
      std::_Exit(1);
    }
    must_sync_ = false;
    fsync_offset_ = current_size_;
    last_fsync_ = now;
  } else if (policy == Fsync::kEverysec && now > last_fsync_) {
    if (!sync_.busy()) {
      sync_.Sync(fd_, /*close=*/false);
      fsync_offset_ = current_size_;
    } else {
      delayed_fsync_++;
    }
    last_fsync_ = now;
  }
}

bool AofPersistence::PrepareForShutdown(bool force) {
  if (job_kind_running()) {
    if (state_ == State::kWaitRewrite) {
      if (!force) {
        spdlog::warn("Writing initial AOF, can't exit.");
        return false;
      }
      spdlog::warn("Writing initial AOF. Exit anyway.");
    }
    spdlog::warn("There is a child rewriting the AOF. Killing it!");
    p_.job.Abandon();
  }
  if (state_ == State::kOff || fd_ < 0) return true;
  spdlog::info("Calling fsync() on the AOF file.");
  Flush();
  if (::fdatasync(fd_) != 0) spdlog::warn("Fail to fsync the AOF file: {}", std::strerror(errno));
  sync_.WaitIdle();
  fsync_offset_ = current_size_;
  return true;
}

std::optional<std::string> AofPersistence::WriteError() const {
  if (state_ == State::kOff || (last_write_ok_ && !sync_.failed())) return std::nullopt;
  std::string error = !last_write_ok_ ? last_write_error_ : sync_.error();
  if (error.empty()) return std::nullopt;
  return "MISCONF Errors writing to the AOF file: " + error;
}

// ---------------------------------------------------------------------------------------------
// Start, stop, rewrite

bool AofPersistence::Start() {
  if (state_ != State::kOff) return true;
  state_ = State::kWaitRewrite;
  p_.propagation.AddConsumer(this);
  if (p_.job.running()) {
    rewrite_scheduled_ = true;
    spdlog::warn(
        "AOF was enabled but there is already another background operation. An AOF background "
        "was scheduled to start when possible.");
  } else if (!StartRewrite()) {
    state_ = State::kOff;
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
      ::unlink(PathOf(TempIncrName()).c_str());
    }
    p_.propagation.RemoveConsumer(this);
    spdlog::warn(
        "Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. "
        "Check the above logs for more info about the error.");
    return false;
  }
  last_fsync_ = NowSecs();
  if (!last_write_ok_) {
    spdlog::warn("AOF reopen, just ignore the last error.");
    last_write_ok_ = true;
  }
  return true;
}

void AofPersistence::Stop() {
  if (state_ == State::kOff) return;
  const bool waiting = state_ == State::kWaitRewrite;
  Flush();
  if (fd_ >= 0) {
    if (::fdatasync(fd_) != 0) {
      spdlog::warn("Fail to fsync the AOF file: {}", std::strerror(errno));
    } else {
      fsync_offset_ = current_size_;
      last_fsync_ = NowSecs();
    }
    ::close(fd_);
    fd_ = -1;
    // The commands since CONFIG SET appendonly yes: without their BASE they are nothing.
    if (waiting) ::unlink(PathOf(TempIncrName()).c_str());
  }
  state_ = State::kOff;
  rewrite_scheduled_ = false;
  last_incr_size_ = 0;
  must_sync_ = false;
  // What comes next is not in the directory: a start from it must not trust its counters alone.
  if (!manifest_.empty() && !manifest_.stale()) {
    manifest_.set_stale(true);
    if (auto error = PersistAofManifest(manifest_, Dir(), p_.settings.appendfilename)) {
      spdlog::warn("{}", *error);
    }
  }
  if (job_kind_running()) {
    spdlog::info("Killing running AOF rewrite child");
    p_.job.Abandon();
  }
  buf_.clear();
  p_.propagation.RemoveConsumer(this);
  if (!flush_posted_) ReleaseGate();  // else the posted flush does
}

AofPersistence::RewriteOutcome AofPersistence::BackgroundRewrite(bool in_exec) {
  if (job_kind_running()) return RewriteOutcome::kInProgress;
  if (p_.job.running() || in_exec) {
    rewrite_scheduled_ = true;
    return RewriteOutcome::kScheduled;
  }
  return StartRewrite() ? RewriteOutcome::kStarted : RewriteOutcome::kFailed;
}

SnapshotJob::Request AofPersistence::RewriteRequest(const std::string& temp,
                                                    const std::string& final) const {
  SnapshotJob::Request r;
  r.kind = SnapshotJob::Kind::kAofRewrite;
  r.temp_path = temp;
  r.final_path = final;
  if (p_.settings.aof_use_rdb_preamble) {
    SetRdbFormat(r, p_.settings, p_.functions, p_.locks, /*aof_base=*/true);
  } else {
    if (p_.settings.aof_timestamp_enabled) aof::AppendTimestamp(r.header, std::time(nullptr));
    r.header += aof::DatasetPreamble(p_.functions, p_.locks);
    r.format = std::make_unique<AofSnapshotFormat>();
    r.trailer = BackgroundFileWriter::Trailer::kNone;
  }
  return r;
}

bool AofPersistence::StartRewrite() {
  if (p_.job.running()) return false;
  if (!IsDir(Dir()) && ::mkdir(Dir().c_str(), 0755) != 0) {
    spdlog::warn("Can't open or create append-only dir {}: {}", Dir(), std::strerror(errno));
    consecutive_failures_++;
    return false;
  }
  // The commands so far go to the current file; those from now on to a new INCR file, which
  // the new BASE (the dataset as it is now) will precede. Not while a write error keeps
  // commands in the buffer: the BASE would hold them and the new INCR repeat them.
  Flush();
  if (!buf_.empty()) {
    spdlog::warn("Can't rewrite the AOF while its buffer cannot be written");
    consecutive_failures_++;
    return false;
  }
  if (state_ == State::kWaitRewrite) {
    // The INCR file gets its name only when the rewrite succeeds.
    if (auto error = OpenForAppend(TempIncrName(), true)) {
      spdlog::warn("{}", *error);
      consecutive_failures_++;
      return false;
    }
  } else if (state_ == State::kOn) {
    AofManifest next = manifest_;
    const std::string name = next.NewIncr(p_.settings.appendfilename);
    const int previous = fd_;
    const uint64_t previous_size = last_incr_size_;
    fd_ = -1;
    auto error = OpenForAppend(name, true);
    if (!error) error = PersistAofManifest(next, Dir(), p_.settings.appendfilename);
    if (error) {
      spdlog::warn("{}", *error);
      if (fd_ >= 0) {
        ::close(fd_);
        ::unlink(PathOf(name).c_str());
      }
      fd_ = previous;
      last_incr_size_ = previous_size;
      p_.propagation.ForceSelect();
      consecutive_failures_++;
      return false;
    }
    if (previous >= 0) {
      sync_.Sync(previous, /*close=*/true);
      fsync_offset_ = current_size_;
      last_fsync_ = NowSecs();
    }
    manifest_ = std::move(next);
    spdlog::info("Creating AOF incr file {} on background rewrite", name);
  }
  // The name the new BASE will have: the manifest gives it when the rewrite succeeds.
  AofManifest next = manifest_;
  const std::string base =
      next.NewBase(p_.settings.appendfilename, p_.settings.aof_use_rdb_preamble);
  SnapshotJob::Request request =
      RewriteRequest("temp-rewriteaof-bg-" + std::to_string(getpid()) + ".aof", PathOf(base));
  const bool preamble = p_.settings.aof_use_rdb_preamble;
  request.done = [this, preamble](const std::string& error) {
    if (error.empty()) {
      RewriteDoneOk(preamble);
    } else {
      RewriteFailed(error);
    }
  };
  if (auto error = p_.job.Start(std::move(request))) {
    spdlog::warn("Can't rewrite append only file in background: {}", *error);
    consecutive_failures_++;
    return false;
  }
  rewrite_scheduled_ = false;
  rewrites_++;
  spdlog::info("Background append only file rewriting started");
  return true;
}

void AofPersistence::RewriteDoneOk(bool preamble) {
  last_rewrite_time_sec_ = (p_.clock.NowMs() - p_.job.start_ms()) / 1000;
  AofManifest next = manifest_;
  // The new BASE holds everything; with the AOF off, what follows it is missing again. An
  // instance not caught up since it started without its counters stays marked: its files hold
  // this life's counts, not the earlier lives' (docs/coordination.md).
  next.set_stale(state_ == State::kOff || p_.locks.Unsettled());
  const std::string base = next.NewBase(p_.settings.appendfilename, preamble);
  if (state_ == State::kWaitRewrite) {
    const std::string temp = TempIncrName();
    const std::string incr = next.NewIncr(p_.settings.appendfilename);
    if (::rename(PathOf(temp).c_str(), PathOf(incr).c_str()) != 0) {
      spdlog::warn("Error trying to rename the temporary AOF incr file {} into {}: {}", temp, incr,
                   std::strerror(errno));
      return RewriteFailed("rename");
    }
  }
  // The INCR file being written (the one just named, when enabling) stays; with the AOF off,
  // none does.
  next.MarkIncrAsHistory(state_ != State::kOff ? 1 : 0);
  if (auto error = PersistAofManifest(next, Dir(), p_.settings.appendfilename)) {
    spdlog::warn("{}", *error);
    return RewriteFailed(*error);
  }
  manifest_ = std::move(next);
  if (state_ == State::kWaitRewrite) {
    state_ = State::kOn;
    spdlog::info("Background AOF rewrite finished successfully");
  }
  DeleteHistory();
  // The sizes restart from what is on disk now.
  uint64_t total = 0;
  if (manifest_.base()) {
    total += static_cast<uint64_t>(std::max<int64_t>(0, FileSize(PathOf(manifest_.base()->name))));
  }
  for (const AofFileInfo& info : manifest_.incr()) {
    total += static_cast<uint64_t>(std::max<int64_t>(0, FileSize(PathOf(info.name))));
  }
  current_size_ = total;
  rewrite_base_size_ = current_size_;
  fsync_offset_ = current_size_;
  last_bgrewrite_ok_ = true;
  consecutive_failures_ = 0;
  spdlog::info("Background AOF rewrite terminated with success");
}

void AofPersistence::RewriteFailed(const std::string& error) {
  last_rewrite_time_sec_ = (p_.clock.NowMs() - p_.job.start_ms()) / 1000;
  last_bgrewrite_ok_ = false;
  consecutive_failures_++;
  spdlog::warn("Background AOF rewrite terminated with error: {}", error);
  if (state_ == State::kWaitRewrite) {
    const std::string temp = TempIncrName();
    spdlog::info("Removing the temp incr aof file {} in the background", temp);
    ::unlink(PathOf(temp).c_str());
    rewrite_scheduled_ = true;  // try again: the AOF cannot be on without a BASE
  }
}

void AofPersistence::DeleteHistory() {
  if (p_.settings.aof_disable_auto_gc || manifest_.history().empty()) return;
  std::vector<AofFileInfo> history = manifest_.TakeHistory();
  for (const AofFileInfo& info : history) {
    spdlog::info("Removing the history file {} in the background", info.name);
    ::unlink(PathOf(info.name).c_str());
  }
  if (auto error = PersistAofManifest(manifest_, Dir(), p_.settings.appendfilename)) {
    spdlog::warn("{}", *error);
  }
}

bool AofPersistence::RewriteLimited() {
  if (consecutive_failures_ < kRewriteLimitThreshold) {
    next_delay_minutes_ = 0;
    next_rewrite_time_ = 0;
    return false;
  }
  const int64_t now = NowSecs();
  if (next_rewrite_time_ != 0) {
    if (now < next_rewrite_time_) return true;
    next_rewrite_time_ = 0;
    return false;
  }
  next_delay_minutes_ = next_delay_minutes_ == 0 ? 1 : next_delay_minutes_ * 2;
  if (next_delay_minutes_ > kRewriteLimitMaxMinutes) next_delay_minutes_ = kRewriteLimitMaxMinutes;
  next_rewrite_time_ = now + next_delay_minutes_ * 60;
  spdlog::warn(
      "Background AOF rewrite has repeatedly failed and triggered the limit, will retry in {} "
      "minutes",
      next_delay_minutes_);
  return true;
}

void AofPersistence::Cron() {
  if (state_ == State::kOff && !rewrite_scheduled_) return;
  // A write that failed is tried again; an idle everysec file gets its sync.
  if (!flush_posted_ && state_ != State::kOff) Flush();
  if (p_.job.running()) return;
  if (rewrite_scheduled_ && !RewriteLimited()) {
    StartRewrite();
    return;
  }
  const int64_t perc = p_.settings.auto_aof_rewrite_percentage;
  if (state_ == State::kOn && perc > 0 &&
      current_size_ > static_cast<uint64_t>(p_.settings.auto_aof_rewrite_min_size)) {
    const uint64_t base = rewrite_base_size_ > 0 ? rewrite_base_size_ : 1;
    const int64_t growth = static_cast<int64_t>(current_size_ * 100 / base) - 100;
    if (growth >= perc && !RewriteLimited()) {
      spdlog::info("Starting automatic rewriting of AOF on {}% growth", growth);
      StartRewrite();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Loading

std::optional<std::string> AofPersistence::LoadFile(const AofFileInfo& info, bool last,
                                                    uint64_t* size, bool* truncated) {
  const std::string path = PathOf(info.name);
  MappedFile file;
  if (auto error = file.Open(path)) {
    return "Fatal error: can't open the append log file " + info.name + " for reading: " + *error;
  }
  if (!file.exists()) {
    return "The append log file " + info.name + " doesn't exist: " + std::strerror(ENOENT);
  }
  *size = file.view().size();
  CaptureTransport transport;
  Client client(0, &transport, p_.clock.NowMs());
  client.authenticated = true;
  AofReplayHandlers handlers;
  handlers.apply = [this, &client](CmdArgs args) {
    return p_.executor.Apply(CallerKind::kAofReplay, client, args);
  };
  handlers.known = [this](CmdArgs args) { return p_.executor.registry().FindFor(args) != nullptr; };
  handlers.load_rdb = [this, &info](std::string_view data,
                                    size_t* used) -> std::optional<std::string> {
    spdlog::info(info.name == p_.settings.appendfilename
                     ? "Reading RDB preamble from AOF file..."
                     : "Reading RDB base file on AOF loading...");
    RdbLoadResult result = LoadRdbDataset(
        data, {p_.settings, p_.state, p_.keyspace, p_.functions, p_.locks}, /*allow_dup=*/false);
    if (result.error) return result.error;
    *used = result.bytes_used;
    return std::nullopt;
  };
  handlers.progress = [this](size_t) {
    if (p_.state.host != nullptr) p_.state.host->ProcessEventsWhileBusy();
  };
  handlers.annotation = [this](std::string_view line) {
    if (line.substr(0, aof::kFenceFloorAnnotation.size()) != aof::kFenceFloorAnnotation) return;
    ApplyRdbAux(p_.locks, "keyward-fence-floor", line.substr(aof::kFenceFloorAnnotation.size()));
  };
  const int64_t start_us = p_.clock.MonotonicUs();
  AofReplayResult result = ReplayAof(file.view(), info.name, handlers);
  const char* kind = info.type == AofFileInfo::kBase ? "base" : "incr";
  switch (result.status) {
    case AofReplayResult::kOk:
    case AofReplayResult::kEmpty:
      break;
    case AofReplayResult::kFailed:
      return result.error;
    case AofReplayResult::kTruncated: {
      spdlog::warn("{}", result.error);
      if (!p_.settings.aof_load_truncated) {
        return "Unexpected end of file reading the append only file " + info.name +
               ". You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix "
               "<filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' "
               "configuration option to yes and restart the server.";
      }
      spdlog::warn("!!! Warning: short read while loading the AOF file {}!!!", info.name);
      if (!last) {
        // Only the last file may end early: one before it lost commands that later ones build
        // on. (Redis cuts it back first; Keyward leaves a file it refuses untouched.)
        return "Fatal error: the truncated file is not the last file";
      }
      spdlog::warn("!!! Truncating the AOF {} at offset {} !!!", info.name, result.valid_up_to);
      if (::truncate(path.c_str(), static_cast<off_t>(result.valid_up_to)) != 0) {
        return "Error truncating the AOF file " + info.name + ": " + std::strerror(errno);
      }
      *size = result.valid_up_to;
      *truncated = true;
      spdlog::warn("AOF {} loaded anyway because aof-load-truncated is enabled", info.name);
      break;
    }
  }
  spdlog::info("DB loaded from {} file {}: {:.3f} seconds", kind, info.name,
               static_cast<double>(p_.clock.MonotonicUs() - start_us) / 1e6);
  return std::nullopt;
}

std::optional<std::string> AofPersistence::Load(bool* truncated) {
  std::vector<const AofFileInfo*> files;
  if (manifest_.base()) files.push_back(&*manifest_.base());
  for (const AofFileInfo& info : manifest_.incr()) files.push_back(&info);
  // Every file named must exist; the total tells whether there is anything to load.
  uint64_t total = 0;
  for (const AofFileInfo* info : files) {
    const int64_t size = FileSize(PathOf(info->name));
    if (size < 0) {
      return "Unable to obtain the AOF file " + info->name +
             " length. stat: " + std::strerror(errno);
    }
    total += static_cast<uint64_t>(size);
  }
  if (total == 0) return std::nullopt;
  p_.state.loading = true;
  uint64_t loaded = 0, base_size = 0;
  for (size_t i = 0; i < files.size(); i++) {
    uint64_t size = 0;
    if (auto error = LoadFile(*files[i], i + 1 == files.size(), &size, truncated)) {
      p_.state.loading = false;
      return error;
    }
    if (files[i]->type == AofFileInfo::kBase) base_size = size;
    loaded += size;
  }
  p_.state.loading = false;
  current_size_ = loaded;
  rewrite_base_size_ = base_size;
  fsync_offset_ = current_size_;
  return std::nullopt;
}

std::optional<std::string> AofPersistence::ReadManifest() {
  const std::string manifest_name = p_.settings.appendfilename + ".manifest";
  manifest_ = AofManifest();
  if (!IsDir(Dir()) || !Exists(PathOf(manifest_name))) return std::nullopt;
  MappedFile file;
  if (auto error = file.Open(PathOf(manifest_name))) {
    return "Fatal error: can't open the AOF manifest file " + PathOf(manifest_name) +
           " for reading: " + *error;
  }
  if (!file.exists()) return std::nullopt;  // gone since the check: as if never there
  if (auto error = AofManifest::Parse(file.view(), &manifest_)) {
    return "\n*** FATAL AOF MANIFEST FILE ERROR ***\n" + *error;
  }
  return std::nullopt;
}

std::optional<std::string> AofPersistence::Reload() {
  if (state_ == State::kOn) Flush();
  p_.keyspace.FlushAll(false);
  p_.functions.Flush();
  if (auto error = ReadManifest()) return error;
  DeleteHistory();
  bool truncated = false;
  if (auto error = Load(&truncated)) return error;
  p_.propagation.set_dirty(0);
  return std::nullopt;
}

std::optional<std::string> AofPersistence::StartUp() {
  const std::string filename = p_.settings.appendfilename;
  // Read whatever the AOF is set to (as Redis): a rewrite must not reuse the names of files an
  // existing manifest names, and a directory this life does not append to must say so.
  if (auto error = ReadManifest()) return error;
  if (!p_.settings.appendonly) {
    if (!manifest_.empty() && !manifest_.stale()) {
      manifest_.set_stale(true);
      if (auto error = PersistAofManifest(manifest_, Dir(), filename)) {
        return "Can't mark the AOF directory " + Dir() +
               " as not appended to (a later start with appendonly yes would trust its fencing "
               "counters): " +
               *error;
      }
    }
    return std::nullopt;
  }
  // An AOF of Redis before 7.0 (one file in `dir`) moves into the directory as the BASE.
  bool adopted = false;
  if (Exists(filename)) {
    const bool adopt = !IsDir(Dir()) || manifest_.empty() ||
                       (manifest_.base() && manifest_.incr().empty() &&
                        manifest_.base()->name == filename && !Exists(PathOf(filename)));
    if (adopt) {
      if (!IsDir(Dir()) && ::mkdir(Dir().c_str(), 0755) != 0) {
        return "Can't open or create append-only dir " + Dir() + ": " + std::strerror(errno);
      }
      manifest_.AdoptOldStyle(filename);
      adopted = true;
      if (auto error = PersistAofManifest(manifest_, Dir(), filename)) return error;
      if (::rename(filename.c_str(), PathOf(filename).c_str()) != 0) {
        return "Error trying to move the old AOF file " + filename + " into dir " + Dir() + ": " +
               std::strerror(errno);
      }
      spdlog::info("Successfully migrated an old-style AOF file ({}) into the AOF directory ({}).",
                   filename, Dir());
    }
  }
  if (!manifest_.empty()) {
    // The files hold every fencing counter this instance issued (each synced before its reply)
    // unless the AOF was switched off at run time: then the boot floor stays.
    const int64_t boot_floor = p_.locks.fences().floor();
    if (!manifest_.stale() && !adopted) p_.locks.ForgetBootFloor();
    bool truncated = false;
    if (auto error = Load(&truncated)) return error;
    if (truncated) {
      // Cut back: what followed may have held fencing records (a corrupt length can cut a lot).
      // The boot floor stands in for them, in this life and, through the mark, the next ones
      // until a rewrite writes the floor into a BASE.
      p_.locks.ApplyFloor(boot_floor, 0, {});
      p_.locks.fences().set_settling(true);
      manifest_.set_stale(true);
    }
    p_.propagation.set_dirty(0);  // what was loaded is on disk
  }
  // Open for appending.
  if (!IsDir(Dir()) && ::mkdir(Dir().c_str(), 0755) != 0) {
    return "Can't open or create append-only dir " + Dir() + ": " + std::strerror(errno);
  }
  const bool had_incr = !manifest_.incr().empty();
  if (manifest_.empty()) {
    // An empty dataset gets a BASE at once, so the directory is complete from the start.
    const std::string base = manifest_.NewBase(filename, p_.settings.aof_use_rdb_preamble);
    const std::string error = p_.job.RunForeground(
        RewriteRequest("temp-rewriteaof-" + std::to_string(getpid()) + ".aof", PathOf(base)));
    if (!error.empty()) return "Can't create the AOF base file " + base + ": " + error;
    spdlog::info("Creating AOF base file {} on server start", base);
    // (As Redis, the sizes do not count it: aof_base_size stays 0 until a rewrite or a load.)
  }
  // Started without its counters (a new directory, or one cut short or marked), guarding its
  // restarts, and not caught up yet: the next start must not take these files for its whole
  // history either.
  if (p_.locks.Unsettled()) manifest_.set_stale(true);
  const std::string incr = manifest_.LastIncr(filename);
  if (auto error = OpenForAppend(incr, false)) return error;
  if (auto error = PersistAofManifest(manifest_, Dir(), filename)) return error;
  last_incr_size_ = static_cast<uint64_t>(std::max<int64_t>(0, FileSize(PathOf(incr))));
  fsync_offset_ = current_size_;
  spdlog::info("{} AOF incr file {} on server start", had_incr ? "Opening" : "Creating", incr);
  DeleteHistory();  // left by a crash after a rewrite, as Redis does at start-up
  if (state_ == State::kOff) p_.propagation.AddConsumer(this);
  state_ = State::kOn;
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// INFO

AofPersistence::Info AofPersistence::info() const {
  Info i;
  i.enabled = state_ != State::kOff;
  i.rewrite_in_progress = job_kind_running();
  i.rewrite_scheduled = rewrite_scheduled_;
  i.last_rewrite_time_sec = last_rewrite_time_sec_;
  i.current_rewrite_time_sec =
      job_kind_running() ? (p_.clock.NowMs() - p_.job.start_ms()) / 1000 : -1;
  i.last_bgrewrite_ok = last_bgrewrite_ok_;
  i.last_write_ok = last_write_ok_ && !sync_.failed();
  i.rewrites = rewrites_;
  i.consecutive_failures = consecutive_failures_;
  i.current_size = current_size_;
  i.base_size = rewrite_base_size_;
  i.buffer_length = buf_.size();
  i.pending_bio_fsync = sync_.busy();
  i.delayed_fsync = delayed_fsync_;
  return i;
}

}  // namespace keyward
