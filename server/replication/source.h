// The master side of replication: the replication stream, its backlog, and the replicas fed
// from it, as Redis 7.0 runs them (../shared/INTEROP.md has the protocol).
//
// - The stream: on a master, every command of the propagation stream (this is one of its
//   consumers while a backlog exists) plus the PINGs and REPLCONF GETACKs replication adds
//   itself; on a replica, the bytes of its own master's stream, proxied as they came (Feed), so
//   that offsets are the same on every server of a chain and a replica can continue from any of
//   them. master_repl_offset (ServerState) counts its bytes while a backlog exists.
// - A replica is a client that sent SYNC or PSYNC. PSYNC continues from the backlog when the
//   replication ID matches (or the previous one, up to the offset where it was replaced) and the
//   offset is still held: "+CONTINUE", then the missing bytes. Otherwise a full sync:
//   "+FULLRESYNC <replid> <offset>" when a background save starts (or one already registering
//   differences for another replica can be shared), the stream from that moment held for the
//   replica (counted against its output limit) while the snapshot is written, then the RDB file
//   as "$<len>\r\n<bytes>", then what was held, then the live stream.
// - The snapshot is the server's own background save (RdbPersistence::BackgroundSave, written
//   to dbfilename without fork): it is a point-in-time image of the moment the FULLRESYNC
//   offset names, so the RDB and the held stream join exactly.
// - Once a second (Cron): a PING into the stream every repl-ping-replica-period, a newline to
//   replicas waiting for their snapshot, replicas silent for repl-timeout disconnected, the
//   backlog freed after repl-backlog-ttl without replicas, the count of good replicas for
//   min-replicas-to-write.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "server/core/clock.h"
#include "server/core/settings.h"
#include "server/engine/blocking.h"
#include "server/engine/client_registry.h"
#include "server/engine/output.h"
#include "server/engine/propagation.h"
#include "server/engine/server_state.h"
#include "server/engine/stats.h"
#include "server/engine/timers.h"
#include "server/replication/backlog.h"
#include "server/replication/stream_form.h"

namespace keyward {

class RdbPersistence;
class SnapshotJob;
class FunctionEngine;
class LockManager;

class ReplicationSource : public PropagationConsumer {
 public:
  struct Parts {
    const ServerSettings& settings;
    ServerState& state;
    ClientRegistry& clients;
    ReplyOutput& output;
    Propagation& propagation;
    BlockingRegistry& blocking;
    Timers& timers;
    Clock& clock;
    ServerStats& stats;
    RdbPersistence& rdb;
    // Diskless syncs run the snapshot job themselves, with the RDB header's parts.
    SnapshotJob& job;
    const FunctionEngine& functions;
    const LockManager& locks;
  };
  // A replica's state, as INFO names them.
  enum class State { kHandshake, kWaitBgsaveStart, kWaitBgsaveEnd, kSendBulk, kOnline };
  struct Replica {
    uint64_t client_id = 0;
    State state = State::kHandshake;
    int64_t listening_port = 0;  // REPLCONF listening-port
    std::string announced_ip;    // REPLCONF ip-address
    bool capa_eof = false, capa_psync2 = false;
    bool pre_psync = false;  // SYNC rather than PSYNC: no ACKs expected
    // REPLCONF rdb-only 1 (redis-cli --rdb): the snapshot, then the connection closes; with
    // rdb-filter-only, a snapshot without keys (and with the libraries or not).
    bool rdb_only = false;
    bool exclude_data = false;
    bool include_functions = true;
    int64_t ack_offset = 0;
    int64_t ack_time_ms = 0;
    int64_t psync_initial_offset = 0;
    int64_t wait_since_ms = 0;  // when it began waiting for a snapshot
    // Diskless: it receives the snapshot being streamed; once it has it, the stream waits for
    // its first ACK (a replica reading an EOF-marked payload must see nothing after the mark
    // before it answers, as Redis 7.0's repl_start_cmd_stream_on_ack).
    bool socket_target = false;
    bool wait_first_ack = false;
    std::string held;  // the stream since FULLRESYNC, while the RDB is prepared and sent
    // The RDB being sent.
    int fd = -1;
    uint64_t bulk_size = 0, bulk_sent = 0;
  };

  explicit ReplicationSource(Parts parts) : p_(parts) {}
  // A new random 40-hex replication ID.
  static std::string NewReplid();
  ~ReplicationSource() override;

  // PropagationConsumer: the master's own commands.
  // Keyward's coordination records go out wrapped for Redis replicas (stream_form.h).
  void OnCommand(const Argv& argv) override { Feed(ReplicationForm(argv)); }
  bool replica() const override { return true; }
  // Bytes of the stream: every replica fed from it gets them, and the backlog keeps them.
  void Feed(std::string_view bytes);

  // Whether this server feeds its propagation stream to replicas (a master with a backlog).
  void set_master_role(bool master);
  ReplicationBacklog& backlog() { return backlog_; }
  const ReplicationBacklog& backlog() const { return backlog_; }
  // Creates the backlog (its first byte the next of the stream), or frees it.
  void CreateBacklog();
  void FreeBacklog();
  void ResizeBacklog() { backlog_.Resize(static_cast<size_t>(p_.settings.repl_backlog_size)); }

  // REPLCONF from a client: listening-port, ip-address, capa. The error text, if any.
  std::optional<std::string> Configure(Client& c, std::string_view option, std::string_view value);
  // REPLCONF rdb-only and rdb-filter-only.
  void SetRdbOnly(Client& c, bool rdb_only);
  void SetFunctionsOnly(Client& c, bool include_functions);
  // REPLCONF ACK from a replica (anyone else is ignored).
  void Ack(Client& c, int64_t offset);
  // SYNC (psync false) or PSYNC <replid> <offset>: writes what the replica gets to its output.
  void Sync(Client& c, std::string_view replid, int64_t psync_offset, bool psync);

  // A background save ended (RdbPersistence's completion): "" when its file is in place.
  void BackgroundSaveDone(const std::string& error, const std::string& path);
  // Once a second.
  void Cron();
  // A client closed: if it was a replica, it is gone.
  void ClientClosed(Client& c);
  // Closes every replica (they reconnect and PSYNC: a role or ID change).
  void DisconnectReplicas();

  // FAILOVER: no PINGs into the stream while its replicas catch up with it.
  void set_hold_pings(bool hold) { hold_pings_ = hold; }

  // WAIT: replicas whose last ACK reached `offset`; GETACK asked of every replica (once per
  // event-loop turn however many clients wait).
  int64_t CountAcked(int64_t offset) const;
  void RequestAcks();

  const std::map<uint64_t, Replica>& replicas() const { return replicas_; }
  size_t connected() const;  // replicas past the handshake (INFO connected_slaves)
  // INFO's address of a replica: its announced IP, else its peer's.
  std::string ReplicaIp(const Replica& r) const;

 private:
  Replica* Find(uint64_t client_id);
  // Makes `r` a replica in full sync.
  void StartFullSync(Client& c, Replica& r);
  // Starts a snapshot for the replicas waiting for one (on disk, or streamed to them when
  // repl-diskless-sync is on and they all read the EOF form, after repl-diskless-sync-delay);
  // false when none starts now.
  bool StartSyncSave();
  bool StartSocketSync();
  void SocketSyncDone(const std::string& error, const std::string& mark);
  // Sends what was held for `r` and feeds it live from now on.
  void StartStream(Client& c, Replica& r);
  // Sends "+FULLRESYNC" and starts holding the stream for `r`.
  void SetupFullResync(Client& c, Replica& r, int64_t offset);
  // Writes more of the RDB to a replica in send_bulk, without letting its output grow past a
  // few chunks; the rest on a timer.
  void Pump(uint64_t client_id);
  void PutOnline(Client& c, Replica& r);
  // The snapshot reached a replica that wanted nothing more: it is closed once written.
  void FinishRdbOnly(Client& c);
  void Drop(uint64_t client_id, const char* why);
  void RefreshGoodReplicas();
  void RemoveSyncFile();
  void SetOffset(int64_t offset) { p_.state.master_repl_offset = offset; }
  int64_t now_ms() const { return p_.clock.NowMs(); }

  Parts p_;
  ReplicationBacklog backlog_;
  std::map<uint64_t, Replica> replicas_;  // by client id, in connection order
  bool consumer_ = false;                 // registered with the propagation stream
  bool master_role_ = true;
  bool sync_save_running_ = false;    // the running background save serves replicas
  bool socket_sync_running_ = false;  // a diskless sync streams to its targets
  bool rdb_for_replicas_ = false;     // dbfilename was written for a disk-based sync
  int64_t no_replicas_since_ms_ = 0;
  uint64_t cron_loops_ = 0;
  bool acks_requested_ = false;
  bool hold_pings_ = false;
};

}  // namespace keyward
