// The string family against Redis 7.0.15's replies (each expectation was checked against the
// real server), including encodings, expiry and the propagated form of every write.
#include <string>
#include <vector>

#include "server/core/settings.h"
#include "server/keyspace/database.h"
#include "tests/support/command_test.h"

namespace keyward::test {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

using Command = std::vector<std::string>;

class StringFamilyTest : public CommandTest {
 protected:
  // Everything propagated since the last call.
  std::vector<Command> Propagated() { return TakePropagated(); }

  // The key's deadline in unix ms (-1: none, -2: no such key), read from the keyspace itself so
  // these tests do not depend on the expire family.
  int64_t Deadline(const std::string& key) {
    Entry* e = server().keyspace().db(0).Find(key, LookupMode::kNoTouch);
    return e == nullptr ? -2 : e->expire_ms();
  }

  // EXISTS without the generic family: 1 if the key is live (an expired key is deleted on the way).
  int Exists(const std::string& key) {
    return server().keyspace().db(0).Find(key, LookupMode::kNoTouch) != nullptr ? 1 : 0;
  }

  std::string Encoding(const std::string& key) {
    Resp r = Run({"object", "encoding", key});
    return r.is_error() ? "error: " + r.str : r.str;
  }

  int64_t Now() { return server().now_ms(); }
  static std::string Str(int64_t v) { return std::to_string(v); }
};

constexpr const char* kWrongType =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
constexpr const char* kNotInteger = "ERR value is not an integer or out of range";
constexpr const char* kNotFloat = "ERR value is not a valid float";
constexpr const char* kSyntax = "ERR syntax error";
constexpr const char* kTooLong = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";

// ----------------------------------------------------------------------------------------------
// GET / SET

TEST_F(StringFamilyTest, GetSet) {
  EXPECT_TRUE(Run({"get", "k"}).is_null());
  EXPECT_EQ(RunRaw({"get", "k"}), "$-1\r\n");
  EXPECT_EQ(Run({"set", "k", "v"}), "OK");
  EXPECT_EQ(RunRaw({"set", "k", "v"}), "+OK\r\n");
  EXPECT_EQ(Run({"get", "k"}), "v");
  EXPECT_EQ(Run({"set", "k", ""}), "OK");
  EXPECT_EQ(RunRaw({"get", "k"}), "$0\r\n\r\n");
  std::string binary("a\0b\r\nc", 6);
  EXPECT_EQ(Run({"set", "bin", binary}), "OK");
  EXPECT_EQ(Run({"get", "bin"}), binary);
  EXPECT_THAT(Run({"get"}), ErrorIs("ERR wrong number of arguments for 'get' command"));
  EXPECT_THAT(Run({"get", "a", "b"}), ErrorIs("ERR wrong number of arguments for 'get' command"));
  EXPECT_THAT(Run({"set", "k"}), ErrorIs("ERR wrong number of arguments for 'set' command"));
}

TEST_F(StringFamilyTest, GetCountsHitsAndMisses) {
  KeyspaceStats& stats = server().keyspace().stats();
  uint64_t hits = stats.hits, misses = stats.misses;
  Run({"set", "k", "v"});
  Run({"get", "k"});
  Run({"get", "nokey"});
  EXPECT_EQ(stats.hits, hits + 1);
  EXPECT_EQ(stats.misses, misses + 1);
}

TEST_F(StringFamilyTest, SetNxXx) {
  EXPECT_TRUE(Run({"set", "k", "v", "xx"}).is_null());
  EXPECT_EQ(Exists("k"), 0);
  EXPECT_EQ(Run({"set", "k", "v", "nx"}), "OK");
  EXPECT_TRUE(Run({"set", "k", "w", "NX"}).is_null());
  EXPECT_EQ(Run({"get", "k"}), "v");
  EXPECT_EQ(Run({"set", "k", "w", "XX"}), "OK");
  EXPECT_EQ(Run({"get", "k"}), "w");
  // Repeating an option is allowed; NX with XX is not.
  EXPECT_EQ(Run({"set", "k2", "v", "nx", "nx"}), "OK");
  EXPECT_THAT(Run({"set", "k", "v", "nx", "xx"}), ErrorIs(kSyntax));
  EXPECT_THAT(Run({"set", "k", "v", "xx", "nx"}), ErrorIs(kSyntax));
  EXPECT_THAT(Run({"set", "k", "v", "foo"}), ErrorIs(kSyntax));
  EXPECT_THAT(Run({"set", "k", "v", "persist"}), ErrorIs(kSyntax));
}

TEST_F(StringFamilyTest, SetGetOption) {
  EXPECT_TRUE(Run({"set", "k", "v1", "get"}).is_null());
  EXPECT_EQ(Run({"get", "k"}), "v1");
  EXPECT_EQ(Run({"set", "k", "v2", "GET"}), "v1");
  EXPECT_EQ(Run({"set", "k", "v3", "get", "get"}), "v2");
  // With NX the old value is returned and nothing is set; with XX on a missing key, null.
  EXPECT_EQ(Run({"set", "k", "v4", "nx", "get"}), "v3");
  EXPECT_EQ(Run({"get", "k"}), "v3");
  EXPECT_TRUE(Run({"set", "nokey", "v", "xx", "get"}).is_null());
  EXPECT_EQ(Exists("nokey"), 0);
  EXPECT_TRUE(Run({"set", "new", "v", "nx", "get"}).is_null());
  EXPECT_EQ(Run({"get", "new"}), "v");
}

TEST_F(StringFamilyTest, SetGetOnWrongType) {
  MakeList("list");
  EXPECT_THAT(Run({"set", "list", "v", "get"}), ErrorIs(kWrongType));
  // Without GET, SET overwrites a value of any type.
  EXPECT_EQ(Run({"set", "list", "v"}), "OK");
  EXPECT_EQ(Run({"get", "list"}), "v");
}

TEST_F(StringFamilyTest, SetExpireOptions) {
  int64_t now = Now();
  EXPECT_EQ(Run({"set", "ex", "v", "EX", "10"}), "OK");
  EXPECT_EQ(Deadline("ex"), now + 10000);
  EXPECT_EQ(Run({"set", "px", "v", "px", "1500"}), "OK");
  EXPECT_EQ(Deadline("px"), now + 1500);
  EXPECT_EQ(Run({"set", "exat", "v", "exat", Str(now / 1000 + 100)}), "OK");
  EXPECT_EQ(Deadline("exat"), (now / 1000 + 100) * 1000);
  EXPECT_EQ(Run({"set", "pxat", "v", "pxat", Str(now + 2500)}), "OK");
  EXPECT_EQ(Deadline("pxat"), now + 2500);
  // The last of a repeated option wins.
  EXPECT_EQ(Run({"set", "twice", "v", "ex", "10", "ex", "20"}), "OK");
  EXPECT_EQ(Deadline("twice"), now + 20000);

  AdvanceMs(1499);
  EXPECT_EQ(Run({"get", "px"}), "v");
  AdvanceMs(1);
  EXPECT_TRUE(Run({"get", "px"}).is_null());
  AdvanceMs(999);
  EXPECT_EQ(Run({"get", "pxat"}), "v");
  AdvanceMs(1);
  EXPECT_TRUE(Run({"get", "pxat"}).is_null());
  EXPECT_EQ(Run({"get", "ex"}), "v");
  AdvanceMs(7500);
  EXPECT_TRUE(Run({"get", "ex"}).is_null());
}

TEST_F(StringFamilyTest, SetRemovesOrKeepsTtl) {
  Run({"set", "k", "v", "ex", "100"});
  EXPECT_EQ(Run({"set", "k", "v2"}), "OK");
  EXPECT_EQ(Deadline("k"), -1);
  Run({"set", "k", "v", "ex", "100"});
  int64_t deadline = Deadline("k");
  EXPECT_EQ(Run({"set", "k", "v3", "keepttl"}), "OK");
  EXPECT_EQ(Deadline("k"), deadline);
  EXPECT_EQ(Run({"get", "k"}), "v3");
  EXPECT_EQ(Run({"set", "k", "v4", "KEEPTTL", "keepttl"}), "OK");
  EXPECT_EQ(Deadline("k"), deadline);
  // KEEPTTL on a key without a deadline, or a new key, gives none.
  EXPECT_EQ(Run({"set", "n", "v", "keepttl"}), "OK");
  EXPECT_EQ(Deadline("n"), -1);
}

TEST_F(StringFamilyTest, SetInPastExpiresOnNextAccess) {
  EXPECT_EQ(Run({"set", "k", "v", "pxat", "1"}), "OK");
  EXPECT_EQ(Exists("k"), 0);
  EXPECT_EQ(Run({"set", "k", "v", "exat", "1"}), "OK");
  EXPECT_TRUE(Run({"get", "k"}).is_null());
}

TEST_F(StringFamilyTest, SetOptionConflicts) {
  for (Command opts : std::vector<Command>{{"ex", "10", "px", "10"},
                                           {"ex", "10", "exat", "10"},
                                           {"px", "10", "pxat", "10"},
                                           {"exat", "10", "pxat", "10"},
                                           {"keepttl", "ex", "10"},
                                           {"ex", "10", "keepttl"},
                                           {"pxat", "10", "keepttl"},
                                           {"ex"},
                                           {"px"},
                                           {"nx", "exat"}}) {
    Command cmd{"set", "k", "v"};
    cmd.insert(cmd.end(), opts.begin(), opts.end());
    EXPECT_THAT(Run(cmd), ErrorIs(kSyntax)) << testing::PrintToString(opts);
  }
  EXPECT_EQ(Exists("k"), 0);
}

TEST_F(StringFamilyTest, SetInvalidExpireTimes) {
  const std::string invalid = "ERR invalid expire time in 'set' command";
  for (Command opts : std::vector<Command>{{"ex", "0"},
                                           {"ex", "-1"},
                                           {"px", "0"},
                                           {"px", "-100"},
                                           {"exat", "0"},
                                           {"pxat", "0"},
                                           {"pxat", "-5"},
                                           // seconds * 1000 overflows
                                           {"ex", "9223372036854776"},
                                           {"exat", "9223372036854776"},
                                           // now + ms overflows
                                           {"px", "9223372036854775807"},
                                           {"ex", "9223372036854775"}}) {
    Command cmd{"set", "k", "v"};
    cmd.insert(cmd.end(), opts.begin(), opts.end());
    EXPECT_THAT(Run(cmd), ErrorIs(invalid)) << testing::PrintToString(opts);
  }
  EXPECT_THAT(Run({"set", "k", "v", "ex", "1.5"}), ErrorIs(kNotInteger));
  EXPECT_THAT(Run({"set", "k", "v", "ex", "abc"}), ErrorIs(kNotInteger));
  EXPECT_THAT(Run({"set", "k", "v", "px", " 10"}), ErrorIs(kNotInteger));
  // The largest absolute times are fine.
  EXPECT_EQ(Run({"set", "k", "v", "exat", "9223372036854775"}), "OK");
  EXPECT_EQ(Deadline("k"), 9223372036854775000);
  EXPECT_EQ(Run({"set", "k", "v", "pxat", "9223372036854775807"}), "OK");
  // The expire time is checked before GET runs and before anything is written.
  Run({"set", "old", "v"});
  EXPECT_THAT(Run({"set", "old", "w", "get", "ex", "0"}), ErrorIs(invalid));
  EXPECT_EQ(Run({"get", "old"}), "v");
}

TEST_F(StringFamilyTest, SetNx) {
  EXPECT_EQ(Run({"setnx", "k", "v"}), 1);
  EXPECT_EQ(Run({"setnx", "k", "w"}), 0);
  EXPECT_EQ(Run({"get", "k"}), "v");
  EXPECT_THAT(Run({"setnx", "k"}), ErrorIs("ERR wrong number of arguments for 'setnx' command"));
  // An expired key does not count as existing.
  Run({"set", "e", "v", "px", "10"});
  AdvanceMs(10);
  EXPECT_EQ(Run({"setnx", "e", "w"}), 1);
  EXPECT_EQ(Run({"get", "e"}), "w");
}

TEST_F(StringFamilyTest, SetExAndPSetEx) {
  int64_t now = Now();
  EXPECT_EQ(Run({"setex", "k", "10", "v"}), "OK");
  EXPECT_EQ(Run({"get", "k"}), "v");
  EXPECT_EQ(Deadline("k"), now + 10000);
  EXPECT_EQ(Run({"psetex", "p", "1500", "v"}), "OK");
  EXPECT_EQ(Deadline("p"), now + 1500);
  // SETEX overwrites any previous value and deadline.
  EXPECT_EQ(Run({"setex", "k", "20", "w"}), "OK");
  EXPECT_EQ(Deadline("k"), now + 20000);
  AdvanceMs(1500);
  EXPECT_TRUE(Run({"get", "p"}).is_null());
  AdvanceMs(18500);
  EXPECT_TRUE(Run({"get", "k"}).is_null());

  EXPECT_THAT(Run({"setex", "k", "0", "v"}), ErrorIs("ERR invalid expire time in 'setex' command"));
  EXPECT_THAT(Run({"setex", "k", "-1", "v"}),
              ErrorIs("ERR invalid expire time in 'setex' command"));
  EXPECT_THAT(Run({"SETEX", "k", "9223372036854776", "v"}),
              ErrorIs("ERR invalid expire time in 'setex' command"));
  EXPECT_THAT(Run({"psetex", "k", "-1", "v"}),
              ErrorIs("ERR invalid expire time in 'psetex' command"));
  EXPECT_THAT(Run({"psetex", "k", "9223372036854775807", "v"}),
              ErrorIs("ERR invalid expire time in 'psetex' command"));
  EXPECT_THAT(Run({"setex", "k", "x", "v"}), ErrorIs(kNotInteger));
  EXPECT_THAT(Run({"psetex", "k", "1.0", "v"}), ErrorIs(kNotInteger));
  EXPECT_THAT(Run({"setex", "k", "10"}),
              ErrorIs("ERR wrong number of arguments for 'setex' command"));
  EXPECT_EQ(Exists("k"), 0);
}

TEST_F(StringFamilyTest, GetSetCommand) {
  EXPECT_TRUE(Run({"getset", "k", "v"}).is_null());
  EXPECT_EQ(Run({"getset", "k", "w"}), "v");
  EXPECT_EQ(Run({"get", "k"}), "w");
  // GETSET drops the deadline, like SET.
  Run({"set", "t", "v", "ex", "100"});
  EXPECT_EQ(Run({"getset", "t", "w"}), "v");
  EXPECT_EQ(Deadline("t"), -1);
  MakeList("list");
  EXPECT_THAT(Run({"getset", "list", "v"}), ErrorIs(kWrongType));
}

TEST_F(StringFamilyTest, GetDel) {
  EXPECT_TRUE(Run({"getdel", "k"}).is_null());
  Run({"set", "k", "v", "ex", "100"});
  EXPECT_EQ(Run({"getdel", "k"}), "v");
  EXPECT_EQ(Exists("k"), 0);
  EXPECT_EQ(Deadline("k"), -2);
  EXPECT_TRUE(Run({"getdel", "k"}).is_null());
  EXPECT_THAT(Run({"getdel", "k", "x"}),
              ErrorIs("ERR wrong number of arguments for 'getdel' command"));
  MakeList("list");
  EXPECT_THAT(Run({"getdel", "list"}), ErrorIs(kWrongType));
}

TEST_F(StringFamilyTest, GetEx) {
  int64_t now = Now();
  EXPECT_TRUE(Run({"getex", "nokey"}).is_null());
  Run({"set", "k", "v"});
  EXPECT_EQ(Run({"getex", "k"}), "v");
  EXPECT_EQ(Deadline("k"), -1);
  EXPECT_EQ(Run({"getex", "k", "ex", "10"}), "v");
  EXPECT_EQ(Deadline("k"), now + 10000);
  EXPECT_EQ(Run({"getex", "k", "PX", "500"}), "v");
  EXPECT_EQ(Deadline("k"), now + 500);
  EXPECT_EQ(Run({"getex", "k", "exat", Str(now / 1000 + 50)}), "v");
  EXPECT_EQ(Deadline("k"), (now / 1000 + 50) * 1000);
  EXPECT_EQ(Run({"getex", "k", "pxat", Str(now + 700)}), "v");
  EXPECT_EQ(Deadline("k"), now + 700);
  EXPECT_EQ(Run({"getex", "k", "ex", "10", "ex", "20"}), "v");
  EXPECT_EQ(Deadline("k"), now + 20000);
  EXPECT_EQ(Run({"getex", "k", "persist"}), "v");
  EXPECT_EQ(Deadline("k"), -1);
  EXPECT_EQ(Run({"getex", "k", "persist", "persist"}), "v");
  EXPECT_EQ(Deadline("k"), -1);

  Run({"getex", "k", "px", "100"});
  AdvanceMs(99);
  EXPECT_EQ(Run({"getex", "k"}), "v");
  AdvanceMs(1);
  EXPECT_TRUE(Run({"getex", "k"}).is_null());
}

TEST_F(StringFamilyTest, GetExPastAbsoluteTimeDeletes) {
  Run({"set", "k", "v"});
  EXPECT_EQ(Run({"getex", "k", "pxat", "1"}), "v");
  EXPECT_EQ(Deadline("k"), -2);
  Run({"set", "k", "v"});
  EXPECT_EQ(Run({"getex", "k", "exat", Str(Now() / 1000)}), "v");
  EXPECT_EQ(Deadline("k"), -2);
}

TEST_F(StringFamilyTest, GetExErrors) {
  Run({"set", "k", "v"});
  for (Command opts : std::vector<Command>{{"foo"},
                                           {"ex"},
                                           {"nx"},
                                           {"get"},
                                           {"keepttl"},
                                           {"ex", "10", "persist"},
                                           {"persist", "ex", "10"},
                                           {"ex", "10", "px", "100"},
                                           {"exat", "10", "pxat", "100"}}) {
    Command cmd{"getex", "k"};
    cmd.insert(cmd.end(), opts.begin(), opts.end());
    EXPECT_THAT(Run(cmd), ErrorIs(kSyntax)) << testing::PrintToString(opts);
  }
  const std::string invalid = "ERR invalid expire time in 'getex' command";
  EXPECT_THAT(Run({"getex", "k", "ex", "0"}), ErrorIs(invalid));
  EXPECT_THAT(Run({"getex", "k", "px", "-1"}), ErrorIs(invalid));
  EXPECT_THAT(Run({"getex", "k", "px", "9223372036854775807"}), ErrorIs(invalid));
  EXPECT_THAT(Run({"getex", "k", "exat", "9223372036854776"}), ErrorIs(invalid));
  EXPECT_THAT(Run({"getex", "k", "ex", "abc"}), ErrorIs(kNotInteger));
  EXPECT_EQ(Deadline("k"), -1);
  // Syntax is checked first, but the time only once the key exists.
  EXPECT_THAT(Run({"getex", "nokey", "foo"}), ErrorIs(kSyntax));
  EXPECT_TRUE(Run({"getex", "nokey", "ex", "0"}).is_null());
  EXPECT_TRUE(Run({"getex", "nokey", "ex", "abc"}).is_null());
  EXPECT_THAT(Run({"getex"}), ErrorIs("ERR wrong number of arguments for 'getex' command"));
  MakeList("list");
  EXPECT_THAT(Run({"getex", "list", "persist"}), ErrorIs(kWrongType));
}

// ----------------------------------------------------------------------------------------------
// MGET / MSET / MSETNX

TEST_F(StringFamilyTest, MGet) {
  Run({"set", "a", "1"});
  Run({"set", "b", "two"});
  EXPECT_THAT(Run({"mget", "a", "nokey", "b", "a"}).strings(),
              ElementsAre("1", "(nil)", "two", "1"));
  EXPECT_EQ(RunRaw({"mget", "a", "nokey"}), "*2\r\n$1\r\n1\r\n$-1\r\n");
  MakeList("list");
  // A key of another type reads as null instead of failing the command.
  EXPECT_THAT(Run({"mget", "list", "a"}).strings(), ElementsAre("(nil)", "1"));
  EXPECT_THAT(Run({"mget"}), ErrorIs("ERR wrong number of arguments for 'mget' command"));
}

TEST_F(StringFamilyTest, MSet) {
  EXPECT_EQ(Run({"mset", "a", "1", "b", "2", "a", "3"}), "OK");
  EXPECT_THAT(Run({"mget", "a", "b"}).strings(), ElementsAre("3", "2"));
  Run({"set", "t", "v", "ex", "100"});
  EXPECT_EQ(Run({"mset", "t", "w"}), "OK");
  EXPECT_EQ(Deadline("t"), -1);
  EXPECT_THAT(Run({"mset", "a", "1", "b"}),
              ErrorIs("ERR wrong number of arguments for 'mset' command"));
  EXPECT_THAT(Run({"mset", "a"}), ErrorIs("ERR wrong number of arguments for 'mset' command"));
  EXPECT_THAT(Run({"mget", "a", "b"}).strings(), ElementsAre("3", "2"));
}

TEST_F(StringFamilyTest, MSetNx) {
  EXPECT_EQ(Run({"msetnx", "a", "1", "b", "2"}), 1);
  EXPECT_EQ(Run({"msetnx", "c", "3", "b", "x"}), 0);
  EXPECT_EQ(Exists("c"), 0);
  EXPECT_EQ(Run({"get", "b"}), "2");
  EXPECT_THAT(Run({"msetnx", "c", "1", "d"}),
              ErrorIs("ERR wrong number of arguments for 'msetnx' command"));
  // An expired key does not block MSETNX.
  Run({"set", "e", "v", "px", "5"});
  AdvanceMs(5);
  EXPECT_EQ(Run({"msetnx", "e", "1", "f", "2"}), 1);
  EXPECT_THAT(Run({"mget", "e", "f"}).strings(), ElementsAre("1", "2"));
}

// ----------------------------------------------------------------------------------------------
// APPEND / STRLEN / SETRANGE / GETRANGE

TEST_F(StringFamilyTest, Append) {
  EXPECT_EQ(Run({"append", "k", "hello"}), 5);
  EXPECT_EQ(Run({"append", "k", " world"}), 11);
  EXPECT_EQ(Run({"get", "k"}), "hello world");
  EXPECT_EQ(Run({"append", "k", ""}), 11);
  // An empty APPEND still creates the key.
  EXPECT_EQ(Run({"append", "empty", ""}), 0);
  EXPECT_EQ(Exists("empty"), 1);
  // Appending to an integer works on its text and keeps the deadline.
  Run({"set", "n", "12", "ex", "100"});
  int64_t deadline = Deadline("n");
  EXPECT_EQ(Run({"append", "n", "34"}), 4);
  EXPECT_EQ(Run({"get", "n"}), "1234");
  EXPECT_EQ(Deadline("n"), deadline);
  MakeList("list");
  EXPECT_THAT(Run({"append", "list", "x"}), ErrorIs(kWrongType));
}

TEST_F(StringFamilyTest, AppendManyTimes) {
  std::string expected;
  for (int i = 0; i < 2000; i++) {
    std::string piece = std::to_string(i) + ",";
    expected += piece;
    ASSERT_EQ(Run({"append", "k", piece}), static_cast<int64_t>(expected.size()));
  }
  EXPECT_EQ(Run({"get", "k"}), expected);
}

TEST_F(StringFamilyTest, AppendSizeLimit) {
  server().settings().proto_max_bulk_len = 10;
  EXPECT_EQ(Run({"append", "k", "12345"}), 5);
  EXPECT_EQ(Run({"append", "k", "67890"}), 10);
  EXPECT_THAT(Run({"append", "k", "x"}), ErrorIs(kTooLong));
  EXPECT_EQ(Run({"get", "k"}), "1234567890");
  EXPECT_EQ(Run({"append", "k", ""}), 10);
}

TEST_F(StringFamilyTest, StrLen) {
  EXPECT_EQ(Run({"strlen", "nokey"}), 0);
  Run({"set", "k", "hello"});
  EXPECT_EQ(Run({"strlen", "k"}), 5);
  Run({"set", "n", "-12345"});
  EXPECT_EQ(Run({"strlen", "n"}), 6);
  MakeList("list");
  EXPECT_THAT(Run({"strlen", "list"}), ErrorIs(kWrongType));
}

TEST_F(StringFamilyTest, SetRange) {
  Run({"set", "k", "Hello World"});
  EXPECT_EQ(Run({"setrange", "k", "6", "Redis"}), 11);
  EXPECT_EQ(Run({"get", "k"}), "Hello Redis");
  EXPECT_EQ(Run({"setrange", "k", "11", "!!"}), 13);
  EXPECT_EQ(Run({"get", "k"}), "Hello Redis!!");
  // Past the end, the gap is zero-filled; a missing key starts empty.
  EXPECT_EQ(Run({"setrange", "z", "3", "x"}), 4);
  EXPECT_EQ(Run({"get", "z"}), std::string("\0\0\0x", 4));
  // An empty value changes nothing and creates nothing, whatever the offset.
  EXPECT_EQ(Run({"setrange", "k", "100", ""}), 13);
  EXPECT_EQ(Run({"strlen", "k"}), 13);
  EXPECT_EQ(Run({"setrange", "nokey", "99999999999", ""}), 0);
  EXPECT_EQ(Exists("nokey"), 0);
  // The deadline is kept.
  Run({"set", "t", "12345", "ex", "100"});
  int64_t deadline = Deadline("t");
  EXPECT_EQ(Run({"setrange", "t", "0", "9"}), 5);
  EXPECT_EQ(Run({"get", "t"}), "92345");
  EXPECT_EQ(Deadline("t"), deadline);
}

TEST_F(StringFamilyTest, SetRangeErrors) {
  Run({"set", "k", "v"});
  EXPECT_THAT(Run({"setrange", "k", "-1", "x"}), ErrorIs("ERR offset is out of range"));
  EXPECT_THAT(Run({"setrange", "k", "x", "x"}), ErrorIs(kNotInteger));
  EXPECT_THAT(Run({"setrange", "k", "1.5", "x"}), ErrorIs(kNotInteger));
  EXPECT_THAT(Run({"setrange", "k", "0"}),
              ErrorIs("ERR wrong number of arguments for 'setrange' command"));
  // The limit applies to offset + length, for new and existing keys alike.
  EXPECT_THAT(Run({"setrange", "k", "536870912", "x"}), ErrorIs(kTooLong));
  EXPECT_THAT(Run({"setrange", "nokey", "536870912", "x"}), ErrorIs(kTooLong));
  EXPECT_THAT(Run({"setrange", "nokey", "9223372036854775807", "x"}), ErrorIs(kTooLong));
  server().settings().proto_max_bulk_len = 10;
  EXPECT_EQ(Run({"setrange", "k", "9", "x"}), 10);
  EXPECT_THAT(Run({"setrange", "k", "9", "xy"}), ErrorIs(kTooLong));
  EXPECT_EQ(Exists("nokey"), 0);
  MakeList("list");
  EXPECT_THAT(Run({"setrange", "list", "0", "x"}), ErrorIs(kWrongType));
  // The type is checked before an empty value short-cuts.
  EXPECT_THAT(Run({"setrange", "list", "0", ""}), ErrorIs(kWrongType));
}

TEST_F(StringFamilyTest, GetRange) {
  Run({"set", "k", "This is a string"});
  EXPECT_EQ(Run({"getrange", "k", "0", "3"}), "This");
  EXPECT_EQ(Run({"getrange", "k", "-3", "-1"}), "ing");
  EXPECT_EQ(Run({"getrange", "k", "0", "-1"}), "This is a string");
  EXPECT_EQ(Run({"getrange", "k", "10", "100"}), "string");
  EXPECT_EQ(Run({"getrange", "k", "-100", "100"}), "This is a string");
  EXPECT_EQ(Run({"getrange", "k", "5", "2"}), "");
  EXPECT_EQ(Run({"getrange", "k", "-1", "-5"}), "");
  EXPECT_EQ(Run({"getrange", "k", "100", "200"}), "");
  EXPECT_EQ(Run({"getrange", "k", "-9223372036854775808", "9223372036854775807"}),
            "This is a string");
  EXPECT_EQ(Run({"getrange", "k", "0", "-9223372036854775808"}), "T");
  EXPECT_EQ(RunRaw({"getrange", "nokey", "0", "-1"}), "$0\r\n\r\n");
  Run({"set", "empty", ""});
  EXPECT_EQ(Run({"getrange", "empty", "0", "-1"}), "");
  Run({"set", "n", "12345"});
  EXPECT_EQ(Run({"getrange", "n", "1", "2"}), "23");
  EXPECT_EQ(Run({"substr", "k", "1", "3"}), "his");
  EXPECT_THAT(Run({"getrange", "k", "0", "x"}), ErrorIs(kNotInteger));
  EXPECT_THAT(Run({"getrange", "k", "x", "0"}), ErrorIs(kNotInteger));
  EXPECT_THAT(Run({"getrange", "nokey", "x", "0"}), ErrorIs(kNotInteger));
  EXPECT_THAT(Run({"getrange", "k", "0"}),
              ErrorIs("ERR wrong number of arguments for 'getrange' command"));
  EXPECT_THAT(Run({"substr", "k", "0"}),
              ErrorIs("ERR wrong number of arguments for 'substr' command"));
  MakeList("list");
  EXPECT_THAT(Run({"getrange", "list", "0", "-1"}), ErrorIs(kWrongType));
}

// ----------------------------------------------------------------------------------------------
// Counters

TEST_F(StringFamilyTest, IncrDecr) {
  EXPECT_EQ(Run({"incr", "n"}), 1);
  EXPECT_EQ(Run({"incr", "n"}), 2);
  EXPECT_EQ(Run({"decr", "n"}), 1);
  EXPECT_EQ(Run({"decr", "m"}), -1);
  EXPECT_EQ(Run({"incrby", "n", "10"}), 11);
  EXPECT_EQ(Run({"incrby", "n", "-20"}), -9);
  EXPECT_EQ(Run({"decrby", "n", "-9"}), 0);
  EXPECT_EQ(Run({"decrby", "n", "5"}), -5);
  EXPECT_EQ(Run({"get", "n"}), "-5");
  EXPECT_EQ(RunRaw({"incr", "n"}), ":-4\r\n");
}

TEST_F(StringFamilyTest, IncrKeepsTtl) {
  Run({"set", "n", "5", "ex", "100"});
  int64_t deadline = Deadline("n");
  EXPECT_EQ(Run({"incr", "n"}), 6);
  EXPECT_EQ(Run({"decrby", "n", "2"}), 4);
  EXPECT_EQ(Deadline("n"), deadline);
  AdvanceMs(100000);
  EXPECT_EQ(Run({"incr", "n"}), 1);
  EXPECT_EQ(Deadline("n"), -1);
}

// INCR rewrites an int-encoded value in place while its digits keep their count, and builds a
// new entry when the count changes or the value was not int-encoded: either way the result is
// int-encoded, the deadline stays and the next read sees the new digits.
TEST_F(StringFamilyTest, IncrInPlaceAndAcrossDigitCounts) {
  Run({"set", "n", "8", "px", "100000"});
  const int64_t deadline = Deadline("n");
  const std::vector<int64_t> expected = {9, 10, 11};
  for (int64_t v : expected) {
    EXPECT_EQ(Run({"incr", "n"}), v);
    EXPECT_EQ(Run({"get", "n"}), Str(v));
    EXPECT_EQ(Encoding("n"), "int");
    EXPECT_EQ(Deadline("n"), deadline);
  }
  EXPECT_EQ(Run({"incrby", "n", "-21"}), -10);  // "11" to "-10": same length, new sign
  EXPECT_EQ(Run({"get", "n"}), "-10");
  EXPECT_EQ(Run({"incrby", "n", "10"}), 0);
  EXPECT_EQ(Run({"get", "n"}), "0");
  EXPECT_EQ(Deadline("n"), deadline);
  // A raw string holding digits becomes an int.
  Run({"append", "r", "4"});
  Run({"append", "r", "2"});
  EXPECT_EQ(Encoding("r"), "raw");
  EXPECT_EQ(Run({"incr", "r"}), 43);
  EXPECT_EQ(Encoding("r"), "int");
  EXPECT_EQ(Run({"append", "r", "0"}), 3);  // the in-place int did not keep a stale length
  EXPECT_EQ(Run({"get", "r"}), "430");
}

TEST_F(StringFamilyTest, IncrErrors) {
  for (const char* bad : {"abc", " 1", "1 ", "1.0", "", "01", "-0", "+1", "12345678901234567890",
                          "9223372036854775808"}) {
    Run({"set", "bad", bad});
    EXPECT_THAT(Run({"incr", "bad"}), ErrorIs(kNotInteger)) << bad;
    EXPECT_EQ(Run({"get", "bad"}), bad);
  }
  EXPECT_THAT(Run({"incrby", "n", "abc"}), ErrorIs(kNotInteger));
  EXPECT_THAT(Run({"incrby", "n", "1.5"}), ErrorIs(kNotInteger));
  EXPECT_THAT(Run({"decrby", "n", "9223372036854775808"}), ErrorIs(kNotInteger));
  EXPECT_EQ(Exists("n"), 0);

  const char* overflow = "ERR increment or decrement would overflow";
  Run({"set", "max", "9223372036854775807"});
  EXPECT_THAT(Run({"incr", "max"}), ErrorIs(overflow));
  EXPECT_THAT(Run({"decrby", "max", "-1"}), ErrorIs(overflow));
  EXPECT_EQ(Run({"decr", "max"}), 9223372036854775806);
  Run({"set", "min", "-9223372036854775808"});
  EXPECT_THAT(Run({"decr", "min"}), ErrorIs(overflow));
  EXPECT_THAT(Run({"incrby", "min", "-1"}), ErrorIs(overflow));
  EXPECT_EQ(Run({"incrby", "min", "9223372036854775807"}), -1);
  EXPECT_EQ(Run({"incrby", "big", "9223372036854775807"}), 9223372036854775807);
  EXPECT_THAT(Run({"incrby", "big", "1"}), ErrorIs(overflow));
  EXPECT_THAT(Run({"decrby", "x", "-9223372036854775808"}),
              ErrorIs("ERR decrement would overflow"));
  EXPECT_EQ(Exists("x"), 0);
  EXPECT_THAT(Run({"incr"}), ErrorIs("ERR wrong number of arguments for 'incr' command"));
  EXPECT_THAT(Run({"incrby", "n"}), ErrorIs("ERR wrong number of arguments for 'incrby' command"));
  MakeList("list");
  EXPECT_THAT(Run({"incr", "list"}), ErrorIs(kWrongType));
  // The increment is parsed before the key is looked at.
  EXPECT_THAT(Run({"incrby", "list", "x"}), ErrorIs(kNotInteger));
}

TEST_F(StringFamilyTest, IncrByFloat) {
  EXPECT_EQ(Run({"incrbyfloat", "f", "10.5"}), "10.5");
  EXPECT_EQ(Run({"incrbyfloat", "f", "0.1"}), "10.6");
  EXPECT_EQ(Run({"incrbyfloat", "f", "-5.6"}), "5");
  EXPECT_EQ(Run({"incrbyfloat", "f", "5.0e3"}), "5005");
  EXPECT_EQ(Run({"incrbyfloat", "f", "2.0e2"}), "5205");
  EXPECT_EQ(Run({"incrbyfloat", "g", "-0.0"}), "0");
  EXPECT_EQ(Run({"incrbyfloat", "h", "0x10"}), "16");
  EXPECT_EQ(Run({"incrbyfloat", "h", ".5"}), "16.5");
  EXPECT_EQ(Run({"incrbyfloat", "h", "5."}), "21.5");
  Run({"set", "i", "3"});
  EXPECT_EQ(Run({"incrbyfloat", "i", "1"}), "4");
  // The result keeps the key's deadline.
  Run({"set", "t", "1.5", "ex", "100"});
  int64_t deadline = Deadline("t");
  EXPECT_EQ(Run({"incrbyfloat", "t", "1.5"}), "3");
  EXPECT_EQ(Deadline("t"), deadline);
  // Underflow that rounds to a tiny value is accepted.
  EXPECT_EQ(Run({"incrbyfloat", "tiny", "1e-4940"}), "0");
}

TEST_F(StringFamilyTest, IncrByFloatErrors) {
  const char* nan_inf = "ERR increment would produce NaN or Infinity";
  for (const char* bad : {"abc", " 1", "1 ", "", "nan", "1e", "+", "1.5e-5000", "1e5000"}) {
    EXPECT_THAT(Run({"incrbyfloat", "f", bad}), ErrorIs(kNotFloat)) << bad;
  }
  EXPECT_THAT(Run({"incrbyfloat", "f", std::string(5120, '1')}), ErrorIs(kNotFloat));
  EXPECT_EQ(Exists("f"), 0);
  // "inf" parses; the result is what is refused.
  EXPECT_THAT(Run({"incrbyfloat", "f", "inf"}), ErrorIs(nan_inf));
  EXPECT_THAT(Run({"incrbyfloat", "f", "-inf"}), ErrorIs(nan_inf));
  Run({"set", "inf", "inf"});
  EXPECT_THAT(Run({"incrbyfloat", "inf", "1"}), ErrorIs(nan_inf));
  Run({"set", "big", "1e4932"});
  EXPECT_THAT(Run({"incrbyfloat", "big", "1e4932"}), ErrorIs(nan_inf));
  Run({"set", "s", "hello"});
  EXPECT_THAT(Run({"incrbyfloat", "s", "1"}), ErrorIs(kNotFloat));
  Run({"set", "sp", " 1"});
  EXPECT_THAT(Run({"incrbyfloat", "sp", "1"}), ErrorIs(kNotFloat));
  EXPECT_EQ(Run({"get", "s"}), "hello");
  MakeList("list");
  // The type is checked before the increment is parsed.
  EXPECT_THAT(Run({"incrbyfloat", "list", "abc"}), ErrorIs(kWrongType));
}

TEST_F(StringFamilyTest, IncrByFloatHugeValue) {
  Resp r = Run({"incrbyfloat", "f", "1e4000"});
  ASSERT_FALSE(r.is_error()) << r;
  // The nearest long double is a little under 1e4000, printed with all its integer digits.
  EXPECT_EQ(r.str.size(), 4000u);
  EXPECT_EQ(r.str.substr(0, 24), "999999999999999999996546");
  EXPECT_EQ(Run({"strlen", "f"}), 4000);
}

// ----------------------------------------------------------------------------------------------
// LCS

TEST_F(StringFamilyTest, Lcs) {
  Run({"mset", "a", "ohmytext", "b", "mynewtext"});
  EXPECT_EQ(Run({"lcs", "a", "b"}), "mytext");
  EXPECT_EQ(Run({"lcs", "a", "b", "len"}), 6);
  EXPECT_EQ(Run({"lcs", "a", "nokey"}), "");
  EXPECT_EQ(Run({"lcs", "nokey", "nokey2", "len"}), 0);
  Run({"set", "n", "10"});
  Run({"set", "m", "2100"});
  EXPECT_EQ(Run({"lcs", "n", "m"}), "10");
}

TEST_F(StringFamilyTest, LcsIdx) {
  Run({"mset", "a", "ohmytext", "b", "mynewtext"});
  EXPECT_EQ(RunRaw({"lcs", "a", "b", "idx"}),
            "*4\r\n$7\r\nmatches\r\n*2\r\n"
            "*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n"
            "*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n"
            "$3\r\nlen\r\n:6\r\n");
  EXPECT_EQ(RunRaw({"lcs", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"}),
            "*4\r\n$7\r\nmatches\r\n*1\r\n"
            "*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n"
            "$3\r\nlen\r\n:6\r\n");
  EXPECT_EQ(RunRaw({"lcs", "a", "b", "idx", "minmatchlen", "-5", "withmatchlen"}),
            "*4\r\n$7\r\nmatches\r\n*2\r\n"
            "*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n"
            "*3\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n"
            "$3\r\nlen\r\n:6\r\n");
  EXPECT_EQ(RunRaw({"lcs", "x", "y", "idx"}), "*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n");
  // RESP3 answers IDX with a map.
  Run({"hello", "3"});
  Resp r = Run({"lcs", "a", "b", "idx"});
  ASSERT_EQ(r.type, Resp::Type::kMap);
  EXPECT_EQ(r[0], "matches");
  EXPECT_EQ(r[1].size(), 2u);
  EXPECT_EQ(r[2], "len");
  EXPECT_EQ(r[3], 6);
}

TEST_F(StringFamilyTest, LcsErrors) {
  Run({"mset", "a", "ohmytext", "b", "mynewtext"});
  EXPECT_THAT(Run({"lcs", "a", "b", "idx", "len"}),
              ErrorIs("ERR If you want both the length and indexes, please just use IDX."));
  EXPECT_THAT(Run({"lcs", "a", "b", "foo"}), ErrorIs(kSyntax));
  EXPECT_THAT(Run({"lcs", "a", "b", "minmatchlen"}), ErrorIs(kSyntax));
  EXPECT_THAT(Run({"lcs", "a", "b", "minmatchlen", "x"}), ErrorIs(kNotInteger));
  EXPECT_THAT(Run({"lcs", "a"}), ErrorIs("ERR wrong number of arguments for 'lcs' command"));
  // The transient table is bounded by proto-max-bulk-len.
  server().settings().proto_max_bulk_len = 89;  // (8+1)*(9+1)*4 = 360 bytes needed
  EXPECT_THAT(Run({"lcs", "a", "b"}),
              ErrorIs("ERR Insufficient memory, transient memory for LCS exceeds "
                      "proto-max-bulk-len"));
  server().settings().proto_max_bulk_len = 360;
  EXPECT_EQ(Run({"lcs", "a", "b"}), "mytext");
  MakeList("list");
  // Types are checked before the options.
  EXPECT_THAT(Run({"lcs", "a", "list", "foo"}),
              ErrorIs("ERR The specified keys must contain string values"));
}

// ----------------------------------------------------------------------------------------------
// Encodings (OBJECT ENCODING, from the generic family)

TEST_F(StringFamilyTest, EncodingOfSetValues) {
  Run({"set", "int", "123"});
  EXPECT_EQ(Encoding("int"), "int");
  Run({"set", "neg", "-9223372036854775808"});
  EXPECT_EQ(Encoding("neg"), "int");
  Run({"set", "big", "12345678901234567890"});
  EXPECT_EQ(Encoding("big"), "embstr");
  Run({"set", "lead", "01"});
  EXPECT_EQ(Encoding("lead"), "embstr");
  Run({"set", "e44", std::string(44, 'x')});
  EXPECT_EQ(Encoding("e44"), "embstr");
  Run({"set", "r45", std::string(45, 'x')});
  EXPECT_EQ(Encoding("r45"), "raw");
  Run({"mset", "m1", "1", "m2", "abc", "m3", std::string(45, 'x')});
  EXPECT_EQ(Encoding("m1"), "int");
  EXPECT_EQ(Encoding("m2"), "embstr");
  EXPECT_EQ(Encoding("m3"), "raw");
  Run({"getset", "e44", "7"});
  EXPECT_EQ(Encoding("e44"), "int");
  Run({"setex", "sx", "100", "7"});
  EXPECT_EQ(Encoding("sx"), "int");
  Run({"setnx", "sn", "abc"});
  EXPECT_EQ(Encoding("sn"), "embstr");
}

TEST_F(StringFamilyTest, EncodingAfterEdits) {
  // APPEND on a new key encodes like SET; on an existing one it leaves raw, even with "".
  Run({"append", "na", "5"});
  EXPECT_EQ(Encoding("na"), "int");
  Run({"append", "nb", "abc"});
  EXPECT_EQ(Encoding("nb"), "embstr");
  Run({"set", "i", "123"});
  Run({"append", "i", ""});
  EXPECT_EQ(Encoding("i"), "raw");
  // SETRANGE always leaves raw.
  Run({"setrange", "sr", "0", "5"});
  EXPECT_EQ(Encoding("sr"), "raw");
  Run({"set", "s2", "12"});
  Run({"setrange", "s2", "0", "3"});
  EXPECT_EQ(Encoding("s2"), "raw");
  // INCR always leaves int, INCRBYFLOAT never.
  EXPECT_EQ(Run({"incr", "s2"}), 33);
  EXPECT_EQ(Encoding("s2"), "int");
  EXPECT_EQ(Run({"incrbyfloat", "s2", "1"}), "34");
  EXPECT_EQ(Encoding("s2"), "embstr");
  Run({"incrbyfloat", "fl", "1e50"});
  EXPECT_EQ(Encoding("fl"), "raw");
}

// ----------------------------------------------------------------------------------------------
// Propagation to the AOF and replicas

TEST_F(StringFamilyTest, PropagateSet) {
  int64_t now = Now();
  Run({"set", "k", "v"});
  Run({"SET", "k", "v", "NX"});  // not written: not propagated
  Run({"set", "k", "v", "xx", "keepttl"});
  EXPECT_THAT(Propagated(),
              ElementsAre(Command{"set", "k", "v"}, Command{"set", "k", "v", "xx", "keepttl"}));
  // Relative and absolute times all travel as PXAT.
  Run({"set", "k", "v", "ex", "10"});
  Run({"set", "k", "v", "px", "10", "nx"});  // not written
  Run({"set", "k", "v", "px", "10", "xx"});
  Run({"set", "k", "v", "exat", "2000000000"});
  Run({"set", "k", "v", "pxat", "2000000000123", "get"});
  EXPECT_THAT(Propagated(), ElementsAre(Command{"SET", "k", "v", "PXAT", Str(now + 10000)},
                                        Command{"SET", "k", "v", "PXAT", Str(now + 10)},
                                        Command{"SET", "k", "v", "PXAT", "2000000000000"},
                                        Command{"SET", "k", "v", "PXAT", "2000000000123"}));
  // GET is dropped, every time it appears.
  Run({"set", "k", "w", "GET", "xx", "get"});
  EXPECT_THAT(Propagated(), ElementsAre(Command{"set", "k", "w", "xx"}));
  // Errors propagate nothing.
  Run({"set", "k", "v", "ex", "0"});
  Run({"set", "k", "v", "foo"});
  EXPECT_THAT(Propagated(), IsEmpty());
}

TEST_F(StringFamilyTest, PropagateSetVariants) {
  int64_t now = Now();
  Run({"setnx", "k", "v"});
  Run({"setnx", "k", "v"});
  Run({"setex", "k", "10", "v"});
  Run({"psetex", "k", "250", "w"});
  Run({"getset", "k", "x"});
  Run({"mset", "a", "1", "b", "2"});
  Run({"msetnx", "a", "1", "c", "2"});
  Run({"msetnx", "c", "1", "d", "2"});
  EXPECT_THAT(
      Propagated(),
      ElementsAre(Command{"setnx", "k", "v"}, Command{"SET", "k", "v", "PXAT", Str(now + 10000)},
                  Command{"SET", "k", "w", "PXAT", Str(now + 250)}, Command{"SET", "k", "x"},
                  Command{"mset", "a", "1", "b", "2"}, Command{"msetnx", "c", "1", "d", "2"}));
}

TEST_F(StringFamilyTest, PropagateGetDelAndGetEx) {
  int64_t now = Now();
  Run({"set", "k", "v"});
  Propagated();
  Run({"getdel", "nokey"});
  Run({"getex", "k"});
  Run({"getex", "k", "persist"});  // no deadline: nothing changes
  EXPECT_THAT(Propagated(), IsEmpty());
  Run({"getex", "k", "ex", "10"});
  Run({"getex", "k", "px", "20"});
  Run({"getex", "k", "exat", "2000000000"});
  Run({"getex", "k", "pxat", "2000000000123"});
  Run({"getex", "k", "persist"});
  Run({"getex", "k", "pxat", "1"});
  Run({"set", "k", "v"});
  Run({"getdel", "k"});
  EXPECT_THAT(Propagated(),
              ElementsAre(Command{"PEXPIREAT", "k", Str(now + 10000)},
                          Command{"PEXPIREAT", "k", Str(now + 20)},
                          Command{"PEXPIREAT", "k", "2000000000000"},
                          Command{"PEXPIREAT", "k", "2000000000123"}, Command{"PERSIST", "k"},
                          Command{"DEL", "k"}, Command{"set", "k", "v"}, Command{"DEL", "k"}));
}

TEST_F(StringFamilyTest, PropagateEdits) {
  Run({"append", "k", "ab"});
  Run({"setrange", "k", "1", "x"});
  Run({"setrange", "k", "1", ""});  // no change
  Run({"incr", "n"});
  Run({"decr", "n"});
  Run({"incrby", "n", "5"});
  Run({"decrby", "n", "2"});
  Run({"incr", "k"});  // error
  Run({"incrbyfloat", "f", "1.5"});
  Run({"incrbyfloat", "f", "0.25"});
  EXPECT_THAT(Propagated(),
              ElementsAre(Command{"append", "k", "ab"}, Command{"setrange", "k", "1", "x"},
                          Command{"incr", "n"}, Command{"decr", "n"}, Command{"incrby", "n", "5"},
                          Command{"decrby", "n", "2"}, Command{"SET", "f", "1.5", "KEEPTTL"},
                          Command{"SET", "f", "1.75", "KEEPTTL"}));
}

TEST_F(StringFamilyTest, ReadsPropagateNothing) {
  Run({"set", "k", "v"});
  Propagated();
  Run({"get", "k"});
  Run({"mget", "k", "x"});
  Run({"strlen", "k"});
  Run({"getrange", "k", "0", "-1"});
  Run({"substr", "k", "0", "-1"});
  Run({"lcs", "k", "x"});
  EXPECT_THAT(Propagated(), IsEmpty());
}

// An expired key read by a string command is deleted and propagated as DEL (by the keyspace).
TEST_F(StringFamilyTest, LazyExpiryPropagatesDel) {
  Run({"set", "k", "v", "px", "10"});
  Propagated();
  AdvanceMs(10);
  EXPECT_TRUE(Run({"get", "k"}).is_null());
  EXPECT_THAT(Propagated(), ElementsAre(Command{"DEL", "k"}));
}

TEST_F(StringFamilyTest, Dirty) {
  uint64_t dirty = server().propagation().dirty();
  Run({"set", "k", "v"});
  Run({"mset", "a", "1", "b", "2", "c", "3"});
  Run({"get", "k"});
  Run({"set", "k", "v", "nx"});
  EXPECT_EQ(server().propagation().dirty(), dirty + 4);
}

}  // namespace
}  // namespace keyward::test
