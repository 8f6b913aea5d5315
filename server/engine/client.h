// The server-side state of one client connection (and of the scripting engines' own clients). It
// knows nothing of sockets: the network layer sits behind the Transport it holds.
#pragma once

#include <cstdint>
#include <string>

#include "server/net/transport.h"
#include "server/protocol/reply_builder.h"
#include "server/protocol/request_parser.h"
#include "server/pubsub/pubsub.h"

namespace keyward {

namespace acl {
class User;
}

class Client {
 public:
  enum Flags : uint32_t {
    kMonitor = 1 << 0,
    kCloseAfterReply = 1 << 1,  // QUIT, protocol errors, CLIENT KILL of oneself
    kNoEvict = 1 << 2,
    kUnixSocket = 1 << 3,
    kPaused = 1 << 4,  // held by CLIENT PAUSE, input waits in the buffer
    kClosed = 1 << 5,
    // Over an output buffer limit: gets no more output and is closed once the current command
    // (or fan-out) is done (Redis's CLIENT_CLOSE_ASAP).
    kCloseAsap = 1 << 6,
    kPendingFlush = 1 << 7,  // queued in Server::ProcessDeferred's flush list
    // Waiting for a lock (LOCK.ACQUIRE ... WAIT, LOCK.WAIT): its later input waits in the buffer.
    kBlocked = 1 << 8,
    kScript = 1 << 9,  // the scripting engines' own client: it never blocks
    // Inside MULTI: the gatekeeper queues its commands (engine/transactions.h).
    kMulti = 1 << 10,
    kDirtyCas = 1 << 11,   // a watched key changed: EXEC replies null (CLIENT LIST 'd')
    kDirtyExec = 1 << 12,  // a command was refused while queueing: EXEC aborts
    // Client-side caching (engine/tracking.h): CLIENT TRACKING ON and its options.
    kTracking = 1 << 13,
    kTrackingBcast = 1 << 14,
    kTrackingOptin = 1 << 15,
    kTrackingOptout = 1 << 16,
    kTrackingCaching = 1 << 17,  // CLIENT CACHING YES/NO for the next command (or transaction)
    kTrackingNoloop = 1 << 18,
    kTrackingBrokenRedir = 1 << 19,  // the client it redirects to went away
    // Replication (server/replication/): a replica of this server, after its SYNC or PSYNC
    // ('S'), and this replica's link to its master ('M').
    kReplica = 1 << 20,
    kMaster = 1 << 21,
  };
  enum class ReplyMode { kOn, kOff, kSkipNext, kSkip };

  Client(uint64_t id, net::Transport* transport, int64_t now_ms);

  uint64_t id() const { return id_; }
  net::Transport* transport() const { return transport_; }
  ReplyBuilder& rb() { return rb_; }
  RequestParser& parser() { return parser_; }

  int db = 0;
  int resp = 2;
  bool authenticated = false;
  // The ACL user the client runs as (server/acl/): the default user until AUTH or HELLO names
  // another. nullptr for the master link and the server's own clients, which may run anything.
  const acl::User* user = nullptr;
  uint32_t flags = 0;
  ReplyMode reply_mode = ReplyMode::kOn;
  std::string name;
  std::string lib_name, lib_ver;  // CLIENT SETINFO is 7.2; kept for CLIENT LIST fields
  int64_t created_ms;
  int64_t last_interaction_ms;
  uint64_t commands_processed = 0;
  std::string last_command = "NULL";  // CLIENT LIST cmd=, full name of the last command
  // The most input held at once since the cron last looked (Redis's querybuf_peak), and the
  // biggest reply since then (its reply buffer peak, CLIENT LIST rbp).
  size_t query_buffer_peak = 0;
  size_t reply_peak = 0;
  ClientSubscriptions subscriptions;
  // When the output buffer first went over its class's soft limit; 0 while under it.
  int64_t obuf_soft_limit_since_ms = 0;

  // Subscribed to anything: RESP2 connections then accept only the pub/sub commands.
  bool subscribed() const { return !subscriptions.empty(); }
  // Closing, or about to: output for it is dropped (the design rule for output to others).
  bool closing() const { return (flags & (kClosed | kCloseAfterReply | kCloseAsap)) != 0; }
  void set_resp(int version) {
    resp = version;
    rb_.set_resp3(version == 3);
  }
  bool has(uint32_t f) const { return (flags & f) != 0; }
  // Redis's getClientType: the master link, a replica, a subscriber, or anyone else (MONITOR
  // included). Output buffer limits and CLIENT LIST/KILL TYPE go by it.
  enum class Type { kNormal, kReplica, kPubSub, kMaster };
  Type type() const {
    if (has(kMaster)) return Type::kMaster;
    if (has(kReplica)) return Type::kReplica;
    if (subscribed()) return Type::kPubSub;
    return Type::kNormal;
  }
  // Bytes held for this client outside its transport (a replica's stream while its RDB is
  // prepared): they count against its output buffer limit.
  size_t held_output = 0;
  // The replication offset right after this client's last command that fed the stream (WAIT).
  int64_t woff = 0;

 private:
  uint64_t id_;
  net::Transport* transport_;
  ReplyBuilder rb_;
  RequestParser parser_;
};

}  // namespace keyward
