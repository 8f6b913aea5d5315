// The per-resource fencing records of COORDINATION.md: the counter F(R) that ACQ reports and FENCE
// raises, and the highest token a guarded write accepted. They live outside the keyspace, so
// FLUSHALL, FLUSHDB, key expiry and eviction never touch them: a counter only ever grows.
//
// Memory stays bounded: past a configured number of records, the least recently used ones that
// no lock holds and no guarded write depends on are dropped after folding their counters into a
// per-instance floor; a record created later starts at the floor, so tokens stay monotonic.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace keyward {

struct FenceRecord {
  int64_t counter = 0;  // F(R): the highest token this instance counted or saw
  int64_t seen = 0;     // the highest token a guarded write (LOCK.GUARD) accepted
  // The owner whose acquisition set `counter`: its re-entrant acquisitions and retried FENCEs
  // keep the same token.
  std::string fenced_owner;
  int64_t fenced_token = 0;  // the token fenced_owner was given (LOCK.INFO's holder_token)
};

class FenceTable {
 public:
  explicit FenceTable(int64_t floor) : floor_(floor) {}

  // The resource's record, created at the floor when missing; marks it recently used.
  FenceRecord& Get(std::string_view resource);
  // The record, or nullptr; does not create it or change the recency order.
  const FenceRecord* Peek(std::string_view resource) const;
  // What a missing resource's counter reads as.
  int64_t CounterOf(std::string_view resource) const;

  int64_t floor() const { return floor_; }
  size_t size() const { return index_.size(); }
  // Every record, most recently used first.
  void ForEach(const std::function<void(std::string_view, const FenceRecord&)>& fn) const;

  // Drops least recently used records while more than `max_records` remain, skipping those with a
  // guarded-write mark and those `in_use` keeps (a held lock); their counters fold into the
  // floor. Returns the resources dropped.
  std::vector<std::string> Trim(size_t max_records,
                                const std::function<bool(std::string_view)>& in_use);
  // Raises the floor to at least `floor` (never lowers it).
  void RaiseFloor(int64_t floor);
  // Drops a record, folding its counter into the floor.
  void Forget(std::string_view resource);

 private:
  struct Node {
    std::string resource;
    FenceRecord record;
  };
  std::list<Node> lru_;  // most recently used first; nodes never move in memory
  std::unordered_map<std::string_view, std::list<Node>::iterator> index_;  // views of Node keys
  int64_t floor_;
};

}  // namespace keyward
