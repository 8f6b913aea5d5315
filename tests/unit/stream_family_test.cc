// The stream families in-process: what each write propagates (the forms Redis 7.0 sends to
// replicas and the AOF, which the fixture's replay check then applies to a fresh server), and
// every blocking path of XREAD / XREADGROUP (served in arrival order, one group's entries to one
// reader, timeouts, CLIENT UNBLOCK, a deleted stream or group, MULTI that does not block).
// tests/differential/test_streams.py compares the replies with redis-server byte for byte.
#include <string>
#include <vector>

#include "server/keyspace/stream_value.h"
#include "server/persistence/rdb_codec.h"
#include "tests/support/command_test.h"

namespace keyward::test {
namespace {

using ::testing::ElementsAre;
using Command = std::vector<std::string>;

class StreamFamilyTest : public CommandTest {
 protected:
  std::vector<Command> Propagated() {
    std::vector<Command> out;
    for (const Argv& a : TakePropagated()) out.emplace_back(a.begin(), a.end());
    return out;
  }
  // The IDs of an XRANGE-shaped reply.
  static std::vector<std::string> Ids(const Resp& r) {
    std::vector<std::string> out;
    for (const Resp& e : r.elems) out.push_back(e.elems.at(0).str);
    return out;
  }
};

TEST_F(StreamFamilyTest, XAddPropagatesTheIdItGenerated) {
  const std::string t = std::to_string(clock().NowMs());
  EXPECT_EQ(Run({"xadd", "s", "*", "f", "v"}), t + "-0");
  EXPECT_EQ(Run({"xadd", "s", t + "-*", "f", "v"}), t + "-1");
  EXPECT_EQ(Run({"xadd", "s", "7-1", "f", "v"}).type, Resp::Type::kError);
  EXPECT_EQ(Run({"xadd", "s", "99999999999999-3", "f", "v"}), "99999999999999-3");
  EXPECT_THAT(Propagated(), ElementsAre(Command{"xadd", "s", t + "-0", "f", "v"},
                                        Command{"xadd", "s", t + "-1", "f", "v"},
                                        Command{"xadd", "s", "99999999999999-3", "f", "v"}));
}

TEST_F(StreamFamilyTest, ApproximateTrimsPropagateAsExactOnes) {
  Run({"config", "set", "stream-node-max-entries", "2"});
  for (int i = 1; i <= 7; i++) Run({"xadd", "s", std::to_string(i) + "-0", "f", "v"});
  TakePropagated();
  // Nodes [1 2] [3 4] [5 6] [7 8]: ~ 4 removes whole nodes only while at least 4 stay, and the
  // replica is told the length that is left.
  EXPECT_EQ(Run({"xadd", "s", "MAXLEN", "~", "4", "8-0", "f", "v"}), "8-0");
  EXPECT_EQ(Run({"xlen", "s"}), 4);
  // [5 6] ends before 7: it goes; [7 8] does not. The replica is told the first ID left.
  EXPECT_EQ(Run({"xtrim", "s", "minid", "~", "7"}), 2);
  EXPECT_THAT(Propagated(), ElementsAre(Command{"xadd", "s", "MAXLEN", "=", "4", "8-0", "f", "v"},
                                        Command{"xtrim", "s", "minid", "=", "7-0"}));
  // An exact trim propagates as received; a trim that removes nothing, not at all.
  EXPECT_EQ(Run({"xtrim", "s", "maxlen", "1"}), 1);
  EXPECT_EQ(Run({"xtrim", "s", "maxlen", "~", "1"}), 0);
  EXPECT_THAT(Propagated(), ElementsAre(Command{"xtrim", "s", "maxlen", "1"}));
}

TEST_F(StreamFamilyTest, GroupReadsPropagateAsClaimsAndSetId) {
  const std::string t = std::to_string(clock().NowMs());
  Run({"xadd", "s", "1-0", "a", "1"});
  Run({"xadd", "s", "2-0", "a", "2"});
  Run({"xgroup", "create", "s", "g", "0"});
  TakePropagated();
  Resp r = Run({"xreadgroup", "group", "g", "alice", "streams", "s", ">"});
  ASSERT_EQ(r.elems.size(), 1u);
  EXPECT_THAT(Ids(r.elems[0].elems[1]), ElementsAre("1-0", "2-0"));
  // A command that propagates several is wrapped in MULTI/EXEC, as in Redis 7.0. Each claim's
  // LASTID moves the group; Redis 7.0.15 sends no XGROUP SETID with them.
  EXPECT_THAT(Propagated(),
              ElementsAre(Command{"MULTI"},
                          Command{"XCLAIM", "s", "g", "alice", "0", "1-0", "TIME", t, "RETRYCOUNT",
                                  "1", "FORCE", "JUSTID", "LASTID", "1-0"},
                          Command{"XCLAIM", "s", "g", "alice", "0", "2-0", "TIME", t, "RETRYCOUNT",
                                  "1", "FORCE", "JUSTID", "LASTID", "2-0"},
                          Command{"EXEC"}));
  // NOACK: no pending entry, the consumer's creation and the group's position instead.
  Run({"xadd", "s", "3-0", "a", "3"});
  TakePropagated();
  Run({"xreadgroup", "group", "g", "bob", "noack", "streams", "s", ">"});
  EXPECT_THAT(Propagated(),
              ElementsAre(Command{"MULTI"}, Command{"XGROUP", "CREATECONSUMER", "s", "g", "bob"},
                          Command{"XGROUP", "SETID", "s", "g", "3-0", "ENTRIESREAD", "3"},
                          Command{"EXEC"}));
  // Reading nothing propagates nothing.
  Run({"xreadgroup", "group", "g", "alice", "streams", "s", ">"});
  EXPECT_TRUE(Propagated().empty());
}

TEST_F(StreamFamilyTest, ClaimsOfDeletedEntriesDropThemAndSayWhich) {
  for (int i = 1; i <= 3; i++) Run({"xadd", "s", std::to_string(i) + "-0", "f", "v"});
  Run({"xgroup", "create", "s", "g", "0"});
  Run({"xreadgroup", "group", "g", "alice", "streams", "s", ">"});
  Run({"xdel", "s", "2-0"});
  TakePropagated();
  AdvanceMs(50);
  Resp r = Run({"xautoclaim", "s", "g", "bob", "10", "0", "justid"});
  ASSERT_EQ(r.elems.size(), 3u);
  EXPECT_EQ(r.elems[0], "0-0");
  EXPECT_THAT(r.elems[1].elems, ElementsAre("1-0", "3-0"));
  EXPECT_THAT(r.elems[2].elems, ElementsAre("2-0"));
  std::vector<Command> p = Propagated();
  ASSERT_EQ(p.size(), 5u);  // MULTI, three claims, EXEC
  EXPECT_EQ(p[1][3], "bob");
  EXPECT_EQ(p[2][3], "alice");  // the deleted entry's claim names its owner: the NACK goes
  EXPECT_EQ(p[2][5], "2-0");
  EXPECT_EQ(Run({"xpending", "s", "g"}).elems.at(0), 2);
}

TEST_F(StreamFamilyTest, BlockedReadersAreServedInArrivalOrder) {
  Run({"xadd", "s", "1-0", "f", "v"});
  EXPECT_TRUE(Run("a", {"xread", "block", "0", "streams", "s", "$"}).is_none());
  EXPECT_TRUE(Run("b", {"xread", "block", "0", "streams", "other", "s", "0", "$"}).is_none());
  EXPECT_TRUE(IsBlocked("a"));
  EXPECT_TRUE(IsBlocked("b"));
  EXPECT_EQ(Run({"xadd", "s", "2-0", "f", "w"}), "2-0");
  EXPECT_FALSE(IsBlocked("a"));
  EXPECT_FALSE(IsBlocked("b"));
  // Each gets the stream that woke it and the entries after its ID.
  for (const char* c : {"a", "b"}) {
    Resp r = Reply(c);
    ASSERT_EQ(r.elems.size(), 1u) << c;
    EXPECT_EQ(r.elems[0].elems[0], "s");
    EXPECT_THAT(Ids(r.elems[0].elems[1]), ElementsAre("2-0"));
  }
}

TEST_F(StreamFamilyTest, OneGroupsNewEntryGoesToOneReader) {
  Run({"xgroup", "create", "s", "g", "$", "mkstream"});
  EXPECT_TRUE(
      Run("a", {"xreadgroup", "group", "g", "alice", "block", "0", "streams", "s", ">"}).is_none());
  EXPECT_TRUE(
      Run("b", {"xreadgroup", "group", "g", "bob", "block", "0", "streams", "s", ">"}).is_none());
  TakePropagated();
  Run({"xadd", "s", "1-0", "f", "v"});
  EXPECT_FALSE(IsBlocked("a"));
  EXPECT_TRUE(IsBlocked("b"));  // alice got it; bob waits for the next one
  EXPECT_THAT(Ids(Reply("a").elems.at(0).elems.at(1)), ElementsAre("1-0"));
  // The served read propagates as claims, like a read that did not wait.
  std::vector<Command> p = Propagated();
  ASSERT_EQ(p.size(), 2u);  // the XADD, then the claim that carries the group's position
  EXPECT_EQ(p[1][0], "XCLAIM");
  EXPECT_EQ(p[1][3], "alice");
  EXPECT_EQ(p[1][13], "1-0");
  Run({"xadd", "s", "2-0", "f", "v"});
  EXPECT_FALSE(IsBlocked("b"));
  EXPECT_THAT(Ids(Reply("b").elems.at(0).elems.at(1)), ElementsAre("2-0"));
  Resp pending = Run({"xpending", "s", "g"});
  EXPECT_EQ(pending.elems.at(0), 2);
}

TEST_F(StreamFamilyTest, GoneStreamsAndGroupsEndGroupReadersWaits) {
  Run({"xgroup", "create", "s", "g", "$", "mkstream"});
  Run({"xgroup", "create", "t", "g", "$", "mkstream"});
  EXPECT_TRUE(
      Run("a", {"xreadgroup", "group", "g", "c", "block", "0", "streams", "s", ">"}).is_none());
  EXPECT_TRUE(Run("b", {"xread", "block", "0", "streams", "s", "$"}).is_none());
  EXPECT_TRUE(
      Run("c", {"xreadgroup", "group", "g", "c", "block", "0", "streams", "t", ">"}).is_none());
  EXPECT_EQ(Run({"del", "s"}), 1);
  EXPECT_FALSE(IsBlocked("a"));
  EXPECT_THAT(Reply("a"), ErrorIs("UNBLOCKED the stream key no longer exists"));
  EXPECT_TRUE(IsBlocked("b"));  // a plain reader waits for the key to come back
  EXPECT_EQ(Run({"xgroup", "destroy", "t", "g"}), 1);
  EXPECT_THAT(Reply("c"),
              ErrorIs("NOGROUP the consumer group this client was blocked on no longer exists"));
  EXPECT_EQ(Run({"xadd", "s", "1-0", "f", "v"}), "1-0");
  EXPECT_THAT(Ids(Reply("b").elems.at(0).elems.at(1)), ElementsAre("1-0"));
}

TEST_F(StreamFamilyTest, TimeoutsUnblockAndTransactions) {
  Run({"xadd", "s", "1-0", "f", "v"});
  EXPECT_TRUE(Run("a", {"xread", "block", "100", "streams", "s", "$"}).is_none());
  AdvanceMs(99);
  EXPECT_TRUE(IsBlocked("a"));
  AdvanceMs(2);
  EXPECT_FALSE(IsBlocked("a"));
  EXPECT_EQ(Reply("a").type, Resp::Type::kNullArray);
  EXPECT_TRUE(Run("a", {"xread", "block", "0", "streams", "s", "$"}).is_none());
  const std::string id = std::to_string(client("a").id());
  EXPECT_EQ(Run({"client", "unblock", id, "error"}), 1);
  EXPECT_THAT(Reply("a"), ErrorIs("UNBLOCKED client unblocked via CLIENT UNBLOCK"));
  // In MULTI a read that would block answers as if it timed out.
  EXPECT_EQ(Run("a", {"multi"}), "OK");
  EXPECT_EQ(Run("a", {"xread", "block", "0", "streams", "s", "$"}), "QUEUED");
  Resp exec = Run("a", {"exec"});
  ASSERT_EQ(exec.elems.size(), 1u);
  EXPECT_EQ(exec.elems[0].type, Resp::Type::kNullArray);
  EXPECT_THAT(Run({"xread", "block", "-1", "streams", "s", "$"}),
              ErrorIs("ERR timeout is negative"));
  EXPECT_THAT(Run({"xread", "block", "1.5", "streams", "s", "$"}),
              ErrorIs("ERR timeout is not an integer or out of range"));
}

TEST_F(StreamFamilyTest, XSetIdBelowDeletedEntriesKeepsTheStreamLoadable) {
  // XSETID may move the last ID back below deleted entries (Redis checks live ones only); new
  // entries then go below them, and the stream must still dump, restore and read in order.
  Run({"config", "set", "stream-node-max-entries", "2"});
  Run({"xadd", "s", "1-1", "a", "1"});
  Run({"xadd", "s", "2-2", "a", "2"});
  Run({"xadd", "s", "3-3", "a", "3"});
  EXPECT_EQ(Run({"xdel", "s", "2-2", "3-3"}), 2);
  EXPECT_EQ(Run({"xsetid", "s", "1-5"}), "OK");
  EXPECT_EQ(Run({"xadd", "s", "1-6", "a", "4"}), "1-6");
  EXPECT_EQ(Run({"xadd", "s", "1-7", "a", "5"}), "1-7");
  EXPECT_EQ(Run({"xadd", "s", "4-0", "a", "6"}), "4-0");
  const std::vector<std::string> ids = {"1-1", "1-6", "1-7", "4-0"};
  EXPECT_EQ(Ids(Run({"xrange", "s", "-", "+"})), ids);
  EXPECT_EQ(Run({"restore", "copy", "0", Run({"dump", "s"}).str}), "OK");
  EXPECT_EQ(Ids(Run({"xrange", "copy", "-", "+"})), ids);
  EXPECT_EQ(Ids(Run({"xrange", "copy", "1-6", "1-7"})), (std::vector<std::string>{"1-6", "1-7"}));
}

struct PayloadSink : ValueSink {
  void Write(std::string_view bytes) override { out.append(bytes); }
  std::string out;
};

// A DUMP payload of `s`, for RESTORE.
std::string Payload(const StreamValue& s) {
  PayloadSink sink;
  sink.out.push_back(static_cast<char>(s.rdb_type()));
  s.Serialise(sink);
  rdb::AppendPayloadFooter(sink.out);
  return sink.out;
}

TEST_F(StreamFamilyTest, ExtremeLoadedTimesAndCountersWrapAsInRedis) {
  // A payload may carry any 64-bit value: times and counters at the ends of the range make the
  // differences Redis computes wrap; here they must not overflow (UBSan watches).
  StreamValue s;
  StreamID added;
  for (uint64_t i = 1; i <= 3; i++) {
    StreamID id{i, 0};
    s.Append(std::vector<std::string_view>{"f", "v"}, &id, true, 0, {}, &added);
  }
  s.set_entries_added(INT64_MAX);
  StreamGroup* g = s.CreateGroup("g", {1, 0}, INT64_MAX);
  StreamConsumer* alice = g->CreateConsumer("alice", INT64_MIN);
  auto nack = std::make_unique<StreamNack>();
  nack->delivery_time = INT64_MIN;
  nack->consumer = alice;
  alice->pel[{1, 0}] = nack.get();
  g->pel.emplace(StreamID{1, 0}, std::move(nack));
  SkipReplayCheck("the stream comes from a payload made in the test");
  EXPECT_EQ(Run({"restore", "k", "0", Payload(s)}), "OK");
  EXPECT_FALSE(Run({"xinfo", "consumers", "k", "g"}).is_error());
  EXPECT_FALSE(Run({"xpending", "k", "g", "-", "+", "10"}).is_error());
  EXPECT_FALSE(Run({"xpending", "k", "g", "idle", "1", "-", "+", "10"}).is_error());
  EXPECT_FALSE(Run({"xinfo", "groups", "k"}).is_error());
  EXPECT_FALSE(Run({"xreadgroup", "group", "g", "bob", "streams", "k", ">"}).is_error());
  EXPECT_FALSE(Run({"xinfo", "groups", "k"}).is_error());
  EXPECT_FALSE(Run({"xclaim", "k", "g", "bob", "1", "1-0"}).is_error());
  EXPECT_FALSE(
      Run({"xclaim", "k", "g", "bob", "0", "1-0", "idle", "-9223372036854775808"}).is_error());
  EXPECT_FALSE(Run({"xautoclaim", "k", "g", "bob", "1", "0-0"}).is_error());
}

}  // namespace
}  // namespace keyward::test
