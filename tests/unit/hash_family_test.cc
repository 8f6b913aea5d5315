// The hash family in-process: replies (checked against Redis 7.0.15), error texts and the order
// of the checks, encodings and their conversion thresholds, keyspace events, the propagated forms
// and RESP3 shapes; and HashValue itself (copies, serialisation). tests/differential/
// test_hashes.py compares the same commands with the real server byte for byte.
#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "server/keyspace/database.h"
#include "server/keyspace/hash_value.h"
#include "server/persistence/rdb_codec.h"
#include "tests/support/command_test.h"

namespace keyward::test {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using Command = std::vector<std::string>;

constexpr const char* kWrongType =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
constexpr const char* kNotInteger = "ERR value is not an integer or out of range";
constexpr const char* kSyntax = "ERR syntax error";

class HashFamilyTest : public CommandTest {
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
  // HGETALL as a field -> value map (for hashtable-encoded hashes, whose order is the table's).
  std::map<std::string, std::string> All(const std::string& key) {
    std::vector<std::string> flat = Run({"hgetall", key}).strings();
    std::map<std::string, std::string> out;
    for (size_t i = 0; i + 1 < flat.size(); i += 2) out[flat[i]] = flat[i + 1];
    return out;
  }
  // Every field HSCAN returns over a full iteration, with its value (and how many calls it took).
  std::map<std::string, std::string> ScanAll(const std::string& key, Command options = {},
                                             int* calls = nullptr) {
    std::map<std::string, std::string> out;
    std::string cursor = "0";
    int n = 0;
    do {
      Command cmd = {"hscan", key, cursor};
      cmd.insert(cmd.end(), options.begin(), options.end());
      Resp r = Run(cmd);
      EXPECT_EQ(r.size(), 2u) << r;
      if (r.size() != 2) break;
      cursor = r[0].str;
      std::vector<std::string> items = r[1].strings();
      EXPECT_EQ(items.size() % 2, 0u);
      for (size_t i = 0; i + 1 < items.size(); i += 2) out[items[i]] = items[i + 1];
      n++;
    } while (cursor != "0" && n < 100000);
    if (calls != nullptr) *calls = n;
    return out;
  }
  // Fills `key` with fields f0..f{n-1} holding v0..v{n-1}.
  void Fill(const std::string& key, int n) {
    Command cmd = {"hset", key};
    for (int i = 0; i < n; i++) {
      cmd.push_back("f" + std::to_string(i));
      cmd.push_back("v" + std::to_string(i));
    }
    Run(cmd);
  }
  std::string Pending(const std::string& connection) { return Send("", connection); }
  static std::string Event(std::string_view event, std::string_view key) {
    std::string channel = "__keyevent@0__:" + std::string(event);
    return "*4\r\n$8\r\npmessage\r\n$16\r\n__keyevent@0__:*\r\n$" + std::to_string(channel.size()) +
           "\r\n" + channel + "\r\n$" + std::to_string(key.size()) + "\r\n" + std::string(key) +
           "\r\n";
  }
};

// ----------------------------------------------------------------------------------------------
// Setting and reading

TEST_F(HashFamilyTest, SetGetAndLen) {
  EXPECT_EQ(Run({"hset", "h", "a", "1", "b", "two"}), 2);
  EXPECT_EQ(Run({"hset", "h", "a", "one", "c", "3"}), 1);  // one new field, one updated
  EXPECT_EQ(Run({"hget", "h", "a"}), "one");
  EXPECT_EQ(Run({"hget", "h", "c"}), "3");
  EXPECT_TRUE(Run({"hget", "h", "nope"}).is_null());
  EXPECT_EQ(RunRaw({"hget", "missing", "a"}), "$-1\r\n");
  EXPECT_EQ(Run({"hlen", "h"}), 3);
  EXPECT_EQ(Run({"hlen", "missing"}), 0);
  EXPECT_EQ(Run({"type", "h"}), "hash");
  // The same field twice in one HSET: counted once, the last value wins.
  EXPECT_EQ(Run({"hset", "d", "f", "1", "f", "2"}), 1);
  EXPECT_EQ(Run({"hget", "d", "f"}), "2");
  // Empty and binary fields and values.
  std::string bin("a\0b\r\n", 5);
  EXPECT_EQ(Run({"hset", "b", "", "", bin, bin}), 2);
  EXPECT_EQ(RunRaw({"hget", "b", ""}), "$0\r\n\r\n");
  EXPECT_EQ(Run({"hget", "b", bin}), bin);
}

TEST_F(HashFamilyTest, SetArity) {
  EXPECT_THAT(Run({"hset", "h", "a"}), ErrorIs("ERR wrong number of arguments for 'hset' command"));
  EXPECT_THAT(Run({"hset", "h", "a", "1", "b"}),
              ErrorIs("ERR wrong number of arguments for 'hset' command"));
  EXPECT_THAT(Run({"hmset", "h", "a", "1", "b"}),
              ErrorIs("ERR wrong number of arguments for 'hmset' command"));
  EXPECT_EQ(Run({"exists", "h"}), 0);  // the arity check comes before the key is created
  EXPECT_THAT(Run({"hsetnx", "h", "a"}),
              ErrorIs("ERR wrong number of arguments for 'hsetnx' command"));
  EXPECT_THAT(Run({"hget", "h"}), ErrorIs("ERR wrong number of arguments for 'hget' command"));
  EXPECT_THAT(Run({"hmget", "h"}), ErrorIs("ERR wrong number of arguments for 'hmget' command"));
  EXPECT_THAT(Run({"hdel", "h"}), ErrorIs("ERR wrong number of arguments for 'hdel' command"));
  EXPECT_THAT(Run({"hgetall", "h", "x"}),
              ErrorIs("ERR wrong number of arguments for 'hgetall' command"));
  EXPECT_THAT(Run({"hscan", "h"}), ErrorIs("ERR wrong number of arguments for 'hscan' command"));
  EXPECT_THAT(Run({"hrandfield"}),
              ErrorIs("ERR wrong number of arguments for 'hrandfield' command"));
}

TEST_F(HashFamilyTest, HMSetRepliesOk) {
  EXPECT_EQ(RunRaw({"hmset", "h", "a", "1", "b", "2"}), "+OK\r\n");
  EXPECT_EQ(RunRaw({"hmset", "h", "a", "3"}), "+OK\r\n");
  EXPECT_THAT(Run({"hmget", "h", "a", "b", "c"}).strings(), ElementsAre("3", "2", "(nil)"));
}

TEST_F(HashFamilyTest, SetNx) {
  EXPECT_EQ(Run({"hsetnx", "h", "a", "1"}), 1);
  EXPECT_EQ(Run({"hsetnx", "h", "a", "2"}), 0);
  EXPECT_EQ(Run({"hget", "h", "a"}), "1");
  EXPECT_EQ(Run({"hsetnx", "h", "b", "2"}), 1);
  EXPECT_EQ(Run({"hlen", "h"}), 2);
}

TEST_F(HashFamilyTest, MGet) {
  Run({"hset", "h", "a", "1", "b", "x"});
  EXPECT_EQ(RunRaw({"hmget", "h", "a", "nope", "b"}), "*3\r\n$1\r\n1\r\n$-1\r\n$1\r\nx\r\n");
  // A missing key is an empty hash.
  EXPECT_EQ(RunRaw({"hmget", "missing", "a", "b"}), "*2\r\n$-1\r\n$-1\r\n");
}

TEST_F(HashFamilyTest, GetAllKeysValsInListpackOrder) {
  Run({"hset", "h", "z", "26", "a", "1", "m", "hello"});
  Run({"hset", "h", "a", "one"});  // an update keeps its place
  EXPECT_EQ(RunRaw({"hgetall", "h"}),
            "*6\r\n$1\r\nz\r\n$2\r\n26\r\n$1\r\na\r\n$3\r\none\r\n$1\r\nm\r\n$5\r\nhello\r\n");
  EXPECT_THAT(Run({"hkeys", "h"}).strings(), ElementsAre("z", "a", "m"));
  EXPECT_THAT(Run({"hvals", "h"}).strings(), ElementsAre("26", "one", "hello"));
  EXPECT_EQ(RunRaw({"hgetall", "missing"}), "*0\r\n");
  EXPECT_EQ(RunRaw({"hkeys", "missing"}), "*0\r\n");
  EXPECT_EQ(RunRaw({"hvals", "missing"}), "*0\r\n");
}

TEST_F(HashFamilyTest, StrLenAndExists) {
  Run({"hset", "h", "s", "hello", "n", "-1234", "z", "0", "e", ""});
  EXPECT_EQ(Run({"hstrlen", "h", "s"}), 5);
  EXPECT_EQ(Run({"hstrlen", "h", "n"}), 5);  // stored as an integer: its digits and sign
  EXPECT_EQ(Run({"hstrlen", "h", "z"}), 1);
  EXPECT_EQ(Run({"hstrlen", "h", "e"}), 0);
  EXPECT_EQ(Run({"hstrlen", "h", "nope"}), 0);
  EXPECT_EQ(Run({"hstrlen", "missing", "s"}), 0);
  EXPECT_EQ(Run({"hexists", "h", "s"}), 1);
  EXPECT_EQ(Run({"hexists", "h", "nope"}), 0);
  EXPECT_EQ(Run({"hexists", "missing", "s"}), 0);
}

TEST_F(HashFamilyTest, IntegerLikeFieldsAndValues) {
  // A listpack stores canonical integers as integers: lookups must still match them as text,
  // and non-canonical forms stay distinct.
  Run({"hset", "h", "1", "007", "-5", "10", "01", "x", "9223372036854775807", "-0"});
  EXPECT_EQ(Run({"hget", "h", "1"}), "007");
  EXPECT_EQ(Run({"hget", "h", "01"}), "x");
  EXPECT_EQ(Run({"hget", "h", "-5"}), "10");
  EXPECT_EQ(Run({"hget", "h", "9223372036854775807"}), "-0");
  EXPECT_TRUE(Run({"hget", "h", "1.0"}).is_null());
  EXPECT_TRUE(Run({"hget", "h", "+1"}).is_null());
  EXPECT_EQ(Run({"hlen", "h"}), 4);
}

// ----------------------------------------------------------------------------------------------
// HDEL

TEST_F(HashFamilyTest, DelAndEmptiedKeyDeleted) {
  Run({"hset", "h", "a", "1", "b", "2", "c", "3"});
  EXPECT_EQ(Run({"hdel", "h", "a", "nope", "a"}), 1);
  EXPECT_EQ(Run({"hdel", "missing", "a"}), 0);
  EXPECT_EQ(Run({"hdel", "h", "nope"}), 0);
  EXPECT_EQ(Run({"hlen", "h"}), 2);
  EXPECT_EQ(Run({"hdel", "h", "b", "c", "b"}), 2);
  EXPECT_EQ(Run({"exists", "h"}), 0);
  // The same on a hashtable-encoded hash.
  Fill("big", 600);
  EXPECT_EQ(Encoding("big"), "hashtable");
  Command del = {"hdel", "big"};
  for (int i = 0; i < 600; i++) del.push_back("f" + std::to_string(i));
  EXPECT_EQ(Run(del), 600);
  EXPECT_EQ(Run({"exists", "big"}), 0);
}

// ----------------------------------------------------------------------------------------------
// HINCRBY / HINCRBYFLOAT

TEST_F(HashFamilyTest, IncrBy) {
  EXPECT_EQ(Run({"hincrby", "h", "n", "5"}), 5);  // creates the key and the field
  EXPECT_EQ(Run({"hincrby", "h", "n", "-7"}), -2);
  Run({"hset", "h", "s", "abc", "big", "9223372036854775807", "small", "-9223372036854775808",
       "lead", "007", "f", "1.5"});
  EXPECT_THAT(Run({"hincrby", "h", "s", "1"}), ErrorIs("ERR hash value is not an integer"));
  EXPECT_THAT(Run({"hincrby", "h", "lead", "1"}), ErrorIs("ERR hash value is not an integer"));
  EXPECT_THAT(Run({"hincrby", "h", "f", "1"}), ErrorIs("ERR hash value is not an integer"));
  EXPECT_THAT(Run({"hincrby", "h", "big", "1"}),
              ErrorIs("ERR increment or decrement would overflow"));
  EXPECT_THAT(Run({"hincrby", "h", "small", "-1"}),
              ErrorIs("ERR increment or decrement would overflow"));
  EXPECT_EQ(Run({"hincrby", "h", "big", "-9223372036854775807"}), 0);
  EXPECT_EQ(Run({"hincrby", "h", "small", "0"}), INT64_MIN);
  EXPECT_THAT(Run({"hincrby", "h", "n", "x"}), ErrorIs(kNotInteger));
  EXPECT_THAT(Run({"hincrby", "h", "n", "9223372036854775808"}), ErrorIs(kNotInteger));
  EXPECT_THAT(Run({"hincrby", "h", "n", "1.0"}), ErrorIs(kNotInteger));
  // The increment is parsed before the lookup: no key is created, and WRONGTYPE comes second.
  EXPECT_THAT(Run({"hincrby", "new", "n", "x"}), ErrorIs(kNotInteger));
  EXPECT_EQ(Run({"exists", "new"}), 0);
  Run({"set", "str", "1"});
  EXPECT_THAT(Run({"hincrby", "str", "n", "x"}), ErrorIs(kNotInteger));
  EXPECT_THAT(Run({"hincrby", "str", "n", "1"}), ErrorIs(kWrongType));
}

TEST_F(HashFamilyTest, IncrByFloat) {
  EXPECT_EQ(Run({"hincrbyfloat", "h", "x", "1.5"}), "1.5");
  EXPECT_EQ(Run({"hincrbyfloat", "h", "x", "1.5"}), "3");
  EXPECT_EQ(Run({"hincrbyfloat", "h", "x", "-0.25"}), "2.75");
  EXPECT_EQ(Run({"hincrbyfloat", "h", "x", "1e3"}), "1002.75");
  Run({"hset", "h", "i", "10", "s", "abc", "sp", " 1"});
  EXPECT_EQ(Run({"hincrbyfloat", "h", "i", "0.1"}), "10.1");
  EXPECT_THAT(Run({"hincrbyfloat", "h", "s", "1"}), ErrorIs("ERR hash value is not a float"));
  EXPECT_THAT(Run({"hincrbyfloat", "h", "sp", "1"}), ErrorIs("ERR hash value is not a float"));
  EXPECT_THAT(Run({"hincrbyfloat", "h", "x", "abc"}), ErrorIs("ERR value is not a valid float"));
  EXPECT_THAT(Run({"hincrbyfloat", "h", "x", "nan"}), ErrorIs("ERR value is not a valid float"));
  // An infinite increment is refused before the lookup; a result that overflows after it.
  EXPECT_THAT(Run({"hincrbyfloat", "new", "x", "inf"}), ErrorIs("ERR value is NaN or Infinity"));
  EXPECT_THAT(Run({"hincrbyfloat", "new", "x", "-inf"}), ErrorIs("ERR value is NaN or Infinity"));
  EXPECT_EQ(Run({"exists", "new"}), 0);
  Run({"hset", "h", "huge", "1e4932"});
  EXPECT_THAT(Run({"hincrbyfloat", "h", "huge", "1e4932"}),
              ErrorIs("ERR increment would produce NaN or Infinity"));
  Run({"set", "str", "1"});
  EXPECT_THAT(Run({"hincrbyfloat", "str", "x", "inf"}), ErrorIs("ERR value is NaN or Infinity"));
  EXPECT_THAT(Run({"hincrbyfloat", "str", "x", "1"}), ErrorIs(kWrongType));
}

TEST_F(HashFamilyTest, IncrByFloatPropagatesAsHSet) {
  Run({"hincrbyfloat", "h", "x", "1.10"});
  Run({"hincrbyfloat", "h", "x", "2e1"});
  Run({"hincrby", "h", "n", "3"});
  EXPECT_THAT(Propagated(),
              ElementsAre(Command{"HSET", "h", "x", "1.1"}, Command{"HSET", "h", "x", "21.1"},
                          Command{"hincrby", "h", "n", "3"}));
  // Failures propagate nothing.
  Run({"hset", "h", "s", "abc"});
  Propagated();
  Run({"hincrbyfloat", "h", "s", "1"});
  Run({"hincrby", "h", "s", "1"});
  EXPECT_THAT(Propagated(), IsEmpty());
}

// ----------------------------------------------------------------------------------------------
// Propagation and keyspace events

TEST_F(HashFamilyTest, WritesPropagateAsReceived) {
  Run({"hset", "h", "a", "1"});
  Run({"hmset", "h", "b", "2"});
  Run({"hsetnx", "h", "b", "3"});  // no change: nothing
  Run({"hsetnx", "h", "c", "3"});
  Run({"hdel", "h", "nope"});  // no change: nothing
  Run({"hdel", "h", "a", "nope"});
  Run({"hget", "h", "b"});
  EXPECT_THAT(Propagated(),
              ElementsAre(Command{"hset", "h", "a", "1"}, Command{"hmset", "h", "b", "2"},
                          Command{"hsetnx", "h", "c", "3"}, Command{"hdel", "h", "a", "nope"}));
}

TEST_F(HashFamilyTest, KeyspaceEvents) {
  Run({"config", "set", "notify-keyspace-events", "Egh"});
  RunRaw({"psubscribe", "__keyevent@0__:*"}, "sub");
  Run({"hset", "h", "a", "1", "b", "2"});
  Run({"hmset", "h", "a", "1"});
  Run({"hsetnx", "h", "a", "1"});  // no change: no event
  Run({"hsetnx", "h", "c", "1"});
  Run({"hincrby", "h", "a", "1"});
  Run({"hincrbyfloat", "h", "a", "1.5"});
  Run({"hincrby", "h", "nope", "x"});  // error: no event
  Run({"hdel", "h", "nope"});          // nothing deleted: no event
  Run({"hdel", "h", "a"});
  Run({"hdel", "h", "b", "c"});  // the last fields: hdel, then del
  EXPECT_EQ(Pending("sub"), Event("hset", "h") + Event("hset", "h") + Event("hset", "h") +
                                Event("hincrby", "h") + Event("hincrbyfloat", "h") +
                                Event("hdel", "h") + Event("hdel", "h") + Event("del", "h"));
}

// ----------------------------------------------------------------------------------------------
// Types

TEST_F(HashFamilyTest, WrongType) {
  Run({"set", "s", "x"});
  MakeList("l");
  for (const std::string key : {"s", "l"}) {
    for (const Command& cmd : std::vector<Command>{{"hset", key, "f", "v"},
                                                   {"hmset", key, "f", "v"},
                                                   {"hsetnx", key, "f", "v"},
                                                   {"hget", key, "f"},
                                                   {"hmget", key, "f"},
                                                   {"hdel", key, "f"},
                                                   {"hlen", key},
                                                   {"hstrlen", key, "f"},
                                                   {"hexists", key, "f"},
                                                   {"hkeys", key},
                                                   {"hvals", key},
                                                   {"hgetall", key},
                                                   {"hincrby", key, "f", "1"},
                                                   {"hincrbyfloat", key, "f", "1"},
                                                   {"hrandfield", key},
                                                   {"hrandfield", key, "0"},
                                                   {"hrandfield", key, "-3", "withvalues"},
                                                   {"hscan", key, "0"},
                                                   {"hscan", key, "0", "count", "0"}}) {
      EXPECT_THAT(Run(cmd), ErrorIs(kWrongType)) << cmd[0] << " " << key;
    }
  }
  EXPECT_EQ(Run({"get", "s"}), "x");
  SkipReplayCheck("the list was made directly in the keyspace");
}

TEST_F(HashFamilyTest, OtherCommandsOnHashes) {
  Run({"hset", "h", "a", "1", "b", "2"});
  EXPECT_EQ(Run({"copy", "h", "h2"}), 1);
  Run({"hset", "h", "a", "changed"});
  EXPECT_EQ(Run({"hget", "h2", "a"}), "1");  // the copy shares nothing
  EXPECT_EQ(Encoding("h2"), "listpack");
  Fill("big", 600);
  EXPECT_EQ(Run({"copy", "big", "big2"}), 1);
  EXPECT_EQ(Encoding("big2"), "hashtable");
  EXPECT_EQ(All("big2"), All("big"));
  EXPECT_THAT(Run({"get", "h"}), ErrorIs(kWrongType));
  EXPECT_EQ(Run({"rename", "h", "r"}), "OK");
  EXPECT_EQ(Run({"hget", "r", "a"}), "changed");
  EXPECT_EQ(Run({"del", "r", "big"}), 2);
}

// ----------------------------------------------------------------------------------------------
// Encodings

TEST_F(HashFamilyTest, ConvertsOnEntriesAndStaysConverted) {
  Run({"config", "set", "hash-max-listpack-entries", "4"});
  Fill("h", 4);
  EXPECT_EQ(Encoding("h"), "listpack");
  EXPECT_EQ(Run({"hset", "h", "f0", "again"}), 0);  // an update: still 4 fields
  EXPECT_EQ(Encoding("h"), "listpack");
  EXPECT_EQ(Run({"hsetnx", "h", "f4", "v4"}), 1);  // the 5th field
  EXPECT_EQ(Encoding("h"), "hashtable");
  // Never back, however small the hash gets.
  Run({"hdel", "h", "f0", "f1", "f2", "f3"});
  EXPECT_EQ(Run({"hlen", "h"}), 1);
  EXPECT_EQ(Encoding("h"), "hashtable");
  EXPECT_EQ(Run({"hget", "h", "f4"}), "v4");
  // A threshold lowered under an existing listpack converts it on its next set, even an update.
  Run({"config", "set", "hash-max-listpack-entries", "10"});
  Fill("k", 5);
  Run({"config", "set", "hash-max-listpack-entries", "3"});
  EXPECT_EQ(Encoding("k"), "listpack");
  Run({"hget", "k", "f0"});
  EXPECT_EQ(Encoding("k"), "listpack");
  EXPECT_EQ(Run({"hset", "k", "f0", "x"}), 0);
  EXPECT_EQ(Encoding("k"), "hashtable");
  // 0 entries: every hash is a table.
  Run({"config", "set", "hash-max-ziplist-entries", "0"});  // the old name is an alias
  EXPECT_EQ(Run({"config", "get", "hash-max-listpack-entries"}).strings(),
            (std::vector<std::string>{"hash-max-listpack-entries", "0"}));
  Run({"hset", "z", "f", "v"});
  EXPECT_EQ(Encoding("z"), "hashtable");
  SkipReplayCheck("CONFIG SET of the encoding thresholds is not propagated");
}

TEST_F(HashFamilyTest, ConvertsOnValueLength) {
  Run({"config", "set", "hash-max-listpack-value", "4"});
  Run({"hset", "a", "f", "1234"});
  EXPECT_EQ(Encoding("a"), "listpack");
  Run({"hset", "a", "g", "12345"});
  EXPECT_EQ(Encoding("a"), "hashtable");
  Run({"hset", "b", "fffff", "1"});  // a long field counts too
  EXPECT_EQ(Encoding("b"), "hashtable");
  // Every argument of the command is looked at first, even a field that is then overwritten.
  Run({"hset", "c", "f", "12345", "f", "1"});
  EXPECT_EQ(Encoding("c"), "hashtable");
  EXPECT_EQ(Run({"hget", "c", "f"}), "1");
  // HSETNX looks at its arguments only when it sets.
  Run({"hset", "d", "f", "v"});
  EXPECT_EQ(Run({"hsetnx", "d", "f", "123456"}), 0);
  EXPECT_EQ(Encoding("d"), "listpack");
  EXPECT_EQ(Run({"hsetnx", "d", "g", "123456"}), 1);
  EXPECT_EQ(Encoding("d"), "hashtable");
  // HINCRBY and HINCRBYFLOAT convert on the length of the field or of the new value.
  Run({"hincrby", "e", "f", "1234"});
  EXPECT_EQ(Encoding("e"), "listpack");
  Run({"hincrby", "e", "f", "100000"});
  EXPECT_EQ(Encoding("e"), "hashtable");
  Run({"hincrby", "g", "longfield", "1"});
  EXPECT_EQ(Encoding("g"), "hashtable");
  Run({"hincrbyfloat", "i", "f", "1.25"});  // 4 bytes: fits
  EXPECT_EQ(Encoding("i"), "listpack");
  Run({"hincrbyfloat", "i", "f", "0.005"});  // "1.255"
  EXPECT_EQ(Encoding("i"), "hashtable");
  EXPECT_EQ(Run({"hget", "i", "f"}), "1.255");
  SkipReplayCheck("CONFIG SET of the encoding thresholds is not propagated");
}

TEST_F(HashFamilyTest, DefaultThresholds) {
  // Redis 7.0.15's defaults: 512 entries, 64 bytes.
  Fill("h", 512);
  EXPECT_EQ(Encoding("h"), "listpack");
  Run({"hset", "h", "one-more", "x"});
  EXPECT_EQ(Encoding("h"), "hashtable");
  Run({"hset", "v", "f", std::string(64, 'x')});
  EXPECT_EQ(Encoding("v"), "listpack");
  Run({"hset", "v", "g", std::string(65, 'x')});
  EXPECT_EQ(Encoding("v"), "hashtable");
  EXPECT_EQ(Run({"hget", "v", "f"}), std::string(64, 'x'));
}

TEST_F(HashFamilyTest, TableKeepsEveryField) {
  Fill("h", 1000);
  EXPECT_EQ(Encoding("h"), "hashtable");
  EXPECT_EQ(Run({"hlen", "h"}), 1000);
  std::map<std::string, std::string> all = All("h");
  ASSERT_EQ(all.size(), 1000u);
  for (int i = 0; i < 1000; i += 37) {
    EXPECT_EQ(all["f" + std::to_string(i)], "v" + std::to_string(i));
    EXPECT_EQ(Run({"hget", "h", "f" + std::to_string(i)}), "v" + std::to_string(i));
  }
  EXPECT_EQ(Run({"hincrby", "h", "n", "41"}), 41);
  EXPECT_EQ(Run({"hincrbyfloat", "h", "n", "0.5"}), "41.5");
  EXPECT_EQ(Run({"hstrlen", "h", "n"}), 4);
  EXPECT_EQ(Run({"hkeys", "h"}).size(), 1001u);
  EXPECT_EQ(Run({"hvals", "h"}).size(), 1001u);
}

// ----------------------------------------------------------------------------------------------
// HRANDFIELD

TEST_F(HashFamilyTest, RandFieldArguments) {
  EXPECT_EQ(RunRaw({"hrandfield", "missing"}), "$-1\r\n");
  EXPECT_EQ(RunRaw({"hrandfield", "missing", "5"}), "*0\r\n");
  EXPECT_EQ(RunRaw({"hrandfield", "missing", "-5", "withvalues"}), "*0\r\n");
  Run({"hset", "h", "a", "1"});
  EXPECT_EQ(Run({"hrandfield", "h"}), "a");
  EXPECT_EQ(RunRaw({"hrandfield", "h", "0"}), "*0\r\n");
  EXPECT_EQ(RunRaw({"hrandfield", "h", "0", "WithValues"}), "*0\r\n");
  EXPECT_THAT(Run({"hrandfield", "h", "x"}), ErrorIs(kNotInteger));
  EXPECT_THAT(Run({"hrandfield", "h", "1", "values"}), ErrorIs(kSyntax));
  EXPECT_THAT(Run({"hrandfield", "h", "1", "withvalues", "x"}), ErrorIs(kSyntax));
  EXPECT_THAT(Run({"hrandfield", "h", "x", "values"}), ErrorIs(kNotInteger));
  const char* kRange =
      "ERR value is out of range, value must between -9223372036854775807 and "
      "9223372036854775807";
  EXPECT_THAT(Run({"hrandfield", "h", "-9223372036854775808"}), ErrorIs(kRange));
  EXPECT_THAT(Run({"hrandfield", "missing", "-9223372036854775808"}), ErrorIs(kRange));
  // WITHVALUES doubles the reply: the count must fit in half the range.
  EXPECT_THAT(Run({"hrandfield", "missing", "-4611686018427387904", "withvalues"}),
              ErrorIs("ERR value is out of range"));
  EXPECT_THAT(Run({"hrandfield", "missing", "4611686018427387904", "withvalues"}),
              ErrorIs("ERR value is out of range"));
  EXPECT_EQ(RunRaw({"hrandfield", "missing", "4611686018427387903", "withvalues"}), "*0\r\n");
  EXPECT_EQ(RunRaw({"hrandfield", "missing", "-4611686018427387903", "withvalues"}), "*0\r\n");
}

TEST_F(HashFamilyTest, RandFieldCounts) {
  Run({"hset", "h", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5"});
  const std::set<std::string> fields = {"a", "b", "c", "d", "e"};
  // A count at least the size: the whole hash, in listpack order.
  EXPECT_THAT(Run({"hrandfield", "h", "5"}).strings(), ElementsAre("a", "b", "c", "d", "e"));
  EXPECT_THAT(Run({"hrandfield", "h", "100", "withvalues"}).strings(),
              ElementsAre("a", "1", "b", "2", "c", "3", "d", "4", "e", "5"));
  for (int round = 0; round < 20; round++) {
    for (const std::string count : {"1", "2", "4"}) {
      std::vector<std::string> got = Run({"hrandfield", "h", count}).strings();
      EXPECT_EQ(got.size(), std::stoul(count));
      std::set<std::string> distinct(got.begin(), got.end());
      EXPECT_EQ(distinct.size(), got.size());  // a positive count never repeats
      for (const std::string& f : got) EXPECT_TRUE(fields.contains(f)) << f;
    }
    std::vector<std::string> pairs = Run({"hrandfield", "h", "3", "withvalues"}).strings();
    ASSERT_EQ(pairs.size(), 6u);
    for (size_t i = 0; i < 6; i += 2) EXPECT_EQ(Run({"hget", "h", pairs[i]}), pairs[i + 1]);
  }
  // A negative count may repeat, and returns exactly that many.
  std::vector<std::string> many = Run({"hrandfield", "h", "-50"}).strings();
  EXPECT_EQ(many.size(), 50u);
  std::set<std::string> seen(many.begin(), many.end());
  EXPECT_EQ(seen, fields);  // 50 picks of 5: every field seen (odds of a miss ~ 5 * 0.8^50)
  std::vector<std::string> pairs = Run({"hrandfield", "h", "-7", "withvalues"}).strings();
  ASSERT_EQ(pairs.size(), 14u);
  for (size_t i = 0; i < 14; i += 2) EXPECT_EQ(Run({"hget", "h", pairs[i]}), pairs[i + 1]);
}

TEST_F(HashFamilyTest, RandFieldOnTable) {
  Fill("h", 600);
  ASSERT_EQ(Encoding("h"), "hashtable");
  // Redis's three cases: a few random picks, a copy shrunk by deletions (count * 3 > size), the
  // whole hash (count >= size).
  for (const std::string count : {"1", "10", "199", "200", "201", "500", "599", "600", "1000"}) {
    Resp r = Run({"hrandfield", "h", count, "withvalues"});
    size_t n = std::min<size_t>(std::stoul(count), 600);
    ASSERT_EQ(r.size(), 2 * n) << count;
    std::set<std::string> distinct;
    for (size_t i = 0; i < r.size(); i += 2) {
      distinct.insert(r[i].str);
      EXPECT_EQ("v" + r[i].str.substr(1), r[i + 1].str);
    }
    EXPECT_EQ(distinct.size(), n) << count;
  }
  EXPECT_EQ(Run({"hrandfield", "h", "-1000"}).size(), 1000u);
  Resp one = Run({"hrandfield", "h"});
  EXPECT_EQ(Run({"hexists", "h", one.str}), 1);
}

TEST_F(HashFamilyTest, RandFieldResp3Shapes) {
  Run({"hset", "h", "a", "1", "b", "2"});
  Run({"hello", "3"});
  EXPECT_EQ(RunRaw({"hrandfield", "missing"}), "_\r\n");
  EXPECT_EQ(RunRaw({"hrandfield", "missing", "3", "withvalues"}), "*0\r\n");
  EXPECT_EQ(RunRaw({"hrandfield", "h", "2", "withvalues"}),
            "*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n");
  EXPECT_EQ(RunRaw({"hrandfield", "h", "2"}), "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
  Resp r = Run({"hrandfield", "h", "-3", "withvalues"});
  ASSERT_EQ(r.size(), 3u);
  for (const Resp& pair : r.elems) {
    ASSERT_EQ(pair.size(), 2u);
    EXPECT_EQ(Run({"hget", "h", pair[0].str}), pair[1].str);
  }
  EXPECT_EQ(Run({"hrandfield", "h", "1", "withvalues"})[0].size(), 2u);
}

// ----------------------------------------------------------------------------------------------
// HSCAN

TEST_F(HashFamilyTest, ScanListpackReturnsEverythingAtOnce) {
  Run({"hset", "h", "a", "1", "b", "2", "c", "3"});
  EXPECT_EQ(
      RunRaw({"hscan", "h", "0"}),
      "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n");
  // Whatever the cursor and COUNT.
  EXPECT_EQ(RunRaw({"hscan", "h", "12345", "count", "1"}), RunRaw({"hscan", "h", "0"}));
  EXPECT_EQ(RunRaw({"hscan", "h", "0", "match", "b"}),
            "*2\r\n$1\r\n0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n");
  // MATCH looks at fields only.
  EXPECT_EQ(RunRaw({"hscan", "h", "0", "match", "2"}), "*2\r\n$1\r\n0\r\n*0\r\n");
  EXPECT_EQ(RunRaw({"hscan", "h", "0", "match", "*", "count", "100"}), RunRaw({"hscan", "h", "0"}));
}

TEST_F(HashFamilyTest, ScanArguments) {
  // The cursor is checked first; a missing key then answers an empty scan whatever follows.
  EXPECT_THAT(Run({"hscan", "missing", "abc"}), ErrorIs("ERR invalid cursor"));
  EXPECT_THAT(Run({"hscan", "missing", " 1"}), ErrorIs("ERR invalid cursor"));
  EXPECT_THAT(Run({"hscan", "missing", "18446744073709551616"}), ErrorIs("ERR invalid cursor"));
  EXPECT_EQ(RunRaw({"hscan", "missing", "0"}), "*2\r\n$1\r\n0\r\n*0\r\n");
  EXPECT_EQ(RunRaw({"hscan", "missing", "0", "count", "0", "bogus"}), "*2\r\n$1\r\n0\r\n*0\r\n");
  Run({"hset", "h", "a", "1"});
  EXPECT_EQ(Run({"hscan", "h", ""})[0], "0");    // strtoul: the empty string is 0
  EXPECT_EQ(Run({"hscan", "h", "-1"})[0], "0");  // ... and '-' negates
  EXPECT_EQ(Run({"hscan", "h", "+007"})[0], "0");
  EXPECT_THAT(Run({"hscan", "h", "0", "count", "0"}), ErrorIs(kSyntax));
  EXPECT_THAT(Run({"hscan", "h", "0", "count", "-1"}), ErrorIs(kSyntax));
  EXPECT_THAT(Run({"hscan", "h", "0", "count", "x"}), ErrorIs(kNotInteger));
  EXPECT_THAT(Run({"hscan", "h", "0", "count"}), ErrorIs(kSyntax));
  EXPECT_THAT(Run({"hscan", "h", "0", "match"}), ErrorIs(kSyntax));
  EXPECT_THAT(Run({"hscan", "h", "0", "type", "hash"}), ErrorIs(kSyntax));  // SCAN only
  EXPECT_THAT(Run({"hscan", "h", "0", "novalues"}), ErrorIs(kSyntax));
  EXPECT_EQ(Run({"hscan", "h", "0", "COUNT", "5", "MATCH", "a"})[1].strings(),
            (std::vector<std::string>{"a", "1"}));
}

TEST_F(HashFamilyTest, ScanTableIteratesEverything) {
  Fill("h", 1000);
  ASSERT_EQ(Encoding("h"), "hashtable");
  int calls = 0;
  std::map<std::string, std::string> all = ScanAll("h", {}, &calls);
  EXPECT_EQ(all.size(), 1000u);
  // COUNT 10 by default, in fields (Redis doubles COUNT for hashes): about 100 steps.
  EXPECT_GT(calls, 50);
  EXPECT_LT(calls, 150);
  for (const auto& [f, v] : all) EXPECT_EQ("v" + f.substr(1), v);
  // One call once COUNT exceeds the 1000 fields (at exactly 1000 the walk may stop on the last
  // field with buckets left, and a second call returns nothing).
  EXPECT_EQ(ScanAll("h", {"count", "1001"}, &calls).size(), 1000u);
  EXPECT_EQ(calls, 1);
  std::map<std::string, std::string> matched = ScanAll("h", {"match", "f1?"});
  std::vector<std::string> fields;
  for (const auto& [f, v] : matched) fields.push_back(f);
  EXPECT_EQ(fields.size(), 10u);  // f10..f19
  EXPECT_EQ(fields.front(), "f10");
  // COUNT counts fields: one step of COUNT 2 returns about two fields (four entries).
  Resp step = Run({"hscan", "h", "0", "count", "2"});
  EXPECT_NE(step[0].str, "0");
  EXPECT_GE(step[1].size(), 4u);
  // Whole buckets are returned, so a chain may bring more (the table's seed is random: up to
  // seven fields were seen); far fewer than the 1000 in any case.
  EXPECT_LE(step[1].size(), 40u);
}

TEST_F(HashFamilyTest, ScanSurvivesChangesBetweenCalls) {
  Fill("h", 200);
  // Fields present for the whole scan are returned at least once, while the table grows.
  std::set<std::string> seen;
  std::string cursor = "0";
  int added = 0;
  do {
    Resp r = Run({"hscan", "h", cursor, "count", "20"});
    cursor = r[0].str;
    std::vector<std::string> items = r[1].strings();
    for (size_t i = 0; i < items.size(); i += 2) seen.insert(items[i]);
    Run({"hset", "h", "extra" + std::to_string(added++), "x"});
  } while (cursor != "0");
  for (int i = 0; i < 200; i++) EXPECT_TRUE(seen.contains("f" + std::to_string(i))) << i;
}

// ----------------------------------------------------------------------------------------------
// RESP3

TEST_F(HashFamilyTest, Resp3Shapes) {
  Run({"hset", "h", "a", "1", "b", "x"});
  Run({"hello", "3"});
  EXPECT_EQ(RunRaw({"hgetall", "h"}), "%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\nx\r\n");
  EXPECT_EQ(RunRaw({"hgetall", "missing"}), "%0\r\n");
  EXPECT_EQ(RunRaw({"hkeys", "missing"}), "*0\r\n");
  EXPECT_EQ(RunRaw({"hkeys", "h"}), "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
  EXPECT_EQ(RunRaw({"hget", "h", "nope"}), "_\r\n");
  EXPECT_EQ(RunRaw({"hmget", "h", "a", "nope"}), "*2\r\n$1\r\n1\r\n_\r\n");
  EXPECT_EQ(RunRaw({"hscan", "missing", "0"}), "*2\r\n$1\r\n0\r\n*0\r\n");
  EXPECT_EQ(RunRaw({"hincrbyfloat", "h", "a", "1"}), "$1\r\n2\r\n");
}

// ----------------------------------------------------------------------------------------------
// HashValue itself

class ValueBytes : public ValueSink {
 public:
  void Write(std::string_view bytes) override { out.append(bytes); }
  std::string out;
};

TEST(HashFamilyValueTest, ListpackEncoding) {
  HashValue h;
  EXPECT_EQ(h.encoding(), Encoding::kListPack);
  EXPECT_TRUE(h.empty());
  EXPECT_TRUE(h.Set("a", "1", 128, 64));
  EXPECT_TRUE(h.Set("b", "hello", 128, 64));
  EXPECT_FALSE(h.Set("a", "2", 128, 64));
  EXPECT_EQ(h.size(), 2u);
  EXPECT_EQ(h.rdb_type(), 16);
  EXPECT_EQ(h.FreeEffort(), 1u);
  LpElement v;
  ASSERT_TRUE(h.Get("a", &v));
  EXPECT_TRUE(v.is_int);
  EXPECT_EQ(v.value, 2);
  // The payload is the listpack as an RDB string: a listpack with the same pairs.
  Listpack lp;
  for (const char* s : {"a", "2", "b", "hello"}) lp.Append(s);
  std::string expected;
  rdb::AppendString(expected, lp.raw());
  ValueBytes bytes;
  h.Serialise(bytes);
  EXPECT_EQ(bytes.out, expected);
  EXPECT_GT(h.MemoryUsage(), sizeof(HashValue));
  // A small hash costs its listpack and a small object (the table sits behind a pointer).
  EXPECT_LE(sizeof(HashValue), 24u);
}

TEST(HashFamilyValueTest, TableEncodingAndClone) {
  HashValue h;
  for (int i = 0; i < 5; i++) h.Set("f" + std::to_string(i), std::to_string(i), 4, 64);
  EXPECT_EQ(h.encoding(), Encoding::kHashTable);
  EXPECT_EQ(h.rdb_type(), 4);
  EXPECT_EQ(h.FreeEffort(), 5u);
  std::unique_ptr<Value> copy = h.Clone();
  auto* c = static_cast<HashValue*>(copy.get());
  EXPECT_TRUE(h.Delete("f0"));
  EXPECT_FALSE(h.Delete("f0"));
  EXPECT_EQ(c->size(), 5u);
  EXPECT_EQ(c->encoding(), Encoding::kHashTable);
  std::map<std::string, std::string> pairs;
  c->ForEach([&](const LpElement& f, const LpElement& v) { pairs[f.ToString()] = v.ToString(); });
  EXPECT_EQ(pairs.size(), 5u);
  EXPECT_EQ(pairs["f3"], "3");
  // RDB_TYPE_HASH: the count, then each field and value.
  ValueBytes bytes;
  h.Serialise(bytes);
  rdb::Reader reader(bytes.out);
  std::optional<uint8_t> n = reader.Byte();  // a length below 64 is one byte
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 4);
  std::map<std::string, std::string> read;
  for (int i = 0; i < 4; i++) {
    std::optional<std::string> f = reader.String(), v = reader.String();
    ASSERT_TRUE(f && v);
    read[*f] = *v;
  }
  EXPECT_EQ(reader.position(), bytes.out.size());
  EXPECT_EQ(read.size(), 4u);
  EXPECT_EQ(read["f4"], "4");
}

TEST(HashFamilyValueTest, TryConversion) {
  HashValue h;
  h.Set("a", "1", 128, 64);
  std::string_view short_args[] = {"field", "value"};
  h.TryConversion(short_args, 5);
  EXPECT_TRUE(h.is_listpack());
  std::string_view long_args[] = {"field", "values"};
  h.TryConversion(long_args, 5);
  EXPECT_FALSE(h.is_listpack());
  EXPECT_EQ(h.size(), 1u);
  LpElement v;
  ASSERT_TRUE(h.Get("a", &v));
  EXPECT_EQ(v.str, "1");
}

}  // namespace
}  // namespace keyward::test
