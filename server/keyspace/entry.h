// One key of the keyspace: key, value and metadata in a single allocation.
//
// Per-key memory is a benchmark target, so an entry is laid out by hand (Redis spends a dictEntry,
// an robj and an sds key on each key; Keyward spends one block):
//
//   Entry* next          chain link of the key table (intrusive chaining)
//   uint8  type | enc    ObjType in the low nibble, Encoding in the high nibble
//   uint8  flags         kHasExpire, kSnapshotMark
//   uint8  lru[3]        24-bit LRU clock in seconds (OBJECT IDLETIME)
//   [int64 expire_ms, uint32 heap_index]     only with kHasExpire
//   varint key length, key bytes
//   value: kInt/kEmbStr strings: varint length, bytes (inline)
//          kRaw strings: std::string* (growable, for APPEND/SETRANGE/SETBIT)
//          other types: Value* (value.h), whose virtual table is the type's operations
//
// Entries never change size: a change of inline value or of the expire flag builds a new entry and
// the database swaps it in (Database::Replace), which keeps the table and the expiry heap in step.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "server/keyspace/value.h"

namespace keyward {

// Redis stores strings up to 44 bytes "embedded" with their object header.
inline constexpr size_t kEmbStrMaxLen = 44;

class Entry {
 public:
  static constexpr uint8_t kHasExpire = 1;
  // Which side of the current background snapshot the entry is on (database.h, SnapshotGuard).
  static constexpr uint8_t kSnapshotMark = 2;

  // A string entry with the encoding Redis would choose for a freshly set value
  // (int if it is a canonical integer of at most 20 chars, embstr up to 44 bytes, else raw).
  static Entry* NewString(std::string_view key, std::string_view value, int64_t expire_ms = -1);
  // A string entry with an explicit encoding (APPEND and SETRANGE produce raw strings, ...).
  static Entry* NewStringWithEncoding(std::string_view key, std::string_view value, Encoding enc,
                                      int64_t expire_ms);
  // The same key and value with another expiry (-1: none). Takes over the value of `old`,
  // which must then be released with FreeShell (not Free).
  static Entry* WithExpire(Entry* old, int64_t expire_ms) {
    return WithKey(old, old->key(), expire_ms);
  }
  // The same value under another key (RENAME), with the given expiry. Takes over the value of
  // `old` like WithExpire: release `old` with FreeShell.
  static Entry* WithKey(Entry* old, std::string_view key, int64_t expire_ms);
  // An entry of any other type, owning `value`.
  static Entry* NewValue(std::string_view key, std::unique_ptr<Value> value,
                         int64_t expire_ms = -1);
  // A deep copy of the value under `key` (COPY); `e` is left untouched.
  static Entry* Duplicate(const Entry* e, std::string_view key, int64_t expire_ms);
  // Frees the entry and its value.
  static void Free(Entry* e);
  // Frees only the entry block, not an external value that a newer entry took over.
  static void FreeShell(Entry* e);

  Entry* next() const { return next_; }
  void set_next(Entry* n) { next_ = n; }
  Entry** next_link() { return &next_; }

  ObjType type() const { return static_cast<ObjType>(type_enc_ & 0x0f); }
  // A string's encoding is kept in the entry; any other type reports its own.
  Encoding encoding() const {
    return type() == ObjType::kString ? static_cast<Encoding>(type_enc_ >> 4) : value()->encoding();
  }
  // Strings only: the encoding is the entry's (raw, int, embstr).
  void set_encoding(Encoding enc) {
    type_enc_ = static_cast<uint8_t>((type_enc_ & 0x0f) | (static_cast<uint8_t>(enc) << 4));
  }

  bool has_expire() const { return flags_ & kHasExpire; }
  int64_t expire_ms() const {
    if (!has_expire()) return -1;
    int64_t v;
    std::memcpy(&v, tail(), sizeof(v));
    return v;
  }
  // Only for entries that have an expiry; changing whether there is one needs WithExpire.
  void set_expire_ms(int64_t ms) { std::memcpy(tail(), &ms, sizeof(ms)); }
  uint32_t heap_index() const {
    uint32_t v;
    std::memcpy(&v, tail() + 8, sizeof(v));
    return v;
  }
  void set_heap_index(uint32_t i) { std::memcpy(tail() + 8, &i, sizeof(i)); }

  bool snapshot_mark() const { return flags_ & kSnapshotMark; }
  void set_snapshot_mark(bool mark) {
    flags_ = static_cast<uint8_t>(mark ? flags_ | kSnapshotMark : flags_ & ~kSnapshotMark);
  }

  uint32_t lru() const { return lru_[0] | (lru_[1] << 8) | (static_cast<uint32_t>(lru_[2]) << 16); }
  void set_lru(uint32_t clock) {
    lru_[0] = clock & 0xff;
    lru_[1] = (clock >> 8) & 0xff;
    lru_[2] = (clock >> 16) & 0xff;
  }

  std::string_view key() const;

  // String values (type() == kString).
  std::string_view string_value() const;
  bool has_raw_string() const { return encoding() == Encoding::kRaw; }
  // The growable buffer of a raw string, for in-place APPEND/SETRANGE/SETBIT.
  std::string* raw_string() const;
  // Writes `value` over an inline string (int or embstr encoded) of the same length, keeping the
  // encoding, the key and the expiry (INCR's common case: no new entry, no second lookup).
  // False, and nothing changed, when the entry is raw or the lengths differ.
  bool OverwriteInline(std::string_view value);

  // Values of every other type (type() != kString).
  Value* value() const;
  template <typename T>
  T* value_as() const {
    return static_cast<T*>(value());
  }

  // Bytes used by the entry and its value (MEMORY USAGE, INFO memory).
  size_t MemoryUsage() const;
  // About how many allocations freeing the entry takes (Redis's lazyfreeGetFreeEffort): 1 for
  // strings, the value's own estimate otherwise.
  size_t FreeEffort() const;

 private:
  Entry() = default;
  static Entry* Allocate(std::string_view key, ObjType type, Encoding enc, int64_t expire_ms,
                         size_t value_bytes, char** value_out);
  char* tail() { return reinterpret_cast<char*>(this) + kHeaderSize; }
  const char* tail() const { return reinterpret_cast<const char*>(this) + kHeaderSize; }
  const char* key_start() const { return tail() + (has_expire() ? kExpireSize : 0); }
  const char* value_start() const;

  static constexpr size_t kHeaderSize = 13;  // next + type_enc + flags + lru
  static constexpr size_t kExpireSize = 12;  // expire_ms + heap index

  Entry* next_ = nullptr;
  uint8_t type_enc_ = 0;
  uint8_t flags_ = 0;
  uint8_t lru_[3] = {0, 0, 0};
};

}  // namespace keyward
