#include "server/server.h"

#include <spdlog/spdlog.h>

#include "server/commands/families.h"
#include "server/commands/replica_acks.h"
#include "server/core/strings.h"

namespace keyward {

namespace {

// The server's start: its identity and the time it starts at (the lock manager's boot floor
// derives from it).
ServerState InitialState(std::mt19937_64& rng, Clock& clock) {
  ServerState state;
  state.run_id = RandomHex(rng, 40);
  state.replid = RandomHex(rng, 40);  // Redis's changeReplicationId at start
  state.start_time_ms = clock.NowMs();
  return state;
}

}  // namespace

Server::Server(Clock* clock, Config* config, ServerSettings* settings)
    : clock_(clock),
      config_(config),
      settings_(settings),
      rng_(std::random_device{}()),
      state_(InitialState(rng_, *clock)),
      clients_(*settings, stats_),
      acl_(registry_, *settings, clients_, *clock),
      pubsub_([this](Client& c, std::string_view bytes) { output_.SendToOther(c, bytes); },
              [](const Client& c) { return c.resp; },
              [](Client& c) -> ClientSubscriptions& { return c.subscriptions; }),
      notifier_(*settings, pubsub_),
      blocking_(clients_, timers_),
      keyspace_events_(*settings, notifier_, propagation_, blocking_, transactions_, tracking_),
      keyspace_(static_cast<int>(settings->databases), rng_(), &keyspace_events_, settings),
      transactions_(keyspace_),
      tracking_(clients_, output_),
      output_(*settings, stats_, clients_, keyspace_),
      pause_(clients_),
      monitors_(*clock, output_),
      gatekeeper_(registry_, *settings, state_, clients_, pause_, transactions_),
      executor_(ExecutorParts{*clock, *settings, keyspace_, registry_, gatekeeper_, clients_,
                              output_, pause_, stats_, slowlog_, monitors_, propagation_, blocking_,
                              notifier_, state_, transactions_, tracking_, latency_}),
      sessions_(*settings, stats_, clients_, executor_, output_, keyspace_),
      cron_(keyward::Cron::Parts{*clock, *settings, state_, keyspace_, clients_, pause_, stats_,
                                 output_, executor_, blocking_, timers_}),
      evictor_(Evictor::Parts{*settings, state_, keyspace_, clients_, stats_, notifier_,
                              propagation_, latency_, executor_, *clock}),
      locks_(*settings, state_, keyspace_, pubsub_, propagation_),
      lock_waits_(locks_, keyspace_, blocking_, timers_, registry_, *clock),
      lua_(executor_),
      functions_(executor_),
      snapshots_(SnapshotJob::Parts{*settings, state_, keyspace_, timers_, *clock}),
      rdb_(RdbPersistence::Parts{*settings, state_, keyspace_, propagation_, functions_, locks_,
                                 *clock, snapshots_}),
      aof_(AofPersistence::Parts{*settings, state_, keyspace_, propagation_, functions_, locks_,
                                 *clock, snapshots_, executor_}),
      replication_(Replication::Parts{
          ReplicationSource::Parts{*settings, state_, clients_, output_, propagation_, blocking_,
                                   timers_, *clock, stats_, rdb_, snapshots_, functions_, locks_},
          *settings, state_, clients_, executor_, keyspace_, functions_, locks_, aof_, pause_}),
      services_(Services{*clock,   *config,    *settings,    state_,      rng_,          keyspace_,
                         pubsub_,  registry_,  clients_,     output_,     pause_,        stats_,
                         slowlog_, monitors_,  propagation_, blocking_,   cron_,         executor_,
                         lua_,     functions_, locks_,       lock_waits_, transactions_, tracking_,
                         latency_, rdb_,       aof_,         snapshots_,  replication_,  acl_}) {
  if (settings->sentinel_mode) {
    sentinel_ = std::make_unique<sentinel::Sentinel>(
        sentinel::Sentinel::Parts{*settings, *config, *clock, pubsub_, timers_, state_, rng_});
    services_.sentinel = sentinel_.get();
  }
  executor_.UpdateTime();
  executor_.set_services(&services_);
  gatekeeper_.set_services(&services_);
  blocking_.set_executor(&executor_);
  // lock-fence-replicas holds a fenced grant to a waiter too.
  lock_waits_.set_fence_hold(HoldFencedReply);
  keyspace_events_.AddObserver(&locks_);
  keyspace_events_.AddObserver(&lock_waits_);  // hand-off latencies
  // BCAST invalidations collected during a batch go out when it ends (Redis's beforeSleep).
  output_.BeforeFlush([this] { tracking_.BroadcastPending(); });
  // What a closing client leaves behind, part by part.
  clients_.OnClose([this](Client& c) {
    pubsub_.UnsubscribeAll(c);
    blocking_.ClientClosed(c);
    transactions_.Forget(c);
    tracking_.Disable(c);
    monitors_.Remove(c);
    pause_.Forget(c);
    replication_.ClientClosed(c);
  });
  cron_.AddJob([this] { locks_.Trim(static_cast<size_t>(settings_->lock_max_records)); });
  cron_.AddJob([this] {
    // Not while a dataset loads (the loader serves clients now and then): no snapshot of half of
    // it, no save point, no replication step under the loading sync.
    if (state_.loading) return;
    snapshots_.Cron();
    rdb_.Cron();
    aof_.Cron();
    replication_.Cron();
  });
  // A full sync sends its replicas the file a background save wrote.
  rdb_.OnBackgroundSaveDone([this](const std::string& error, const std::string& path) {
    replication_.source().BackgroundSaveDone(error, path);
  });
  // Clients caching keys of a replica drop them all when a full sync replaces its dataset.
  replication_.OnDatasetReplaced([this] { tracking_.InvalidateAllOnFlush(); });
  settings_->on_repl_backlog_size_change = [this] { replication_.source().ResizeBacklog(); };
  rdb_.SetReplicationAux([this] { return replication_.RdbAux(); });
  // -MISCONF after a failed background save (stop-writes-on-bgsave-error) or AOF write.
  gatekeeper_.hooks().disk_error = [this] {
    if (auto error = rdb_.DiskError()) return error;
    return aof_.WriteError();
  };
  // maxmemory: evictions before every client command; a held lock is never evicted.
  gatekeeper_.hooks().out_of_memory = [this] {
    if (settings_->maxmemory == 0) return false;
    return evictor_.PerformEvictions() == Evictor::Result::kFail;
  };
  evictor_.set_pinned([this](const Entry& e) { return locks_.Pins(e); });
  settings_->on_maxmemory_change = [this] {
    if (settings_->maxmemory == 0) return;
    const size_t used = evictor_.CountedMemory();
    if (static_cast<size_t>(settings_->maxmemory) < used) {
      spdlog::warn(
          "WARNING: the new maxmemory value set via CONFIG SET ({}) is smaller than the current "
          "memory usage ({}). This will result in key eviction and/or the inability to accept "
          "new write commands depending on the maxmemory-policy.",
          settings_->maxmemory, used);
    }
    evictor_.PerformEvictions();
  };
  // CONFIG SET appendonly.
  settings_->on_appendonly_change = [this]() -> std::optional<std::string> {
    // Not while the dataset loads: a rewrite would snapshot half of it.
    if (state_.loading) return std::string("can't change appendonly while loading the dataset");
    if (settings_->appendonly) {
      if (!aof_.Start()) return std::string("Unable to turn on AOF. Check server logs.");
    } else {
      aof_.Stop();
    }
    return std::nullopt;
  };
  RegisterCommands();
  WireAcl();
  state_.used_memory_startup = UsedMemoryBytes();  // INFO used_memory_startup
}

// The ACL: who new clients are, the gatekeeper's permission check, requirepass as the default
// user's password, the ACL LOG's client lines, and the users in CONFIG REWRITE.
void Server::WireAcl() {
  clients_.set_authenticator(&acl_);
  gatekeeper_.hooks().acl = [this](CallerKind kind, const Client& origin, const CommandSpec& cmd,
                                   CmdArgs args) { return acl_.Check(kind, origin, cmd, args); };
  acl_.set_client_info([this](const Client& c) { return DescribeClient(services_, c); });
  if (!settings_->requirepass.empty()) acl_.SetDefaultPassword(settings_->requirepass);
  settings_->on_requirepass_change = [this] { acl_.SetDefaultPassword(settings_->requirepass); };
  settings_->acl_rewrite = [this] {
    return settings_->acl_file.empty() ? acl_.UserLines() : std::vector<std::string>{};
  };
}

Server::~Server() {
  settings_->on_requirepass_change = nullptr;
  settings_->acl_rewrite = nullptr;
  settings_->on_appendonly_change = nullptr;
  settings_->on_maxmemory_change = nullptr;
  settings_->on_repl_backlog_size_change = nullptr;
}

void Server::set_host(ServerHost* host) {
  state_.host = host;
  output_.set_host(host);
  timers_.set_arm([this, host](int64_t at_ms) {
    if (host != nullptr) host->ArmTimer(std::max<int64_t>(0, at_ms - clock_->NowMs()) * 1000);
  });
}

void Server::RegisterCommands() {
  RegisterConnectionFamily(registry_);
  RegisterServerFamily(registry_);
  RegisterConfigFamily(registry_);
  RegisterClientFamily(registry_);
  RegisterIntrospectionFamily(registry_);
  RegisterGenericFamily(registry_);
  RegisterDumpFamily(registry_);
  RegisterMemoryFamily(registry_);
  RegisterExpireFamily(registry_);
  RegisterStringFamily(registry_);
  RegisterBitopsFamily(registry_);
  RegisterListFamily(registry_);
  RegisterHashFamily(registry_);
  RegisterSetFamily(registry_);
  RegisterZSetFamily(registry_);
  RegisterZSetOpsFamily(registry_);
  RegisterSortFamily(registry_);
  RegisterGeoFamily(registry_);
  RegisterHyperLogLogFamily(registry_);
  RegisterStreamFamily(registry_);
  RegisterStreamGroupFamily(registry_);
  RegisterPubSubFamily(registry_);
  RegisterScriptingFamily(registry_);
  RegisterFunctionFamily(registry_);
  RegisterLockFamily(registry_);
  RegisterTransactionFamily(registry_);
  RegisterLatencyFamily(registry_);
  RegisterLolwutFamily(registry_);
  RegisterDebugFamily(registry_);
  RegisterAclFamily(registry_);
  RegisterPersistenceFamily(registry_);
  if (sentinel_) {
    RegisterSentinelFamily(registry_);
    return;
  }
  RegisterReplicationFamily(registry_);
}

}  // namespace keyward
