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
// It is AsyncClient driven on a private io_context, so both share one implementation: the
// handshake, reply matching, TLS, subscriptions and their restoration. The differences:
// - nothing happens between calls: a lost connection is noticed by the next call, which then
//   reconnects (one attempt, unless ReconnectPolicy::enabled is false) before sending. A call
//   never waits through a backoff delay;
// - queue_while_disconnected is forced off and the health check is off.
// A command whose time limit expires after it was written leaves the connection usable: its
// reply is read and dropped by a later call.
//
// Not thread-safe: one thread at a time (give each thread its own Client).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

#include "keyward/client/config.h"
#include "keyward/client/handshake.h"
#include "keyward/client/reply.h"
#include "keyward/client/request.h"

namespace keyward::client {

class AsyncClient;

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

 private:
  struct Impl;
  Expected<Reply> FirstReply(Request request);
  std::unique_ptr<Impl> impl_;
};

}  // namespace keyward::client
