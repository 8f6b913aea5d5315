// The network layer: an asio event loop with TCP and unix-socket listeners, connections, timers
// and signals. It knows nothing of commands or keys: each connection talks to a net::Session.
//
// Per readable event a connection reads what is available, hands every byte to its session
// (which parses and executes every complete command) and writes all replies with one system
// call; only what the socket does not accept at once waits for an asynchronous write.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <system_error>

#include "server/net/tls.h"
#include "server/net/transport.h"

namespace keyward::net {

// What a TCP listener serves, so that one kind can be closed and reopened on its own (CONFIG SET
// port, tls-port).
enum class ListenerKind { kPlain, kTls, kMetrics };

struct ListenOptions {
  int backlog = 511;
  int keepalive_secs = 300;
  ListenerKind kind = ListenerKind::kPlain;
  bool tls = false;  // connections are TLS, with tls()'s server context
};

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();

  void Run();
  void Stop();
  void Post(std::function<void()> task);
  // Runs what is ready now, without waiting (used while a long script runs).
  void PollOnce();
  // The output gate: while held, no connection writes (its output accumulates); released, the
  // connections that had output write it. What must reach the disk before any reply is seen
  // (the AOF) holds it for the rest of the loop turn, as Redis writes its AOF in beforeSleep,
  // before the replies.
  void HoldOutput();
  void ReleaseOutput();
  // Calls `fn` after `first`, then again after each period it returns, until the loop stops
  // (Redis's time events: the period counts from the end of the call, so a loop that fell behind
  // does not catch up with a burst).
  void Every(std::chrono::microseconds first, std::function<std::chrono::microseconds()> fn);
  // One re-armable alarm: calls `fn` once after `delay`; arming again replaces the previous
  // request (the server keeps its own deadline queue and asks only for the earliest).
  void SetAlarm(std::chrono::microseconds delay, std::function<void()> fn);
  // Calls `fn` on SIGTERM / SIGINT.
  void OnSignals(std::function<void(int)> fn);

  // Listens on host:port ("*" for every IPv4 address, "::*" for IPv6). Returns the bound port.
  std::error_code ListenTcp(const std::string& host, int port, const ListenOptions& options,
                            SessionFactory factory, int* bound_port = nullptr);
  std::error_code ListenUnix(const std::string& path, int perm, const ListenOptions& options,
                             SessionFactory factory);
  // Opens a TCP connection to host:port (a name is resolved first). Connected, the connection
  // gets its session from `factory` and lives as an accepted one does; failed, `failed` gets
  // the error text. The returned function cancels an attempt still in progress (then neither is
  // called).
  // From the local address `source` when it is not empty and can be bound (best effort).
  // With `tls`, the connection is TLS with tls()'s client context (a failed handshake is a
  // failed attempt).
  std::function<void()> ConnectTcp(const std::string& host, int port, const std::string& source,
                                   bool tls, SessionFactory factory,
                                   std::function<void(const std::string& error)> failed);
  void CloseListeners();
  // Closes the TCP listeners of one kind.
  void CloseTcpListeners(ListenerKind kind);
  void set_keepalive(int secs);
  // The TLS contexts of tls-port and of TLS connections made (tls-replication).
  TlsContexts& tls();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace keyward::net
