// LOCK.* in-process: acquisition and exclusion with plain SET NX locks, fencing tokens (the ACQ and
// FENCE steps of COORDINATION.md), FIFO waiting woken by release, DEL, expiry and FLUSHALL, guarded
// writes, and what survives FLUSHALL.
#include <gtest/gtest.h>

#include "server/coordination/lock_manager.h"
#include "tests/support/command_test.h"

namespace keyward::test {
namespace {

class LockFamilyTest : public CommandTest {
 protected:
  // [granted, token, pttl]
  struct Acq {
    int64_t granted, token, pttl;
  };
  Acq Acquire(const std::string& conn, std::vector<std::string> args) {
    args.insert(args.begin(), "lock.acquire");
    Resp r = Run(conn, args);
    EXPECT_EQ(r.size(), 3u) << r.str;
    if (r.size() != 3) return {};
    return {r[0].integer, r[1].integer, r[2].integer};
  }
  // Output a blocked connection received since its last command.
  Resp Pending(const std::string& conn) { return Reply(conn); }
  // Moves time on; due timers run on the way, as the event loop's alarm runs them.
  void Tick(int64_t ms) { AdvanceMs(ms); }
};

TEST_F(LockFamilyTest, AcquireIsSetNxPxAndExcludesOtherOwners) {
  Acq a = Acquire("a", {"res", "owner-a", "10000"});
  EXPECT_EQ(a.granted, 1);
  EXPECT_EQ(a.pttl, 10000);
  EXPECT_EQ(Run({"get", "res"}).str, "owner-a");
  EXPECT_EQ(Run({"pttl", "res"}).integer, 10000);
  AdvanceMs(400);
  Acq b = Acquire("b", {"res", "owner-b", "10000"});
  EXPECT_EQ(b.granted, 0);
  EXPECT_EQ(b.pttl, 9600);  // the holder's remaining lease
  // A lock taken with SET NX (node-redlock, redis-py) excludes native acquisition and back.
  EXPECT_EQ(Run({"set", "other", "py-token", "NX", "PX", "5000"}).str, "OK");
  EXPECT_EQ(Acquire("a", {"other", "x", "1000"}).granted, 0);
  EXPECT_TRUE(Run({"set", "res", "y", "NX", "PX", "5000"}).is_null());
}

TEST_F(LockFamilyTest, ReentrantAcquireRestartsTheLeaseAndKeepsTheToken) {
  Acq first = Acquire("a", {"res", "me", "1000", "FENCE"});
  AdvanceMs(600);
  Acq again = Acquire("a", {"res", "me", "1000", "FENCE"});
  EXPECT_EQ(first.granted, 1);  // created
  EXPECT_EQ(again.granted, 2);  // re-entered
  EXPECT_EQ(again.token, first.token);
  EXPECT_EQ(Run({"pttl", "res"}).integer, 1000);
  // A contender's FENCE that was not counted moves the counter past the holder's token; the
  // holder's re-entry still gets its own token back, not the counter.
  EXPECT_EQ(Run({"lock.fence", "res", "loser", std::to_string(first.token + 5)}).integer, 0);
  Acq third = Acquire("a", {"res", "me", "1000", "FENCE"});
  EXPECT_EQ(third.granted, 2);
  EXPECT_EQ(third.token, first.token);
  // Without FENCE the re-entry says so too, and reports the counter (the ACQ step).
  Acq plain = Acquire("a", {"res", "me", "1000"});
  EXPECT_EQ(plain.granted, 2);
  EXPECT_EQ(plain.token, first.token + 5);
  // Lost and taken again by the same owner: a new acquisition, a new token.
  Run({"del", "res"});
  Acq fresh = Acquire("a", {"res", "me", "1000", "FENCE"});
  EXPECT_EQ(fresh.granted, 1);
  EXPECT_EQ(fresh.token, first.token + 6);
}

TEST_F(LockFamilyTest, ProposedTokensAreCountedWithTheGrant) {
  // The one-round-trip form over N instances: the grant counts the proposal if it is above the
  // counter, as a LOCK.FENCE by the new holder right after would.
  const int64_t counter = Acquire("a", {"res", "probe", "1000"}).token;
  Run({"lock.release", "res", "probe"});
  const int64_t t = counter + 10;
  Resp r = Run({"lock.acquire", "res", "me", "1000", "PROPOSE", std::to_string(t)});
  ASSERT_EQ(r.size(), 4u) << r.str;
  EXPECT_EQ(r[0].integer, 1);
  EXPECT_EQ(r[1].integer, t);
  EXPECT_EQ(r[3].integer, 1);                          // counted
  EXPECT_EQ(Run({"lock.info", "res"})[7].integer, t);  // the holder's token
  // Refused while held: nothing counted, the counter reported for the next proposal.
  r = Run({"lock.acquire", "res", "other", "1000", "PROPOSE", std::to_string(t + 5)});
  EXPECT_EQ(r[0].integer, 0);
  EXPECT_EQ(r[1].integer, t);
  EXPECT_EQ(r[3].integer, 0);
  // Granted, but a proposal not above the counter is not counted (the client falls back to
  // FENCE max + 1).
  Run({"lock.release", "res", "me"});
  r = Run({"lock.acquire", "res", "next", "1000", "PROPOSE", std::to_string(t)});
  EXPECT_EQ(r[0].integer, 1);
  EXPECT_EQ(r[1].integer, t);
  EXPECT_EQ(r[3].integer, 0);
  EXPECT_TRUE(Run({"lock.info", "res"})[7].is_null());
  EXPECT_EQ(Run({"lock.acquire", "x", "o", "1000", "PROPOSE", "5", "FENCE"}).str,
            "ERR syntax error");
  EXPECT_EQ(Run({"lock.acquire", "x", "o", "1000", "PROPOSE", "0"}).str,
            "ERR fencing token is out of range (1 to 9007199254740991)");
}

TEST_F(LockFamilyTest, TokensNeverOverflow) {
  Acquire("a", {"res", "me", "10000"});
  // A token above 2^53 - 1 is refused before it touches the counter.
  for (const char* poison :
       {"9223372036854775807", "9007199254740992", "0", "-5", "9223372036854775808",
        "18446744073709551616", "-9223372036854775809"}) {
    EXPECT_EQ(Run({"lock.fence", "res", "me", poison}).str,
              "ERR fencing token is out of range (1 to 9007199254740991)")
        << poison;
  }
  // What is not a decimal number is not an integer.
  for (const char* junk : {"", "1e3", "0x10", "007", "+5", "abc"}) {
    EXPECT_EQ(Run({"lock.fence", "res", "me", junk}).str,
              "ERR value is not an integer or out of range")
        << junk;
  }
  EXPECT_EQ(Run({"lock.record", "res", "99999999999999999999", "0", "", "0"}).str,
            "ERR fencing counter is out of range (0 to 9007199254740991)");
  EXPECT_LT(Run({"lock.info", "res"})[5].integer, int64_t{1} << 53);
  // At the maximum itself, the holder keeps its token; a new fenced acquisition is refused with
  // an error instead of wrapping to a negative token.
  EXPECT_EQ(Run({"lock.fence", "res", "me", "9007199254740991"}).integer, 1);
  Acq again = Acquire("a", {"res", "me", "10000", "FENCE"});
  EXPECT_EQ(again.granted, 2);
  EXPECT_EQ(again.token, 9007199254740991);
  Run({"lock.release", "res", "me"});
  EXPECT_EQ(Run({"lock.acquire", "res", "next", "10000", "FENCE"}).str,
            "ERR the fencing counter of 'res' reached its maximum (9007199254740991)");
  EXPECT_EQ(Run({"exists", "res"}).integer, 0);  // refused before taking the lock
  EXPECT_EQ(Run({"lock.record", "res", "9007199254740992", "0", "", "0"}).str,
            "ERR fencing counter is out of range (0 to 9007199254740991)");
}

TEST_F(LockFamilyTest, FencedTokensIncreaseWithEveryAcquisition) {
  int64_t last = 0;
  for (int i = 0; i < 5; i++) {
    Acq a = Acquire("a", {"res", "owner" + std::to_string(i), "1000", "FENCE"});
    ASSERT_EQ(a.granted, 1);
    EXPECT_GT(a.token, last);
    last = a.token;
    EXPECT_EQ(Run({"lock.release", "res", "owner" + std::to_string(i)}).integer, 1);
  }
  // Tokens stay exact in JavaScript and Lua numbers.
  EXPECT_LT(last, int64_t{1} << 53);
}

TEST_F(LockFamilyTest, TwoPhaseFencing) {
  // ACQ reports the counter without raising it.
  Acq acq = Acquire("a", {"res", "me", "1000"});
  ASSERT_EQ(acq.granted, 1);
  EXPECT_EQ(Acquire("b", {"res", "me", "1000"}).token, acq.token);
  int64_t t = acq.token + 7;  // the maximum the client saw elsewhere, plus one
  EXPECT_EQ(Run({"lock.fence", "res", "me", std::to_string(t)}).integer, 1);
  // A retry of the same FENCE counts again; nobody else's does, and lower tokens never count.
  EXPECT_EQ(Run({"lock.fence", "res", "me", std::to_string(t)}).integer, 1);
  EXPECT_EQ(Run({"lock.fence", "res", "intruder", std::to_string(t + 1)}).integer, 0);
  EXPECT_EQ(Run({"lock.fence", "res", "me", std::to_string(t)}).integer, 0);  // F is t+1 now
  // Not counted still raises the counter: the next ACQ reports it.
  EXPECT_EQ(Run({"lock.release", "res", "me"}).integer, 1);
  EXPECT_EQ(Acquire("b", {"res", "next", "1000"}).token, t + 1);
  EXPECT_EQ(Run({"lock.fence", "res", "next", std::to_string(t + 5)}).integer, 1);
  EXPECT_EQ(Run({"lock.fence", "res", "next", "3"}).integer, 0);
  Resp info = Run({"lock.info", "res"});
  EXPECT_EQ(info.strings(),
            (std::vector<std::string>{"owner", "next", "pttl", "1000", "token",
                                      std::to_string(t + 5), "holder_token", std::to_string(t + 5),
                                      "seen", "0", "waiters", "0"}));
  // A contender's FENCE that was not counted raises the counter past the holder's token;
  // holder_token still names the holder's.
  EXPECT_EQ(Run({"lock.fence", "res", "loser", std::to_string(t + 9)}).integer, 0);
  info = Run({"lock.info", "res"});
  EXPECT_EQ(info[5].integer, t + 9);
  EXPECT_EQ(info[7].integer, t + 5);
  // Released: no holder, no holder token.
  Run({"lock.release", "res", "next"});
  EXPECT_TRUE(Run({"lock.info", "res"})[7].is_null());
}

TEST_F(LockFamilyTest, CountersSurviveFlushallAndExpiry) {
  Acq a = Acquire("a", {"res", "me", "100", "FENCE"});
  Run({"flushall"});
  EXPECT_EQ(Run({"exists", "res"}).integer, 0);
  Acq b = Acquire("a", {"res", "me2", "100", "FENCE"});
  EXPECT_GT(b.token, a.token);
  Tick(200);  // expired
  Acq c = Acquire("a", {"res", "me3", "100", "FENCE"});
  EXPECT_EQ(c.granted, 1);
  EXPECT_GT(c.token, b.token);
}

TEST_F(LockFamilyTest, ReleaseAndExtendAreOwnerChecked) {
  Acquire("a", {"res", "me", "1000"});
  EXPECT_EQ(Run({"lock.release", "res", "someone"}).integer, 0);
  EXPECT_EQ(Run({"lock.extend", "res", "someone", "5000"}).integer, 0);
  EXPECT_EQ(Run({"pttl", "res"}).integer, 1000);
  EXPECT_EQ(Run({"lock.extend", "res", "me", "5000"}).integer, 1);
  EXPECT_EQ(Run({"pttl", "res"}).integer, 5000);
  EXPECT_EQ(Run({"lock.release", "res", "me"}).integer, 1);
  EXPECT_EQ(Run({"exists", "res"}).integer, 0);
  EXPECT_EQ(Run({"lock.release", "res", "me"}).integer, 0);
}

TEST_F(LockFamilyTest, WaitersAreServedInArrivalOrderByTheRelease) {
  Acquire("holder", {"res", "h", "10000"});
  for (std::string w : {"w1", "w2", "w3"}) {
    EXPECT_EQ(RunRaw({"lock.acquire", "res", w, "5000", "WAIT", "0", "FENCE"}, w), "");
  }
  EXPECT_EQ(server().blocking().waiters(0, "res"), 3u);
  EXPECT_EQ(client("w1").has(Client::kBlocked), true);
  EXPECT_EQ(Run("holder", {"lock.release", "res", "h"}).integer, 1);
  Resp got = Pending("w1");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].integer, 1);
  EXPECT_EQ(Run({"get", "res"}).str, "w1");
  EXPECT_TRUE(Pending("w2").is_none() && Pending("w3").is_none());
  // A plain DEL (someone else's script, an operator) frees it just as well.
  Run({"del", "res"});
  Resp second = Pending("w2");
  ASSERT_EQ(second.size(), 3u);
  EXPECT_GT(second[1].integer, got[1].integer);
  EXPECT_EQ(Run({"get", "res"}).str, "w2");
}

TEST_F(LockFamilyTest, ExpiryHandsTheLockOverWithoutPolling) {
  Acquire("holder", {"res", "h", "1000"});
  EXPECT_EQ(RunRaw({"lock.acquire", "res", "w", "5000", "WAIT", "0"}, "w"), "");
  Tick(999);
  EXPECT_TRUE(Pending("w").is_none());
  // The extension moves the wake-up to the new deadline.
  EXPECT_EQ(Run("holder", {"lock.extend", "res", "h", "1000"}).integer, 1);
  Tick(1);
  EXPECT_TRUE(Pending("w").is_none());
  Tick(1000);
  Resp got = Pending("w");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].integer, 1);
  EXPECT_EQ(Run({"get", "res"}).str, "w");
}

TEST_F(LockFamilyTest, WaitTimesOutWithTheHoldersState) {
  Acquire("holder", {"res", "h", "10000"});
  EXPECT_EQ(RunRaw({"lock.acquire", "res", "w", "5000", "WAIT", "300"}, "w"), "");
  Tick(300);
  Resp got = Pending("w");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].integer, 0);
  EXPECT_EQ(got[2].integer, 9700);
  EXPECT_EQ(server().blocking().blocked_clients(), 0u);
  // The connection works again, and so do commands it sent while it waited.
  EXPECT_EQ(Run("w", {"ping"}).str, "PONG");
}

TEST_F(LockFamilyTest, CommandsSentWhileBlockedRunAfterTheReply) {
  Acquire("holder", {"res", "h", "10000"});
  std::string pipelined =
      "*6\r\n$12\r\nlock.acquire\r\n$3\r\nres\r\n$1\r\nw\r\n$4\r\n5000\r\n"
      "$4\r\nWAIT\r\n$1\r\n0\r\n*2\r\n$3\r\nGET\r\n$3\r\nres\r\n";
  EXPECT_EQ(Send(pipelined, "w"), "");
  Run("holder", {"lock.release", "res", "h"});
  EXPECT_EQ(Send("", "w"),
            "*3\r\n:1\r\n:" + std::to_string(server().locks().fences().CounterOf("res")) +
                "\r\n:5000\r\n$1\r\nw\r\n");
}

TEST_F(LockFamilyTest, ServedWaitersLeaveNoTimersBehind) {
  // A busy lock handed over many times to waiters with long timeouts: the server keeps one timer
  // per waiting client and one per queue, not one per hand-off.
  std::string holder = "h0";
  Acquire("c0", {"res", holder, "10000"});
  for (int i = 1; i <= 200; i++) {
    std::string conn = "c" + std::to_string(i % 2);
    std::string me = "h" + std::to_string(i);
    EXPECT_EQ(RunRaw({"lock.acquire", "res", me, "10000", "WAIT", "600000"}, conn), "");
    EXPECT_LE(server().timers().size(), 2u);
    Run("admin", {"lock.release", "res", holder});
    ASSERT_EQ(Pending(conn)[0].integer, 1);
    holder = me;
  }
  EXPECT_EQ(server().timers().size(), 0u);
  EXPECT_EQ(server().blocking().blocked_clients(), 0u);
}

TEST_F(LockFamilyTest, LockWaitWakesWithoutTakingTheLock) {
  Acquire("holder", {"res", "h", "10000"});
  EXPECT_EQ(Run("free", {"lock.wait", "nothing", "100"}).integer, 1);
  EXPECT_EQ(RunRaw({"lock.wait", "res", "0"}, "w"), "");
  Run({"flushall"});
  EXPECT_EQ(Pending("w").integer, 1);
  EXPECT_EQ(Run({"exists", "res"}).integer, 0);
}

TEST_F(LockFamilyTest, PlainLockWaitWakesEveryWaiter) {
  Acquire("holder", {"res", "h", "10000"});
  for (const char* w : {"w1", "w2", "w3"}) EXPECT_EQ(RunRaw({"lock.wait", "res", "0"}, w), "");
  Run("holder", {"lock.release", "res", "h"});
  for (const char* w : {"w1", "w2", "w3"}) EXPECT_EQ(Pending(w).integer, 1) << w;
}

// LOCK.WAIT ... HANDOFF: one waiter woken per release, in arrival order; the next one when the
// lock was taken and freed again, or when the woken one let its window pass.
TEST_F(LockFamilyTest, HandoffWaitWakesOneWaiterPerRelease) {
  Acquire("holder", {"res", "h", "10000"});
  for (const char* w : {"w1", "w2", "w3"}) {
    EXPECT_EQ(RunRaw({"lock.wait", "res", "0", "HANDOFF", "100"}, w), "");
  }
  Run("holder", {"lock.release", "res", "h"});
  EXPECT_EQ(Pending("w1").integer, 1);
  EXPECT_TRUE(Pending("w2").is_none());
  EXPECT_TRUE(Pending("w3").is_none());
  // Free and w1's turn: a newcomer queues behind the others instead of answering at once.
  EXPECT_EQ(RunRaw({"lock.wait", "res", "0", "HANDOFF", "100"}, "late"), "");
  // w1 takes the lock (its quorum round) and later releases it: that release wakes w2 alone.
  Acquire("w1", {"res", "o1", "10000"});
  Tick(500);  // long past w1's window: taken, so nobody else was woken
  EXPECT_TRUE(Pending("w2").is_none());
  Run("w1", {"lock.release", "res", "o1"});
  EXPECT_EQ(Pending("w2").integer, 1);
  EXPECT_TRUE(Pending("w3").is_none());
  // w2 lets its window pass (it crashed, or lost the round elsewhere): then w3, then "late".
  Tick(99);
  EXPECT_TRUE(Pending("w3").is_none());
  Tick(1);
  EXPECT_EQ(Pending("w3").integer, 1);
  EXPECT_TRUE(Pending("late").is_none());
  Tick(100);
  EXPECT_EQ(Pending("late").integer, 1);
  EXPECT_EQ(server().blocking().blocked_clients(), 0u);
}

TEST_F(LockFamilyTest, HandoffWaitHoldsQueuedAcquisitionsBehindTheWokenWaiter) {
  Acquire("holder", {"res", "h", "10000"});
  EXPECT_EQ(RunRaw({"lock.wait", "res", "0", "HANDOFF", "50"}, "w"), "");
  EXPECT_EQ(RunRaw({"lock.acquire", "res", "q", "5000", "WAIT", "0"}, "q"), "");
  Run("holder", {"lock.release", "res", "h"});
  EXPECT_EQ(Pending("w").integer, 1);
  EXPECT_TRUE(Pending("q").is_none());  // w's turn first, though q would take it in one step
  Tick(50);
  Resp got = Pending("q");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].integer, 1);
  EXPECT_EQ(Run({"get", "res"}).str, "q");
}

// The woken waiter was the only one: the window still holds newcomers, LOCK.WAIT ... HANDOFF and
// LOCK.ACQUIRE ... WAIT alike, until it ends (or the lock is taken and freed).
TEST_F(LockFamilyTest, HandoffWindowOutlivesTheQueue) {
  Acquire("holder", {"res", "h", "10000"});
  EXPECT_EQ(RunRaw({"lock.wait", "res", "0", "HANDOFF", "100"}, "w1"), "");
  Run("holder", {"lock.release", "res", "h"});
  EXPECT_EQ(Pending("w1").integer, 1);
  EXPECT_EQ(server().blocking().waiters(0, "res"), 0u);
  EXPECT_EQ(RunRaw({"lock.wait", "res", "0", "HANDOFF", "100"}, "w2"), "");
  EXPECT_EQ(RunRaw({"lock.acquire", "res", "q", "5000", "WAIT", "0"}, "q"), "");
  EXPECT_EQ(Run({"lock.acquire", "res", "plain", "5000"})[0].integer, 1);  // not waiting: at once
  Run({"lock.release", "res", "plain"});  // taken and freed: the window is over, w2's turn
  EXPECT_EQ(Pending("w2").integer, 1);
  EXPECT_TRUE(Pending("q").is_none());
  Tick(100);  // w2 let its window pass: q takes the lock
  Resp got = Pending("q");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].integer, 1);
  Tick(1000);
  EXPECT_EQ(Run({"get", "res"}).str, "q");
}

TEST_F(LockFamilyTest, HandoffWaitArguments) {
  EXPECT_EQ(Run({"lock.wait", "res", "0", "HANDOFF"}).str, "ERR syntax error");
  EXPECT_EQ(Run({"lock.wait", "res", "0", "LATER", "10"}).str, "ERR syntax error");
  EXPECT_EQ(Run({"lock.wait", "res", "0", "HANDOFF", "10", "x"}).str, "ERR syntax error");
  for (const char* bad : {"-1", "60001", "x", "99999999999999999999"}) {
    EXPECT_EQ(Run({"lock.wait", "res", "0", "HANDOFF", bad}).str,
              "ERR HANDOFF window is out of range (0 to 60000 ms)")
        << bad;
  }
  EXPECT_EQ(Run({"lock.wait", "res", "0", "handoff", "10"}).integer, 1);  // free: at once
  // HANDOFF 0: the plain form.
  Acquire("holder", {"res", "h", "10000"});
  EXPECT_EQ(RunRaw({"lock.wait", "res", "0", "HANDOFF", "0"}, "a"), "");
  EXPECT_EQ(RunRaw({"lock.wait", "res", "0", "HANDOFF", "0"}, "b"), "");
  Run("holder", {"lock.release", "res", "h"});
  EXPECT_EQ(Pending("a").integer, 1);
  EXPECT_EQ(Pending("b").integer, 1);
}

TEST_F(LockFamilyTest, AClosedWaiterLeavesTheQueue) {
  Acquire("holder", {"res", "h", "10000"});
  EXPECT_EQ(RunRaw({"lock.acquire", "res", "gone", "5000", "WAIT", "0"}, "gone"), "");
  EXPECT_EQ(RunRaw({"lock.acquire", "res", "next", "5000", "WAIT", "0"}, "next"), "");
  server().clients().Close(client("gone"));
  Run("holder", {"lock.release", "res", "h"});
  EXPECT_EQ(Run({"get", "res"}).str, "next");
  EXPECT_EQ(Pending("next")[0].integer, 1);
}

TEST_F(LockFamilyTest, LockEventsArePublishedForObservers) {
  // Observers (leader election) subscribe to __lock@<db>__:<resource>: no polling, and no need
  // for notify-keyspace-events.
  Run("observer", {"subscribe", "__lock@0__:res"});
  auto next_event = [&] {
    Resp m = Pending("observer");
    return m.size() == 3 ? m[2].str : "(none)";
  };
  Acquire("a", {"res", "me", "1000"});
  EXPECT_EQ(next_event(), "acquired");
  Acquire("a", {"res", "me", "1000"});  // re-entry: nothing changed hands
  EXPECT_EQ(next_event(), "(none)");
  Run("a", {"lock.release", "res", "me"});
  EXPECT_EQ(next_event(), "released");
  Acquire("a", {"res", "me", "100"});
  EXPECT_EQ(next_event(), "acquired");
  AdvanceMs(100);
  server().RunCron();  // the active expiry deletes it (as keyspace notifications' "expired")
  EXPECT_EQ(next_event(), "released");
  // A waiter handed the lock is a new holder too.
  Acquire("a", {"res", "first", "10000"});
  EXPECT_EQ(next_event(), "acquired");
  EXPECT_EQ(RunRaw({"lock.acquire", "res", "second", "1000", "WAIT", "0"}, "w"), "");
  Run("a", {"del", "res"});
  EXPECT_EQ(Pending("w")[0].integer, 1);
  std::string raw = Send("", "observer");
  EXPECT_NE(raw.find("released"), std::string::npos);
  EXPECT_NE(raw.find("acquired"), std::string::npos);
  EXPECT_LT(raw.find("released"), raw.find("acquired"));
}

TEST_F(LockFamilyTest, ClientUnblockEndsAWait) {
  Acquire("holder", {"res", "h", "10000"});
  EXPECT_EQ(RunRaw({"lock.acquire", "res", "w1", "1000", "WAIT", "0"}, "w1"), "");
  EXPECT_EQ(RunRaw({"lock.wait", "res", "0"}, "w2"), "");
  const std::string id1 = std::to_string(client("w1").id());
  const std::string id2 = std::to_string(client("w2").id());
  // As if its timeout had come: not granted, with the holder's lease.
  EXPECT_EQ(Run("admin", {"client", "unblock", id1}).integer, 1);
  Resp r = Pending("w1");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].integer, 0);
  EXPECT_EQ(r[2].integer, 10000);
  EXPECT_EQ(Run("admin", {"client", "unblock", id2, "ERROR"}).integer, 1);
  EXPECT_EQ(Pending("w2").str, "UNBLOCKED client unblocked via CLIENT UNBLOCK");
  // Not waiting (any more), or no such client: 0.
  EXPECT_EQ(Run("admin", {"client", "unblock", id1}).integer, 0);
  EXPECT_EQ(Run("admin", {"client", "unblock", "987654"}).integer, 0);
  EXPECT_EQ(Run("admin", {"client", "unblock", id1, "later"}).str,
            "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
  EXPECT_EQ(Run("admin", {"client", "unblock", "x"}).str,
            "ERR value is not an integer or out of range");
  EXPECT_EQ(server().blocking().blocked_clients(), 0u);
  EXPECT_EQ(server().blocking().waiters(0, "res"), 0u);
}

TEST_F(LockFamilyTest, GuardedWritesRefuseOlderTokens) {
  EXPECT_EQ(Run({"lock.guard", "res", "5", "set", "data", "v5"}).str, "OK");
  EXPECT_EQ(Run({"lock.guard", "res", "5", "incr", "n"}).integer, 1);
  Resp stale = Run({"lock.guard", "res", "4", "set", "data", "v4"});
  EXPECT_EQ(stale.str, "FENCED token 4 is older than 5 for 'res'");
  EXPECT_EQ(Run({"get", "data"}).str, "v5");
  EXPECT_EQ(Run({"lock.guard", "res", "9", "set", "data", "v9"}).str, "OK");
  EXPECT_TRUE(Run({"lock.guard", "res", "8", "del", "data"}).is_error());
  // Reads, waits and guards cannot be wrapped; a failed write does not raise the mark.
  EXPECT_TRUE(Run({"lock.guard", "res", "9", "get", "data"}).is_error());
  EXPECT_TRUE(
      Run({"lock.guard", "res", "10", "lock.guard", "res", "10", "set", "a", "b"}).is_error());
  EXPECT_TRUE(Run({"lock.guard", "res", "20", "incr", "data"}).is_error());
  EXPECT_EQ(Run({"lock.guard", "res", "10", "set", "data", "v10"}).str, "OK");
  EXPECT_EQ(Run({"lock.guard", "res", "10", "nosuch"}).str,
            "ERR unknown command 'nosuch', with args beginning with: ");
}

TEST_F(LockFamilyTest, GuardedWritesRefuseTokensNeverIssued) {
  Acq holder = Acquire("a", {"res", "me", "10000", "FENCE"});
  ASSERT_EQ(holder.granted, 1);
  // A token nobody was given (a typo, a forged or corrupted value) does not run, and does not
  // raise the mark: the real holder's writes still pass.
  const std::string forged = std::to_string(holder.token + 1000);
  EXPECT_EQ(Run({"lock.guard", "res", forged, "set", "data", "forged"}).str,
            "NOTISSUED token " + forged + " was never issued for 'res' (its counter is " +
                std::to_string(holder.token) + ")");
  EXPECT_EQ(Run({"exists", "data"}).integer, 0);
  EXPECT_EQ(Run({"lock.guard", "res", std::to_string(holder.token), "set", "data", "v"}).str, "OK");
  EXPECT_EQ(Run({"lock.info", "res"})[9].integer, holder.token);
  // On a resource never locked here, anything above the floor was never issued either.
  EXPECT_EQ(Run({"lock.guard", "free", std::to_string(holder.token * 2), "set", "x", "y"})
                .str.substr(0, 9),
            "NOTISSUED");
  EXPECT_EQ(Run({"lock.guard", "res", "0", "set", "data", "v"}).str,
            "ERR fencing token is out of range (1 to 9007199254740991)");
}

TEST_F(LockFamilyTest, ArgumentErrors) {
  EXPECT_EQ(Run({"lock.acquire", "r", "o", "0"}).str,
            "ERR invalid expire time in 'lock.acquire' command");
  EXPECT_EQ(Run({"lock.acquire", "r", "o", "x"}).str,
            "ERR value is not an integer or out of range");
  EXPECT_EQ(Run({"lock.acquire", "r", "o", "10", "WAIT", "-1"}).str, "ERR timeout is negative");
  EXPECT_EQ(Run({"lock.acquire", "r", "o", "10", "WAIT"}).str, "ERR syntax error");
  EXPECT_EQ(Run({"lock.acquire", "r", "o", "10", "NOPE"}).str, "ERR syntax error");
  EXPECT_EQ(Run({"lock.acquire", "r", "o", "9223372036854775807"}).str,
            "ERR invalid expire time in 'lock.acquire' command");
  EXPECT_EQ(Run({"lock.fence", "r", "o", "1.5"}).str,
            "ERR value is not an integer or out of range");
  EXPECT_EQ(Run({"lock.acquire", "r"}).str,
            "ERR wrong number of arguments for 'lock.acquire' command");
}

TEST_F(LockFamilyTest, ScriptsNeverBlock) {
  Acquire("holder", {"res", "h", "10000"});
  Resp r =
      Run({"eval", "return redis.call('lock.acquire', KEYS[1], 'w', 100, 'WAIT', 0)", "1", "res"});
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].integer, 0);
  EXPECT_EQ(Run({"eval", "return redis.call('lock.wait', KEYS[1], 0)", "1", "res"}).integer, 0);
}

TEST_F(LockFamilyTest, RestartDelayKeepsTheInstanceOutOfQuorums) {
  settings_for_test().lock_restart_delay = 5000;
  // An error, not a refusal: no one holds the lock, the instance just may not vote yet.
  EXPECT_EQ(Run({"lock.acquire", "res", "me", "1000"}).str,
            "RESTARTING lock acquisitions resume in 5000 ms (lock-restart-delay)");
  EXPECT_EQ(Run({"exists", "res"}).integer, 0);
  EXPECT_EQ(RunRaw({"lock.acquire", "res", "w", "1000", "WAIT", "0"}, "w"), "");
  // The way other lock libraries take a lock is held back too: answered as if the key existed.
  EXPECT_TRUE(Run({"set", "py-lock", "token", "NX", "PX", "1000"}).is_null());
  EXPECT_EQ(Run({"setnx", "py-lock", "token"}).integer, 0);
  EXPECT_EQ(Run({"set", "py-lock", "token", "NX", "GET"}).str.substr(0, 10), "RESTARTING");
  EXPECT_TRUE(
      Run({"eval", "return redis.call('set', KEYS[1], 'v', 'NX', 'PX', 100)", "1", "py-lock"})
          .is_null());
  EXPECT_EQ(Run({"exists", "py-lock"}).integer, 0);
  EXPECT_EQ(Run({"set", "plain", "v"}).str, "OK");  // writes without NX are not locks
  Tick(5000);
  EXPECT_EQ(Pending("w")[0].integer, 1);
  EXPECT_EQ(Run({"set", "py-lock", "token", "NX", "PX", "1000"}).str, "OK");
}

// An instance that started without its counters (no persistence here) and guards its restarts
// (lock-restart-delay) counts no FENCE until a client caught it up with its peers (LOCK.CATCHUP:
// docs/coordination.md): its own counters may be below a token a majority committed before.
TEST_F(LockFamilyTest, AnInstanceStartedWithoutCountersCountsNothingUntilCaughtUp) {
  settings_for_test().lock_restart_delay = 1000;
  // During the delay it cannot say yet what its peers' counters will include.
  EXPECT_EQ(Run({"lock.catchup"}).str,
            "RESTARTING lock acquisitions resume in 1000 ms (lock-restart-delay)");
  Tick(1000);
  Resp state = Run({"lock.catchup"});
  ASSERT_EQ(state.size(), 5u) << state.str;
  EXPECT_EQ(state[0].integer, 0);  // not settled
  const int64_t floor = state[1].integer;
  EXPECT_GT(floor, 0);
  EXPECT_EQ(state[2].integer, 0);  // its delay ended just now
  const std::string run_id = state[3].str;
  EXPECT_EQ(run_id.size(), 40u);
  EXPECT_EQ(state[4].integer, 0);  // counting nothing
  Tick(30);
  EXPECT_EQ(Run({"lock.catchup"})[2].integer, 30);

  // Granted, but neither a proposal nor a FENCE is counted (-1, UNSETTLED), and nothing moves.
  Resp proposed = Run({"lock.acquire", "r", "me", "10000", "PROPOSE", std::to_string(floor + 5)});
  ASSERT_EQ(proposed.size(), 4u) << proposed.str;
  EXPECT_EQ(proposed[0].integer, 1);
  EXPECT_EQ(proposed[1].integer, floor);
  EXPECT_EQ(proposed[3].integer, -1);
  EXPECT_EQ(Run({"lock.fence", "r", "me", std::to_string(floor + 7)}).str,
            "UNSETTLED this instance started without its fencing counters and counts no token "
            "until it is caught up (LOCK.CATCHUP)");
  EXPECT_TRUE(Run({"lock.info", "r"})[7].is_null());
  EXPECT_EQ(Run({"lock.info", "r"})[5].integer, floor);
  // The one-instance form (FENCE) has no peers to catch up with: it counts from the boot floor.
  EXPECT_EQ(Acquire("a", {"single", "me", "1000", "FENCE"}).token, floor + 1);

  // A catch-up meant for another life of the instance changes nothing.
  EXPECT_EQ(Run({"lock.catchup", std::to_string(floor + 100), std::string(40, '0')}).integer, 0);
  EXPECT_TRUE(Run({"lock.fence", "r", "me", std::to_string(floor + 9)}).is_error());
  // Caught up: every counter rises to what the peers hold, and FENCE counts again.
  EXPECT_EQ(Run({"lock.catchup", std::to_string(floor + 100), run_id}).integer, 1);
  state = Run({"lock.catchup"});
  EXPECT_EQ(state[0].integer, 1);
  EXPECT_EQ(state[1].integer, floor + 100);
  EXPECT_EQ(state[4].integer, 1);
  EXPECT_EQ(Run({"lock.info", "never-seen"})[5].integer, floor + 100);
  EXPECT_EQ(Run({"lock.fence", "r", "me", std::to_string(floor + 50)}).integer, 0);
  EXPECT_EQ(Run({"lock.fence", "r", "me", std::to_string(floor + 101)}).integer, 1);
  // Once settled, counters move only by counting: a late catch-up changes nothing.
  EXPECT_EQ(Run({"lock.catchup", std::to_string(floor + 1000), run_id}).integer, 0);
  EXPECT_EQ(Run({"lock.catchup"})[1].integer, floor + 101);
  // The catch-up is in the stream (the replay of this test checks the counters it left).
  bool epoch = false;
  for (const Argv& argv : TakePropagated())
    epoch |= argv[0] == "LOCK.EPOCH" && argv[2] == std::to_string(floor + 100);
  EXPECT_TRUE(epoch);

  EXPECT_EQ(Run({"lock.catchup", "1"}).str, "ERR syntax error");
  EXPECT_EQ(Run({"lock.catchup", "-1", run_id}).str,
            "ERR fencing counter is out of range (0 to 9007199254740991)");
  EXPECT_EQ(Run({"lock.catchup", "x", run_id}).str, "ERR value is not an integer or out of range");
}

// Without lock-restart-delay the operator has not asked for restarts to be guarded: the
// instance counts at once, as before, though it says its history is not complete (it is no
// trustworthy source for catching another instance up) until it is caught up itself.
TEST_F(LockFamilyTest, WithoutARestartDelayTheInstanceCountsAtOnce) {
  Resp state = Run({"lock.catchup"});
  ASSERT_EQ(state.size(), 5u) << state.str;
  EXPECT_EQ(state[0].integer, 0);
  EXPECT_EQ(state[4].integer, 1);
  Acquire("a", {"r", "me", "10000"});
  EXPECT_EQ(Run({"lock.fence", "r", "me", std::to_string(state[1].integer + 1)}).integer, 1);
  EXPECT_EQ(Run({"lock.catchup", std::to_string(state[1].integer + 5), state[3].str}).integer, 1);
  EXPECT_EQ(Run({"lock.catchup"})[0].integer, 1);
}

TEST_F(LockFamilyTest, IdleRecordsFoldIntoTheFloor) {
  int64_t highest = 0;
  for (int i = 0; i < 10; i++) {
    std::string r = "r" + std::to_string(i);
    Acq a = Acquire("a", {r, "me", "1000", "FENCE"});
    highest = std::max(highest, a.token);
    Run({"lock.release", r, "me"});
  }
  Acquire("a", {"held", "me", "100000", "FENCE"});
  // Guard marks are records too: ten guarded resources do not pin ten records.
  for (int i = 0; i < 10; i++) {
    EXPECT_EQ(
        Run({"lock.guard", "g" + std::to_string(i), std::to_string(1000 + i), "set", "x", "y"}).str,
        "OK");
  }
  server().locks().Trim(2);
  EXPECT_LE(server().locks().fences().size(), 2u);
  EXPECT_NE(server().locks().fences().Peek("held"), nullptr);
  EXPECT_EQ(server().locks().fences().Peek("g0"), nullptr);
  // A dropped resource starts again above every token it handed out ...
  EXPECT_GT(Acquire("a", {"r0", "me", "1000", "FENCE"}).token, highest);
  // ... and its guard never accepts a token below one it accepted before (the marks dropped fold
  // into one per-instance mark: the highest of them).
  EXPECT_EQ(Run({"lock.guard", "g0", "999", "set", "x", "z"}).str,
            "FENCED token 999 is older than 1008 for 'g0'");
  EXPECT_EQ(Run({"lock.guard", "g0", "1008", "set", "x", "z"}).str, "OK");
}

}  // namespace
}  // namespace keyward::test
