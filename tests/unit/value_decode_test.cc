// Reading values back from their RDB form (value_decode.h): every type and encoding round-trips
// through Serialise and DecodeValue; payloads convert to the encoding the settings call for, as
// Redis 7.0's rdbLoadObject does; the encodings Redis 6.2 and older wrote (ziplists, zipmaps,
// linked lists, text scores) are read; every class of malformed input is refused; and random
// corruptions of valid payloads never read outside their bytes (this runs under ASan).
#include "server/keyspace/value_decode.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "server/keyspace/hash_value.h"
#include "server/keyspace/list_value.h"
#include "server/keyspace/listpack.h"
#include "server/keyspace/set_value.h"
#include "server/keyspace/ziplist.h"
#include "server/keyspace/zset_value.h"
#include "server/persistence/rdb_codec.h"

namespace keyward {
namespace {

// RDB_TYPE_* numbers used below.
constexpr uint8_t kString = 0, kList = 1, kSet = 2, kZSet = 3, kHash = 4, kZSet2 = 5, kZipmap = 9,
                  kListZiplist = 10, kIntset = 11, kZSetZiplist = 12, kHashZiplist = 13,
                  kQuicklist = 14, kHashListpack = 16, kZSetListpack = 17, kQuicklist2 = 18;

struct StringSink : ValueSink {
  explicit StringSink(bool c) : compress_(c) {}
  void Write(std::string_view bytes) override { out.append(bytes); }
  bool compress() const override { return compress_; }
  std::string out;
  bool compress_;
};

std::string Serialised(const Value& v, bool compress = true) {
  StringSink sink(compress);
  v.Serialise(sink);
  return sink.out;
}

std::optional<DecodedValue> Decode(uint8_t type, std::string_view body,
                                   const ServerSettings& settings = {}) {
  rdb::Reader in(body);
  return DecodeValue(type, in, settings);
}

// The decoded value (not a string); fails the test when decoding fails.
std::unique_ptr<Value> DecodeOk(uint8_t type, std::string_view body,
                                const ServerSettings& settings = {}) {
  std::optional<DecodedValue> d = Decode(type, body, settings);
  if (!d || !std::holds_alternative<std::unique_ptr<Value>>(*d)) {
    ADD_FAILURE() << "type " << int{type} << " not decoded";
    return nullptr;
  }
  return std::move(std::get<std::unique_ptr<Value>>(*d));
}

// A value's contents as strings: list elements in order, sorted "field=value" pairs, sorted set
// members, and sorted-set members with their scores in order.
std::vector<std::string> Contents(const Value& v) {
  std::vector<std::string> out;
  switch (v.type()) {
    case ObjType::kList: {
      const auto& l = static_cast<const ListValue&>(v);
      for (ListValue::Pos p = l.Begin(); p.valid(); p = l.Next(p)) {
        out.push_back(l.Get(p).ToString());
      }
      break;
    }
    case ObjType::kHash:
      static_cast<const HashValue&>(v).ForEach([&](const LpElement& f, const LpElement& val) {
        out.push_back(f.ToString() + "=" + val.ToString());
      });
      std::sort(out.begin(), out.end());
      break;
    case ObjType::kSet:
      static_cast<const SetValue&>(v).ForEach(
          [&](const SetMember& m) { out.push_back(m.ToString()); });
      std::sort(out.begin(), out.end());
      break;
    case ObjType::kZSet:
      static_cast<const ZSetValue&>(v).ForEach([&](std::string_view m, double score) {
        char buf[64];
        std::snprintf(buf, sizeof(buf), "%.17g", score);
        out.push_back(std::string(m) + ":" + buf);
      });
      break;
    default:
      break;
  }
  return out;
}

// Decodes what `v` serialises to and checks the copy: same encoding, same contents, and (when
// the layout is deterministic) the same bytes when serialised again.
void ExpectRoundTrip(const Value& v, bool same_bytes = true) {
  for (bool compress : {false, true}) {
    const std::string body = Serialised(v, compress);
    std::unique_ptr<Value> copy = DecodeOk(v.rdb_type(), body);
    ASSERT_NE(copy, nullptr);
    EXPECT_EQ(copy->type(), v.type());
    EXPECT_EQ(copy->encoding(), v.encoding());
    EXPECT_EQ(Contents(*copy), Contents(v));
    if (same_bytes) {
      EXPECT_EQ(Serialised(*copy, compress), body);
    }
  }
}

std::string Len(uint64_t n) {
  std::string s;
  rdb::AppendLength(s, n);
  return s;
}

std::string Str(std::string_view v) {
  std::string s;
  rdb::AppendString(s, v, false);
  return s;
}

// A raw RDB string (never integer-encoded).
std::string RawStr(std::string_view v) { return Len(v.size()) + std::string(v); }

std::string Le(uint64_t v, int bytes) {
  std::string s;
  for (int i = 0; i < bytes; i++) s += static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

std::string BinaryDouble(double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof(bits));
  return Le(bits, 8);
}

// A ziplist as Redis 6.2's ziplistPush builds it (zipTryEncoding for integers).
std::string Ziplist(const std::vector<std::string>& values) {
  std::string body;
  size_t prev = 0, tail = 10;
  for (const std::string& v : values) {
    std::string e = prev < 254 ? std::string(1, static_cast<char>(prev)) : "\xfe" + Le(prev, 4);
    int64_t n = 0;
    bool is_int = false;
    if (!v.empty() && v.size() < 32) {
      char* end;
      errno = 0;
      n = std::strtoll(v.c_str(), &end, 10);
      is_int = *end == '\0' && errno == 0 && std::to_string(n) == v;
    }
    if (!is_int) {
      if (v.size() < 64) {
        e += static_cast<char>(v.size());
      } else if (v.size() < 16384) {
        e += static_cast<char>(0x40 | (v.size() >> 8));
        e += static_cast<char>(v.size() & 0xff);
      } else {
        e += '\x80';
        for (int i = 3; i >= 0; i--) e += static_cast<char>((v.size() >> (8 * i)) & 0xff);
      }
      e += v;
    } else if (n >= 0 && n <= 12) {
      e += static_cast<char>(0xF1 + n);
    } else if (n >= INT8_MIN && n <= INT8_MAX) {
      e += '\xfe' + Le(static_cast<uint64_t>(n), 1);
    } else if (n >= INT16_MIN && n <= INT16_MAX) {
      e += '\xc0' + Le(static_cast<uint64_t>(n), 2);
    } else if (n >= -(1 << 23) && n < (1 << 23)) {
      e += '\xf0' + Le(static_cast<uint64_t>(n), 3);
    } else if (n >= INT32_MIN && n <= INT32_MAX) {
      e += '\xd0' + Le(static_cast<uint64_t>(n), 4);
    } else {
      e += '\xe0' + Le(static_cast<uint64_t>(n), 8);
    }
    tail = 10 + body.size();
    body += e;
    prev = e.size();
  }
  return Le(10 + body.size() + 1, 4) + Le(tail, 4) + Le(std::min<size_t>(values.size(), 65535), 2) +
         body + "\xff";
}

std::string Zipmap(const std::vector<std::pair<std::string, std::string>>& pairs) {
  auto len = [](size_t n) {
    return n < 254 ? std::string(1, static_cast<char>(n)) : "\xfe" + Le(n, 4);
  };
  std::string out(1, static_cast<char>(std::min<size_t>(pairs.size(), 254)));
  for (const auto& [f, v] : pairs) out += len(f.size()) + f + len(v.size()) + '\0' + v;
  return out + "\xff";
}

std::string ListpackOf(const std::vector<std::string>& values) {
  Listpack lp;
  for (const std::string& v : values) lp.Append(v);
  return std::string(lp.raw());
}

std::vector<std::string> Numbered(const std::string& prefix, int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; i++) v.push_back(prefix + std::to_string(i));
  return v;
}

// --- Round trips ------------------------------------------------------------------------------

TEST(ValueDecodeTest, Strings) {
  for (std::string s :
       {std::string(), std::string("hello"), std::string("12"), std::string("-2147483649"),
        std::string("012"), std::string(300, 'x'), std::string("a\r\n\0b", 5)}) {
    for (bool compress : {false, true}) {
      std::string body;
      rdb::AppendString(body, s, compress);
      std::optional<DecodedValue> d = Decode(kString, body);
      ASSERT_TRUE(d.has_value());
      ASSERT_TRUE(std::holds_alternative<std::string>(*d));
      EXPECT_EQ(std::get<std::string>(*d), s);
    }
  }
}

TEST(ValueDecodeTest, ListsKeepTheirNodes) {
  for (int fill : {-2, -1, 4, 1}) {
    ListValue l(fill);
    for (int i = 0; i < 3000; i++)
      l.PushBack(i % 3 ? std::to_string(i * 7919) : "e" + std::to_string(i));
    l.PushBack(std::string(20000, 'b'));
    ExpectRoundTrip(l);
    std::unique_ptr<Value> copy = DecodeOk(kQuicklist2, Serialised(l));
    EXPECT_EQ(static_cast<ListValue&>(*copy).node_count(), l.node_count());
  }
  // A payload's nodes are kept even when the settings would fill them differently.
  ListValue l(-2);
  for (const std::string& s : Numbered("element-", 2000)) l.PushBack(s);
  ServerSettings small;
  small.list_max_listpack_size = 3;
  std::unique_ptr<Value> copy = DecodeOk(kQuicklist2, Serialised(l), small);
  EXPECT_EQ(static_cast<ListValue&>(*copy).node_count(), l.node_count());
  EXPECT_EQ(static_cast<ListValue&>(*copy).fill(), 3);
}

TEST(ValueDecodeTest, Hashes) {
  HashValue small;
  for (int i = 0; i < 20; i++) small.Set("f" + std::to_string(i), std::to_string(i * 3), 512, 64);
  ExpectRoundTrip(small);
  HashValue table;
  for (int i = 0; i < 600; i++) table.Set("f" + std::to_string(i), "v", 512, 64);
  ASSERT_FALSE(table.is_listpack());
  ExpectRoundTrip(table, /*same_bytes=*/false);
}

TEST(ValueDecodeTest, Sets) {
  for (std::vector<int64_t> members :
       {std::vector<int64_t>{1, 2, 3, -5}, std::vector<int64_t>{1, 70000, -70000},
        std::vector<int64_t>{INT64_MIN, 0, INT64_MAX}}) {
    SetValue s;
    for (int64_t m : members) s.AddInt(m, 512);
    ASSERT_TRUE(s.is_intset());
    ExpectRoundTrip(s);
  }
  auto table = SetValue::CreateHashTable();
  for (const std::string& m : Numbered("m", 100)) table->Add(m, 512);
  ExpectRoundTrip(*table, /*same_bytes=*/false);
}

TEST(ValueDecodeTest, SortedSets) {
  ZSetValue lp;
  double unused;
  const ZSetValue::Limits limits;
  for (double score : {1.0, 2.5, -3.0, HUGE_VAL, -HUGE_VAL, 1e300, 0.1, 4611686018427387904.0}) {
    lp.Add(score, "m" + std::to_string(lp.size()), 0, &unused, limits);
  }
  ASSERT_TRUE(lp.is_listpack());
  ExpectRoundTrip(lp);
  auto skiplist = ZSetValue::NewSkiplist();
  for (int i = 0; i < 300; i++) skiplist->InsertNew("m" + std::to_string(i), i / 7.0);
  ExpectRoundTrip(*skiplist);
}

// --- Encodings after loading --------------------------------------------------------------------

TEST(ValueDecodeTest, ConvertsAsTheSettingsSay) {
  ServerSettings s;
  s.hash_max_listpack_entries = 5;
  s.zset_max_listpack_entries = 5;
  s.set_max_intset_entries = 5;

  HashValue h;
  for (int i = 0; i < 10; i++) h.Set("f" + std::to_string(i), "v", 512, 64);
  EXPECT_EQ(DecodeOk(kHashListpack, Serialised(h), s)->encoding(), Encoding::kHashTable);
  EXPECT_EQ(DecodeOk(kHashListpack, Serialised(h))->encoding(), Encoding::kListPack);

  ZSetValue z;
  double unused;
  for (int i = 0; i < 10; i++) z.Add(i, "m" + std::to_string(i), 0, &unused, {});
  EXPECT_EQ(DecodeOk(kZSetListpack, Serialised(z), s)->encoding(), Encoding::kSkipList);

  SetValue is;
  for (int i = 0; i < 10; i++) is.AddInt(i, 512);
  EXPECT_EQ(DecodeOk(kIntset, Serialised(is), s)->encoding(), Encoding::kHashTable);

  // RDB_TYPE_SET: integers only and few enough make an intset; one string, or too many members,
  // a hashtable.
  std::string ints = Len(3) + Str("3") + Str("1") + Str("2");
  std::unique_ptr<Value> set = DecodeOk(kSet, ints);
  EXPECT_EQ(set->encoding(), Encoding::kIntSet);
  SetValue added;
  for (int i = 1; i <= 3; i++) added.AddInt(i, 512);
  EXPECT_EQ(Serialised(*set), Serialised(added));
  EXPECT_EQ(DecodeOk(kSet, Len(2) + Str("1") + Str("a"))->encoding(), Encoding::kHashTable);
  ServerSettings two;
  two.set_max_intset_entries = 2;
  EXPECT_EQ(DecodeOk(kSet, ints, two)->encoding(), Encoding::kHashTable);

  // RDB_TYPE_HASH: a listpack, unless a field or value is too long or there are too many.
  const std::string pairs = Len(2) + Str("f") + Str("v") + Str("g") + Str(std::string(65, 'w'));
  EXPECT_EQ(DecodeOk(kHash, pairs)->encoding(), Encoding::kHashTable);
  EXPECT_EQ(DecodeOk(kHash, Len(1) + Str("f") + Str("v"))->encoding(), Encoding::kListPack);
  ServerSettings one;
  one.hash_max_listpack_entries = 1;
  EXPECT_EQ(DecodeOk(kHash, Len(2) + Str("f") + Str("v") + Str("g") + Str("w"), one)->encoding(),
            Encoding::kHashTable);

  // RDB_TYPE_ZSET_2: a listpack when small enough, else a skiplist.
  auto sl = ZSetValue::NewSkiplist();
  sl->InsertNew("a", 1);
  sl->InsertNew("b", 2);
  EXPECT_EQ(DecodeOk(kZSet2, Serialised(*sl))->encoding(), Encoding::kListPack);
  sl->InsertNew(std::string(65, 'x'), 3);
  EXPECT_EQ(DecodeOk(kZSet2, Serialised(*sl))->encoding(), Encoding::kSkipList);
}

// --- Encodings of Redis 6.2 and older ---------------------------------------------------------

TEST(ValueDecodeTest, ZiplistsOfEveryEntryKind) {
  const std::vector<std::string> values = {"a",
                                           "0",
                                           "12",
                                           "13",
                                           "-1",
                                           "127",
                                           "-128",
                                           "200",
                                           "40000",
                                           "-40000",
                                           "8000000",
                                           "3000000000",
                                           "-3000000000",
                                           "9223372036854775807",
                                           "-9223372036854775808",
                                           "012",
                                           "",
                                           std::string(70, 'x'),
                                           std::string(300, 'y'),
                                           std::string(20000, 'z')};
  std::vector<std::string> seen;
  EXPECT_TRUE(ZiplistForEach(Ziplist(values), [&](const LpElement& e) {
    seen.push_back(e.ToString());
    return true;
  }));
  EXPECT_EQ(seen, values);

  // RDB_TYPE_LIST_ZIPLIST: pushed element by element.
  std::unique_ptr<Value> list = DecodeOk(kListZiplist, RawStr(Ziplist(values)));
  EXPECT_EQ(Contents(*list), values);
  ListValue pushed(-2);
  for (const std::string& v : values) pushed.PushBack(v);
  EXPECT_EQ(Serialised(*list), Serialised(pushed));

  // RDB_TYPE_LIST_QUICKLIST: one listpack node per ziplist; empty ziplists skipped.
  std::string body = Len(3) + RawStr(Ziplist({"a", "1"})) + RawStr(Ziplist({})) +
                     RawStr(Ziplist({"b", std::string(100, 'c')}));
  list = DecodeOk(kQuicklist, body);
  EXPECT_EQ(Contents(*list), (std::vector<std::string>{"a", "1", "b", std::string(100, 'c')}));
  EXPECT_EQ(static_cast<ListValue&>(*list).node_count(), 2u);
}

TEST(ValueDecodeTest, LegacyHashesAndSortedSets) {
  std::unique_ptr<Value> h = DecodeOk(kHashZiplist, RawStr(Ziplist({"f", "1", "2", "v"})));
  EXPECT_EQ(h->encoding(), Encoding::kListPack);
  EXPECT_EQ(Contents(*h), (std::vector<std::string>{"2=v", "f=1"}));

  std::unique_ptr<Value> z =
      DecodeOk(kZSetZiplist, RawStr(Ziplist({"a", "1", "b", "1.5", "c", "3000000000"})));
  EXPECT_EQ(z->encoding(), Encoding::kListPack);
  EXPECT_EQ(Contents(*z), (std::vector<std::string>{"a:1", "b:1.5", "c:3000000000"}));

  std::unique_ptr<Value> zm =
      DecodeOk(kZipmap, RawStr(Zipmap({{"name", "redis"}, {"n", "12"}, {"", ""}})));
  EXPECT_EQ(zm->encoding(), Encoding::kListPack);
  EXPECT_EQ(Contents(*zm), (std::vector<std::string>{"=", "n=12", "name=redis"}));
  EXPECT_EQ(DecodeOk(kZipmap, RawStr(Zipmap({{"big", std::string(300, 'x')}})))->encoding(),
            Encoding::kHashTable);

  // RDB_TYPE_ZSET: scores as text, 253..255 standing for nan, +inf and -inf; sscanf takes a
  // numeric prefix.
  std::string body = Len(3) + Str("a") +
                     "\x03"
                     "1.5" +
                     Str("b") + "\xfe" + Str("c") +
                     "\x04"
                     "2abc";
  z = DecodeOk(kZSet, body);
  EXPECT_EQ(Contents(*z), (std::vector<std::string>{"a:1.5", "c:2", "b:inf"}));

  std::unique_ptr<Value> l = DecodeOk(kList, Len(3) + Str("a") + Str("12") + Str("b"));
  EXPECT_EQ(Contents(*l), (std::vector<std::string>{"a", "12", "b"}));
  // rdbLoadLen takes a special-encoding byte where a length is due as its low 6 bits.
  l = DecodeOk(kList, "\xc2" + Str("a") + Str("b"));
  EXPECT_EQ(Contents(*l), (std::vector<std::string>{"a", "b"}));
}

// --- Malformed input ----------------------------------------------------------------------------

struct BadCase {
  const char* label;
  uint8_t type;
  std::string body;
};

std::vector<BadCase> BadCases() {
  const std::string lp_ab = ListpackOf({"a", "b"});  // header 0..5, "a" 6..8, "b" 9..11
  const std::string zl = Ziplist({"a", "bb", "1"});  // "a" 10..12, "bb" 13..16, "1" 17..18
  auto node = [](const std::string& lp) { return Len(1) + "\x02" + RawStr(lp); };
  auto with = [](std::string s, size_t at, char c) {
    s[at] = c;
    return s;
  };
  std::string nan_text = ListpackOf({"a", "nan"});
  return {
      {"empty input", kString, ""},
      {"unknown type", 8, Len(1)},
      {"module value", 6, Len(1)},
      {"stream", 15, Len(0)},
      {"empty list", kList, Len(0)},
      {"empty set", kSet, Len(0)},
      {"empty zset", kZSet2, Len(0)},
      {"empty hash", kHash, Len(0)},
      {"empty quicklist", kQuicklist2, Len(0)},
      {"quicklist of an empty listpack", kQuicklist2, node(ListpackOf({}))},
      {"quicklist of an empty ziplist", kQuicklist, Len(1) + RawStr(Ziplist({}))},
      {"empty node string", kQuicklist2, Len(1) + "\x02" + RawStr("")},
      {"bad container", kQuicklist2, Len(1) + "\x03" + RawStr(lp_ab)},
      {"empty hash listpack", kHashListpack, RawStr(ListpackOf({}))},
      {"empty zset listpack", kZSetListpack, RawStr(ListpackOf({}))},
      {"empty list ziplist", kListZiplist, RawStr(Ziplist({}))},
      {"empty hash ziplist", kHashZiplist, RawStr(Ziplist({}))},
      {"empty zipmap", kZipmap, RawStr(Zipmap({}))},
      {"empty intset", kIntset, RawStr(Le(2, 4) + Le(0, 4))},
      {"set duplicate", kSet, Len(2) + Str("a") + Str("a")},
      {"intset-bound duplicate", kSet, Len(2) + Str("7") + Str("7")},
      {"hash duplicate", kHash, Len(2) + Str("f") + Str("1") + Str("f") + Str("2")},
      {"zset duplicate", kZSet2, Len(2) + Str("a") + BinaryDouble(1) + Str("a") + BinaryDouble(2)},
      {"nan binary score", kZSet2, Len(1) + Str("a") + BinaryDouble(NAN)},
      {"nan text score", kZSet, Len(1) + Str("a") + "\xfd"},
      {"empty text score", kZSet, Len(1) + Str("a") + std::string(1, '\0')},
      {"text score not a number", kZSet,
       Len(1) + Str("a") +
           "\x03"
           "abc"},
      {"hash listpack duplicate", kHashListpack, RawStr(ListpackOf({"a", "1", "a", "2"}))},
      {"hash listpack int/string duplicate", kHashListpack,
       RawStr(ListpackOf({"1", "x", "1", "y"}))},
      {"hash listpack odd", kHashListpack, RawStr(ListpackOf({"f", "v", "g"}))},
      {"zset listpack duplicate", kZSetListpack, RawStr(ListpackOf({"a", "1", "a", "2"}))},
      {"zset listpack odd", kZSetListpack, RawStr(ListpackOf({"a", "1", "b"}))},
      // Beyond Redis's sanitisation: scores that are not numbers, and pairs out of order.
      {"zset listpack score text", kZSetListpack, RawStr(ListpackOf({"a", "abc"}))},
      {"zset listpack score nan", kZSetListpack, RawStr(nan_text)},
      {"zset listpack out of order", kZSetListpack, RawStr(ListpackOf({"a", "2", "b", "1"}))},
      {"zset listpack ties out of order", kZSetListpack, RawStr(ListpackOf({"b", "1", "a", "1"}))},
      {"intset unsorted", kIntset, RawStr(Le(2, 4) + Le(2, 4) + Le(5, 2) + Le(1, 2))},
      {"intset duplicate", kIntset, RawStr(Le(2, 4) + Le(2, 4) + Le(1, 2) + Le(1, 2))},
      {"intset width", kIntset, RawStr(Le(3, 4) + Le(2, 4) + Le(1, 2) + Le(2, 2))},
      {"intset length", kIntset, RawStr(Le(2, 4) + Le(3, 4) + Le(1, 2) + Le(2, 2))},
      {"listpack total bytes", kQuicklist2, node(with(lp_ab, 0, '\x0c'))},
      {"listpack count", kQuicklist2, node(with(lp_ab, 4, '\x03'))},
      {"listpack backlen", kQuicklist2, node(with(lp_ab, 8, '\x03'))},
      {"listpack backlen continues", kQuicklist2, node(with(lp_ab, 8, '\x82'))},
      {"listpack encoding", kQuicklist2, node(with(lp_ab, 6, '\xf5'))},
      {"listpack no terminator", kQuicklist2, node(with(lp_ab, 12, '\x00'))},
      {"listpack string past end", kQuicklist2, node(with(lp_ab, 6, '\x8f'))},
      {"listpack 32-bit string past end", kQuicklist2, node(with(lp_ab, 9, '\xf0'))},
      {"listpack too short", kHashListpack, RawStr("\x06\x00\x00\x00\x00\x00")},
      {"ziplist bytes", kListZiplist, RawStr(with(zl, 0, '\x00'))},
      {"ziplist tail", kListZiplist, RawStr(with(zl, 4, '\x0b'))},
      {"ziplist tail past end", kListZiplist, RawStr(with(zl, 4, '\x7f'))},
      {"ziplist count", kListZiplist, RawStr(with(zl, 8, '\x05'))},
      {"ziplist prevlen", kListZiplist, RawStr(with(zl, 13, '\x07'))},
      {"ziplist first prevlen", kListZiplist, RawStr(with(zl, 10, '\x01'))},
      {"ziplist big prevlen past end", kListZiplist, RawStr(with(zl, 17, '\xfe'))},
      {"ziplist encoding", kListZiplist, RawStr(with(zl, 11, '\xc5'))},
      {"ziplist string past end", kListZiplist, RawStr(with(zl, 11, '\x3f'))},
      {"ziplist 32-bit string past end", kListZiplist, RawStr(with(zl, 14, '\x80'))},
      {"ziplist too short", kListZiplist, RawStr(zl.substr(0, 10))},
      {"quicklist ziplist node", kQuicklist, Len(1) + RawStr(with(zl, 8, '\x09'))},
      {"hash ziplist duplicate", kHashZiplist, RawStr(Ziplist({"a", "1", "a", "2"}))},
      {"hash ziplist odd", kHashZiplist, RawStr(Ziplist({"a", "1", "b"}))},
      {"zset ziplist odd", kZSetZiplist, RawStr(Ziplist({"a", "1", "b"}))},
      {"zipmap past end", kZipmap,
       RawStr(std::string("\x01\x05"
                          "ab\x01\x00"
                          "c\xff",
                          8))},
      {"zipmap value past end", kZipmap,
       RawStr(std::string("\x01\x01"
                          "a\x09\x00"
                          "c\xff",
                          7))},
      {"zipmap big length past end", kZipmap, RawStr(std::string("\x01\xfe\x01\xff", 4))},
      {"zipmap no end", kZipmap,
       RawStr(std::string("\x01\x01"
                          "a\x01\x00"
                          "c\x00",
                          7))},
      {"zipmap count", kZipmap, RawStr("\x05" + Zipmap({{"a", "1"}}).substr(1))},
      {"zipmap duplicate", kZipmap, RawStr(Zipmap({{"a", "1"}, {"a", "2"}}))},
      {"bad length encoding", kList, "\x82"},
      {"bad string encoding", kString, "\xc4"},
      {"lzf garbage", kString, "\xc3\x05\x20" + std::string(5, '\xff')},
      {"lzf truncated", kString, "\xc3\x10\x20" + std::string(3, '\x01')},
      {"string past end", kString,
       "\x05"
       "abc"},
      {"list shorter than its length", kList, Len(3) + Str("a")},
      {"binary score truncated", kZSet2, Len(1) + Str("a") + "\x00\x00"},
      {"text score truncated", kZSet,
       Len(1) + Str("a") +
           "\x05"
           "1"},
  };
}

TEST(ValueDecodeTest, MalformedInputIsRefused) {
  for (const BadCase& c : BadCases()) {
    EXPECT_FALSE(Decode(c.type, c.body).has_value()) << c.label;
  }
}

TEST(ValueDecodeTest, ListpackBacklenMustBeTheOneWritten) {
  // An entry of 16383 encoded bytes takes a 3-byte backlen; a 2-byte form of the same number
  // decodes to the right value but would send a backwards walk to the wrong place.
  std::string lp = ListpackOf({std::string(16378, 'x')});
  ASSERT_TRUE(Listpack::FromBytes(lp).has_value());
  const size_t last = lp.size() - 2;  // the backlen's last byte, before the terminator
  std::string two_bytes = lp;
  two_bytes[last - 2] = '\x7f';  // the backlen's 3 bytes become junk, 127|128, 127
  two_bytes[last - 1] = '\x7f';
  two_bytes[last] = '\xff';
  EXPECT_FALSE(Listpack::FromBytes(two_bytes).has_value());
}

// Every prefix of a valid payload is refused, whatever the type.
TEST(ValueDecodeTest, TruncatedPayloadsAreRefused) {
  std::vector<std::pair<uint8_t, std::string>> payloads;
  ListValue l(-2);
  for (int i = 0; i < 50; i++) l.PushBack("element" + std::to_string(i));
  payloads.emplace_back(kQuicklist2, Serialised(l));
  HashValue h;
  h.Set("f", "v", 512, 64);
  h.Set("g", "1", 512, 64);
  payloads.emplace_back(kHashListpack, Serialised(h));
  h.ConvertToTable();
  payloads.emplace_back(kHash, Serialised(h));
  SetValue s;
  s.AddInt(5, 512);
  s.AddInt(70000, 512);
  payloads.emplace_back(kIntset, Serialised(s));
  s.ConvertToHashTable();
  payloads.emplace_back(kSet, Serialised(s));
  auto z = ZSetValue::NewSkiplist();
  z->InsertNew("a", 1);
  z->InsertNew("b", 2.5);
  payloads.emplace_back(kZSet2, Serialised(*z));
  payloads.emplace_back(kListZiplist, RawStr(Ziplist({"a", "1", std::string(300, 'q')})));
  payloads.emplace_back(kZipmap, RawStr(Zipmap({{"a", "1"}, {"b", "2"}})));
  payloads.emplace_back(kString, Str(std::string(100, 'z')));
  for (const auto& [type, body] : payloads) {
    ASSERT_TRUE(Decode(type, body).has_value()) << int{type};
    for (size_t cut = 0; cut < body.size(); cut++) {
      EXPECT_FALSE(Decode(type, body.substr(0, cut)).has_value())
          << "type " << int{type} << " cut at " << cut;
    }
  }
}

// Random corruptions of valid payloads: refused, or decoded into a value that works (iterated,
// copied, serialised). ASan checks that nothing is read outside the payload.
TEST(ValueDecodeTest, RandomCorruptionsNeverReadOutOfBounds) {
  std::vector<std::pair<uint8_t, std::string>> payloads;
  ListValue l(-2);
  for (int i = 0; i < 40; i++)
    l.PushBack(i % 2 ? std::to_string(i * 1000003) : "e" + std::to_string(i));
  payloads.emplace_back(kQuicklist2, Serialised(l, false));
  HashValue h;
  for (int i = 0; i < 8; i++) h.Set("f" + std::to_string(i), std::to_string(i * 300), 512, 64);
  payloads.emplace_back(kHashListpack, Serialised(h, false));
  ZSetValue zl;
  double unused;
  for (int i = 0; i < 8; i++) zl.Add(i * 1.5, "m" + std::to_string(i), 0, &unused, {});
  payloads.emplace_back(kZSetListpack, Serialised(zl, false));
  SetValue is;
  for (int64_t v : {int64_t{1}, int64_t{-7}, int64_t{70000}, int64_t{3000000000}}) {
    is.AddInt(v, 512);
  }
  payloads.emplace_back(kIntset, Serialised(is, false));
  payloads.emplace_back(kListZiplist, RawStr(Ziplist({"a", "1", "300", "-70000", "hello"})));
  payloads.emplace_back(kQuicklist, Len(2) + RawStr(Ziplist({"a", "b"})) + RawStr(Ziplist({"1"})));
  payloads.emplace_back(kHashZiplist, RawStr(Ziplist({"f", "1", "g", std::string(70, 'v')})));
  payloads.emplace_back(kZSetZiplist, RawStr(Ziplist({"a", "1", "b", "2.5"})));
  payloads.emplace_back(kZipmap, RawStr(Zipmap({{"name", "v"}, {"n", std::string(260, 'x')}})));
  payloads.emplace_back(kZSet, Len(2) + Str("a") +
                                   "\x03"
                                   "1.5" +
                                   Str("b") + "\xfe");
  payloads.emplace_back(kHash, Len(2) + Str("f") + Str("v") + Str("g") + Str("w"));
  payloads.emplace_back(kString, Str(std::string(200, 'z') + "tail"));

  std::mt19937_64 rng(20240607);
  size_t decoded = 0, refused = 0;
  for (const auto& [type, body] : payloads) {
    for (int round = 0; round < 300; round++) {
      std::string bad = body;
      const int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits; e++) {
        const size_t at = rng() % bad.size();
        switch (rng() % 4) {
          case 0:  // flip a bit
            bad[at] = static_cast<char>(bad[at] ^ (1 << (rng() % 8)));
            break;
          case 1:  // a random byte
            bad[at] = static_cast<char>(rng());
            break;
          case 2:  // a byte that means something to the formats
            bad[at] = "\x00\x01\x7f\x80\xc0\xf0\xfe\xff"[rng() % 8];
            break;
          default:  // drop a byte
            if (bad.size() > 1) bad.erase(at, 1);
            break;
        }
      }
      std::optional<DecodedValue> d = Decode(type, bad);
      if (!d) {
        refused++;
        continue;
      }
      decoded++;
      if (auto* v = std::get_if<std::unique_ptr<Value>>(&*d)) {
        Contents(**v);
        std::unique_ptr<Value> copy = (*v)->Clone();
        EXPECT_EQ(Contents(*copy), Contents(**v));
        // What a corrupt payload decoded to serialises and decodes to the same contents.
        std::unique_ptr<Value> again = DecodeOk((*v)->rdb_type(), Serialised(**v));
        if (again != nullptr) {
          EXPECT_EQ(Contents(*again), Contents(**v));
        }
        (*v)->MemoryUsage();
      }
    }
  }
  EXPECT_GT(refused, 1000u);
  EXPECT_GT(decoded, 0u);
}

}  // namespace
}  // namespace keyward
