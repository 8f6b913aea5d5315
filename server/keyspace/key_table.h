// The keyspace hash table: Redis's dict design (two tables, incremental rehash, reverse-binary
// SCAN cursor) with the chain link stored inside each Entry, so a key costs one allocation and one
// bucket pointer.
//
// - Growing and shrinking never stop the world: a resize allocates the new table and every
//   lookup, insert and removal moves one bucket across (plus RehashFor in the server cron).
// - Scan keeps Redis's guarantee: an element present for the whole scan is returned at least
//   once, even when the table grows or shrinks between calls (it may be returned twice).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <new>
#include <string_view>
#include <vector>

#include "server/core/clock.h"
#include "server/keyspace/entry.h"

namespace keyward {

// A zeroed array of bucket heads. calloc rather than std::vector: a large table comes straight
// from the kernel's zero pages, so growing to millions of buckets costs no memset pass (which
// would stall the event loop for milliseconds).
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
    data_ = static_cast<Entry**>(std::calloc(n, sizeof(Entry*)));
    if (data_ == nullptr && n != 0) throw std::bad_alloc();
    size_ = n;
  }
  void clear() { *this = BucketArray(); }
  size_t size() const { return size_; }
  size_t capacity() const { return size_; }
  bool empty() const { return size_ == 0; }
  Entry*& operator[](size_t i) { return data_[i]; }
  Entry* const& operator[](size_t i) const { return data_[i]; }
  Entry** begin() { return data_; }
  Entry** end() { return data_ + size_; }
  Entry* const* begin() const { return data_; }
  Entry* const* end() const { return data_ + size_; }

 private:
  Entry** data_ = nullptr;
  size_t size_ = 0;
};

class KeyTable {
 public:
  explicit KeyTable(uint64_t seed = 0);
  ~KeyTable();
  KeyTable(const KeyTable&) = delete;
  KeyTable& operator=(const KeyTable&) = delete;
  KeyTable(KeyTable&& other) noexcept;
  KeyTable& operator=(KeyTable&& other) noexcept;

  size_t size() const { return used_[0] + used_[1]; }
  size_t bucket_count() const { return buckets_[0].size() + buckets_[1].size(); }
  bool rehashing() const { return rehash_idx_ >= 0; }

  Entry* Find(std::string_view key);
  // The key's hash, for callers that look a key up and then insert it (hash once).
  uint64_t Hash(std::string_view key) const;
  // The link (bucket slot or previous entry's next field) that points at the key's entry, for
  // replacing the entry in place; nullptr when absent.
  Entry** FindLink(std::string_view key);
  Entry** FindLink(std::string_view key, uint64_t hash);
  // Adds an entry whose key is not in the table.
  void Insert(Entry* e);
  void Insert(Entry* e, uint64_t hash);
  // Unlinks the key's entry and returns it (the caller frees it); nullptr when absent.
  Entry* Remove(std::string_view key);
  // Puts `replacement` (same key) where *link pointed.
  static void ReplaceAt(Entry** link, Entry* replacement) {
    replacement->set_next((*link)->next());
    *link = replacement;
  }

  // Visits the elements of one cursor step; returns the next cursor (0 when the scan is done).
  uint64_t Scan(uint64_t cursor, const std::function<void(Entry*)>& fn);
  // A random entry (nullptr when empty), as fair as Redis's dictGetFairRandomKey is not: picks a
  // random non-empty bucket, then a random element of its chain.
  Entry* Random(uint64_t (*rng)(void*), void* rng_state);
  // Calls fn on every entry. fn must not modify the table.
  void ForEach(const std::function<void(Entry*)>& fn) const;

  // Cron: shrink a sparse table (fill below 10%) and spend up to `us` microseconds rehashing.
  void ShrinkIfSparse();
  void RehashFor(int64_t us, Clock& clock);
  // Moves up to n buckets from the old table to the new one; false when rehashing finished.
  bool RehashStep(int n);

  // Frees every entry (Entry::Free) and returns the table to its empty state.
  void Clear();
  // Detaches all entries into a new table (for FLUSHALL ASYNC); this table becomes empty.
  KeyTable TakeAll();

  size_t MemoryUsage() const;

 private:
  static constexpr size_t kInitialSize = 4;

  // The link pointing at the key's entry and the table (0 or 1) it is in; nullptr when absent.
  Entry** LocateLink(std::string_view key, uint64_t hash, int* table);
  void ExpandIfNeeded();
  void Resize(size_t min_size);
  void StepIfRehashing() {
    if (rehash_idx_ >= 0) RehashStep(1);
  }

  uint64_t seed_;
  BucketArray buckets_[2];
  size_t used_[2] = {0, 0};
  int64_t rehash_idx_ = -1;  // -1: not rehashing; else the next bucket of table 0 to move
};

}  // namespace keyward
