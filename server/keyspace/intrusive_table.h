// An incrementally rehashed hash table of intrusive nodes: Redis's dict design (two tables,
// incremental rehash, reverse-binary SCAN cursor) with the chain link stored inside each node, so
// an element costs one allocation and one bucket pointer. The keyspace's table (key_table.h) and
// the hashtable encodings of hashes, sets and sorted sets are instances.
//
// - Growing and shrinking never stop the world: a resize allocates the new table and every
//   lookup, insert and removal moves one bucket across (plus RehashFor in the server cron).
// - Scan keeps Redis's guarantee: an element present for the whole scan is returned at least
//   once, even when the table grows or shrinks between calls (it may be returned twice).
//
// A Node provides: std::string_view key() const; Node* next() const; void set_next(Node*);
// Node** next_link(); static void Free(Node*).
#pragma once

#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <new>
#include <string_view>

#include "server/core/clock.h"

namespace keyward {

// A zeroed array of bucket heads. calloc rather than std::vector: a large table comes straight
// from the kernel's zero pages, so growing to millions of buckets costs no memset pass (which
// would stall the event loop for milliseconds).
template <typename Node>
class BucketArray {
 public:
  BucketArray() = default;
  ~BucketArray() { std::free(data_); }
  BucketArray(BucketArray&& o) noexcept : data_(o.data_), size_(o.size_) {
    o.data_ = nullptr;
    o.size_ = 0;
  }
  BucketArray& operator=(BucketArray&& o) noexcept {
    if (this != &o) {
      std::free(data_);
      data_ = o.data_;
      size_ = o.size_;
      o.data_ = nullptr;
      o.size_ = 0;
    }
    return *this;
  }
  void assign(size_t n, std::nullptr_t) {
    std::free(data_);
    data_ = static_cast<Node**>(std::calloc(n, sizeof(Node*)));
    if (data_ == nullptr && n != 0) throw std::bad_alloc();
    size_ = n;
  }
  void clear() { *this = BucketArray(); }
  size_t size() const { return size_; }
  size_t capacity() const { return size_; }
  bool empty() const { return size_ == 0; }
  Node*& operator[](size_t i) { return data_[i]; }
  Node* const& operator[](size_t i) const { return data_[i]; }
  Node** begin() { return data_; }
  Node** end() { return data_ + size_; }
  Node* const* begin() const { return data_; }
  Node* const* end() const { return data_ + size_; }

 private:
  Node** data_ = nullptr;
  size_t size_ = 0;
};

template <typename Node>
class IntrusiveTable {
 public:
  explicit IntrusiveTable(uint64_t seed = 0);
  ~IntrusiveTable();
  IntrusiveTable(const IntrusiveTable&) = delete;
  IntrusiveTable& operator=(const IntrusiveTable&) = delete;
  IntrusiveTable(IntrusiveTable&& other) noexcept;
  IntrusiveTable& operator=(IntrusiveTable&& other) noexcept;

  size_t size() const { return used_[0] + used_[1]; }
  size_t bucket_count() const { return buckets_[0].size() + buckets_[1].size(); }
  bool rehashing() const { return rehash_idx_ >= 0; }

  Node* Find(std::string_view key);
  // The key's hash, for callers that look a key up and then insert it (hash once).
  uint64_t Hash(std::string_view key) const;
  // The link (bucket slot or previous entry's next field) that points at the key's entry, for
  // replacing the entry in place; nullptr when absent.
  Node** FindLink(std::string_view key);
  Node** FindLink(std::string_view key, uint64_t hash);
  // Lookups of a batch in two steps that only load memory (a pipeline's keys, before its
  // commands run): PrefetchSlot for every hash, then PrefetchHead for every hash, so that the
  // cache misses of the bucket slots, then of the first entries, overlap.
  void PrefetchSlot(uint64_t hash) const {
    for (const auto& b : buckets_) {
      if (!b.empty()) __builtin_prefetch(&b[Slot(b, hash)]);
    }
  }
  void PrefetchHead(uint64_t hash) const {
    for (const auto& b : buckets_) {
      if (b.empty()) continue;
      const char* head = reinterpret_cast<const char*>(b[Slot(b, hash)]);
      if (head == nullptr) continue;
      __builtin_prefetch(head);
      __builtin_prefetch(head + 63);  // a small entry (header, key, inline value) may straddle
    }
  }
  // Adds an entry whose key is not in the table.
  void Insert(Node* e);
  // Makes room for about `n` entries at once (the loader, from RESIZEDB): an empty table gets
  // its buckets now, a filled one starts a resize.
  void Reserve(size_t n);
  void Insert(Node* e, uint64_t hash);
  // Unlinks the key's entry and returns it (the caller frees it); nullptr when absent.
  Node* Remove(std::string_view key);
  // Puts `replacement` (same key) where *link pointed.
  static void ReplaceAt(Node** link, Node* replacement) {
    replacement->set_next((*link)->next());
    *link = replacement;
  }

  // Visits the elements of one cursor step; returns the next cursor (0 when the scan is done).
  uint64_t Scan(uint64_t cursor, const std::function<void(Node*)>& fn);
  // A random entry (nullptr when empty), as fair as Redis's dictGetFairRandomKey is not: picks a
  // random non-empty bucket, then a random element of its chain.
  Node* Random(uint64_t (*rng)(void*), void* rng_state);
  // Calls fn on every entry. fn must not modify the table.
  void ForEach(const std::function<void(Node*)>& fn) const;
  // The buckets of both tables as one range of slots, in memory order: a walk over them sees
  // every entry once if the table does not resize meanwhile (the snapshot walks this way and
  // makes another pass when it missed some). fn must not modify the table.
  size_t slot_count() const { return buckets_[0].size() + buckets_[1].size(); }
  template <typename Fn>
  size_t VisitSlot(size_t slot, Fn&& fn) {
    const size_t s0 = buckets_[0].size();
    Node* e = slot < s0 ? buckets_[0][slot] : buckets_[1][slot - s0];
    size_t n = 0;
    for (; e != nullptr; n++) {
      Node* next = e->next();
      fn(e);
      e = next;
    }
    return n;
  }

  // Cron: shrink a sparse table (fill below 10%) and spend up to `us` microseconds rehashing.
  void ShrinkIfSparse();
  void RehashFor(int64_t us, Clock& clock);
  // Moves up to n buckets from the old table to the new one; false when rehashing finished.
  bool RehashStep(int n);

  // Frees every node (Node::Free) and returns the table to its empty state.
  void Clear();
  // Detaches all entries into a new table (for FLUSHALL ASYNC); this table becomes empty.
  IntrusiveTable TakeAll();

  size_t MemoryUsage() const;

 private:
  static constexpr size_t kInitialSize = 4;
  // The bucket of `hash` in `b` (a power-of-two size, not empty).
  static size_t Slot(const BucketArray<Node>& b, uint64_t hash) { return hash & (b.size() - 1); }

  // The link pointing at the key's entry and the table (0 or 1) it is in; nullptr when absent.
  Node** LocateLink(std::string_view key, uint64_t hash, int* table);
  void ExpandIfNeeded();
  void Resize(size_t min_size);
  void StepIfRehashing() {
    if (rehash_idx_ >= 0) RehashStep(1);
  }

  uint64_t seed_;
  BucketArray<Node> buckets_[2];
  size_t used_[2] = {0, 0};
  int64_t rehash_idx_ = -1;  // -1: not rehashing; else the next bucket of table 0 to move
};

template <typename Node>
IntrusiveTable<Node>::IntrusiveTable(uint64_t seed) : seed_(seed) {}

template <typename Node>
IntrusiveTable<Node>::~IntrusiveTable() {
  Clear();
}

template <typename Node>
IntrusiveTable<Node>::IntrusiveTable(IntrusiveTable&& other) noexcept {
  *this = std::move(other);
}

template <typename Node>
IntrusiveTable<Node>& IntrusiveTable<Node>::operator=(IntrusiveTable&& other) noexcept {
  if (this == &other) return *this;
  Clear();
  seed_ = other.seed_;
  for (int t = 0; t < 2; t++) {
    buckets_[t] = std::move(other.buckets_[t]);
    used_[t] = other.used_[t];
    other.buckets_[t].clear();
    other.used_[t] = 0;
  }
  rehash_idx_ = other.rehash_idx_;
  other.rehash_idx_ = -1;
  return *this;
}

template <typename Node>
uint64_t IntrusiveTable<Node>::Hash(std::string_view key) const {
  return XXH3_64bits_withSeed(key.data(), key.size(), seed_);
}

template <typename Node>
Node** IntrusiveTable<Node>::LocateLink(std::string_view key, uint64_t h, int* table) {
  if (size() == 0) return nullptr;
  StepIfRehashing();
  for (int t = 0; t < 2; t++) {
    if (buckets_[t].empty()) continue;
    Node** link = &buckets_[t][Slot(buckets_[t], h)];
    while (*link != nullptr) {
      if ((*link)->key() == key) {
        *table = t;
        return link;
      }
      link = (*link)->next_link();
    }
    if (!rehashing()) break;
  }
  return nullptr;
}

template <typename Node>
Node** IntrusiveTable<Node>::FindLink(std::string_view key) {
  return FindLink(key, Hash(key));
}

template <typename Node>
Node** IntrusiveTable<Node>::FindLink(std::string_view key, uint64_t hash) {
  int table;
  return LocateLink(key, hash, &table);
}

template <typename Node>
Node* IntrusiveTable<Node>::Find(std::string_view key) {
  Node** link = FindLink(key);
  return link ? *link : nullptr;
}

template <typename Node>
void IntrusiveTable<Node>::Insert(Node* e) {
  Insert(e, Hash(e->key()));
}

template <typename Node>
void IntrusiveTable<Node>::Insert(Node* e, uint64_t hash) {
  StepIfRehashing();
  ExpandIfNeeded();
  // While rehashing, new keys go to the new table so the old one only empties.
  int t = rehashing() ? 1 : 0;
  Node*& bucket = buckets_[t][Slot(buckets_[t], hash)];
  e->set_next(bucket);
  bucket = e;
  used_[t]++;
}

template <typename Node>
Node* IntrusiveTable<Node>::Remove(std::string_view key) {
  int table;
  Node** link = LocateLink(key, Hash(key), &table);
  if (link == nullptr) return nullptr;
  Node* e = *link;
  *link = e->next();
  e->set_next(nullptr);
  used_[table]--;
  return e;
}

template <typename Node>
void IntrusiveTable<Node>::Reserve(size_t n) {
  if (rehashing() || n <= buckets_[0].size()) return;
  if (used_[0] == 0) {
    buckets_[0].assign(std::bit_ceil(std::max(n, kInitialSize)), nullptr);
  } else {
    Resize(n);
  }
}

template <typename Node>
void IntrusiveTable<Node>::ExpandIfNeeded() {
  if (rehashing()) return;
  if (buckets_[0].empty()) {
    buckets_[0].assign(kInitialSize, nullptr);
    return;
  }
  // Load factor 1, as in Redis (no fork, so resizing is always allowed).
  if (used_[0] >= buckets_[0].size()) Resize(used_[0] + 1);
}

template <typename Node>
void IntrusiveTable<Node>::Resize(size_t min_size) {
  if (rehashing()) return;
  size_t size = std::bit_ceil(std::max(min_size, kInitialSize));
  if (size == buckets_[0].size()) return;
  buckets_[1].assign(size, nullptr);
  used_[1] = 0;
  rehash_idx_ = 0;
}

template <typename Node>
bool IntrusiveTable<Node>::RehashStep(int n) {
  if (!rehashing()) return false;
  int empty_visits = n * 10;  // bound the work on a sparse table, as Redis does
  auto& from = buckets_[0];
  auto& to = buckets_[1];
  while (n-- > 0 && used_[0] != 0) {
    while (from[rehash_idx_] == nullptr) {
      rehash_idx_++;
      if (--empty_visits == 0) return true;
    }
    Node* e = from[rehash_idx_];
    while (e != nullptr) {
      Node* next = e->next();
      Node*& bucket = to[Slot(to, Hash(e->key()))];
      e->set_next(bucket);
      bucket = e;
      used_[0]--;
      used_[1]++;
      e = next;
    }
    from[rehash_idx_] = nullptr;
    rehash_idx_++;
  }
  if (used_[0] == 0) {
    buckets_[0] = std::move(buckets_[1]);
    buckets_[1] = {};
    used_[0] = used_[1];
    used_[1] = 0;
    rehash_idx_ = -1;
    return false;
  }
  return true;
}

template <typename Node>
void IntrusiveTable<Node>::RehashFor(int64_t us, Clock& clock) {
  int64_t deadline = clock.MonotonicUs() + us;
  while (RehashStep(100)) {
    if (clock.MonotonicUs() >= deadline) break;
  }
}

template <typename Node>
void IntrusiveTable<Node>::ShrinkIfSparse() {
  if (rehashing() || buckets_[0].size() <= kInitialSize) return;
  // Redis's HASHTABLE_MIN_FILL: shrink when less than 10% of the buckets are used.
  if (used_[0] * 100 / buckets_[0].size() < 10) Resize(used_[0]);
}

namespace table_detail {

// Reverse-binary increment of the cursor's low bits (Pieter Noordhuis's dictScan algorithm):
// iterating high bits first means that buckets already visited stay visited when the table
// doubles or halves.
inline uint64_t Reverse(uint64_t v) {
  v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
  v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
  v = ((v >> 4) & 0x0F0F0F0F0F0F0F0FULL) | ((v & 0x0F0F0F0F0F0F0F0FULL) << 4);
  return __builtin_bswap64(v);
}

inline uint64_t NextCursor(uint64_t v, uint64_t mask) {
  v |= ~mask;
  v = Reverse(v);
  v++;
  return Reverse(v);
}

}  // namespace table_detail

template <typename Node>
uint64_t IntrusiveTable<Node>::Scan(uint64_t v, const std::function<void(Node*)>& fn) {
  if (size() == 0) return 0;
  auto visit = [&](BucketArray<Node>& table, uint64_t idx) {
    for (Node* e = table[idx]; e != nullptr;) {
      Node* next = e->next();  // fn may not unlink, but read next first anyway
      fn(e);
      e = next;
    }
  };
  if (!rehashing()) {
    uint64_t mask = buckets_[0].size() - 1;
    visit(buckets_[0], v & mask);
    return table_detail::NextCursor(v, mask);
  }
  // Visit the small table's bucket, then every bucket of the large table that expands it.
  int small = buckets_[0].size() <= buckets_[1].size() ? 0 : 1;
  int large = 1 - small;
  uint64_t m0 = buckets_[small].size() - 1;
  uint64_t m1 = buckets_[large].size() - 1;
  visit(buckets_[small], v & m0);
  do {
    visit(buckets_[large], v & m1);
    v = table_detail::NextCursor(v, m1);
  } while (v & (m0 ^ m1));
  return v;
}

template <typename Node>
Node* IntrusiveTable<Node>::Random(uint64_t (*rng)(void*), void* state) {
  if (size() == 0) return nullptr;
  StepIfRehashing();
  Node* head = nullptr;
  if (rehashing()) {
    // Buckets below rehash_idx_ in the old table are empty: skip them.
    size_t s0 = buckets_[0].size(), s1 = buckets_[1].size();
    while (head == nullptr) {
      uint64_t h = static_cast<uint64_t>(rehash_idx_) + rng(state) % (s0 + s1 - rehash_idx_);
      head = h >= s0 ? buckets_[1][h - s0] : buckets_[0][h];
    }
  } else {
    size_t s0 = buckets_[0].size();
    while (head == nullptr) head = buckets_[0][rng(state) & (s0 - 1)];
  }
  size_t len = 0;
  for (Node* e = head; e != nullptr; e = e->next()) len++;
  size_t pick = rng(state) % len;
  while (pick--) head = head->next();
  return head;
}

template <typename Node>
void IntrusiveTable<Node>::ForEach(const std::function<void(Node*)>& fn) const {
  for (int t = 0; t < 2; t++) {
    for (Node* head : buckets_[t]) {
      for (Node* e = head; e != nullptr;) {
        Node* next = e->next();
        fn(e);
        e = next;
      }
    }
  }
}

template <typename Node>
void IntrusiveTable<Node>::Clear() {
  for (int t = 0; t < 2; t++) {
    for (Node* head : buckets_[t]) {
      while (head != nullptr) {
        Node* next = head->next();
        Node::Free(head);
        head = next;
      }
    }
    buckets_[t] = {};
    used_[t] = 0;
  }
  rehash_idx_ = -1;
}

template <typename Node>
IntrusiveTable<Node> IntrusiveTable<Node>::TakeAll() {
  IntrusiveTable taken(seed_);
  taken = std::move(*this);
  seed_ = taken.seed_;
  return taken;
}

template <typename Node>
size_t IntrusiveTable<Node>::MemoryUsage() const {
  return (buckets_[0].capacity() + buckets_[1].capacity()) * sizeof(Node*);
}

}  // namespace keyward
