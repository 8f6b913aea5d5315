// Replication as a whole: the server's role (master, or replica of a master), the two sides
// that carry it out (source.h feeds replicas, master_link.h follows a master; a replica can be
// both, in a chain), and what the commands and INFO read of it. The replication family
// (REPLICAOF, REPLCONF, PSYNC, SYNC, ROLE, WAIT) calls in here.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "server/replication/failover.h"
#include "server/replication/master_link.h"
#include "server/replication/source.h"

namespace keyward {

class Replication {
 public:
  struct Parts {
    ReplicationSource::Parts source;
    ServerSettings& settings;  // REPLICAOF rewrites replicaof
    ServerState& state;
    ClientRegistry& clients;
    Executor& executor;
    Keyspace& keyspace;
    FunctionEngine& functions;
    LockManager& locks;
    AofPersistence& aof;
    ClientPause& pause;  // FAILOVER holds writes
  };
  explicit Replication(Parts parts);

  // Start-up, once the dataset is loaded: `replicaof` from the configuration.
  void Start();

  // REPLICAOF host port: false when already following that master (nothing done). With
  // `failover`, the PSYNC asks the new master to take over from this one (FAILOVER).
  bool SetMaster(const std::string& host, int port, bool failover = false);
  // REPLICAOF NO ONE; with `handed_over`, this replica took over from a master whose whole
  // history it has (PSYNC ... FAILOVER at its own offset).
  void SetNoMaster(bool handed_over = false);
  bool is_replica() const { return state_.replica; }
  const ServerState& state() const { return state_; }

  // A full sync emptied the dataset (the tracking invalidation hangs here).
  void OnDatasetReplaced(std::function<void()> hook) {
    link_.set_dataset_replaced(std::move(hook));
  }
  // FAILOVER (this server as the master handing over).
  Failover& failover() { return failover_; }
  // A replica's ACK arrived: a failover waiting for it looks again once this turn is over.
  void AckReceived();

  // Once a second (the cron calls it at every tick; it runs at 1 Hz).
  void Cron();
  // A client closed.
  void ClientClosed(Client& c) { source_.ClientClosed(c); }

  ReplicationSource& source() { return source_; }
  MasterLink& link() { return link_; }
  const ReplicationSource& source() const { return source_; }
  const MasterLink& link() const { return link_; }

  // INFO replication, field by field as Redis 7.0 prints them (without the header).
  std::string Info() const;
  // The AUX fields every RDB this server writes carries (Redis's rdbSaveInfo): the database the
  // stream is in (a sub-replica syncing from this replica continues there), the replication ID
  // and offset the snapshot stands at.
  std::string RdbAux() const;

 private:
  ServerSettings& settings_;
  ServerState& state_;
  ClientRegistry& clients_;
  Clock& clock_;
  RdbPersistence& rdb_;
  ReplicationSource source_;
  MasterLink link_;
  Failover failover_;
  bool failover_check_posted_ = false;
  int64_t last_cron_ms_ = 0;
};

}  // namespace keyward
