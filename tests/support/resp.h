// A parsed reply, for tests: what Run() returns. Compares naturally with what tests expect:
//   EXPECT_EQ(Run({"get", "k"}), "v");          // bulk or simple string with that text
//   EXPECT_EQ(Run({"incr", "n"}), 1);           // integer
//   EXPECT_TRUE(Run({"get", "nokey"}).is_null());
//   EXPECT_THAT(Run({"set", "k"}), ErrorIs("ERR wrong number of arguments for 'set' command"));
//   EXPECT_THAT(Run({"mget", "a", "b"}).strings(), ElementsAre("1", "2"));
#pragma once

#include <gmock/gmock.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::test {

struct Resp {
  enum class Type {
    // No reply at all (yet): a blocked or paused client, CLIENT REPLY OFF. Never equal to a nil.
    kNone,
    kSimple,
    kError,
    kInt,
    kBulk,
    kNull,
    kNullArray,
    kArray,
    kDouble,
    kBool,
    kMap,
    kSet,
    kBigNumber,
    kVerbatim,
    kPush
  };
  Type type = Type::kNone;
  std::string str;      // simple, error, bulk, double text, big number, verbatim (without "txt:")
  int64_t integer = 0;  // integers, booleans (0/1)
  std::vector<Resp> elems;  // aggregates; maps as k1, v1, k2, v2, ...

  bool is_null() const { return type == Type::kNull || type == Type::kNullArray; }
  bool is_none() const { return type == Type::kNone; }
  bool is_error() const { return type == Type::kError; }
  bool is_array() const {
    return type == Type::kArray || type == Type::kSet || type == Type::kPush;
  }
  // Elements as strings (bulk, simple, integers as text, null as "(nil)").
  std::vector<std::string> strings() const;
  const Resp& operator[](size_t i) const { return elems.at(i); }
  size_t size() const { return elems.size(); }

  bool operator==(std::string_view s) const;  // simple/bulk/verbatim with exactly this text
  bool operator==(const char* s) const { return *this == std::string_view(s); }
  bool operator==(int64_t v) const { return type == Type::kInt && integer == v; }
  bool operator==(int v) const { return *this == static_cast<int64_t>(v); }
};

std::ostream& operator<<(std::ostream& os, const Resp& r);

// Parses exactly one complete reply from `bytes` (RESP2 or RESP3). Consumed bytes in *used.
Resp ParseResp(std::string_view bytes, size_t* used);

MATCHER_P(ErrorIs, text, std::string("is the error reply \"") + text + "\"") {
  return arg.type == Resp::Type::kError && arg.str == text;
}
MATCHER_P(ErrorStartsWith, prefix, std::string("is an error starting with \"") + prefix + "\"") {
  return arg.type == Resp::Type::kError && std::string_view(arg.str).starts_with(prefix);
}

}  // namespace keyward::test
