// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, EXPIRETIME, PEXPIRETIME, TTL, PTTL, PERSIST. Expected
// replies, errors and propagated forms were checked against Redis 7.0.15 (its AOF).
#include <string>
#include <vector>

#include "tests/support/command_test.h"

namespace keyward::test {
namespace {

using ::testing::IsEmpty;
using Commands = std::vector<std::vector<std::string>>;

class ExpireFamilyTest : public CommandTest {
 protected:
  Commands Propagated() { return TakePropagated(); }
  int64_t Now() { return server().now_ms(); }
  std::string At(int64_t offset_ms) { return std::to_string(Now() + offset_ms); }
};

// --- EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT ----------------------------------------------------

TEST_F(ExpireFamilyTest, ExpireSetsATimeToLive) {
  Run({"set", "k", "v"});
  EXPECT_EQ(Run({"expire", "k", "10"}), 1);
  EXPECT_EQ(Run({"ttl", "k"}), 10);
  EXPECT_EQ(Run({"pttl", "k"}), 10000);
  AdvanceMs(9999);
  EXPECT_EQ(Run({"get", "k"}), "v");
  EXPECT_EQ(Run({"pttl", "k"}), 1);
  AdvanceMs(1);
  EXPECT_TRUE(Run({"get", "k"}).is_null());
  EXPECT_EQ(Run({"ttl", "k"}), -2);
}

TEST_F(ExpireFamilyTest, ExpireOnMissingKey) {
  EXPECT_EQ(Run({"expire", "nokey", "10"}), 0);
  EXPECT_EQ(Run({"pexpire", "nokey", "10"}), 0);
  EXPECT_EQ(Run({"expireat", "nokey", "10"}), 0);
  EXPECT_EQ(Run({"pexpireat", "nokey", "10"}), 0);
  EXPECT_EQ(Run({"expire", "nokey", "-10"}), 0);
  EXPECT_THAT(Propagated(), IsEmpty());
}

TEST_F(ExpireFamilyTest, ExpireReplacesTheDeadline) {
  Run({"set", "k", "v"});
  Run({"expire", "k", "100"});
  EXPECT_EQ(Run({"pexpire", "k", "500"}), 1);
  EXPECT_EQ(Run({"pttl", "k"}), 500);
  EXPECT_EQ(Run({"expire", "k", "1000"}), 1);
  EXPECT_EQ(Run({"ttl", "k"}), 1000);
  EXPECT_EQ(server().keyspace().db(0).expires_count(), 1u);
}

TEST_F(ExpireFamilyTest, AbsoluteForms) {
  Run({"set", "k", "v"});
  int64_t at_s = Now() / 1000 + 50;
  EXPECT_EQ(Run({"expireat", "k", std::to_string(at_s)}), 1);
  EXPECT_EQ(Run({"expiretime", "k"}), at_s);
  EXPECT_EQ(Run({"pexpiretime", "k"}), at_s * 1000);
  EXPECT_EQ(Run({"pexpireat", "k", At(1234)}), 1);
  EXPECT_EQ(Run({"pexpiretime", "k"}), Now() + 1234);
  EXPECT_EQ(Run({"pttl", "k"}), 1234);
}

TEST_F(ExpireFamilyTest, TtlRoundsToTheNearestSecond) {
  Run({"set", "k", "v"});
  Run({"pexpire", "k", "1500"});
  EXPECT_EQ(Run({"ttl", "k"}), 2);
  AdvanceMs(1);
  EXPECT_EQ(Run({"ttl", "k"}), 1);  // 1499 ms
  AdvanceMs(1000);
  EXPECT_EQ(Run({"ttl", "k"}), 0);  // 499 ms
  EXPECT_EQ(Run({"pttl", "k"}), 499);
}

TEST_F(ExpireFamilyTest, ExpireTimeRoundsToTheNearestSecond) {
  Run({"set", "k", "v"});
  int64_t base = (Now() / 1000 + 10) * 1000;
  Run({"pexpireat", "k", std::to_string(base + 499)});
  EXPECT_EQ(Run({"expiretime", "k"}), base / 1000);
  Run({"pexpireat", "k", std::to_string(base + 500)});
  EXPECT_EQ(Run({"expiretime", "k"}), base / 1000 + 1);
}

TEST_F(ExpireFamilyTest, TtlOfMissingAndPersistentKeys) {
  EXPECT_EQ(Run({"ttl", "nokey"}), -2);
  EXPECT_EQ(Run({"pttl", "nokey"}), -2);
  EXPECT_EQ(Run({"expiretime", "nokey"}), -2);
  EXPECT_EQ(Run({"pexpiretime", "nokey"}), -2);
  Run({"set", "k", "v"});
  EXPECT_EQ(Run({"ttl", "k"}), -1);
  EXPECT_EQ(Run({"pttl", "k"}), -1);
  EXPECT_EQ(Run({"expiretime", "k"}), -1);
  EXPECT_EQ(Run({"pexpiretime", "k"}), -1);
  EXPECT_THAT(Run({"ttl"}), ErrorIs("ERR wrong number of arguments for 'ttl' command"));
  EXPECT_THAT(Run({"pttl", "a", "b"}), ErrorIs("ERR wrong number of arguments for 'pttl' command"));
  EXPECT_THAT(Run({"expiretime"}),
              ErrorIs("ERR wrong number of arguments for 'expiretime' command"));
  EXPECT_THAT(Run({"pexpiretime"}),
              ErrorIs("ERR wrong number of arguments for 'pexpiretime' command"));
}

TEST_F(ExpireFamilyTest, TtlCountsHitsAndMisses) {
  Run({"set", "k", "v"});
  auto& stats = server().keyspace().stats();
  uint64_t hits = stats.hits, misses = stats.misses;
  Run({"ttl", "k"});
  Run({"pttl", "nokey"});
  Run({"expiretime", "k"});
  EXPECT_EQ(stats.hits, hits + 2);
  EXPECT_EQ(stats.misses, misses + 1);
}

// --- Deadlines in the past ----------------------------------------------------------------------

TEST_F(ExpireFamilyTest, PastDeadlineDeletesAndPropagatesDel) {
  for (std::vector<std::string> cmd :
       std::vector<std::vector<std::string>>{{"expire", "k", "-1"},
                                             {"expire", "k", "0"},
                                             {"pexpire", "k", "0"},
                                             {"pexpire", "k", "-9223372036854775808"},
                                             {"expireat", "k", "1"},
                                             {"expireat", "k", "-100"},
                                             {"pexpireat", "k", "0"}}) {
    Run({"set", "k", "v"});
    Propagated();
    EXPECT_EQ(Run(cmd), 1) << cmd[0] << " " << cmd[2];
    EXPECT_EQ(Run({"exists", "k"}), 0);
    EXPECT_EQ(server().keyspace().db(0).size(), 0u);  // deleted, not left to expire
    EXPECT_EQ(Propagated(), (Commands{{"DEL", "k"}})) << cmd[0] << " " << cmd[2];
  }
}

TEST_F(ExpireFamilyTest, DeadlineEqualToNowDeletes) {
  Run({"set", "k", "v"});
  EXPECT_EQ(Run({"pexpireat", "k", At(0)}), 1);
  EXPECT_EQ(server().keyspace().db(0).size(), 0u);
  Run({"set", "k", "v"});
  EXPECT_EQ(Run({"pexpireat", "k", At(1)}), 1);
  EXPECT_EQ(Run({"pttl", "k"}), 1);
}

TEST_F(ExpireFamilyTest, PastDeadlineOnReplicaIsStoredNotDeleted) {
  // A replica waits for the master's DEL: the key stays, logically expired.
  Run({"set", "k", "v"});
  Run({"set", "j", "v"});
  server().keyspace().set_expire_disabled(true);
  EXPECT_EQ(Run({"pexpireat", "k", At(-10)}), 1);
  EXPECT_EQ(Run({"expireat", "j", "-5"}), 1);
  EXPECT_EQ(Run({"dbsize"}), 2);
  EXPECT_EQ(Run({"exists", "k", "j"}), 0);
  server().keyspace().set_expire_disabled(false);
  EXPECT_EQ(Run({"exists", "k", "j"}), 0);
  EXPECT_EQ(Run({"dbsize"}), 0);
}

// --- Overflow ------------------------------------------------------------------------------------

TEST_F(ExpireFamilyTest, OverflowIsAnError) {
  Run({"set", "k", "v"});
  EXPECT_THAT(Run({"expire", "k", "9223372036854776"}),
              ErrorIs("ERR invalid expire time in 'expire' command"));
  EXPECT_THAT(Run({"expire", "k", "-9223372036854776"}),
              ErrorIs("ERR invalid expire time in 'expire' command"));
  // Fits in ms, but not once now is added.
  EXPECT_THAT(Run({"expire", "k", "9223372036854775"}),
              ErrorIs("ERR invalid expire time in 'expire' command"));
  EXPECT_THAT(Run({"pexpire", "k", "9223372036854775807"}),
              ErrorIs("ERR invalid expire time in 'pexpire' command"));
  EXPECT_THAT(Run({"expireat", "k", "9223372036854776"}),
              ErrorIs("ERR invalid expire time in 'expireat' command"));
  EXPECT_THAT(Run({"EXPIREAT", "k", "-9223372036854776"}),
              ErrorIs("ERR invalid expire time in 'expireat' command"));
  EXPECT_EQ(Run({"ttl", "k"}), -1);
  EXPECT_EQ(Propagated(), (Commands{{"set", "k", "v"}}));
}

TEST_F(ExpireFamilyTest, ExtremeDeadlines) {
  Run({"set", "k", "v"});
  EXPECT_EQ(Run({"expireat", "k", "9223372036854775"}), 1);
  EXPECT_EQ(Run({"expiretime", "k"}), 9223372036854775);
  EXPECT_EQ(Run({"pexpiretime", "k"}), 9223372036854775000);
  EXPECT_EQ(Run({"pexpireat", "k", "9223372036854775807"}), 1);
  EXPECT_EQ(Run({"pexpiretime", "k"}), 9223372036854775807);
  // (ms + 500) / 1000 computed without overflowing.
  EXPECT_EQ(Run({"expiretime", "k"}), 9223372036854776);
  EXPECT_EQ(Run({"pttl", "k"}), 9223372036854775807 - Now());
  EXPECT_EQ(Run({"pexpire", "k", std::to_string(9223372036854775807 - Now())}), 1);
  EXPECT_EQ(Run({"pexpiretime", "k"}), 9223372036854775807);
}

TEST_F(ExpireFamilyTest, NotAnInteger) {
  Run({"set", "k", "v"});
  for (const char* bad : {"abc", "1.5", "", " 1", "1 ", "+1", "9223372036854775808"}) {
    EXPECT_THAT(Run({"expire", "k", bad}), ErrorIs("ERR value is not an integer or out of range"))
        << bad;
  }
  EXPECT_THAT(Run({"pexpireat", "k", "x"}), ErrorIs("ERR value is not an integer or out of range"));
  EXPECT_THAT(Run({"expire", "k"}), ErrorIs("ERR wrong number of arguments for 'expire' command"));
  EXPECT_THAT(Run({"pexpire", "k"}),
              ErrorIs("ERR wrong number of arguments for 'pexpire' command"));
  EXPECT_THAT(Run({"expireat"}), ErrorIs("ERR wrong number of arguments for 'expireat' command"));
  EXPECT_THAT(Run({"pexpireat", "k"}),
              ErrorIs("ERR wrong number of arguments for 'pexpireat' command"));
}

// --- NX / XX / GT / LT --------------------------------------------------------------------------

TEST_F(ExpireFamilyTest, Nx) {
  Run({"set", "k", "v"});
  EXPECT_EQ(Run({"expire", "k", "100", "nx"}), 1);
  EXPECT_EQ(Run({"expire", "k", "200", "NX"}), 0);
  EXPECT_EQ(Run({"ttl", "k"}), 100);
}

TEST_F(ExpireFamilyTest, Xx) {
  Run({"set", "k", "v"});
  EXPECT_EQ(Run({"expire", "k", "100", "xx"}), 0);
  EXPECT_EQ(Run({"ttl", "k"}), -1);
  Run({"expire", "k", "100"});
  EXPECT_EQ(Run({"expire", "k", "200", "XX"}), 1);
  EXPECT_EQ(Run({"ttl", "k"}), 200);
}

TEST_F(ExpireFamilyTest, Gt) {
  Run({"set", "k", "v"});
  EXPECT_EQ(Run({"expire", "k", "100", "gt"}), 0);  // no deadline counts as infinite
  EXPECT_EQ(Run({"ttl", "k"}), -1);
  Run({"expire", "k", "100"});
  EXPECT_EQ(Run({"expire", "k", "50", "gt"}), 0);
  EXPECT_EQ(Run({"expire", "k", "100", "gt"}), 0);  // equal is not greater
  EXPECT_EQ(Run({"expire", "k", "150", "GT"}), 1);
  EXPECT_EQ(Run({"ttl", "k"}), 150);
  EXPECT_EQ(Run({"expire", "k", "200", "gt", "xx"}), 1);
}

TEST_F(ExpireFamilyTest, Lt) {
  Run({"set", "k", "v"});
  EXPECT_EQ(Run({"expire", "k", "100", "lt"}), 1);  // anything is less than infinite
  EXPECT_EQ(Run({"expire", "k", "150", "lt"}), 0);
  EXPECT_EQ(Run({"expire", "k", "100", "lt"}), 0);  // equal is not less
  EXPECT_EQ(Run({"expire", "k", "50", "LT"}), 1);
  EXPECT_EQ(Run({"ttl", "k"}), 50);
  EXPECT_EQ(Run({"expire", "k", "40", "lt", "xx"}), 1);
  EXPECT_EQ(Run({"ttl", "k"}), 40);
  // A past deadline that passes the condition deletes; one that fails it does nothing.
  EXPECT_EQ(Run({"expire", "k", "-1", "gt"}), 0);
  EXPECT_EQ(Run({"exists", "k"}), 1);
  EXPECT_EQ(Run({"expire", "k", "-1", "lt"}), 1);
  EXPECT_EQ(Run({"exists", "k"}), 0);
}

TEST_F(ExpireFamilyTest, RepeatedOptionIsAccepted) {
  Run({"set", "k", "v"});
  EXPECT_EQ(Run({"expire", "k", "10", "nx", "nx"}), 1);
  EXPECT_EQ(Run({"expire", "k", "20", "gt", "GT", "xx"}), 1);
}

TEST_F(ExpireFamilyTest, IncompatibleOptions) {
  Run({"set", "k", "v"});
  const char* kNxMsg = "ERR NX and XX, GT or LT options at the same time are not compatible";
  const char* kGtLtMsg = "ERR GT and LT options at the same time are not compatible";
  EXPECT_THAT(Run({"expire", "k", "10", "nx", "xx"}), ErrorIs(kNxMsg));
  EXPECT_THAT(Run({"expire", "k", "10", "nx", "gt"}), ErrorIs(kNxMsg));
  EXPECT_THAT(Run({"pexpire", "k", "10", "lt", "nx"}), ErrorIs(kNxMsg));
  EXPECT_THAT(Run({"expireat", "k", "10", "gt", "lt"}), ErrorIs(kGtLtMsg));
  EXPECT_THAT(Run({"pexpireat", "k", "10", "xx", "gt", "lt"}), ErrorIs(kGtLtMsg));
  EXPECT_THAT(Run({"expire", "k", "10", "nx", "gt", "lt"}), ErrorIs(kNxMsg));
  // Options are checked before the time and before the key.
  EXPECT_THAT(Run({"expire", "nokey", "abc", "nx", "xx"}), ErrorIs(kNxMsg));
  EXPECT_EQ(Run({"ttl", "k"}), -1);
}

TEST_F(ExpireFamilyTest, UnsupportedOption) {
  Run({"set", "k", "v"});
  EXPECT_THAT(Run({"expire", "k", "10", "foo"}), ErrorIs("ERR Unsupported option foo"));
  EXPECT_THAT(Run({"expire", "k", "abc", "foo"}), ErrorIs("ERR Unsupported option foo"));
  EXPECT_THAT(Run({"pexpire", "k", "10", "nx", "Bar"}), ErrorIs("ERR Unsupported option Bar"));
  EXPECT_THAT(Run({"expire", "k", "10", "a\r\nb"}), ErrorIs("ERR Unsupported option a  b"));
  EXPECT_EQ(Run({"ttl", "k"}), -1);
}

// --- Propagation ---------------------------------------------------------------------------------

TEST_F(ExpireFamilyTest, RelativeFormsPropagateAsPexpireat) {
  Run({"set", "k", "v"});
  Propagated();
  std::string in10s = At(10000), in11s = At(11000);
  EXPECT_EQ(Run({"expire", "k", "10"}), 1);
  EXPECT_EQ(Run({"pexpire", "k", "11000", "gt"}), 1);
  AdvanceMs(5);
  EXPECT_EQ(Run({"PEXPIRE", "k", "20000", "XX"}), 1);
  std::string in20s = At(20000);
  EXPECT_EQ(Run({"expireat", "k", "99999999999"}), 1);
  EXPECT_EQ(Run({"pexpireat", "k", "99999999999000"}), 1);
  EXPECT_EQ(Run({"PExpireAt", "k", "99999999999001", "nx"}), 0);  // nothing to propagate
  Run({"set", "j", "v"});
  EXPECT_EQ(Run({"PExpireAt", "j", "99999999999001", "nx"}), 1);  // kept as received
  EXPECT_EQ(Propagated(), (Commands{
                              {"PEXPIREAT", "k", in10s},
                              {"PEXPIREAT", "k", in11s, "gt"},
                              {"PEXPIREAT", "k", in20s, "XX"},
                              {"PEXPIREAT", "k", "99999999999000"},
                              {"pexpireat", "k", "99999999999000"},
                              {"set", "j", "v"},
                              {"PExpireAt", "j", "99999999999001", "nx"},
                          }));
}

TEST_F(ExpireFamilyTest, NothingPropagatedWhenNothingChanged) {
  Run({"set", "k", "v"});
  Run({"expire", "k", "100"});
  Propagated();
  Run({"expire", "k", "10", "nx"});
  Run({"expire", "k", "10", "gt"});
  Run({"expire", "nokey", "10"});
  Run({"persist", "nokey"});
  Run({"ttl", "k"});
  EXPECT_THAT(Propagated(), IsEmpty());
}

TEST_F(ExpireFamilyTest, LazyExpiryPropagatesDel) {
  Run({"set", "k", "v"});
  Run({"pexpire", "k", "10"});
  Propagated();
  AdvanceMs(10);
  EXPECT_EQ(Run({"ttl", "k"}), -2);
  EXPECT_EQ(Propagated(), (Commands{{"DEL", "k"}}));
  EXPECT_EQ(server().keyspace().stats().expired, 1u);
}

TEST_F(ExpireFamilyTest, ActiveExpiryDeletesInDeadlineOrder) {
  for (int i = 0; i < 10; i++) {
    std::string k = "k" + std::to_string(i);
    Run({"set", k, "v"});
    Run({"pexpire", k, std::to_string(100 * (10 - i))});  // k9 first, k0 last
  }
  Propagated();
  AdvanceMs(350);
  server().RunCron();
  EXPECT_EQ(Propagated(), (Commands{{"DEL", "k9"}, {"DEL", "k8"}, {"DEL", "k7"}}));
  EXPECT_EQ(Run({"dbsize"}), 7);
  AdvanceMs(1000);
  server().RunCron();
  EXPECT_EQ(Run({"dbsize"}), 0);
}

TEST_F(ExpireFamilyTest, ExpireOnExpiredKeyIsZero) {
  Run({"set", "k", "v"});
  Run({"pexpire", "k", "10"});
  AdvanceMs(10);
  Propagated();
  EXPECT_EQ(Run({"expire", "k", "100"}), 0);
  EXPECT_EQ(Propagated(), (Commands{{"DEL", "k"}}));  // the lazy expiry only
}

// --- PERSIST -------------------------------------------------------------------------------------

TEST_F(ExpireFamilyTest, Persist) {
  Run({"set", "k", "v"});
  Propagated();
  EXPECT_EQ(Run({"persist", "k"}), 0);
  EXPECT_EQ(Run({"persist", "nokey"}), 0);
  EXPECT_THAT(Propagated(), IsEmpty());
  Run({"expire", "k", "10"});
  Propagated();
  EXPECT_EQ(Run({"persist", "k"}), 1);
  EXPECT_EQ(Run({"ttl", "k"}), -1);
  EXPECT_EQ(server().keyspace().db(0).expires_count(), 0u);
  EXPECT_EQ(Propagated(), (Commands{{"persist", "k"}}));
  AdvanceMs(20000);
  EXPECT_EQ(Run({"get", "k"}), "v");
  EXPECT_EQ(Run({"persist", "k"}), 0);
  EXPECT_THAT(Run({"persist"}), ErrorIs("ERR wrong number of arguments for 'persist' command"));
}

TEST_F(ExpireFamilyTest, PersistKeepsValueAndEncoding) {
  Run({"set", "r", std::string(100, 'x')});
  Run({"set", "i", "42"});
  Run({"expire", "r", "10"});
  Run({"expire", "i", "10"});
  EXPECT_EQ(Run({"persist", "r"}), 1);
  EXPECT_EQ(Run({"persist", "i"}), 1);
  EXPECT_EQ(Run({"get", "r"}), std::string(100, 'x'));
  EXPECT_EQ(Run({"object", "encoding", "r"}), "raw");
  EXPECT_EQ(Run({"object", "encoding", "i"}), "int");
  EXPECT_EQ(Run({"get", "i"}), "42");
}

TEST_F(ExpireFamilyTest, DirtyCounter) {
  Run({"set", "k", "v"});
  uint64_t dirty = server().propagation().dirty();
  Run({"expire", "k", "10"});
  Run({"expire", "k", "5", "gt"});
  Run({"persist", "k"});
  Run({"expire", "k", "-1"});
  EXPECT_EQ(server().propagation().dirty(), dirty + 3);
}

}  // namespace
}  // namespace keyward::test
