// What a command handler gets: its client, the server, the reply builder, and the bookkeeping
// every write performs (Redis's order: mutate, signal the modified key, notify, count, reply).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/core/client.h"
#include "server/core/status.h"
#include "server/keyspace/database.h"

namespace keyward {

class Server;
class CommandSpec;

class CommandContext {
 public:
  CommandContext(Server& server, Client& client, const CommandSpec& cmd);

  Server& server() { return server_; }
  Client& client() { return client_; }
  ReplyBuilder& rb() { return client_.rb(); }
  const CommandSpec& cmd() const { return cmd_; }
  Database& db();
  int64_t now_ms() const;

  // After a write to `key`: WATCH and client-tracking invalidation (later issues). The dirty
  // counter is separate: AddDirty.
  void KeyModified(Database& db, std::string_view key);
  // Fires a keyspace notification of `type_class` (notify::k*) for `key` in `db`.
  void Notify(uint32_t type_class, std::string_view event, std::string_view key, Database& db);
  void AddDirty(uint64_t n = 1) { dirty_ += n; }
  uint64_t dirty() const { return dirty_; }

  // Propagation to the AOF and replicas. A write command is propagated as received unless the
  // handler supplies its own form (relative times made absolute, SETEX as SET PXAT, ...).
  void Propagate(std::vector<std::string> args) { propagated_.push_back(std::move(args)); }
  void PreventPropagation() { prevent_propagation_ = true; }
  // Propagate exactly what Propagate() collected, never the command as received (EVAL: the
  // commands its script ran stand for it).
  void PropagateOnlyCollected() { only_collected_ = true; }
  // Wraps what was collected in MULTI ... EXEC, so replicas apply it atomically.
  void WrapPropagatedInTransaction() {
    propagated_.insert(propagated_.begin(), {"MULTI"});
    propagated_.push_back({"EXEC"});
  }
  const std::vector<std::vector<std::string>>& propagated() const { return propagated_; }
  bool propagation_prevented() const { return prevent_propagation_; }
  bool propagates_only_collected() const { return only_collected_; }

  // Replies with the error text of a keyspace status.
  void SendStatus(OpStatus status);

 private:
  Server& server_;
  Client& client_;
  const CommandSpec& cmd_;
  uint64_t dirty_ = 0;
  bool prevent_propagation_ = false;
  bool only_collected_ = false;
  std::vector<std::vector<std::string>> propagated_;
};

}  // namespace keyward
