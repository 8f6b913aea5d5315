#include "server/storage/snapshot_job.h"

#include "server/engine/host.h"
#include "server/persistence/rdb_codec.h"

namespace keyward {
namespace {

constexpr size_t kStepEntries = 256;
constexpr int64_t kStepBudgetUs = 1000;
// Bytes the writer thread may lag behind before the snapshot waits for it.
constexpr size_t kMaxPendingBytes = 64 * 1024 * 1024;

}  // namespace

std::optional<std::string> SnapshotJob::Start(Request request) {
  generation_++;  // steps still posted for an earlier job do nothing
  step_pending_ = false;
  sink_ = std::move(request.sink);
  sink_backlog_ = std::move(request.sink_backlog);
  trailer_ = request.trailer;
  crc_ = 0;
  if (!sink_) {
    if (auto error = writer_.Open(request.temp_path, request.trailer)) return error;
  }
  kind_ = request.kind;
  final_path_ = std::move(request.final_path);
  done_ = std::move(request.done);
  walk_done_ = false;
  start_ms_ = p_.clock.NowMs();
  keys_total_ = p_.keyspace.TotalKeys();
  snapshot_.Start(
      std::move(request.header),
      [this](std::string chunk) {
        if (!sink_) return writer_.Write(std::move(chunk));
        if (trailer_ == BackgroundFileWriter::Trailer::kCrc64) crc_ = rdb::Crc64(crc_, chunk);
        sink_(chunk);
      },
      std::move(request.format));
  Step();
  return std::nullopt;
}

bool SnapshotJob::OutputHasRoom() const {
  if (sink_) return !sink_backlog_ || sink_backlog_() <= kMaxSinkBacklog;
  return writer_.pending_bytes() <= kMaxPendingBytes;
}

void SnapshotJob::WalkDone() {
  walk_done_ = true;
  if (!sink_) {
    writer_.Finish(final_path_);
    return;  // the cron sees the file done
  }
  // The checksum (or its 8 zero bytes), then the requester hears of it from the loop, not from
  // inside whatever ran this step (Start itself, for a small dataset).
  if (trailer_ != BackgroundFileWriter::Trailer::kNone) {
    std::string trailer;
    rdb::AppendLittleEndian(trailer, trailer_ == BackgroundFileWriter::Trailer::kCrc64 ? crc_ : 0,
                            8);
    sink_(trailer);
  }
  if (p_.state.host != nullptr) {
    p_.state.host->Post([this, gen = generation_] {
      if (gen == generation_ && running() && walk_done_) Report("");
    });
  }
}

std::string SnapshotJob::RunForeground(Request request) {
  if (running() && sink_) {
    // A diskless sync: its replicas get the rest now.
    if (!walk_done_) {
      snapshot_.Finish();
      WalkDone();
    }
    Report("");
  } else if (running()) {
    if (!walk_done_) {
      while (!snapshot_.Step(kStepEntries)) writer_.WaitPendingBelow(kMaxPendingBytes);
      writer_.Finish(final_path_);
    }
    Report(writer_.Wait());
  }
  generation_++;
  sink_ = nullptr;
  sink_backlog_ = nullptr;
  if (auto error = writer_.Open(request.temp_path, request.trailer)) return *error;
  // Nothing else runs until it is written; the walk waits for the disk whenever the writer
  // thread is too far behind.
  snapshot_.Start(
      std::move(request.header),
      [this](std::string chunk) {
        writer_.Write(std::move(chunk));
        writer_.WaitPendingBelow(kMaxPendingBytes);
      },
      std::move(request.format));
  snapshot_.Finish();
  writer_.Finish(request.final_path);
  return writer_.Wait();
}

void SnapshotJob::Abandon() {
  if (!running()) return;
  snapshot_.Discard();
  if (!sink_) writer_.Cancel();
  sink_ = nullptr;
  sink_backlog_ = nullptr;
  kind_ = Kind::kNone;
  walk_done_ = false;
  done_ = nullptr;
}

void SnapshotJob::Report(const std::string& error) {
  kind_ = Kind::kNone;
  sink_ = nullptr;
  sink_backlog_ = nullptr;
  walk_done_ = false;
  auto done = std::move(done_);
  done_ = nullptr;
  if (done) done(error);
}

void SnapshotJob::Step() {
  step_pending_ = false;
  if (!running() || walk_done_) return;
  const int64_t delay_us = p_.settings.rdb_key_save_delay;
  const int64_t start_us = p_.clock.MonotonicUs();
  while (OutputHasRoom()) {
    if (snapshot_.Step(delay_us > 0 ? 1 : kStepEntries)) return WalkDone();
    if (delay_us > 0 || p_.clock.MonotonicUs() - start_us >= kStepBudgetUs) break;
  }
  step_pending_ = true;
  if (delay_us > 0 || !OutputHasRoom()) {
    // rdb-key-save-delay: one key per delay; or the disk (or the replicas) is behind: look
    // again in a millisecond.
    const int64_t delay_ms = delay_us > 0 ? (delay_us + 999) / 1000 : 1;
    p_.timers.Schedule(p_.clock.NowMs() + delay_ms, [this, gen = generation_] {
      if (gen == generation_) Step();
    });
  } else if (p_.state.host != nullptr) {
    p_.state.host->Post([this, gen = generation_] {
      if (gen == generation_) Step();
    });
  } else {
    step_pending_ = false;  // no event loop (in-process tests): the cron steps
  }
}

void SnapshotJob::Cron() {
  if (!running()) return;
  if (!walk_done_ && !step_pending_) Step();
  if (walk_done_) {
    if (sink_) return Report("");
    if (auto result = writer_.Poll()) Report(*result);
  }
}

}  // namespace keyward
