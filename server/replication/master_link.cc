#include "server/replication/master_link.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <ctime>

#include "server/coordination/lock_manager.h"
#include "server/core/errors.h"
#include "server/core/strings.h"
#include "server/engine/host.h"
#include "server/engine/propagation.h"
#include "server/replication/diskless_load.h"
#include "server/replication/stream_form.h"
#include "server/scripting/function_engine.h"
#include "server/storage/aof_persistence.h"
#include "server/storage/rdb_persistence.h"

namespace keyward {

namespace {

constexpr size_t kEofMarkLen = 40;  // RDB_EOF_MARK_SIZE

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

// The link's side of its connection: input and closure go to the link, tagged with the attempt
// they belong to (a replaced attempt's connection is ignored).
class MasterLink::LinkSession : public net::Session {
 public:
  LinkSession(MasterLink& link, uint64_t generation) : link_(link), generation_(generation) {}
  size_t OnInput(std::string_view input) override { return link_.OnInput(generation_, input); }
  void OnClosed() override { link_.OnClosed(generation_); }

 private:
  MasterLink& link_;
  uint64_t generation_;
};

MasterLink::MasterLink(Parts parts) : p_(parts) {}

MasterLink::~MasterLink() {
  generation_++;
  if (cancel_connect_) cancel_connect_();
  if (transfer_fd_ >= 0) {
    ::close(transfer_fd_);
    ::unlink(transfer_tmp_.c_str());
  }
  // The connection (and its session) outlives the server only at exit, when the event loop is
  // destroyed: the client must leave the registry now.
  if (master_client_) p_.clients.Close(*master_client_);
}

void MasterLink::Connect(const std::string& host, int port, bool continue_own, bool failover) {
  const bool was_master = !p_.state.replica && continue_own;
  // Whatever this server has applied (its own history when it was a master, or the stream of
  // the master it leaves) is what it asks the new master to continue (PSYNC).
  if (was_master || state_ == State::kConnected) have_cached_ = true;
  Cancel(false);
  // Clients blocked on this server wait for what another server's stream will decide.
  if (was_master) p_.blocking.UnblockAll(errors::kUnblockedRoleChange);
  host_ = host;
  port_ = port;
  failover_psync_ = failover;
  p_.state.replica = true;
  p_.state.master_link_up = false;
  p_.keyspace.set_expire_disabled(true);
  p_.source.set_master_role(false);
  state_ = State::kConnect;
  spdlog::info("Connecting to MASTER {}:{}", host_, port_);
  StartConnect();
}

void MasterLink::Disconnect(bool handed_over) {
  if (!p_.state.replica) return;
  failover_psync_ = false;
  spdlog::info("Connection with master lost.");
  Cancel(false);
  have_cached_ = false;
  host_.clear();
  port_ = 0;
  state_ = State::kNone;
  p_.state.replica = false;
  p_.state.master_link_up = false;
  p_.keyspace.set_expire_disabled(false);
  // The history so far stays valid as the second ID, up to here: the other replicas of the old
  // master continue from this server with a partial resync (Redis's shiftReplicationId).
  p_.state.replid2 = p_.state.replid;
  p_.state.second_replid_offset = p_.state.master_repl_offset + 1;
  p_.state.replid = ReplicationSource::NewReplid();
  spdlog::info(
      "Setting secondary replication ID to {}, valid up to offset: {}. New replication ID is {}",
      p_.state.replid2, p_.state.second_replid_offset, p_.state.replid);
  // Its own replicas must learn the new ID: they reconnect and continue partially.
  p_.source.DisconnectReplicas();
  p_.source.set_master_role(true);
  down_since_ms_ = 0;
  // An AOF stopped by a sync that failed is turned on again.
  if (p_.settings.appendonly && !p_.aof.enabled()) p_.aof.Start();
  // Fencing across the failover: a new epoch whose counters start above anything the old master
  // could have issued, and no lock granted while the old master's leases may still run.
  const int64_t floor =
      p_.locks.Promote(p_.settings.lock_promotion_token_gap,
                       handed_over ? 0 : p_.settings.lock_promotion_delay, p_.clock.NowMs());
  spdlog::info("Fencing epoch {}: counters start at {}; locks granted again in {} ms",
               p_.locks.epoch(), floor, p_.locks.RestartDelayLeft(p_.clock.NowMs()));
}

void MasterLink::StartConnect() {
  state_ = State::kConnecting;
  transfer_last_io_ms_ = p_.clock.NowMs();
  const uint64_t generation = ++generation_;
  spdlog::info("MASTER <-> REPLICA sync started");
  if (p_.state.host == nullptr) {
    state_ = State::kConnect;
    return;
  }
  cancel_connect_ = p_.state.host->Connect(
      host_, port_, p_.settings.bind_source_addr,
      [this, generation](net::Transport& transport) { return OnConnected(generation, transport); },
      [this, generation](const std::string& error) {
        if (generation != generation_) return;
        cancel_connect_ = nullptr;
        spdlog::warn("Error condition on socket for SYNC: {}", error);
        state_ = State::kConnect;
      });
}

std::unique_ptr<net::Session> MasterLink::OnConnected(uint64_t generation,
                                                      net::Transport& transport) {
  auto session = std::make_unique<LinkSession>(*this, generation);
  if (generation != generation_) {
    transport.CloseAfterFlush();  // an attempt given up meanwhile
    return session;
  }
  cancel_connect_ = nullptr;
  transport_ = &transport;
  spdlog::info("Non blocking connect for SYNC fired the event.");
  state_ = State::kReceivePong;
  transfer_last_io_ms_ = p_.clock.NowMs();
  // Written once the connection has its session (a write error then reaches OnClosed).
  transport.output().append(EncodeCommand({"PING"}));
  return session;
}

void MasterLink::Send(std::string_view bytes) {
  if (transport_ == nullptr) return;
  transport_->output().append(bytes);
  transport_->Flush();
}

void MasterLink::SendCommand(std::initializer_list<std::string_view> argv) {
  Send(EncodeCommand(Argv(argv.begin(), argv.end())));
}

void MasterLink::SendAck() {
  SendCommand({"REPLCONF", "ACK", std::to_string(p_.state.master_repl_offset)});
}

size_t MasterLink::OnInput(uint64_t generation, std::string_view input) {
  if (generation != generation_) return input.size();
  const int64_t now = p_.clock.NowMs();
  last_io_ms_ = now;
  transfer_last_io_ms_ = now;
  if (master_client_) master_client_->last_interaction_ms = now;
  size_t used = 0;
  while (used < input.size()) {
    size_t n = 0;
    if (in_handshake()) {
      n = Handshake(input.substr(used));
    } else if (state_ == State::kTransfer) {
      n = Transfer(input.substr(used));
    } else if (state_ == State::kConnected) {
      n = Stream(input.substr(used));
    } else {
      return input.size();
    }
    // What ran may have ended this link (an error, REPLICAOF from a script...).
    if (generation != generation_) return input.size();
    if (n == 0) break;
    used += n;
  }
  p_.stats.total_net_repl_input_bytes += used;
  unparsed_ = state_ == State::kConnected ? input.size() - used : 0;
  return used;
}

void MasterLink::OnClosed(uint64_t generation) {
  if (generation != generation_) return;
  transport_ = nullptr;
  if (state_ == State::kConnected) {
    spdlog::info("Connection with master lost.");
    spdlog::info("* Caching the disconnected master state.");
  } else {
    spdlog::warn("Master closed the connection during the replication handshake or transfer");
  }
  Cancel(true);
}

void MasterLink::Cancel(bool reconnect) {
  generation_++;
  if (cancel_connect_) {
    cancel_connect_();
    cancel_connect_ = nullptr;
  }
  if (transfer_fd_ >= 0) {
    ::close(transfer_fd_);
    ::unlink(transfer_tmp_.c_str());
    transfer_fd_ = -1;
  }
  if (state_ == State::kConnected) down_since_ms_ = p_.clock.NowMs();
  net::Transport* transport = transport_;
  transport_ = nullptr;
  if (master_client_) {
    db_ = master_client_->db;
    std::shared_ptr<Client> client(std::move(master_client_));
    p_.clients.Close(*client);  // closes the connection too
    // Freed once the current call stack (which may be this client's own input) is done.
    if (p_.state.host != nullptr) p_.state.host->Post([client] {});
  } else if (transport != nullptr) {
    transport->Close();
  }
  p_.state.master_link_up = false;
  unparsed_ = 0;
  state_ = reconnect ? State::kConnect : State::kNone;
}

std::optional<std::string> MasterLink::ReadLine(std::string_view input, size_t* used) {
  const size_t nl = input.find('\n');
  if (nl == std::string_view::npos) return std::nullopt;
  *used = nl + 1;
  std::string_view line = input.substr(0, nl);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return std::string(line);
}

size_t MasterLink::Handshake(std::string_view input) {
  size_t used = 0;
  auto line = ReadLine(input, &used);
  if (!line) return 0;
  switch (state_) {
    case State::kReceivePong:
      OnPong(*line);
      break;
    case State::kReceiveAuth:
      if (StartsWith(*line, "-")) {
        spdlog::warn("Unable to AUTH to MASTER: {}", *line);
        Cancel(true);
        break;
      }
      state_ = State::kReceivePort;
      break;
    case State::kReceivePort:
      if (StartsWith(*line, "-")) {
        spdlog::info("(Non critical) Master does not understand REPLCONF listening-port: {}",
                     *line);
      }
      state_ = p_.settings.replica_announce_ip.empty() ? State::kReceiveCapa : State::kReceiveIp;
      break;
    case State::kReceiveIp:
      if (StartsWith(*line, "-")) {
        spdlog::info("(Non critical) Master does not understand REPLCONF ip-address: {}", *line);
      }
      state_ = State::kReceiveCapa;
      break;
    case State::kReceiveCapa:
      if (StartsWith(*line, "-")) {
        spdlog::info("(Non critical) Master does not understand REPLCONF capa: {}", *line);
      }
      state_ = State::kReceivePsync;
      if (have_cached_) {
        const std::string offset = std::to_string(p_.state.master_repl_offset + 1);
        spdlog::info("Trying a partial resynchronization (request {}:{}).", p_.state.replid,
                     offset);
        if (failover_psync_) {
          SendCommand({"PSYNC", p_.state.replid, offset, "FAILOVER"});
        } else {
          SendCommand({"PSYNC", p_.state.replid, offset});
        }
      } else {
        spdlog::info("Partial resynchronization not possible (no cached master)");
        SendCommand({"PSYNC", "?", "-1"});
      }
      break;
    case State::kReceivePsync:
      // The master sends newlines to keep the link alive until it can answer.
      if (!line->empty()) OnPsyncReply(*line);
      break;
    default:
      break;
  }
  return used;
}

void MasterLink::OnPong(const std::string& line) {
  // An error other than an authentication one means this is not a usable master; NOAUTH and
  // friends are expected when masterauth is set (AUTH follows).
  if (StartsWith(line, "-") && !StartsWith(line, "-NOAUTH") && !StartsWith(line, "-NOPERM") &&
      !StartsWith(line, "-ERR operation not permitted")) {
    spdlog::warn("Error reply to PING from master: '{}'", line);
    Cancel(true);
    return;
  }
  spdlog::info("Master replied to PING, replication can continue...");
  const bool auth = !p_.settings.masterauth.empty();
  // The state first: a send that fails cancels the link, which must then stay cancelled.
  state_ = auth ? State::kReceiveAuth : State::kReceivePort;
  if (auth) {
    if (p_.settings.masteruser.empty()) {
      SendCommand({"AUTH", p_.settings.masterauth});
    } else {
      SendCommand({"AUTH", p_.settings.masteruser, p_.settings.masterauth});
    }
  }
  // A replica that replicates over TLS is reached on its TLS port (Redis's choice too).
  int64_t port = p_.settings.port;
  if (p_.settings.replica_announce_port != 0) {
    port = p_.settings.replica_announce_port;
  } else if (p_.settings.tls_replication && p_.settings.tls_port != 0) {
    port = p_.settings.tls_port;
  }
  SendCommand({"REPLCONF", "listening-port", std::to_string(port)});
  if (!p_.settings.replica_announce_ip.empty()) {
    SendCommand({"REPLCONF", "ip-address", p_.settings.replica_announce_ip});
  }
  SendCommand({"REPLCONF", "capa", "eof", "capa", "psync2"});
}

void MasterLink::OnPsyncReply(const std::string& line) {
  if (failover_psync_) {
    // A FAILOVER's hand-over: the failover ends either way (accepted, or given up, and then
    // this server is a master again and the link is gone).
    failover_psync_ = false;
    const bool accepted = StartsWith(line, "+FULLRESYNC") || StartsWith(line, "+CONTINUE");
    if (failover_reply_) failover_reply_(accepted);
    if (!p_.state.replica) return;
  }
  if (StartsWith(line, "+FULLRESYNC")) {
    // "+FULLRESYNC <replid> <offset>"
    const size_t id_at = line.find(' ');
    const size_t offset_at = id_at == std::string::npos ? id_at : line.find(' ', id_at + 1);
    int64_t offset = -1;
    if (offset_at == std::string::npos || offset_at - id_at - 1 != 40 ||
        !ParseInt64(std::string_view(line).substr(offset_at + 1), &offset)) {
      spdlog::warn("Master replied with wrong +FULLRESYNC syntax.");
      Cancel(true);
      return;
    }
    master_replid_ = line.substr(id_at + 1, 40);
    master_initial_offset_ = offset;
    spdlog::info("Full resync from master: {}:{}", master_replid_, master_initial_offset_);
    // What this server had is about to be replaced: it is no basis for a PSYNC any more.
    have_cached_ = false;
    transfer_size_ = -1;
    transfer_read_ = 0;
    eof_mark_.clear();
    eof_tail_.clear();
    state_ = State::kTransfer;
    // repl-diskless-load: swapdb always, on-empty-db when there is nothing to lose.
    diskless_ =
        p_.settings.repl_diskless_load == kDisklessLoadSwapdb ||
        (p_.settings.repl_diskless_load == kDisklessLoadOnEmptyDb && p_.keyspace.TotalKeys() == 0);
    if (diskless_) return;
    char name[64];
    std::snprintf(name, sizeof(name), "temp-%d.%ld.rdb", static_cast<int>(std::time(nullptr)),
                  static_cast<long>(getpid()));
    transfer_tmp_ = name;
    transfer_fd_ = ::open(transfer_tmp_.c_str(), O_CREAT | O_WRONLY | O_EXCL | O_CLOEXEC, 0644);
    if (transfer_fd_ < 0) {
      spdlog::warn("Opening the temp file needed for MASTER <-> REPLICA synchronization: {}",
                   std::strerror(errno));
      Cancel(true);
      return;
    }
    return;
  }
  if (StartsWith(line, "+CONTINUE")) {
    spdlog::info("Successful partial resynchronization with master.");
    const std::string_view rest = std::string_view(line).substr(9);
    const std::string_view new_id = rest.empty() ? rest : rest.substr(1);
    if (new_id.size() == 40 && new_id != p_.state.replid) {
      // The master's history continues under a new ID (it was promoted): ours too, the old one
      // valid up to here, and our replicas must learn it.
      p_.state.replid2 = p_.state.replid;
      p_.state.second_replid_offset = p_.state.master_repl_offset + 1;
      p_.state.replid = std::string(new_id);
      spdlog::info("Master replication ID changed to {}", p_.state.replid);
      p_.source.DisconnectReplicas();
    }
    spdlog::info("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
    if (!p_.source.backlog().active()) p_.source.CreateBacklog();
    BecomeConnected(/*full=*/false);
    return;
  }
  if (StartsWith(line, "-NOMASTERLINK") || StartsWith(line, "-LOADING")) {
    spdlog::info("Master is currently unable to PSYNC but should be in the future: {}", line);
  } else {
    spdlog::warn("Unexpected reply to PSYNC from master: {}", line);
  }
  Cancel(true);
}

size_t MasterLink::Transfer(std::string_view input) {
  if (transfer_size_ < 0) {
    // Newlines keep the link alive while the master prepares the RDB.
    if (input.front() == '\n') return 1;
    size_t used = 0;
    auto line = ReadLine(input, &used);
    if (!line) return 0;
    if (StartsWith(*line, "-")) {
      spdlog::warn("MASTER aborted replication with an error: {}", line->substr(1));
      Cancel(true);
      return used;
    }
    if (!StartsWith(*line, "$")) {
      spdlog::warn(
          "Bad protocol from MASTER, the first byte is not '$' (we received '{}'), are you sure "
          "the host and port are right?",
          *line);
      Cancel(true);
      return used;
    }
    if (StartsWith(*line, "$EOF:") && line->size() == 5 + kEofMarkLen) {
      eof_mark_ = line->substr(5);
      transfer_size_ = 0;
      spdlog::info("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to {}",
                   diskless_ ? "parser" : "disk");
      return used;
    }
    int64_t size;
    if (!ParseInt64(std::string_view(*line).substr(1), &size) || size < 0) {
      spdlog::warn("Bad protocol from MASTER: '{}'", *line);
      Cancel(true);
      return used;
    }
    transfer_size_ = size;
    spdlog::info("MASTER <-> REPLICA sync: receiving {} bytes from master to {}", size,
                 diskless_ ? "parser" : "disk");
    if (size == 0 && !diskless_) LoadTransfer();
    return used;
  }
  if (diskless_) return LoadFromSocket(input);
  // The payload: everything up to the size, or (diskless) up to the EOF mark, after which the
  // master sends nothing until our first ACK.
  size_t n = input.size();
  if (eof_mark_.empty())
    n = std::min<size_t>(n, static_cast<size_t>(transfer_size_ - transfer_read_));
  const std::string_view chunk = input.substr(0, n);
  if (::write(transfer_fd_, chunk.data(), chunk.size()) != static_cast<ssize_t>(chunk.size())) {
    spdlog::warn(
        "Write error or short write writing to the DB dump file needed for MASTER <-> REPLICA "
        "synchronization: {}",
        std::strerror(errno));
    Cancel(true);
    return n;
  }
  transfer_read_ += static_cast<int64_t>(n);
  bool done = false;
  if (eof_mark_.empty()) {
    done = transfer_read_ == transfer_size_;
  } else {
    eof_tail_.append(chunk);
    if (eof_tail_.size() > kEofMarkLen) eof_tail_.erase(0, eof_tail_.size() - kEofMarkLen);
    if (eof_tail_ == eof_mark_) {
      // The mark is not part of the RDB.
      done = ::ftruncate(transfer_fd_, static_cast<off_t>(transfer_read_ - kEofMarkLen)) == 0;
      if (!done) {
        spdlog::warn("Error truncating the RDB file received from the master for SYNC: {}",
                     std::strerror(errno));
        Cancel(true);
        return n;
      }
      transfer_size_ = transfer_read_ - static_cast<int64_t>(kEofMarkLen);
    }
  }
  if (done) LoadTransfer();
  return n;
}

void MasterLink::PrepareForLoad() {
  // Nothing may snapshot the dataset while it is replaced; the AOF is rewritten afterwards.
  p_.rdb.AbandonBackgroundSave();
  if (p_.settings.appendonly) p_.aof.Stop();
  // Our own replicas' history ends here: they resync with us once we are connected.
  p_.source.DisconnectReplicas();
  p_.source.FreeBacklog();
}

bool MasterLink::LoadTransfer() {
  ::fsync(transfer_fd_);
  ::close(transfer_fd_);
  transfer_fd_ = -1;
  spdlog::info("MASTER <-> REPLICA sync: Flushing old data");
  PrepareForLoad();
  p_.keyspace.FlushAll(p_.settings.replica_lazy_flush);
  p_.functions.Flush();
  if (dataset_replaced_) dataset_replaced_();
  if (::rename(transfer_tmp_.c_str(), p_.settings.dbfilename.c_str()) != 0) {
    spdlog::warn(
        "Failed trying to rename the temp DB into {} in MASTER <-> REPLICA synchronization: {}",
        p_.settings.dbfilename, std::strerror(errno));
    ::unlink(transfer_tmp_.c_str());
    // The AOF stays off after a failed sync (it would be rewritten from an empty dataset): the
    // next successful sync, or REPLICAOF NO ONE, turns it on again, as in Redis.
    Cancel(true);
    return false;
  }
  spdlog::info("MASTER <-> REPLICA sync: Loading DB in memory");
  const uint64_t generation = generation_;
  int64_t stream_db = 0;
  auto error = p_.rdb.LoadReceived(&stream_db, KeepAliveWhileLoading());
  // Loading serves other clients now and then; none of them may have changed the link (the
  // replication cron does not run while loading), but a REPLICAOF could not either: check.
  if (generation != generation_) return false;
  if (error) {
    spdlog::warn("{}", *error);
    spdlog::warn(
        "Failed trying to load the MASTER synchronization DB from disk, check server logs.");
    Cancel(true);
    return false;
  }
  // rdb-del-sync-files: without persistence, the file only served the sync.
  if (p_.settings.rdb_del_sync_files && p_.settings.save_params.empty() &&
      !p_.settings.appendonly) {
    ::unlink(p_.settings.dbfilename.c_str());
  }
  FinishLoad(stream_db);
  return true;
}

size_t MasterLink::LoadFromSocket(std::string_view input) {
  // The payload's part of what the event loop read: with a size, what follows it is the stream.
  const size_t first = eof_mark_.empty()
                           ? std::min<size_t>(input.size(), static_cast<size_t>(transfer_size_))
                           : input.size();
  const int64_t limit = eof_mark_.empty() ? transfer_size_ - static_cast<int64_t>(first) : -1;
  PrepareForLoad();
  // swapdb with the same history (the master's ID is ours: a resync of the same data set, say
  // after the backlog ran out) loads beside the dataset, which is served meanwhile, and swaps
  // the two at the end (Redis 7.0's async loading).
  using Mode = DatasetReplacement::Mode;
  const bool swapdb = p_.settings.repl_diskless_load == kDisklessLoadSwapdb;
  const Mode mode = !swapdb                             ? Mode::kFlush
                    : master_replid_ == p_.state.replid ? Mode::kAsync
                                                        : Mode::kSwapdb;
  DatasetReplacement replacement(mode, p_.keyspace, p_.functions, p_.settings, dataset_replaced_);
  if (mode == Mode::kFlush) spdlog::info("MASTER <-> REPLICA sync: Flushing old data");
  replacement.Begin();
  spdlog::info("MASTER <-> REPLICA sync: Loading DB in memory{}",
               mode == Mode::kAsync ? " (async, serving the old data)" : "");
  RdbPersistence::AsyncTarget target{&replacement.target(), replacement.functions_sink()};
  // The loader reads the socket itself (through its own descriptor: should the link close
  // meanwhile, the number is not reused under it); the event loop serves the other clients.
  net::Transport* transport = transport_;
  transport->SetReading(false);
  SocketRdbSource source(::dup(transport->fd()), limit, input.substr(0, first),
                         std::max<int64_t>(p_.settings.repl_timeout, 1) * 1000);
  rdb::Reader in([&source](std::string& buf, size_t want) { return source.Pull(buf, want); });
  const uint64_t generation = generation_;
  int64_t stream_db = 0;
  auto keep_alive = KeepAliveWhileLoading();
  std::optional<std::string> error = p_.rdb.LoadStream(
      in, eof_mark_.empty() ? static_cast<uint64_t>(transfer_size_) : 0, &stream_db,
      [&] {
        // INFO's master_sync_read_bytes as it goes.
        transfer_read_ = static_cast<int64_t>(first) + source.socket_bytes();
        transfer_last_io_ms_ = p_.clock.NowMs();
        keep_alive();
      },
      mode == Mode::kAsync ? &target : nullptr);
  transfer_read_ = static_cast<int64_t>(first) + source.socket_bytes();
  p_.stats.total_net_repl_input_bytes += static_cast<uint64_t>(source.socket_bytes());
  if (!error && !eof_mark_.empty()) {
    auto mark = in.Bytes(kEofMarkLen);
    if (!mark || *mark != eof_mark_) error = "Replication stream EOF marker is broken";
  }
  if (!error && in.remaining() > 0) {
    spdlog::warn("Discarding {} bytes the master sent after its RDB before our ACK",
                 in.remaining());
  }
  // A load that does not complete leaves nothing of itself.
  if (generation != generation_) {
    replacement.Undo();  // the link went away while the load served other clients
    return input.size();
  }
  if (error) {
    if (!source.error().empty()) {
      spdlog::warn("I/O error trying to sync with MASTER: {}", source.error());
    }
    spdlog::warn("{}", *error);
    spdlog::warn(
        "Failed trying to load the MASTER synchronization DB from socket, check server logs.");
    replacement.Undo();
    Cancel(true);
    return input.size();
  }
  replacement.Commit();
  transport->SetReading(true);
  FinishLoad(stream_db);
  return first;
}

std::function<void()> MasterLink::KeepAliveWhileLoading() {
  // A long load must not look like a dead replica to the master: a newline now and then (at most
  // once a second) keeps its repl-timeout from expiring, as Redis's replica does.
  auto last_newline_ms = std::make_shared<int64_t>(p_.clock.NowMs());
  return [this, last_newline_ms] {
    const int64_t now = p_.clock.NowMs();
    if (now - *last_newline_ms < 1000 || transport_ == nullptr) return;
    *last_newline_ms = now;
    Send("\n");
  };
}

void MasterLink::FinishLoad(int64_t stream_db) {
  transfer_last_io_ms_ = last_io_ms_ = p_.clock.NowMs();
  // The master's stream goes on in the database its RDB names (repl-stream-db): a replica of a
  // replica joins the upstream stream wherever it is.
  db_ = static_cast<int>(stream_db);
  p_.state.replid = master_replid_;
  p_.state.replid2 = std::string(40, '0');
  p_.state.second_replid_offset = -1;
  p_.state.master_repl_offset = master_initial_offset_;
  p_.source.CreateBacklog();
  BecomeConnected(/*full=*/true);
  if (p_.settings.appendonly) p_.aof.Start();
  spdlog::info("MASTER <-> REPLICA sync: Finished with success");
}

void MasterLink::BecomeConnected(bool full) {
  state_ = State::kConnected;
  p_.state.master_link_up = true;
  down_since_ms_ = 0;
  have_cached_ = true;
  CreateMasterClient();
  master_client_->db = db_;
  SendAck();
}

void MasterLink::CreateMasterClient() {
  master_client_ = p_.clients.Adopt(*transport_, p_.clock.NowMs());
  master_client_->flags |= Client::kMaster;
}

size_t MasterLink::Stream(std::string_view input) {
  Client& c = *master_client_;
  RequestParser& parser = c.parser();
  parser.set_limits(ParserLimits{.max_bulk_len = p_.settings.proto_max_bulk_len});
  size_t consumed = 0;
  const uint64_t generation = generation_;
  while (consumed < input.size()) {
    const auto status = parser.Parse(input.substr(consumed));
    if (status == RequestParser::Status::kNeedMore) break;
    if (status == RequestParser::Status::kError) {
      spdlog::warn("Protocol error in the master's stream ({}): closing the link", parser.error());
      Cancel(true);
      return input.size();
    }
    size_t used = parser.consumed();
    if (status == RequestParser::Status::kOk && parser.args().size() == 1 &&
        EqualsIgnoreCase(parser.args()[0], "MULTI")) {
      // A transaction is applied (and proxied, and counted in the offset) only once its EXEC is
      // here: a link lost in the middle leaves no half-applied unit, and the PSYNC that follows
      // asks for it again from its start.
      if (!ApplyTransaction(input.substr(consumed), &used)) break;
      if (generation != generation_) return input.size();
      p_.source.Feed(input.substr(consumed, used));
      consumed += used;
      continue;
    }
    if (status == RequestParser::Status::kOk) {
      ack_requested_ = false;
      const int64_t before = p_.state.master_repl_offset;
      ApplyFromMaster(parser.args());
      if (generation != generation_) return input.size();
      // Proxied as received: our replicas and backlog see the master's bytes and offsets.
      p_.source.Feed(input.substr(consumed, used));
      if (ack_requested_) {
        ack_requested_ = false;
        SendCommand({"REPLCONF", "ACK", std::to_string(before)});
      }
    } else {
      p_.source.Feed(input.substr(consumed, used));
    }
    consumed += used;
  }
  return consumed;
}

bool MasterLink::ApplyTransaction(std::string_view input, size_t* used) {
  RequestParser parser(ParserLimits{.max_bulk_len = p_.settings.proto_max_bulk_len});
  std::vector<Argv> unit;
  size_t at = 0;
  while (true) {
    const auto status = parser.Parse(input.substr(at));
    if (status == RequestParser::Status::kNeedMore) return false;
    if (status == RequestParser::Status::kError) {
      spdlog::warn("Protocol error in the master's stream ({}): closing the link", parser.error());
      Cancel(true);
      return false;
    }
    at += parser.consumed();
    if (status != RequestParser::Status::kOk) continue;
    unit.emplace_back(parser.args().begin(), parser.args().end());
    if (unit.size() > 1 && unit.back().size() == 1 && EqualsIgnoreCase(unit.back()[0], "EXEC")) {
      break;
    }
  }
  for (const Argv& argv : unit) {
    const std::vector<std::string_view> args(argv.begin(), argv.end());
    ApplyFromMaster(args);
  }
  *used = at;
  return true;
}

void MasterLink::ApplyFromMaster(CmdArgs args) {
  // A coordination record wrapped for Redis replicas is applied as the record it carries.
  std::optional<Argv> record = UnwrapRecord(args);
  std::vector<std::string_view> unwrapped;
  if (record) {
    unwrapped.assign(record->begin(), record->end());
    args = unwrapped;
  }
  if (auto refusal = p_.executor.Apply(CallerKind::kMaster, *master_client_, args)) {
    spdlog::warn("== CRITICAL == The master's command '{}' was refused here: {}",
                 std::string(args[0]), *refusal);
  }
}

void MasterLink::Cron() {
  if (host_.empty()) return;
  const int64_t now = p_.clock.NowMs();
  const int64_t timeout_ms = p_.settings.repl_timeout * 1000;
  if ((state_ == State::kConnecting || in_handshake()) && now - transfer_last_io_ms_ > timeout_ms) {
    spdlog::warn("Timeout connecting to the MASTER...");
    Cancel(true);
  }
  if (state_ == State::kTransfer && now - transfer_last_io_ms_ > timeout_ms) {
    spdlog::warn(
        "Timeout receiving bulk data from MASTER... If the problem persists try to set the "
        "'repl-timeout' parameter in redis.conf to a larger value.");
    Cancel(true);
  }
  if (state_ == State::kConnected && now - last_io_ms_ > timeout_ms) {
    spdlog::warn("MASTER timeout: no data nor PING received...");
    Cancel(true);
  }
  if (state_ == State::kConnect) {
    spdlog::info("Connecting to MASTER {}:{}", host_, port_);
    StartConnect();
  }
  if (state_ == State::kConnected) SendAck();
}

}  // namespace keyward
