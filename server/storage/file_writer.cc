#include "server/storage/file_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "server/persistence/rdb_codec.h"
#include "server/storage/file_io.h"

namespace keyward {

BackgroundFileWriter::~BackgroundFileWriter() { Cancel(); }

std::optional<std::string> BackgroundFileWriter::Open(const std::string& temp_path,
                                                      Trailer trailer) {
  Join();
  fd_ = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) return std::string(std::strerror(errno));
  temp_path_ = temp_path;
  trailer_ = trailer;
  finishing_ = cancelled_ = false;
  error_.clear();
  queue_.clear();
  pending_ = 0;
  written_ = 0;
  done_ = false;
  thread_ = std::thread([this] { Run(); });
  return std::nullopt;
}

void BackgroundFileWriter::Write(std::string chunk) {
  if (chunk.empty()) return;
  pending_.fetch_add(chunk.size(), std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(chunk));
  }
  cv_.notify_one();
}

void BackgroundFileWriter::WaitPendingBelow(size_t bytes) {
  std::unique_lock<std::mutex> lock(mu_);
  drained_.wait(lock, [&] { return pending_.load(std::memory_order_relaxed) <= bytes; });
}

void BackgroundFileWriter::Finish(const std::string& final_path) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    final_path_ = final_path;
    finishing_ = true;
  }
  cv_.notify_one();
}

void BackgroundFileWriter::Run() {
  uint64_t crc = 0;
  std::string error;
  for (;;) {
    std::string chunk;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return !queue_.empty() || finishing_ || cancelled_; });
      if (cancelled_) break;
      if (queue_.empty()) break;  // finishing, and everything is written
      chunk = std::move(queue_.front());
      queue_.pop_front();
    }
    if (error.empty()) {
      if (trailer_ == Trailer::kCrc64) crc = rdb::Crc64(crc, chunk);
      int err = 0;
      written_.fetch_add(WriteFully(fd_, chunk, &err), std::memory_order_relaxed);
      if (err != 0) error = std::strerror(err);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      pending_.fetch_sub(chunk.size(), std::memory_order_relaxed);
    }
    drained_.notify_all();
  }
  bool cancelled;
  std::string final_path;
  {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled = cancelled_;
    final_path = final_path_;
  }
  if (!cancelled && error.empty()) {
    std::string footer;
    if (trailer_ != Trailer::kNone) {
      rdb::AppendLittleEndian(footer, trailer_ == Trailer::kCrc64 ? crc : 0, 8);
    }
    int err = 0;
    WriteFully(fd_, footer, &err);
    if (err != 0) {
      error = std::strerror(err);
    } else if (::fsync(fd_) != 0) {
      error = std::strerror(errno);
    }
  }
  ::close(fd_);
  fd_ = -1;
  if (!cancelled && error.empty()) {
    if (::rename(temp_path_.c_str(), final_path.c_str()) != 0) {
      error = std::strerror(errno);
    } else {
      SyncDirectoryOf(final_path, &error);
    }
  }
  if (cancelled || !error.empty()) ::unlink(temp_path_.c_str());
  {
    std::lock_guard<std::mutex> lock(mu_);
    error_ = cancelled ? std::string("cancelled") : error;
  }
  done_.store(true, std::memory_order_release);
}

std::optional<std::string> BackgroundFileWriter::Poll() {
  if (!thread_.joinable() || !done_.load(std::memory_order_acquire)) return std::nullopt;
  thread_.join();
  return error_;
}

std::string BackgroundFileWriter::Wait() {
  if (!thread_.joinable()) return error_;
  thread_.join();
  return error_;
}

void BackgroundFileWriter::Cancel() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void BackgroundFileWriter::Join() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace keyward
