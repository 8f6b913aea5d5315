// The set family in-process: replies (checked against Redis 7.0.15), the intset and hashtable
// encodings and the conversions between them, WRONGTYPE on every key, emptied keys deleted,
// keyspace events, the propagated forms (SPOP as SREM/DEL), and the properties SPOP and
// SRANDMEMBER promise. The intset and the set value are tested as data structures first.
// tests/differential/test_sets.py compares the same commands with the real server byte for byte.
#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "server/keyspace/intset.h"
#include "server/keyspace/set_value.h"
#include "tests/support/command_test.h"

namespace keyward::test {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using Command = std::vector<std::string>;

constexpr const char* kWrongType =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
constexpr const char* kSyntax = "ERR syntax error";
constexpr const char* kNotInteger = "ERR value is not an integer or out of range";
constexpr const char* kNotPositive = "ERR value is out of range, must be positive";

// --- Intset: Redis's byte format --------------------------------------------------------------

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

TEST(SetFamilyIntset, ByteLayoutAndWidthUpgrades) {
  Intset is;
  EXPECT_EQ(Hex(is.bytes()), "0200000000000000");  // width 2, length 0
  EXPECT_TRUE(is.Add(5));
  EXPECT_TRUE(is.Add(-3));
  EXPECT_FALSE(is.Add(5));
  EXPECT_EQ(Hex(is.bytes()),
            "0200000002000000"
            "fdff"
            "0500");
  // 40000 needs 4 bytes: every element widens, the new one goes last (it is the largest).
  EXPECT_TRUE(is.Add(40000));
  EXPECT_EQ(is.width(), 4u);
  EXPECT_EQ(Hex(is.bytes()),
            "0400000003000000"
            "fdffffff"
            "05000000"
            "409c0000");
  // A negative 8-byte value goes first.
  EXPECT_TRUE(is.Add(INT64_MIN));
  EXPECT_EQ(is.width(), 8u);
  EXPECT_EQ(is.size(), 4u);
  EXPECT_EQ(is.Get(0), INT64_MIN);
  EXPECT_EQ(is.Get(3), 40000);
  EXPECT_EQ(Hex(is.bytes().substr(0, 16)),
            "0800000004000000"
            "0000000000000080");
  // The width never shrinks back.
  EXPECT_TRUE(is.Remove(INT64_MIN));
  EXPECT_TRUE(is.Remove(40000));
  EXPECT_FALSE(is.Remove(40000));
  EXPECT_EQ(is.width(), 8u);
  EXPECT_EQ(Hex(is.bytes()),
            "0800000002000000"
            "fdffffffffffffff"
            "0500000000000000");
}

TEST(SetFamilyIntset, StaysSortedAgainstAModel) {
  std::mt19937_64 rng(42);
  Intset is;
  std::set<int64_t> model;
  const int64_t ranges[] = {100, 40000, 3000000000LL, INT64_MAX};
  for (int i = 0; i < 4000; i++) {
    int64_t range = ranges[rng() % 4];
    auto v = static_cast<int64_t>(rng() % static_cast<uint64_t>(range)) - range / 2;
    if (rng() % 3 == 0) {
      EXPECT_EQ(is.Remove(v), model.erase(v) == 1);
    } else {
      EXPECT_EQ(is.Add(v), model.insert(v).second);
    }
    EXPECT_EQ(is.Contains(v), model.count(v) == 1);
  }
  ASSERT_EQ(is.size(), model.size());
  uint32_t i = 0;
  for (int64_t v : model) EXPECT_EQ(is.Get(i++), v);
  EXPECT_FALSE(is.Contains(INT64_MAX - 1));
  Intset copy(is);
  EXPECT_EQ(copy.bytes(), is.bytes());
}

TEST(SetFamilyIntset, FromBytesValidatesAsRedisDoes) {
  Intset is;
  for (int64_t v : {7, 1, 300000}) is.Add(v);
  auto back = Intset::FromBytes(is.bytes());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->bytes(), is.bytes());
  std::string blob(is.bytes());
  EXPECT_FALSE(Intset::FromBytes(blob.substr(0, blob.size() - 1)).has_value());  // short
  EXPECT_FALSE(Intset::FromBytes(Intset().bytes()).has_value());                 // empty
  std::string bad_width = blob;
  bad_width[0] = 3;
  EXPECT_FALSE(Intset::FromBytes(bad_width).has_value());
  std::string unsorted = blob;
  std::swap_ranges(unsorted.begin() + 8, unsorted.begin() + 12, unsorted.begin() + 12);
  EXPECT_FALSE(Intset::FromBytes(unsorted).has_value());
  EXPECT_TRUE(Intset::FromBytes(unsorted, /*deep=*/false).has_value());
}

// --- SetValue -----------------------------------------------------------------------------------

class Bytes : public ValueSink {
 public:
  void Write(std::string_view b) override { out.append(b); }
  std::string out;
};

TEST(SetFamilyValue, EncodingsAndSerialisation) {
  auto set = SetValue::CreateFor("12");
  EXPECT_EQ(set->encoding(), Encoding::kIntSet);
  EXPECT_EQ(SetValue::CreateFor("-0")->encoding(), Encoding::kHashTable);
  EXPECT_EQ(SetValue::CreateFor("x")->encoding(), Encoding::kHashTable);
  EXPECT_TRUE(set->Add("12", 512));
  EXPECT_TRUE(set->Add("-4", 512));
  EXPECT_FALSE(set->Add("12", 512));
  EXPECT_EQ(set->rdb_type(), 11);
  EXPECT_EQ(set->FreeEffort(), 1u);
  Bytes intset_bytes;
  set->Serialise(intset_bytes);
  // The payload is the blob as an RDB string: length 12, then the bytes.
  EXPECT_EQ(Hex(intset_bytes.out),
            "0c"
            "0200000002000000"
            "fcff"
            "0c00");

  // What Redis 7.0.15's DUMP of SADD s 5 -3 40000 holds after its type byte (11).
  auto wide = SetValue::CreateFor("5");
  for (const char* m : {"5", "-3", "40000"}) wide->Add(m, 512);
  Bytes wide_bytes;
  wide->Serialise(wide_bytes);
  EXPECT_EQ(Hex(wide_bytes.out),
            "14"
            "0400000003000000"
            "fdffffff"
            "05000000"
            "409c0000");

  std::unique_ptr<Value> copy = set->Clone();
  EXPECT_TRUE(set->Add("abc", 512));
  EXPECT_EQ(set->encoding(), Encoding::kHashTable);
  EXPECT_EQ(copy->encoding(), Encoding::kIntSet);  // the clone shares nothing
  EXPECT_EQ(set->rdb_type(), 2);
  EXPECT_EQ(set->FreeEffort(), 3u);
  EXPECT_TRUE(set->Contains("12"));
  EXPECT_TRUE(set->ContainsInt(-4));
  EXPECT_FALSE(set->Contains("012"));
  Bytes table_bytes;
  set->Serialise(table_bytes);
  EXPECT_EQ(table_bytes.out.substr(0, 1), "\x03");       // the member count, then each member
  EXPECT_EQ(table_bytes.out.size(), 1u + 4u + 2u + 2u);  // "abc"; 12 and -4 as int8 strings
  EXPECT_GT(set->MemoryUsage(), copy->MemoryUsage());
}

// --- Commands ---------------------------------------------------------------------------------

class SetFamilyTest : public CommandTest {
 protected:
  std::vector<Command> Propagated() {
    std::vector<Command> out;
    for (const Argv& a : TakePropagated()) out.emplace_back(a.begin(), a.end());
    return out;
  }
  std::string Encoding(const std::string& key) {
    Resp r = Run({"object", "encoding", key});
    return r.is_error() ? "error: " + r.str : r.str;
  }
  std::vector<std::string> Members(const std::string& key) {
    return Run({"smembers", key}).strings();
  }
  std::vector<std::string> Sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  }
  bool Exists(const std::string& key) { return Run({"exists", key}) == 1; }
  // "<event> <key>" for every key-event notification the "sub" connection received.
  void WatchEvents() {
    Run({"config", "set", "notify-keyspace-events", "KEAn"});
    Run("sub", {"psubscribe", "__keyevent@0__:*"});
  }
  std::vector<std::string> Events() {
    std::string raw = Send("", "sub");
    std::vector<std::string> out;
    std::string_view rest = raw;
    while (!rest.empty()) {
      size_t used = 0;
      Resp r = ParseResp(rest, &used);
      if (used == 0) break;
      rest.remove_prefix(used);
      std::string channel = r[2].str;
      out.push_back(channel.substr(channel.find(':') + 1) + " " + r[3].str);
    }
    return out;
  }
  // Numbers first..last as strings.
  static std::vector<std::string> Range(int first, int last) {
    std::vector<std::string> out;
    for (int i = first; i <= last; i++) out.push_back(std::to_string(i));
    return out;
  }
  Command With(Command cmd, const std::vector<std::string>& more) {
    cmd.insert(cmd.end(), more.begin(), more.end());
    return cmd;
  }
};

TEST_F(SetFamilyTest, AddRemoveAndMembership) {
  EXPECT_EQ(Run({"sadd", "s", "b", "a", "b", "c"}), 3);
  EXPECT_EQ(Run({"sadd", "s", "a", "d"}), 1);
  EXPECT_EQ(Run({"scard", "s"}), 4);
  EXPECT_EQ(Run({"scard", "missing"}), 0);
  EXPECT_THAT(Sorted(Members("s")), ElementsAre("a", "b", "c", "d"));
  EXPECT_EQ(Run({"sismember", "s", "a"}), 1);
  EXPECT_EQ(Run({"sismember", "s", "z"}), 0);
  EXPECT_EQ(Run({"sismember", "missing", "a"}), 0);
  EXPECT_EQ(RunRaw({"smismember", "s", "a", "z", "d"}), "*3\r\n:1\r\n:0\r\n:1\r\n");
  EXPECT_EQ(RunRaw({"smismember", "missing", "a", "b"}), "*2\r\n:0\r\n:0\r\n");
  EXPECT_EQ(Run({"type", "s"}), "set");
  EXPECT_EQ(Run({"srem", "s", "a", "z", "a"}), 1);
  EXPECT_EQ(Run({"srem", "missing", "a"}), 0);
  // SREM stops at the member that empties the set; the key is gone.
  EXPECT_EQ(Run({"srem", "s", "b", "c", "d", "b"}), 3);
  EXPECT_FALSE(Exists("s"));
  EXPECT_EQ(RunRaw({"smembers", "s"}), "*0\r\n");
  std::string binary("a\0b\r\n", 5);
  EXPECT_EQ(Run({"sadd", "bin", binary, ""}), 2);
  EXPECT_EQ(Run({"sismember", "bin", binary}), 1);
  EXPECT_EQ(Run({"sismember", "bin", ""}), 1);
  EXPECT_THAT(Run({"sadd", "s"}), ErrorIs("ERR wrong number of arguments for 'sadd' command"));
  EXPECT_THAT(Run({"smembers", "s", "t"}),
              ErrorIs("ERR wrong number of arguments for 'smembers' command"));
  EXPECT_THAT(
      Propagated(),
      ElementsAre(Command{"sadd", "s", "b", "a", "b", "c"}, Command{"sadd", "s", "a", "d"},
                  Command{"srem", "s", "a", "z", "a"}, Command{"srem", "s", "b", "c", "d", "b"},
                  Command{"sadd", "bin", binary, ""}));
}

TEST_F(SetFamilyTest, IntsetIsSortedAndConvertsOnAString) {
  EXPECT_EQ(Run({"sadd", "s", "3", "-1", "100000", "2", "-70000"}), 5);
  EXPECT_EQ(Encoding("s"), "intset");
  EXPECT_EQ(RunRaw({"smembers", "s"}),
            "*5\r\n$6\r\n-70000\r\n$2\r\n-1\r\n$1\r\n2\r\n$1\r\n3\r\n$6\r\n100000\r\n");
  EXPECT_EQ(Run({"sismember", "s", "100000"}), 1);
  EXPECT_EQ(Run({"sismember", "s", "0100000"}), 0);
  EXPECT_EQ(Run({"sadd", "s", "x"}), 1);
  EXPECT_EQ(Encoding("s"), "hashtable");
  // Never back, even with only integers left.
  EXPECT_EQ(Run({"srem", "s", "x"}), 1);
  EXPECT_EQ(Encoding("s"), "hashtable");
  EXPECT_THAT(Sorted(Members("s")), ElementsAre("-1", "-70000", "100000", "2", "3"));
  // Only canonical integers that fit in 64 bits go into an intset.
  for (const char* m : {"-0", "007", " 1", "1 ", "+1", "9223372036854775808", "1.0", "0x1"}) {
    Run({"del", "n"});
    Run({"sadd", "n", m});
    EXPECT_EQ(Encoding("n"), "hashtable") << m;
  }
  for (const char* m : {"0", "-9223372036854775808", "9223372036854775807"}) {
    Run({"del", "n"});
    Run({"sadd", "n", m});
    EXPECT_EQ(Encoding("n"), "intset") << m;
  }
  // The first member picks the encoding of a new set; a later string converts it.
  Run({"del", "n"});
  EXPECT_EQ(Run({"sadd", "n", "1", "x", "2"}), 3);
  EXPECT_EQ(Encoding("n"), "hashtable");
}

TEST_F(SetFamilyTest, IntsetConvertsPastSetMaxIntsetEntries) {
  EXPECT_EQ(Run({"config", "set", "set-max-intset-entries", "3"}), "OK");
  EXPECT_EQ(Run({"sadd", "s", "1", "2", "3"}), 3);
  EXPECT_EQ(Encoding("s"), "intset");
  EXPECT_EQ(Run({"sadd", "s", "3"}), 0);
  EXPECT_EQ(Encoding("s"), "intset");
  EXPECT_EQ(Run({"sadd", "s", "4"}), 1);
  EXPECT_EQ(Encoding("s"), "hashtable");
  // With a limit of 0 not even one integer stays in an intset.
  Run({"config", "set", "set-max-intset-entries", "0"});
  Run({"sadd", "z", "1"});
  EXPECT_EQ(Encoding("z"), "hashtable");
  // The default is 512.
  Run({"config", "set", "set-max-intset-entries", "512"});
  Run(With({"sadd", "big"}, Range(1, 512)));
  EXPECT_EQ(Encoding("big"), "intset");
  Run({"sadd", "big", "513"});
  EXPECT_EQ(Encoding("big"), "hashtable");
  EXPECT_EQ(Run({"scard", "big"}), 513);
  SkipReplayCheck("set-max-intset-entries changed: the replay runs with the default");
}

TEST_F(SetFamilyTest, WrongTypeEverywhere) {
  Run({"rpush", "l", "x"});
  Run({"sadd", "s", "a"});
  for (const Command& cmd : std::vector<Command>{{"sadd", "l", "x"},
                                                 {"srem", "l", "x"},
                                                 {"smembers", "l"},
                                                 {"sismember", "l", "x"},
                                                 {"smismember", "l", "x"},
                                                 {"scard", "l"},
                                                 {"spop", "l"},
                                                 {"spop", "l", "2"},
                                                 {"srandmember", "l"},
                                                 {"srandmember", "l", "2"},
                                                 {"smove", "l", "s", "x"},
                                                 {"smove", "s", "l", "a"},
                                                 {"sinter", "s", "l"},
                                                 {"sinter", "missing", "l"},
                                                 {"sintercard", "2", "missing", "l"},
                                                 {"sinterstore", "d", "s", "l"},
                                                 {"sunion", "s", "l"},
                                                 {"sunionstore", "d", "missing", "l"},
                                                 {"sdiff", "s", "l"},
                                                 {"sdiff", "missing", "l"},
                                                 {"sdiffstore", "d", "s", "l"},
                                                 {"sscan", "l", "0"}}) {
    EXPECT_THAT(Run(cmd), ErrorIs(kWrongType)) << cmd[0];
  }
  EXPECT_FALSE(Exists("d"));
  // SMOVE from a missing source answers 0 before it looks at the destination's type.
  EXPECT_EQ(Run({"smove", "missing", "l", "x"}), 0);
  // A *STORE destination of another type is overwritten.
  EXPECT_EQ(Run({"sunionstore", "l", "s"}), 1);
  EXPECT_EQ(Run({"type", "l"}), "set");
}

TEST_F(SetFamilyTest, SMove) {
  Run({"sadd", "src", "1", "2", "a"});
  Run({"sadd", "dst", "x"});
  EXPECT_EQ(Run({"smove", "src", "dst", "a"}), 1);
  EXPECT_EQ(Run({"smove", "src", "dst", "a"}), 0);
  EXPECT_EQ(Run({"smove", "missing", "dst", "a"}), 0);
  EXPECT_THAT(Sorted(Members("dst")), ElementsAre("a", "x"));
  // To a missing destination: created in the encoding the member suits.
  EXPECT_EQ(Run({"smove", "src", "new", "1"}), 1);
  EXPECT_EQ(Encoding("new"), "intset");
  // Already in the destination: removed from the source all the same.
  Run({"sadd", "new", "2"});
  EXPECT_EQ(Run({"smove", "src", "new", "2"}), 1);
  EXPECT_FALSE(Exists("src"));  // emptied, deleted
  EXPECT_THAT(Members("new"), ElementsAre("1", "2"));
  // Same key: the reply says whether the member is there, nothing changes.
  EXPECT_EQ(Run({"smove", "new", "new", "1"}), 1);
  EXPECT_EQ(Run({"smove", "new", "new", "9"}), 0);
  EXPECT_THAT(Propagated(),
              ElementsAre(Command{"sadd", "src", "1", "2", "a"}, Command{"sadd", "dst", "x"},
                          Command{"smove", "src", "dst", "a"}, Command{"smove", "src", "new", "1"},
                          Command{"sadd", "new", "2"}, Command{"smove", "src", "new", "2"}));
  EXPECT_THAT(Run({"smove", "a", "b"}),
              ErrorIs("ERR wrong number of arguments for 'smove' command"));
}

TEST_F(SetFamilyTest, InterAndInterCard) {
  Run({"sadd", "a", "1", "2", "3", "4"});
  Run({"sadd", "b", "2", "3", "4", "5", "6"});
  Run({"sadd", "c", "3", "4", "x"});
  // The smallest set drives the iteration: an intset one replies in ascending order.
  EXPECT_EQ(RunRaw({"sinter", "a", "b"}), "*3\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n");
  EXPECT_THAT(Sorted(Run({"sinter", "a", "b", "c"}).strings()), ElementsAre("3", "4"));
  EXPECT_EQ(RunRaw({"sinter", "a", "missing"}), "*0\r\n");
  EXPECT_EQ(RunRaw({"sinter", "a", "a"}), "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n");
  EXPECT_EQ(Run({"sintercard", "2", "a", "b"}), 3);
  EXPECT_EQ(Run({"sintercard", "3", "a", "b", "c"}), 2);
  EXPECT_EQ(Run({"sintercard", "2", "a", "b", "limit", "2"}), 2);
  EXPECT_EQ(Run({"sintercard", "2", "a", "b", "LIMIT", "0"}), 3);
  EXPECT_EQ(Run({"sintercard", "2", "a", "b", "limit", "9", "limit", "1"}), 1);
  EXPECT_EQ(Run({"sintercard", "2", "a", "missing"}), 0);
  EXPECT_EQ(Run({"sintercard", "1", "c"}), 3);
  EXPECT_THAT(Run({"sintercard", "0", "a"}), ErrorIs("ERR numkeys should be greater than 0"));
  EXPECT_THAT(Run({"sintercard", "x", "a"}), ErrorIs("ERR numkeys should be greater than 0"));
  EXPECT_THAT(Run({"sintercard", "3", "a", "b"}),
              ErrorIs("ERR Number of keys can't be greater than number of args"));
  EXPECT_THAT(Run({"sintercard", "1", "a", "limit", "-1"}), ErrorIs("ERR LIMIT can't be negative"));
  EXPECT_THAT(Run({"sintercard", "1", "a", "limit", "x"}), ErrorIs("ERR LIMIT can't be negative"));
  EXPECT_THAT(Run({"sintercard", "1", "a", "limit"}), ErrorIs(kSyntax));
  EXPECT_THAT(Run({"sintercard", "1", "a", "b"}), ErrorIs(kSyntax));
  // Arguments are checked before any key.
  Run({"rpush", "l", "x"});
  EXPECT_THAT(Run({"sintercard", "1", "l", "bad"}), ErrorIs(kSyntax));
}

TEST_F(SetFamilyTest, InterStore) {
  Run({"sadd", "a", "1", "2", "3", "x"});
  Run({"sadd", "b", "2", "3", "x", "y"});
  // Built from an empty intset: integers only give an intset even from hashtable sources.
  EXPECT_EQ(Run({"sinterstore", "d", "a", "b", "b"}), 3);
  EXPECT_THAT(Sorted(Members("d")), ElementsAre("2", "3", "x"));
  EXPECT_EQ(Encoding("d"), "hashtable");
  Run({"srem", "b", "x"});
  EXPECT_EQ(Run({"sinterstore", "d", "a", "b"}), 2);
  EXPECT_EQ(Encoding("d"), "intset");
  EXPECT_THAT(Members("d"), ElementsAre("2", "3"));
  // The destination loses its TTL and is overwritten whatever it held.
  Run({"set", "str", "v", "ex", "100"});
  EXPECT_EQ(Run({"sinterstore", "str", "a", "b"}), 2);
  EXPECT_EQ(Run({"ttl", "str"}), -1);
  EXPECT_EQ(Run({"type", "str"}), "set");
  // An empty result deletes the destination (a missing source, or nothing in common).
  EXPECT_EQ(Run({"sinterstore", "d", "a", "missing"}), 0);
  EXPECT_FALSE(Exists("d"));
  EXPECT_EQ(Run({"sinterstore", "str", "a", "nothing"}), 0);
  EXPECT_FALSE(Exists("str"));
  Run({"sadd", "e", "zzz"});
  EXPECT_EQ(Run({"sinterstore", "d", "a", "e"}), 0);
  // Nothing to delete: nothing changed, nothing propagated.
  TakePropagated();
  EXPECT_EQ(Run({"sinterstore", "d", "a", "e"}), 0);
  EXPECT_THAT(Propagated(), IsEmpty());
  // A destination that is also a source.
  EXPECT_EQ(Run({"sinterstore", "a", "a", "b"}), 2);
  EXPECT_THAT(Members("a"), ElementsAre("2", "3"));
}

TEST_F(SetFamilyTest, UnionAndDiff) {
  Run({"sadd", "a", "1", "2", "3"});
  Run({"sadd", "b", "3", "4"});
  Run({"sadd", "c", "x", "1"});
  EXPECT_EQ(RunRaw({"sunion", "a", "b", "missing"}),
            "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n");
  EXPECT_THAT(Sorted(Run({"sunion", "a", "c"}).strings()), ElementsAre("1", "2", "3", "x"));
  EXPECT_EQ(RunRaw({"sunion", "missing"}), "*0\r\n");
  EXPECT_EQ(RunRaw({"sdiff", "a", "b"}), "*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
  EXPECT_EQ(RunRaw({"sdiff", "a", "b", "c"}), "*1\r\n$1\r\n2\r\n");
  EXPECT_EQ(RunRaw({"sdiff", "a", "a"}), "*0\r\n");
  EXPECT_EQ(RunRaw({"sdiff", "a", "missing"}), "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n");
  EXPECT_EQ(RunRaw({"sdiff", "missing", "a"}), "*0\r\n");
  EXPECT_EQ(Run({"sunionstore", "u", "a", "c"}), 4);
  EXPECT_EQ(Encoding("u"), "hashtable");
  EXPECT_EQ(Run({"sunionstore", "u", "a", "b"}), 4);
  EXPECT_EQ(Encoding("u"), "intset");
  EXPECT_EQ(Run({"sdiffstore", "d", "c", "a"}), 1);
  EXPECT_THAT(Members("d"), ElementsAre("x"));
  EXPECT_EQ(Run({"sdiffstore", "d", "a", "a"}), 0);
  EXPECT_FALSE(Exists("d"));
  EXPECT_EQ(Run({"sunionstore", "u", "missing"}), 0);
  EXPECT_FALSE(Exists("u"));
}

TEST_F(SetFamilyTest, DiffAlgorithmShowsInTheResultEncoding) {
  // Many small subtrahends make Redis add the whole first set and then remove: the result
  // passes 512 members on the way and stays a hashtable at 510 (checked against Redis).
  Run(With({"sadd", "a"}, Range(1, 600)));
  Command sdiff = {"sdiffstore", "d", "a"};
  for (int i = 0; i < 9; i++) {
    std::string key = "b" + std::to_string(i);
    Run(With({"sadd", key}, Range(i * 10 + 1, i * 10 + 10)));
    sdiff.push_back(key);
  }
  EXPECT_EQ(Run(sdiff), 510);
  EXPECT_EQ(Encoding("d"), "hashtable");
  // One subtrahend: member by member, and 90 members make an intset.
  Run(With({"sadd", "c"}, Range(91, 600)));
  EXPECT_EQ(Run({"sdiffstore", "d", "a", "c"}), 90);
  EXPECT_EQ(Encoding("d"), "intset");
}

TEST_F(SetFamilyTest, SPopSingle) {
  Run({"sadd", "s", "1", "2", "3"});
  std::set<std::string> popped;
  for (int i = 0; i < 3; i++) {
    Resp r = Run({"spop", "s"});
    ASSERT_EQ(r.type, Resp::Type::kBulk);
    EXPECT_TRUE(popped.insert(r.str).second);
  }
  EXPECT_THAT(popped, ElementsAre("1", "2", "3"));
  EXPECT_FALSE(Exists("s"));
  EXPECT_EQ(RunRaw({"spop", "s"}), "$-1\r\n");
  std::vector<Command> want = {{"sadd", "s", "1", "2", "3"}};
  std::vector<Command> got = Propagated();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0], want[0]);
  for (size_t i = 1; i < 4; i++) {
    EXPECT_EQ(got[i][0], "SREM");
    EXPECT_EQ(got[i][1], "s");
  }
  EXPECT_THAT(Run({"spop", "s", "1", "2"}), ErrorIs(kSyntax));
  EXPECT_THAT(Run({"spop"}), ErrorIs("ERR wrong number of arguments for 'spop' command"));
}

TEST_F(SetFamilyTest, SPopWithCount) {
  EXPECT_EQ(RunRaw({"spop", "missing", "3"}), "*0\r\n");
  EXPECT_THAT(Run({"spop", "missing", "-1"}), ErrorIs(kNotPositive));
  EXPECT_THAT(Run({"spop", "missing", "x"}), ErrorIs(kNotPositive));
  Run(With({"sadd", "s"}, Range(1, 20)));
  EXPECT_EQ(RunRaw({"spop", "s", "0"}), "*0\r\n");
  TakePropagated();
  // A few: random members, each propagated as an SREM (in one MULTI/EXEC).
  std::vector<std::string> first = Run({"spop", "s", "3"}).strings();
  EXPECT_EQ(std::set<std::string>(first.begin(), first.end()).size(), 3u);
  EXPECT_EQ(Run({"scard", "s"}), 17);
  for (const std::string& m : first) EXPECT_EQ(Run({"sismember", "s", m}), 0);
  EXPECT_THAT(Propagated(), ElementsAre(Command{"MULTI"}, Command{"SREM", "s", first[0]},
                                        Command{"SREM", "s", first[1]},
                                        Command{"SREM", "s", first[2]}, Command{"EXEC"}));
  // Most of the set: the survivors become the set; the rest is replied and propagated.
  std::vector<std::string> second = Run({"spop", "s", "15"}).strings();
  EXPECT_EQ(std::set<std::string>(second.begin(), second.end()).size(), 15u);
  EXPECT_EQ(Run({"scard", "s"}), 2);
  for (const std::string& m : second) EXPECT_EQ(Run({"sismember", "s", m}), 0);
  // All of it: the key is deleted, and DEL is propagated.
  std::vector<std::string> rest = Run({"spop", "s", "100"}).strings();
  EXPECT_EQ(rest.size(), 2u);
  EXPECT_FALSE(Exists("s"));
  std::vector<Command> last = Propagated();
  EXPECT_EQ(last.back(), (Command{"DEL", "s"}));
  std::set<std::string> all(first.begin(), first.end());
  all.insert(second.begin(), second.end());
  all.insert(rest.begin(), rest.end());
  EXPECT_EQ(all.size(), 20u);
}

TEST_F(SetFamilyTest, SPopRebuildKeepsTtlAndMayReturnToIntset) {
  // 600 integers are a hashtable; popping 590 rebuilds the set from the 10 survivors, which
  // makes an intset again (as in Redis).
  Run(With({"sadd", "s"}, Range(1, 600)));
  Run({"expire", "s", "1000"});
  EXPECT_EQ(Encoding("s"), "hashtable");
  EXPECT_EQ(Run({"spop", "s", "590"}).size(), 590u);
  EXPECT_EQ(Run({"scard", "s"}), 10);
  EXPECT_EQ(Encoding("s"), "intset");
  EXPECT_GT(Run({"ttl", "s"}).integer, 0);
  // The whole of a hashtable of integers comes back as a rebuilt (sorted intset) copy.
  Run(With({"sadd", "h", "x"}, Range(1, 5)));
  Run({"srem", "h", "x"});
  EXPECT_EQ(RunRaw({"spop", "h", "5"}),
            "*5\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n");
  SkipReplayCheck("SPOP rebuilt the set: the SREMs a replica applies keep the old encoding");
}

TEST_F(SetFamilyTest, SRandMember) {
  EXPECT_TRUE(Run({"srandmember", "missing"}).is_null());
  EXPECT_EQ(RunRaw({"srandmember", "missing", "5"}), "*0\r\n");
  EXPECT_EQ(RunRaw({"srandmember", "missing", "-5"}), "*0\r\n");
  EXPECT_THAT(Run({"srandmember", "missing", "x"}), ErrorIs(kNotInteger));
  EXPECT_THAT(Run({"srandmember", "missing", "-9223372036854775808"}),
              ErrorIs("ERR value is out of range, value must between -9223372036854775807 and "
                      "9223372036854775807"));
  EXPECT_THAT(Run({"srandmember", "s", "1", "2"}), ErrorIs(kSyntax));
  for (const char* kind : {"ints", "strings"}) {
    std::string key = kind;
    std::vector<std::string> members;
    for (int i = 0; i < 40; i++)
      members.push_back(key == "ints" ? std::to_string(i) : "m" + std::to_string(i));
    Run(With({"sadd", key}, members));
    std::set<std::string> all(members.begin(), members.end());
    EXPECT_TRUE(all.count(Run({"srandmember", key}).str)) << kind;
    EXPECT_EQ(RunRaw({"srandmember", key, "0"}), "*0\r\n");
    // Positive counts: distinct members, min(count, size) of them (each strategy).
    for (int count : {1, 5, 20, 39, 40, 100}) {
      std::vector<std::string> got = Run({"srandmember", key, std::to_string(count)}).strings();
      EXPECT_EQ(got.size(), std::min<size_t>(count, 40)) << kind << " " << count;
      std::set<std::string> distinct(got.begin(), got.end());
      EXPECT_EQ(distinct.size(), got.size()) << kind << " " << count;
      for (const std::string& m : got) EXPECT_TRUE(all.count(m)) << m;
    }
    // Negative counts: exactly |count| draws, repeats allowed.
    std::vector<std::string> got = Run({"srandmember", key, "-200"}).strings();
    EXPECT_EQ(got.size(), 200u);
    for (const std::string& m : got) EXPECT_TRUE(all.count(m)) << m;
    EXPECT_LT(std::set<std::string>(got.begin(), got.end()).size(), 200u);
    EXPECT_EQ(Run({"scard", key}), 40);  // nothing removed
  }
  // The whole of an intset comes in order.
  Run({"sadd", "small", "3", "1", "2"});
  EXPECT_EQ(RunRaw({"srandmember", "small", "3"}), "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n");
  EXPECT_THAT(
      Propagated(),
      ElementsAre(Command{"sadd", "ints", "0",  "1",  "2",  "3",  "4",  "5",  "6",  "7",  "8",
                          "9",    "10",   "11", "12", "13", "14", "15", "16", "17", "18", "19",
                          "20",   "21",   "22", "23", "24", "25", "26", "27", "28", "29", "30",
                          "31",   "32",   "33", "34", "35", "36", "37", "38", "39"},
                  testing::_, Command{"sadd", "small", "3", "1", "2"}));
}

TEST_F(SetFamilyTest, RandomSelectionReachesEveryMember) {
  Run({"sadd", "i", "1", "2", "3", "4"});
  Run({"sadd", "h", "a", "b", "c", "d"});
  for (const char* key : {"i", "h"}) {
    std::map<std::string, int> seen;
    for (int i = 0; i < 200; i++) seen[Run({"srandmember", key}).str]++;
    EXPECT_EQ(seen.size(), 4u) << key;
  }
}

TEST_F(SetFamilyTest, Resp3Shapes) {
  Run({"hello", "3"});
  Run({"sadd", "s", "2", "1"});
  Run({"sadd", "t", "2", "3"});
  EXPECT_EQ(RunRaw({"smembers", "s"}), "~2\r\n$1\r\n1\r\n$1\r\n2\r\n");
  EXPECT_EQ(RunRaw({"smembers", "missing"}), "~0\r\n");
  EXPECT_EQ(RunRaw({"sinter", "s", "t"}), "~1\r\n$1\r\n2\r\n");
  EXPECT_EQ(RunRaw({"sinter", "s", "missing"}), "~0\r\n");
  EXPECT_EQ(RunRaw({"sunion", "s", "t"}), "~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n");
  EXPECT_EQ(RunRaw({"sdiff", "s", "t"}), "~1\r\n$1\r\n1\r\n");
  EXPECT_EQ(RunRaw({"sdiff", "missing", "t"}), "~0\r\n");
  EXPECT_EQ(RunRaw({"spop", "missing", "2"}), "~0\r\n");
  EXPECT_EQ(RunRaw({"spop", "s", "0"}), "~0\r\n");
  EXPECT_EQ(RunRaw({"srandmember", "s", "2"}), "*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
  EXPECT_EQ(RunRaw({"srandmember", "missing", "2"}), "*0\r\n");
  EXPECT_EQ(RunRaw({"srandmember", "missing"}), "_\r\n");
  EXPECT_EQ(RunRaw({"spop", "missing"}), "_\r\n");
  EXPECT_EQ(RunRaw({"smismember", "s", "1", "5"}), "*2\r\n:1\r\n:0\r\n");
  EXPECT_EQ(RunRaw({"sscan", "s", "0"}), "*2\r\n$1\r\n0\r\n*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
  EXPECT_EQ(RunRaw({"spop", "s", "5"}), "~2\r\n$1\r\n1\r\n$1\r\n2\r\n");
  EXPECT_EQ(Run({"sadd", "x", "a", "b", "c", "d", "e", "f"}), 6);
  EXPECT_EQ(Run({"spop", "x", "2"}).type, Resp::Type::kSet);
  EXPECT_EQ(Run({"spop", "x", "3"}).type, Resp::Type::kSet);
}

TEST_F(SetFamilyTest, SScan) {
  EXPECT_EQ(RunRaw({"sscan", "missing", "0"}), "*2\r\n$1\r\n0\r\n*0\r\n");
  // A missing key answers before its options are read; the cursor is checked first.
  EXPECT_EQ(RunRaw({"sscan", "missing", "0", "bogus"}), "*2\r\n$1\r\n0\r\n*0\r\n");
  EXPECT_THAT(Run({"sscan", "missing", "x"}), ErrorIs("ERR invalid cursor"));
  Run({"sadd", "i", "5", "1", "30", "3"});
  // An intset comes whole, whatever the cursor and COUNT.
  EXPECT_EQ(RunRaw({"sscan", "i", "7", "count", "1"}),
            "*2\r\n$1\r\n0\r\n*4\r\n$1\r\n1\r\n$1\r\n3\r\n$1\r\n5\r\n$2\r\n30\r\n");
  EXPECT_EQ(RunRaw({"sscan", "i", "0", "match", "3*"}),
            "*2\r\n$1\r\n0\r\n*2\r\n$1\r\n3\r\n$2\r\n30\r\n");
  EXPECT_THAT(Run({"sscan", "i", "0", "count", "0"}), ErrorIs(kSyntax));
  EXPECT_THAT(Run({"sscan", "i", "0", "count", "x"}), ErrorIs(kNotInteger));
  EXPECT_THAT(Run({"sscan", "i", "0", "type", "set"}), ErrorIs(kSyntax));
  EXPECT_THAT(Run({"sscan", "i", "0", "match"}), ErrorIs(kSyntax));
  // A hashtable is iterated with the cursor until it comes back to 0.
  std::vector<std::string> members;
  for (int i = 0; i < 300; i++) members.push_back("m" + std::to_string(i));
  Run(With({"sadd", "h"}, members));
  for (const char* count : {"1", "10", "1000"}) {
    std::set<std::string> seen;
    std::string cursor = "0";
    int calls = 0;
    do {
      Resp r = Run({"sscan", "h", cursor, "COUNT", count});
      ASSERT_EQ(r.size(), 2u);
      cursor = r[0].str;
      for (const std::string& m : r[1].strings()) seen.insert(m);
      ASSERT_LT(++calls, 10000);
    } while (cursor != "0");
    EXPECT_EQ(seen.size(), 300u) << count;
  }
  std::set<std::string> matched;
  std::string cursor = "0";
  do {
    Resp r = Run({"sscan", "h", cursor, "match", "m1?"});
    cursor = r[0].str;
    for (const std::string& m : r[1].strings()) matched.insert(m);
  } while (cursor != "0");
  EXPECT_EQ(matched.size(), 10u);
}

TEST_F(SetFamilyTest, KeyspaceEvents) {
  WatchEvents();
  Run({"sadd", "s", "1", "2", "3"});
  Run({"sadd", "s", "1"});  // nothing added: no event
  Run({"srem", "s", "9"});  // nothing removed: no event
  Run({"srem", "s", "1"});
  EXPECT_THAT(Events(), ElementsAre("new s", "sadd s", "srem s"));
  Run({"smove", "s", "d", "2"});
  Run({"smove", "s", "d", "3"});
  EXPECT_THAT(Events(), ElementsAre("srem s", "new d", "sadd d", "srem s", "del s", "sadd d"));
  Run({"spop", "d"});
  Run({"spop", "d", "0"});
  Run({"spop", "d", "5"});
  EXPECT_THAT(Events(), ElementsAre("spop d", "spop d", "del d"));
  Run({"sadd", "a", "1", "2"});
  Run({"sadd", "b", "2"});
  Events();
  Run({"sinterstore", "x", "a", "b"});
  Run({"sunionstore", "x", "a", "b"});
  Run({"sdiffstore", "y", "a", "b"});
  Run({"sdiffstore", "x", "b", "a"});
  Run({"sinterstore", "y", "a", "missing"});
  Run({"sinterstore", "y", "a", "missing"});  // nothing to delete: silent
  EXPECT_THAT(Events(), ElementsAre("new x", "sinterstore x", "sunionstore x", "new y",
                                    "sdiffstore y", "del x", "del y"));
}

TEST_F(SetFamilyTest, CopyKeepsTheEncoding) {
  Run({"sadd", "i", "1", "2"});
  Run({"sadd", "h", "a", "1"});
  EXPECT_EQ(Run({"copy", "i", "i2"}), 1);
  EXPECT_EQ(Run({"copy", "h", "h2"}), 1);
  EXPECT_EQ(Encoding("i2"), "intset");
  EXPECT_EQ(Encoding("h2"), "hashtable");
  Run({"sadd", "i2", "x"});
  EXPECT_EQ(Encoding("i"), "intset");
  EXPECT_THAT(Members("i"), ElementsAre("1", "2"));
}

}  // namespace
}  // namespace keyward::test
