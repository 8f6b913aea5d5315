// Redis's intset (intset.c), byte for byte: the compact encoding of small sets of integers.
//
//   uint32 encoding    bytes per element: 2, 4 or 8 (little-endian)
//   uint32 length      number of elements
//   int{16,32,64} contents[length]     sorted ascending, no duplicates, little-endian
//
// One allocation holds the whole blob, sized exactly (Redis reallocs on every insert and
// removal, and so does this). Lookups are a binary search. Adding a value that does not fit the
// current width upgrades every element to the wider one; the width never shrinks back. Because
// the layout is Redis's, the blob is what an RDB file stores for RDB_TYPE_SET_INTSET.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace keyward {

class Intset {
 public:
  // An empty set of the narrowest width (2 bytes).
  Intset();
  ~Intset();
  Intset(const Intset& other);
  Intset& operator=(const Intset& other);
  Intset(Intset&& other) noexcept;
  Intset& operator=(Intset&& other) noexcept;

  // A copy of a blob in the layout above (an RDB payload), checked as Redis's
  // intsetValidateIntegrity does: a known width, a length matching the size, not empty, and
  // (with `deep`) sorted without duplicates. nullopt when it is not a valid intset.
  static std::optional<Intset> FromBytes(std::string_view blob, bool deep = true);

  uint32_t size() const;
  bool empty() const { return size() == 0; }
  // Bytes per element: 2, 4 or 8.
  uint32_t width() const;
  // The element at `pos` (0 <= pos < size()), in ascending order.
  int64_t Get(uint32_t pos) const;

  // Inserts `v`; false when it was already present.
  bool Add(int64_t v);
  // Removes `v`; false when it was absent.
  bool Remove(int64_t v);
  bool Contains(int64_t v) const;

  // The blob (header and contents), as written to RDB.
  std::string_view bytes() const;
  // The allocation, for memory accounting (malloc usable size).
  size_t MemoryUsage() const;

  // The width an element needs (_intsetValueEncoding).
  static uint32_t WidthFor(int64_t v);

 private:
  static constexpr size_t kHeaderSize = 8;

  explicit Intset(unsigned char* blob) : blob_(blob) {}
  void SetSize(uint32_t n);
  void SetWidth(uint32_t w);
  // The element at `pos` read with width `w` (during an upgrade the two differ).
  int64_t GetWith(uint32_t pos, uint32_t w) const;
  void Set(uint32_t pos, int64_t v);
  // Reallocates for `n` elements of the current width.
  void Resize(uint32_t n);
  // Binary search: true with *pos at `v`, or false with *pos where `v` would be inserted.
  bool Search(int64_t v, uint32_t* pos) const;
  void UpgradeAndAdd(int64_t v);
  unsigned char* contents() const { return blob_ + kHeaderSize; }

  unsigned char* blob_;
};

}  // namespace keyward
