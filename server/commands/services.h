// The parts of the server command families use, each with one job. Handlers reach them through
// CommandContext::services(); nothing gives them the server as a whole.
#pragma once

#include <random>

#include "server/core/clock.h"
#include "server/core/config.h"
#include "server/core/settings.h"
#include "server/engine/blocking.h"
#include "server/engine/client_registry.h"
#include "server/engine/cron.h"
#include "server/engine/executor.h"
#include "server/engine/host.h"
#include "server/engine/latency.h"
#include "server/engine/monitor.h"
#include "server/engine/output.h"
#include "server/engine/pause.h"
#include "server/engine/propagation.h"
#include "server/engine/registry.h"
#include "server/engine/server_state.h"
#include "server/engine/slowlog.h"
#include "server/engine/stats.h"
#include "server/engine/tracking.h"
#include "server/engine/transactions.h"
#include "server/keyspace/keyspace.h"
#include "server/pubsub/pubsub.h"

namespace keyward {

namespace acl {
class AccessControl;
}
class FunctionEngine;
class LockManager;
class LockWaits;
class LuaEngine;
class RdbPersistence;
class AofPersistence;
class SnapshotJob;
class Replication;
namespace sentinel {
class Sentinel;
}

struct Services {
  Clock& clock;
  Config& config;
  ServerSettings& settings;
  ServerState& state;
  std::mt19937_64& rng;
  Keyspace& keyspace;
  PubSub& pubsub;
  const CommandRegistry& registry;
  ClientRegistry& clients;
  ReplyOutput& output;
  ClientPause& pause;
  ServerStats& stats;
  SlowLog& slowlog;
  MonitorFeed& monitors;
  Propagation& propagation;
  BlockingRegistry& blocking;
  Cron& cron;
  Executor& executor;
  LuaEngine& lua;
  FunctionEngine& functions;
  LockManager& locks;
  LockWaits& lock_waits;
  Transactions& transactions;
  Tracking& tracking;
  LatencyMonitor& latency;
  RdbPersistence& rdb;
  AofPersistence& aof;
  SnapshotJob& snapshots;  // the one background snapshot (BGSAVE or an AOF rewrite)
  Replication& replication;
  acl::AccessControl& acl;
  // Sentinel mode only (keyward-sentinel); nullptr in a data server.
  sentinel::Sentinel* sentinel = nullptr;
};

}  // namespace keyward
