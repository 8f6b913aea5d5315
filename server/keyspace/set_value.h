// Sets: Redis 7.0's two encodings and its rules for moving between them (t_set.c).
//
//   intset     every member an integer (Redis's string2ll: canonical decimal, fits in int64) and
//              at most set-max-intset-entries of them: the sorted integer array of intset.h, so
//              small integer sets iterate (and SMEMBERS replies) in ascending order.
//   hashtable  anything else: a FieldTable whose fields are the members, with empty values.
//
// A set starts as an intset when its first member is an integer (setTypeCreate) and becomes a
// hashtable when a non-integer member arrives or the intset grows past the limit. It never goes
// back: a hashtable set whose members are all integers again stays a hashtable. (Listpack sets
// came with Redis 7.2 and do not exist here.)
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "server/keyspace/field_table.h"
#include "server/keyspace/intset.h"
#include "server/keyspace/value.h"

namespace keyward {

// A member as iteration and random selection yield it: an intset's integer, or a hashtable's
// string (valid until the set changes).
struct SetMember {
  std::string_view str;  // valid when !is_int
  int64_t value = 0;     // valid when is_int
  bool is_int = false;

  // The member as a string; `buf` (at least 21 bytes) holds an integer's digits.
  std::string_view View(char* buf) const;
  std::string ToString() const;
};

class SetValue : public Value {
 public:
  // Redis's cap on intset sizes, whatever set-max-intset-entries says (intset internals).
  static constexpr uint64_t kIntsetHardLimit = uint64_t{1} << 30;

  // An empty intset (Redis's createIntsetObject: the result sets of SINTERSTORE and friends).
  SetValue() = default;
  // An empty set in the encoding Redis's setTypeCreate picks for a set whose first member is
  // `first`: an intset when it is an integer, else a hashtable.
  static std::unique_ptr<SetValue> CreateFor(std::string_view first);
  // An empty hashtable set (Redis's createSetObject).
  static std::unique_ptr<SetValue> CreateHashTable();
  // An intset set holding `members` (RESTORE of an intset payload, validated by the caller).
  static std::unique_ptr<SetValue> FromIntset(Intset members);

  ObjType type() const override { return ObjType::kSet; }
  Encoding encoding() const override {
    return is_intset() ? Encoding::kIntSet : Encoding::kHashTable;
  }
  std::unique_ptr<Value> Clone() const override;
  size_t MemoryUsage() const override;
  size_t FreeEffort() const override { return is_intset() ? 1 : table().size(); }
  // RDB_TYPE_SET_INTSET (the intset blob as a string) or RDB_TYPE_SET (the members).
  uint8_t rdb_type() const override { return is_intset() ? 11 : 2; }
  void Serialise(ValueSink& out) const override;
  std::unique_ptr<ValueWriter> NewWriter() const override;

  bool is_intset() const { return std::holds_alternative<Intset>(rep_); }
  size_t size() const;
  bool empty() const { return size() == 0; }

  // setTypeAdd: adds `member`, converting to a hashtable when it is not an integer or the intset
  // would hold more than `max_intset_entries` (set-max-intset-entries). False when present.
  bool Add(std::string_view member, uint64_t max_intset_entries);
  // Add for an integer member (the same result as adding its decimal text).
  bool AddInt(int64_t v, uint64_t max_intset_entries);
  bool Remove(std::string_view member);
  // Not const: a hashtable lookup moves its table's incremental rehash along.
  bool Contains(std::string_view member);
  bool ContainsInt(int64_t v);
  bool Contains(const SetMember& m) { return m.is_int ? ContainsInt(m.value) : Contains(m.str); }

  // Converts an intset to a hashtable (no-op for a hashtable).
  void ConvertToHashTable();
  // Exchanges the contents of two sets (SPOP keeps its key and TTL while the set is rebuilt).
  void Swap(SetValue& other) noexcept { rep_.swap(other.rep_); }

  // Calls fn(const SetMember&) on every member: ascending for an intset, table order for a
  // hashtable. fn must not change the set.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    if (const Intset* is = std::get_if<Intset>(&rep_)) {
      for (uint32_t i = 0, n = is->size(); i < n; i++) fn(SetMember{{}, is->Get(i), true});
    } else {
      table().ForEach([&fn](const FieldNode* node) { fn(SetMember{node->key(), 0, false}); });
    }
  }

  // A member chosen at random (the set must not be empty): a uniformly drawn intset position,
  // or FieldTable::Random.
  SetMember Random(uint64_t (*rng)(void*), void* rng_state);

  // SSCAN's step: a hashtable is scanned with Redis's reverse-binary cursor (the next cursor is
  // returned, 0 at the end); an intset is returned whole in one call, with cursor 0, whatever
  // the cursor given (as scanGenericCommand does for the compact encodings).
  uint64_t Scan(uint64_t cursor, const std::function<void(const SetMember&)>& fn);

 private:
  FieldTable& table() { return *std::get<std::unique_ptr<FieldTable>>(rep_); }
  const FieldTable& table() const { return *std::get<std::unique_ptr<FieldTable>>(rep_); }

  std::variant<Intset, std::unique_ptr<FieldTable>> rep_;
};

}  // namespace keyward
