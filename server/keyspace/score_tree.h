// The "skiplist" encoding of large sorted sets: a hash table of members and an order-statistic
// B+tree over (score, member). OBJECT ENCODING still says "skiplist", as Redis does; the structure
// is Keyward's own and costs about two thirds of Redis's per member:
//
//   Redis   dictEntry (24 B) + sds member (3 + len + 1 B) + skiplist node (24 B + 16 B per level,
//           1.33 levels on average) + 8 B of dict bucket: about 124 B for a 13-byte member
//           under jemalloc.
//   Keyward ZNode (hash chain link, score, length and member bytes in one block: 20 + len B)
//           + 8 B of bucket + one 16-byte {score, node} entry in a tree leaf (62 per 1 KiB leaf,
//           69% full after random inserts, full after ascending ones): about 80 B.
//
// - ZNodeTable (IntrusiveTable<ZNode>) answers member -> score (ZSCORE, ZADD's lookup) in O(1)
//   and gives ZSCAN Redis's reverse-binary cursor.
// - ScoreTree orders the entries by score, then by member bytes (Redis's sdscmp: memcmp, then
//   the shorter first). Inner nodes hold the smallest entry and the entry count of every child,
//   so rank lookups (ZRANK, ZRANGE by index, ZCOUNT as a difference of ranks) are O(log n) and a
//   range of k entries is O(log n + k). Leaves are linked both ways for iteration.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string_view>

#include "server/keyspace/intrusive_table.h"

namespace keyward {

// One member of a large sorted set: its hash chain link, score and bytes in one allocation.
class ZNode {
 public:
  static ZNode* New(std::string_view member, double score);
  static void Free(ZNode* n);

  std::string_view key() const { return {data(), len_}; }  // the member (table key)
  double score() const { return score_; }
  void set_score(double s) { score_ = s; }

  ZNode* next() const { return next_; }
  void set_next(ZNode* n) { next_ = n; }
  ZNode** next_link() { return &next_; }

  size_t MemoryUsage() const;

 private:
  ZNode() = default;
  // The member's bytes follow the length directly (offset 20): no padding is spent.
  const char* data() const { return reinterpret_cast<const char*>(&len_ + 1); }
  char* data() { return reinterpret_cast<char*>(&len_ + 1); }

  ZNode* next_ = nullptr;
  double score_ = 0;
  uint32_t len_ = 0;
};

// Redis's sdscmp: memcmp over the common length, then the shorter string first.
inline int CompareMembers(std::string_view a, std::string_view b) {
  const size_t n = a.size() < b.size() ? a.size() : b.size();
  const int c = n == 0 ? 0 : std::memcmp(a.data(), b.data(), n);
  if (c != 0) return c;
  return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
}

// The sorted-set order: by score, ties by member (zslInsert's comparison).
inline bool ZLess(double s1, std::string_view m1, double s2, std::string_view m2) {
  if (s1 != s2) return s1 < s2;
  return CompareMembers(m1, m2) < 0;
}

// One entry of the tree: the score is kept beside the node pointer so that descending the tree
// compares scores without touching the nodes (members are read only on ties).
struct ScoreEntry {
  double score;
  ZNode* node;
  std::string_view member() const { return node->key(); }
};

class ScoreTree {
 public:
  static constexpr int kLeafCap = 62;   // a leaf is 1016 bytes: one 1 KiB malloc chunk
  static constexpr int kInnerCap = 32;  // an inner node is about 1 KiB too

  struct NodeBase {
    bool is_leaf;
    uint16_t size;
  };
  struct Leaf : NodeBase {
    Leaf* prev;
    Leaf* next;
    ScoreEntry e[kLeafCap];
  };
  struct Inner : NodeBase {
    ScoreEntry key[kInnerCap];  // the smallest entry of each child
    NodeBase* child[kInnerCap];
    uint64_t count[kInnerCap];  // entries under each child
  };

  // A position in the tree (a leaf and an index in it); invalid past either end. Any change to
  // the tree invalidates cursors.
  struct Cursor {
    const Leaf* leaf = nullptr;
    int idx = 0;
    bool valid() const { return leaf != nullptr; }
  };

  ScoreTree() = default;
  ~ScoreTree() { Clear(); }
  ScoreTree(const ScoreTree&) = delete;
  ScoreTree& operator=(const ScoreTree&) = delete;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Adds an entry (the node must not be in the tree).
  void Insert(double score, ZNode* node);
  // Removes the entry of `node`, whose score in the tree is `score`.
  void Erase(double score, const ZNode* node);
  // Removes `n` entries from `rank` on (fewer if the tree ends first), calling `fn` with each
  // removed node in order. Returns how many were removed.
  size_t EraseRange(size_t rank, size_t n, const std::function<void(ZNode*)>& fn);
  // Removes every entry (the nodes are the caller's).
  void Clear();

  // The number of leading entries for which `pred(entry)` holds. `pred` must be monotone over
  // the tree's order (true on a prefix, false after it); the result is then the rank of the
  // first entry for which it fails. With a predicate that is not monotone (a lexicographic
  // range over mixed scores) the answer is some rank, as Redis's skiplist walk gives some node.
  template <typename Pred>
  size_t CountWhile(Pred&& pred) const;
  // The number of entries ordered before (score, member).
  size_t CountLess(double score, std::string_view member) const {
    return CountWhile(
        [score, member](const ScoreEntry& e) { return ZLess(e.score, e.member(), score, member); });
  }

  Cursor First() const;
  Cursor Last() const;
  // The entry of rank `rank` (0-based); invalid when rank >= size().
  Cursor At(size_t rank) const;
  static Cursor Next(Cursor c);
  static Cursor Prev(Cursor c);
  static const ScoreEntry& Get(Cursor c) { return c.leaf->e[c.idx]; }

  // Bytes of the tree's own nodes.
  size_t MemoryUsage() const;
  // Verifies the tree's invariants (sorted entries, counts, smallest keys, leaf links, equal
  // depth); false with a reason in *why. For tests.
  bool Check(std::string* why) const;

 private:
  static Leaf* AsLeaf(NodeBase* n) { return static_cast<Leaf*>(n); }
  static const Leaf* AsLeaf(const NodeBase* n) { return static_cast<const Leaf*>(n); }
  static Inner* AsInner(NodeBase* n) { return static_cast<Inner*>(n); }
  static const Inner* AsInner(const NodeBase* n) { return static_cast<const Inner*>(n); }
  static const ScoreEntry& MinOf(const NodeBase* n) {
    return n->is_leaf ? AsLeaf(n)->e[0] : AsInner(n)->key[0];
  }
  static uint64_t CountOf(const NodeBase* n);

  Leaf* NewLeaf();
  Inner* NewInner();
  void FreeNode(NodeBase* n);
  void FreeSubtree(NodeBase* n);

  // Inserts into the subtree; returns the new right sibling when `n` split. `leftmost` and
  // `rightmost` say whether `n` is the first or the last node of its level.
  NodeBase* InsertRec(NodeBase* n, const ScoreEntry& e, bool leftmost, bool rightmost);
  size_t EraseRec(NodeBase* n, size_t rank, size_t count, const std::function<void(ZNode*)>& fn);
  // After an erase under in->child[i]: frees an emptied child, merges an underfull one with a
  // sibling or moves entries over from it.
  void FixChild(Inner* in, int i);
  static void RemoveChild(Inner* in, int i);
  bool CheckRec(const NodeBase* n, int depth, int* leaf_depth, uint64_t* count,
                const ScoreEntry** prev, std::string* why) const;

  NodeBase* root_ = nullptr;
  size_t size_ = 0;
  size_t leaves_ = 0;
  size_t inners_ = 0;
};

template <typename Pred>
size_t ScoreTree::CountWhile(Pred&& pred) const {
  const NodeBase* n = root_;
  if (n == nullptr) return 0;
  size_t total = 0;
  while (!n->is_leaf) {
    const Inner* in = AsInner(n);
    // The last child whose smallest entry still satisfies pred: every child before it does
    // entirely, every child after it does not at all.
    int lo = 0, hi = in->size;  // pred holds below lo, fails from hi on
    while (lo < hi) {
      int mid = (lo + hi) / 2;
      if (pred(in->key[mid])) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    if (lo == 0) return total;
    for (int j = 0; j < lo - 1; j++) total += in->count[j];
    n = in->child[lo - 1];
  }
  const Leaf* leaf = AsLeaf(n);
  int lo = 0, hi = leaf->size;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (pred(leaf->e[mid])) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return total + static_cast<size_t>(lo);
}

// The hashtable half: member -> node.
using ZNodeTable = IntrusiveTable<ZNode>;

// A large sorted set: the table and the tree over the same nodes.
class ZSetIndex {
 public:
  ZSetIndex();
  ~ZSetIndex();
  ZSetIndex(const ZSetIndex& other);
  ZSetIndex& operator=(const ZSetIndex&) = delete;

  size_t size() const { return tree_.size(); }
  // Not const: a lookup moves the table's incremental rehash along.
  ZNode* Find(std::string_view member) { return table_.Find(member); }
  // Adds a member that is not in the set.
  ZNode* Insert(std::string_view member, double score);
  // Changes a member's score (its place in the order).
  void UpdateScore(ZNode* n, double score);
  // Removes a member; false when absent.
  bool Remove(std::string_view member);
  // The 0-based rank of a member of the set.
  size_t Rank(const ZNode* n) const { return tree_.CountLess(n->score(), n->key()); }
  // Removes `n` entries from rank `rank` on; returns how many.
  size_t EraseRange(size_t rank, size_t n);

  const ScoreTree& tree() const { return tree_; }
  uint64_t Scan(uint64_t cursor, const std::function<void(const ZNode*)>& fn) {
    return table_.Scan(cursor, [&fn](ZNode* n) { fn(n); });
  }
  // Structure bytes: buckets, nodes, tree.
  size_t MemoryUsage() const;

 private:
  ZNodeTable table_;
  ScoreTree tree_;
  size_t node_bytes_ = 0;  // malloc usable size of every node
};

}  // namespace keyward
