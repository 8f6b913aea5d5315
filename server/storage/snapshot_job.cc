#include "server/storage/snapshot_job.h"

#include "server/engine/host.h"

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
  if (auto error = writer_.Open(request.temp_path, request.trailer)) return error;
  kind_ = request.kind;
  final_path_ = std::move(request.final_path);
  done_ = std::move(request.done);
  walk_done_ = false;
  start_ms_ = p_.clock.NowMs();
  keys_total_ = p_.keyspace.TotalKeys();
  snapshot_.Start(
      std::move(request.header), [this](std::string chunk) { writer_.Write(std::move(chunk)); },
      std::move(request.format));
  Step();
  return std::nullopt;
}

std::string SnapshotJob::RunForeground(Request request) {
  if (running()) {
    if (!walk_done_) {
      while (!snapshot_.Step(kStepEntries)) writer_.WaitPendingBelow(kMaxPendingBytes);
      writer_.Finish(final_path_);
    }
    Report(writer_.Wait());
  }
  generation_++;
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
  writer_.Cancel();
  kind_ = Kind::kNone;
  walk_done_ = false;
  done_ = nullptr;
}

void SnapshotJob::Report(const std::string& error) {
  kind_ = Kind::kNone;
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
  while (writer_.pending_bytes() <= kMaxPendingBytes) {
    if (snapshot_.Step(delay_us > 0 ? 1 : kStepEntries)) {
      walk_done_ = true;
      writer_.Finish(final_path_);
      return;  // the cron sees the file done
    }
    if (delay_us > 0 || p_.clock.MonotonicUs() - start_us >= kStepBudgetUs) break;
  }
  step_pending_ = true;
  if (delay_us > 0 || writer_.pending_bytes() > kMaxPendingBytes) {
    // rdb-key-save-delay: one key per delay; or the disk is behind: look again in a millisecond.
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
    if (auto result = writer_.Poll()) Report(*result);
  }
}

}  // namespace keyward
