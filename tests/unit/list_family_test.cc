// The list family in-process: replies (checked against Redis 7.0.15), encodings, the propagated
// forms, and every blocking path (served in arrival order, timeouts, CLIENT UNBLOCK, a closed
// waiter, scripts that do not block). tests/differential/test_lists.py compares the same
// commands with the real server byte for byte.
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

class ListFamilyTest : public CommandTest {
 protected:
  std::vector<std::string> Range(const std::string& key) {
    Resp r = Run({"lrange", key, "0", "-1"});
    std::vector<std::string> out;
    for (const Resp& e : r.elems) out.push_back(e.str);
    return out;
  }
  std::vector<Command> Propagated() {
    std::vector<Command> out;
    for (const Argv& a : TakePropagated()) out.emplace_back(a.begin(), a.end());
    return out;
  }
};

TEST_F(ListFamilyTest, PushPopAndRange) {
  EXPECT_EQ(Run({"rpush", "l", "a", "b", "c"}), 3);
  EXPECT_EQ(Run({"lpush", "l", "z"}), 4);
  EXPECT_THAT(Range("l"), ElementsAre("z", "a", "b", "c"));
  EXPECT_EQ(Run({"lpop", "l"}), "z");
  EXPECT_EQ(Run({"rpop", "l"}), "c");
  EXPECT_EQ(Run({"llen", "l"}), 2);
  EXPECT_EQ(RunRaw({"lpop", "l", "5"}), "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
  // The emptied list is gone.
  EXPECT_EQ(Run({"exists", "l"}), 0);
  EXPECT_EQ(RunRaw({"lpop", "l"}), "$-1\r\n");
  EXPECT_EQ(RunRaw({"lpop", "l", "1"}), "*-1\r\n");
  EXPECT_EQ(Run({"lpushx", "l", "a"}), 0);
  EXPECT_EQ(Run({"exists", "l"}), 0);
  EXPECT_EQ(Run({"rpush", "l", "x"}), 1);
  EXPECT_EQ(RunRaw({"lpop", "l", "0"}), "*0\r\n");
  EXPECT_THAT(Run({"lpop", "l", "-1"}), ErrorIs("ERR value is out of range, must be positive"));
  EXPECT_THAT(Run({"lpop", "l", "1", "2"}),
              ErrorIs("ERR wrong number of arguments for 'lpop' command"));
  EXPECT_EQ(Run({"object", "encoding", "l"}), "quicklist");
}

TEST_F(ListFamilyTest, RangesAndIndexes) {
  Run({"rpush", "l", "0", "1", "2", "3", "4"});
  EXPECT_THAT(Run({"lrange", "l", "-2", "100"}).elems, ElementsAre("3", "4"));
  EXPECT_THAT(Run({"lrange", "l", "3", "1"}).elems, IsEmpty());
  EXPECT_EQ(Run({"lindex", "l", "-1"}), "4");
  EXPECT_TRUE(Run({"lindex", "l", "5"}).is_null());
  // LINDEX looks the key up before parsing the index: a missing key answers nil.
  EXPECT_TRUE(Run({"lindex", "missing", "x"}).is_null());
  EXPECT_THAT(Run({"lindex", "l", "x"}), ErrorIs("ERR value is not an integer or out of range"));
  EXPECT_EQ(Run({"lset", "l", "-1", "four"}), "OK");
  EXPECT_THAT(Run({"lset", "l", "9", "x"}), ErrorIs("ERR index out of range"));
  EXPECT_THAT(Run({"lset", "missing", "0", "x"}), ErrorIs("ERR no such key"));
  EXPECT_EQ(Run({"ltrim", "l", "1", "-2"}), "OK");
  EXPECT_THAT(Range("l"), ElementsAre("1", "2", "3"));
  EXPECT_EQ(Run({"ltrim", "l", "5", "1"}), "OK");
  EXPECT_EQ(Run({"exists", "l"}), 0);
}

TEST_F(ListFamilyTest, InsertRemoveAndPos) {
  Run({"rpush", "l", "a", "b", "a", "c", "a"});
  EXPECT_EQ(Run({"linsert", "l", "before", "b", "x"}), 6);
  EXPECT_EQ(Run({"linsert", "l", "AFTER", "c", "y"}), 7);
  EXPECT_EQ(Run({"linsert", "l", "after", "nope", "y"}), -1);
  EXPECT_EQ(Run({"linsert", "missing", "after", "a", "y"}), 0);
  EXPECT_THAT(Run({"linsert", "l", "middle", "a", "y"}), ErrorIs("ERR syntax error"));
  EXPECT_THAT(Range("l"), ElementsAre("a", "x", "b", "a", "c", "y", "a"));
  EXPECT_EQ(Run({"lpos", "l", "a"}), 0);
  EXPECT_EQ(Run({"lpos", "l", "a", "rank", "-1"}), 6);
  EXPECT_THAT(Run({"lpos", "l", "a", "count", "0"}).elems, ElementsAre(0, 3, 6));
  EXPECT_THAT(Run({"lpos", "l", "a", "rank", "2", "count", "1"}).elems, ElementsAre(3));
  EXPECT_TRUE(Run({"lpos", "l", "a", "rank", "1", "maxlen", "0"}) == 0);
  EXPECT_TRUE(Run({"lpos", "l", "c", "maxlen", "3"}).is_null());
  EXPECT_THAT(Run({"lpos", "l", "a", "rank", "0"}),
              ErrorIs("ERR RANK can't be zero: use 1 to start from the first match, 2 from the "
                      "second ... or use negative to start from the end of the list"));
  EXPECT_EQ(Run({"lrem", "l", "-2", "a"}), 2);
  EXPECT_THAT(Range("l"), ElementsAre("a", "x", "b", "c", "y"));
  EXPECT_EQ(Run({"lrem", "l", "0", "x"}), 1);
  EXPECT_EQ(Run({"lrem", "l", "1", "nope"}), 0);
}

TEST_F(ListFamilyTest, MovesBetweenLists) {
  Run({"rpush", "src", "1", "2", "3"});
  EXPECT_EQ(Run({"lmove", "src", "dst", "left", "right"}), "1");
  EXPECT_EQ(Run({"rpoplpush", "src", "dst"}), "3");
  EXPECT_THAT(Range("dst"), ElementsAre("3", "1"));
  // Rotating a list onto itself.
  EXPECT_EQ(Run({"lmove", "dst", "dst", "right", "left"}), "1");
  EXPECT_THAT(Range("dst"), ElementsAre("1", "3"));
  Run({"set", "str", "v"});
  EXPECT_THAT(Run({"lmove", "src", "str", "left", "left"}), ErrorIs(kWrongType));
  EXPECT_THAT(Range("src"), ElementsAre("2"));  // nothing popped
  EXPECT_TRUE(Run({"lmove", "missing", "dst", "left", "left"}).is_null());
  EXPECT_THAT(Run({"lmove", "src", "dst", "up", "left"}), ErrorIs("ERR syntax error"));
  // The last element moved away: the source is deleted.
  EXPECT_EQ(Run({"lmove", "src", "dst", "left", "left"}), "2");
  EXPECT_EQ(Run({"exists", "src"}), 0);
}

TEST_F(ListFamilyTest, MPop) {
  Run({"rpush", "b", "1", "2", "3"});
  EXPECT_EQ(RunRaw({"lmpop", "2", "a", "b", "right", "count", "2"}),
            "*2\r\n$1\r\nb\r\n*2\r\n$1\r\n3\r\n$1\r\n2\r\n");
  EXPECT_THAT(Propagated(),
              ElementsAre(Command{"rpush", "b", "1", "2", "3"}, Command{"RPOP", "b", "2"}));
  EXPECT_EQ(RunRaw({"lmpop", "1", "a", "left"}), "*-1\r\n");
  EXPECT_THAT(Run({"lmpop", "0", "a", "left"}), ErrorIs("ERR numkeys should be greater than 0"));
  EXPECT_THAT(Run({"lmpop", "3", "a", "left"}), ErrorIs("ERR syntax error"));
  EXPECT_THAT(Run({"lmpop", "1", "b", "left", "count", "0"}),
              ErrorIs("ERR count should be greater than 0"));
  EXPECT_THAT(Run({"lmpop", "1", "b", "left", "count", "1", "count", "1"}),
              ErrorIs("ERR syntax error"));
  Run({"set", "s", "v"});
  EXPECT_THAT(Run({"lmpop", "2", "s", "b", "left"}), ErrorIs(kWrongType));
}

TEST_F(ListFamilyTest, WrongTypeEverywhere) {
  Run({"set", "s", "v"});
  for (const Command& cmd : std::vector<Command>{{"lpush", "s", "x"},
                                                 {"rpushx", "s", "x"},
                                                 {"lpop", "s"},
                                                 {"llen", "s"},
                                                 {"lrange", "s", "0", "1"},
                                                 {"lindex", "s", "0"},
                                                 {"lset", "s", "0", "x"},
                                                 {"linsert", "s", "before", "a", "b"},
                                                 {"lrem", "s", "0", "a"},
                                                 {"ltrim", "s", "0", "1"},
                                                 {"lpos", "s", "a"},
                                                 {"rpoplpush", "s", "d"},
                                                 {"blpop", "s", "0"}}) {
    EXPECT_THAT(Run(cmd), ErrorIs(kWrongType)) << cmd[0];
  }
  Run({"rpush", "l", "x"});
  EXPECT_THAT(Run({"get", "l"}), ErrorIs(kWrongType));
}

TEST_F(ListFamilyTest, BlockingPopServedInArrivalOrder) {
  EXPECT_TRUE(Run("a", {"blpop", "q", "0"}).is_none());
  EXPECT_TRUE(Run("b", {"brpop", "q", "other", "0"}).is_none());
  EXPECT_TRUE(IsBlocked("a"));
  EXPECT_TRUE(IsBlocked("b"));
  // One push of three elements serves both waiters, first come first served, in the same turn;
  // the pusher's reply counts the list before they were served.
  EXPECT_EQ(Run({"rpush", "q", "1", "2", "3"}), 3);
  EXPECT_FALSE(IsBlocked("a"));
  EXPECT_FALSE(IsBlocked("b"));
  EXPECT_THAT(Reply("a").elems, ElementsAre("q", "1"));
  EXPECT_THAT(Reply("b").elems, ElementsAre("q", "3"));
  EXPECT_THAT(Range("q"), ElementsAre("2"));
  // Each served pop is propagated as its non-blocking form.
  EXPECT_THAT(Propagated(), ElementsAre(Command{"rpush", "q", "1", "2", "3"}, Command{"LPOP", "q"},
                                        Command{"RPOP", "q"}));
}

TEST_F(ListFamilyTest, BlockingPopTakesDataAtOnce) {
  Run({"rpush", "q2", "x"});
  EXPECT_THAT(Run({"blpop", "q1", "q2", "1"}).elems, ElementsAre("q2", "x"));
  EXPECT_EQ(Run({"exists", "q2"}), 0);
  EXPECT_THAT(Propagated(), ElementsAre(Command{"rpush", "q2", "x"}, Command{"LPOP", "q2"}));
}

TEST_F(ListFamilyTest, BlockingTimeoutsAndErrors) {
  EXPECT_TRUE(Run("a", {"blpop", "q", "0.5"}).is_none());
  AdvanceMs(499);
  EXPECT_TRUE(IsBlocked("a"));
  AdvanceMs(2);
  EXPECT_FALSE(IsBlocked("a"));
  EXPECT_EQ(Reply("a").type, Resp::Type::kNullArray);
  EXPECT_TRUE(Run("a", {"blmove", "q", "d", "left", "left", "0.01"}).is_none());
  AdvanceMs(11);
  EXPECT_EQ(Reply("a").type, Resp::Type::kNullArray);
  // Sub-millisecond timeouts round up to 1 ms (they must not mean "forever").
  EXPECT_TRUE(Run("a", {"blpop", "q", "0.0001"}).is_none());
  AdvanceMs(1);
  EXPECT_EQ(Reply("a").type, Resp::Type::kNullArray);
  EXPECT_THAT(Run({"blpop", "q", "-1"}), ErrorIs("ERR timeout is negative"));
  EXPECT_THAT(Run({"blpop", "q", "x"}), ErrorIs("ERR timeout is not a float or out of range"));
  EXPECT_THAT(Run({"blpop", "q", "inf"}), ErrorIs("ERR timeout is negative"));
}

TEST_F(ListFamilyTest, BlockingMoveServedByAPush) {
  EXPECT_TRUE(Run("a", {"blmove", "src", "dst", "right", "left", "0"}).is_none());
  EXPECT_TRUE(Run("b", {"brpoplpush", "src", "dst2", "0"}).is_none());
  EXPECT_EQ(Run({"lpush", "src", "x", "y"}), 2);
  EXPECT_EQ(Reply("a"), "x");
  EXPECT_EQ(Reply("b"), "y");
  EXPECT_THAT(Range("dst"), ElementsAre("x"));
  EXPECT_THAT(Range("dst2"), ElementsAre("y"));
  EXPECT_EQ(Run({"exists", "src"}), 0);
  EXPECT_THAT(Propagated(), ElementsAre(Command{"lpush", "src", "x", "y"},
                                        Command{"LMOVE", "src", "dst", "RIGHT", "LEFT"},
                                        Command{"RPOPLPUSH", "src", "dst2"}));
}

TEST_F(ListFamilyTest, BlockingMoveChainsIntoAnotherWaiter) {
  // A BLMOVE into `b` feeds a BLPOP on `b` in the same turn.
  EXPECT_TRUE(Run("mover", {"blmove", "a", "b", "left", "right", "0"}).is_none());
  EXPECT_TRUE(Run("popper", {"blpop", "b", "0"}).is_none());
  EXPECT_EQ(Run({"rpush", "a", "1", "2", "3"}), 3);
  EXPECT_EQ(Reply("mover"), "1");
  EXPECT_THAT(Reply("popper").elems, ElementsAre("b", "1"));
  EXPECT_EQ(Run({"exists", "b"}), 0);
  EXPECT_THAT(Range("a"), ElementsAre("2", "3"));
}

TEST_F(ListFamilyTest, BlockingMoveToAWrongTypeDestination) {
  Run({"set", "dst", "v"});
  EXPECT_TRUE(Run("a", {"blmove", "src", "dst", "left", "left", "0"}).is_none());
  EXPECT_EQ(Run({"rpush", "src", "x"}), 1);
  EXPECT_THAT(Reply("a"), ErrorIs(kWrongType));
  EXPECT_THAT(Range("src"), ElementsAre("x"));  // nothing was taken
}

TEST_F(ListFamilyTest, WaitersOfAnotherTypeArePassedOver) {
  // A list waiter first, a sorted-set waiter second: a ZADD serves the second (Redis 7.0 skips
  // the clients blocked for another type), and the first keeps waiting, then gets the list.
  EXPECT_TRUE(Run("lister", {"blpop", "k", "0"}).is_none());
  EXPECT_TRUE(Run("zsetter", {"bzpopmin", "k", "0"}).is_none());
  EXPECT_EQ(Run({"zadd", "k", "1", "x"}), 1);
  EXPECT_FALSE(IsBlocked("zsetter"));
  EXPECT_THAT(Reply("zsetter").elems, ElementsAre("k", "x", "1"));
  EXPECT_TRUE(IsBlocked("lister"));
  EXPECT_EQ(Run({"rpush", "k", "v"}), 1);
  EXPECT_THAT(Reply("lister").elems, ElementsAre("k", "v"));
}

TEST_F(ListFamilyTest, AListWaiterDoesNotHoldALockWaiter) {
  // BLPOP waits on an absent key first; a lock on the same name is taken and queued for: the
  // release hands the lock to its waiter although the BLPOP waiter ahead of it stays blocked.
  EXPECT_TRUE(Run("lister", {"blpop", "K", "0"}).is_none());
  EXPECT_EQ(Run("x", {"lock.acquire", "K", "x", "60000"})[0], 1);
  EXPECT_TRUE(Run("b", {"lock.acquire", "K", "b", "10000", "WAIT", "15000"}).is_none());
  EXPECT_EQ(Run("x", {"lock.release", "K", "x"}), 1);
  EXPECT_FALSE(IsBlocked("b"));
  EXPECT_EQ(Reply("b")[0], 1);
  EXPECT_TRUE(IsBlocked("lister"));
}

TEST_F(ListFamilyTest, ServedBlockingMPopCountsItsPops) {
  auto dirty = [this] {
    std::string info = Run({"info", "persistence"}).str;
    size_t at = info.find("rdb_changes_since_last_save:");
    return std::stoll(info.substr(at + 28));
  };
  EXPECT_TRUE(Run("a", {"blmpop", "0", "1", "q", "left", "count", "5"}).is_none());
  const int64_t before = dirty();
  EXPECT_EQ(Run({"rpush", "q", "a", "b", "c"}), 3);
  EXPECT_EQ(Reply("a").size(), 2u);
  // Three pushed, three popped, as Redis counts them.
  EXPECT_EQ(dirty() - before, 6);
}

TEST_F(ListFamilyTest, BlockingMPop) {
  EXPECT_TRUE(Run("a", {"blmpop", "0", "2", "x", "y", "right", "count", "2"}).is_none());
  EXPECT_EQ(Run({"rpush", "y", "1", "2", "3"}), 3);
  Resp r = Reply("a");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0], "y");
  EXPECT_THAT(r[1].elems, ElementsAre("3", "2"));
  EXPECT_THAT(Propagated(),
              ElementsAre(Command{"rpush", "y", "1", "2", "3"}, Command{"RPOP", "y", "2"}));
}

TEST_F(ListFamilyTest, UnblockAndDisconnect) {
  EXPECT_TRUE(Run("a", {"blpop", "q", "0"}).is_none());
  EXPECT_TRUE(Run("b", {"blpop", "q", "0"}).is_none());
  EXPECT_TRUE(Run("c", {"blpop", "q", "0"}).is_none());
  int64_t a = Run("a2", {"client", "id"}).integer;  // a control connection
  (void)a;
  const std::string id_b = std::to_string(client("b").id());
  EXPECT_EQ(Run({"client", "unblock", id_b, "error"}), 1);
  EXPECT_THAT(Reply("b"), ErrorIs("UNBLOCKED client unblocked via CLIENT UNBLOCK"));
  const std::string id_a = std::to_string(client("a").id());
  EXPECT_EQ(Run({"client", "unblock", id_a}), 1);
  EXPECT_EQ(Reply("a").type, Resp::Type::kNullArray);
  // Only c waits now: one element goes to it.
  EXPECT_EQ(Run({"rpush", "q", "v", "w"}), 2);
  EXPECT_THAT(Reply("c").elems, ElementsAre("q", "v"));
  EXPECT_THAT(Range("q"), ElementsAre("w"));
}

TEST_F(ListFamilyTest, ScriptsDoNotBlock) {
  // BLPOP, BRPOP, BLMOVE and BRPOPLPUSH are refused in scripts (noscript, as in Redis 7.0);
  // BLMPOP runs as LMPOP there: without data it answers at once.
  EXPECT_THAT(Run({"eval", "return redis.call('blpop', KEYS[1], 0)", "1", "q"}),
              ErrorStartsWith("ERR This Redis command is not allowed from script"));
  EXPECT_EQ(RunRaw({"eval", "return redis.call('blmpop', 0, 1, KEYS[1], 'left')", "1", "q"}),
            "$-1\r\n");
  Run({"rpush", "q", "x"});
  EXPECT_EQ(RunRaw({"eval", "return redis.call('blmpop', 0, 1, KEYS[1], 'left')", "1", "q"}),
            "*2\r\n$1\r\nq\r\n*1\r\n$1\r\nx\r\n");
  EXPECT_FALSE(IsBlocked());
}

TEST_F(ListFamilyTest, NodesFollowListMaxListpackSize) {
  // CONFIG SET is not propagated: a replay builds the same list in nodes of the default size.
  SkipReplayCheck("the replayed list has other node boundaries");
  EXPECT_EQ(Run({"config", "set", "list-max-ziplist-size", "2"}), "OK");
  EXPECT_EQ(Run({"config", "get", "list-max-listpack-size"}).elems[1], "2");
  for (int i = 0; i < 9; i++) Run({"rpush", "l", std::to_string(i)});
  EXPECT_EQ(Run({"linsert", "l", "after", "4", "x"}), 10);
  EXPECT_EQ(Run({"lset", "l", "0", std::string(10000, 'b')}), "OK");
  EXPECT_EQ(Run({"lrem", "l", "0", "6"}), 1);
  std::vector<std::string> want = {std::string(10000, 'b'), "1", "2", "3", "4", "x", "5", "7", "8"};
  EXPECT_EQ(Range("l"), want);
  EXPECT_EQ(Run({"object", "encoding", "l"}), "quicklist");
}

}  // namespace
}  // namespace keyward::test
