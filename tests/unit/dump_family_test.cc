// DUMP and RESTORE through the command path: payloads of every type restore to the same value,
// errors come in restoreCommand's order with its texts, TTLs become absolute deadlines (and are
// propagated so), IDLETIME dates the key's last access, and a RESTORE is a write like any other
// (WATCH, keyspace events, the dirty count). Replies and propagated forms were checked against
// Redis 7.0.15 (tests/differential/test_dump.py compares the bytes).
#include <string>
#include <vector>

#include "server/persistence/rdb_codec.h"
#include "tests/support/command_test.h"

namespace keyward::test {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

class DumpFamilyTest : public CommandTest {
 protected:
  int64_t Now() { return server().now_ms(); }
  std::string Dump(const std::string& key) {
    Resp r = Run({"dump", key});
    EXPECT_EQ(r.type, Resp::Type::kBulk) << key;
    return r.str;
  }
  // DUMP of `key`, restored as `copy`; the copy's DUMP must be the same bytes.
  void ExpectRestoresIdentically(const std::string& key, const std::string& copy) {
    const std::string payload = Dump(key);
    EXPECT_EQ(Run({"restore", copy, "0", payload}), "OK") << key;
    EXPECT_EQ(Run({"object", "encoding", copy}), Run({"object", "encoding", key}).str) << key;
    EXPECT_EQ(Dump(copy), payload) << key;
  }
  int64_t Dirty() {
    const std::string info = Run({"info", "persistence"}).str;
    const std::string field = "rdb_changes_since_last_save:";
    const size_t at = info.find(field);
    return at == std::string::npos ? -1 : std::stoll(info.substr(at + field.size()));
  }
};

// DUMP "hello" from Redis 7.0.15: type 0, the string, RDB version 10 and the CRC64.
const std::string kHelloPayload("\x00\x05hello\x0a\x00\x63\x72\xdf\x76\x65\x34\x20\x0a", 17);

TEST_F(DumpFamilyTest, DumpOfAStringIsRedissBytes) {
  Run({"set", "s", "hello"});
  EXPECT_EQ(Dump("s"), kHelloPayload);
  EXPECT_TRUE(Run({"dump", "missing"}).is_null());
  EXPECT_THAT(Run({"dump"}), ErrorIs("ERR wrong number of arguments for 'dump' command"));
}

TEST_F(DumpFamilyTest, EveryTypeRestoresIdentically) {
  Run({"set", "str", "hello"});
  Run({"set", "int", "123456"});
  Run({"set", "lzf", std::string(300, 'a')});
  std::vector<std::string> push = {"rpush", "list"};
  for (int i = 0; i < 3000; i++) push.push_back("element-" + std::to_string(i));
  Run(push);
  Run({"hset", "hash", "a", "1", "b", "2"});
  Run({"sadd", "intset", "5", "1", "-70000"});
  Run({"zadd", "zset", "1", "a", "2.5", "b"});
  std::vector<std::string> zadd = {"zadd", "skiplist"};
  for (int i = 0; i < 200; i++) {
    zadd.push_back(std::to_string(i / 3.0));
    zadd.push_back("m" + std::to_string(i));
  }
  Run(zadd);
  for (const char* key : {"str", "int", "lzf", "list", "hash", "intset", "zset", "skiplist"}) {
    ExpectRestoresIdentically(key, std::string(key) + "2");
  }
  EXPECT_EQ(Run({"object", "encoding", "skiplist2"}), "skiplist");
  EXPECT_EQ(Run({"object", "encoding", "int2"}), "int");
}

TEST_F(DumpFamilyTest, HashtableValuesRestoreWithTheSameContents) {
  std::vector<std::string> sadd = {"sadd", "set"};
  std::vector<std::string> hset = {"hset", "hash"};
  for (int i = 0; i < 600; i++) {
    sadd.push_back("m" + std::to_string(i));
    hset.push_back("f" + std::to_string(i));
    hset.push_back("v" + std::to_string(i));
  }
  Run(sadd);
  Run(hset);
  EXPECT_EQ(Run({"restore", "set2", "0", Dump("set")}), "OK");
  EXPECT_EQ(Run({"restore", "hash2", "0", Dump("hash")}), "OK");
  EXPECT_EQ(Run({"object", "encoding", "set2"}), "hashtable");
  EXPECT_EQ(Run({"object", "encoding", "hash2"}), "hashtable");
  EXPECT_EQ(Run({"sinterstore", "both", "set", "set2"}), 600);
  EXPECT_EQ(Run({"hget", "hash2", "f599"}), "v599");
  EXPECT_EQ(Run({"hlen", "hash2"}), 600);
}

TEST_F(DumpFamilyTest, RestoredValuesTakeTheEncodingTheSettingsGive) {
  Run({"hset", "h", "a", "1", "b", "2", "c", "3"});
  const std::string payload = Dump("h");
  Run({"config", "set", "hash-max-listpack-entries", "2"});
  EXPECT_EQ(Run({"restore", "h2", "0", payload}), "OK");
  EXPECT_EQ(Run({"object", "encoding", "h2"}), "hashtable");
  EXPECT_EQ(Run({"hget", "h2", "c"}), "3");
  SkipReplayCheck("CONFIG SET of the encoding thresholds is not propagated");
}

// --- Errors, in restoreCommand's order ---------------------------------------------------------

TEST_F(DumpFamilyTest, ErrorsComeInRedissOrder) {
  Run({"set", "s", "v"});
  const std::string p = kHelloPayload;
  EXPECT_THAT(Run({"restore", "k", "0"}),
              ErrorIs("ERR wrong number of arguments for 'restore' command"));
  // Options first (even on a busy key), then BUSYKEY (before the TTL), then the TTL, then the
  // payload.
  EXPECT_THAT(Run({"restore", "s", "abc", "x", "FOO"}), ErrorIs("ERR syntax error"));
  EXPECT_THAT(Run({"restore", "s", "abc", "x"}),
              ErrorIs("BUSYKEY Target key name already exists."));
  EXPECT_THAT(Run({"restore", "k", "abc", "x"}),
              ErrorIs("ERR value is not an integer or out of range"));
  EXPECT_THAT(Run({"restore", "k", "-1", "x"}), ErrorIs("ERR Invalid TTL value, must be >= 0"));
  EXPECT_THAT(Run({"restore", "k", "0", "x"}),
              ErrorIs("ERR DUMP payload version or checksum are wrong"));
  EXPECT_THAT(Run({"restore", "k", "0", p, "IDLETIME", "-1"}),
              ErrorIs("ERR Invalid IDLETIME value, must be >= 0"));
  EXPECT_THAT(Run({"restore", "k", "0", p, "IDLETIME", "x"}),
              ErrorIs("ERR value is not an integer or out of range"));
  EXPECT_THAT(Run({"restore", "k", "0", p, "FREQ", "256"}),
              ErrorIs("ERR Invalid FREQ value, must be >= 0 and <= 255"));
  EXPECT_THAT(Run({"restore", "k", "0", p, "FREQ", "-1"}),
              ErrorIs("ERR Invalid FREQ value, must be >= 0 and <= 255"));
  EXPECT_THAT(Run({"restore", "k", "0", p, "IDLETIME", "1", "FREQ", "1"}),
              ErrorIs("ERR syntax error"));
  EXPECT_THAT(Run({"restore", "k", "0", p, "FREQ", "1", "IDLETIME", "1"}),
              ErrorIs("ERR syntax error"));
  EXPECT_THAT(Run({"restore", "k", "0", p, "IDLETIME"}), ErrorIs("ERR syntax error"));
  std::string body = "\x08\x01";  // type 8: no such type
  rdb::AppendPayloadFooter(body);
  EXPECT_THAT(Run({"restore", "k", "0", body}), ErrorIs("ERR Bad data format"));
  // RDB version 11, with a right checksum.
  std::string newer = p.substr(0, 7) + std::string("\x0b\x00", 2);
  const uint64_t crc = rdb::Crc64(0, newer);
  for (int i = 0; i < 8; i++) newer.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  EXPECT_THAT(Run({"restore", "k", "0", newer}),
              ErrorIs("ERR DUMP payload version or checksum are wrong"));
  EXPECT_EQ(Run({"exists", "k"}), 0);
  EXPECT_THAT(TakePropagated(), ElementsAre(ElementsAre("set", "s", "v")));
}

TEST_F(DumpFamilyTest, TheValueIsReadFromTheWholeArgument) {
  // As in Redis: bytes left before the footer are ignored, and a value that runs into the footer
  // takes its bytes (here a 5-byte string made of the version and part of the checksum).
  std::string trailing = std::string("\x00\x01x", 3) + "junk";
  rdb::AppendPayloadFooter(trailing);
  EXPECT_EQ(Run({"restore", "t", "0", trailing}), "OK");
  EXPECT_EQ(Run({"get", "t"}), "x");
  std::string short_body("\x00\x05", 2);
  rdb::AppendPayloadFooter(short_body);
  EXPECT_EQ(Run({"restore", "f", "0", short_body}), "OK");
  EXPECT_EQ(Run({"get", "f"}), short_body.substr(2, 5));
}

// --- TTL, REPLACE, propagation ------------------------------------------------------------------

TEST_F(DumpFamilyTest, RelativeTtlIsPropagatedAsAnAbsoluteDeadline) {
  const std::string deadline = std::to_string(Now() + 5000);
  EXPECT_EQ(Run({"restore", "k", "5000", kHelloPayload}), "OK");
  EXPECT_EQ(Run({"pttl", "k"}), 5000);
  EXPECT_THAT(TakePropagated(),
              ElementsAre(ElementsAre("restore", "k", deadline, kHelloPayload, "ABSTTL")));
  // With REPLACE and IDLETIME the rewritten TTL stays in place and ABSTTL goes last.
  EXPECT_EQ(Run({"restore", "k", "100", kHelloPayload, "REPLACE", "IDLETIME", "7"}), "OK");
  EXPECT_THAT(TakePropagated(),
              ElementsAre(ElementsAre("restore", "k", std::to_string(Now() + 100), kHelloPayload,
                                      "REPLACE", "IDLETIME", "7", "ABSTTL")));
  AdvanceMs(100);
  EXPECT_EQ(Run({"exists", "k"}), 0);
  EXPECT_THAT(TakePropagated(), ElementsAre(ElementsAre("DEL", "k")));
}

TEST_F(DumpFamilyTest, AbsoluteAndZeroTtlsArePropagatedAsReceived) {
  const std::string at = std::to_string(Now() + 60000);
  EXPECT_EQ(Run({"restore", "a", at, kHelloPayload, "ABSTTL"}), "OK");
  EXPECT_EQ(Run({"pexpiretime", "a"}), Now() + 60000);
  EXPECT_EQ(Run({"restore", "z", "0", kHelloPayload}), "OK");
  EXPECT_EQ(Run({"ttl", "z"}), -1);
  EXPECT_EQ(Run({"restore", "z2", "0", kHelloPayload, "ABSTTL"}), "OK");
  EXPECT_EQ(Run({"ttl", "z2"}), -1);
  EXPECT_THAT(TakePropagated(),
              ElementsAre(ElementsAre("restore", "a", at, kHelloPayload, "ABSTTL"),
                          ElementsAre("restore", "z", "0", kHelloPayload),
                          ElementsAre("restore", "z2", "0", kHelloPayload, "ABSTTL")));
}

TEST_F(DumpFamilyTest, APastDeadlineCreatesNothing) {
  const int64_t dirty = Dirty();
  EXPECT_EQ(Run({"restore", "k", "1", kHelloPayload, "ABSTTL"}), "OK");
  EXPECT_EQ(Run({"exists", "k"}), 0);
  EXPECT_THAT(TakePropagated(), IsEmpty());
  EXPECT_EQ(Dirty(), dirty);
  // A TTL so large that now + TTL wraps negative: a deadline long past, as in Redis.
  EXPECT_EQ(Run({"restore", "k", "9223372036854775807", kHelloPayload}), "OK");
  EXPECT_EQ(Run({"exists", "k"}), 0);
  EXPECT_THAT(TakePropagated(), IsEmpty());
}

TEST_F(DumpFamilyTest, APastDeadlineWithReplaceDeletesTheOldKey) {
  Run({"rpush", "k", "a"});
  TakePropagated();
  const int64_t dirty = Dirty();
  EXPECT_EQ(Run({"restore", "k", "1", kHelloPayload, "ABSTTL", "REPLACE"}), "OK");
  EXPECT_EQ(Run({"exists", "k"}), 0);
  EXPECT_THAT(TakePropagated(), ElementsAre(ElementsAre("DEL", "k")));
  EXPECT_EQ(Dirty(), dirty + 1);
}

TEST_F(DumpFamilyTest, ReplaceOverwritesAnyType) {
  Run({"rpush", "k", "a"});
  Run({"expire", "k", "100"});
  EXPECT_THAT(Run({"restore", "k", "0", kHelloPayload}),
              ErrorIs("BUSYKEY Target key name already exists."));
  EXPECT_EQ(Run({"restore", "k", "0", kHelloPayload, "REPLACE"}), "OK");
  EXPECT_EQ(Run({"get", "k"}), "hello");
  EXPECT_EQ(Run({"ttl", "k"}), -1);
}

TEST_F(DumpFamilyTest, AnExpiredKeyIsNotBusy) {
  Run({"set", "k", "old", "px", "10"});
  AdvanceMs(10);
  EXPECT_EQ(Run({"restore", "k", "0", kHelloPayload}), "OK");
  EXPECT_EQ(Run({"get", "k"}), "hello");
}

// --- IDLETIME and FREQ
// ----------------------------------------------------------------------------

TEST_F(DumpFamilyTest, IdletimeDatesTheLastAccess) {
  EXPECT_EQ(Run({"restore", "k", "0", kHelloPayload, "IDLETIME", "1000"}), "OK");
  EXPECT_EQ(Run({"object", "idletime", "k"}), 1000);
  AdvanceMs(5000);
  EXPECT_EQ(Run({"object", "idletime", "k"}), 1005);
  // Larger than the 24-bit clock: it wraps as Redis's does (the product by 1000 wraps too).
  EXPECT_EQ(Run({"restore", "w", "0", kHelloPayload, "IDLETIME", "9223372036854775807"}), "OK");
  EXPECT_EQ(Run({"object", "idletime", "w"}), (1 << 24) - 2);
  // Without IDLETIME the key was just accessed.
  EXPECT_EQ(Run({"restore", "n", "0", kHelloPayload}), "OK");
  EXPECT_EQ(Run({"object", "idletime", "n"}), 0);
}

TEST_F(DumpFamilyTest, FreqIsValidatedAndIgnoredWithoutAnLfuPolicy) {
  EXPECT_EQ(Run({"restore", "k", "0", kHelloPayload, "FREQ", "200"}), "OK");
  EXPECT_THAT(Run({"object", "freq", "k"}),
              ErrorStartsWith("ERR An LFU maxmemory policy is not selected"));
  EXPECT_EQ(Run({"object", "idletime", "k"}), 0);
}

// --- A write like any other -------------------------------------------------------------------

TEST_F(DumpFamilyTest, RestoreTouchesWatchedKeys) {
  Run({"watch", "k"});
  EXPECT_EQ(Run("other", {"restore", "k", "0", kHelloPayload}), "OK");
  Run({"multi"});
  Run({"ping"});
  EXPECT_TRUE(Run({"exec"}).is_null());
  // A refused RESTORE does not.
  Run({"watch", "k"});
  EXPECT_TRUE(Run("other", {"restore", "k", "0", kHelloPayload}).is_error());
  Run({"multi"});
  Run({"ping"});
  EXPECT_EQ(Run({"exec"}).size(), 1u);
}

TEST_F(DumpFamilyTest, RestoreFiresItsEventAndCountsOneChange) {
  Run({"config", "set", "notify-keyspace-events", "Eg"});
  Run("sub", {"psubscribe", "__keyevent@0__:*"});
  const int64_t dirty = Dirty();
  EXPECT_EQ(Run({"restore", "k", "0", kHelloPayload}), "OK");
  EXPECT_EQ(Dirty(), dirty + 1);
  EXPECT_EQ(Reply("sub").strings(), (std::vector<std::string>{"pmessage", "__keyevent@0__:*",
                                                              "__keyevent@0__:restore", "k"}));
  EXPECT_EQ(Run({"restore", "k", "1", kHelloPayload, "REPLACE", "ABSTTL"}), "OK");
  EXPECT_EQ(Reply("sub").strings(),
            (std::vector<std::string>{"pmessage", "__keyevent@0__:*", "__keyevent@0__:del", "k"}));
  EXPECT_TRUE(Run({"dump", "k"}).is_null());
  EXPECT_TRUE(Reply("sub").is_none());
}

}  // namespace
}  // namespace keyward::test
