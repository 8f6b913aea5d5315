// A listpack: Redis 7.0's compact sequence of strings and integers in one allocation, byte for
// byte in Redis's format (listpack.c), so that small hashes, sorted sets and the nodes of a list
// cost what they cost in Redis and RDB can write and read them as they are.
//
//   <total-bytes u32> <count u16> <entry> ... <entry> <0xFF>
//   entry: <encoding+data> <backlen>   (backlen: the size of encoding+data, readable from the
//   right)
//
// An element that is a canonical integer (string2ll) is stored as an integer of 7, 13, 16, 24, 32
// or 64 bits; anything else as a string with a 6, 12 or 32-bit length. The count saturates at
// 65535 (then it is counted by walking, as Redis does).
//
// Positions are byte offsets of entries (stable until the next change); kEnd marks "none".
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace keyward {

// One element read from a listpack: a string, or an integer (its decimal form on demand).
struct LpElement {
  std::string_view str;  // valid when !is_int
  int64_t value = 0;     // valid when is_int
  bool is_int = false;

  // The element as a string; `buf` (at least 21 bytes) holds an integer's digits.
  std::string_view View(char* buf) const;
  std::string ToString() const;
  bool Equals(std::string_view s) const;
};

class Listpack {
 public:
  static constexpr uint32_t kEnd = UINT32_MAX;
  // Redis's LISTPACK_MAX_SAFETY_SIZE: no listpack grows past 1 GiB.
  static constexpr size_t kMaxSafetySize = 1 << 30;

  Listpack();
  ~Listpack();
  Listpack(const Listpack& other);
  Listpack& operator=(const Listpack& other);
  Listpack(Listpack&& other) noexcept;
  Listpack& operator=(Listpack&& other) noexcept;
  // Adopts a listpack's bytes (a malloc'd buffer in Redis's format, e.g. from RDB).
  static Listpack Adopt(unsigned char* bytes);
  // A copy of a blob from an RDB or DUMP payload, checked as Redis's lpValidateIntegrity does
  // with deep validation: the header's size matches, every entry has a known encoding, stays
  // inside the blob and ends with a backlen that agrees with it, the entries end exactly at the
  // terminator, and the count (unless saturated) is right. nullopt when it is not a listpack.
  static std::optional<Listpack> FromBytes(std::string_view blob);

  size_t bytes() const;
  size_t size() const;  // number of elements
  bool empty() const { return size() == 0; }
  // The allocation, for memory accounting (malloc usable size).
  size_t MemoryUsage() const;
  std::string_view raw() const { return {reinterpret_cast<const char*>(lp_), bytes()}; }

  // Navigation: First/Last/Next/Prev return kEnd past the ends.
  uint32_t First() const;
  uint32_t Last() const;
  uint32_t Next(uint32_t pos) const;
  uint32_t Prev(uint32_t pos) const;
  // The element at `index` (negative counts from the end), or kEnd.
  uint32_t Seek(int64_t index) const;
  LpElement Get(uint32_t pos) const;

  // Inserts before the entry at `pos` (kEnd: appends). Returns the new element's position.
  uint32_t InsertBefore(uint32_t pos, std::string_view s);
  uint32_t InsertInt(uint32_t pos, int64_t v);
  void Append(std::string_view s) { InsertBefore(kEnd, s); }
  void Prepend(std::string_view s) { InsertBefore(First(), s); }
  // Replaces the element at `pos`; returns its (unchanged) position.
  uint32_t Replace(uint32_t pos, std::string_view s);
  // Replaces the element at `pos` by the integer `v`; returns its (unchanged) position.
  uint32_t ReplaceInt(uint32_t pos, int64_t v);
  // Appends `count` elements already encoded by EncodeElement/EncodeInt (one reallocation for
  // a whole group of elements, such as a stream entry).
  void AppendEncoded(std::string_view entries, size_t count);
  // The entry (encoding, data and backlen) an element of `s` / the integer `v` takes, appended
  // to `out`.
  static void EncodeElement(std::string& out, std::string_view s);
  static void EncodeInt(std::string& out, int64_t v);
  // Deletes the element at `pos`; returns the position of the one that followed (or kEnd).
  uint32_t Delete(uint32_t pos);
  // Deletes `n` elements starting at `pos`; returns the position after them.
  uint32_t DeleteRange(uint32_t pos, size_t n);
  // The position of the first element equal to `s` at or after `pos`, looking at every
  // `skip+1`-th element (skip 1 walks the fields of field/value pairs); kEnd if none.
  uint32_t Find(uint32_t pos, std::string_view s, size_t skip = 0) const;

  // Whether adding `add` bytes keeps the listpack under its safety limit.
  bool SafeToAdd(size_t add) const { return bytes() + add <= kMaxSafetySize; }
  // The bytes an element of `s` takes as an entry.
  static size_t EntrySize(std::string_view s);

 private:
  explicit Listpack(unsigned char* lp) : lp_(lp) {}
  // Replaces the `old_len` bytes at `pos` by `entry` (encoding, data and backlen), with
  // `count_delta` elements more (+1 insert, 0 replace, -n delete).
  void Splice(uint32_t pos, size_t old_len, std::string_view entry, int64_t count_delta);
  void SetBytes(uint32_t n);
  void SetCount(int64_t delta);
  // Size of the entry (encoding, data and backlen) at `pos`.
  uint32_t EntryLen(uint32_t pos) const;

  unsigned char* lp_;
};

}  // namespace keyward
