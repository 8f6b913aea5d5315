// Streams: Redis 7.0's design, listpack nodes in the order of the ID of each node's first
// ("master") entry, with the consumer groups beside them.
//
// A node is a listpack in Redis's exact layout (t_stream.c), so that DUMP, RDB and replication
// write the nodes as they are and Redis reads them back, and so that a node costs what it costs
// in Redis:
//
//   master entry:  count | deleted | num-fields | field_1 ... field_N | 0
//   entry:         flags | ms-diff | seq-diff | [num-fields | field_1] value_1 ... | lp-count
//
// An entry whose fields are the master entry's (flag SAMEFIELDS) stores only its values; IDs are
// deltas from the master ID; lp-count (the number of elements of the entry before it) lets an
// iterator walk a node backwards. XDEL and exact trimming only flag an entry DELETED; a node goes
// when its last live entry does. Nodes close at stream-node-max-entries entries (live and
// deleted) or stream-node-max-bytes bytes, as Redis closes them, so node boundaries (which decide
// what `~` trimming removes and what DUMP writes) are Redis's.
//
// The nodes are a vector with a movable start (StreamNodes): a binary search finds the node
// holding an ID in O(log n), so XRANGE by ID and trimming from the head are O(log n + k); an
// XDEL that empties a node moves the nodes after it. Redis keeps nodes in a radix tree; XINFO
// reports that tree's node count, which RaxNodeCount() computes from the node keys.
//
// Consumer groups, their pending entries lists (PEL) and consumers are ordered maps, ordered as
// Redis's radix trees order them (bytes, unsigned), which is the order XINFO and XPENDING list
// them in. A pending entry (NACK) is owned by its group's PEL and referenced from its consumer's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "server/keyspace/listpack.h"
#include "server/keyspace/value.h"

namespace keyward {

// a - b as Redis computes it on long longs: values read from a payload may be anything, and the
// difference wraps instead of overflowing (idle times, lag, a claim's IDLE).
inline int64_t WrappingSub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}

struct StreamID {
  uint64_t ms = 0;
  uint64_t seq = 0;

  static constexpr StreamID Min() { return {0, 0}; }
  static constexpr StreamID Max() { return {UINT64_MAX, UINT64_MAX}; }
  auto operator<=>(const StreamID&) const = default;
  bool IsZero() const { return ms == 0 && seq == 0; }
  // The successor / predecessor (streamIncrID / streamDecrID); false (and 0-0 / max) on wrap.
  bool Incr();
  bool Decr();
  // "<ms>-<seq>"
  std::string ToString() const;
  // The 128-bit big-endian form radix-tree keys and RDB PEL records use.
  void Encode(char out[16]) const;
  static StreamID Decode(const char in[16]);
};

class StreamConsumer;

// A delivered, not yet acknowledged entry.
struct StreamNack {
  int64_t delivery_time = 0;  // unix ms of the last delivery
  uint64_t delivery_count = 1;
  StreamConsumer* consumer = nullptr;
};

class StreamConsumer {
 private:
  std::string name_;

 public:
  StreamConsumer(std::string name, int64_t seen_time)
      : name_(std::move(name)), seen_time(seen_time) {}
  const std::string& name() const { return name_; }
  int64_t seen_time;  // unix ms of its last read or claim
  std::map<StreamID, StreamNack*> pel;
};

class StreamGroup {
 public:
  // SCG_INVALID_ENTRIES_READ: the group's read counter is unknown.
  static constexpr int64_t kInvalidEntriesRead = -1;

  StreamGroup(StreamID last_id, int64_t entries_read)
      : last_id(last_id), entries_read(entries_read) {}

  StreamConsumer* FindConsumer(std::string_view name) const;
  // nullptr when a consumer of that name exists.
  StreamConsumer* CreateConsumer(std::string_view name, int64_t now_ms);
  // Deletes the consumer and its pending entries (from the group's PEL too).
  void DeleteConsumer(StreamConsumer* consumer);
  // Removes a pending entry from the group's and its consumer's PEL.
  void RemoveNack(std::map<StreamID, std::unique_ptr<StreamNack>>::iterator it);

  StreamID last_id;
  int64_t entries_read;
  std::map<StreamID, std::unique_ptr<StreamNack>> pel;
  std::map<std::string, std::unique_ptr<StreamConsumer>, std::less<>> consumers;
};

// XADD / XTRIM trimming (streamAddTrimArgs).
struct StreamTrim {
  enum class Strategy : uint8_t { kNone, kMaxLen, kMinId };
  Strategy strategy = Strategy::kNone;
  bool approx = false;  // only whole nodes
  int64_t limit = 0;    // at most this many entries (0: no limit)
  int64_t maxlen = 0;
  StreamID minid;
};

// A node: its master ID (the ID of the first entry it was given) and its listpack.
struct StreamNode {
  StreamID master;
  Listpack lp;
};

// The nodes in ID order: a vector whose start moves, so that appending at the tail and trimming
// at the head are O(1) amortised and finding the node of an ID is a binary search, at 24 bytes
// a node (an ordered map's node costs 64, which at 100 entries a node is 0.4 bytes an entry).
// Deleting a node elsewhere (an XDEL of its last live entry) moves the nodes after it.
class StreamNodes {
 public:
  StreamNodes() = default;
  StreamNodes(const StreamNodes& other) : v_(other.begin(), other.end()) {}
  StreamNodes& operator=(const StreamNodes& other) {
    StreamNodes copy(other);
    v_.swap(copy.v_);
    head_ = 0;
    return *this;
  }

  size_t size() const { return v_.size() - head_; }
  bool empty() const { return size() == 0; }
  StreamNode& operator[](size_t i) { return v_[head_ + i]; }
  const StreamNode& operator[](size_t i) const { return v_[head_ + i]; }
  StreamNode* begin() { return v_.data() + head_; }
  StreamNode* end() { return v_.data() + v_.size(); }
  const StreamNode* begin() const { return v_.data() + head_; }
  const StreamNode* end() const { return v_.data() + v_.size(); }
  StreamNode& back() { return v_.back(); }
  // The index of the first node whose master ID is above `id` (size() if none).
  size_t UpperBound(StreamID id) const;
  // Appends a node; its master ID must be above every other's.
  void PushBack(StreamID master, Listpack lp);
  // Removes the node at index `i`.
  void Erase(size_t i);

 private:
  std::vector<StreamNode> v_;
  size_t head_ = 0;  // v_[0, head_) are removed nodes (moved-from, owning nothing)
};

class StreamValue : public Value {
 public:
  using GroupMap = std::map<std::string, std::unique_ptr<StreamGroup>, std::less<>>;

  // Where a node closes (stream-node-max-bytes, stream-node-max-entries; 0: no limit).
  struct NodeLimits {
    int64_t max_bytes = 4096;
    int64_t max_entries = 100;
  };

  // Walks the live entries between two IDs (inclusive), forwards or backwards
  // (streamIterator). Fields are read with Field() right after Next(); an entry's elements stay
  // valid until the stream changes.
  class Iterator {
   public:
    Iterator(const StreamValue& s, StreamID start, StreamID end, bool rev);
    // The next entry in range: its ID and number of field/value pairs.
    bool Next(StreamID* id, int64_t* num_fields);
    void Field(LpElement* field, LpElement* value);

   private:
    friend class StreamValue;
    const StreamValue* s_;
    StreamID start_, end_;
    bool rev_;
    size_t node_ = 0;       // the node being walked (an index into the stream's nodes)
    bool in_node_ = false;  // positioned inside node_
    const Listpack* lp_ = nullptr;
    StreamID master_id_;
    int64_t master_fields_ = 0;
    uint32_t master_fields_start_ = 0;
    uint32_t pos_ = 0;           // cursor: the lp-count before the next entry to look at
    uint32_t flags_pos_ = 0;     // the current entry's flags element
    int64_t entry_flags_ = 0;    // and their value
    uint32_t field_pos_ = 0;     // the current entry's next field (or value) for Field()
    uint32_t master_field_ = 0;  // the master entry's next field, for SAMEFIELDS entries
    int64_t fields_left_ = 0;    // pairs of the current entry Field() has not read
    bool skip_tombstones_ = true;
    bool started_ = false;
    bool done_ = false;
  };

  StreamValue() = default;
  ~StreamValue() override;

  ObjType type() const override { return ObjType::kStream; }
  Encoding encoding() const override { return Encoding::kStream; }
  std::unique_ptr<Value> Clone() const override;
  size_t MemoryUsage() const override;
  size_t FreeEffort() const override;
  // RDB_TYPE_STREAM_LISTPACKS_2, Redis 7.0's.
  uint8_t rdb_type() const override { return 19; }
  void Serialise(ValueSink& out) const override;
  std::unique_ptr<ValueWriter> NewWriter() const override;

  enum class AppendResult { kOk, kIdTooSmall, kTooLarge };
  // Appends an entry of `field_values` (field, value, ...) (streamAppendItem). `use_id`
  // nullptr: the next ID after now_ms; with `seq_given` false only its ms part is given
  // (`<ms>-*`).
  AppendResult Append(std::span<const std::string_view> field_values, const StreamID* use_id,
                      bool seq_given, int64_t now_ms, const NodeLimits& limits, StreamID* added);
  // Trims from the head (streamTrim); returns how many entries went.
  int64_t Trim(const StreamTrim& trim);
  // Marks one entry deleted (streamDeleteItem); false if there is no such live entry.
  bool Delete(StreamID id);
  bool Exists(StreamID id) const;
  // The ID of the first or last entry, tombstones (deleted entries) included or not
  // (streamGetEdgeID): Max() / Min() when there is none.
  StreamID EdgeID(bool first, bool skip_tombstones) const;
  // The last live entry's ID (streamLastValidID); Min() when the stream is empty.
  StreamID LastValidID() const { return length_ ? EdgeID(false, true) : StreamID::Min(); }

  uint64_t length() const { return length_; }
  StreamID last_id() const { return last_id_; }
  StreamID first_id() const { return first_id_; }
  StreamID max_deleted_id() const { return max_deleted_id_; }
  uint64_t entries_added() const { return entries_added_; }
  void set_last_id(StreamID id) { last_id_ = id; }
  void set_first_id(StreamID id) { first_id_ = id; }
  void set_max_deleted_id(StreamID id) { max_deleted_id_ = id; }
  void set_entries_added(uint64_t n) { entries_added_ = n; }
  void set_length(uint64_t n) { length_ = n; }
  // After deletions: recorded-first-entry-id follows the first live entry.
  void RefreshFirstId();

  const StreamNodes& nodes() const { return nodes_; }
  // RDB loading: a node as read (the caller validated it); false unless its master ID is above
  // every node's so far.
  bool AddNode(StreamID master_id, Listpack lp);
  // The number of nodes Redis's radix tree of these node keys has (XINFO radix-tree-nodes).
  size_t RaxNodeCount() const;

  // --- Consumer groups ---
  StreamGroup* FindGroup(std::string_view name) const;
  // nullptr when the name exists.
  StreamGroup* CreateGroup(std::string_view name, StreamID last_id, int64_t entries_read);
  bool DestroyGroup(std::string_view name);
  const GroupMap& groups() const { return groups_; }

  // streamEstimateDistanceFromFirstEverEntry: the logical read counter of `id`, or
  // kInvalidEntriesRead when it cannot be known.
  int64_t EstimateDistanceFromFirstEverEntry(StreamID id) const;
  // Whether a deleted entry may lie in [start, end] (streamRangeHasTombstones).
  bool RangeHasTombstones(StreamID start, StreamID end) const;
  // The group's lag (entries not yet delivered), nullopt when it cannot be known.
  std::optional<int64_t> Lag(const StreamGroup& group) const;

 private:
  class Writer;  // the RDB form, a run of nodes at a time
  // The RDB form after the nodes: the counters, then the groups.
  void AppendTail(std::string& bytes, bool compress) const;
  // Marks the entry at the iterator deleted; the node goes with its last live entry.
  void RemoveAt(const Iterator& it);

  StreamNodes nodes_;
  uint64_t length_ = 0;
  StreamID last_id_;
  StreamID first_id_;
  StreamID max_deleted_id_;
  uint64_t entries_added_ = 0;
  GroupMap groups_;
};

}  // namespace keyward
