#include "server/keyspace/score_tree.h"

#include <malloc.h>

#include <algorithm>
#include <cstdlib>
#include <new>
#include <random>
#include <string>

namespace keyward {

namespace {

// One seed per process for the member tables (as field_table.cc's).
uint64_t ProcessSeed() {
  static const uint64_t seed = std::random_device{}() | (uint64_t{std::random_device{}()} << 32);
  return seed;
}

// Where the member bytes start: right after the length field.
constexpr size_t kZNodeHeader = sizeof(ZNode*) + sizeof(double) + sizeof(uint32_t);

}  // namespace

// --- ZNode ------------------------------------------------------------------------------------

ZNode* ZNode::New(std::string_view member, double score) {
  // At least the object's own size (a member of under 4 bytes lands in the same malloc chunk).
  const size_t bytes = std::max(sizeof(ZNode), kZNodeHeader + member.size());
  void* mem = std::malloc(bytes);
  if (mem == nullptr) throw std::bad_alloc();
  auto* n = new (mem) ZNode();
  n->score_ = score;
  n->len_ = static_cast<uint32_t>(member.size());
  if (!member.empty()) std::memcpy(n->data(), member.data(), member.size());
  return n;
}

void ZNode::Free(ZNode* n) {
  n->~ZNode();
  std::free(n);
}

size_t ZNode::MemoryUsage() const { return malloc_usable_size(const_cast<ZNode*>(this)); }

// --- ScoreTree --------------------------------------------------------------------------------

uint64_t ScoreTree::CountOf(const NodeBase* n) {
  if (n->is_leaf) return n->size;
  const Inner* in = AsInner(n);
  uint64_t total = 0;
  for (int i = 0; i < in->size; i++) total += in->count[i];
  return total;
}

ScoreTree::Leaf* ScoreTree::NewLeaf() {
  Leaf* l = new Leaf;
  l->is_leaf = true;
  l->size = 0;
  l->prev = l->next = nullptr;
  leaves_++;
  return l;
}

ScoreTree::Inner* ScoreTree::NewInner() {
  Inner* in = new Inner;
  in->is_leaf = false;
  in->size = 0;
  inners_++;
  return in;
}

void ScoreTree::FreeNode(NodeBase* n) {
  if (n->is_leaf) {
    Leaf* l = AsLeaf(n);
    if (l->prev != nullptr) l->prev->next = l->next;
    if (l->next != nullptr) l->next->prev = l->prev;
    leaves_--;
    delete l;
  } else {
    inners_--;
    delete AsInner(n);
  }
}

void ScoreTree::FreeSubtree(NodeBase* n) {
  if (!n->is_leaf) {
    Inner* in = AsInner(n);
    for (int i = 0; i < in->size; i++) FreeSubtree(in->child[i]);
    inners_--;
    delete in;
  } else {
    leaves_--;
    delete AsLeaf(n);
  }
}

void ScoreTree::Clear() {
  if (root_ != nullptr) FreeSubtree(root_);
  root_ = nullptr;
  size_ = 0;
}

void ScoreTree::Insert(double score, ZNode* node) {
  const ScoreEntry e{score, node};
  if (root_ == nullptr) root_ = NewLeaf();
  NodeBase* right = InsertRec(root_, e, true, true);
  if (right != nullptr) {
    Inner* r = NewInner();
    r->size = 2;
    r->child[0] = root_;
    r->child[1] = right;
    r->key[0] = MinOf(root_);
    r->key[1] = MinOf(right);
    r->count[0] = CountOf(root_);
    r->count[1] = CountOf(right);
    root_ = r;
  }
  size_++;
}

ScoreTree::NodeBase* ScoreTree::InsertRec(NodeBase* n, const ScoreEntry& e, bool leftmost,
                                          bool rightmost) {
  auto less = [](const ScoreEntry& a, const ScoreEntry& b) {
    return ZLess(a.score, a.member(), b.score, b.member());
  };
  if (n->is_leaf) {
    Leaf* l = AsLeaf(n);
    const int pos = static_cast<int>(std::lower_bound(l->e, l->e + l->size, e, less) - l->e);
    auto insert_at = [](Leaf* leaf, int at, const ScoreEntry& entry) {
      std::memmove(&leaf->e[at + 1], &leaf->e[at], (leaf->size - at) * sizeof(ScoreEntry));
      leaf->e[at] = entry;
      leaf->size++;
    };
    if (l->size < kLeafCap) {
      insert_at(l, pos, e);
      return nullptr;
    }
    // Split. Appending past the last leaf (ascending scores, the common time-series case) or
    // prepending before the first starts a new leaf and leaves the full one full, so such sets
    // end up with full leaves instead of half-full ones.
    int keep;
    if (pos == kLeafCap && rightmost) {
      keep = kLeafCap;
    } else if (pos == 0 && leftmost) {
      keep = 0;
    } else {
      keep = (kLeafCap + 1) / 2;
    }
    Leaf* r = NewLeaf();
    r->next = l->next;
    r->prev = l;
    if (l->next != nullptr) l->next->prev = r;
    l->next = r;
    r->size = static_cast<uint16_t>(kLeafCap - keep);
    std::memcpy(r->e, &l->e[keep], r->size * sizeof(ScoreEntry));
    l->size = static_cast<uint16_t>(keep);
    if (pos < keep || (pos == keep && keep != kLeafCap)) {
      insert_at(l, pos, e);
    } else {
      insert_at(r, pos - keep, e);
    }
    return r;
  }

  Inner* in = AsInner(n);
  // The last child whose smallest entry is below e (the first child when none is).
  int lo = 1, hi = in->size;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (less(in->key[mid], e)) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  const int i = lo - 1;
  NodeBase* c = in->child[i];
  NodeBase* right = InsertRec(c, e, leftmost && i == 0, rightmost && i == in->size - 1);
  in->key[i] = MinOf(c);
  if (right == nullptr) {
    in->count[i]++;
    return nullptr;
  }
  in->count[i] = CountOf(c);
  const uint64_t right_count = CountOf(right);
  auto insert_child = [](Inner* node, int at, NodeBase* child, uint64_t count) {
    const int tail = node->size - at;
    std::memmove(&node->key[at + 1], &node->key[at], tail * sizeof(ScoreEntry));
    std::memmove(&node->child[at + 1], &node->child[at], tail * sizeof(NodeBase*));
    std::memmove(&node->count[at + 1], &node->count[at], tail * sizeof(uint64_t));
    node->key[at] = MinOf(child);
    node->child[at] = child;
    node->count[at] = count;
    node->size++;
  };
  if (in->size < kInnerCap) {
    insert_child(in, i + 1, right, right_count);
    return nullptr;
  }
  // Split, with the same bias as leaves: a new child past the end of the last node of its level
  // starts a node of its own, one before the start of the first takes a node of its own.
  Inner* r = NewInner();
  int keep = kInnerCap / 2;
  bool biased = true;
  if (i + 1 == kInnerCap && rightmost) {
    keep = kInnerCap;
  } else if (i == 0 && leftmost) {
    keep = 1;
  } else {
    biased = false;
  }
  r->size = static_cast<uint16_t>(kInnerCap - keep);
  std::memcpy(r->key, &in->key[keep], r->size * sizeof(ScoreEntry));
  std::memcpy(r->child, &in->child[keep], r->size * sizeof(NodeBase*));
  std::memcpy(r->count, &in->count[keep], r->size * sizeof(uint64_t));
  in->size = static_cast<uint16_t>(keep);
  if (i + 1 < keep || (i + 1 == keep && !biased)) {
    insert_child(in, i + 1, right, right_count);
  } else {
    insert_child(r, i + 1 - keep, right, right_count);
  }
  return r;
}

void ScoreTree::Erase(double score, const ZNode* node) {
  const size_t rank = CountLess(score, node->key());
  EraseRange(rank, 1, nullptr);
}

size_t ScoreTree::EraseRange(size_t rank, size_t n, const std::function<void(ZNode*)>& fn) {
  if (root_ == nullptr || n == 0 || rank >= size_) return 0;
  const size_t removed = EraseRec(root_, rank, n, fn);
  size_ -= removed;
  // A root with one child hands over to it; an emptied root goes.
  while (!root_->is_leaf && root_->size == 1) {
    NodeBase* child = AsInner(root_)->child[0];
    FreeNode(root_);
    root_ = child;
  }
  if (root_->size == 0) {
    FreeNode(root_);
    root_ = nullptr;
  }
  return removed;
}

size_t ScoreTree::EraseRec(NodeBase* n, size_t rank, size_t count,
                           const std::function<void(ZNode*)>& fn) {
  if (n->is_leaf) {
    Leaf* l = AsLeaf(n);
    const size_t r = rank;
    const size_t k = std::min<size_t>(count, l->size - r);
    if (fn) {
      for (size_t j = r; j < r + k; j++) fn(l->e[j].node);
    }
    std::memmove(&l->e[r], &l->e[r + k], (l->size - r - k) * sizeof(ScoreEntry));
    l->size = static_cast<uint16_t>(l->size - k);
    return k;
  }
  Inner* in = AsInner(n);
  size_t removed = 0;
  // Entries before `rank` are never touched, so `rank` keeps naming the next entry to remove
  // while children shrink, merge or go.
  while (count > 0) {
    int i = 0;
    size_t local = rank;
    while (i < in->size && local >= in->count[i]) {
      local -= in->count[i];
      i++;
    }
    if (i == in->size) break;
    const size_t k = EraseRec(in->child[i], local, count, fn);
    in->count[i] -= k;
    removed += k;
    count -= k;
    if (in->count[i] > 0) in->key[i] = MinOf(in->child[i]);
    FixChild(in, i);
  }
  return removed;
}

void ScoreTree::RemoveChild(Inner* in, int i) {
  const int tail = in->size - i - 1;
  std::memmove(&in->key[i], &in->key[i + 1], tail * sizeof(ScoreEntry));
  std::memmove(&in->child[i], &in->child[i + 1], tail * sizeof(NodeBase*));
  std::memmove(&in->count[i], &in->count[i + 1], tail * sizeof(uint64_t));
  in->size--;
}

void ScoreTree::FixChild(Inner* in, int i) {
  NodeBase* c = in->child[i];
  if (c->size == 0) {
    RemoveChild(in, i);
    FreeNode(c);
    return;
  }
  const int cap = c->is_leaf ? kLeafCap : kInnerCap;
  if (c->size >= cap / 4 || in->size == 1) return;
  const int left = i > 0 ? i - 1 : i;
  const int right = left + 1;
  NodeBase* l = in->child[left];
  NodeBase* r = in->child[right];
  const int total = l->size + r->size;
  if (total <= cap) {
    // Merge the right node into the left one.
    if (l->is_leaf) {
      std::memcpy(&AsLeaf(l)->e[l->size], AsLeaf(r)->e, r->size * sizeof(ScoreEntry));
    } else {
      Inner* li = AsInner(l);
      const Inner* ri = AsInner(r);
      std::memcpy(&li->key[l->size], ri->key, r->size * sizeof(ScoreEntry));
      std::memcpy(&li->child[l->size], ri->child, r->size * sizeof(NodeBase*));
      std::memcpy(&li->count[l->size], ri->count, r->size * sizeof(uint64_t));
    }
    l->size = static_cast<uint16_t>(total);
    in->count[left] += in->count[right];
    RemoveChild(in, right);
    FreeNode(r);
    return;
  }
  // Even the two out: move entries from the fuller to the emptier.
  const int want_left = total / 2;
  if (l->is_leaf) {
    Leaf* ll = AsLeaf(l);
    Leaf* rl = AsLeaf(r);
    if (ll->size < want_left) {
      const int m = want_left - ll->size;
      std::memcpy(&ll->e[ll->size], rl->e, m * sizeof(ScoreEntry));
      std::memmove(rl->e, &rl->e[m], (rl->size - m) * sizeof(ScoreEntry));
      ll->size = static_cast<uint16_t>(ll->size + m);
      rl->size = static_cast<uint16_t>(rl->size - m);
      in->count[left] += m;
      in->count[right] -= m;
    } else {
      const int m = ll->size - want_left;
      std::memmove(&rl->e[m], rl->e, rl->size * sizeof(ScoreEntry));
      std::memcpy(rl->e, &ll->e[want_left], m * sizeof(ScoreEntry));
      ll->size = static_cast<uint16_t>(want_left);
      rl->size = static_cast<uint16_t>(rl->size + m);
      in->count[left] -= m;
      in->count[right] += m;
    }
  } else {
    Inner* li = AsInner(l);
    Inner* ri = AsInner(r);
    uint64_t moved = 0;
    if (li->size < want_left) {
      const int m = want_left - li->size;
      for (int j = 0; j < m; j++) moved += ri->count[j];
      std::memcpy(&li->key[li->size], ri->key, m * sizeof(ScoreEntry));
      std::memcpy(&li->child[li->size], ri->child, m * sizeof(NodeBase*));
      std::memcpy(&li->count[li->size], ri->count, m * sizeof(uint64_t));
      const int rest = ri->size - m;
      std::memmove(ri->key, &ri->key[m], rest * sizeof(ScoreEntry));
      std::memmove(ri->child, &ri->child[m], rest * sizeof(NodeBase*));
      std::memmove(ri->count, &ri->count[m], rest * sizeof(uint64_t));
      li->size = static_cast<uint16_t>(li->size + m);
      ri->size = static_cast<uint16_t>(rest);
      in->count[left] += moved;
      in->count[right] -= moved;
    } else {
      const int m = li->size - want_left;
      for (int j = want_left; j < li->size; j++) moved += li->count[j];
      std::memmove(&ri->key[m], ri->key, ri->size * sizeof(ScoreEntry));
      std::memmove(&ri->child[m], ri->child, ri->size * sizeof(NodeBase*));
      std::memmove(&ri->count[m], ri->count, ri->size * sizeof(uint64_t));
      std::memcpy(ri->key, &li->key[want_left], m * sizeof(ScoreEntry));
      std::memcpy(ri->child, &li->child[want_left], m * sizeof(NodeBase*));
      std::memcpy(ri->count, &li->count[want_left], m * sizeof(uint64_t));
      li->size = static_cast<uint16_t>(want_left);
      ri->size = static_cast<uint16_t>(ri->size + m);
      in->count[left] -= moved;
      in->count[right] += moved;
    }
  }
  in->key[left] = MinOf(l);
  in->key[right] = MinOf(r);
}

ScoreTree::Cursor ScoreTree::First() const {
  const NodeBase* n = root_;
  if (n == nullptr) return {};
  while (!n->is_leaf) n = AsInner(n)->child[0];
  return {AsLeaf(n), 0};
}

ScoreTree::Cursor ScoreTree::Last() const {
  const NodeBase* n = root_;
  if (n == nullptr) return {};
  while (!n->is_leaf) n = AsInner(n)->child[n->size - 1];
  return {AsLeaf(n), n->size - 1};
}

ScoreTree::Cursor ScoreTree::At(size_t rank) const {
  if (rank >= size_) return {};
  const NodeBase* n = root_;
  while (!n->is_leaf) {
    const Inner* in = AsInner(n);
    int i = 0;
    while (rank >= in->count[i]) rank -= in->count[i++];
    n = in->child[i];
  }
  return {AsLeaf(n), static_cast<int>(rank)};
}

ScoreTree::Cursor ScoreTree::Next(Cursor c) {
  if (c.idx + 1 < c.leaf->size) return {c.leaf, c.idx + 1};
  if (c.leaf->next == nullptr) return {};
  return {c.leaf->next, 0};
}

ScoreTree::Cursor ScoreTree::Prev(Cursor c) {
  if (c.idx > 0) return {c.leaf, c.idx - 1};
  if (c.leaf->prev == nullptr) return {};
  return {c.leaf->prev, c.leaf->prev->size - 1};
}

size_t ScoreTree::MemoryUsage() const {
  // The malloc chunks of the node structs (16-byte granularity, 8 bytes of header).
  auto chunk = [](size_t bytes) { return (bytes + 8 + 15) & ~size_t{15}; };
  return leaves_ * chunk(sizeof(Leaf)) + inners_ * chunk(sizeof(Inner));
}

bool ScoreTree::Check(std::string* why) const {
  if (root_ == nullptr) {
    if (size_ != 0) {
      *why = "empty tree with size " + std::to_string(size_);
      return false;
    }
    return true;
  }
  int leaf_depth = -1;
  uint64_t count = 0;
  const ScoreEntry* prev = nullptr;
  if (!CheckRec(root_, 0, &leaf_depth, &count, &prev, why)) return false;
  if (count != size_) {
    *why = "size " + std::to_string(size_) + " but " + std::to_string(count) + " entries";
    return false;
  }
  // The leaf chain visits every entry in order, both ways.
  size_t forward = 0, backward = 0;
  for (Cursor c = First(); c.valid(); c = Next(c)) forward++;
  for (Cursor c = Last(); c.valid(); c = Prev(c)) backward++;
  if (forward != size_ || backward != size_) {
    *why = "leaf chain has " + std::to_string(forward) + "/" + std::to_string(backward);
    return false;
  }
  return true;
}

bool ScoreTree::CheckRec(const NodeBase* n, int depth, int* leaf_depth, uint64_t* count,
                         const ScoreEntry** prev, std::string* why) const {
  if (n->size == 0) {
    *why = "empty node";
    return false;
  }
  if (n->is_leaf) {
    if (*leaf_depth == -1) *leaf_depth = depth;
    if (*leaf_depth != depth) {
      *why = "leaves at different depths";
      return false;
    }
    const Leaf* l = AsLeaf(n);
    for (int i = 0; i < l->size; i++) {
      const ScoreEntry& e = l->e[i];
      if (e.score != e.node->score()) {
        *why = "entry score differs from its node's";
        return false;
      }
      if (*prev != nullptr && !ZLess((*prev)->score, (*prev)->member(), e.score, e.member())) {
        *why = "entries out of order";
        return false;
      }
      *prev = &e;
    }
    *count += l->size;
    return true;
  }
  const Inner* in = AsInner(n);
  for (int i = 0; i < in->size; i++) {
    const ScoreEntry& m = MinOf(in->child[i]);
    if (m.node != in->key[i].node || m.score != in->key[i].score) {
      *why = "separator is not the child's smallest entry";
      return false;
    }
    uint64_t sub = 0;
    if (!CheckRec(in->child[i], depth + 1, leaf_depth, &sub, prev, why)) return false;
    if (sub != in->count[i]) {
      *why = "child count " + std::to_string(in->count[i]) + " but " + std::to_string(sub);
      return false;
    }
    *count += sub;
  }
  return true;
}

// --- ZSetIndex --------------------------------------------------------------------------------

ZSetIndex::ZSetIndex() : table_(ProcessSeed()) {}

ZSetIndex::~ZSetIndex() {
  tree_.Clear();
  table_.Clear();
}

ZSetIndex::ZSetIndex(const ZSetIndex& other) : table_(ProcessSeed()) {
  // In order: every insert appends to the last leaf, which then stays full.
  for (auto c = other.tree_.First(); c.valid(); c = ScoreTree::Next(c)) {
    const ScoreEntry& e = ScoreTree::Get(c);
    Insert(e.member(), e.score);
  }
}

ZNode* ZSetIndex::Insert(std::string_view member, double score) {
  ZNode* n = ZNode::New(member, score);
  table_.Insert(n);
  tree_.Insert(score, n);
  node_bytes_ += n->MemoryUsage();
  return n;
}

void ZSetIndex::UpdateScore(ZNode* n, double score) {
  tree_.Erase(n->score(), n);
  n->set_score(score);
  tree_.Insert(score, n);
}

bool ZSetIndex::Remove(std::string_view member) {
  ZNode* n = table_.Remove(member);
  if (n == nullptr) return false;
  tree_.Erase(n->score(), n);
  node_bytes_ -= n->MemoryUsage();
  ZNode::Free(n);
  // Redis shrinks a collection's table as it empties (htNeedsResize after a delete).
  table_.ShrinkIfSparse();
  return true;
}

size_t ZSetIndex::EraseRange(size_t rank, size_t n) {
  const size_t removed = tree_.EraseRange(rank, n, [this](ZNode* node) {
    table_.Remove(node->key());
    node_bytes_ -= node->MemoryUsage();
    ZNode::Free(node);
  });
  table_.ShrinkIfSparse();
  return removed;
}

size_t ZSetIndex::MemoryUsage() const {
  return table_.MemoryUsage() + node_bytes_ + tree_.MemoryUsage();
}

}  // namespace keyward
