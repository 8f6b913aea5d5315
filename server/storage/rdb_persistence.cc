#include "server/storage/rdb_persistence.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "server/coordination/lock_manager.h"
#include "server/core/strings.h"
#include "server/engine/host.h"
#include "server/engine/stats.h"
#include "server/persistence/rdb_codec.h"
#include "server/scripting/function_engine.h"
#include "server/storage/mapped_file.h"
#include "server/storage/rdb_format.h"
#include "server/storage/rdb_loader.h"

namespace keyward {
namespace {

// Redis's CONFIG_BGSAVE_RETRY_DELAY: after a failed background save, save points wait this long.
constexpr int64_t kBgsaveRetryDelaySecs = 5;

constexpr std::string_view kAuxFenceFloor = "keyward-fence-floor";
constexpr std::string_view kAuxFence = "keyward-fence";
constexpr std::string_view kAuxFenceEpoch = "keyward-fence-epoch";
constexpr std::string_view kAuxLongestLease = "keyward-lock-lease";

// The working directory, for Redis's error messages.
std::string WorkingDir() {
  char cwd[4096];
  return getcwd(cwd, sizeof(cwd)) != nullptr ? cwd : "unknown";
}

}  // namespace

RdbPersistence::RdbPersistence(Parts parts) : p_(parts) {
  // At start-up the dataset counts as saved (Redis's initServer).
  lastsave_ = NowSecs();
}

std::string RdbPersistence::TempPath() const { return "temp-" + std::to_string(getpid()) + ".rdb"; }

std::string RdbHeader(const FunctionEngine& functions, const LockManager& locks, bool aof_base,
                      bool with_functions) {
  std::string h;
  rdb::AppendMagic(h);
  rdb::AppendAux(h, "redis-ver", KEYWARD_REDIS_VERSION);
  rdb::AppendAux(h, "redis-bits", "64");
  rdb::AppendAux(h, "ctime", std::to_string(std::time(nullptr)));
  rdb::AppendAux(h, "used-mem", std::to_string(UsedMemoryBytes()));
  rdb::AppendAux(h, "aof-base", aof_base ? "1" : "0");
  // The fencing state: both floors, then every record (resource, counter, guard mark, the
  // fenced owner and its token).
  const FenceTable& fences = locks.fences();
  if (locks.epoch() > 0) rdb::AppendAux(h, kAuxFenceEpoch, std::to_string(locks.epoch()));
  if (locks.longest_lease_ms() > 0) {
    rdb::AppendAux(h, kAuxLongestLease, std::to_string(locks.longest_lease_ms()));
  }
  rdb::AppendAux(h, kAuxFenceFloor,
                 std::to_string(fences.floor()) + " " + std::to_string(fences.seen_floor()));
  fences.ForEach([&h](std::string_view resource, const FenceRecord& rec) {
    std::string blob;
    rdb::AppendString(blob, resource, false);
    rdb::AppendLength(blob, static_cast<uint64_t>(rec.counter));
    rdb::AppendLength(blob, static_cast<uint64_t>(rec.seen));
    rdb::AppendLength(blob, static_cast<uint64_t>(rec.fenced_token));
    rdb::AppendString(blob, rec.fenced_owner, false);
    rdb::AppendAux(h, kAuxFence, blob);
  });
  if (with_functions) {
    for (const auto& [name, library] : functions.libraries()) {
      rdb::AppendFunction(h, library.code);
    }
  }
  return h;
}

std::string RdbWithoutData(const ServerSettings& settings, const FunctionEngine& functions,
                           const LockManager& locks, bool with_functions) {
  std::string rdb = RdbHeader(functions, locks, /*aof_base=*/false, with_functions);
  rdb += static_cast<char>(rdb::kOpcodeEof);
  rdb::AppendLittleEndian(rdb, settings.rdbchecksum ? rdb::Crc64(0, rdb) : 0, 8);
  return rdb;
}

void SetRdbFormat(SnapshotJob::Request& r, const ServerSettings& settings,
                  const FunctionEngine& functions, const LockManager& locks, bool aof_base) {
  r.header = RdbHeader(functions, locks, aof_base);
  r.format = std::make_unique<RdbSnapshotFormat>(settings.rdbcompression);
  r.trailer = settings.rdbchecksum ? BackgroundFileWriter::Trailer::kCrc64
                                   : BackgroundFileWriter::Trailer::kZeroChecksum;
}

SnapshotJob::Request RdbPersistence::Request(std::string temp_path, std::string final_path) const {
  SnapshotJob::Request r;
  r.kind = SnapshotJob::Kind::kRdb;
  r.temp_path = std::move(temp_path);
  r.final_path = std::move(final_path);
  SetRdbFormat(r, p_.settings, p_.functions, p_.locks, /*aof_base=*/false);
  r.header += ReplicationAux();
  return r;
}

void RdbPersistence::AbandonBackgroundSave() {
  if (!bgsave_in_progress()) return;
  last_bgsave_time_sec_ = (p_.clock.NowMs() - p_.job.start_ms()) / 1000;
  p_.job.Abandon();
  if (on_background_done_) on_background_done_("the background save was abandoned", "");
}

bool RdbPersistence::Save() {
  // A foreground save replaces a background one (SHUTDOWN, FLUSHALL, DEBUG RELOAD).
  AbandonBackgroundSave();
  const std::string error = p_.job.RunForeground(Request(TempPath(), Path()));
  if (!error.empty()) {
    spdlog::warn("Write error saving DB on disk: {} (in server root dir {})", error, WorkingDir());
    return false;
  }
  spdlog::info("DB saved on disk");
  p_.propagation.set_dirty(0);
  lastsave_ = NowSecs();
  last_bgsave_ok_ = true;
  return true;
}

bool RdbPersistence::BackgroundSave() {
  if (p_.job.running()) return false;
  StartBackground();
  return true;
}

void RdbPersistence::StartBackground() {
  saves_++;
  dirty_at_bgsave_ = p_.propagation.dirty();
  last_bgsave_try_ = NowSecs();
  spdlog::info("Background saving started");
  SnapshotJob::Request request = Request(TempPath(), Path());
  request.done = [this](const std::string& error) { BackgroundDone(error); };
  if (auto error = p_.job.Start(std::move(request))) {
    // As a child that cannot open its file: the save fails.
    spdlog::warn("Failed opening the temp RDB file {} (in server root dir {}) for saving: {}",
                 TempPath(), WorkingDir(), *error);
    BackgroundDone(*error);
  }
}

void RdbPersistence::BackgroundDone(const std::string& error) {
  last_bgsave_time_sec_ = (p_.clock.NowMs() - p_.job.start_ms()) / 1000;
  if (error.empty()) {
    spdlog::info("Background saving terminated with success");
    const uint64_t dirty = p_.propagation.dirty();
    p_.propagation.set_dirty(dirty > dirty_at_bgsave_ ? dirty - dirty_at_bgsave_ : 0);
    lastsave_ = NowSecs();
    last_bgsave_ok_ = true;
  } else {
    spdlog::warn("Background saving error: {}", error);
    last_bgsave_ok_ = false;
  }
  if (on_background_done_) on_background_done_(error, Path());
}

void RdbPersistence::Cron() {
  if (p_.job.running()) return;
  const int64_t now = NowSecs();
  const bool may_retry = now - last_bgsave_try_ > kBgsaveRetryDelaySecs || last_bgsave_ok_;
  for (const auto& [seconds, changes] : p_.settings.save_params) {
    if (p_.propagation.dirty() >= static_cast<uint64_t>(changes) && now - lastsave_ > seconds &&
        may_retry) {
      spdlog::info("{} changes in {} seconds. Saving...", changes, seconds);
      StartBackground();
      return;
    }
  }
  if (bgsave_scheduled_ && may_retry) {
    bgsave_scheduled_ = false;
    StartBackground();
  }
}

void RdbPersistence::OnFlushAll() {
  AbandonBackgroundSave();
  if (!p_.settings.save_params.empty()) {
    // Save() resets the dirty counter; FLUSHALL must still count (it is propagated).
    const uint64_t dirty = p_.propagation.dirty();
    Save();
    p_.propagation.set_dirty(dirty);
  }
}

bool RdbPersistence::SaveOnShutdown(bool save, bool nosave) {
  if (bgsave_in_progress()) {
    spdlog::warn("There is a child saving an .rdb. Killing it!");
    AbandonBackgroundSave();
  }
  // A sentinel has no dataset to save (its state is in its configuration file).
  if (((!p_.settings.save_params.empty() && !nosave) || save) && !p_.settings.sentinel_mode) {
    spdlog::info("Saving the final RDB snapshot before exiting.");
    return Save();
  }
  return true;
}

std::optional<std::string> RdbPersistence::DiskError() const {
  if (p_.settings.stop_writes_on_bgsave_error && !p_.settings.save_params.empty() &&
      !last_bgsave_ok_) {
    return std::string(
        "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist "
        "to disk. Commands that may modify the data set are disabled, because this instance is "
        "configured to report errors during writes if RDB snapshotting fails "
        "(stop-writes-on-bgsave-error option). Please check the Redis logs for details about the "
        "RDB error.");
  }
  return std::nullopt;
}

RdbLoadResult LoadRdbDataset(std::string_view data, const RdbDatasetParts& p, bool allow_dup,
                             const RdbLoadHandlers& extra) {
  rdb::Reader in(data);
  return LoadRdbDataset(in, p, allow_dup, extra);
}

RdbLoadResult LoadRdbDataset(rdb::Reader& in, const RdbDatasetParts& p, bool allow_dup,
                             const RdbLoadHandlers& extra) {
  RdbLoadHandlers handlers;
  // MERGE replaces a library of the same name, as it replaces keys (Redis's RDBFLAGS_ALLOW_DUP).
  handlers.function = extra.function
                          ? extra.function
                          : [&p, allow_dup](std::string_view code) -> std::optional<std::string> {
    std::string error;
    if (p.functions.Load(code, allow_dup, &error).empty()) return error;
    return std::nullopt;
  };
  handlers.aux = [&p, &extra](std::string_view key, std::string_view value) {
    if (extra.aux) extra.aux(key, value);
    ApplyRdbAux(p.locks, key, value);
  };
  handlers.progress_interval =
      static_cast<size_t>(p.settings.loading_process_events_interval_bytes);
  handlers.progress = [&p, &extra](size_t loaded) {
    if (extra.progress) extra.progress(loaded);
    // Serve the clients (-LOADING) while the file loads, as Redis does.
    if (p.state.host != nullptr) p.state.host->ProcessEventsWhileBusy();
  };
  RdbLoadOptions options;
  options.verify_checksum = p.settings.rdbchecksum;
  options.allow_duplicates = allow_dup;
  options.key_delay_us = &p.settings.key_load_delay;
  // A replica keeps keys past their deadline: its master deletes them (Redis's iAmMaster()).
  options.drop_expired = !p.state.replica && p.settings.replicaof_host.empty();
  return LoadRdb(in, p.keyspace, p.settings, options, handlers);
}

void ApplyRdbAux(LockManager& locks, std::string_view key, std::string_view value) {
  if (key == kAuxFenceEpoch) {
    int64_t epoch = 0;
    if (ParseInt64(value, &epoch) && epoch >= 0) locks.ApplyEpoch(epoch, 0);
    return;
  }
  if (key == kAuxLongestLease) {
    int64_t ms = 0;
    if (ParseInt64(value, &ms) && ms >= 0) locks.ApplyLongestLease(ms);
    return;
  }
  if (key == kAuxFenceFloor) {
    int64_t floor = 0, seen_floor = 0;
    std::string text(value);
    if (std::sscanf(text.c_str(), "%ld %ld", &floor, &seen_floor) == 2 && floor >= 0 &&
        seen_floor >= 0 && floor <= kMaxToken && seen_floor <= kMaxToken) {
      locks.ApplyFloor(floor, seen_floor, {});
    }
    return;
  }
  if (key == kAuxFence) {
    rdb::Reader in(value);
    auto resource = in.String();
    auto counter = in.Len();
    auto seen = in.Len();
    auto token = in.Len();
    auto owner = in.String();
    if (!resource || !counter || !seen || !token || !owner ||
        *counter > static_cast<uint64_t>(kMaxToken) || *seen > static_cast<uint64_t>(kMaxToken) ||
        *token > static_cast<uint64_t>(kMaxToken)) {
      spdlog::warn("Ignoring a malformed {} AUX field", kAuxFence);
      return;
    }
    FenceRecord rec;
    rec.counter = static_cast<int64_t>(*counter);
    rec.seen = static_cast<int64_t>(*seen);
    rec.fenced_token = static_cast<int64_t>(*token);
    rec.fenced_owner = std::move(*owner);
    locks.ApplyRecord(*resource, rec);
  }
}

std::optional<std::string> RdbPersistence::Load(bool allow_dup) {
  MappedFile file;
  if (auto error = file.Open(Path())) return "Fatal error loading the DB: " + *error + ". Exiting.";
  if (!file.exists()) return std::nullopt;
  rdb::Reader in(file.view());
  return LoadFrom(in, file.view().size(), allow_dup);
}

std::optional<std::string> RdbPersistence::LoadFrom(rdb::Reader& in, uint64_t total_bytes,
                                                    bool allow_dup, const AsyncTarget* async) {
  const int64_t start_us = p_.clock.MonotonicUs();
  loading_start_time_ = NowSecs();
  loading_total_bytes_ = total_bytes;
  loading_loaded_bytes_ = 0;
  loading_rdb_used_mem_ = 0;
  (async != nullptr ? p_.state.async_loading : p_.state.loading) = true;
  RdbLoadHandlers extra;
  if (async != nullptr) {
    // The libraries replace the current ones only once the whole RDB is in.
    extra.function = [async](std::string_view code) -> std::optional<std::string> {
      async->functions->emplace_back(code);
      return std::nullopt;
    };
  }
  loaded_repl_ = ReplicationInfo{};
  extra.aux = [this](std::string_view key, std::string_view value) {
    if (key == "used-mem") loading_rdb_used_mem_ = std::atoll(std::string(value).c_str());
    int64_t n;
    if (key == "repl-stream-db" && ParseInt64(value, &n) && n >= 0 && n < p_.keyspace.db_count()) {
      loaded_repl_.stream_db = n;
    }
    if (key == "repl-id" && value.size() == 40) loaded_repl_.replid = value;
    if (key == "repl-offset" && ParseInt64(value, &n) && n >= 0) loaded_repl_.offset = n;
  };
  extra.progress = [this](size_t loaded) {
    loading_loaded_bytes_ = loaded;
    if (loading_progress_) loading_progress_();
  };
  RdbLoadResult result =
      LoadRdbDataset(in,
                     {p_.settings, p_.state, async != nullptr ? *async->keyspace : p_.keyspace,
                      p_.functions, p_.locks},
                     allow_dup, extra);
  p_.state.loading = false;
  p_.state.async_loading = false;
  loading_loaded_bytes_ = loading_total_bytes_;
  if (result.error) return *result.error;
  if (!result.redis_ver.empty())
    spdlog::info("Loading RDB produced by version {}", result.redis_ver);
  if (result.ctime >= 0) {
    const int64_t age = static_cast<int64_t>(std::time(nullptr)) - result.ctime;
    spdlog::info("RDB age {} seconds", age < 0 ? 0 : age);
  }
  if (result.used_mem >= 0) {
    spdlog::info("RDB memory usage when created {:.2f} Mb",
                 static_cast<double>(result.used_mem) / (1024 * 1024));
  }
  if (result.empty_keys_skipped > 0) {
    spdlog::info("Done loading RDB, keys loaded: {}, keys expired: {}, empty keys skipped: {}.",
                 result.keys_loaded, result.keys_expired, result.empty_keys_skipped);
  } else {
    spdlog::info("Done loading RDB, keys loaded: {}, keys expired: {}.", result.keys_loaded,
                 result.keys_expired);
  }
  last_load_keys_loaded_ = result.keys_loaded;
  last_load_keys_expired_ = result.keys_expired;
  spdlog::info("DB loaded from disk: {:.3f} seconds",
               static_cast<double>(p_.clock.MonotonicUs() - start_us) / 1e6);
  return std::nullopt;
}

std::optional<std::string> RdbPersistence::LoadAtStartup() { return Load(false); }

std::optional<std::string> RdbPersistence::LoadReceived(int64_t* repl_stream_db,
                                                        std::function<void()> progress) {
  loading_progress_ = std::move(progress);
  auto error = Load(false);
  loading_progress_ = nullptr;
  *repl_stream_db = loaded_repl_.stream_db;
  return error;
}

std::optional<std::string> RdbPersistence::LoadStream(rdb::Reader& in, uint64_t total_bytes,
                                                      int64_t* repl_stream_db,
                                                      std::function<void()> progress,
                                                      const AsyncTarget* async) {
  loading_progress_ = std::move(progress);
  auto error = LoadFrom(in, total_bytes, false, async);
  loading_progress_ = nullptr;
  *repl_stream_db = loaded_repl_.stream_db;
  return error;
}

RdbPersistence::ReloadOutcome RdbPersistence::Reload(bool merge, bool flush, bool save) {
  if (save && !Save()) return ReloadOutcome::kSaveFailed;
  if (flush) {
    p_.keyspace.FlushAll(false);
    p_.functions.Flush();
  }
  if (auto error = Load(merge)) {
    spdlog::warn("{}", *error);
    return ReloadOutcome::kLoadFailed;
  }
  spdlog::warn("DB reloaded by DEBUG RELOAD");
  return ReloadOutcome::kOk;
}

RdbPersistence::Info RdbPersistence::info() const {
  Info i;
  i.loading = p_.state.loading;
  i.async_loading = p_.state.async_loading;
  i.loading_start_time = loading_start_time_;
  i.loading_total_bytes = loading_total_bytes_;
  i.loading_rdb_used_mem = loading_rdb_used_mem_;
  i.loading_loaded_bytes = loading_loaded_bytes_;
  i.lastsave = lastsave_;
  i.last_bgsave_ok = last_bgsave_ok_;
  i.last_bgsave_time_sec = last_bgsave_time_sec_;
  i.current_bgsave_time_sec =
      bgsave_in_progress() ? (p_.clock.NowMs() - p_.job.start_ms()) / 1000 : -1;
  i.saves = saves_;
  i.last_load_keys_loaded = last_load_keys_loaded_;
  i.last_load_keys_expired = last_load_keys_expired_;
  if (p_.job.running()) {
    // Redis reports the progress of any child (an AOF rewrite's too).
    i.current_save_keys_processed = p_.job.entries_written();
    i.current_save_keys_total = p_.job.keys_total();
  }
  return i;
}

}  // namespace keyward
