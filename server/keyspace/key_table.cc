#include "server/keyspace/key_table.h"

#include <xxhash.h>

#include <bit>

namespace keyward {

KeyTable::KeyTable(uint64_t seed) : seed_(seed) {}

KeyTable::~KeyTable() { Clear(); }

KeyTable::KeyTable(KeyTable&& other) noexcept { *this = std::move(other); }

KeyTable& KeyTable::operator=(KeyTable&& other) noexcept {
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

uint64_t KeyTable::Hash(std::string_view key) const {
  return XXH3_64bits_withSeed(key.data(), key.size(), seed_);
}

Entry** KeyTable::LocateLink(std::string_view key, uint64_t h, int* table) {
  if (size() == 0) return nullptr;
  StepIfRehashing();
  for (int t = 0; t < 2; t++) {
    if (buckets_[t].empty()) continue;
    Entry** link = &buckets_[t][h & (buckets_[t].size() - 1)];
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

Entry** KeyTable::FindLink(std::string_view key) { return FindLink(key, Hash(key)); }

Entry** KeyTable::FindLink(std::string_view key, uint64_t hash) {
  int table;
  return LocateLink(key, hash, &table);
}

Entry* KeyTable::Find(std::string_view key) {
  Entry** link = FindLink(key);
  return link ? *link : nullptr;
}

void KeyTable::Insert(Entry* e) { Insert(e, Hash(e->key())); }

void KeyTable::Insert(Entry* e, uint64_t hash) {
  StepIfRehashing();
  ExpandIfNeeded();
  // While rehashing, new keys go to the new table so the old one only empties.
  int t = rehashing() ? 1 : 0;
  Entry*& bucket = buckets_[t][hash & (buckets_[t].size() - 1)];
  e->set_next(bucket);
  bucket = e;
  used_[t]++;
}

Entry* KeyTable::Remove(std::string_view key) {
  int table;
  Entry** link = LocateLink(key, Hash(key), &table);
  if (link == nullptr) return nullptr;
  Entry* e = *link;
  *link = e->next();
  e->set_next(nullptr);
  used_[table]--;
  return e;
}

void KeyTable::ExpandIfNeeded() {
  if (rehashing()) return;
  if (buckets_[0].empty()) {
    buckets_[0].assign(kInitialSize, nullptr);
    return;
  }
  // Load factor 1, as in Redis (no fork, so resizing is always allowed).
  if (used_[0] >= buckets_[0].size()) Resize(used_[0] + 1);
}

void KeyTable::Resize(size_t min_size) {
  if (rehashing()) return;
  size_t size = std::bit_ceil(std::max(min_size, kInitialSize));
  if (size == buckets_[0].size()) return;
  buckets_[1].assign(size, nullptr);
  used_[1] = 0;
  rehash_idx_ = 0;
}

bool KeyTable::RehashStep(int n) {
  if (!rehashing()) return false;
  int empty_visits = n * 10;  // bound the work on a sparse table, as Redis does
  auto& from = buckets_[0];
  auto& to = buckets_[1];
  while (n-- > 0 && used_[0] != 0) {
    while (from[rehash_idx_] == nullptr) {
      rehash_idx_++;
      if (--empty_visits == 0) return true;
    }
    Entry* e = from[rehash_idx_];
    while (e != nullptr) {
      Entry* next = e->next();
      Entry*& bucket = to[Hash(e->key()) & (to.size() - 1)];
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

void KeyTable::RehashFor(int64_t us, Clock& clock) {
  int64_t deadline = clock.MonotonicUs() + us;
  while (RehashStep(100)) {
    if (clock.MonotonicUs() >= deadline) break;
  }
}

void KeyTable::ShrinkIfSparse() {
  if (rehashing() || buckets_[0].size() <= kInitialSize) return;
  // Redis's HASHTABLE_MIN_FILL: shrink when less than 10% of the buckets are used.
  if (used_[0] * 100 / buckets_[0].size() < 10) Resize(used_[0]);
}

namespace {

// Reverse-binary increment of the cursor's low bits (Pieter Noordhuis's dictScan algorithm):
// iterating high bits first means that buckets already visited stay visited when the table
// doubles or halves.
uint64_t Reverse(uint64_t v) {
  v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
  v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
  v = ((v >> 4) & 0x0F0F0F0F0F0F0F0FULL) | ((v & 0x0F0F0F0F0F0F0F0FULL) << 4);
  return __builtin_bswap64(v);
}

uint64_t NextCursor(uint64_t v, uint64_t mask) {
  v |= ~mask;
  v = Reverse(v);
  v++;
  return Reverse(v);
}

}  // namespace

uint64_t KeyTable::Scan(uint64_t v, const std::function<void(Entry*)>& fn) {
  if (size() == 0) return 0;
  auto visit = [&](BucketArray& table, uint64_t idx) {
    for (Entry* e = table[idx]; e != nullptr;) {
      Entry* next = e->next();  // fn may not unlink, but read next first anyway
      fn(e);
      e = next;
    }
  };
  if (!rehashing()) {
    uint64_t mask = buckets_[0].size() - 1;
    visit(buckets_[0], v & mask);
    return NextCursor(v, mask);
  }
  // Visit the small table's bucket, then every bucket of the large table that expands it.
  int small = buckets_[0].size() <= buckets_[1].size() ? 0 : 1;
  int large = 1 - small;
  uint64_t m0 = buckets_[small].size() - 1;
  uint64_t m1 = buckets_[large].size() - 1;
  visit(buckets_[small], v & m0);
  do {
    visit(buckets_[large], v & m1);
    v = NextCursor(v, m1);
  } while (v & (m0 ^ m1));
  return v;
}

Entry* KeyTable::Random(uint64_t (*rng)(void*), void* state) {
  if (size() == 0) return nullptr;
  StepIfRehashing();
  Entry* head = nullptr;
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
  for (Entry* e = head; e != nullptr; e = e->next()) len++;
  size_t pick = rng(state) % len;
  while (pick--) head = head->next();
  return head;
}

void KeyTable::ForEach(const std::function<void(Entry*)>& fn) const {
  for (int t = 0; t < 2; t++) {
    for (Entry* head : buckets_[t]) {
      for (Entry* e = head; e != nullptr;) {
        Entry* next = e->next();
        fn(e);
        e = next;
      }
    }
  }
}

void KeyTable::Clear() {
  for (int t = 0; t < 2; t++) {
    for (Entry* head : buckets_[t]) {
      while (head != nullptr) {
        Entry* next = head->next();
        Entry::Free(head);
        head = next;
      }
    }
    buckets_[t] = {};
    used_[t] = 0;
  }
  rehash_idx_ = -1;
}

KeyTable KeyTable::TakeAll() {
  KeyTable taken(seed_);
  taken = std::move(*this);
  seed_ = taken.seed_;
  return taken;
}

size_t KeyTable::MemoryUsage() const {
  return (buckets_[0].capacity() + buckets_[1].capacity()) * sizeof(Entry*);
}

}  // namespace keyward
