#include "server/keyspace/list_value.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "server/persistence/rdb_codec.h"

namespace keyward {

namespace {

// quicklist.c: node byte limits for fill -1..-5, and the limit a count-bounded node must also
// respect.
constexpr size_t kOptimizationLevel[] = {4096, 8192, 16384, 32768, 65536};
constexpr size_t kSizeSafetyLimit = 8192;
constexpr size_t kSizeEstimateOverhead = 8;
constexpr int kFillMax = (1 << 15) - 1;

int ClampFill(int fill) { return std::clamp(fill, -5, kFillMax); }

}  // namespace

std::unique_ptr<Value> ListValue::Clone() const {
  auto copy = std::make_unique<ListValue>(fill_, packed_threshold_);
  copy->size_ = size_;
  copy->nodes_ = nodes_;
  return copy;
}

size_t ListValue::MemoryUsage() const {
  size_t n = sizeof(*this) + nodes_.size() * sizeof(Node);
  for (const Listpack& lp : nodes_) n += lp.MemoryUsage();
  return n;
}

size_t ListValue::listpack_bytes() const {
  size_t n = 0;
  for (size_t i = 0; i < nodes_.size(); i++) n += node_bytes(i);
  return n;
}

size_t ListValue::node_bytes(size_t i) const {
  const Node& node = nodes_[i];
  if (!node.plain) return node.bytes();
  char buf[21];
  return node.Get(node.First()).View(buf).size();
}

ListValue::Node ListValue::PlainNode(std::string_view s) {
  Listpack lp;
  lp.Append(s);
  return Node(std::move(lp), /*is_plain=*/true);
}

namespace {

// RDB_TYPE_LIST_QUICKLIST_2: the node count, then per node its container (1: plain, 2: packed)
// and, as a string, its element or its listpack; a piece is a run of whole nodes.
class ListWriter : public ValueWriter {
 public:
  explicit ListWriter(const ListValue& list) : list_(list) {}
  bool WriteSome(ValueSink& out, size_t budget) override {
    std::string bytes;
    if (!started_) {
      rdb::AppendLength(bytes, list_.node_count());
      started_ = true;
    }
    size_t written = 0;
    while (next_ < list_.node_count() && (written == 0 || written < budget)) {
      const Listpack& node = list_.node(next_);
      if (list_.node_plain(next_)) {
        rdb::AppendLength(bytes, 1);
        rdb::AppendString(bytes, node.Get(node.First()).ToString(), out.compress());
      } else {
        rdb::AppendLength(bytes, 2);
        rdb::AppendString(bytes, node.raw(), out.compress());
      }
      written += node.size();
      next_++;
    }
    out.Write(bytes);
    return next_ == list_.node_count();
  }

 private:
  const ListValue& list_;
  bool started_ = false;
  size_t next_ = 0;
};

}  // namespace

std::unique_ptr<ValueWriter> ListValue::NewWriter() const {
  return std::make_unique<ListWriter>(*this);
}

void ListValue::Serialise(ValueSink& out) const { SerialiseWithWriter(*this, out); }

// _quicklistNodeAllowInsert as Redis 7.0.15 has it: the new entry is estimated at its length
// plus SIZE_ESTIMATE_OVERHEAD (8 bytes, the most a listpack entry's header and backlen take),
// which decides where a node ends and so the nodes DUMP writes. (Earlier 7.0 releases used the
// ziplist's per-entry overhead here; their nodes end a few bytes later.) Nothing goes into a
// plain node, and a plain-sized element into no node.
bool ListValue::NodeAllows(const Node& node, std::string_view s) const {
  if (node.plain || IsLarge(s)) return false;
  int fill = ClampFill(fill_);
  size_t new_sz = node.bytes() + s.size() + kSizeEstimateOverhead;
  if (fill < 0) return new_sz <= kOptimizationLevel[-fill - 1];
  if (new_sz > kSizeSafetyLimit) return false;
  return static_cast<int>(node.size()) < fill;
}

void ListValue::AppendNode(Listpack node) {
  size_ += node.size();
  nodes_.push_back(std::move(node));
}

void ListValue::AppendPlainNode(std::string_view element) {
  size_++;
  nodes_.push_back(PlainNode(element));
}

// quicklistPushHead / quicklistPushTail: a plain-sized element gets its own node at that end.
void ListValue::PushFront(std::string_view s) {
  if (IsLarge(s)) {
    nodes_.push_front(PlainNode(s));
    size_++;
    return;
  }
  if (nodes_.empty() || !NodeAllows(nodes_.front(), s)) nodes_.emplace_front();
  nodes_.front().Prepend(s);
  size_++;
}

void ListValue::PushBack(std::string_view s) {
  if (IsLarge(s)) {
    nodes_.push_back(PlainNode(s));
    size_++;
    return;
  }
  if (nodes_.empty() || !NodeAllows(nodes_.back(), s)) nodes_.emplace_back();
  nodes_.back().Append(s);
  size_++;
}

std::string ListValue::Pop(bool front) {
  Pos p = front ? Begin() : End();
  std::string value = Get(p).ToString();
  Erase(p);
  return value;
}

ListValue::Pos ListValue::Begin() const {
  if (nodes_.empty()) return {};
  return {0, nodes_.front().First()};
}

ListValue::Pos ListValue::End() const {
  if (nodes_.empty()) return {};
  return {nodes_.size() - 1, nodes_.back().Last()};
}

ListValue::Pos ListValue::At(int64_t index) const {
  int64_t n = static_cast<int64_t>(size_);
  if (index < 0) index += n;
  if (index < 0 || index >= n) return {};
  if (index < n / 2) {
    for (size_t i = 0; i < nodes_.size(); i++) {
      int64_t count = static_cast<int64_t>(nodes_[i].size());
      if (index < count) return {i, nodes_[i].Seek(index)};
      index -= count;
    }
  } else {
    int64_t back = n - 1 - index;  // 0: the last element
    for (size_t i = nodes_.size(); i-- > 0;) {
      int64_t count = static_cast<int64_t>(nodes_[i].size());
      if (back < count) return {i, nodes_[i].Seek(-1 - back)};
      back -= count;
    }
  }
  return {};
}

ListValue::Pos ListValue::Next(Pos p) const {
  uint32_t off = nodes_[p.node].Next(p.off);
  if (off != Listpack::kEnd) return {p.node, off};
  if (p.node + 1 >= nodes_.size()) return {};
  return {p.node + 1, nodes_[p.node + 1].First()};
}

ListValue::Pos ListValue::Prev(Pos p) const {
  uint32_t off = nodes_[p.node].Prev(p.off);
  if (off != Listpack::kEnd) return {p.node, off};
  if (p.node == 0) return {};
  return {p.node - 1, nodes_[p.node - 1].Last()};
}

// quicklistReplaceEntry (7.0.15): an element of a packed node is replaced where it is,
// whatever the node's size becomes, and a plain node's by a plain-sized one likewise. Otherwise
// (a plain node's element by a small one, a packed node's by a plain-sized one) the new element
// is inserted after the old, which is then deleted: it is the last of its node by then (the
// insertion split the node after it), and its node goes if it was alone there.
void ListValue::Set(Pos p, std::string_view s) {
  Node& node = nodes_[p.node];
  if (!node.plain && !IsLarge(s)) {
    node.Replace(p.off, s);
    return;
  }
  if (node.plain && IsLarge(s)) {
    node = PlainNode(s);
    return;
  }
  InsertAt(p, s, /*after=*/true);  // node p.node stays where it is
  Erase({p.node, nodes_[p.node].Last()});
}

// _quicklistSplitNode: node `i` keeps the elements up to and including `off` (after) or from
// `off` on (!after); the others go to a new node beside it, which is returned by index. Both
// halves keep their entries' bytes (a copy of the listpack with the other half deleted).
size_t ListValue::SplitAt(size_t i, uint32_t off, bool after) {
  Listpack& node = nodes_[i];
  // The element's index in the node.
  size_t index = 0;
  for (uint32_t q = node.First(); q != off; q = node.Next(q)) index++;
  const size_t count = node.size();
  Listpack other(node);
  if (after) {
    node.DeleteRange(node.Seek(static_cast<int64_t>(index) + 1), count - index - 1);
    other.DeleteRange(other.First(), index + 1);
  } else {
    node.DeleteRange(node.First(), index);
    other.DeleteRange(other.Seek(static_cast<int64_t>(index)), count - index);
  }
  const size_t at = after ? i + 1 : i;
  nodes_.insert(nodes_.begin() + static_cast<std::ptrdiff_t>(at), std::move(other));
  return at;
}

// _quicklistNodeAllowMerge: the merged size is estimated as both sizes less 11 bytes (a
// ziplist's header and end, which 7.0 still subtracts).
bool ListValue::NodesAllowMerge(size_t a, size_t b) const {
  if (nodes_[a].plain || nodes_[b].plain) return false;
  const int fill = ClampFill(fill_);
  const size_t merge_sz = nodes_[a].bytes() + nodes_[b].bytes() - 11;
  if (fill < 0) return merge_sz <= kOptimizationLevel[-fill - 1];
  if (merge_sz > kSizeSafetyLimit) return false;
  return static_cast<int>(nodes_[a].size() + nodes_[b].size()) <= fill;
}

// lpMerge: node `a`'s entries, then node `a + 1`'s, in node `a`; node `a + 1` goes.
void ListValue::MergeWithNext(size_t a) {
  std::string_view left = nodes_[a].raw(), right = nodes_[a + 1].raw();
  const size_t count = nodes_[a].size() + nodes_[a + 1].size();
  const size_t total = left.size() + right.size() - 7;  // one header and one end less
  auto* bytes = static_cast<unsigned char*>(std::malloc(total));
  if (bytes == nullptr) throw std::bad_alloc();
  std::memcpy(bytes, left.data(), left.size() - 1);
  std::memcpy(bytes + left.size() - 1, right.data() + 6, right.size() - 6);
  for (int k = 0; k < 4; k++) bytes[k] = static_cast<unsigned char>(total >> (8 * k));
  const size_t stored = std::min<size_t>(count, UINT16_MAX);
  bytes[4] = static_cast<unsigned char>(stored & 0xff);
  bytes[5] = static_cast<unsigned char>(stored >> 8);
  nodes_[a] = Listpack::Adopt(bytes);
  nodes_.erase(nodes_.begin() + static_cast<std::ptrdiff_t>(a) + 1);
}

// _quicklistMergeNodes: after a split, the two nodes before `center` are merged if they fit,
// then the two after it, then center with its neighbour before, then the result with the one
// after.
void ListValue::MergeAround(size_t center) {
  if (center >= 2 && NodesAllowMerge(center - 1, center - 2)) {
    MergeWithNext(center - 2);
    center--;
  }
  if (center + 2 < nodes_.size() && NodesAllowMerge(center + 1, center + 2)) {
    MergeWithNext(center + 1);
  }
  size_t target = center;
  if (center >= 1 && NodesAllowMerge(center, center - 1)) {
    MergeWithNext(center - 1);
    target = center - 1;
  }
  if (target + 1 < nodes_.size() && NodesAllowMerge(target, target + 1)) MergeWithNext(target);
}

// _quicklistInsert (7.0.15): into the node when it has room; at a full node's edge, into the
// neighbour on that side when it has room, else into a new node there; otherwise the node is
// split at the element, the new element goes to the split-off half, and the nodes around are
// merged where they fit.
//
// A plain-sized element gets a plain node: next to p's node when p is at the node's edge on
// that side (always, for a plain node), else between the two halves of p's node split at p.
void ListValue::InsertAt(Pos p, std::string_view s, bool after) {
  size_++;
  Node& node = nodes_[p.node];
  if (NodeAllows(node, s)) {
    node.InsertBefore(after ? node.Next(p.off) : p.off, s);
    return;
  }
  const bool at_tail = after && node.Next(p.off) == Listpack::kEnd;
  const bool at_head = !after && p.off == node.First();
  if (IsLarge(s)) {
    size_t at = after ? p.node + 1 : p.node;
    if (!at_tail && !at_head) {
      SplitAt(p.node, p.off, after);
      at = p.node + 1;  // after the half holding p (after) or before it (!after)
    }
    nodes_.insert(nodes_.begin() + static_cast<std::ptrdiff_t>(at), PlainNode(s));
    return;
  }
  if (at_tail && p.node + 1 < nodes_.size() && NodeAllows(nodes_[p.node + 1], s)) {
    nodes_[p.node + 1].Prepend(s);
    return;
  }
  if (at_head && p.node > 0 && NodeAllows(nodes_[p.node - 1], s)) {
    nodes_[p.node - 1].Append(s);
    return;
  }
  if (at_tail || at_head) {
    Listpack fresh;
    fresh.Append(s);
    const size_t at = after ? p.node + 1 : p.node;
    nodes_.insert(nodes_.begin() + static_cast<std::ptrdiff_t>(at), std::move(fresh));
    return;
  }
  const size_t half = SplitAt(p.node, p.off, after);
  if (after) {
    nodes_[half].Prepend(s);
  } else {
    nodes_[half].Append(s);
  }
  MergeAround(after ? p.node : p.node + 1);
}

ListValue::Pos ListValue::Erase(Pos p) {
  Listpack& node = nodes_[p.node];
  uint32_t next = node.Delete(p.off);
  size_--;
  if (node.empty()) {
    nodes_.erase(nodes_.begin() + static_cast<std::ptrdiff_t>(p.node));
    if (p.node >= nodes_.size()) return {};
    return {p.node, nodes_[p.node].First()};
  }
  if (next != Listpack::kEnd) return {p.node, next};
  if (p.node + 1 >= nodes_.size()) return {};
  return {p.node + 1, nodes_[p.node + 1].First()};
}

void ListValue::EraseRange(size_t start, size_t n) {
  // Partial nodes lose a run of elements; the run of whole nodes between goes in one erase (one
  // at a time would shift the deque once per node: quadratic on lists of many small nodes).
  size_t i = 0;
  while (i < nodes_.size() && start >= nodes_[i].size()) start -= nodes_[i++].size();
  size_t whole_begin = nodes_.size(), whole_end = nodes_.size();
  while (n > 0 && i < nodes_.size()) {
    Listpack& node = nodes_[i];
    const size_t count = node.size();
    const size_t take = std::min(n, count - start);
    if (take == count) {
      if (whole_begin == nodes_.size()) whole_begin = i;
      whole_end = i + 1;
    } else {
      node.DeleteRange(node.Seek(static_cast<int64_t>(start)), take);
    }
    i++;
    size_ -= take;
    n -= take;
    start = 0;
  }
  if (whole_begin < whole_end) {
    nodes_.erase(nodes_.begin() + static_cast<std::ptrdiff_t>(whole_begin),
                 nodes_.begin() + static_cast<std::ptrdiff_t>(whole_end));
  }
}

size_t ListValue::RemoveEqual(std::string_view value, size_t limit, bool backward) {
  // Matches are deleted inside their nodes; nodes left empty are dropped together at the end.
  size_t removed = 0;
  for (size_t k = 0; k < nodes_.size() && (limit == 0 || removed < limit); k++) {
    const size_t i = backward ? nodes_.size() - 1 - k : k;
    Listpack& node = nodes_[i];
    uint32_t p = backward ? node.Last() : node.First();
    while (p != Listpack::kEnd && (limit == 0 || removed < limit)) {
      if (!node.Get(p).Equals(value)) {
        p = backward ? node.Prev(p) : node.Next(p);
        continue;
      }
      // Deleting moves nothing before p: going backwards, find the previous element first.
      const uint32_t prev = backward ? node.Prev(p) : Listpack::kEnd;
      const uint32_t next = node.Delete(p);
      p = backward ? prev : next;
      removed++;
    }
  }
  size_ -= removed;
  std::erase_if(nodes_, [](const Node& node) { return node.empty(); });
  return removed;
}

void ListValue::ForRange(size_t start, size_t stop,
                         const std::function<void(const LpElement&)>& fn) const {
  Pos p = At(static_cast<int64_t>(start));
  for (size_t i = start; i <= stop && p.valid(); i++) {
    fn(Get(p));
    p = Next(p);
  }
}

}  // namespace keyward
