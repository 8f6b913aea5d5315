// The asynchronous client: one connection, many concurrent requests, on asio with C++20
// coroutines.
//
//   asio::io_context io;
//   AsyncClient client(io.get_executor(), *OptionsFromUrl("redis://127.0.0.1:6379/0"));
//   asio::co_spawn(io, [&]() -> asio::awaitable<void> {
//     auto set = co_await client.Command("SET", "k", 42);
//     auto got = co_await client.Command("GET", "k");           // Expected<Reply>
//     if (got) std::cout << got->as_string().value() << "\n";    // "42"
//   }, asio::detached);
//   io.run();
//
// - Requests from any number of coroutines share the connection: each is queued, written in
//   batches (everything queued while a write was in progress goes out in the next write) and
//   answered in order. A Request holding several commands is a pipeline; its replies arrive
//   together.
// - Per-request timeouts (argument, or ConnectionConfig::command_timeout) and asio cancellation
//   (cancellation slots: asio::bind_cancellation_slot, awaitable operators). A request cancelled
//   before it was written is never sent; one cancelled in flight cannot be unsent, so its reply is
//   read and dropped. Either way the call completes at once with kTimeout or kCancelled. The
//   connection is shared, so it is kept (as Lettuce and ioredis do); two consequences follow.
//   A command that takes data (BLPOP, LPOP, XREADGROUP) and times out in flight still takes it,
//   into the dropped reply. And a server blocked in such a command holds up every later request
//   on the connection. Give blocking commands a server-side timeout (BLPOP k 5) shorter than the
//   client's, or a connection of their own (the synchronous Client closes the connection of a
//   timed-out command instead).
// - Reconnection: a lost connection is re-established in the background with exponential backoff
//   and jitter (ReconnectPolicy). Requests in flight when it was lost fail with kConnectionLost
//   (they may have run: the client never resends them); requests not yet written wait for the
//   new connection (ClientOptions::queue_while_disconnected). Subscriptions are restored on the
//   new connection (the confirmations arrive again as pushes). Optional health check (PING on an
//   idle connection, see HealthCheck).
// - Push messages (RESP3 pushes: pub/sub messages and confirmations, tracking invalidations; on
//   RESP2, pub/sub arrays) go to the handler set with SetPushHandler(), or else to an awaitable
//   queue read with ReceivePush().
//
// Threading: like an asio socket, an AsyncClient is used from one thread at a time (its executor's
// thread, or a strand). Results: Expected<...> whose error is a ClientError, or a system/asio error
// from connecting (connection_refused, host_not_found ...). A server error reply ("-ERR ...") is
// not an error here: it is a Reply of type kError (Reply::is_error()).
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/dispatch.hpp>
#include <asio/post.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "keyward/client/config.h"
#include "keyward/client/handshake.h"
#include "keyward/client/reply.h"
#include "keyward/client/request.h"

namespace keyward::client {

namespace detail {

// A move-only, type-erased completion handler for the signature void(std::error_code, R). It is
// completed through asio::dispatch on the handler's own executor: when the read loop runs on that
// executor (the usual single-threaded io_context), the caller resumes at once, inline, instead of
// after a posted hop through the scheduler's queue; that halves the cost of a request when many
// coroutines share the connection. The client's loops are written for it: nothing they hold
// across a completion can be invalidated by what the resumed caller does (Exec, Close, even
// destroying the AsyncClient: the loops own the state).
template <typename R>
class Completion {
 public:
  Completion() = default;
  template <typename Handler>
  explicit Completion(Handler handler)
      : impl_(std::make_unique<Model<Handler>>(std::move(handler))) {}

  explicit operator bool() const { return impl_ != nullptr; }
  void operator()(std::error_code error, R result) {
    if (auto impl = std::move(impl_)) impl->Complete(error, std::move(result));
  }

 private:
  struct Base {
    virtual ~Base() = default;
    virtual void Complete(std::error_code error, R result) = 0;
  };
  template <typename Handler>
  struct Model final : Base {
    explicit Model(Handler h) : handler(std::move(h)) {}
    void Complete(std::error_code error, R result) override {
      // The caller's cancellation hook must go before the caller resumes.
      auto slot = asio::get_associated_cancellation_slot(handler);
      if (slot.is_connected()) slot.clear();
      auto executor = asio::get_associated_executor(handler);
      asio::dispatch(executor, [h = std::move(handler), error, r = std::move(result)]() mutable {
        std::move(h)(error, std::move(r));
      });
    }
    Handler handler;
  };
  std::unique_ptr<Base> impl_;
};

}  // namespace detail

// What the connection went through, for SetConnectionHandler().
struct ConnectionEvent {
  enum class Kind {
    kConnected,      // connected and set up (HELLO/AUTH/SELECT done); subscriptions restored
    kDisconnected,   // an established connection was lost; `error` says why
    kConnectFailed,  // a connection attempt failed; `error` says why; a retry follows if allowed
    kGaveUp,         // ReconnectPolicy says stop: commands fail until the next one restarts it
  };
  Kind kind;
  std::error_code error;
};

class AsyncClient {
 public:
  using Replies = std::vector<Reply>;

  AsyncClient(asio::any_io_executor executor, ClientOptions options);
  // Closes the client (see Close()).
  ~AsyncClient();
  AsyncClient(const AsyncClient&) = delete;
  AsyncClient& operator=(const AsyncClient&) = delete;

  // Starts connecting in the background; idempotent. The first command starts it too.
  void Start();
  // Starts if needed and waits until the connection is ready (returns no error) or an attempt
  // failed (returns its error; the client keeps retrying in the background if its policy says so).
  asio::awaitable<std::error_code> Connect();
  // Closes the connection and stops reconnecting. Every pending request, and every later one,
  // fails with kClosed; ReceivePush() returns kClosed.
  void Close();

  // Sends every command of `request` (its bytes are moved, not copied) and returns their replies
  // in order, Request::expected_replies() of them. `timeout` overrides command_timeout; zero means
  // none.
  asio::awaitable<Expected<Replies>> Exec(
      Request request, std::optional<std::chrono::milliseconds> timeout = std::nullopt);

  // One command; its reply. Subscribe-family commands have no reply of their own (see
  // request.h): use Exec() for them, whose replies vector is empty.
  template <BulkArg... Args>
  asio::awaitable<Expected<Reply>> Command(std::string_view name, const Args&... args) {
    Request request;
    request.Push(name, args...);
    return FirstReply(std::move(request));
  }

  // MULTI, the commands of `commands`, EXEC in one round trip; EXEC's reply: an array of the
  // commands' replies, null when a WATCHed key changed, or the error (EXECABORT) when a command
  // was refused while queueing. WATCH, if wanted, goes in a separate Exec() before.
  asio::awaitable<Expected<Reply>> Transaction(
      const Request& commands, std::optional<std::chrono::milliseconds> timeout = std::nullopt);

  // The completion-token form of Exec() for callers not using coroutines (callbacks, futures):
  // signature void(std::error_code, std::vector<Reply>). No timeout; use cancellation.
  template <typename CompletionToken>
  auto AsyncExec(Request request, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code, Replies)>(
        [this](auto handler, Request r) { Submit(std::move(r), std::move(handler)); }, token,
        std::move(request));
  }

  // Push messages go to `handler` from now on, called on the client's executor as each arrives
  // (it must not block). An empty function switches back to the ReceivePush() queue.
  void SetPushHandler(std::function<void(const Reply&)> handler);
  // The next push message (when no handler is set). Waits for one; kClosed after Close().
  asio::awaitable<Expected<Reply>> ReceivePush();
  // Connection events (connected, lost, attempt failed, gave up), on the client's executor.
  void SetConnectionHandler(std::function<void(const ConnectionEvent&)> handler);

  bool connected() const;
  // 3 or 2 once connected (see Handshake); 0 before.
  int protocol() const;
  // What HELLO said about the server of the current (or last) connection; absent on RESP2.
  const std::optional<ServerHello>& server_hello() const;
  const ClientOptions& options() const;

 private:
  struct Impl;
  asio::awaitable<Expected<Reply>> FirstReply(Request request);
  void SubmitErased(Request request, detail::Completion<Replies> completion,
                    asio::cancellation_slot slot);
  template <typename Handler>
  void Submit(Request request, Handler handler) {
    auto slot = asio::get_associated_cancellation_slot(handler);
    SubmitErased(std::move(request), detail::Completion<Replies>(std::move(handler)), slot);
  }

  std::shared_ptr<Impl> impl_;
};

}  // namespace keyward::client
