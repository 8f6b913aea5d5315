// What a command handler gets: its client, its reply builder, its database and the server time of
// the command, the parts of the server it may use (services(), declared by the commands layer),
// and the bookkeeping every write performs, in Redis's order: mutate, signal the modified key,
// notify, count the change, propagate, reply.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "server/core/status.h"
#include "server/engine/client.h"
#include "server/engine/gatekeeper.h"
#include "server/engine/propagation.h"
#include "server/keyspace/database.h"

namespace keyward {

class CommandSpec;
class Executor;
class Keyspace;
struct ServerSettings;
// The parts of the server command families use; defined by the commands layer
// (server/commands/services.h), which the engine does not know.
struct Services;

class CommandContext {
 public:
  CommandContext(Executor& executor, Client& client, const CommandSpec& cmd, CallerKind caller,
                 bool replicate = true);

  Client& client() { return client_; }
  ReplyBuilder& rb() { return client_.rb(); }
  const CommandSpec& cmd() const { return cmd_; }
  CallerKind caller() const { return caller_; }
  // Whether the command may block its client: only a network client's own command may. A
  // script's, a guarded write's or a queued one runs without blocking (Redis runs BLPOP in a
  // script or in MULTI as LPOP).
  bool may_block() const { return caller_ == CallerKind::kClient && !client_.has(Client::kScript); }
  Executor& executor() { return executor_; }
  Services& services();
  Keyspace& keyspace();
  const ServerSettings& settings() const;
  Database& db();
  // The server time the command runs at (one snapshot per command; a script's commands share
  // the script's).
  int64_t now_ms() const;

  // After a write to `key` (Redis's signalModifiedKey): WATCH (transactions.h), client-side
  // caching's invalidation (tracking.h), and waiters on the key (the blocking registry).
  void KeyModified(Database& db, std::string_view key);
  // Fires a keyspace notification of `type_class` (notify::k*) for `key` in `db`.
  void Notify(uint32_t type_class, std::string_view event, std::string_view key, Database& db);
  // Counts changes (Redis's dirty counter). A command that changed something and propagates no
  // form of its own is propagated as received.
  void AddDirty(uint64_t n = 1);
  uint64_t dirty() const { return dirty_; }

  // Propagates this form instead of the command as received (relative times made absolute,
  // SETEX as SET PXAT, INCRBYFLOAT as SET, ...). Several calls propagate several commands, in
  // order, in the command's execution unit.
  void Propagate(std::initializer_list<std::string_view> argv);
  void Propagate(Argv argv);
  // A command for replicas only (PUBLISH; never the AOF).
  void PropagateToReplicas(Argv argv);
  // Propagate only what Propagate() gave, never the command as received (EVAL: the commands its
  // script ran stand for it; LOCK.GUARD: the write it ran).
  void PropagateOnlyCollected() { only_collected_ = true; }
  // Whether anything this command propagates reaches a consumer (skip building forms if not).
  bool propagating() const;
  bool replicate() const { return replicate_; }

  // Output that is not a reply: it reaches the client even under CLIENT REPLY OFF/SKIP
  // (subscription confirmations, as Redis's pushes).
  void SendPush(std::string_view bytes);

  // Replies with the error text of a keyspace status.
  void SendStatus(OpStatus status);

  // After the handler: the command as received goes to the stream when it changed something
  // and gave no form of its own.
  void Finish(CmdArgs args);

 private:
  Executor& executor_;
  Client& client_;
  const CommandSpec& cmd_;
  CallerKind caller_;
  bool replicate_;
  int db_at_start_;
  uint64_t dirty_ = 0;
  bool explicit_form_ = false;
  bool only_collected_ = false;
};

}  // namespace keyward
