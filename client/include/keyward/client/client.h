// The synchronous client: blocking calls with time limits, for programs without an event loop
// (the `keyward` CLI, scripts, tests).
//
//   auto options = OptionsFromUrl("redis://:secret@127.0.0.1:6379/2");
//   Client client(*options);
//   if (auto error = client.Connect()) { ... error.message() ... }
//   client.Command("SET", "counter", 1);
//   Expected<Reply> n = client.Command("INCRBY", "counter", 41);
//   int64_t value = n->as_integer().value();  // 42
//
//   Request pipeline;                                   // one round trip for three commands
//   pipeline.Push("INCR", "a"); pipeline.Push("INCR", "b"); pipeline.Push("MGET", "a", "b");
//   Expected<std::vector<Reply>> replies = client.Exec(std::move(pipeline));
//
// It shares the state machines of AsyncClient (Handshake, Pipeline, SubscriptionSet) and drives
// them with plain blocking I/O (write, poll, read), which keeps a round trip as cheap as hiredis's.
// Behaviour:
// - nothing happens between calls. A call on a connection that died while idle notices it (the
//   peer's close is waiting to be read) and reconnects before writing; a connection lost during
//   a call fails that call (kConnectionLost: it may have run), and the next call reconnects. Each
//   call makes at most one connection attempt, bounded by connect_timeout; there is no backoff.
//   With ReconnectPolicy::enabled off, a lost connection stays lost until Connect() is called.
// - subscriptions are restored on reconnection, as in AsyncClient;
// - a command whose time limit expires is abandoned together with its connection (as redis-py
//   and hiredis do): the server forgets it (a BLPOP stops waiting rather than popping the next
//   job into a reply nobody reads), and the next call reconnects;
// - the health check does not apply (nothing runs between calls).
// Not thread-safe: one thread at a time (give each thread its own Client).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "keyward/client/config.h"
#include "keyward/client/handshake.h"
#include "keyward/client/reply.h"
#include "keyward/client/request.h"

namespace keyward::client {

class Client {
 public:
  using Replies = std::vector<Reply>;
  using Timeout = std::optional<std::chrono::milliseconds>;

  // Does not connect: Connect() does, or the first command.
  explicit Client(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;

  // Connects (within connect_timeout) if not connected. Returns the error of the attempt.
  std::error_code Connect();
  // Closes the connection; the next call reconnects.
  void Close();

  // Sends every command of `request` and waits for their replies (Request::expected_replies()).
  // `timeout` overrides command_timeout; zero means none.
  Expected<Replies> Exec(Request request, Timeout timeout = std::nullopt);

  template <BulkArg... Args>
  Expected<Reply> Command(std::string_view name, const Args&... args) {
    Request request;
    request.Push(name, args...);
    return FirstReply(std::move(request));
  }

  // MULTI ... EXEC in one round trip: EXEC's reply (see AsyncClient::Transaction).
  Expected<Reply> Transaction(const Request& commands, Timeout timeout = std::nullopt);

  // The next push message (pub/sub after SUBSCRIBE ...), waiting up to `timeout` (none: forever).
  // kTimeout when none came.
  Expected<Reply> ReceivePush(Timeout timeout = std::nullopt);

  bool connected() const;
  int protocol() const;
  const std::optional<ServerHello>& server_hello() const;
  // Detail of the last connection failure (OpenSSL's reason, the resolver's message), for logs.
  const std::string& error_detail() const;

 private:
  struct Impl;
  Expected<Reply> FirstReply(Request request);
  std::unique_ptr<Impl> impl_;
};

}  // namespace keyward::client
