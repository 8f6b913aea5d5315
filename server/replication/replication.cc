#include "server/replication/replication.h"

#include <spdlog/spdlog.h>

#include <cstdio>

#include "server/storage/rdb_format.h"
#include "server/storage/rdb_persistence.h"

namespace keyward {

namespace {

const char* ReplicaStateName(ReplicationSource::State s) {
  switch (s) {
    case ReplicationSource::State::kWaitBgsaveStart:
    case ReplicationSource::State::kWaitBgsaveEnd:
      return "wait_bgsave";
    case ReplicationSource::State::kSendBulk:
      return "send_bulk";
    case ReplicationSource::State::kOnline:
      return "online";
    case ReplicationSource::State::kHandshake:
      break;
  }
  return "";
}

}  // namespace

Replication::Replication(Parts parts)
    : settings_(parts.settings),
      state_(parts.state),
      clients_(parts.clients),
      clock_(parts.source.clock),
      rdb_(parts.source.rdb),
      source_(parts.source),
      link_(MasterLink::Parts{parts.settings, parts.state, parts.clients, parts.source.blocking,
                              parts.executor, parts.keyspace, parts.functions, parts.locks,
                              parts.source.rdb, parts.aof, source_, parts.source.stats,
                              parts.source.clock}),
      failover_(*this, parts.pause, parts.source.clock, parts.locks, parts.source.propagation) {
  link_.set_failover_reply([this](bool accepted) { failover_.PsyncReplied(accepted); });
}

void Replication::Start() {
  if (settings_.replicaof_host.empty()) return;
  // A replica restarted with its data (an RDB that says where in its master's stream it was)
  // asks to continue from there (Redis's rdbSaveInfo at start-up).
  const auto& saved = rdb_.loaded_replication();
  const bool resume = !saved.replid.empty() && saved.offset >= 0;
  if (resume) {
    state_.replid = saved.replid;
    state_.master_repl_offset = saved.offset;
    link_.set_stream_db(static_cast<int>(saved.stream_db));
  }
  link_.Connect(settings_.replicaof_host, static_cast<int>(settings_.replicaof_port),
                /*continue_own=*/resume);
}

bool Replication::SetMaster(const std::string& host, int port, bool failover) {
  if (state_.replica && link_.host() == host && link_.port() == port) return false;
  // REPLICAOF shows in CONFIG GET replicaof (and CONFIG REWRITE writes it).
  settings_.replicaof_host = host;
  settings_.replicaof_port = port;
  link_.Connect(host, port, /*continue_own=*/true, failover);
  return true;
}

void Replication::SetNoMaster(bool handed_over) {
  settings_.replicaof_host.clear();
  settings_.replicaof_port = 0;
  link_.Disconnect(handed_over);
}

void Replication::AckReceived() {
  if (failover_.state() != Failover::State::kWaitForSync || failover_check_posted_) return;
  if (state_.host == nullptr) return failover_.Update();
  // Not inside the ACK's own command: the hand-over closes and re-opens links.
  failover_check_posted_ = true;
  state_.host->Post([this] {
    failover_check_posted_ = false;
    // Not in the middle of a busy script or a load (their event processing runs posted tasks):
    // the cron, which waits for both, looks then.
    if (state_.busy_script || state_.loading) return;
    failover_.Update();
  });
}

void Replication::Cron() {
  // A failover's timeout is checked at every tick (Redis's beforeSleep).
  failover_.Update();
  const int64_t now = clock_.NowMs();
  if (now - last_cron_ms_ < 1000) return;
  last_cron_ms_ = now;
  link_.Cron();
  source_.Cron();
}

std::string Replication::RdbAux() const {
  std::string out;
  const Client* master = link_.master_client();
  rdb::AppendAux(out, "repl-stream-db", std::to_string(master != nullptr ? master->db : 0));
  rdb::AppendAux(out, "repl-id", state_.replid);
  rdb::AppendAux(out, "repl-offset", std::to_string(state_.master_repl_offset));
  return out;
}

std::string Replication::Info() const {
  std::string out;
  auto field = [&out](std::string_view name, const std::string& value) {
    out.append(name).append(":").append(value).append("\r\n");
  };
  auto num = [](int64_t v) { return std::to_string(v); };
  const int64_t now_s = clock_.NowMs() / 1000;
  field("role", state_.replica ? "slave" : "master");
  if (state_.replica) {
    const bool up = link_.state() == MasterLink::State::kConnected;
    field("master_host", link_.host());
    field("master_port", num(link_.port()));
    field("master_link_status", up ? "up" : "down");
    field("master_last_io_seconds_ago",
          link_.has_master_client() ? num(now_s - link_.last_io_ms() / 1000) : "-1");
    field("master_sync_in_progress", link_.state() == MasterLink::State::kTransfer ? "1" : "0");
    // The offset this server has reached in its master's stream; 1 while it has neither a
    // master client nor a history to offer (a cached master), as Redis prints it.
    const bool known = link_.has_master_client() || link_.has_cached();
    field("slave_read_repl_offset", known ? num(link_.read_offset()) : "1");
    field("slave_repl_offset", known ? num(link_.applied_offset()) : "1");
    if (link_.state() == MasterLink::State::kTransfer) {
      const int64_t size = std::max<int64_t>(link_.transfer_size(), 0);
      const int64_t read = link_.transfer_read();
      char perc[32];
      std::snprintf(perc, sizeof(perc), "%.2f",
                    size > 0 ? static_cast<double>(read) / static_cast<double>(size) * 100 : 0.0);
      field("master_sync_total_bytes", num(size));
      field("master_sync_read_bytes", num(read));
      field("master_sync_left_bytes", num(size - read));
      field("master_sync_perc", perc);
      field("master_sync_last_io_seconds_ago", num(now_s - link_.transfer_last_io_ms() / 1000));
    }
    if (!up) {
      field("master_link_down_since_seconds",
            link_.down_since_ms() != 0 ? num(now_s - link_.down_since_ms() / 1000) : "-1");
    }
    field("slave_priority", num(settings_.replica_priority));
    field("slave_read_only", settings_.replica_read_only ? "1" : "0");
    field("replica_announced", settings_.replica_announced ? "1" : "0");
  }
  field("connected_slaves", num(static_cast<int64_t>(source_.connected())));
  if (settings_.min_replicas_to_write > 0 && settings_.min_replicas_max_lag > 0) {
    field("min_slaves_good_slaves", num(state_.good_replicas));
  }
  int index = 0;
  for (const auto& [id, r] : source_.replicas()) {
    if (r.state == ReplicationSource::State::kHandshake) continue;
    const std::string ip = source_.ReplicaIp(r);
    if (ip.empty()) continue;
    out += "slave" + std::to_string(index++) + ":ip=" + ip + ",port=" + num(r.listening_port) +
           ",state=" + ReplicaStateName(r.state) + ",offset=" + num(r.ack_offset) +
           ",lag=" + num(now_s - r.ack_time_ms / 1000) + "\r\n";
  }
  field("master_failover_state", failover_.StateName());
  field("master_replid", state_.replid);
  field("master_replid2", state_.replid2);
  field("master_repl_offset", num(state_.master_repl_offset));
  field("second_repl_offset", num(state_.second_replid_offset));
  field("repl_backlog_active", source_.backlog().active() ? "1" : "0");
  field("repl_backlog_size", num(settings_.repl_backlog_size));
  field("repl_backlog_first_byte_offset", num(source_.backlog().first_byte_offset()));
  field("repl_backlog_histlen", num(source_.backlog().histlen()));
  return out;
}

}  // namespace keyward
