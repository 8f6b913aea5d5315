// DEL, UNLINK, EXISTS, TYPE, RENAME, RENAMENX, KEYS, SCAN, RANDOMKEY, TOUCH, COPY, OBJECT, MOVE,
// DBSIZE, FLUSHDB, FLUSHALL, SWAPDB. Expected replies and errors were checked against Redis
// 7.0.15.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "server/keyspace/entry.h"
#include "tests/support/command_test.h"

namespace keyward::test {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using Commands = std::vector<std::vector<std::string>>;

class GenericFamilyTest : public CommandTest {
 protected:
  // Everything propagated since the previous call.
  Commands Propagated() { return TakePropagated(); }

  // SCAN from cursor 0 to the end; `options` follow the cursor.
  std::multiset<std::string> ScanAll(const std::vector<std::string>& options = {}) {
    std::multiset<std::string> keys;
    std::string cursor = "0";
    int calls = 0;
    do {
      std::vector<std::string> cmd{"scan", cursor};
      cmd.insert(cmd.end(), options.begin(), options.end());
      Resp r = Run(cmd);
      EXPECT_EQ(r.size(), 2u) << r;
      if (r.size() != 2) break;
      EXPECT_EQ(r[0].type, Resp::Type::kBulk);  // the cursor is a bulk string
      cursor = r[0].str;
      for (const auto& k : r[1].strings()) keys.insert(k);
    } while (cursor != "0" && ++calls < 100000);
    return keys;
  }

  KeyspaceStats& stats() { return server().keyspace().stats(); }
  Database& db(int i = 0) { return server().keyspace().db(i); }
};

std::vector<std::string> Sorted(const Resp& r) {
  auto v = r.strings();
  std::sort(v.begin(), v.end());
  return v;
}

// --- DEL / UNLINK --------------------------------------------------------------------------------

TEST_F(GenericFamilyTest, DelCountsDeletedKeys) {
  Run({"set", "a", "1"});
  Run({"set", "b", "2"});
  Propagated();
  EXPECT_EQ(Run({"del", "a", "b", "c", "a"}), 2);  // a named twice counts once
  EXPECT_EQ(Run({"exists", "a", "b"}), 0);
  EXPECT_EQ(Propagated(), (Commands{{"del", "a", "b", "c", "a"}}));
  EXPECT_EQ(Run({"del", "a"}), 0);
  EXPECT_THAT(Propagated(), IsEmpty());  // nothing deleted: nothing to propagate
  EXPECT_THAT(Run({"del"}), ErrorIs("ERR wrong number of arguments for 'del' command"));
}

TEST_F(GenericFamilyTest, DelOfExpiredKeyCountsZeroAndPropagatesExpiry) {
  Run({"set", "a", "1"});
  Run({"pexpire", "a", "100"});
  Propagated();
  AdvanceMs(100);
  EXPECT_EQ(Run({"del", "a"}), 0);
  // The lazy expiry is propagated as DEL; the client's DEL deleted nothing and is not.
  EXPECT_EQ(Propagated(), (Commands{{"DEL", "a"}}));
  EXPECT_EQ(stats().expired, 1u);
}

TEST_F(GenericFamilyTest, DelOnReplicaRemovesLogicallyExpiredKey) {
  // A replica hides expired keys but must still apply the master's DEL.
  Run({"set", "a", "1"});
  Run({"pexpire", "a", "100"});
  server().keyspace().set_expire_disabled(true);
  AdvanceMs(200);
  EXPECT_EQ(Run({"exists", "a"}), 0);
  EXPECT_EQ(Run({"dbsize"}), 1);
  EXPECT_EQ(Run({"del", "a"}), 1);
  EXPECT_EQ(Run({"dbsize"}), 0);
}

TEST_F(GenericFamilyTest, Unlink) {
  Run({"set", "a", "1"});
  Run({"set", "b", std::string(1000, 'x')});
  Propagated();
  EXPECT_EQ(Run({"unlink", "a", "b", "nokey"}), 2);
  EXPECT_EQ(Run({"dbsize"}), 0);
  EXPECT_EQ(Propagated(), (Commands{{"unlink", "a", "b", "nokey"}}));
  EXPECT_EQ(Run({"unlink", "a"}), 0);
  server().keyspace().lazy_freer().Drain();
  EXPECT_THAT(Run({"unlink"}), ErrorIs("ERR wrong number of arguments for 'unlink' command"));
}

TEST_F(GenericFamilyTest, DelWithLazyUserDel) {
  server().settings().lazyfree_lazy_user_del = true;
  Run({"set", "a", std::string(100, 'x')});
  EXPECT_EQ(Run({"del", "a"}), 1);
  EXPECT_EQ(Run({"exists", "a"}), 0);
}

// --- EXISTS / TOUCH / TYPE -----------------------------------------------------------------------

TEST_F(GenericFamilyTest, ExistsCountsEachArgument) {
  Run({"set", "a", "1"});
  EXPECT_EQ(Run({"exists", "a"}), 1);
  EXPECT_EQ(Run({"exists", "a", "a", "b"}), 2);
  EXPECT_EQ(Run({"exists", "b"}), 0);
  EXPECT_THAT(Run({"exists"}), ErrorIs("ERR wrong number of arguments for 'exists' command"));
}

TEST_F(GenericFamilyTest, ExistsCountsHitsAndMissesWithoutTouching) {
  Run({"set", "a", "1"});
  AdvanceMs(5000);
  uint64_t hits = stats().hits, misses = stats().misses;
  EXPECT_EQ(Run({"exists", "a", "b"}), 1);
  EXPECT_EQ(stats().hits, hits + 1);
  EXPECT_EQ(stats().misses, misses + 1);
  EXPECT_EQ(Run({"object", "idletime", "a"}), 5);  // EXISTS did not touch the key
}

TEST_F(GenericFamilyTest, ExistsIgnoresExpiredKeys) {
  Run({"set", "a", "1"});
  Run({"pexpire", "a", "10"});
  AdvanceMs(9);
  EXPECT_EQ(Run({"exists", "a"}), 1);
  AdvanceMs(1);
  EXPECT_EQ(Run({"exists", "a"}), 0);
}

TEST_F(GenericFamilyTest, TouchUpdatesIdleTime) {
  Run({"set", "a", "1"});
  AdvanceMs(10000);
  EXPECT_EQ(Run({"object", "idletime", "a"}), 10);
  uint64_t hits = stats().hits, misses = stats().misses;
  EXPECT_EQ(Run({"touch", "a", "b", "a"}), 2);
  EXPECT_EQ(stats().hits, hits + 2);
  EXPECT_EQ(stats().misses, misses + 1);
  EXPECT_EQ(Run({"object", "idletime", "a"}), 0);
  EXPECT_THAT(Propagated(), ElementsAre(std::vector<std::string>{"set", "a", "1"}));
  EXPECT_THAT(Run({"touch"}), ErrorIs("ERR wrong number of arguments for 'touch' command"));
}

TEST_F(GenericFamilyTest, Type) {
  Run({"set", "a", "1"});
  EXPECT_EQ(RunRaw({"type", "a"}), "+string\r\n");
  EXPECT_EQ(RunRaw({"type", "nokey"}), "+none\r\n");
  Run({"pexpire", "a", "1"});
  AdvanceMs(1);
  EXPECT_EQ(Run({"type", "a"}), "none");
  EXPECT_THAT(Run({"type"}), ErrorIs("ERR wrong number of arguments for 'type' command"));
  EXPECT_THAT(Run({"type", "a", "b"}), ErrorIs("ERR wrong number of arguments for 'type' command"));
}

// --- RENAME / RENAMENX ---------------------------------------------------------------------------

TEST_F(GenericFamilyTest, Rename) {
  Run({"set", "a", "1"});
  Propagated();
  EXPECT_EQ(Run({"rename", "a", "b"}), "OK");
  EXPECT_EQ(Run({"get", "b"}), "1");
  EXPECT_EQ(Run({"exists", "a"}), 0);
  EXPECT_EQ(Propagated(), (Commands{{"rename", "a", "b"}}));
  EXPECT_THAT(Run({"rename", "a", "b"}), ErrorIs("ERR no such key"));
  EXPECT_THAT(Run({"rename", "a"}), ErrorIs("ERR wrong number of arguments for 'rename' command"));
}

TEST_F(GenericFamilyTest, RenameOverwritesAndMovesTtl) {
  Run({"set", "a", "1"});
  Run({"pexpire", "a", "5000"});
  Run({"set", "b", "2"});
  Run({"pexpire", "b", "100000"});
  EXPECT_EQ(Run({"rename", "a", "b"}), "OK");
  EXPECT_EQ(Run({"get", "b"}), "1");
  EXPECT_EQ(Run({"pttl", "b"}), 5000);  // the source's deadline, not the overwritten key's
  EXPECT_EQ(db().expires_count(), 1u);
  AdvanceMs(5000);
  EXPECT_EQ(Run({"exists", "b"}), 0);
  EXPECT_EQ(db().expires_count(), 0u);
}

TEST_F(GenericFamilyTest, RenameKeepsEncodingAndDropsTargetTtl) {
  Run({"set", "a", std::string(100, 'x')});
  Run({"set", "b", "2"});
  Run({"expire", "b", "100"});
  EXPECT_EQ(Run({"rename", "a", "b"}), "OK");
  EXPECT_EQ(Run({"object", "encoding", "b"}), "raw");
  EXPECT_EQ(Run({"ttl", "b"}), -1);
  EXPECT_EQ(Run({"strlen", "b"}), 100);
}

TEST_F(GenericFamilyTest, RenameSameKey) {
  Run({"set", "a", "1"});
  Run({"expire", "a", "100"});
  Propagated();
  EXPECT_EQ(Run({"rename", "a", "a"}), "OK");
  EXPECT_EQ(Run({"renamenx", "a", "a"}), 0);
  EXPECT_EQ(Run({"ttl", "a"}), 100);
  EXPECT_THAT(Propagated(), IsEmpty());
  EXPECT_THAT(Run({"rename", "x", "x"}), ErrorIs("ERR no such key"));
  EXPECT_THAT(Run({"renamenx", "x", "x"}), ErrorIs("ERR no such key"));
}

TEST_F(GenericFamilyTest, RenameOfExpiredKeyIsNoSuchKey) {
  Run({"set", "a", "1"});
  Run({"pexpire", "a", "10"});
  AdvanceMs(10);
  EXPECT_THAT(Run({"rename", "a", "b"}), ErrorIs("ERR no such key"));
  EXPECT_EQ(Run({"exists", "b"}), 0);
}

TEST_F(GenericFamilyTest, RenameNx) {
  Run({"set", "a", "1"});
  Run({"set", "c", "3"});
  Propagated();
  EXPECT_EQ(Run({"renamenx", "a", "c"}), 0);
  EXPECT_EQ(Run({"get", "a"}), "1");
  EXPECT_THAT(Propagated(), IsEmpty());
  EXPECT_EQ(Run({"renamenx", "a", "b"}), 1);
  EXPECT_EQ(Run({"get", "b"}), "1");
  EXPECT_EQ(Propagated(), (Commands{{"renamenx", "a", "b"}}));
  EXPECT_THAT(Run({"renamenx", "a", "b"}), ErrorIs("ERR no such key"));
}

TEST_F(GenericFamilyTest, RenameNxOntoExpiredKeySucceeds) {
  Run({"set", "a", "1"});
  Run({"set", "b", "2"});
  Run({"pexpire", "b", "10"});
  AdvanceMs(10);
  EXPECT_EQ(Run({"renamenx", "a", "b"}), 1);
  EXPECT_EQ(Run({"get", "b"}), "1");
  EXPECT_EQ(Run({"ttl", "b"}), -1);
}

// --- KEYS ----------------------------------------------------------------------------------------

TEST_F(GenericFamilyTest, Keys) {
  for (const char* k : {"one", "two", "three", "four", "h?llo", "hallo"}) Run({"set", k, "1"});
  EXPECT_THAT(Sorted(Run({"keys", "*"})),
              ElementsAre("four", "h?llo", "hallo", "one", "three", "two"));
  EXPECT_THAT(Sorted(Run({"keys", "t*"})), ElementsAre("three", "two"));
  EXPECT_THAT(Sorted(Run({"keys", "*o"})), ElementsAre("h?llo", "hallo", "two"));
  EXPECT_THAT(Sorted(Run({"keys", "h\\?llo"})), ElementsAre("h?llo"));
  EXPECT_THAT(Sorted(Run({"keys", "[ot]*"})), ElementsAre("one", "three", "two"));
  EXPECT_THAT(Run({"keys", "nomatch*"}).strings(), IsEmpty());
  EXPECT_EQ(RunRaw({"keys", "nomatch"}), "*0\r\n");
  EXPECT_THAT(Run({"keys"}), ErrorIs("ERR wrong number of arguments for 'keys' command"));
}

TEST_F(GenericFamilyTest, KeysSkipsExpiredKeysWithoutDeletingThem) {
  Run({"set", "a", "1"});
  Run({"set", "b", "1"});
  Run({"pexpire", "b", "10"});
  AdvanceMs(10);
  EXPECT_THAT(Run({"keys", "*"}).strings(), ElementsAre("a"));
  EXPECT_EQ(Run({"dbsize"}), 2);  // KEYS does not delete
}

// --- SCAN ----------------------------------------------------------------------------------------

TEST_F(GenericFamilyTest, ScanEmptyDatabase) {
  EXPECT_EQ(RunRaw({"scan", "0"}), "*2\r\n$1\r\n0\r\n*0\r\n");
}

TEST_F(GenericFamilyTest, ScanReturnsEveryKey) {
  std::multiset<std::string> expected;
  for (int i = 0; i < 1000; i++) {
    Run({"set", "key:" + std::to_string(i), "v"});
    expected.insert("key:" + std::to_string(i));
  }
  server().RunCron();  // finish the incremental rehash the inserts started
  auto seen = ScanAll();
  // Without resizes between calls SCAN returns each key exactly once.
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(ScanAll({"count", "1"}), expected);
  EXPECT_EQ(ScanAll({"COUNT", "5000"}), expected);
}

TEST_F(GenericFamilyTest, ScanCountBoundsTheBatch) {
  for (int i = 0; i < 1000; i++) Run({"set", "key:" + std::to_string(i), "v"});
  Resp r = Run({"scan", "0", "count", "20"});
  EXPECT_NE(r[0].str, "0");
  // Whole buckets are returned, so a batch may exceed COUNT a little but not by much.
  EXPECT_GE(r[1].size(), 20u);
  EXPECT_LT(r[1].size(), 40u);
  r = Run({"scan", "0", "count", "100000"});
  EXPECT_EQ(r[0].str, "0");
  EXPECT_EQ(r[1].size(), 1000u);
}

TEST_F(GenericFamilyTest, ScanMatchAndType) {
  for (int i = 0; i < 100; i++) Run({"set", "user:" + std::to_string(i), "v"});
  for (int i = 0; i < 50; i++) Run({"set", "item:" + std::to_string(i), "v"});
  EXPECT_EQ(ScanAll({"match", "user:*"}).size(), 100u);
  EXPECT_EQ(ScanAll({"MATCH", "item:1?"}).size(), 10u);
  EXPECT_EQ(ScanAll({"match", "*"}).size(), 150u);
  EXPECT_EQ(ScanAll({"type", "string"}).size(), 150u);
  EXPECT_EQ(ScanAll({"TYPE", "STRING"}).size(), 150u);  // type names compare case-insensitively
  EXPECT_EQ(ScanAll({"type", "list"}).size(), 0u);
  EXPECT_EQ(ScanAll({"type", "nosuchtype"}).size(), 0u);
  EXPECT_EQ(ScanAll({"type", "none"}).size(), 0u);
  EXPECT_EQ(ScanAll({"match", "item:*", "count", "7", "type", "string"}).size(), 50u);
  // Options may repeat; the last one wins.
  EXPECT_EQ(ScanAll({"match", "user:*", "match", "item:*"}).size(), 50u);
}

TEST_F(GenericFamilyTest, ScanTypeFilterCountsHitsWithoutTouching) {
  Run({"set", "a", "1"});
  AdvanceMs(3000);
  uint64_t hits = stats().hits;
  EXPECT_THAT(Run({"scan", "0", "type", "string"})[1].strings(), ElementsAre("a"));
  EXPECT_EQ(stats().hits, hits + 1);
  EXPECT_EQ(Run({"object", "idletime", "a"}), 3);
}

TEST_F(GenericFamilyTest, ScanNeverReturnsExpiredKeys) {
  // Only SCAN may meet the expired keys: the active cycle would delete them first.
  Run({"debug", "set-active-expire", "0"});
  for (int i = 0; i < 200; i++) {
    Run({"set", "k" + std::to_string(i), "v"});
    if (i % 2 == 0) Run({"pexpire", "k" + std::to_string(i), "100"});
  }
  AdvanceMs(100);
  Propagated();
  auto seen = ScanAll();
  EXPECT_EQ(seen.size(), 100u);
  for (const auto& k : seen) EXPECT_EQ(std::stoi(k.substr(1)) % 2, 1) << k;
  // SCAN deleted the expired keys it met, propagating each as DEL (several in one SCAN call go
  // out in MULTI/EXEC, as Redis 7.0 wraps a command's lazy expiries).
  EXPECT_EQ(Run({"dbsize"}), 100);
  size_t dels = 0;
  for (const auto& argv : Propagated()) {
    if (argv[0] == "DEL") dels++;
    EXPECT_TRUE(argv[0] == "DEL" || argv[0] == "MULTI" || argv[0] == "EXEC") << argv[0];
  }
  EXPECT_EQ(dels, 100u);
}

TEST_F(GenericFamilyTest, ScanCursorParsing) {
  Run({"set", "a", "1"});
  // strtoul's rules: empty, '+', leading zeros and '-' (wrapping) are accepted.
  EXPECT_THAT(Run({"scan", ""})[1].strings(), ElementsAre("a"));
  EXPECT_THAT(Run({"scan", "+0"})[1].strings(), ElementsAre("a"));
  EXPECT_THAT(Run({"scan", "000"})[1].strings(), ElementsAre("a"));
  EXPECT_EQ(Run({"scan", "-1"})[0], "0");
  EXPECT_EQ(Run({"scan", "18446744073709551615"})[0], "0");
  EXPECT_THAT(Run({"scan", "18446744073709551616"}), ErrorIs("ERR invalid cursor"));
  EXPECT_THAT(Run({"scan", " 0"}), ErrorIs("ERR invalid cursor"));
  EXPECT_THAT(Run({"scan", "0 "}), ErrorIs("ERR invalid cursor"));
  EXPECT_THAT(Run({"scan", "0x1"}), ErrorIs("ERR invalid cursor"));
  EXPECT_THAT(Run({"scan", "abc"}), ErrorIs("ERR invalid cursor"));
  EXPECT_THAT(Run({"scan", "-"}), ErrorIs("ERR invalid cursor"));
  EXPECT_THAT(Run({"scan"}), ErrorIs("ERR wrong number of arguments for 'scan' command"));
}

TEST_F(GenericFamilyTest, ScanOptionErrors) {
  EXPECT_THAT(Run({"scan", "0", "count", "0"}), ErrorIs("ERR syntax error"));
  EXPECT_THAT(Run({"scan", "0", "count", "-1"}), ErrorIs("ERR syntax error"));
  EXPECT_THAT(Run({"scan", "0", "count", "abc"}),
              ErrorIs("ERR value is not an integer or out of range"));
  EXPECT_THAT(Run({"scan", "0", "count"}), ErrorIs("ERR syntax error"));
  EXPECT_THAT(Run({"scan", "0", "match"}), ErrorIs("ERR syntax error"));
  EXPECT_THAT(Run({"scan", "0", "type"}), ErrorIs("ERR syntax error"));
  EXPECT_THAT(Run({"scan", "0", "foo", "bar"}), ErrorIs("ERR syntax error"));
  EXPECT_THAT(Run({"scan", "x", "foo"}), ErrorIs("ERR invalid cursor"));  // cursor first
  // A huge COUNT is accepted (the visit cap must not overflow).
  EXPECT_EQ(Run({"scan", "0", "count", "9223372036854775807"})[0], "0");
}

// Redis's guarantee: a key present from the start to the end of a full iteration is returned at
// least once, even when the table grows and shrinks between calls.
TEST_F(GenericFamilyTest, ScanSurvivesGrowthAndShrink) {
  std::set<std::string> stable;
  for (int i = 0; i < 300; i++) {
    std::string k = "stable:" + std::to_string(i);
    Run({"set", k, "v"});
    stable.insert(k);
  }
  std::set<std::string> seen;
  std::string cursor = "0";
  int round = 0;
  do {
    Resp r = Run({"scan", cursor, "count", "20"});
    ASSERT_EQ(r.size(), 2u);
    cursor = r[0].str;
    for (const auto& k : r[1].strings()) seen.insert(k);
    // Between calls: grow by thousands of keys (the table doubles several times and is left
    // mid-rehash), then delete them and let the cron shrink the table.
    int base = round * 2000;
    if (round % 3 == 0) {
      for (int i = 0; i < 2000; i++) Run({"set", "tmp:" + std::to_string(base + i), "v"});
    } else if (round % 3 == 1) {
      for (int i = 0; i < 2000; i++) Run({"del", "tmp:" + std::to_string(base - 2000 + i)});
      server().RunCron();
    }
    round++;
  } while (cursor != "0" && round < 1000);
  ASSERT_EQ(cursor, "0");
  for (const auto& k : stable) EXPECT_TRUE(seen.count(k)) << k;
}

// --- RANDOMKEY -----------------------------------------------------------------------------------

TEST_F(GenericFamilyTest, RandomKey) {
  EXPECT_TRUE(Run({"randomkey"}).is_null());
  EXPECT_EQ(RunRaw({"randomkey"}), "$-1\r\n");
  Run({"set", "a", "1"});
  EXPECT_EQ(Run({"randomkey"}), "a");
  Run({"set", "b", "1"});
  std::set<std::string> seen;
  for (int i = 0; i < 200; i++) seen.insert(Run({"randomkey"}).str);
  EXPECT_THAT(seen, UnorderedElementsAre("a", "b"));
  EXPECT_THAT(Run({"randomkey", "x"}),
              ErrorIs("ERR wrong number of arguments for 'randomkey' command"));
}

TEST_F(GenericFamilyTest, RandomKeySkipsAndDeletesExpiredKeys) {
  // Many expired keys and one live one: RANDOMKEY deletes expired keys until it draws the live
  // one (it must not give up and return nil while a live key exists).
  for (int i = 0; i < 500; i++) {
    Run({"set", "e" + std::to_string(i), "v"});
    Run({"pexpire", "e" + std::to_string(i), "10"});
  }
  Run({"set", "live", "v"});
  AdvanceMs(10);
  EXPECT_EQ(Run({"randomkey"}), "live");
  Run({"del", "live"});
  EXPECT_TRUE(Run({"randomkey"}).is_null());
  EXPECT_EQ(Run({"dbsize"}), 0);
}

TEST_F(GenericFamilyTest, RandomKeyOnReplicaReturnsExpiredKeyWhenAllAreVolatile) {
  Run({"set", "a", "1"});
  Run({"pexpire", "a", "10"});
  server().keyspace().set_expire_disabled(true);
  AdvanceMs(10);
  EXPECT_EQ(Run({"randomkey"}), "a");
  EXPECT_EQ(Run({"dbsize"}), 1);
}

// --- COPY ----------------------------------------------------------------------------------------

TEST_F(GenericFamilyTest, Copy) {
  Run({"set", "a", "hello"});
  Propagated();
  EXPECT_EQ(Run({"copy", "a", "b"}), 1);
  EXPECT_EQ(Run({"get", "b"}), "hello");
  EXPECT_EQ(Run({"get", "a"}), "hello");
  EXPECT_EQ(Propagated(), (Commands{{"copy", "a", "b"}}));
  EXPECT_EQ(Run({"copy", "a", "b"}), 0);  // exists, no REPLACE
  EXPECT_EQ(Run({"copy", "nokey", "c"}), 0);
  EXPECT_EQ(Run({"exists", "c"}), 0);
  EXPECT_THAT(Propagated(), IsEmpty());
  // The copy is independent of the source.
  Run({"append", "a", "!"});
  EXPECT_EQ(Run({"get", "b"}), "hello");
}

TEST_F(GenericFamilyTest, CopyReplace) {
  Run({"set", "a", "1"});
  Run({"set", "b", "2"});
  Run({"expire", "b", "100"});
  EXPECT_EQ(Run({"copy", "a", "b", "replace"}), 1);
  EXPECT_EQ(Run({"get", "b"}), "1");
  EXPECT_EQ(Run({"ttl", "b"}), -1);
  EXPECT_EQ(Run({"copy", "a", "b", "REPLACE", "replace"}), 1);
}

TEST_F(GenericFamilyTest, CopyKeepsTtlAndEncoding) {
  Run({"set", "int", "123"});
  Run({"set", "emb", "short"});
  Run({"set", "raw", std::string(50, 'x')});
  Run({"set", "appended", "a"});
  Run({"append", "appended", "b"});  // raw even though short
  Run({"pexpire", "emb", "5000"});
  for (const char* k : {"int", "emb", "raw", "appended"}) {
    std::string copy = std::string(k) + ".copy";
    EXPECT_EQ(Run({"copy", k, copy}), 1);
    EXPECT_EQ(Run({"object", "encoding", copy}), Run({"object", "encoding", k}).str) << k;
    EXPECT_EQ(Run({"get", copy}), Run({"get", k}).str);
  }
  EXPECT_EQ(Run({"pttl", "emb.copy"}), 5000);
  AdvanceMs(5000);
  EXPECT_EQ(Run({"exists", "emb.copy"}), 0);
}

TEST_F(GenericFamilyTest, CopyToAnotherDatabase) {
  Run({"set", "a", "1"});
  Run({"pexpire", "a", "3000"});
  EXPECT_EQ(Run({"copy", "a", "a", "db", "2"}), 1);
  EXPECT_EQ(Run({"copy", "a", "a", "DB", "2"}), 0);
  EXPECT_EQ(Run({"copy", "a", "a", "db", "2", "replace"}), 1);
  EXPECT_EQ(Run({"select", "2"}), "OK");
  EXPECT_EQ(Run({"get", "a"}), "1");
  EXPECT_EQ(Run({"pttl", "a"}), 3000);
  EXPECT_EQ(Run({"copy", "a", "b", "db", "2"}), 1);  // DB naming the current database
  EXPECT_EQ(Run({"get", "b"}), "1");
}

TEST_F(GenericFamilyTest, CopyErrors) {
  Run({"set", "a", "1"});
  EXPECT_THAT(Run({"copy", "a", "a"}), ErrorIs("ERR source and destination objects are the same"));
  EXPECT_THAT(Run({"copy", "a", "a", "db", "0"}),
              ErrorIs("ERR source and destination objects are the same"));
  EXPECT_THAT(Run({"copy", "nokey", "nokey"}),
              ErrorIs("ERR source and destination objects are the same"));
  EXPECT_THAT(Run({"copy", "a", "b", "db", "16"}), ErrorIs("ERR DB index is out of range"));
  EXPECT_THAT(Run({"copy", "a", "b", "db", "-1"}), ErrorIs("ERR DB index is out of range"));
  EXPECT_THAT(Run({"copy", "a", "b", "db", "x"}),
              ErrorIs("ERR value is not an integer or out of range"));
  EXPECT_THAT(Run({"copy", "a", "b", "db", "4294967296"}),
              ErrorIs("ERR value is out of range, value must between -2147483648 and "
                      "2147483647"));
  EXPECT_THAT(Run({"copy", "a", "b", "db", "99999999999999999999"}),
              ErrorIs("ERR value is not an integer or out of range"));
  EXPECT_THAT(Run({"copy", "a", "b", "db"}), ErrorIs("ERR syntax error"));
  EXPECT_THAT(Run({"copy", "a", "b", "foo"}), ErrorIs("ERR syntax error"));
  EXPECT_THAT(Run({"copy", "a"}), ErrorIs("ERR wrong number of arguments for 'copy' command"));
  EXPECT_EQ(Run({"exists", "b"}), 0);
}

// --- OBJECT --------------------------------------------------------------------------------------

TEST_F(GenericFamilyTest, ObjectEncoding) {
  Run({"set", "i", "12345"});
  Run({"set", "e", "hello"});
  Run({"set", "r", std::string(45, 'x')});
  EXPECT_EQ(RunRaw({"object", "encoding", "i"}), "$3\r\nint\r\n");
  EXPECT_EQ(Run({"object", "ENCODING", "e"}), "embstr");
  EXPECT_EQ(Run({"object", "encoding", "r"}), "raw");
  EXPECT_EQ(RunRaw({"object", "encoding", "nokey"}), "$-1\r\n");
  EXPECT_EQ(RunRaw({"hello", "3"}).substr(0, 1), "%");
  EXPECT_EQ(RunRaw({"object", "encoding", "nokey"}), "_\r\n");
}

TEST_F(GenericFamilyTest, ObjectLookupsCountStatsButNeverTouch) {
  Run({"set", "a", "1"});
  AdvanceMs(7000);
  uint64_t hits = stats().hits, misses = stats().misses;
  Run({"object", "encoding", "a"});
  Run({"object", "refcount", "a"});
  Run({"object", "encoding", "nokey"});
  EXPECT_EQ(stats().hits, hits + 2);
  EXPECT_EQ(stats().misses, misses + 1);
  EXPECT_EQ(Run({"object", "idletime", "a"}), 7);
}

TEST_F(GenericFamilyTest, ObjectIdleTime) {
  Run({"set", "a", "1"});
  EXPECT_EQ(Run({"object", "idletime", "a"}), 0);
  AdvanceMs(2500);
  EXPECT_EQ(Run({"object", "idletime", "a"}), 2);
  Run({"type", "a"});
  Run({"ttl", "a"});
  EXPECT_EQ(Run({"object", "idletime", "a"}), 2);  // NOTOUCH reads
  Run({"get", "a"});
  EXPECT_EQ(Run({"object", "idletime", "a"}), 0);
  EXPECT_TRUE(Run({"object", "idletime", "nokey"}).is_null());
}

TEST_F(GenericFamilyTest, ObjectFreqNeedsAnLfuPolicy) {
  Run({"set", "a", "1"});
  EXPECT_THAT(Run({"object", "freq", "a"}),
              ErrorIs("ERR An LFU maxmemory policy is not selected, access frequency not "
                      "tracked. Please note that when switching between policies at runtime LRU "
                      "and LFU data will take some time to adjust."));
  EXPECT_TRUE(Run({"object", "freq", "nokey"}).is_null());  // the lookup comes first
}

TEST_F(GenericFamilyTest, ObjectRefCount) {
  Run({"set", "small", "100"});
  Run({"set", "zero", "0"});
  Run({"set", "big", "10000"});
  Run({"set", "neg", "-1"});
  Run({"set", "str", "abc"});
  EXPECT_EQ(Run({"object", "refcount", "small"}), 2147483647);
  EXPECT_EQ(Run({"object", "refcount", "zero"}), 2147483647);
  EXPECT_EQ(Run({"object", "refcount", "big"}), 1);
  EXPECT_EQ(Run({"object", "refcount", "neg"}), 1);
  EXPECT_EQ(Run({"object", "refcount", "str"}), 1);
  EXPECT_TRUE(Run({"object", "refcount", "nokey"}).is_null());
}

TEST_F(GenericFamilyTest, ObjectHelpAndErrors) {
  Resp help = Run({"object", "help"});
  ASSERT_EQ(help.size(), 15u);
  EXPECT_EQ(help[0].type, Resp::Type::kSimple);
  EXPECT_EQ(help[0], "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
  EXPECT_EQ(help[14], "    Prints this help.");
  EXPECT_THAT(Run({"object", "foo"}), ErrorIs("ERR unknown subcommand 'foo'. Try OBJECT HELP."));
  EXPECT_THAT(Run({"object"}), ErrorIs("ERR wrong number of arguments for 'object' command"));
  EXPECT_THAT(Run({"object", "encoding"}),
              ErrorIs("ERR wrong number of arguments for 'object|encoding' command"));
  EXPECT_THAT(Run({"object", "help", "x"}),
              ErrorIs("ERR wrong number of arguments for 'object|help' command"));
}

// --- MOVE ----------------------------------------------------------------------------------------

TEST_F(GenericFamilyTest, Move) {
  Run({"set", "a", "1"});
  Run({"pexpire", "a", "4000"});
  Propagated();
  EXPECT_EQ(Run({"move", "a", "1"}), 1);
  EXPECT_EQ(Run({"exists", "a"}), 0);
  EXPECT_EQ(Propagated(), (Commands{{"move", "a", "1"}}));
  EXPECT_EQ(db(0).expires_count(), 0u);
  EXPECT_EQ(db(1).expires_count(), 1u);
  Run({"select", "1"});
  EXPECT_EQ(Run({"get", "a"}), "1");
  EXPECT_EQ(Run({"pttl", "a"}), 4000);
  AdvanceMs(4000);
  EXPECT_EQ(Run({"exists", "a"}), 0);
}

TEST_F(GenericFamilyTest, MoveDoesNotOverwrite) {
  Run({"set", "a", "src"});
  Run("other", {"select", "1"});
  Run("other", {"set", "a", "dst"});
  EXPECT_EQ(Run({"move", "a", "1"}), 0);
  EXPECT_EQ(Run({"get", "a"}), "src");
  EXPECT_EQ(Run("other", {"get", "a"}), "dst");
  EXPECT_EQ(Run({"move", "nokey", "1"}), 0);
  EXPECT_EQ(Propagated(), (Commands{{"set", "a", "src"}, {"set", "a", "dst"}}));
}

TEST_F(GenericFamilyTest, MoveErrors) {
  Run({"set", "a", "1"});
  EXPECT_THAT(Run({"move", "a", "0"}), ErrorIs("ERR source and destination objects are the same"));
  EXPECT_THAT(Run({"move", "nokey", "0"}),
              ErrorIs("ERR source and destination objects are the same"));
  EXPECT_THAT(Run({"move", "a", "16"}), ErrorIs("ERR DB index is out of range"));
  EXPECT_THAT(Run({"move", "a", "-1"}), ErrorIs("ERR DB index is out of range"));
  EXPECT_THAT(Run({"move", "a", "x"}), ErrorIs("ERR value is not an integer or out of range"));
  EXPECT_THAT(Run({"move", "a", "1.0"}), ErrorIs("ERR value is not an integer or out of range"));
  EXPECT_THAT(Run({"move", "a", "99999999999"}),
              ErrorIs("ERR value is out of range, value must between -2147483648 and "
                      "2147483647"));
  EXPECT_THAT(Run({"move", "a", "-2147483649"}),
              ErrorIs("ERR value is out of range, value must between -2147483648 and "
                      "2147483647"));
  EXPECT_THAT(Run({"move", "a", "99999999999999999999"}),
              ErrorIs("ERR value is not an integer or out of range"));
  EXPECT_THAT(Run({"move", "a"}), ErrorIs("ERR wrong number of arguments for 'move' command"));
}

// --- DBSIZE / FLUSHDB / FLUSHALL / SWAPDB --------------------------------------------------------

TEST_F(GenericFamilyTest, DbSize) {
  EXPECT_EQ(Run({"dbsize"}), 0);
  Run({"set", "a", "1"});
  Run({"set", "b", "1"});
  EXPECT_EQ(Run({"dbsize"}), 2);
  Run({"select", "1"});
  EXPECT_EQ(Run({"dbsize"}), 0);
  EXPECT_THAT(Run({"dbsize", "x"}), ErrorIs("ERR wrong number of arguments for 'dbsize' command"));
}

TEST_F(GenericFamilyTest, FlushDb) {
  Run({"set", "a", "1"});
  Run({"expire", "a", "100"});
  Run("other", {"select", "1"});
  Run("other", {"set", "b", "1"});
  Propagated();
  EXPECT_EQ(Run({"flushdb"}), "OK");
  EXPECT_EQ(Run({"dbsize"}), 0);
  EXPECT_EQ(db(0).expires_count(), 0u);
  EXPECT_EQ(Run("other", {"dbsize"}), 1);
  // Propagated even when the database was already empty.
  EXPECT_EQ(Run({"flushdb", "ASYNC"}), "OK");
  EXPECT_EQ(Run({"flushdb", "sync"}), "OK");
  EXPECT_EQ(Propagated(), (Commands{{"flushdb"}, {"flushdb", "ASYNC"}, {"flushdb", "sync"}}));
  EXPECT_THAT(Run({"flushdb", "foo"}), ErrorIs("ERR syntax error"));
  EXPECT_THAT(Run({"flushdb", "async", "sync"}), ErrorIs("ERR syntax error"));
  EXPECT_THAT(Propagated(), IsEmpty());
}

TEST_F(GenericFamilyTest, FlushDbAsyncHandsKeysToTheFreer) {
  for (int i = 0; i < 1000; i++) Run({"set", "k" + std::to_string(i), std::string(100, 'x')});
  EXPECT_EQ(Run({"flushdb", "async"}), "OK");
  EXPECT_EQ(Run({"dbsize"}), 0);
  server().keyspace().lazy_freer().Drain();
  EXPECT_EQ(server().keyspace().lazy_freer().pending(), 0u);
  // The database is usable again at once.
  Run({"set", "a", "1"});
  EXPECT_EQ(Run({"get", "a"}), "1");
}

TEST_F(GenericFamilyTest, FlushDefaultFollowsLazyfreeLazyUserFlush) {
  server().settings().lazyfree_lazy_user_flush = true;
  Run({"set", "a", "1"});
  EXPECT_EQ(Run({"flushdb"}), "OK");
  EXPECT_EQ(Run({"dbsize"}), 0);
  Run({"set", "a", "1"});
  EXPECT_EQ(Run({"flushall"}), "OK");
  server().keyspace().lazy_freer().Drain();
  EXPECT_EQ(Run({"dbsize"}), 0);
}

TEST_F(GenericFamilyTest, FlushAll) {
  Run({"set", "a", "1"});
  Run("other", {"select", "5"});
  Run("other", {"set", "b", "1"});
  Propagated();
  uint64_t dirty = server().propagation().dirty();
  EXPECT_EQ(Run({"flushall"}), "OK");
  EXPECT_EQ(server().propagation().dirty(), dirty + 3);  // two keys and the command
  EXPECT_EQ(Run({"dbsize"}), 0);
  EXPECT_EQ(Run("other", {"dbsize"}), 0);
  EXPECT_EQ(server().keyspace().TotalKeys(), 0u);
  EXPECT_EQ(Run({"flushall", "async"}), "OK");
  EXPECT_EQ(Run({"FLUSHALL", "SYNC"}), "OK");
  EXPECT_EQ(Propagated(), (Commands{{"flushall"}, {"flushall", "async"}, {"FLUSHALL", "SYNC"}}));
  EXPECT_THAT(Run({"flushall", "now"}), ErrorIs("ERR syntax error"));
}

TEST_F(GenericFamilyTest, SwapDb) {
  Run({"set", "a", "in0"});
  Run({"pexpire", "a", "2000"});
  Run("other", {"select", "1"});
  Run("other", {"set", "b", "in1"});
  Propagated();
  EXPECT_EQ(Run({"swapdb", "0", "1"}), "OK");
  EXPECT_EQ(Run({"get", "b"}), "in1");
  EXPECT_EQ(Run({"exists", "a"}), 0);
  EXPECT_EQ(Run("other", {"get", "a"}), "in0");
  EXPECT_EQ(Run("other", {"pttl", "a"}), 2000);
  EXPECT_EQ(Propagated(), (Commands{{"swapdb", "0", "1"}}));
  // The deadline index moved with the keys: the key still expires, in its new database.
  AdvanceMs(2000);
  server().RunCron();
  EXPECT_EQ(server().keyspace().db(1).size(), 0u);
  EXPECT_EQ(TakePropagatedWithDb(), (std::vector<std::pair<int, Argv>>{{1, {"DEL", "a"}}}));
  // Swapping a database with itself is accepted, counted and propagated.
  EXPECT_EQ(Run({"swapdb", "3", "3"}), "OK");
  EXPECT_EQ(Propagated(), (Commands{{"swapdb", "3", "3"}}));
}

TEST_F(GenericFamilyTest, SwapDbErrors) {
  EXPECT_THAT(Run({"swapdb", "x", "0"}), ErrorIs("ERR invalid first DB index"));
  EXPECT_THAT(Run({"swapdb", "0", "x"}), ErrorIs("ERR invalid second DB index"));
  EXPECT_THAT(Run({"swapdb", "x", "y"}), ErrorIs("ERR invalid first DB index"));
  EXPECT_THAT(Run({"swapdb", "4294967296", "0"}), ErrorIs("ERR invalid first DB index"));
  EXPECT_THAT(Run({"swapdb", "0", "99999999999"}), ErrorIs("ERR invalid second DB index"));
  EXPECT_THAT(Run({"swapdb", "0", "16"}), ErrorIs("ERR DB index is out of range"));
  EXPECT_THAT(Run({"swapdb", "-1", "0"}), ErrorIs("ERR DB index is out of range"));
  EXPECT_THAT(Run({"swapdb", "0"}), ErrorIs("ERR wrong number of arguments for 'swapdb' command"));
  EXPECT_THAT(Propagated(), IsEmpty());
}

}  // namespace
}  // namespace keyward::test
