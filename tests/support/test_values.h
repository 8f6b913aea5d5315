// Values of the types Keyward has no family for yet, made directly in the keyspace, so that
// tests of other families can check how they treat a key of another type (WRONGTYPE, TYPE, COPY,
// DEL, FLUSHALL, MEMORY USAGE, OBJECT ENCODING).
//
//   MakeTestList(server().keyspace().db(0), "l", {"a", "b"});
//   EXPECT_THAT(Run({"get", "l"}), ErrorIs(kWrongType));
//
// TestList is a complete Value (value.h): it frees, copies, measures and serialises itself (as
// RDB's plain list type), so every keyspace path a real type takes runs with it.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "server/keyspace/database.h"
#include "server/keyspace/value.h"

namespace keyward::test {

class TestList : public Value {
 public:
  explicit TestList(std::vector<std::string> items) : items_(items.begin(), items.end()) {}

  ObjType type() const override { return ObjType::kList; }
  Encoding encoding() const override { return Encoding::kQuickList; }
  std::unique_ptr<Value> Clone() const override;
  size_t MemoryUsage() const override;
  size_t FreeEffort() const override { return items_.size(); }
  uint8_t rdb_type() const override { return 1; }  // RDB_TYPE_LIST: length, then each string
  void Serialise(ValueSink& out) const override;

  const std::deque<std::string>& items() const { return items_; }

 private:
  std::deque<std::string> items_;
};

// Adds (or replaces) `key` in `db` with a list of `items`; returns the new entry.
Entry* MakeTestList(Database& db, const std::string& key, std::vector<std::string> items = {"x"});

}  // namespace keyward::test
