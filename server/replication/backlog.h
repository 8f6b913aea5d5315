// The replication backlog: the last repl-backlog-size bytes of the replication stream, so that a
// replica that lost its link (or a replica of a promoted replica) continues from its offset
// instead of loading a new snapshot. Offsets are Redis's: the stream's first byte is offset 1,
// and the backlog holds the bytes from first_byte_offset() up to the stream's current offset.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace keyward {

class ReplicationBacklog {
 public:
  bool active() const { return active_; }
  // Starts empty, its first byte the one after `stream_offset` (createReplicationBacklog).
  void Create(int64_t stream_offset, size_t size);
  void Free();
  // repl-backlog-size: keeps the newest bytes that fit.
  void Resize(size_t size);

  // The stream went on by `bytes` (the caller advances its offset).
  void Append(std::string_view bytes);

  size_t size() const { return size_; }
  // INFO's repl_backlog_first_byte_offset (0 while inactive) and repl_backlog_histlen.
  int64_t first_byte_offset() const { return active_ ? first_byte_offset_ : 0; }
  int64_t histlen() const { return static_cast<int64_t>(histlen_); }
  // Whether the bytes from `offset` on (up to the end) are all here: offset may be one past the
  // last byte (nothing to send).
  bool Covers(int64_t offset) const {
    return active_ && offset >= first_byte_offset_ &&
           offset <= first_byte_offset_ + static_cast<int64_t>(histlen_);
  }
  // The bytes from `offset` to the end (Covers(offset) must hold).
  std::string From(int64_t offset) const;
  // Memory held (INFO mem_replication_backlog).
  size_t memory() const { return ring_.capacity(); }

 private:
  bool active_ = false;
  size_t size_ = 0;
  std::string ring_;  // grows up to size_, then wraps
  size_t head_ = 0;   // where the oldest byte is once the ring is full
  size_t histlen_ = 0;
  int64_t first_byte_offset_ = 0;
};

}  // namespace keyward
