// Lists: Redis 7.0's quicklist design, a sequence of listpack nodes. Each node holds as many
// elements as `list-max-listpack-size` allows (a positive count, or -1..-5 for 4..64 KiB of
// bytes), so a list costs one small allocation per few hundred elements, and pushes and pops at
// either end touch one node. OBJECT ENCODING says "quicklist" whatever the size, as 7.0 does.
//
// The nodes are held in a deque (16 bytes per node, in blocks), not a linked list: the deque
// gives indexed access to nodes, which is all LINDEX/LRANGE need to find a start.
//
// An element of at least the packed threshold (Redis's packed_threshold: 1 GiB, or what DEBUG
// QUICKLIST-PACKED-THRESHOLD sets) gets a plain node of its own (QUICKLIST_NODE_CONTAINER_PLAIN),
// which nothing is ever inserted into or merged with, and which RDB writes as the bare element.
// list-compress-depth (LZF on interior nodes) is not implemented; see docs/commands/lists.md.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "server/keyspace/listpack.h"
#include "server/keyspace/value.h"

namespace keyward {

class ListValue : public Value {
 public:
  static constexpr size_t kDefaultPackedThreshold = size_t{1} << 30;

  // `fill` is list-max-listpack-size. `packed_threshold` points at the server's packed threshold,
  // read at every insertion (Redis's is one for the process, and changes apply to lists that
  // exist); nullptr: kDefaultPackedThreshold.
  explicit ListValue(int fill, const size_t* packed_threshold = nullptr)
      : fill_(fill), packed_threshold_(packed_threshold) {}

  ObjType type() const override { return ObjType::kList; }
  Encoding encoding() const override { return Encoding::kQuickList; }
  std::unique_ptr<Value> Clone() const override;
  size_t MemoryUsage() const override;
  size_t FreeEffort() const override { return nodes_.size(); }
  uint8_t rdb_type() const override { return 18; }  // RDB_TYPE_LIST_QUICKLIST_2
  void Serialise(ValueSink& out) const override;
  std::unique_ptr<ValueWriter> NewWriter() const override;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t node_count() const { return nodes_.size(); }
  int fill() const { return fill_; }
  // The nodes' bytes, a plain node's being its element's length (DEBUG OBJECT's
  // ql_uncompressed_size).
  size_t listpack_bytes() const;
  // Node `i` (0 <= i < node_count()): whether it is plain, its size as listpack_bytes() counts
  // it, and its elements (a plain node's one element, in a listpack of its own).
  bool node_plain(size_t i) const { return nodes_[i].plain; }
  size_t node_bytes(size_t i) const;
  const Listpack& node(size_t i) const { return nodes_[i]; }
  // list-max-listpack-size applies to nodes filled from now on.
  void set_fill(int fill) { fill_ = fill; }

  // Appends a whole node as it is (quicklistAppendListpack: RESTORE keeps a payload's nodes, so
  // DUMP gives the same nodes back). The node must not be empty.
  void AppendNode(Listpack node);
  // Appends a plain node holding `element` (quicklistAppendPlainNode: RESTORE keeps a payload's
  // plain nodes whatever the threshold).
  void AppendPlainNode(std::string_view element);

  void PushFront(std::string_view s);
  void PushBack(std::string_view s);
  void Push(std::string_view s, bool front) { front ? PushFront(s) : PushBack(s); }
  // Removes and returns the first (or last) element. The list must not be empty.
  std::string Pop(bool front);

  // A position: node index and byte offset inside the node's listpack.
  struct Pos {
    size_t node = 0;
    uint32_t off = Listpack::kEnd;
    bool valid() const { return off != Listpack::kEnd; }
  };
  // The element at `index` (negative counts from the end); invalid when out of range.
  Pos At(int64_t index) const;
  Pos Begin() const;
  Pos End() const;  // the last element
  Pos Next(Pos p) const;
  Pos Prev(Pos p) const;
  LpElement Get(Pos p) const { return nodes_[p.node].Get(p.off); }

  // LSET: replaces the element at p (quicklistReplaceEntry: in place, except where the old or
  // the new element is plain-sized, when the new one is inserted after p and p deleted).
  void Set(Pos p, std::string_view s);
  // LINSERT: inserts next to p (after when `after`).
  void InsertAt(Pos p, std::string_view s, bool after);
  // Deletes the element at p; returns the position of the element that followed it, or an
  // invalid one. Positions before p stay valid; those after it do not.
  Pos Erase(Pos p);
  // LTRIM's work: deletes `n` elements starting at index `start` (0 <= start, start+n <= size).
  void EraseRange(size_t start, size_t n);
  // LREM's work: deletes up to `limit` (0: every) elements equal to `value`, from the head or
  // (`backward`) the tail; returns how many. Linear in the list, however many nodes empty.
  size_t RemoveEqual(std::string_view value, size_t limit, bool backward);

  // Calls fn on elements index start..stop (inclusive, in range, start <= stop), in order.
  void ForRange(size_t start, size_t stop, const std::function<void(const LpElement&)>& fn) const;

 private:
  // A quicklist node: a listpack, or a plain node's one element (kept as a one-element listpack).
  struct Node : Listpack {
    Node() = default;
    Node(Listpack lp, bool is_plain = false) : Listpack(std::move(lp)), plain(is_plain) {}
    bool plain = false;
  };

  // isLargeElement: an element that gets a plain node.
  bool IsLarge(std::string_view s) const {
    return s.size() >=
           (packed_threshold_ != nullptr ? *packed_threshold_ : kDefaultPackedThreshold);
  }
  static Node PlainNode(std::string_view s);
  bool NodeAllows(const Node& node, std::string_view s) const;
  // Splits node `i` at the element at `off` (_quicklistSplitNode); returns the new node's index.
  size_t SplitAt(size_t i, uint32_t off, bool after);
  // Whether nodes `a` and `b` may be merged, and the merge of node `a` with the next one.
  bool NodesAllowMerge(size_t a, size_t b) const;
  void MergeWithNext(size_t a);
  // _quicklistMergeNodes around node `center`.
  void MergeAround(size_t center);

  int fill_;
  const size_t* packed_threshold_;
  size_t size_ = 0;
  std::deque<Node> nodes_;
};

}  // namespace keyward
