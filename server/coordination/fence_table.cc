#include "server/coordination/fence_table.h"

#include <algorithm>
#include <utility>

namespace keyward {

FenceRecord& FenceTable::Get(std::string_view resource) {
  auto it = index_.find(resource);
  if (it != index_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->record;
  }
  FenceRecord record;
  record.counter = floor_;
  record.seen = seen_floor_;
  lru_.push_front(Node{std::string(resource), std::move(record)});
  index_.emplace(lru_.front().resource, lru_.begin());
  return lru_.front().record;
}

const FenceRecord* FenceTable::Peek(std::string_view resource) const {
  auto it = index_.find(resource);
  return it == index_.end() ? nullptr : &it->second->record;
}

int64_t FenceTable::CounterOf(std::string_view resource) const {
  const FenceRecord* r = Peek(resource);
  return r != nullptr ? r->counter : floor_;
}

int64_t FenceTable::SeenOf(std::string_view resource) const {
  const FenceRecord* r = Peek(resource);
  return r != nullptr ? r->seen : seen_floor_;
}

void FenceTable::ForEach(
    const std::function<void(std::string_view, const FenceRecord&)>& fn) const {
  for (const Node& n : lru_) fn(n.resource, n.record);
}

std::vector<std::string> FenceTable::Trim(size_t max_records,
                                          const std::function<bool(std::string_view)>& in_use) {
  std::vector<std::string> dropped;
  auto it = lru_.end();
  while (index_.size() > max_records && it != lru_.begin()) {
    --it;
    if (in_use(it->resource)) continue;
    floor_ = std::max(floor_, it->record.counter);
    seen_floor_ = std::max(seen_floor_, it->record.seen);
    index_.erase(it->resource);
    dropped.push_back(std::move(it->resource));
    it = lru_.erase(it);
  }
  return dropped;
}

void FenceTable::RaiseFloor(int64_t floor, int64_t seen_floor) {
  floor_ = std::max(floor_, floor);
  seen_floor_ = std::max(seen_floor_, seen_floor);
}

void FenceTable::RaiseCounters(int64_t floor) {
  floor_ = std::max(floor_, floor);
  for (Node& node : lru_) node.record.counter = std::max(node.record.counter, floor);
}

int64_t FenceTable::MaxCounter() const {
  int64_t most = floor_;
  for (const Node& node : lru_) most = std::max(most, node.record.counter);
  return most;
}

void FenceTable::Forget(std::string_view resource) {
  auto it = index_.find(resource);
  if (it == index_.end()) return;
  auto node = it->second;
  floor_ = std::max(floor_, node->record.counter);
  seen_floor_ = std::max(seen_floor_, node->record.seen);
  index_.erase(it);
  lru_.erase(node);
}

}  // namespace keyward
