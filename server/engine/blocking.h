// The blocking registry: every client that waits for something, what it waits for, its deadline,
// and how it is served. Lock acquisitions (LOCK.ACQUIRE ... WAIT, LOCK.WAIT) are its first users;
// BLPOP and friends, XREAD/XREADGROUP ... BLOCK and WAIT come with their issues.
//
// - Waits on keys: a client waits on one or more keys of one database. Whatever may have made a
//   key ready (a write added it, a delete or expiry removed it, a flush emptied its database)
//   signals it; after the command that did, in the same event-loop turn, the registry offers each
//   ready key to its waiters in arrival order. The family that blocked them decides whether a
//   waiter can be served (its BlockHandler); the first one that cannot keeps its place and holds
//   the waiters of its family behind it, so a key is handed out first come, first served within
//   a family, while other families' waiters are still offered it. A waiter for another type than
//   the key now holds (a BLPOP waiter on what became a sorted set) holds nobody.
// - Waits on a condition (a replication offset for WAIT): every waiter of the condition is
//   offered the chance when it is signalled, each on its own.
// - Deadlines are server timers; a timeout, CLIENT UNBLOCK (TIMEOUT or ERROR) and a disconnect
//   end a wait.
//
// A blocked client's later input waits in its buffer (kBlocked, as under CLIENT PAUSE); when
// it is answered it resumes where it stopped. Scripts never block (Redis runs BLPOP in a script
// as LPOP): families check Client::kScript before blocking.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "server/engine/command.h"
#include "server/engine/timers.h"

namespace keyward {

class Client;
class ClientRegistry;
class CommandContext;
class Executor;

// What a family keeps about one waiting client (LOCK.ACQUIRE's owner and lease, BLPOP's
// direction...).
struct WaitState {
  virtual ~WaitState() = default;
};

enum class WaitCondition : uint8_t {
  kKeys,               // one or more keys of a database
  kReplicationOffset,  // WAIT: replicas acknowledging an offset (the replication issue)
};
inline constexpr size_t kWaitConditions = 2;

// How the clients one family blocked are served.
class BlockHandler {
 public:
  virtual ~BlockHandler() = default;
  // The command a served wait runs as (its context's command) when the request names none.
  virtual const CommandSpec* command() const { return nullptr; }
  // `key` (empty for a condition wait) may be ready for the waiter of `ctx.client()`: serve it if
  // possible, writing its reply through ctx and returning true; return false, writing nothing,
  // to keep waiting.
  virtual bool TryServe(CommandContext& ctx, WaitState* state, std::string_view key) = 0;
  // After TryServe declined: true when the waiter wants nothing from `key` as it is now (it
  // holds another type than the waiter pops), so the waiters of its family behind it may still
  // be served, as Redis 7.0 skips the clients blocked for another type. False (the default)
  // holds this handler's waiters behind this one, first come first served.
  virtual bool PassesOver(CommandContext& ctx, WaitState* state, std::string_view key) {
    return false;
  }
  // The wait timed out (or CLIENT UNBLOCK ... TIMEOUT): write the timeout reply through `c`.
  virtual void OnTimeout(Client& c, WaitState* state) = 0;
  // The last waiter on `key` of `db` left, however (served, timed out, unblocked, gone).
  virtual void OnQueueEmpty(int db, std::string_view key) {}
};

enum class UnblockReason { kTimeout, kError };

struct BlockRequest {
  WaitCondition condition = WaitCondition::kKeys;
  int db = 0;
  std::vector<std::string> keys;  // kKeys: at least one
  int64_t deadline_ms = -1;       // server time; -1 waits forever
  BlockHandler* handler = nullptr;
  // The command a served wait runs as; nullptr: the handler's command() (one of the two is
  // required).
  const CommandSpec* command = nullptr;
  std::unique_ptr<WaitState> state;
};

class BlockingRegistry {
 public:
  BlockingRegistry(ClientRegistry& clients, Timers& timers) : clients_(clients), timers_(timers) {}
  void set_executor(Executor* executor) { executor_ = executor; }

  // Blocks `c` until it is served, times out or is unblocked. Called for a waiter while it is
  // being served (from its handler's TryServe), the new wait follows the served one: the client
  // stays blocked (a lock granted to a waiter, held until replicas acknowledged its record).
  void Block(Client& c, BlockRequest request);
  bool IsBlocked(uint64_t client_id) const { return waiters_.count(client_id) != 0; }
  size_t blocked_clients() const { return waiters_.size(); }
  // Waiters with a deadline (INFO clients_in_timeout_table, Redis's clients_timeout_table).
  size_t timed_waiters() const;
  // Clients waiting on `key` of `db`.
  size_t waiters(int db, std::string_view key) const;
  // The wait state of a blocked client (nullptr when not blocked).
  WaitState* state_of(uint64_t client_id) const;

  // `key` of `db` may have become ready for its waiters (cheap when nobody waits on it).
  void SignalKeyReady(int db, std::string_view key);
  // Every key of `db` with waiters (FLUSHDB, FLUSHALL, SWAPDB).
  void SignalDatabaseReady(int db);
  void SignalCondition(WaitCondition condition);
  bool has_ready() const { return !ready_.empty() || !ready_conditions_.empty(); }
  // Serves the waiters of what was signalled, in arrival order; runs after every command, timer
  // and served wait, until nothing more is ready.
  void ServeReady();

  // CLIENT UNBLOCK: ends a wait with its timeout reply or -UNBLOCKED. False when not blocked.
  bool Unblock(uint64_t client_id, UnblockReason reason);
  // Ends every wait with `error` and closes those clients once it is written (a master that
  // becomes a replica: what they wait for will come from another server's stream).
  void UnblockAll(std::string_view error);
  // A blocked client disconnected: it leaves every queue.
  void ClientClosed(Client& c);

 private:
  struct Waiter {
    uint64_t client_id;
    WaitCondition condition;
    int db;
    std::vector<std::string> keys;
    BlockHandler* handler;
    const CommandSpec* command;
    std::unique_ptr<WaitState> state;
    Timers::Id timer = Timers::kNone;
  };
  struct Queue {
    int db;
    std::string key;
    std::deque<uint64_t> clients;  // arrival order
  };
  static std::string QueueKey(int db, std::string_view key);
  // Serves waiter `id` through its handler; true when served. A wait the handler started
  // meanwhile for the same client replaces the served one.
  bool Serve(uint64_t id, Client& c, std::string_view key, bool* pass_over);
  void ServeKey(const std::string& queue_key, std::vector<uint64_t>* answered);
  void ServeCondition(WaitCondition condition, std::vector<uint64_t>* answered);
  // Removes the waiter from its queues (its timer too) and hands back its record.
  Waiter Remove(uint64_t client_id);
  // Resumes answered clients: what they sent meanwhile runs now.
  void Resume(const std::vector<uint64_t>& answered);
  // Ends a wait without serving it: the timeout reply or the error.
  void End(uint64_t client_id, UnblockReason reason);

  ClientRegistry& clients_;
  Timers& timers_;
  Executor* executor_ = nullptr;
  std::unordered_map<uint64_t, Waiter> waiters_;  // by client id
  std::unordered_map<std::string, Queue> queues_;
  std::vector<uint64_t> condition_waiters_[kWaitConditions];
  std::vector<std::string> ready_;  // queue keys, in the order they became ready
  std::unordered_set<std::string> ready_set_;
  std::vector<WaitCondition> ready_conditions_;
  // The waiter being served, and the wait its handler started for it meanwhile.
  uint64_t serving_ = 0;
  std::optional<BlockRequest> continuation_;
};

}  // namespace keyward
