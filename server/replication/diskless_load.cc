#include "server/replication/diskless_load.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "server/scripting/function_engine.h"

namespace keyward {

namespace {

constexpr size_t kReadChunk = 64 * 1024;

}  // namespace

SocketRdbSource::~SocketRdbSource() {
  if (fd_ >= 0) ::close(fd_);
}

bool SocketRdbSource::Pull(std::string& buf, size_t want) {
  if (fd_ < 0) {
    error_ = std::strerror(EBADF);
    return false;
  }
  if (!initial_.empty()) {
    buf.append(initial_);
    initial_.clear();
    initial_.shrink_to_fit();
    return true;
  }
  if (limit_ == 0) return false;  // the announced size was read: the payload ends here
  // At most a chunk a call (the reader asks again): a corrupt length never sizes a buffer.
  size_t chunk = std::min(std::max(want, size_t{4096}), kReadChunk);
  if (limit_ > 0) chunk = std::min<size_t>(chunk, static_cast<size_t>(limit_));
  for (;;) {
    pollfd pfd{fd_, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(std::min<int64_t>(timeout_ms_, 1 << 30)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      error_ = "Timeout";
      return false;
    }
    if (ready < 0) {
      error_ = std::strerror(errno);
      return false;
    }
    const size_t old = buf.size();
    buf.resize(old + chunk);
    const ssize_t n = ::read(fd_, buf.data() + old, chunk);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      buf.resize(old);
      continue;
    }
    if (n <= 0) {
      buf.resize(old);
      error_ = n == 0 ? "connection lost" : std::strerror(errno);
      return false;
    }
    buf.resize(old + static_cast<size_t>(n));
    socket_bytes_ += n;
    if (limit_ > 0) limit_ -= n;
    return true;
  }
}

DatasetReplacement::DatasetReplacement(Mode mode, Keyspace& keyspace, FunctionEngine& functions,
                                       const ServerSettings& settings,
                                       std::function<void()> replaced)
    : mode_(mode),
      keyspace_(keyspace),
      functions_(functions),
      settings_(settings),
      replaced_(std::move(replaced)) {}

void DatasetReplacement::ClearServed() {
  keyspace_.FlushAll(settings_.replica_lazy_flush);
  functions_.Flush();
}

void DatasetReplacement::Begin() {
  switch (mode_) {
    case Mode::kFlush:
      ClearServed();
      break;
    case Mode::kSwapdb:
      saved_ =
          std::make_unique<Keyspace>(keyspace_.db_count(), 0x6b657977617264, nullptr, &settings_);
      for (int i = 0; i < keyspace_.db_count(); i++) keyspace_.db(i).Swap(saved_->db(i));
      saved_functions_ = functions_.library_count() > 0 ? functions_.Dump() : std::string();
      functions_.Flush();
      break;
    case Mode::kAsync:
      incoming_ = std::make_unique<Keyspace>(keyspace_.db_count(), 0x6e6577, nullptr, &settings_);
      incoming_->set_now_ms(keyspace_.now_ms());
      incoming_->set_expire_disabled(true);
      return;  // the served data set stays as it is
  }
  if (replaced_) replaced_();
}

void DatasetReplacement::Undo() {
  switch (mode_) {
    case Mode::kFlush:
      ClearServed();
      break;
    case Mode::kSwapdb:
      ClearServed();
      for (int i = 0; i < keyspace_.db_count(); i++) keyspace_.db(i).Swap(saved_->db(i));
      saved_.reset();
      if (!saved_functions_.empty()) {
        functions_.Restore(saved_functions_, FunctionEngine::RestorePolicy::kFlush);
      }
      break;
    case Mode::kAsync:
      Discard(*incoming_);
      break;
  }
}

void DatasetReplacement::Commit() {
  switch (mode_) {
    case Mode::kFlush:
      break;
    case Mode::kSwapdb:
      Discard(*saved_);
      saved_.reset();
      break;
    case Mode::kAsync:
      // The new data set replaces the one served so far, at once.
      for (int i = 0; i < keyspace_.db_count(); i++) keyspace_.db(i).Swap(incoming_->db(i));
      Discard(*incoming_);
      functions_.Flush();
      for (const std::string& code : incoming_functions_) {
        std::string ignored;
        functions_.Load(code, /*replace=*/true, &ignored);
      }
      if (replaced_) replaced_();
      break;
  }
}

void DatasetReplacement::Discard(Keyspace& data) {
  for (int i = 0; i < data.db_count(); i++) {
    KeyTable keys = data.db(i).TakeAllKeys();
    if (settings_.replica_lazy_flush) keyspace_.lazy_freer().Free(std::move(keys));
  }
}

}  // namespace keyward
