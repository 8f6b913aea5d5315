// The sorted-set family in-process: replies (checked against Redis 7.0.15), the listpack and
// skiplist encodings and the conversions between them, WRONGTYPE on every command, emptied keys
// deleted, keyspace events, the propagated forms (ZMPOP and the blocking pops as ZPOPMIN/ZPOPMAX)
// and every blocking path. tests/differential/test_zsets.py compares the same commands with the
// real server byte for byte.
#include <set>
#include <string>
#include <vector>

#include "tests/support/command_test.h"

namespace keyward::test {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using Command = std::vector<std::string>;

constexpr const char* kWrongType =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
constexpr const char* kSyntax = "ERR syntax error";
constexpr const char* kNotFloat = "ERR value is not a valid float";
constexpr const char* kNotInteger = "ERR value is not an integer or out of range";

// A member longer than zset-max-listpack-value (64): its set is a skiplist.
const std::string kLong(70, 'L');

class ZSetFamilyTest : public CommandTest {
 protected:
  std::vector<std::string> Strings(const Command& cmd) { return Run(cmd).strings(); }
  std::vector<Command> Propagated() {
    std::vector<Command> out;
    for (const Argv& a : TakePropagated()) out.emplace_back(a.begin(), a.end());
    return out;
  }
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
  std::string Encoding(const std::string& key) { return Run({"object", "encoding", key}).str; }
};

// --- ZADD and friends -------------------------------------------------------------------------

TEST_F(ZSetFamilyTest, AddAndRead) {
  EXPECT_EQ(Run({"zadd", "z", "1", "a", "2", "b", "3", "c"}), 3);
  EXPECT_EQ(Run({"zadd", "z", "1", "a", "5", "b", "0", "d"}), 1);
  EXPECT_EQ(Run({"zadd", "z", "ch", "1", "a", "6", "b", "0", "e"}), 2);
  EXPECT_THAT(Strings({"zrange", "z", "0", "-1", "withscores"}),
              ElementsAre("d", "0", "e", "0", "a", "1", "c", "3", "b", "6"));
  EXPECT_EQ(Run({"zcard", "z"}), 5);
  EXPECT_EQ(Run({"zcard", "missing"}), 0);
  EXPECT_EQ(Run({"zscore", "z", "c"}), "3");
  EXPECT_TRUE(Run({"zscore", "z", "x"}).is_null());
  EXPECT_TRUE(Run({"zscore", "missing", "x"}).is_null());
  EXPECT_THAT(Strings({"zmscore", "z", "a", "x", "b"}), ElementsAre("1", "(nil)", "6"));
  EXPECT_THAT(Strings({"zmscore", "missing", "a"}), ElementsAre("(nil)"));
  EXPECT_EQ(Run({"zrank", "z", "a"}), 2);
  EXPECT_EQ(Run({"zrevrank", "z", "a"}), 2);
  EXPECT_EQ(Run({"zrevrank", "z", "b"}), 0);
  EXPECT_TRUE(Run({"zrank", "z", "x"}).is_null());
  EXPECT_TRUE(Run({"zrank", "missing", "x"}).is_null());
  EXPECT_EQ(Encoding("z"), "listpack");
}

TEST_F(ZSetFamilyTest, AddOptions) {
  EXPECT_EQ(Run({"zadd", "z", "xx", "1", "a"}), 0);
  EXPECT_EQ(Run({"exists", "z"}), 0);  // XX never creates the key
  EXPECT_TRUE(Run({"zadd", "z", "xx", "incr", "1", "a"}).is_null());
  EXPECT_EQ(Run({"zadd", "z", "nx", "1", "a"}), 1);
  EXPECT_EQ(Run({"zadd", "z", "nx", "5", "a", "2", "b"}), 1);
  EXPECT_EQ(Run({"zscore", "z", "a"}), "1");
  EXPECT_EQ(Run({"zadd", "z", "gt", "ch", "0", "a", "3", "b"}), 1);
  EXPECT_EQ(Run({"zadd", "z", "lt", "ch", "0", "a", "9", "b"}), 1);
  EXPECT_THAT(Strings({"zrange", "z", "0", "-1", "withscores"}), ElementsAre("a", "0", "b", "3"));
  EXPECT_EQ(Run({"zadd", "z", "xx", "gt", "ch", "4", "b", "7", "c"}), 1);
  EXPECT_EQ(Run({"zscore", "z", "b"}), "4");
  EXPECT_TRUE(Run({"zscore", "z", "c"}).is_null());
  EXPECT_EQ(Run({"zadd", "z", "incr", "2.5", "a"}), "2.5");
  EXPECT_TRUE(Run({"zadd", "z", "incr", "nx", "1", "a"}).is_null());
  EXPECT_TRUE(Run({"zadd", "z", "incr", "gt", "-1", "a"}).is_null());
  EXPECT_EQ(Run({"zincrby", "z", "-0.5", "a"}), "2");
  EXPECT_EQ(Run({"zincrby", "z", "1e3", "new"}), "1000");
  // Errors, in Redis's order.
  EXPECT_THAT(Run({"zadd", "z", "nx", "xx", "1", "a"}),
              ErrorIs("ERR XX and NX options at the same time are not compatible"));
  EXPECT_THAT(Run({"zadd", "z", "gt", "lt", "1", "a"}),
              ErrorIs("ERR GT, LT, and/or NX options at the same time are not compatible"));
  EXPECT_THAT(Run({"zadd", "z", "nx", "gt", "1", "a"}),
              ErrorIs("ERR GT, LT, and/or NX options at the same time are not compatible"));
  EXPECT_THAT(Run({"zadd", "z", "incr", "1", "a", "2", "b"}),
              ErrorIs("ERR INCR option supports a single increment-element pair"));
  EXPECT_THAT(Run({"zadd", "z", "1", "a", "2"}), ErrorIs(kSyntax));
  EXPECT_THAT(Run({"zadd", "z", "nx", "xx", "1"}), ErrorIs(kSyntax));
  EXPECT_THAT(Run({"zadd", "z", "x", "a"}), ErrorIs(kNotFloat));
  EXPECT_THAT(Run({"zadd", "z", "nan", "a"}), ErrorIs(kNotFloat));
  EXPECT_THAT(Run({"zadd", "z", "1", "a", "y", "b"}), ErrorIs(kNotFloat));
  EXPECT_EQ(Run({"zscore", "z", "a"}), "2");  // nothing of a failed ZADD happened
  EXPECT_THAT(Run({"zincrby", "z", "x", "a"}), ErrorIs(kNotFloat));
  EXPECT_EQ(Run({"zadd", "z", "incr", "inf", "a"}), "inf");
  EXPECT_THAT(Run({"zadd", "z", "incr", "-inf", "a"}),
              ErrorIs("ERR resulting score is not a number (NaN)"));
  EXPECT_THAT(Run({"zadd", "z", "1"}), ErrorIs("ERR wrong number of arguments for 'zadd' command"));
}

TEST_F(ZSetFamilyTest, ScoresPrintAsRedisDoes) {
  Run({"zadd", "z", "0.1", "a", "1e20", "b", "-0", "c", "3.0", "d", "-inf", "e", "1e-5", "f"});
  EXPECT_EQ(Run({"zscore", "z", "a"}), "0.10000000000000001");
  EXPECT_EQ(Run({"zscore", "z", "b"}), "1e+20");
  EXPECT_EQ(Run({"zscore", "z", "c"}), "0");  // a listpack stores -0 as 0
  EXPECT_EQ(Run({"zscore", "z", "d"}), "3");
  EXPECT_EQ(Run({"zscore", "z", "e"}), "-inf");
  EXPECT_EQ(Run({"zscore", "z", "f"}), "1.0000000000000001e-05");
  EXPECT_EQ(RunRaw({"zscore", "z", "d"}), "$1\r\n3\r\n");
  // A skiplist keeps -0.
  Run({"zadd", "s", "1", kLong, "-0", "c"});
  EXPECT_EQ(Encoding("s"), "skiplist");
  EXPECT_EQ(Run({"zscore", "s", "c"}), "-0");
  // RESP3 doubles.
  Run({"hello", "3"});
  EXPECT_EQ(RunRaw({"zscore", "z", "a"}), ",0.10000000000000001\r\n");
  EXPECT_EQ(RunRaw({"zscore", "z", "e"}), ",-inf\r\n");
  EXPECT_EQ(RunRaw({"zincrby", "z", "1", "d"}), ",4\r\n");
  EXPECT_EQ(RunRaw({"zmscore", "z", "d", "x"}), "*2\r\n,4\r\n_\r\n");
}

TEST_F(ZSetFamilyTest, RemoveDeletesEmptiedKeys) {
  Run({"zadd", "z", "1", "a", "2", "b"});
  EXPECT_EQ(Run({"zrem", "z", "a", "x"}), 1);
  EXPECT_EQ(Run({"zrem", "missing", "a"}), 0);
  EXPECT_EQ(Run({"zrem", "z", "b", "b"}), 1);
  EXPECT_EQ(Run({"exists", "z"}), 0);
  Run({"zadd", "s", "1", "a", "2", kLong});
  EXPECT_EQ(Run({"zrem", "s", "a", kLong}), 2);
  EXPECT_EQ(Run({"exists", "s"}), 0);
}

// --- Encodings --------------------------------------------------------------------------------

TEST_F(ZSetFamilyTest, EncodingFollowsTheThresholds) {
  // A first member too long creates a skiplist at once; a later one converts.
  Run({"zadd", "a", "1", kLong});
  EXPECT_EQ(Encoding("a"), "skiplist");
  Run({"zadd", "b", "1", "x"});
  EXPECT_EQ(Encoding("b"), "listpack");
  Run({"zadd", "b", "2", kLong});
  EXPECT_EQ(Encoding("b"), "skiplist");
  // Never back, even when small again.
  Run({"zrem", "b", kLong});
  EXPECT_EQ(Encoding("b"), "skiplist");
  // 128 members fit, the 129th converts.
  Command add = {"zadd", "c"};
  for (int i = 0; i < 128; i++) {
    add.push_back(std::to_string(i));
    add.push_back("m" + std::to_string(i));
  }
  EXPECT_EQ(Run(add), 128);
  EXPECT_EQ(Encoding("c"), "listpack");
  EXPECT_EQ(Run({"zadd", "c", "1000", "last"}), 1);
  EXPECT_EQ(Encoding("c"), "skiplist");
  EXPECT_EQ(Run({"zrank", "c", "last"}), 128);
  EXPECT_EQ(Run({"zrevrank", "c", "m0"}), 128);
  // The *STORE results go back to a listpack when they fit.
  EXPECT_EQ(Run({"zunionstore", "d", "1", "b"}), 1);
  EXPECT_EQ(Encoding("d"), "listpack");
  EXPECT_EQ(Run({"zunionstore", "d", "1", "c"}), 129);
  EXPECT_EQ(Encoding("d"), "skiplist");
  EXPECT_EQ(Run({"zrangestore", "e", "c", "0", "127"}), 128);
  EXPECT_EQ(Encoding("e"), "listpack");
  EXPECT_EQ(Run({"zrangestore", "e", "c", "0", "128"}), 129);
  EXPECT_EQ(Encoding("e"), "skiplist");
  EXPECT_EQ(Run({"zrangestore", "e", "a", "0", "-1"}), 1);
  EXPECT_EQ(Encoding("e"), "skiplist");
}

TEST_F(ZSetFamilyTest, EncodingFollowsTheConfiguration) {
  SkipReplayCheck("CONFIG SET is not propagated: the replay builds listpacks");
  EXPECT_EQ(Run({"config", "set", "zset-max-ziplist-entries", "2"}), "OK");
  EXPECT_EQ(Run({"config", "get", "zset-max-listpack-entries"}).elems[1], "2");
  Run({"zadd", "z", "1", "a", "2", "b"});
  EXPECT_EQ(Encoding("z"), "listpack");
  Run({"zadd", "z", "3", "c"});
  EXPECT_EQ(Encoding("z"), "skiplist");
  EXPECT_EQ(Run({"config", "set", "zset-max-listpack-value", "3"}), "OK");
  Run({"zadd", "y", "1", "abc"});
  EXPECT_EQ(Encoding("y"), "listpack");
  Run({"zadd", "w", "1", "abcd"});
  EXPECT_EQ(Encoding("w"), "skiplist");
  EXPECT_EQ(Run({"config", "set", "zset-max-listpack-entries", "0"}), "OK");
  Run({"zadd", "v", "1", "a"});
  EXPECT_EQ(Encoding("v"), "skiplist");
  Run({"zrangestore", "u", "y", "0", "-1"});
  EXPECT_EQ(Encoding("u"), "skiplist");
}

// --- Ranges -----------------------------------------------------------------------------------

TEST_F(ZSetFamilyTest, RangesByRankScoreAndLex) {
  for (const std::string& key : {std::string("lp"), std::string("sl")}) {
    Command add = {"zadd", key, "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"};
    if (key == "sl") add.insert(add.end(), {"100", kLong});
    Run(add);
    EXPECT_THAT(Strings({"zrange", key, "1", "2"}), ElementsAre("b", "c"));
    EXPECT_THAT(Strings({"zrange", key, "-2", "-1", "rev"}), ElementsAre("b", "a"));
    EXPECT_THAT(Strings({"zrevrange", key, "0", "0", "withscores"}),
                ElementsAre(key == "sl" ? kLong : "e", key == "sl" ? "100" : "5"));
    EXPECT_THAT(Strings({"zrange", key, "10", "20"}), IsEmpty());
    EXPECT_THAT(Strings({"zrange", key, "(1", "3", "byscore"}), ElementsAre("b", "c"));
    EXPECT_THAT(Strings({"zrange", key, "3", "(1", "byscore", "rev"}), ElementsAre("c", "b"));
    EXPECT_THAT(Strings({"zrangebyscore", key, "-inf", "+inf", "limit", "1", "2"}),
                ElementsAre("b", "c"));
    EXPECT_THAT(Strings({"zrevrangebyscore", key, "4", "1", "withscores", "limit", "1", "1"}),
                ElementsAre("c", "3"));
    EXPECT_THAT(Strings({"zrangebyscore", key, "1", "5", "limit", "-1", "2"}), IsEmpty());
    EXPECT_THAT(Strings({"zrangebyscore", key, "1", "5", "limit", "4", "-5"}), ElementsAre("e"));
    EXPECT_THAT(Strings({"zrangebyscore", key, "1", "5", "limit", "9", "1"}), IsEmpty());
    EXPECT_THAT(Strings({"zrangebyscore", key, "(5", "1"}), IsEmpty());
    EXPECT_EQ(Run({"zcount", key, "(1", "4"}), 3);
    EXPECT_EQ(Run({"zcount", key, "-inf", "inf"}), key == "sl" ? 6 : 5);
    EXPECT_EQ(Run({"zcount", key, "5", "4"}), 0);
    EXPECT_EQ(Run({"zcount", key, "(3", "(3"}), 0);
  }
  Run({"zadd", "lex", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e"});
  EXPECT_THAT(Strings({"zrangebylex", "lex", "[b", "(d"}), ElementsAre("b", "c"));
  EXPECT_THAT(Strings({"zrevrangebylex", "lex", "+", "(c"}), ElementsAre("e", "d"));
  EXPECT_THAT(Strings({"zrange", "lex", "-", "+", "bylex", "limit", "1", "2"}),
              ElementsAre("b", "c"));
  EXPECT_THAT(Strings({"zrange", "lex", "[d", "-", "bylex", "rev"}),
              ElementsAre("d", "c", "b", "a"));
  EXPECT_EQ(Run({"zlexcount", "lex", "(a", "[c"}), 2);
  EXPECT_EQ(Run({"zlexcount", "lex", "+", "-"}), 0);
}

TEST_F(ZSetFamilyTest, RangeErrors) {
  Run({"zadd", "z", "1", "a"});
  EXPECT_THAT(Run({"zrange", "z", "0", "1", "limit", "0", "1"}),
              ErrorIs("ERR syntax error, LIMIT is only supported in combination with either "
                      "BYSCORE or BYLEX"));
  EXPECT_THAT(Run({"zrange", "z", "-", "+", "bylex", "withscores"}),
              ErrorIs("ERR syntax error, WITHSCORES not supported in combination with BYLEX"));
  EXPECT_THAT(Run({"zrange", "z", "0", "1", "byscore", "bylex"}), ErrorIs(kSyntax));
  EXPECT_THAT(Run({"zrange", "z", "0", "1", "limit", "0"}), ErrorIs(kSyntax));
  EXPECT_THAT(Run({"zrange", "z", "0", "1", "limit", "x", "1"}), ErrorIs(kNotInteger));
  EXPECT_THAT(Run({"zrangebyscore", "z", "0", "1", "rev"}), ErrorIs(kSyntax));
  EXPECT_THAT(Run({"zrangestore", "d", "z", "0", "1", "withscores"}), ErrorIs(kSyntax));
  EXPECT_THAT(Run({"zrange", "z", "x", "1", "byscore"}), ErrorIs("ERR min or max is not a float"));
  EXPECT_THAT(Run({"zrange", "z", "a", "1"}), ErrorIs(kNotInteger));
  EXPECT_THAT(Run({"zrangebylex", "z", "a", "[b"}),
              ErrorIs("ERR min or max not valid string range item"));
  EXPECT_THAT(Run({"zcount", "z", "nan", "1"}), ErrorIs("ERR min or max is not a float"));
  EXPECT_THAT(Run({"zlexcount", "z", "[a", "b"}),
              ErrorIs("ERR min or max not valid string range item"));
  // A missing key is an empty range (the range is still checked first).
  EXPECT_THAT(Strings({"zrange", "missing", "0", "-1"}), IsEmpty());
  EXPECT_THAT(Run({"zrange", "missing", "x", "-1"}), ErrorIs(kNotInteger));
}

TEST_F(ZSetFamilyTest, Resp3RangeReplies) {
  Run({"zadd", "z", "1", "a", "2.5", "b"});
  Run({"hello", "3"});
  EXPECT_EQ(RunRaw({"zrange", "z", "0", "-1", "withscores"}),
            "*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n");
  EXPECT_EQ(RunRaw({"zrange", "z", "0", "-1"}), "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
  EXPECT_EQ(RunRaw({"zpopmin", "z"}), "*2\r\n$1\r\na\r\n,1\r\n");
  EXPECT_EQ(RunRaw({"zpopmin", "z", "1"}), "*1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n");
  EXPECT_EQ(RunRaw({"zpopmin", "z", "1"}), "*0\r\n");
  EXPECT_EQ(RunRaw({"zmpop", "1", "z", "min"}), "_\r\n");
  EXPECT_EQ(RunRaw({"zrank", "z", "a"}), "_\r\n");
}

TEST_F(ZSetFamilyTest, RangeStore) {
  Run({"zadd", "src", "1", "a", "2", "b", "3", "c"});
  EXPECT_EQ(Run({"zrangestore", "dst", "src", "1", "-1"}), 2);
  EXPECT_THAT(Strings({"zrange", "dst", "0", "-1", "withscores"}), ElementsAre("b", "2", "c", "3"));
  EXPECT_EQ(Run({"zrangestore", "dst", "src", "(1", "+inf", "byscore", "rev", "limit", "0", "1"}),
            0);
  EXPECT_EQ(Run({"exists", "dst"}), 0);  // an empty result deletes the destination
  EXPECT_EQ(Run({"zrangestore", "dst", "src", "+inf", "(1", "byscore", "rev", "limit", "0", "1"}),
            1);
  EXPECT_THAT(Strings({"zrange", "dst", "0", "-1"}), ElementsAre("c"));
  EXPECT_EQ(Run({"zrangestore", "dst", "src", "[b", "+", "bylex"}), 2);
  EXPECT_EQ(Run({"zrangestore", "dst", "missing", "0", "-1"}), 0);
  EXPECT_EQ(Run({"exists", "dst"}), 0);
  // The destination is replaced whatever it held; the source may be the destination.
  Run({"set", "str", "v"});
  EXPECT_EQ(Run({"zrangestore", "str", "src", "0", "0"}), 1);
  EXPECT_EQ(Run({"type", "str"}), "zset");
  EXPECT_EQ(Run({"zrangestore", "src", "src", "1", "1"}), 1);
  EXPECT_THAT(Strings({"zrange", "src", "0", "-1"}), ElementsAre("b"));
}

// --- Removal by range and pops ----------------------------------------------------------------

TEST_F(ZSetFamilyTest, RemoveRanges) {
  for (const std::string& key : {std::string("lp"), std::string("sl")}) {
    Command add = {"zadd", key, "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"};
    if (key == "sl") add.insert(add.end(), {"100", kLong});
    Run(add);
    EXPECT_EQ(Run({"zremrangebyrank", key, "0", "0"}), 1);
    EXPECT_EQ(Run({"zremrangebyrank", key, "5", "10"}), 0);
    EXPECT_EQ(Run({"zremrangebyscore", key, "50", "inf"}), key == "sl" ? 1 : 0);
    EXPECT_EQ(Run({"zremrangebyscore", key, "(2", "3"}), 1);
    EXPECT_EQ(Run({"zremrangebyscore", key, "10", "1"}), 0);
    EXPECT_THAT(Strings({"zrange", key, "0", "-1"}), ElementsAre("b", "d", "e"));
    EXPECT_EQ(Run({"zremrangebyrank", key, "-100", "-1"}), 3);
    EXPECT_EQ(Run({"exists", key}), 0);
  }
  Run({"zadd", "lex", "0", "a", "0", "b", "0", "c"});
  EXPECT_EQ(Run({"zremrangebylex", "lex", "(a", "+"}), 2);
  EXPECT_EQ(Run({"zremrangebylex", "lex", "-", "+"}), 1);
  EXPECT_EQ(Run({"exists", "lex"}), 0);
  EXPECT_EQ(Run({"zremrangebyrank", "missing", "0", "1"}), 0);
  EXPECT_THAT(Run({"zremrangebyrank", "missing", "x", "1"}), ErrorIs(kNotInteger));
  EXPECT_THAT(Run({"zremrangebyscore", "missing", "x", "1"}),
              ErrorIs("ERR min or max is not a float"));
  EXPECT_THAT(Run({"zremrangebylex", "missing", "x", "+"}),
              ErrorIs("ERR min or max not valid string range item"));
}

TEST_F(ZSetFamilyTest, Pops) {
  Run({"zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d"});
  EXPECT_THAT(Strings({"zpopmin", "z"}), ElementsAre("a", "1"));
  EXPECT_THAT(Strings({"zpopmax", "z", "2"}), ElementsAre("d", "4", "c", "3"));
  EXPECT_THAT(Strings({"zpopmax", "z", "0"}), IsEmpty());
  EXPECT_THAT(Strings({"zpopmin", "z", "10"}), ElementsAre("b", "2"));
  EXPECT_EQ(Run({"exists", "z"}), 0);
  EXPECT_THAT(Strings({"zpopmin", "z"}), IsEmpty());
  EXPECT_THAT(Run({"zpopmin", "z", "-1"}), ErrorIs("ERR value is out of range, must be positive"));
  EXPECT_THAT(Run({"zpopmin", "z", "1", "2"}), ErrorIs(kSyntax));
  Run({"zadd", "z", "1", "a", "2", "b"});
  TakePropagated();
  Run({"zpopmin", "z", "0"});
  Run({"zpopmin", "z"});
  Run({"zpopmax", "z", "3"});
  Run({"zpopmax", "z", "3"});
  EXPECT_THAT(Propagated(), ElementsAre(Command{"zpopmin", "z"}, Command{"zpopmax", "z", "3"}));
}

TEST_F(ZSetFamilyTest, MPop) {
  Run({"zadd", "b", "1", "x", "2", "y", "3", "z"});
  TakePropagated();
  EXPECT_EQ(RunRaw({"zmpop", "2", "a", "b", "max", "count", "2"}),
            "*2\r\n$1\r\nb\r\n*2\r\n*2\r\n$1\r\nz\r\n$1\r\n3\r\n*2\r\n$1\r\ny\r\n$1\r\n2\r\n");
  EXPECT_EQ(RunRaw({"zmpop", "1", "b", "min", "count", "10"}),
            "*2\r\n$1\r\nb\r\n*1\r\n*2\r\n$1\r\nx\r\n$1\r\n1\r\n");
  EXPECT_EQ(Run({"exists", "b"}), 0);
  EXPECT_EQ(RunRaw({"zmpop", "1", "b", "min"}), "*-1\r\n");
  // Propagated as ZPOPMAX/ZPOPMIN with the number popped.
  EXPECT_THAT(Propagated(),
              ElementsAre(Command{"zpopmax", "b", "2"}, Command{"zpopmin", "b", "1"}));
  EXPECT_THAT(Run({"zmpop", "0", "a", "min"}), ErrorIs("ERR numkeys should be greater than 0"));
  EXPECT_THAT(Run({"zmpop", "2", "a", "min"}), ErrorIs(kSyntax));
  EXPECT_THAT(Run({"zmpop", "9223372036854775807", "a", "min"}), ErrorIs(kSyntax));
  EXPECT_THAT(Run({"zmpop", "1", "a", "left"}), ErrorIs(kSyntax));
  EXPECT_THAT(Run({"zmpop", "1", "a", "min", "count", "0"}),
              ErrorIs("ERR count should be greater than 0"));
  EXPECT_THAT(Run({"zmpop", "1", "a", "min", "count", "1", "count", "1"}), ErrorIs(kSyntax));
  Run({"set", "s", "v"});
  EXPECT_THAT(Run({"zmpop", "2", "missing", "s", "min"}), ErrorIs(kWrongType));
}

// --- Set operations ---------------------------------------------------------------------------

TEST_F(ZSetFamilyTest, UnionInterDiff) {
  Run({"zadd", "a", "1", "x", "2", "y", "3", "z"});
  Run({"zadd", "b", "10", "y", "20", "z", "30", "w"});
  Run({"sadd", "s", "x", "w", "v"});
  EXPECT_THAT(Strings({"zunion", "2", "a", "b", "withscores"}),
              ElementsAre("x", "1", "y", "12", "z", "23", "w", "30"));
  EXPECT_THAT(
      Strings({"zunion", "2", "a", "b", "weights", "2", "0.5", "aggregate", "max", "withscores"}),
      ElementsAre("x", "2", "y", "5", "z", "10", "w", "15"));
  EXPECT_THAT(Strings({"zinter", "2", "a", "b", "aggregate", "min", "withscores"}),
              ElementsAre("y", "2", "z", "3"));
  EXPECT_THAT(Strings({"zinter", "2", "a", "s", "withscores"}), ElementsAre("x", "2"));
  EXPECT_THAT(Strings({"zunion", "2", "s", "missing"}), ElementsAre("v", "w", "x"));
  EXPECT_THAT(Strings({"zdiff", "2", "a", "b", "withscores"}), ElementsAre("x", "1"));
  EXPECT_THAT(Strings({"zdiff", "2", "a", "a"}), IsEmpty());
  EXPECT_THAT(Strings({"zdiff", "1", "s"}), ElementsAre("v", "w", "x"));
  EXPECT_EQ(Run({"zintercard", "2", "a", "b"}), 2);
  EXPECT_EQ(Run({"zintercard", "2", "a", "b", "limit", "1"}), 1);
  EXPECT_EQ(Run({"zintercard", "2", "a", "missing"}), 0);
  // inf + -inf is 0, and 0 * inf is 0.
  Run({"zadd", "i", "inf", "m"});
  Run({"zadd", "j", "-inf", "m"});
  EXPECT_THAT(Strings({"zunion", "2", "i", "j", "withscores"}), ElementsAre("m", "0"));
  EXPECT_THAT(Strings({"zunion", "1", "i", "weights", "0", "withscores"}), ElementsAre("m", "0"));
  // Stores.
  EXPECT_EQ(Run({"zunionstore", "u", "3", "a", "b", "s"}), 5);
  EXPECT_THAT(Strings({"zrange", "u", "0", "-1", "withscores"}),
              ElementsAre("v", "1", "x", "2", "y", "12", "z", "23", "w", "31"));
  EXPECT_EQ(Run({"zinterstore", "u", "2", "a", "b", "weights", "1", "-1"}), 2);
  EXPECT_THAT(Strings({"zrange", "u", "0", "-1", "withscores"}),
              ElementsAre("z", "-17", "y", "-8"));
  EXPECT_EQ(Run({"zdiffstore", "u", "2", "b", "a"}), 1);
  EXPECT_EQ(Run({"zinterstore", "u", "2", "a", "missing"}), 0);
  EXPECT_EQ(Run({"exists", "u"}), 0);
  // Errors.
  EXPECT_THAT(Run({"zunion", "0", "a"}),
              ErrorIs("ERR at least 1 input key is needed for 'zunion' command"));
  EXPECT_THAT(Run({"zunionstore", "d", "0", "a"}),
              ErrorIs("ERR at least 1 input key is needed for 'zunionstore' command"));
  EXPECT_THAT(Run({"zunion", "3", "a", "b"}), ErrorIs(kSyntax));
  EXPECT_THAT(Run({"zunion", "x", "a"}), ErrorIs(kNotInteger));
  EXPECT_THAT(Run({"zunion", "1", "a", "weights", "x"}),
              ErrorIs("ERR weight value is not a float"));
  EXPECT_THAT(Run({"zunion", "2", "a", "b", "weights", "1"}), ErrorIs(kSyntax));
  EXPECT_THAT(Run({"zunion", "1", "a", "aggregate", "avg"}), ErrorIs(kSyntax));
  EXPECT_THAT(Run({"zdiff", "1", "a", "weights", "1"}), ErrorIs(kSyntax));
  EXPECT_THAT(Run({"zunionstore", "d", "1", "a", "withscores"}), ErrorIs(kSyntax));
  EXPECT_THAT(Run({"zintercard", "1", "a", "limit", "-1"}), ErrorIs("ERR LIMIT can't be negative"));
  EXPECT_THAT(Run({"zintercard", "1", "a", "withscores"}), ErrorIs(kSyntax));
  Run({"set", "str", "v"});
  EXPECT_THAT(Run({"zunion", "2", "a", "str"}), ErrorIs(kWrongType));
  EXPECT_THAT(Run({"zinterstore", "d", "2", "str", "a"}), ErrorIs(kWrongType));
}

TEST_F(ZSetFamilyTest, InputGivenTwiceIsNotLookedUpWhileIterated) {
  // A hashtable set or a skiplist named twice: the one being iterated is never searched (a
  // lookup would move the set's rehash along under the iteration).
  Command sadd = {"sadd", "st"};
  Command zadd = {"zadd", "zs"};
  for (int i = 0; i < 1000; i++) {
    sadd.push_back("m" + std::to_string(i));
    zadd.push_back(std::to_string(i));
    zadd.push_back("m" + std::to_string(i));
  }
  Run(sadd);
  Run(zadd);
  EXPECT_EQ(Run({"zintercard", "3", "st", "st", "st"}), 1000);
  std::vector<std::string> got =
      Strings({"zinter", "2", "st", "st", "weights", "2", "3", "withscores"});
  ASSERT_EQ(got.size(), 2000u);
  std::set<std::string> members;
  for (size_t i = 0; i < got.size(); i += 2) {
    members.insert(got[i]);
    EXPECT_EQ(got[i + 1], "5");
  }
  EXPECT_EQ(members.size(), 1000u);
  got = Strings({"zinter", "3", "zs", "zs", "st", "aggregate", "max", "withscores"});
  ASSERT_EQ(got.size(), 2000u);
  EXPECT_EQ(got[1998], "m999");
  EXPECT_EQ(got[1999], "999");
  EXPECT_EQ(Run({"zdiffstore", "d", "2", "st", "st"}), 0);
}

TEST_F(ZSetFamilyTest, RangeStoreStartsAsASkiplistForLongRankRanges) {
  SkipReplayCheck("CONFIG SET is not propagated: the replay builds listpacks");
  // zsetTypeCreate(length of the rank range, 0): a skiplist from the start keeps -0.
  Run({"config", "set", "zset-max-listpack-entries", "0"});
  Run({"zadd", "src", "-0", "a", "-0", "b", "-0", "c", "-0", "d"});
  Run({"config", "set", "zset-max-listpack-entries", "3"});
  EXPECT_EQ(Run({"zrangestore", "d", "src", "0", "-1"}), 4);
  EXPECT_EQ(Encoding("d"), "skiplist");
  EXPECT_EQ(Run({"zscore", "d", "a"}), "-0");
  // Three fit a listpack (-0 becomes 0); score and lex ranges start as listpacks and convert on
  // the fourth member.
  EXPECT_EQ(Run({"zrangestore", "d", "src", "0", "2"}), 3);
  EXPECT_EQ(Encoding("d"), "listpack");
  EXPECT_EQ(Run({"zscore", "d", "a"}), "0");
  EXPECT_EQ(Run({"zrangestore", "d", "src", "-inf", "inf", "byscore"}), 4);
  EXPECT_EQ(Encoding("d"), "skiplist");
  EXPECT_EQ(Run({"zscore", "d", "a"}), "0");
  EXPECT_EQ(Run({"zscore", "d", "d"}), "-0");
}

// --- ZRANDMEMBER and ZSCAN --------------------------------------------------------------------

TEST_F(ZSetFamilyTest, RandMember) {
  for (const std::string& key : {std::string("lp"), std::string("sl")}) {
    Command add = {"zadd", key};
    std::set<std::string> members;
    const int n = key == "sl" ? 300 : 20;
    for (int i = 0; i < n; i++) {
      add.push_back(std::to_string(i));
      add.push_back("m" + std::to_string(i));
      members.insert("m" + std::to_string(i));
    }
    Run(add);
    EXPECT_EQ(Encoding(key), key == "sl" ? "skiplist" : "listpack");
    EXPECT_EQ(members.count(Run({"zrandmember", key}).str), 1u);
    for (const char* count : {"5", "15", "100", "1000"}) {
      std::vector<std::string> got = Strings({"zrandmember", key, count});
      const size_t want = std::min<size_t>(std::stoul(count), members.size());
      EXPECT_EQ(got.size(), want) << count;
      EXPECT_EQ(std::set<std::string>(got.begin(), got.end()).size(), want) << "distinct";
      for (const auto& m : got) EXPECT_EQ(members.count(m), 1u);
    }
    std::vector<std::string> many = Strings({"zrandmember", key, "-50", "withscores"});
    ASSERT_EQ(many.size(), 100u);
    for (size_t i = 0; i < many.size(); i += 2) {
      EXPECT_EQ("m" + many[i + 1], many[i]);  // each member with its own score
    }
  }
  // The whole set when asked for more: from the highest score down.
  Run({"zadd", "small", "1", "a", "2", "b", "3", "c"});
  EXPECT_THAT(Strings({"zrandmember", "small", "3", "withscores"}),
              ElementsAre("c", "3", "b", "2", "a", "1"));
  EXPECT_THAT(Strings({"zrandmember", "small", "0"}), IsEmpty());
  EXPECT_TRUE(Run({"zrandmember", "missing"}).is_null());
  EXPECT_THAT(Strings({"zrandmember", "missing", "-5"}), IsEmpty());
  EXPECT_THAT(Run({"zrandmember", "small", "1", "withscore"}), ErrorIs(kSyntax));
  EXPECT_THAT(Run({"zrandmember", "small", "x"}), ErrorIs(kNotInteger));
  EXPECT_THAT(Run({"zrandmember", "small", "-9223372036854775808"}),
              ErrorIs("ERR value is out of range, value must between -9223372036854775807 and "
                      "9223372036854775807"));
  EXPECT_THAT(Run({"zrandmember", "small", "4611686018427387904", "withscores"}),
              ErrorIs("ERR value is out of range"));
}

TEST_F(ZSetFamilyTest, Scan) {
  Run({"zadd", "lp", "1", "a", "1e18", "b", "2.5", "c"});
  EXPECT_EQ(
      RunRaw({"zscan", "lp", "0"}),
      "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nc\r\n$3\r\n2.5\r\n$1\r\nb\r\n$19\r\n"
      "1000000000000000000\r\n");
  EXPECT_THAT(Run({"zscan", "lp", "0", "match", "[ab]"})[1].strings(),
              ElementsAre("a", "1", "b", "1000000000000000000"));
  EXPECT_THAT(Run({"zscan", "lp", "x"}), ErrorIs("ERR invalid cursor"));
  EXPECT_THAT(Run({"zscan", "lp", "0", "count", "0"}), ErrorIs(kSyntax));
  EXPECT_THAT(Run({"zscan", "missing", "0", "count", "0"})[1].strings(), IsEmpty());
  // A skiplist: full iteration with the cursor, each member once with its %.17g score.
  Command add = {"zadd", "sl"};
  for (int i = 0; i < 500; i++) {
    add.push_back(std::to_string(i) + ".5");
    add.push_back("m" + std::to_string(i));
  }
  Run(add);
  std::set<std::string> seen;
  std::string cursor = "0";
  int calls = 0;
  do {
    Resp r = Run({"zscan", "sl", cursor, "count", "20"});
    cursor = r[0].str;
    calls++;
    std::vector<std::string> items = r[1].strings();
    // COUNT counts members (Redis doubles it for the member/score pairs): at least 20 per step
    // but the last.
    if (cursor != "0") {
      EXPECT_GE(items.size(), 40u);
    }
    for (size_t i = 0; i < items.size(); i += 2) {
      EXPECT_EQ(items[i + 1], items[i].substr(1) + ".5");
      seen.insert(items[i]);
    }
  } while (cursor != "0");
  EXPECT_EQ(seen.size(), 500u);
  EXPECT_LE(calls, 26);
}

// --- Type errors ------------------------------------------------------------------------------

TEST_F(ZSetFamilyTest, WrongTypeEverywhere) {
  Run({"set", "s", "v"});
  for (const Command& cmd : std::vector<Command>{{"zadd", "s", "1", "a"},
                                                 {"zincrby", "s", "1", "a"},
                                                 {"zrem", "s", "a"},
                                                 {"zcard", "s"},
                                                 {"zscore", "s", "a"},
                                                 {"zmscore", "s", "a"},
                                                 {"zrank", "s", "a"},
                                                 {"zrevrank", "s", "a"},
                                                 {"zcount", "s", "0", "1"},
                                                 {"zlexcount", "s", "-", "+"},
                                                 {"zrange", "s", "0", "1"},
                                                 {"zrangestore", "d", "s", "0", "1"},
                                                 {"zrangebyscore", "s", "0", "1"},
                                                 {"zrevrangebylex", "s", "+", "-"},
                                                 {"zremrangebyrank", "s", "0", "1"},
                                                 {"zremrangebyscore", "s", "0", "1"},
                                                 {"zremrangebylex", "s", "-", "+"},
                                                 {"zpopmin", "s"},
                                                 {"zpopmax", "s", "2"},
                                                 {"zmpop", "1", "s", "min"},
                                                 {"zrandmember", "s"},
                                                 {"zrandmember", "s", "2"},
                                                 {"zscan", "s", "0"},
                                                 {"zunion", "1", "s"},
                                                 {"zintercard", "1", "s"},
                                                 {"bzpopmin", "s", "0"},
                                                 {"bzmpop", "0", "1", "s", "max"}}) {
    EXPECT_THAT(Run(cmd), ErrorIs(kWrongType)) << cmd[0];
  }
  Run({"zadd", "z", "1", "a"});
  EXPECT_THAT(Run({"get", "z"}), ErrorIs(kWrongType));
  EXPECT_THAT(Run({"lpush", "z", "x"}), ErrorIs(kWrongType));
  EXPECT_EQ(Run({"type", "z"}), "zset");
}

// --- Notifications ----------------------------------------------------------------------------

TEST_F(ZSetFamilyTest, KeyspaceEvents) {
  WatchEvents();
  Run({"zadd", "z", "1", "a", "2", "b", "3", "c"});
  Run({"zadd", "z", "1", "a"});  // nothing changed: no event
  Run({"zincrby", "z", "1", "a"});
  Run({"zrem", "z", "x"});
  Run({"zrem", "z", "a"});
  EXPECT_THAT(Events(), ElementsAre("new z", "zadd z", "zincr z", "zrem z"));
  Run({"zremrangebyscore", "z", "0", "0"});
  Run({"zremrangebyrank", "z", "0", "0"});
  Run({"zpopmax", "z", "5"});
  EXPECT_THAT(Events(), ElementsAre("zremrangebyrank z", "zpopmax z", "del z"));
  Run({"zadd", "z", "1", "a", "2", "b"});
  Run({"zremrangebylex", "z", "-", "+"});
  EXPECT_THAT(Events(), ElementsAre("new z", "zadd z", "zremrangebylex z", "del z"));
  Run({"zadd", "a", "1", "x"});
  Events();
  Run({"zunionstore", "d", "1", "a"});
  Run({"zinterstore", "d", "1", "a"});
  Run({"zdiffstore", "d", "1", "a"});
  Run({"zrangestore", "d", "a", "0", "-1"});
  Run({"zinterstore", "d", "2", "a", "missing"});
  Run({"zpopmin", "a"});
  EXPECT_THAT(Events(), ElementsAre("new d", "zunionstore d", "zinterstore d", "zdiffstore d",
                                    "zrangestore d", "del d", "zpopmin a", "del a"));
}

// --- Blocking ---------------------------------------------------------------------------------

TEST_F(ZSetFamilyTest, BlockingPopServedInArrivalOrder) {
  EXPECT_TRUE(Run("a", {"bzpopmin", "q", "0"}).is_none());
  EXPECT_TRUE(Run("b", {"bzpopmax", "q", "other", "0"}).is_none());
  EXPECT_TRUE(IsBlocked("a"));
  EXPECT_TRUE(IsBlocked("b"));
  EXPECT_EQ(Run({"zadd", "q", "1", "x", "2", "y", "3", "z"}), 3);
  EXPECT_FALSE(IsBlocked("a"));
  EXPECT_FALSE(IsBlocked("b"));
  EXPECT_THAT(Reply("a").strings(), ElementsAre("q", "x", "1"));
  EXPECT_THAT(Reply("b").strings(), ElementsAre("q", "z", "3"));
  EXPECT_THAT(Strings({"zrange", "q", "0", "-1"}), ElementsAre("y"));
  EXPECT_THAT(Propagated(), ElementsAre(Command{"zadd", "q", "1", "x", "2", "y", "3", "z"},
                                        Command{"zpopmin", "q"}, Command{"zpopmax", "q"}));
}

TEST_F(ZSetFamilyTest, BlockingPopTakesDataAtOnce) {
  Run({"zadd", "q2", "5", "x"});
  EXPECT_THAT(Run({"bzpopmax", "q1", "q2", "1"}).strings(), ElementsAre("q2", "x", "5"));
  EXPECT_EQ(Run({"exists", "q2"}), 0);
  Run({"zadd", "q3", "1", "a", "2", "b"});
  EXPECT_EQ(RunRaw({"bzmpop", "0", "2", "q1", "q3", "max", "count", "5"}),
            "*2\r\n$2\r\nq3\r\n*2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n");
  EXPECT_THAT(Propagated(), ElementsAre(Command{"zadd", "q2", "5", "x"}, Command{"zpopmax", "q2"},
                                        Command{"zadd", "q3", "1", "a", "2", "b"},
                                        Command{"zpopmax", "q3", "2"}));
}

TEST_F(ZSetFamilyTest, BlockingMPopServed) {
  EXPECT_TRUE(Run("a", {"bzmpop", "0", "2", "x", "y", "min", "count", "2"}).is_none());
  EXPECT_EQ(Run({"zadd", "y", "1", "a", "2", "b", "3", "c"}), 3);
  Resp r = Reply("a");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0], "y");
  ASSERT_EQ(r[1].size(), 2u);
  EXPECT_THAT(r[1][0].strings(), ElementsAre("a", "1"));
  EXPECT_THAT(r[1][1].strings(), ElementsAre("b", "2"));
  EXPECT_THAT(Propagated(), ElementsAre(Command{"zadd", "y", "1", "a", "2", "b", "3", "c"},
                                        Command{"zpopmin", "y", "2"}));
}

TEST_F(ZSetFamilyTest, BlockingTimeoutsAndErrors) {
  EXPECT_TRUE(Run("a", {"bzpopmin", "q", "0.5"}).is_none());
  AdvanceMs(499);
  EXPECT_TRUE(IsBlocked("a"));
  AdvanceMs(2);
  EXPECT_FALSE(IsBlocked("a"));
  EXPECT_EQ(Reply("a").type, Resp::Type::kNullArray);
  EXPECT_TRUE(Run("a", {"bzmpop", "0.01", "1", "q", "max"}).is_none());
  AdvanceMs(11);
  EXPECT_EQ(Reply("a").type, Resp::Type::kNullArray);
  EXPECT_THAT(Run({"bzpopmin", "q", "-1"}), ErrorIs("ERR timeout is negative"));
  EXPECT_THAT(Run({"bzpopmin", "q", "x"}), ErrorIs("ERR timeout is not a float or out of range"));
  EXPECT_THAT(Run({"bzmpop", "x", "1", "q", "min"}),
              ErrorIs("ERR timeout is not a float or out of range"));
  EXPECT_THAT(Run({"bzmpop", "0", "0", "q", "min"}),
              ErrorIs("ERR numkeys should be greater than 0"));
  EXPECT_THAT(Run({"bzmpop", "0", "1", "q", "up"}), ErrorIs(kSyntax));
}

TEST_F(ZSetFamilyTest, AKeyNamedTwiceServesOnce) {
  EXPECT_TRUE(Run("a", {"bzpopmin", "q", "q", "0"}).is_none());
  EXPECT_TRUE(Run("b", {"bzmpop", "0", "2", "q", "q", "max"}).is_none());
  EXPECT_EQ(Run({"zadd", "q", "1", "x", "2", "y", "3", "z"}), 3);
  EXPECT_THAT(Reply("a").strings(), ElementsAre("q", "x", "1"));
  EXPECT_EQ(Reply("b").size(), 2u);
  EXPECT_THAT(Strings({"zrange", "q", "0", "-1"}), ElementsAre("y"));
  EXPECT_TRUE(Reply("a").is_none());
}

TEST_F(ZSetFamilyTest, BlockedThroughTypeChanges) {
  EXPECT_TRUE(Run("a", {"bzpopmin", "q", "0"}).is_none());
  Run({"rpush", "q", "x"});  // a list: the waiter keeps waiting
  EXPECT_TRUE(IsBlocked("a"));
  Run({"del", "q"});
  Run({"zadd", "q", "7", "m"});
  EXPECT_THAT(Reply("a").strings(), ElementsAre("q", "m", "7"));
  EXPECT_EQ(Run({"exists", "q"}), 0);
}

TEST_F(ZSetFamilyTest, BlockedServedByStoresAndUnblock) {
  Run({"zadd", "src", "1", "a", "2", "b"});
  EXPECT_TRUE(Run("a", {"bzpopmax", "dst", "0"}).is_none());
  EXPECT_EQ(Run({"zunionstore", "dst", "1", "src"}), 2);
  EXPECT_THAT(Reply("a").strings(), ElementsAre("dst", "b", "2"));
  EXPECT_TRUE(Run("a", {"bzpopmax", "q", "0"}).is_none());
  EXPECT_TRUE(Run("b", {"bzpopmin", "q", "0"}).is_none());
  EXPECT_EQ(Run({"client", "unblock", std::to_string(client("a").id()), "error"}), 1);
  EXPECT_THAT(Reply("a"), ErrorIs("UNBLOCKED client unblocked via CLIENT UNBLOCK"));
  EXPECT_EQ(Run({"client", "unblock", std::to_string(client("b").id())}), 1);
  EXPECT_EQ(Reply("b").type, Resp::Type::kNullArray);
}

TEST_F(ZSetFamilyTest, ScriptsDoNotBlock) {
  EXPECT_EQ(RunRaw({"eval", "return redis.call('bzmpop', 0, 1, KEYS[1], 'min')", "1", "q"}),
            "$-1\r\n");
  Run({"zadd", "q", "1", "x"});
  EXPECT_EQ(RunRaw({"eval", "return redis.call('bzmpop', 0, 1, KEYS[1], 'min')", "1", "q"}),
            "*2\r\n$1\r\nq\r\n*1\r\n*2\r\n$1\r\nx\r\n$1\r\n1\r\n");
  // BZPOPMIN is noscript in 7.0.
  EXPECT_THAT(Run({"eval", "return redis.call('bzpopmin', KEYS[1], 0)", "1", "q"}),
              ErrorStartsWith("ERR This Redis command is not allowed from script"));
}

}  // namespace
}  // namespace keyward::test
