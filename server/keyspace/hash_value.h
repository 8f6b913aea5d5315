// Hashes: Redis 7.0's two encodings. A small hash is one listpack of field, value, field, value
// ... (OBJECT ENCODING "listpack"), searched linearly; a hash that outgrows
// hash-max-listpack-entries, or is given a field or value longer than hash-max-listpack-value,
// becomes a FieldTable (field_table.h, "hashtable") for good: a hash never converts back, even
// when it shrinks, as in Redis (t_hash.c's hashTypeTryConversion / hashTypeSet).
//
// The thresholds are passed in by the caller (the command layer reads them from the settings),
// so the value stays a pure data structure.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <variant>

#include "server/keyspace/field_table.h"
#include "server/keyspace/listpack.h"
#include "server/keyspace/value.h"

namespace keyward {

class HashValue : public Value {
 public:
  // A field and its value as stored: strings, or integers in the listpack encoding.
  using PairFn = std::function<void(const LpElement& field, const LpElement& value)>;

  HashValue() = default;              // an empty hash, listpack-encoded
  HashValue(const HashValue& other);  // a deep copy
  // A listpack hash holding `lp` as it is (RESTORE keeps a payload's listpack), or nullptr when
  // `lp` is not a hash's: an odd number of entries, or a field twice.
  static std::unique_ptr<HashValue> FromListpack(Listpack lp);
  HashValue& operator=(const HashValue&) = delete;

  ObjType type() const override { return ObjType::kHash; }
  Encoding encoding() const override {
    return is_listpack() ? Encoding::kListPack : Encoding::kHashTable;
  }
  std::unique_ptr<Value> Clone() const override;
  size_t MemoryUsage() const override;
  // Redis's lazyfreeGetFreeEffort: one allocation for a listpack, one per field for a table.
  size_t FreeEffort() const override { return is_listpack() ? 1 : table().size(); }
  // RDB_TYPE_HASH_LISTPACK (16) or RDB_TYPE_HASH (4).
  uint8_t rdb_type() const override { return is_listpack() ? 16 : 4; }
  void Serialise(ValueSink& out) const override;
  std::unique_ptr<ValueWriter> NewWriter() const override;

  bool is_listpack() const { return std::holds_alternative<Listpack>(rep_); }
  size_t size() const;  // number of fields
  bool empty() const { return size() == 0; }

  // hashTypeTryConversion: before a command adds `args` (its fields and values), converts a
  // listpack to a table when one of them is longer than `max_value` bytes, or when their total
  // would take the listpack past its 1 GiB safety limit.
  void TryConversion(std::span<const std::string_view> args, size_t max_value);
  // Converts a listpack to a table (no-op for a table).
  void ConvertToTable();

  // The field's value; false when the field is absent. The element stays valid until the hash
  // changes.
  bool Get(std::string_view field, LpElement* value);
  bool Contains(std::string_view field) {
    LpElement unused;
    return Get(field, &unused);
  }
  // hashTypeSet: sets the field (true when it is new). A listpack converts first when the field
  // or the value is longer than `max_value`, and afterwards when it holds more than
  // `max_entries` fields.
  bool Set(std::string_view field, std::string_view value, size_t max_entries, size_t max_value);
  // Removes the field; false when it was absent.
  bool Delete(std::string_view field);

  // Every field and value, in the encoding's order (the listpack's is insertion order). `fn`
  // must not change the hash.
  void ForEach(const PairFn& fn) const;
  // One SCAN step of a table (Redis's reverse-binary cursor): visits some pairs and returns the
  // next cursor, 0 at the end. A listpack visits everything and returns 0 whatever the cursor.
  uint64_t Scan(uint64_t cursor, const PairFn& fn);
  // A random pair of a non-empty hash. A listpack pair is found by walking (O(N)); a caller that
  // wants many picks from a listpack snapshots the pairs once.
  void Random(uint64_t (*rng)(void*), void* rng_state, LpElement* field, LpElement* value);

 private:
  const FieldTable& table() const { return *std::get<std::unique_ptr<FieldTable>>(rep_); }
  FieldTable& table() { return *std::get<std::unique_ptr<FieldTable>>(rep_); }
  const Listpack& listpack() const { return std::get<Listpack>(rep_); }
  Listpack& listpack() { return std::get<Listpack>(rep_); }

  // The table lives behind a pointer so that the common small hash costs a listpack pointer
  // (the whole value is 24 bytes), not a table's worth of bookkeeping.
  std::variant<Listpack, std::unique_ptr<FieldTable>> rep_;
};

}  // namespace keyward
