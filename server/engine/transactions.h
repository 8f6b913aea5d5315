// MULTI/EXEC and WATCH (Redis's multi.c): each client's queued transaction and the keys it
// watches.
//
// - Inside MULTI the gatekeeper hands every command but EXEC, DISCARD, MULTI, WATCH, QUIT and
//   RESET to Queue(); a command refused while queueing marks the transaction (FlagError) and
//   EXEC then aborts with EXECABORT.
// - WATCH records (database, key) pairs. Any write to a watched key (Touch, called from
//   CommandContext::KeyModified and from the keyspace's expiry and removal reports), a flush or
//   a SWAPDB that changes it (TouchDatabase), or its expiry before EXEC makes the client's
//   transaction fail with a null reply (Client::kDirtyCas).
// - A key that was already logically expired when it was watched counts as absent: its deletion
//   is no change (Redis 7.0's watchedKey.expired).
//
// The executor runs the queued commands (transaction_family.cc's EXEC), one after the other in
// the client's execution unit, so the stream carries them as one MULTI ... EXEC.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "server/engine/command.h"
#include "server/engine/propagation.h"

namespace keyward {

class Client;
class Database;
class Keyspace;

struct QueuedCommand {
  const CommandSpec* cmd;
  Argv argv;
};

class Transactions {
 public:
  explicit Transactions(Keyspace& keyspace) : keyspace_(keyspace) {}
  Transactions(const Transactions&) = delete;
  Transactions& operator=(const Transactions&) = delete;

  // MULTI: the client's next commands are queued.
  void Begin(Client& c);
  // A command queued inside MULTI (`flags`: the flags it runs with). Its reply is +QUEUED.
  void Queue(Client& c, const CommandSpec& cmd, uint32_t flags, CmdArgs args);
  // A command refused while queueing: EXEC will abort (Redis's flagTransaction).
  void FlagError(Client& c);
  // How many commands the client has queued, or EXEC is running (CLIENT LIST multi=); -1
  // outside MULTI.
  int64_t QueuedCount(const Client& c) const;
  // The flags EXEC runs with: its own, plus the queued commands' write, deny-oom and
  // may-replicate flags, minus loading and stale if any queued command lacks them (Redis's
  // processCommand judges EXEC by what it will run).
  uint32_t ExecFlags(const Client& c, uint32_t exec_flags) const;
  // EXEC: the queued commands, taken out, and the watches dropped. The client stays in MULTI
  // until End() (commands run by EXEC see it, as in Redis).
  std::vector<QueuedCommand> TakeQueued(Client& c);
  // DISCARD, the end of EXEC, RESET: out of MULTI, nothing queued, nothing watched.
  void End(Client& c);

  // WATCH of `key` in database `db`.
  void Watch(Client& c, int db, std::string_view key);
  // UNWATCH (and the client's close): stops watching every key.
  void UnwatchAll(Client& c);
  // Whether a key the client watched (alive at WATCH time) has expired since (EXEC aborts).
  bool WatchedKeyExpired(const Client& c);
  // The key was modified: the transactions of clients watching it will fail.
  void Touch(Database& db, std::string_view key) {
    if (watched_ != 0) TouchWatched(db, key);
  }
  // `emptied` is about to be flushed (replaced_with null) or swapped with `replaced_with`:
  // watchers of keys that exist in either fail (Redis's touchAllWatchedKeysInDb).
  void TouchDatabase(Database& emptied, Database* replaced_with);

  // The client is going away.
  void Forget(Client& c);

 private:
  struct Watcher {
    Client* client;
    bool expired;  // the key was already logically expired when WATCH was called
  };
  struct WatchedKey {
    int db;
    std::string key;
  };
  struct ClientState {
    std::vector<QueuedCommand> commands;
    size_t running = 0;      // commands EXEC took and is running
    uint32_t flags = 0;      // the union of the queued commands' flags
    uint32_t inv_flags = 0;  // the union of their complements (a flag some command lacks)
    std::vector<WatchedKey> watched;
  };
  using Watchers = std::unordered_map<std::string, std::vector<Watcher>>;

  void TouchWatched(Database& db, std::string_view key);
  // The client's watches fail: it is marked and stops watching (nothing can undo it).
  void MarkDirty(Client& c);
  Watchers& WatchersOf(int db);
  void ForgetIfIdle(const Client& c);

  Keyspace& keyspace_;
  std::unordered_map<const Client*, ClientState> clients_;
  std::vector<Watchers> watchers_;  // per database: key -> who watches it
  size_t watched_ = 0;              // (client, key) pairs watched, all databases
};

}  // namespace keyward
