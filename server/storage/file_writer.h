// Writes a file on a thread of its own, so the event loop never waits on the disk: the loop hands
// over chunks in order; the thread computes the running CRC64 (Redis's RDB checksum), writes
// them, and at the end appends the checksum, fsyncs the file, renames it over its target and
// fsyncs the directory (Redis's rdbSave sequence). Only SAVE waits for it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace keyward {

class BackgroundFileWriter {
 public:
  BackgroundFileWriter() = default;
  ~BackgroundFileWriter();
  BackgroundFileWriter(const BackgroundFileWriter&) = delete;
  BackgroundFileWriter& operator=(const BackgroundFileWriter&) = delete;

  // What follows the last chunk: an RDB file's CRC64 of everything written, its 8 zero bytes
  // ("not checked", rdbchecksum no), or nothing (an AOF of commands).
  enum class Trailer { kCrc64, kZeroChecksum, kNone };
  // Creates `temp_path` and starts the thread; the error text on failure.
  std::optional<std::string> Open(const std::string& temp_path, Trailer trailer);
  bool is_open() const { return thread_.joinable(); }
  void Write(std::string chunk);
  // Bytes handed over and not yet written (the snapshot slows down past a limit).
  size_t pending_bytes() const { return pending_.load(std::memory_order_relaxed); }
  uint64_t written_bytes() const { return written_.load(std::memory_order_relaxed); }
  // Blocks until at most `bytes` are pending (a foreground SAVE keeps its buffers bounded).
  void WaitPendingBelow(size_t bytes);
  // Everything was handed over: the thread appends the checksum, syncs and renames the file to
  // `final_path`.
  void Finish(const std::string& final_path);
  // Once the thread is done: "" on success, else what failed (the temp file is then removed).
  // nullopt while it runs. The writer can be opened again after a result was taken.
  std::optional<std::string> Poll();
  // Blocks until the thread is done; as Poll.
  std::string Wait();
  // Stops at once and removes the temp file.
  void Cancel();

 private:
  void Run();
  void Join();

  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable drained_;
  std::deque<std::string> queue_;
  bool finishing_ = false;
  bool cancelled_ = false;
  std::string final_path_;
  std::string temp_path_;
  Trailer trailer_ = Trailer::kCrc64;
  int fd_ = -1;
  std::atomic<size_t> pending_{0};
  std::atomic<uint64_t> written_{0};
  std::atomic<bool> done_{false};
  std::string error_;
};

}  // namespace keyward
