// The server: builds its parts and connects them; nothing else. Each part has one job and its
// own files (server/engine/ for the executor, gatekeeper, propagation stream, blocking registry,
// clients, output, timers and cron, statistics; server/coordination/ and server/scripting/ for
// the services above them), and command handlers reach them through Services, never through
// this class. main.cc hosts it on the event loop; tests host it in-process with no socket.
#pragma once

#include <memory>
#include <random>

#include "server/acl/access_control.h"
#include "server/commands/services.h"
#include "server/coordination/lock_manager.h"
#include "server/coordination/lock_waits.h"
#include "server/core/clock.h"
#include "server/core/config.h"
#include "server/core/settings.h"
#include "server/engine/blocking.h"
#include "server/engine/client_registry.h"
#include "server/engine/cron.h"
#include "server/engine/eviction.h"
#include "server/engine/executor.h"
#include "server/engine/gatekeeper.h"
#include "server/engine/host.h"
#include "server/engine/keyspace_events.h"
#include "server/engine/latency.h"
#include "server/engine/monitor.h"
#include "server/engine/notifier.h"
#include "server/engine/output.h"
#include "server/engine/pause.h"
#include "server/engine/propagation.h"
#include "server/engine/registry.h"
#include "server/engine/server_state.h"
#include "server/engine/session.h"
#include "server/engine/slowlog.h"
#include "server/engine/stats.h"
#include "server/engine/timers.h"
#include "server/engine/tracking.h"
#include "server/engine/transactions.h"
#include "server/keyspace/keyspace.h"
#include "server/net/transport.h"
#include "server/pubsub/pubsub.h"
#include "server/replication/replication.h"
#include "server/scripting/function_engine.h"
#include "server/scripting/lua_engine.h"
#include "server/sentinel/sentinel.h"
#include "server/storage/aof_persistence.h"
#include "server/storage/rdb_persistence.h"
#include "server/storage/snapshot_job.h"

namespace keyward {

// Sets the process's log level from `loglevel` (start-up and CONFIG SET).
void ApplyLogLevel(const ServerSettings& settings);

class Server {
 public:
  Server(Clock* clock, Config* config, ServerSettings* settings);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Declares every option of redis.conf that Keyward understands (server_config.cc).
  static void DeclareOptions(Config& config, ServerSettings& settings);

  void set_host(ServerHost* host);
  // The session of a new connection (the network layer's SessionFactory).
  std::unique_ptr<net::Session> NewSession(net::Transport& transport) {
    return sessions_.Open(transport);
  }
  // The host's alarm fired (Timers asked for it).
  void RunTimers() { cron_.RunTimers(); }
  // One cron tick, at `hz`.
  void RunCron() { cron_.Tick(); }
  // A new server-time snapshot (tests moving a manual clock).
  void UpdateTime() { executor_.UpdateTime(); }

  // The parts, for the host and for tests.
  Services& services() { return services_; }
  ServerSettings& settings() { return *settings_; }
  ServerState& state() { return state_; }
  Keyspace& keyspace() { return keyspace_; }
  const CommandRegistry& registry() const { return registry_; }
  ClientRegistry& clients() { return clients_; }
  Executor& executor() { return executor_; }
  Gatekeeper& gatekeeper() { return gatekeeper_; }
  Propagation& propagation() { return propagation_; }
  BlockingRegistry& blocking() { return blocking_; }
  Transactions& transactions() { return transactions_; }
  Tracking& tracking() { return tracking_; }
  Timers& timers() { return timers_; }
  LockManager& locks() { return locks_; }
  LockWaits& lock_waits() { return lock_waits_; }
  FunctionEngine& functions() { return functions_; }
  RdbPersistence& rdb() { return rdb_; }
  const SnapshotJob& snapshots() const { return snapshots_; }
  AofPersistence& aof() { return aof_; }
  Replication& replication() { return replication_; }
  acl::AccessControl& acl() { return acl_; }
  // Sentinel mode (settings.sentinel_mode) only; nullptr otherwise.
  sentinel::Sentinel* sentinel() { return sentinel_.get(); }
  int64_t now_ms() const { return keyspace_.now_ms(); }

 private:
  void RegisterCommands();
  void WireAcl();

  Clock* clock_;
  Config* config_;
  ServerSettings* settings_;
  std::mt19937_64 rng_;
  ServerState state_;
  ServerStats stats_;
  CommandRegistry registry_;
  Propagation propagation_;
  Timers timers_;
  ClientRegistry clients_;
  // Before everything that takes clients: a new client starts as its default user.
  acl::AccessControl acl_;
  PubSub pubsub_;
  KeyspaceNotifier notifier_;
  BlockingRegistry blocking_;
  KeyspaceEvents keyspace_events_;
  Keyspace keyspace_;
  Transactions transactions_;
  Tracking tracking_;
  ReplyOutput output_;
  ClientPause pause_;
  SlowLog slowlog_;
  LatencyMonitor latency_;
  MonitorFeed monitors_;
  Gatekeeper gatekeeper_;
  Executor executor_;
  Sessions sessions_;
  class Cron cron_;
  Evictor evictor_;
  LockManager locks_;
  LockWaits lock_waits_;
  LuaEngine lua_;
  FunctionEngine functions_;
  SnapshotJob snapshots_;
  RdbPersistence rdb_;
  AofPersistence aof_;
  Replication replication_;
  std::unique_ptr<sentinel::Sentinel> sentinel_;
  Services services_;
};

}  // namespace keyward
