// The per-resource fencing records of COORDINATION.md: the counter F(R) that ACQ reports and FENCE
// raises, and the highest token a guarded write accepted. They live outside the keyspace, so
// FLUSHALL, FLUSHDB, key expiry and eviction never touch them: a counter only ever grows.
//
// Memory stays bounded: past a configured number of records, the least recently used ones that no
// lock holds are dropped after folding their counters into a per-instance floor and their guard
// marks into a per-instance guard floor; a record created later starts at both floors, so tokens
// stay monotonic and a guarded write never accepts a token below one it accepted before.
//
// An instance that may have lost counters (it started without a complete history: no AOF, RDB
// only, a new or stale AOF directory) starts *settling*: with lock-restart-delay set it counts no
// FENCE (LockManager) until a client caught it up with its peers (LOCK.CATCHUP raises every
// counter to the highest that enough settled peers hold, redlock/.../catch_up.h). A complete AOF
// replay starts it settled.
//
// Tokens never exceed kMaxToken (2^53 - 1, exact in JavaScript and Lua numbers): a FENCE or a
// stream record above it is refused, and an acquisition that would pass it fails, so a counter can
// neither overflow nor wrap.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace keyward {

inline constexpr int64_t kMaxToken = (int64_t{1} << 53) - 1;

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
  // `settling`: the instance may have lost counters (see above).
  FenceTable(int64_t floor, bool settling) : floor_(floor), settling_(settling) {}

  // The resource's record, created at the floor when missing; marks it recently used.
  FenceRecord& Get(std::string_view resource);
  // The record, or nullptr; does not create it or change the recency order.
  const FenceRecord* Peek(std::string_view resource) const;
  // What a missing resource's counter reads as.
  int64_t CounterOf(std::string_view resource) const;
  // The resource's guard mark (the guard floor when it has no record).
  int64_t SeenOf(std::string_view resource) const;

  // Whether the counters may miss tokens an earlier life counted (see above).
  bool settling() const { return settling_; }
  // false: the counters are trustworthy from now on (caught up, a complete history replayed, a
  // promotion's epoch); true: they may miss counts again (a history found cut short).
  void set_settling(bool settling) { settling_ = settling; }

  int64_t floor() const { return floor_; }
  int64_t seen_floor() const { return seen_floor_; }
  size_t size() const { return index_.size(); }
  // Every record, most recently used first.
  void ForEach(const std::function<void(std::string_view, const FenceRecord&)>& fn) const;

  // Drops least recently used records while more than `max_records` remain, skipping those
  // `in_use` keeps (a held lock); their counters fold into the floor, their guard marks into the
  // guard floor. Returns the resources dropped.
  std::vector<std::string> Trim(size_t max_records,
                                const std::function<bool(std::string_view)>& in_use);
  // Raises the floors to at least `floor` and `seen_floor` (never lowers them).
  void RaiseFloor(int64_t floor, int64_t seen_floor = 0);
  // Raises the floor and every record's counter to at least `floor` (a promotion's epoch).
  void RaiseCounters(int64_t floor);
  // The highest counter of any record, or the floor.
  int64_t MaxCounter() const;
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
  int64_t seen_floor_ = 0;
  bool settling_;
};

}  // namespace keyward
