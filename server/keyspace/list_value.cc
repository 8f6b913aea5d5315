#include "server/keyspace/list_value.h"

#include <algorithm>

#include "server/persistence/rdb_codec.h"

namespace keyward {

namespace {

// quicklist.c: node byte limits for fill -1..-5, and the limit a count-bounded node must also
// respect.
constexpr size_t kOptimizationLevel[] = {4096, 8192, 16384, 32768, 65536};
constexpr size_t kSizeSafetyLimit = 8192;
constexpr int kFillMax = (1 << 15) - 1;

int ClampFill(int fill) { return std::clamp(fill, -5, kFillMax); }

}  // namespace

std::unique_ptr<Value> ListValue::Clone() const {
  auto copy = std::make_unique<ListValue>(fill_);
  copy->size_ = size_;
  copy->nodes_ = nodes_;
  return copy;
}

size_t ListValue::MemoryUsage() const {
  size_t n = sizeof(*this) + nodes_.size() * sizeof(Listpack);
  for (const Listpack& lp : nodes_) n += lp.MemoryUsage();
  return n;
}

size_t ListValue::listpack_bytes() const {
  size_t n = 0;
  for (const Listpack& lp : nodes_) n += lp.bytes();
  return n;
}

void ListValue::Serialise(ValueSink& out) const {
  // RDB_TYPE_LIST_QUICKLIST_2: the node count, then per node its container (2: packed) and
  // its listpack as a string.
  std::string bytes;
  rdb::AppendLength(bytes, nodes_.size());
  for (const Listpack& lp : nodes_) {
    rdb::AppendLength(bytes, 2);
    rdb::AppendString(bytes, lp.raw(), out.compress());
  }
  out.Write(bytes);
}

// _quicklistNodeAllowInsert, with the ziplist-era overhead estimate Redis 7.0 still uses.
bool ListValue::NodeAllows(const Listpack& node, std::string_view s) const {
  int fill = ClampFill(fill_);
  size_t sz = s.size();
  size_t overhead = (sz < 254 ? 1 : 5) + (sz < 64 ? 1 : sz < 16384 ? 2 : 5);
  size_t new_sz = node.bytes() + sz + overhead;
  if (fill < 0) return new_sz <= kOptimizationLevel[-fill - 1];
  if (new_sz > kSizeSafetyLimit) return false;
  return static_cast<int>(node.size()) < fill;
}

void ListValue::PushFront(std::string_view s) {
  if (nodes_.empty() || !NodeAllows(nodes_.front(), s)) nodes_.emplace_front();
  nodes_.front().Prepend(s);
  size_++;
}

void ListValue::PushBack(std::string_view s) {
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

void ListValue::Set(Pos p, std::string_view s) {
  Listpack& node = nodes_[p.node];
  char buf[21];
  size_t old_size = node.Get(p.off).View(buf).size();
  if (s.size() <= old_size || NodeAllows(node, s) || node.size() == 1) {
    node.Replace(p.off, s);
    return;
  }
  // A replacement that would overflow the node's limit gets a node of its own.
  size_t i = p.node;
  uint32_t off = p.off;
  if (off != node.First()) {
    i = SplitAt(i, off);
    off = nodes_[i].First();
  }
  if (nodes_[i].Next(off) != Listpack::kEnd) SplitAt(i, nodes_[i].Next(off));
  nodes_[i].Replace(off, s);
}

size_t ListValue::SplitAt(size_t i, uint32_t off) {
  // The elements from `off` on move to a new node right after node i.
  Listpack right;
  Listpack& left = nodes_[i];
  for (uint32_t p = off; p != Listpack::kEnd; p = left.Next(p)) {
    char buf[21];
    right.Append(left.Get(p).View(buf));
  }
  left.DeleteRange(off, right.size());
  nodes_.insert(nodes_.begin() + static_cast<std::ptrdiff_t>(i) + 1, std::move(right));
  return i + 1;
}

void ListValue::InsertAt(Pos p, std::string_view s, bool after) {
  Listpack& node = nodes_[p.node];
  if (NodeAllows(node, s)) {
    uint32_t at = after ? node.Next(p.off) : p.off;
    node.InsertBefore(at, s);
    size_++;
    return;
  }
  uint32_t split = after ? node.Next(p.off) : p.off;
  size_t at;  // index of the node the element goes in front of
  if (split == Listpack::kEnd) {
    at = p.node + 1;
  } else if (split == node.First()) {
    at = p.node;
  } else {
    at = SplitAt(p.node, split);
  }
  // Try the tail of the node before the gap, then the head of the node after it.
  if (at > 0 && NodeAllows(nodes_[at - 1], s)) {
    nodes_[at - 1].Append(s);
  } else if (at < nodes_.size() && NodeAllows(nodes_[at], s)) {
    nodes_[at].Prepend(s);
  } else {
    Listpack fresh;
    fresh.Append(s);
    nodes_.insert(nodes_.begin() + static_cast<std::ptrdiff_t>(at), std::move(fresh));
  }
  size_++;
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
  std::erase_if(nodes_, [](const Listpack& lp) { return lp.empty(); });
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
