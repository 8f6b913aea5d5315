// The hashtable encoding of hashes and sets: an IntrusiveTable (incremental rehash, Redis's SCAN
// cursor) of nodes that hold a field and its value in one allocation. Redis spends a dictEntry
// and two sds strings per field; a FieldNode is one block:
//
//   FieldNode* next | uint32 field length | uint32 value length | field bytes | value bytes
//
// A set's members are fields with empty values. Changing a value builds a new node in place of
// the old one (nodes never change size), as the key table does with entries.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <string_view>

#include "server/keyspace/intrusive_table.h"
#include "server/keyspace/value.h"

namespace keyward {

class FieldNode {
 public:
  static FieldNode* New(std::string_view field, std::string_view value);
  static void Free(FieldNode* n);

  std::string_view key() const { return {data(), field_len_}; }  // the field (table key)
  std::string_view value() const { return {data() + field_len_, value_len_}; }

  FieldNode* next() const { return next_; }
  void set_next(FieldNode* n) { next_ = n; }
  FieldNode** next_link() { return &next_; }

  size_t MemoryUsage() const;

 private:
  FieldNode() = default;
  const char* data() const { return reinterpret_cast<const char*>(this + 1); }
  char* data() { return reinterpret_cast<char*>(this + 1); }

  FieldNode* next_ = nullptr;
  uint32_t field_len_ = 0;
  uint32_t value_len_ = 0;
};

class FieldTable {
 public:
  FieldTable();
  FieldTable(const FieldTable& other);
  FieldTable& operator=(const FieldTable&) = delete;

  size_t size() const { return table_.size(); }
  // The field's node, or nullptr.
  const FieldNode* Find(std::string_view field) { return table_.Find(field); }
  // Adds the field or replaces its value; true when the field is new.
  bool Set(std::string_view field, std::string_view value);
  // Adds the field only if absent; true when added.
  bool Add(std::string_view field, std::string_view value = {});
  bool Remove(std::string_view field);

  // SCAN step (Redis's reverse-binary cursor); returns the next cursor, 0 at the end.
  uint64_t Scan(uint64_t cursor, const std::function<void(const FieldNode*)>& fn);
  // A random node (nullptr when empty).
  const FieldNode* Random(uint64_t (*rng)(void*), void* rng_state) {
    return table_.Random(rng, rng_state);
  }
  void ForEach(const std::function<void(const FieldNode*)>& fn) const;
  // The buckets as one range of slots in ForEach's order: visiting slots 0, 1, ... one at a
  // time sees what ForEach sees, if the table does not change meanwhile (a value's writer).
  size_t slot_count() const { return table_.slot_count(); }
  template <typename Fn>
  size_t VisitSlot(size_t slot, Fn&& fn) const {
    // Visiting changes nothing: the table's VisitSlot is not const only for the key table's
    // callers, which may.
    return const_cast<IntrusiveTable<FieldNode>&>(table_).VisitSlot(
        slot, [&fn](FieldNode* n) { fn(static_cast<const FieldNode*>(n)); });
  }
  // Buckets and nodes.
  size_t MemoryUsage() const;

 private:
  IntrusiveTable<FieldNode> table_;
};

// The RDB form of a table-encoded set (RDB_TYPE_SET: the count, then each member) or hash
// (RDB_TYPE_HASH: the count, then each field and its value), a bucket at a time.
class FieldTableWriter : public ValueWriter {
 public:
  FieldTableWriter(const FieldTable& table, bool with_values)
      : table_(table), with_values_(with_values) {}
  bool WriteSome(ValueSink& out, size_t budget) override;

 private:
  const FieldTable& table_;
  bool with_values_;
  bool started_ = false;
  size_t slot_ = 0;
};

}  // namespace keyward
