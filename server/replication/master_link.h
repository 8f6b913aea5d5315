// The replica side of replication: the link to this server's master, as a Redis 7.0 replica
// runs it (../shared/INTEROP.md).
//
//   connect → PING → [AUTH] REPLCONF listening-port [ip-address] capa eof capa psync2 → PSYNC
//     +CONTINUE: the stream goes on from the offset this server has (partial resync)
//     +FULLRESYNC <replid> <offset>: the RDB ("$<len>" or diskless "$EOF:<mark>") is written to
//       a temp file, renamed to dbfilename, the dataset emptied and the file loaded; the stream
//       follows
//   connected: each command of the stream is applied silently (Executor::Apply, as the master
//   client, flags=M in CLIENT LIST), then proxied byte for byte to this server's own replicas
//   and backlog (ReplicationSource::Feed), so offsets match along a chain; REPLCONF ACK
//   <offset> goes back every second, right after a sync, and when the master asks (GETACK, the
//   ACK excluding the GETACK itself).
//
// A lost link keeps what PSYNC needs (the replication ID and offset this server has applied)
// and reconnects at the next cron second; a master silent for repl-timeout is dropped. While
// the link is down, INFO says so and replica-serve-stale-data decides what clients may run.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "server/core/clock.h"
#include "server/core/settings.h"
#include "server/engine/blocking.h"
#include "server/engine/client_registry.h"
#include "server/engine/executor.h"
#include "server/engine/server_state.h"
#include "server/engine/stats.h"
#include "server/net/transport.h"
#include "server/replication/source.h"

namespace keyward {

class RdbPersistence;
class AofPersistence;
class FunctionEngine;
class LockManager;

class MasterLink {
 public:
  struct Parts {
    const ServerSettings& settings;
    ServerState& state;
    ClientRegistry& clients;
    BlockingRegistry& blocking;
    Executor& executor;
    Keyspace& keyspace;
    FunctionEngine& functions;
    LockManager& locks;  // a promotion starts a fencing epoch
    RdbPersistence& rdb;
    AofPersistence& aof;
    ReplicationSource& source;
    ServerStats& stats;
    Clock& clock;
  };
  // Redis's repl_state, in order (the handshake states between kReceivePong and kReceivePsync).
  enum class State {
    kNone,
    kConnect,
    kConnecting,
    kReceivePong,
    kReceiveAuth,
    kReceivePort,
    kReceiveIp,
    kReceiveCapa,
    kReceivePsync,
    kTransfer,
    kConnected,
  };

  explicit MasterLink(Parts parts);
  ~MasterLink();

  // REPLICAOF host port: drops any current link and connects to the new master. A master that
  // becomes a replica offers its own history for a partial resync (`continue_own`); at start-up
  // there is none to offer. With `failover` its PSYNC asks the new master to take over
  // ("PSYNC <replid> <offset> FAILOVER"), and the reply goes to the failover hook.
  void Connect(const std::string& host, int port, bool continue_own = true, bool failover = false);
  // REPLICAOF NO ONE: no master any more. `handed_over`: the old master handed over with its
  // whole history here (FAILOVER), so none of its leases can be missing and locks are granted
  // at once; otherwise the promotion delay applies.
  void Disconnect(bool handed_over = false);
  // Told whether the target accepted a FAILOVER's PSYNC.
  void set_failover_reply(std::function<void(bool accepted)> hook) {
    failover_reply_ = std::move(hook);
  }
  // A full sync emptied the dataset: what clients cached of it is gone (Redis's signalFlushedDb:
  // tracking clients are told to drop everything).
  void set_dataset_replaced(std::function<void()> hook) { dataset_replaced_ = std::move(hook); }
  // Once a second: reconnects, times out, acknowledges.
  void Cron();
  // REPLCONF GETACK from the master: an ACK goes out once the command is applied.
  void AckRequested() { ack_requested_ = true; }
  // The master client (the one applying the stream), or nullptr.
  const Client* master_client() const { return master_client_.get(); }
  // The database the master's stream is in (a restart resumes there).
  void set_stream_db(int db) { db_ = db; }

  State state() const { return state_; }
  bool in_handshake() const {
    return state_ >= State::kReceivePong && state_ <= State::kReceivePsync;
  }
  const std::string& host() const { return host_; }
  int port() const { return port_; }
  // INFO replication's replica fields.
  int64_t last_io_ms() const { return last_io_ms_; }
  int64_t down_since_ms() const { return down_since_ms_; }
  int64_t transfer_size() const { return transfer_size_; }
  int64_t transfer_read() const { return transfer_read_; }
  int64_t transfer_last_io_ms() const { return transfer_last_io_ms_; }
  // The offset applied, and the offset read (with commands not yet complete).
  int64_t applied_offset() const { return p_.state.master_repl_offset; }
  int64_t read_offset() const {
    return p_.state.master_repl_offset + static_cast<int64_t>(unparsed_);
  }
  bool has_master_client() const { return master_client_ != nullptr; }
  // Whether this server has a history to offer a master (Redis's cached master).
  bool has_cached() const { return have_cached_; }

 private:
  class LinkSession;

  void StartConnect();
  std::unique_ptr<net::Session> OnConnected(uint64_t generation, net::Transport& transport);
  size_t OnInput(uint64_t generation, std::string_view input);
  void OnClosed(uint64_t generation);
  // Drops the link (and a transfer in progress); with `reconnect`, tries again at the next
  // cron second (Redis's cancelReplicationHandshake).
  void Cancel(bool reconnect);
  void Send(std::string_view bytes);
  void SendCommand(std::initializer_list<std::string_view> argv);
  void SendAck();

  // The steps; each consumes what it used of `input`.
  size_t Handshake(std::string_view input);
  size_t Transfer(std::string_view input);
  size_t Stream(std::string_view input);
  // One reply line of the handshake, or nullopt until it is complete.
  static std::optional<std::string> ReadLine(std::string_view input, size_t* used);
  // The handshake's replies, in order.
  void OnPong(const std::string& line);
  void OnPsyncReply(const std::string& line);
  // The transaction that starts `input` (MULTI ... EXEC): applied whole and true, with `*used`
  // its bytes; false while its EXEC has not arrived.
  bool ApplyTransaction(std::string_view input, size_t* used);
  // One command of the master's stream, applied silently (a wrapped record unwrapped first).
  void ApplyFromMaster(CmdArgs args);
  // The RDB is in the temp file: load it and go on with the stream.
  bool LoadTransfer();
  // repl-diskless-load: parses the RDB from the socket (`input` starts it); the bytes of
  // `input` it used.
  size_t LoadFromSocket(std::string_view input);
  // Before either load: no snapshot, no AOF, no replicas of ours, no backlog.
  void PrepareForLoad();
  // After a load that succeeded: the stream goes on from the master's offset.
  void FinishLoad(int64_t stream_db);
  // The loader's progress handler: a newline to the master at most once a second.
  std::function<void()> KeepAliveWhileLoading();
  void BecomeConnected(bool full);
  void CreateMasterClient();

  Parts p_;
  State state_ = State::kNone;
  std::string host_;
  int port_ = 0;
  uint64_t generation_ = 0;
  std::function<void()> cancel_connect_;
  net::Transport* transport_ = nullptr;
  std::unique_ptr<Client> master_client_;
  int db_ = 0;                   // the master client's database, kept for a partial resync
  bool have_cached_ = false;     // the ID and offset this server has are worth a PSYNC
  bool ack_requested_ = false;   // a GETACK was applied
  bool failover_psync_ = false;  // the next PSYNC carries FAILOVER
  bool diskless_ = false;        // this full sync is parsed from the socket
  std::function<void(bool accepted)> failover_reply_;
  std::function<void()> dataset_replaced_;
  size_t unparsed_ = 0;  // stream bytes read but not applied yet
  int64_t last_io_ms_ = 0;
  int64_t down_since_ms_ = 0;
  // The full sync in progress.
  std::string master_replid_;
  int64_t master_initial_offset_ = -1;
  std::string transfer_tmp_;
  int transfer_fd_ = -1;
  int64_t transfer_size_ = -1;  // -1: the "$" header not read yet; 0 with an EOF mark
  int64_t transfer_read_ = 0;
  int64_t transfer_last_io_ms_ = 0;
  std::string eof_mark_;  // diskless: the 40 bytes that end the payload
  std::string eof_tail_;  // the last 40 bytes written, to find the mark
};

}  // namespace keyward
