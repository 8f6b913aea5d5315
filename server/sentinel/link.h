// A sentinel's links to the instances it watches (Redis's instanceLink): a commands connection,
// and for masters and replicas a pub/sub connection subscribed to the hello channel, with the
// times failure detection reads. A Sentinel watching several masters shares one link per peer
// sentinel across them (so 5 sentinels over 100 masters keep 5 connections, not 500).
//
// A connection is asynchronous, as hiredis's: commands sent before it is established wait in a
// buffer and go out once it is; each reply goes to the callback of the command it answers, in
// order. A connection that fails or closes drops its pending callbacks (their replies will never
// come) and marks the link disconnected; the sentinel's timer reconnects it.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "keyward/client/reply.h"
#include "keyward/client/reply_parser.h"
#include "server/engine/host.h"
#include "server/net/transport.h"

namespace keyward::sentinel {

using client::Reply;
// Called with the reply to a command. Not called when the connection closes first.
using ReplyCallback = std::function<void(const Reply& reply)>;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // `pubsub`: every reply goes to the message handler (a subscribed connection).
  explicit Connection(bool pubsub) : pubsub_(pubsub) {}
  ~Connection();

  // Starts connecting through the host. `closed` runs once if the connection fails or closes
  // without Close() having been called.
  void Open(ServerHost* host, const std::string& ip, int port, const std::string& source,
            std::function<void()> closed);
  // Queues a command; `done` (may be empty) gets its reply.
  void Send(const std::vector<std::string>& argv, ReplyCallback done);
  void OnMessage(ReplyCallback handler) { on_message_ = std::move(handler); }
  // Closes without calling `closed`.
  void Close();

  bool established() const { return transport_ != nullptr; }
  // The local address of the established connection ("127.0.0.1:50000"), or "".
  std::string local_address() const;

 private:
  class Session;
  void Established(net::Transport& transport);
  void Input(const Reply& reply);
  void Lost();

  const bool pubsub_;
  net::Transport* transport_ = nullptr;
  std::function<void()> cancel_;
  std::function<void()> closed_;
  std::string waiting_;  // commands queued before the connection was established
  std::deque<ReplyCallback> callbacks_;
  ReplyCallback on_message_;
  bool done_ = false;  // closed, by either side
};

struct InstanceLink {
  ~InstanceLink() { CloseAll(); }
  void CloseCommands();
  void ClosePubSub();
  void CloseAll() {
    CloseCommands();
    ClosePubSub();
  }

  bool disconnected = true;  // true while either connection it needs is missing
  int pending_commands = 0;
  std::shared_ptr<Connection> cc;  // commands
  std::shared_ptr<Connection> pc;  // pub/sub (masters and replicas)
  int64_t cc_conn_time = 0;
  int64_t pc_conn_time = 0;
  int64_t pc_last_activity = 0;
  int64_t last_avail_time = 0;  // last valid PING reply
  int64_t act_ping_time = 0;    // when the oldest unanswered PING was sent; 0: none pending
  int64_t last_ping_time = 0;
  int64_t last_pong_time = 0;  // last PING reply of any kind
  int64_t last_reconn_time = 0;
};

// RESP encoding of a command.
std::string EncodeArgv(const std::vector<std::string>& argv);

}  // namespace keyward::sentinel
