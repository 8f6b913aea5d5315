#include "server/replication/source.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "server/core/strings.h"
#include "server/storage/rdb_persistence.h"
#include "server/storage/snapshot_job.h"

namespace keyward {

namespace {

// What a replica's output may hold of the RDB at once: the rest waits until the socket took it.
constexpr size_t kBulkChunk = 256 * 1024;
constexpr size_t kBulkWindow = 4 * kBulkChunk;
// How soon a replica whose socket was full gets its next chunk.
constexpr int64_t kPumpRetryMs = 1;

}  // namespace

ReplicationSource::~ReplicationSource() {
  for (auto& [id, r] : replicas_) {
    if (r.fd >= 0) ::close(r.fd);
  }
  if (consumer_) p_.propagation.RemoveConsumer(this);
}

void ReplicationSource::set_master_role(bool master) {
  // A new master counts the time without replicas from now (or its backlog, which the other
  // replicas of the old master need to continue, would be freed at once).
  if (master && !master_role_) no_replicas_since_ms_ = now_ms();
  master_role_ = master;
  const bool consume = master && backlog_.active();
  if (consume == consumer_) return;
  consumer_ = consume;
  if (consume) {
    // Joining the propagation stream forces a SELECT before its next command.
    p_.propagation.AddConsumer(this);
  } else {
    p_.propagation.RemoveConsumer(this);
  }
}

void ReplicationSource::CreateBacklog() {
  backlog_.Create(p_.state.master_repl_offset, static_cast<size_t>(p_.settings.repl_backlog_size));
  set_master_role(master_role_);
}

void ReplicationSource::FreeBacklog() {
  backlog_.Free();
  set_master_role(master_role_);
}

void ReplicationSource::Feed(std::string_view bytes) {
  // Without a backlog nothing follows the stream and the offset stays (Redis's
  // feedReplicationBuffer).
  if (!backlog_.active() || bytes.empty()) return;
  SetOffset(p_.state.master_repl_offset + static_cast<int64_t>(bytes.size()));
  backlog_.Append(bytes);
  for (auto& [id, r] : replicas_) {
    switch (r.state) {
      case State::kHandshake:
      case State::kWaitBgsaveStart:
        break;  // nothing yet: its snapshot will hold this
      case State::kOnline:
        if (!r.wait_first_ack) {
          if (Client* c = p_.clients.Find(id)) p_.output.SendToOther(*c, bytes);
          break;
        }
        [[fallthrough]];
      case State::kWaitBgsaveEnd:
      case State::kSendBulk:
        if (Client* c = p_.clients.Find(id)) {
          r.held.append(bytes);
          c->held_output = r.held.size();
          // Over its limit, the replica is closed (it will try again), as Redis's output
          // buffer limit closes a replica whose sync takes too long under writes.
          p_.output.CheckLimit(*c);
        }
        break;
    }
  }
}

std::optional<std::string> ReplicationSource::Configure(Client& c, std::string_view option,
                                                        std::string_view value) {
  Replica& r = replicas_[c.id()];
  r.client_id = c.id();
  if (EqualsIgnoreCase(option, "listening-port")) {
    int64_t port;
    if (!ParseInt64(value, &port)) return std::string("value is not an integer or out of range");
    r.listening_port = port;
  } else if (EqualsIgnoreCase(option, "ip-address")) {
    // NET_HOST_STR_LEN: 256 bytes including the terminator.
    if (value.size() >= 256) {
      return "REPLCONF ip-address provided by replica instance is too long: " +
             std::to_string(value.size()) + " bytes";
    }
    r.announced_ip = value;
  } else if (EqualsIgnoreCase(option, "capa")) {
    // Capabilities this master does not know are ignored, as Redis does.
    if (EqualsIgnoreCase(value, "eof")) r.capa_eof = true;
    if (EqualsIgnoreCase(value, "psync2")) r.capa_psync2 = true;
  }
  return std::nullopt;
}

void ReplicationSource::SetRdbOnly(Client& c, bool rdb_only) {
  Replica& r = replicas_[c.id()];
  r.client_id = c.id();
  r.rdb_only = rdb_only;
}

void ReplicationSource::SetFunctionsOnly(Client& c, bool include_functions) {
  Replica& r = replicas_[c.id()];
  r.client_id = c.id();
  r.exclude_data = true;
  r.include_functions = include_functions;
}

void ReplicationSource::FinishRdbOnly(Client& c) {
  spdlog::info("RDB transfer completed, rdb only replica ({}) should be disconnected asap",
               c.transport()->peer_address());
  p_.clients.Close(c, /*after_reply=*/true);
}

void ReplicationSource::Ack(Client& c, int64_t offset) {
  if (!c.has(Client::kReplica)) return;
  Replica* r = Find(c.id());
  if (r == nullptr) return;
  if (offset > r->ack_offset) r->ack_offset = offset;
  r->ack_time_ms = now_ms();
  if (r->wait_first_ack) StartStream(c, *r);
  p_.blocking.SignalCondition(WaitCondition::kReplicationOffset);
}

void ReplicationSource::Sync(Client& c, std::string_view replid, int64_t psync_offset, bool psync) {
  spdlog::info("Replica {} asks for synchronization", c.transport()->peer_address());
  Replica& r = replicas_[c.id()];
  r.client_id = c.id();
  if (psync) {
    // Partial: the same history (the current ID, or the previous one up to where it was
    // replaced) and the bytes still in the backlog.
    const bool same_history = EqualsIgnoreCase(replid, p_.state.replid) ||
                              (EqualsIgnoreCase(replid, p_.state.replid2) &&
                               psync_offset <= p_.state.second_replid_offset);
    if (same_history && backlog_.Covers(psync_offset)) {
      c.flags |= Client::kReplica;
      r.state = State::kOnline;
      r.ack_time_ms = now_ms();
      std::string& out = c.transport()->output();
      out += r.capa_psync2 ? "+CONTINUE " + p_.state.replid + "\r\n" : "+CONTINUE\r\n";
      const std::string missing = backlog_.From(psync_offset);
      p_.output.SendToOther(c, missing);
      p_.stats.sync_partial_ok++;
      spdlog::info(
          "Partial resynchronization request from {} accepted. Sending {} bytes of backlog "
          "starting from offset {}.",
          c.transport()->peer_address(), missing.size(), psync_offset);
      RefreshGoodReplicas();
      return;
    }
    if (replid != "?") p_.stats.sync_partial_err++;
    if (!same_history && replid != "?") {
      spdlog::info(
          "Partial resynchronization not accepted: Replication ID mismatch (Replica asked for "
          "'{}', my replication IDs are '{}' and '{}')",
          replid, p_.state.replid, p_.state.replid2);
    } else if (replid != "?") {
      spdlog::info(
          "Unable to partial resync with replica {} for lack of backlog (Replica request was: "
          "{}).",
          c.transport()->peer_address(), psync_offset);
    } else {
      spdlog::info("Full resync requested by replica {}", c.transport()->peer_address());
    }
  } else {
    r.pre_psync = true;
  }
  StartFullSync(c, r);
}

void ReplicationSource::StartFullSync(Client& c, Replica& r) {
  p_.stats.sync_full++;
  if (r.exclude_data) {
    // No keys: the file is made here, at once, and nothing follows it.
    c.flags |= Client::kReplica;
    r.state = State::kSendBulk;
    const std::string rdb =
        RdbWithoutData(p_.settings, p_.functions, p_.locks, r.include_functions);
    if (!r.pre_psync) {
      p_.output.SendToOther(c, "+FULLRESYNC " + p_.state.replid + " " +
                                   std::to_string(p_.state.master_repl_offset) + "\r\n");
    }
    p_.output.SendToOther(c, "$" + std::to_string(rdb.size()) + "\r\n");
    p_.output.SendToOther(c, rdb);
    return FinishRdbOnly(c);
  }
  r.state = State::kWaitBgsaveStart;
  r.ack_time_ms = now_ms();  // no false timeout (and INFO's lag) before the first ACK
  r.wait_since_ms = now_ms();
  c.flags |= Client::kReplica;
  // The first replica of a server without a backlog starts a new history (Redis's syncCommand).
  if (connected() == 1 && !backlog_.active()) {
    p_.state.replid = NewReplid();
    p_.state.replid2 = std::string(40, '0');
    p_.state.second_replid_offset = -1;
    CreateBacklog();
    spdlog::info("Replication backlog created, my new replication IDs are '{}' and '{}'",
                 p_.state.replid, p_.state.replid2);
  }
  // A background save already registering differences for another replica serves this one too.
  if (sync_save_running_) {
    for (auto& [id, other] : replicas_) {
      if (id == c.id() || other.state != State::kWaitBgsaveEnd) continue;
      r.held = other.held;
      SetupFullResync(c, r, other.psync_initial_offset);
      spdlog::info("Waiting for end of BGSAVE for SYNC");
      return;
    }
  }
  if (StartSyncSave()) return;
  if (p_.rdb.job_running() || sync_save_running_ || socket_sync_running_) {
    spdlog::info(
        "No BGSAVE in progress, but another BG operation is active. BGSAVE for replication "
        "delayed");
  } else {
    spdlog::info("Delay next BGSAVE for diskless SYNC");
  }
}

bool ReplicationSource::StartSyncSave() {
  if (sync_save_running_ || socket_sync_running_ || p_.rdb.job_running()) return false;
  int64_t waiting = 0, max_idle_s = 0;
  bool all_eof = true;
  for (auto& [id, r] : replicas_) {
    if (r.state != State::kWaitBgsaveStart) continue;
    waiting++;
    all_eof = all_eof && r.capa_eof;
    max_idle_s = std::max(max_idle_s, (now_ms() - r.wait_since_ms) / 1000);
  }
  if (waiting == 0) return false;
  if (p_.settings.repl_diskless_sync && all_eof) {
    // Redis's replicationStartPendingFork: wait repl-diskless-sync-delay for more replicas to
    // share the transfer, or until repl-diskless-sync-max-replicas of them wait.
    const int64_t delay = p_.settings.repl_diskless_sync_delay;
    const int64_t max_replicas = p_.settings.repl_diskless_sync_max_replicas;
    const bool go = max_idle_s >= delay || (max_replicas > 0 && waiting >= max_replicas);
    if (!go) return false;
    return StartSocketSync();
  }
  spdlog::info("Starting BGSAVE for SYNC with target: disk");
  // The snapshot is the dataset as it is now, at the current offset; the stream from here on is
  // held for each replica, starting with a SELECT.
  const int64_t offset = p_.state.master_repl_offset;
  for (auto& [id, r] : replicas_) {
    if (r.state != State::kWaitBgsaveStart) continue;
    if (Client* c = p_.clients.Find(id)) SetupFullResync(*c, r, offset);
  }
  p_.propagation.ForceSelect();
  sync_save_running_ = true;
  rdb_for_replicas_ = true;
  if (!p_.rdb.BackgroundSave()) {
    BackgroundSaveDone("BGSAVE for replication failed", "");  // drops those replicas
    return false;
  }
  return true;
}

bool ReplicationSource::StartSocketSync() {
  spdlog::info("Starting BGSAVE for SYNC with target: replicas sockets");
  const int64_t offset = p_.state.master_repl_offset;
  const std::string mark = NewReplid();  // 40 random characters end the payload
  for (auto& [id, r] : replicas_) {
    if (r.state != State::kWaitBgsaveStart) continue;
    Client* c = p_.clients.Find(id);
    if (c == nullptr) continue;
    SetupFullResync(*c, r, offset);
    r.socket_target = true;
    p_.output.SendToOther(*c, "$EOF:" + mark + "\r\n");
  }
  p_.propagation.ForceSelect();
  SnapshotJob::Request request;
  request.kind = SnapshotJob::Kind::kReplicas;
  SetRdbFormat(request, p_.settings, p_.functions, p_.locks, /*aof_base=*/false);
  request.header += p_.rdb.ReplicationAux();
  // The RDB goes to the targets' outputs, bounded by the job's backlog limit, and is written
  // after the step (a write error then closes a target outside the snapshot's own call).
  request.sink = [this](std::string_view bytes) {
    for (auto& [id, r] : replicas_) {
      if (!r.socket_target) continue;
      if (Client* c = p_.clients.Find(id)) p_.output.SendToOther(*c, bytes);
    }
  };
  request.sink_backlog = [this] {
    size_t most = 0;
    for (auto& [id, r] : replicas_) {
      if (!r.socket_target) continue;
      if (Client* c = p_.clients.Find(id)) most = std::max(most, c->transport()->pending_output());
    }
    return most;
  };
  request.done = [this, mark](const std::string& error) { SocketSyncDone(error, mark); };
  socket_sync_running_ = true;
  if (auto error = p_.job.Start(std::move(request))) {
    socket_sync_running_ = false;
    SocketSyncDone(*error, mark);
    return false;
  }
  spdlog::info("Background RDB transfer started");
  return true;
}

void ReplicationSource::SocketSyncDone(const std::string& error, const std::string& mark) {
  socket_sync_running_ = false;
  std::vector<uint64_t> targets;
  for (auto& [id, r] : replicas_) {
    if (r.socket_target) targets.push_back(id);
  }
  for (uint64_t id : targets) {
    Replica& r = replicas_[id];
    r.socket_target = false;
    Client* c = p_.clients.Find(id);
    if (c == nullptr) continue;
    if (!error.empty()) {
      Drop(id, "its diskless transfer failed");
      continue;
    }
    p_.output.SendToOther(*c, mark);
    if (r.rdb_only) {
      FinishRdbOnly(*c);
      continue;
    }
    r.state = State::kOnline;
    r.wait_first_ack = true;
    r.ack_time_ms = now_ms();
    spdlog::info(
        "Streamed RDB transfer with replica {} succeeded (socket). Waiting for REPLCONF ACK from "
        "slave to enable streaming",
        c->transport()->peer_address());
  }
  if (error.empty()) spdlog::info("Background RDB transfer terminated with success");
  StartSyncSave();
}

void ReplicationSource::StartStream(Client& c, Replica& r) {
  r.wait_first_ack = false;
  std::string held;
  held.swap(r.held);
  c.held_output = 0;
  p_.output.SendToOther(c, held);
  spdlog::info("Synchronization with replica {} succeeded", c.transport()->peer_address());
  RefreshGoodReplicas();
}

void ReplicationSource::SetupFullResync(Client& c, Replica& r, int64_t offset) {
  r.psync_initial_offset = offset;
  r.state = State::kWaitBgsaveEnd;
  c.held_output = r.held.size();
  if (!r.pre_psync) {
    p_.output.SendToOther(c,
                          "+FULLRESYNC " + p_.state.replid + " " + std::to_string(offset) + "\r\n");
  }
}

void ReplicationSource::BackgroundSaveDone(const std::string& error, const std::string& path) {
  if (!sync_save_running_) return;
  sync_save_running_ = false;
  std::vector<uint64_t> waiting;
  for (auto& [id, r] : replicas_) {
    if (r.state == State::kWaitBgsaveEnd) waiting.push_back(id);
  }
  for (uint64_t id : waiting) {
    Replica& r = replicas_[id];
    if (!error.empty()) {
      spdlog::warn("SYNC failed. BGSAVE child returned an error");
      Drop(id, "its snapshot failed");
      continue;
    }
    r.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (r.fd < 0 || fstat(r.fd, &st) != 0) {
      spdlog::warn("SYNC failed. Can't open/stat DB after BGSAVE: {}", std::strerror(errno));
      Drop(id, "its snapshot cannot be read");
      continue;
    }
    r.state = State::kSendBulk;
    r.bulk_size = static_cast<uint64_t>(st.st_size);
    r.bulk_sent = 0;
    if (Client* c = p_.clients.Find(id)) {
      p_.output.SendToOther(*c, "$" + std::to_string(r.bulk_size) + "\r\n");
    }
    Pump(id);
  }
  // Replicas that arrived while another job ran get the next snapshot (not after one that was
  // abandoned: whatever abandoned it is about to change the dataset; the cron starts it).
  if (error.empty()) StartSyncSave();
}

void ReplicationSource::Pump(uint64_t client_id) {
  Replica* r = Find(client_id);
  Client* c = p_.clients.Find(client_id);
  if (r == nullptr || c == nullptr || r->state != State::kSendBulk) return;
  std::string chunk;
  while (r->bulk_sent < r->bulk_size && c->transport()->pending_output() < kBulkWindow) {
    chunk.resize(static_cast<size_t>(std::min<uint64_t>(kBulkChunk, r->bulk_size - r->bulk_sent)));
    const ssize_t n = ::pread(r->fd, chunk.data(), chunk.size(), static_cast<off_t>(r->bulk_sent));
    if (n <= 0) {
      spdlog::warn("Read error sending DB to replica: {}",
                   n < 0 ? std::strerror(errno) : "premature EOF");
      return Drop(client_id, "its snapshot could not be read");
    }
    chunk.resize(static_cast<size_t>(n));
    r->bulk_sent += static_cast<uint64_t>(n);
    // The RDB goes past the output limit's accounting: it is bounded by the window above.
    c->transport()->output().append(chunk);
    p_.stats.total_net_repl_output_bytes += static_cast<uint64_t>(n);
    c->transport()->Flush();
    if (c->has(Client::kClosed)) return;
  }
  if (r->bulk_sent < r->bulk_size) {
    p_.timers.Schedule(now_ms() + kPumpRetryMs, [this, client_id] { Pump(client_id); });
    return;
  }
  PutOnline(*c, *r);
}

void ReplicationSource::PutOnline(Client& c, Replica& r) {
  if (r.fd >= 0) ::close(r.fd);
  r.fd = -1;
  if (r.rdb_only) return FinishRdbOnly(c);
  r.state = State::kOnline;
  r.ack_time_ms = now_ms();
  StartStream(c, r);
}

void ReplicationSource::Drop(uint64_t client_id, const char* why) {
  if (Client* c = p_.clients.Find(client_id)) {
    spdlog::warn("Closing replica {}: {}", c->transport()->peer_address(), why);
    p_.clients.Close(*c);  // ClientClosed removes the record
    return;
  }
  auto it = replicas_.find(client_id);
  if (it == replicas_.end()) return;
  if (it->second.fd >= 0) ::close(it->second.fd);
  replicas_.erase(it);
}

std::string ReplicationSource::NewReplid() {
  static std::mt19937_64 rng(std::random_device{}());
  return RandomHex(rng, 40);
}

void ReplicationSource::ClientClosed(Client& c) {
  auto it = replicas_.find(c.id());
  if (it == replicas_.end()) return;
  if (it->second.fd >= 0) ::close(it->second.fd);
  const bool was_replica = it->second.state != State::kHandshake;
  replicas_.erase(it);
  if (!was_replica) return;
  // A diskless transfer nobody receives any more stops.
  if (socket_sync_running_) {
    bool targets = false;
    for (auto& [id, r] : replicas_) targets = targets || r.socket_target;
    if (!targets) {
      socket_sync_running_ = false;
      p_.job.Abandon();
      spdlog::warn("Diskless rdb transfer, last replica dropped, killing fork child.");
    }
  }
  spdlog::info("Connection with replica {} lost.", c.transport()->peer_address());
  if (connected() == 0) no_replicas_since_ms_ = now_ms();
  RefreshGoodReplicas();
  // A WAIT counting on it may now be unreachable only by timeout; nothing to signal.
}

void ReplicationSource::DisconnectReplicas() {
  std::vector<uint64_t> ids;
  for (auto& [id, r] : replicas_) {
    if (r.state != State::kHandshake) ids.push_back(id);
  }
  for (uint64_t id : ids) {
    if (Client* c = p_.clients.Find(id)) p_.clients.Close(*c);
  }
}

ReplicationSource::Replica* ReplicationSource::Find(uint64_t client_id) {
  auto it = replicas_.find(client_id);
  return it == replicas_.end() ? nullptr : &it->second;
}

size_t ReplicationSource::connected() const {
  size_t n = 0;
  for (const auto& [id, r] : replicas_) n += r.state != State::kHandshake;
  return n;
}

std::string ReplicationSource::ReplicaIp(const Replica& r) const {
  if (!r.announced_ip.empty()) return r.announced_ip;
  Client* c = p_.clients.Find(r.client_id);
  if (c == nullptr) return "";
  std::string peer = c->transport()->peer_address();
  const size_t colon = peer.rfind(':');
  if (colon != std::string::npos) peer.resize(colon);
  if (peer.size() >= 2 && peer.front() == '[') peer = peer.substr(1, peer.size() - 2);
  return peer;
}

int64_t ReplicationSource::CountAcked(int64_t offset) const {
  int64_t n = 0;
  for (const auto& [id, r] : replicas_) {
    if (r.state == State::kOnline && r.ack_offset >= offset) n++;
  }
  return n;
}

void ReplicationSource::RequestAcks() {
  if (acks_requested_ || p_.state.host == nullptr) return;
  acks_requested_ = true;
  // Once per event-loop turn, whatever number of clients asked (Redis's beforeSleep).
  p_.state.host->Post([this] {
    acks_requested_ = false;
    if (connected() > 0 && master_role_) Feed(EncodeCommand({"REPLCONF", "GETACK", "*"}));
  });
}

void ReplicationSource::RemoveSyncFile() {
  // rdb-del-sync-files: without persistence, the file a disk-based sync wrote is removed once no
  // replica reads it (Redis's removeRDBUsedToSyncReplicas).
  if (!rdb_for_replicas_ || !p_.settings.rdb_del_sync_files || !p_.settings.save_params.empty() ||
      p_.settings.appendonly || sync_save_running_) {
    return;
  }
  for (const auto& [id, r] : replicas_) {
    if (r.state == State::kWaitBgsaveEnd || r.state == State::kSendBulk) return;
  }
  rdb_for_replicas_ = false;
  ::unlink(p_.settings.dbfilename.c_str());
}

void ReplicationSource::RefreshGoodReplicas() {
  int64_t good = 0;
  const int64_t now = now_ms();
  for (const auto& [id, r] : replicas_) {
    if (r.state == State::kOnline &&
        (now - r.ack_time_ms) / 1000 <= p_.settings.min_replicas_max_lag) {
      good++;
    }
  }
  p_.state.good_replicas = good;
}

void ReplicationSource::Cron() {
  const int64_t now = now_ms();
  // A PING into the stream every repl-ping-replica-period seconds, so that replicas can time
  // out a master that went silent (only from a master: a replica proxies its master's; not
  // while a FAILOVER waits for the stream to stop growing).
  if (master_role_ && !hold_pings_ &&
      cron_loops_ % static_cast<uint64_t>(p_.settings.repl_ping_replica_period) == 0 &&
      connected() > 0) {
    Feed(EncodeCommand({"PING"}));
  }
  // Replicas waiting for their snapshot get a newline now and then, which keeps them from
  // timing out the master meanwhile.
  for (auto& [id, r] : replicas_) {
    if (r.state != State::kWaitBgsaveStart && r.state != State::kWaitBgsaveEnd) continue;
    if (r.socket_target) continue;  // it is reading the payload
    if (Client* c = p_.clients.Find(id)) p_.output.SendToOther(*c, "\n");
  }
  // Replicas that went silent: no ACK, and not even the newlines a replica sends while it
  // loads a big snapshot (Redis counts those as ACK time).
  std::vector<uint64_t> timed_out;
  for (auto& [id, r] : replicas_) {
    if (r.state != State::kOnline || r.pre_psync) continue;
    const Client* c = p_.clients.Find(id);
    const int64_t heard = std::max(r.ack_time_ms, c != nullptr ? c->last_interaction_ms : 0);
    if ((now - heard) / 1000 > p_.settings.repl_timeout) timed_out.push_back(id);
  }
  for (uint64_t id : timed_out) {
    if (Client* c = p_.clients.Find(id)) {
      spdlog::warn("Disconnecting timedout replica (streaming sync): {}",
                   c->transport()->peer_address());
      p_.clients.Close(*c);
    }
  }
  // A master without replicas frees its backlog after repl-backlog-ttl, and starts a new
  // history (its offset no longer follows the stream).
  if (master_role_ && backlog_.active() && connected() == 0 && p_.settings.repl_backlog_ttl > 0 &&
      (now - no_replicas_since_ms_) / 1000 > p_.settings.repl_backlog_ttl) {
    p_.state.replid = NewReplid();
    p_.state.replid2 = std::string(40, '0');
    p_.state.second_replid_offset = -1;
    FreeBacklog();
    spdlog::info("Replication backlog freed after {} seconds without connected replicas.",
                 p_.settings.repl_backlog_ttl);
  }
  StartSyncSave();
  RemoveSyncFile();
  RefreshGoodReplicas();
  cron_loops_++;
}

}  // namespace keyward
