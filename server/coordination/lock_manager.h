// Native locks on one instance: acquisition with fencing counters, owner-checked release and
// extension, and fair blocking waits.
//
// The lock itself is an ordinary string key (`SET resource owner NX PX ttl` semantics), so
// node-redlock, redis-py's Lock and these commands exclude each other. What is not in the keyspace
// lives here: the fencing records (fence_table.h) and the waiters.
//
// Waiting: a client that asks to wait is blocked (its later input waits in its buffer, as under
// CLIENT PAUSE) in a FIFO queue per (database, resource). The queue is served when the key goes
// away (the keyspace reports every removal: release, DEL, expiry, FLUSHALL), after the command
// that removed it and within the same event-loop turn, so the lock changes hands without anyone
// polling. A queue whose lock will expire also gets a timer at the deadline: the expiry itself
// wakes the next waiter.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "server/coordination/fence_table.h"
#include "server/core/status.h"

namespace keyward {

class Client;
class CommandContext;
class Database;
class Server;

// LOCK.ACQUIRE's answer: [granted, token, pttl].
struct AcquireOutcome {
  bool granted = false;
  int64_t token = 0;  // FENCE: the holder's token; otherwise F(R)
  int64_t pttl = 0;   // granted: the TTL; refused: the holder's remaining TTL (-1: none)
  // Refused because the instance is in its restart delay (pttl: what is left of it), not
  // because anyone holds the lock.
  bool restarting = false;
};

struct AcquireRequest {
  std::string_view resource;
  std::string_view owner;
  int64_t ttl_ms = 0;
  bool fence = false;  // ACQ and FENCE in one step (a single instance)
};

class ReplyBuilder;
// [granted, token, pttl]
void SendAcquireOutcome(ReplyBuilder& rb, const AcquireOutcome& outcome);

class LockManager {
 public:
  explicit LockManager(Server& server);

  FenceTable& fences() { return fences_; }

  // Takes the lock if free or already held by the owner (re-entrant: the TTL restarts). Writes,
  // notifications and propagation go through `ctx`. kWrongType when the key is not a string.
  Result<AcquireOutcome> Acquire(CommandContext& ctx, const AcquireRequest& req);
  // Owner-checked DEL / PEXPIRE. False when the key is not held by `owner`.
  bool Release(CommandContext& ctx, std::string_view resource, std::string_view owner);
  Result<bool> Extend(CommandContext& ctx, std::string_view resource, std::string_view owner,
                      int64_t ttl_ms);
  // FENCE(R, owner, T): true when counted (see COORDINATION.md).
  bool Fence(CommandContext& ctx, std::string_view resource, std::string_view owner, int64_t token);
  // The holder of `resource` in `db` (nullopt: free) and its remaining TTL (-1: none). The view
  // lives until the next write. kWrongType when the key is not a string.
  Result<std::optional<std::string_view>> Holder(Database& db, std::string_view resource,
                                                 int64_t* pttl);

  // Blocks the client of `ctx` until the resource is free (take: then acquires it for the
  // request) or until `timeout_ms` (0: none).
  void Block(CommandContext& ctx, const AcquireRequest& req, bool take, int64_t timeout_ms);
  size_t waiters(int db, std::string_view resource) const;
  size_t blocked_clients() const { return blocked_.size(); }
  // Pending timers: each waiter's timeout and each queue's deadline check, at most one each.
  size_t pending_timers() const { return timers_.size(); }

  // Keyspace events: a key went away (any way), or a whole database was emptied or swapped.
  void KeyRemoved(int db, std::string_view key);
  void DatabaseReset(int db);
  void ClientClosed(Client& c);
  // CLIENT UNBLOCK: answers a waiting client now, as if its wait timed out, or with
  // -UNBLOCKED (`error`). False when the client is not waiting.
  bool UnblockClient(uint64_t client_id, bool error);

  // Serves the queues whose keys went away; runs after every command and timer batch.
  bool has_ready() const { return !ready_.empty(); }
  void ServeReady();
  // Waiter timeouts and lock deadlines that are due at server time `now_ms`. Returns the next
  // deadline (INT64_MAX when none).
  int64_t RunTimers(int64_t now_ms);
  int64_t next_deadline() const;

  // Drops idle fencing records beyond lock-max-records (the cron).
  void Trim(size_t max_records);

 private:
  struct Waiter {
    uint64_t client_id;
    std::string owner;
    int64_t ttl_ms;
    bool fence;
    bool take;            // LOCK.ACQUIRE ... WAIT; false: LOCK.WAIT
    int64_t deadline_ms;  // -1: waits forever
  };
  struct Timer {
    uint64_t client_id;  // 0: re-check the queue at the lock's deadline
    std::string queue;
  };
  using Timers = std::multimap<int64_t, Timer>;
  struct Queue {
    int db;
    std::string resource;
    std::deque<Waiter> waiters;
    // The one pending check at the holder's deadline (timers_.end(): none).
    Timers::iterator check;
  };
  struct Blocked {
    std::string queue;
    Timers::iterator timeout;  // timers_.end(): waits forever
  };

  static std::string QueueKey(int db, std::string_view resource);
  // Hands the lock to waiters at the head of the queue while it is free; erases an empty queue.
  void Serve(const std::string& key);
  // Checks `queue` again at `at_ms` (the holder's deadline), unless an earlier check is pending:
  // each queue has at most one, and an early one that finds the lock held schedules the next.
  void ScheduleCheck(Queue& queue, const std::string& key, int64_t at_ms);
  void EraseQueue(std::unordered_map<std::string, Queue>::iterator it);
  // Drops the client's blocked state and its timeout.
  void Forget(uint64_t client_id);
  // Unblocks the client whose reply was written to its output from offset `before` on.
  void Unblock(Client& c, size_t before);
  // Ends a client's wait at its timeout (or CLIENT UNBLOCK): the not-granted answer, or
  // `error_reply` when given.
  void Timeout(const std::string& key, uint64_t client_id,
               std::string_view error_reply = std::string_view());
  bool AnySubscribers() const;
  // Publishes `event` on __lock@<db>__:<resource> (when anyone is subscribed to anything).
  void PublishEvent(int db, std::string_view resource, std::string_view event);
  // The restart delay (lock-restart-delay) still running: its remaining milliseconds, else 0.
  int64_t RestartDelayLeft() const;

  Server& server_;
  FenceTable fences_;
  std::unordered_map<std::string, Queue> queues_;
  std::unordered_map<uint64_t, Blocked> blocked_;  // by client id
  std::vector<std::string> ready_;
  Timers timers_;
};

}  // namespace keyward
