#include "server/replication/backlog.h"

#include <algorithm>

namespace keyward {

void ReplicationBacklog::Create(int64_t stream_offset, size_t size) {
  active_ = true;
  size_ = std::max<size_t>(size, 1);
  ring_.clear();
  head_ = 0;
  histlen_ = 0;
  first_byte_offset_ = stream_offset + 1;
}

void ReplicationBacklog::Free() {
  active_ = false;
  std::string().swap(ring_);
  head_ = 0;
  histlen_ = 0;
  first_byte_offset_ = 0;
}

void ReplicationBacklog::Resize(size_t size) {
  size = std::max<size_t>(size, 1);
  if (!active_) {
    size_ = size;
    return;
  }
  const int64_t end = first_byte_offset_ + static_cast<int64_t>(histlen_);
  const size_t keep = std::min(histlen_, size);
  std::string newest = From(end - static_cast<int64_t>(keep));
  size_ = size;
  ring_ = std::move(newest);
  head_ = 0;
  histlen_ = keep;
  first_byte_offset_ = end - static_cast<int64_t>(keep);
}

void ReplicationBacklog::Append(std::string_view bytes) {
  if (!active_ || bytes.empty()) return;
  // More than fits: only the newest size_ bytes stay.
  if (bytes.size() >= size_) {
    first_byte_offset_ += static_cast<int64_t>(histlen_ + bytes.size() - size_);
    ring_.assign(bytes.substr(bytes.size() - size_));
    head_ = 0;
    histlen_ = size_;
    return;
  }
  // Growing towards size_: append at the end.
  if (ring_.size() < size_) {
    const size_t room = size_ - ring_.size();
    const size_t n = std::min(room, bytes.size());
    ring_.append(bytes.substr(0, n));
    histlen_ += n;
    bytes.remove_prefix(n);
    if (bytes.empty()) return;
  }
  // Full: overwrite the oldest bytes, which leave the backlog.
  while (!bytes.empty()) {
    const size_t n = std::min(bytes.size(), size_ - head_);
    ring_.replace(head_, n, bytes.substr(0, n));
    head_ = (head_ + n) % size_;
    first_byte_offset_ += static_cast<int64_t>(n);
    bytes.remove_prefix(n);
  }
}

std::string ReplicationBacklog::From(int64_t offset) const {
  const size_t skip = static_cast<size_t>(offset - first_byte_offset_);
  const size_t n = histlen_ - skip;
  std::string out;
  out.reserve(n);
  // The oldest byte is at head_ once the ring wrapped (histlen_ == ring_.size() == size_), at
  // 0 before.
  size_t pos = (head_ + skip) % std::max<size_t>(ring_.size(), 1);
  size_t left = n;
  while (left > 0) {
    const size_t chunk = std::min(left, ring_.size() - pos);
    out.append(ring_, pos, chunk);
    left -= chunk;
    pos = 0;
  }
  return out;
}

}  // namespace keyward
