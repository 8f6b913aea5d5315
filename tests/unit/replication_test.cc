// Replication's in-process parts: the backlog against a model of the stream, the wire form of
// Keyward's records, the role commands, and fencing across a promotion (the epoch, the promotion
// delay, the stream records a replay applies). The protocol with real servers, both ways with
// redis-server, is tests/integration/test_replication.py.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "server/engine/propagation.h"
#include "server/protocol/request_parser.h"
#include "server/replication/backlog.h"
#include "server/replication/stream_form.h"
#include "tests/support/command_test.h"

namespace keyward {
namespace {

// The backlog holds the newest min(size, total) bytes of the stream, whatever the sizes of the
// appends and the resizes in between; From(offset) gives exactly the stream's bytes from there.
TEST(ReplicationBacklogTest, HoldsTheNewestBytesOfTheStream) {
  for (uint64_t seed = 1; seed <= 20; seed++) {
    std::mt19937_64 rng(seed);
    std::string stream;  // the whole stream so far
    ReplicationBacklog backlog;
    const int64_t start = static_cast<int64_t>(rng() % 1000);  // the offset it was created at
    size_t size = 1 + rng() % 200;
    backlog.Create(start, size);
    for (int op = 0; op < 300; op++) {
      if (rng() % 10 == 0) {
        size = 1 + rng() % 200;
        backlog.Resize(size);
        // A resize keeps what fits of what was there.
        const size_t had = static_cast<size_t>(backlog.histlen());
        ASSERT_LE(had, size);
      } else {
        std::string bytes(rng() % 250, '\0');
        for (char& c : bytes) c = static_cast<char>('a' + rng() % 26);
        stream += bytes;
        backlog.Append(bytes);
      }
      const int64_t end = start + static_cast<int64_t>(stream.size());  // the stream's offset
      const int64_t held = backlog.histlen();
      ASSERT_LE(static_cast<size_t>(held), size);
      ASSERT_EQ(backlog.first_byte_offset(), end - held + 1);
      // Every offset it covers gives the stream's bytes from there to the end.
      ASSERT_TRUE(backlog.Covers(end + 1));
      ASSERT_FALSE(backlog.Covers(backlog.first_byte_offset() - 1));
      ASSERT_FALSE(backlog.Covers(end + 2));
      for (int probe = 0; probe < 3; probe++) {
        const int64_t from = backlog.first_byte_offset() +
                             static_cast<int64_t>(rng() % static_cast<uint64_t>(held + 1));
        ASSERT_EQ(backlog.From(from), stream.substr(static_cast<size_t>(from - start - 1)))
            << "seed " << seed << " op " << op;
      }
    }
  }
}

TEST(ReplicationBacklogTest, AnAppendLargerThanTheBacklogKeepsItsEnd) {
  ReplicationBacklog backlog;
  backlog.Create(10, 4);
  backlog.Append("abcdefgh");
  EXPECT_EQ(backlog.histlen(), 4);
  EXPECT_EQ(backlog.first_byte_offset(), 15);  // offsets 11..18, the last four kept
  EXPECT_EQ(backlog.From(15), "efgh");
  backlog.Free();
  EXPECT_FALSE(backlog.active());
  EXPECT_EQ(backlog.first_byte_offset(), 0);
  EXPECT_FALSE(backlog.Covers(15));
}

// Keyward's records cross Redis replicas as ECHO, and come back as themselves.
TEST(ReplicationStreamFormTest, RecordsTravelAsEchoAndUnwrap) {
  const Argv record{"LOCK.RECORD", "res", "7", "0", "owner", "7"};
  const std::string wire = ReplicationForm(record);
  RequestParser parser;
  ASSERT_EQ(parser.Parse(wire), RequestParser::Status::kOk);
  ASSERT_EQ(parser.args().size(), 2u);
  EXPECT_EQ(parser.args()[0], "ECHO");
  auto unwrapped = UnwrapRecord(parser.args());
  ASSERT_TRUE(unwrapped.has_value());
  EXPECT_EQ(*unwrapped, record);
  // Anything else goes as it is, and a client's ECHO is only an ECHO.
  EXPECT_EQ(ReplicationForm({"SET", "k", "v"}), EncodeCommand({"SET", "k", "v"}));
  std::vector<std::string_view> echo{"ECHO", "hello"};
  EXPECT_FALSE(UnwrapRecord(echo).has_value());
  // A marker followed by something that is not a record is not one either.
  const std::string sneaky = std::string(kRecordMarker) + EncodeCommand({"FLUSHALL"});
  std::vector<std::string_view> fake{"ECHO", sneaky};
  EXPECT_FALSE(UnwrapRecord(fake).has_value());
  const std::string broken = std::string(kRecordMarker) + "*2\r\n$4\r\nLOCK";
  std::vector<std::string_view> cut{"ECHO", broken};
  EXPECT_FALSE(UnwrapRecord(cut).has_value());
}

class ReplicationCommandTest : public test::CommandTest {
 protected:
  int64_t FencedToken(const std::string& resource, const std::string& owner, int64_t ttl) {
    test::Resp r = Run({"lock.acquire", resource, owner, std::to_string(ttl), "FENCE"});
    EXPECT_EQ(r.type, test::Resp::Type::kArray) << r;
    if (r.type != test::Resp::Type::kArray) return -1;
    EXPECT_EQ(r[0].integer, 1) << r;
    return r[1].integer;
  }
};

TEST_F(ReplicationCommandTest, ReplicaOfMakesTheServerAReadOnlyReplica) {
  // Nothing listens here: the link stays down, which is all the role needs.
  EXPECT_EQ(Run({"replicaof", "127.0.0.1", "1"}).str, "OK");
  EXPECT_EQ(Run({"replicaof", "127.0.0.1", "1"}).str, "OK Already connected to specified master");
  EXPECT_EQ(Run({"set", "k", "v"}).str, "READONLY You can't write against a read only replica.");
  test::Resp role = Run({"role"});
  ASSERT_EQ(role.elems.size(), 5u);
  EXPECT_EQ(role[0].str, "slave");
  EXPECT_EQ(role[1].str, "127.0.0.1");
  EXPECT_EQ(role[2].integer, 1);
  EXPECT_EQ(role[4].integer, -1);  // no master client
  EXPECT_EQ(Run({"config", "get", "replicaof"})[1].str, "127.0.0.1 1");
  EXPECT_EQ(Run({"wait", "0", "0"}).type, test::Resp::Type::kError);
  // replica-serve-stale-data no: with the link down only stale-flagged commands run.
  EXPECT_EQ(Run({"config", "set", "replica-serve-stale-data", "no"}).str, "OK");
  EXPECT_EQ(Run({"get", "k"}).str,
            "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.");
  // PING is not flagged stale in Redis 7.0 either (Sentinel counts -MASTERDOWN as an answer).
  EXPECT_EQ(Run({"ping"}).str,
            "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.");
  EXPECT_NE(Run({"info", "replication"}).str.find("master_link_status:down"), std::string::npos);
  // Scripts as Redis's scriptPrepareForRun: without a shebang never, declared ones only with
  // allow-stale, and then only stale-flagged commands.
  EXPECT_EQ(Run({"eval", "return 1", "0"}).str,
            "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.");
  EXPECT_EQ(Run({"eval", "#!lua flags=no-writes\nreturn 1", "0"}).str,
            "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.");
  EXPECT_EQ(Run({"eval", "#!lua flags=no-writes,allow-stale\nreturn 1", "0"}).integer, 1);
  test::Resp stale =
      Run({"eval", "#!lua flags=no-writes,allow-stale\nreturn redis.call('get','k')", "0"});
  EXPECT_EQ(stale.str.rfind("ERR Can not execute the command on a stale replica", 0), 0u)
      << stale.str;
  EXPECT_EQ(Run({"replicaof", "no", "one"}).str, "OK");
  EXPECT_EQ(Run({"set", "k", "v"}).str, "OK");
  EXPECT_EQ(Run({"config", "get", "replicaof"})[1].str, "");
}

TEST_F(ReplicationCommandTest, PromotionShiftsTheReplicationId) {
  test::Resp info = Run({"info", "replication"});
  const std::string before = info.str;
  const auto field = [](const std::string& text, const std::string& name) {
    const size_t at = text.find(name + ":");
    return text.substr(at + name.size() + 1, text.find("\r\n", at) - at - name.size() - 1);
  };
  const std::string replid = field(before, "master_replid");
  Run({"replicaof", "127.0.0.1", "1"});
  Run({"replicaof", "no", "one"});
  const std::string after = Run({"info", "replication"}).str;
  EXPECT_EQ(field(after, "role"), "master");
  EXPECT_EQ(field(after, "master_replid2"), replid);
  EXPECT_NE(field(after, "master_replid"), replid);
  EXPECT_EQ(field(after, "second_repl_offset"), "1");  // the offset (0) + 1
}

// A promotion starts an epoch: every later token is above every earlier one by the gap, and no
// lock is granted during the promotion delay (the longest lease granted, by default).
TEST_F(ReplicationCommandTest, PromotionRaisesEveryCounterAndHoldsLocksBack) {
  const int64_t a = FencedToken("a", "o1", 5000);
  const int64_t b = FencedToken("b", "o1", 20000);  // the longest lease: 20 s
  const int64_t highest = std::max(a, b);
  EXPECT_EQ(Run({"lock.release", "a", "o1"}).integer, 1);
  Run({"replicaof", "127.0.0.1", "1"});
  Run({"replicaof", "no", "one"});
  const int64_t gap = int64_t{1} << 32;
  // During the delay: refused with the option's name, SET NX too.
  test::Resp refused = Run({"lock.acquire", "a", "o2", "1000", "FENCE"});
  ASSERT_EQ(refused.type, test::Resp::Type::kError) << refused;
  EXPECT_NE(refused.str.find("(lock-promotion-delay)"), std::string::npos) << refused.str;
  EXPECT_EQ(Run({"set", "c", "x", "NX"}).type, test::Resp::Type::kNull);
  EXPECT_EQ(Run({"set", "d", "x"}).str, "OK");  // other writes go on
  AdvanceMs(20001);
  // Both the resource it knew and one it never saw start above the highest counter + gap.
  EXPECT_GT(FencedToken("a", "o2", 1000), highest + gap);
  EXPECT_GT(FencedToken("never-seen", "o2", 1000), highest + gap);
  // A second promotion raises the epoch again.
  Run({"replicaof", "127.0.0.1", "1"});
  Run({"replicaof", "no", "one"});
  AdvanceMs(20001);
  EXPECT_GT(FencedToken("e", "o3", 1000), highest + 2 * gap);
}

TEST_F(ReplicationCommandTest, PromotionDelayCanBeSetAndTheGapTuned) {
  Run({"config", "set", "lock-promotion-delay", "0"});
  Run({"config", "set", "lock-promotion-token-gap", "1000"});
  const int64_t t = FencedToken("r", "o", 60000);
  EXPECT_EQ(Run({"lock.release", "r", "o"}).integer, 1);
  Run({"replicaof", "127.0.0.1", "1"});
  Run({"replicaof", "no", "one"});
  EXPECT_EQ(FencedToken("r", "o2", 1000), t + 1000 + 1);
}

TEST_F(ReplicationCommandTest, FenceReplicasTimesOutWithoutReplicas) {
  Run({"config", "set", "lock-fence-replicas", "1"});
  Run({"config", "set", "lock-fence-timeout", "500"});
  Send(EncodeCommand({"lock.acquire", "r", "o", "10000", "FENCE"}));
  EXPECT_TRUE(IsBlocked());
  AdvanceMs(501);
  test::Resp r = Reply();
  ASSERT_EQ(r.type, test::Resp::Type::kError);
  EXPECT_EQ(r.str,
            "NOREPLICAS fencing record acknowledged by 0 of 1 replicas within lock-fence-timeout");
  // The lock was taken all the same (the token is simply never handed out).
  EXPECT_EQ(Run({"get", "r"}).str, "o");
}

TEST_F(ReplicationCommandTest, FenceReplicasHoldsAWaiterGrantedLater) {
  // The holder took the lock before lock-fence-replicas was set: its answer was immediate.
  EXPECT_EQ(Run("holder", {"lock.acquire", "r", "h", "10000"})[0].integer, 1);
  Run({"config", "set", "lock-fence-replicas", "1"});
  Run({"config", "set", "lock-fence-timeout", "500"});
  Send(EncodeCommand({"lock.acquire", "r", "w", "10000", "WAIT", "0", "FENCE"}), "waiter");
  EXPECT_TRUE(IsBlocked("waiter"));
  EXPECT_EQ(Run("holder", {"lock.release", "r", "h"}).integer, 1);
  // The waiter has the lock now, but its fenced answer waits for a replica's ACK: no reply,
  // still blocked, until lock-fence-timeout.
  EXPECT_EQ(Run({"get", "r"}).str, "w");
  EXPECT_TRUE(IsBlocked("waiter"));
  EXPECT_EQ(Reply("waiter").type, test::Resp::Type::kNone);
  AdvanceMs(501);
  test::Resp r = Reply("waiter");
  ASSERT_EQ(r.type, test::Resp::Type::kError);
  EXPECT_EQ(r.str,
            "NOREPLICAS fencing record acknowledged by 0 of 1 replicas within lock-fence-timeout");
  EXPECT_FALSE(IsBlocked("waiter"));
  // The connection goes on as usual.
  EXPECT_EQ(Run("waiter", {"lock.release", "r", "w"}).integer, 1);
}

TEST_F(ReplicationCommandTest, AHoldoffOutlastsAPromotionWithoutDelay) {
  // LOCK.HOLDOFF (a master's running delay, sent when a FAILOVER starts): a later promotion,
  // even one that needs no delay of its own, waits it out.
  Run({"config", "set", "lock-promotion-delay", "0"});
  EXPECT_EQ(Run({"lock.holdoff", "1000"}).str, "OK");
  Run({"replicaof", "127.0.0.1", "1"});
  Run({"replicaof", "no", "one"});
  test::Resp refused = Run({"lock.acquire", "r", "o", "5000"});
  ASSERT_EQ(refused.type, test::Resp::Type::kError);
  EXPECT_EQ(refused.str.rfind("RESTARTING lock acquisitions resume in ", 0), 0u) << refused.str;
  AdvanceMs(1001);
  EXPECT_EQ(Run({"lock.acquire", "r", "o", "5000"})[0].integer, 1);
  EXPECT_EQ(Run({"lock.holdoff", "-1"}).str, "ERR value is not an integer or out of range");
}

TEST_F(ReplicationCommandTest, FailoverErrorsAsRedis) {
  EXPECT_EQ(Run({"failover"}).str, "ERR FAILOVER requires connected replicas.");
  EXPECT_EQ(Run({"failover", "abort"}).str, "ERR No failover in progress.");
  EXPECT_EQ(Run({"failover", "timeout", "0"}).str, "ERR FAILOVER timeout must be greater than 0");
  EXPECT_EQ(Run({"failover", "timeout", "x"}).str, "ERR value is not an integer or out of range");
  EXPECT_EQ(Run({"failover", "to", "h", "x"}).str, "ERR value is not an integer or out of range");
  EXPECT_EQ(Run({"failover", "to", "h"}).str, "ERR syntax error");
  EXPECT_EQ(Run({"failover", "force", "force"}).str, "ERR syntax error");
  EXPECT_EQ(Run({"failover", "abort", "timeout", "5"}).str, "ERR syntax error");
  EXPECT_EQ(Run({"psync", "?", "-1", "failover"}).str,
            "ERR PSYNC FAILOVER can't be sent to a master.");
  EXPECT_EQ(Run({"info", "replication"}).str.find("master_failover_state:no-failover") !=
                std::string::npos,
            true);
  Run({"replicaof", "127.0.0.1", "1"});
  EXPECT_EQ(Run({"failover"}).str, "ERR FAILOVER is not valid when server is a replica.");
  EXPECT_EQ(Run({"psync", "0123456789012345678901234567890123456789", "1", "failover"}).str,
            "ERR PSYNC FAILOVER replid must match my replid.");
}

TEST_F(ReplicationCommandTest, ErrorsAsRedis) {
  EXPECT_EQ(Run({"replicaof", "h", "notaport"}).str, "ERR Invalid master port");
  EXPECT_EQ(Run({"replicaof", "h", "70000"}).str, "ERR Invalid master port");
  EXPECT_EQ(Run({"replconf", "foo", "bar"}).str, "ERR Unrecognized REPLCONF option: foo");
  EXPECT_EQ(Run({"replconf", "a"}).str, "ERR syntax error");
  EXPECT_EQ(Run({"replconf", "listening-port", "7000"}).str, "OK");
  EXPECT_EQ(Run({"wait", "x", "0"}).str, "ERR value is not an integer or out of range");
  EXPECT_EQ(Run({"wait", "0", "-1"}).str, "ERR timeout is negative");
  EXPECT_EQ(Run({"wait", "0", "0"}).integer, 0);
  test::Resp role = Run({"role"});
  ASSERT_EQ(role.elems.size(), 3u);
  EXPECT_EQ(role[0].str, "master");
  EXPECT_EQ(role[1].integer, 0);
  EXPECT_TRUE(role[2].elems.empty());
}

}  // namespace
}  // namespace keyward
