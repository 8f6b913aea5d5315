// The asio side of AsyncClient: a thin loop around the sans-I/O state machines. Handshake says
// what to write while connecting, Pipeline matches replies to requests, Backoff says how long to
// wait before reconnecting and HealthCheck whether an idle connection still answers. This file
// only moves bytes and timers between them and the sockets.
//
// Shape of the run loop (one coroutine per client, spawned by Start()):
//
//   while not closed:
//     connect + handshake, raced against connect_timeout
//     if that worked: serve = read loop || write loop || health loop, until one of them ends
//     fail the requests in flight (kConnectionLost); queued ones wait for the next connection
//     wait Backoff::NextDelay(), or give up
#include "keyward/client/async_client.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/experimental/channel.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <optional>
#include <variant>

#include "keyward/client/pipeline.h"
#include "keyward/client/reconnect.h"
#include "keyward/client/subscriptions.h"
#include "sentinel_lookup.h"
#include "stream.h"

namespace keyward::client {
namespace {

using Replies = AsyncClient::Replies;
using ExecCompletion = detail::Completion<Replies>;
using PushChannel = asio::experimental::channel<void(std::error_code, Reply)>;
constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);

// Read buffer size: a full pipeline of small replies arrives in one read.
constexpr size_t kReadChunk = 16 * 1024;

bool Cancelled(const asio::cancellation_state& state) {
  return state.cancelled() != asio::cancellation_type::none;
}

}  // namespace

struct AsyncClient::Impl : std::enable_shared_from_this<Impl> {
  enum class State { kIdle, kConnecting, kConnected, kWaitingToRetry, kGaveUp, kClosed };

  Impl(asio::any_io_executor ex, ClientOptions opts)
      : executor(ex),
        options(std::move(opts)),
        stream(ex),
        pipeline(options.reply_limits),
        backoff(options.reconnect),
        health(options.health_check_interval),
        writer_wakeup(ex),
        retry_timer(ex),
        pushes(ex, options.push_queue_capacity) {}

  asio::awaitable<void> Run();
  static asio::awaitable<void> RunOwned(std::shared_ptr<Impl> self) { co_await self->Run(); }
  asio::awaitable<std::error_code> ConnectOnce();
  asio::awaitable<std::error_code> ConnectAndHandshake();
  // Connects to `target` and sets the connection up; `check_role`: only a master will do.
  asio::awaitable<std::error_code> ConnectTo(const ConnectionConfig& target, bool check_role);
  // redis+sentinel://: asks the sentinels in turn, and connects where the first that knows the
  // master says it is; a sentinel whose answer does not lead to a master is passed over.
  asio::awaitable<std::error_code> ConnectThroughSentinels();
  asio::awaitable<Expected<std::pair<std::string, uint16_t>>> AskSentinel(size_t i);
  // Reads one reply on the connection being set up (into `reply`).
  asio::awaitable<std::error_code> ReadReply(detail::Stream& s, ReplyParser& parser,
                                             std::optional<Reply>* reply);
  asio::awaitable<std::error_code> Serve();
  asio::awaitable<std::error_code> ReadLoop();
  asio::awaitable<std::error_code> WriteLoop();
  asio::awaitable<std::error_code> HealthLoop();

  void Start();
  void Close();
  void Submit(Request request, ExecCompletion completion, asio::cancellation_slot slot);
  void Cancel(uint64_t id);
  // Cancelling a timer takes a lock; most submissions find the writer busy and need not.
  void WakeWriter() {
    if (writer_waiting) writer_wakeup.cancel();
  }
  void FailQueued(std::error_code error);
  void FinishConnectWaiters(std::error_code error);
  void Notify(ConnectionEvent::Kind kind, std::error_code error) {
    if (connection_handler) connection_handler(ConnectionEvent{kind, error});
  }

  asio::any_io_executor executor;
  ClientOptions options;
  std::shared_ptr<asio::ssl::context> tls;
  detail::Stream stream;
  Pipeline<ExecCompletion> pipeline;
  Backoff backoff;
  HealthCheck health;
  SubscriptionSet subscriptions;
  asio::steady_timer writer_wakeup;  // cancelled to wake the write loop
  asio::steady_timer retry_timer;    // the backoff wait; cancelled to retry at once
  PushChannel pushes;
  std::function<void(const Reply&)> push_handler;
  std::function<void(const ConnectionEvent&)> connection_handler;
  std::vector<detail::Completion<std::error_code>> connect_waiters;

  bool writer_waiting = false;  // the write loop sleeps on writer_wakeup
  State state = State::kIdle;
  std::error_code last_error;  // of the last failed attempt or lost connection
  std::optional<ServerHello> hello;
  int protocol = 0;
};

// ---- lifecycle ----

void AsyncClient::Impl::Start() {
  if (state != State::kIdle && state != State::kGaveUp) return;
  backoff.Reset();
  state = State::kConnecting;
  // The loop owns a reference, so the client can be destroyed while it winds down.
  asio::co_spawn(executor, RunOwned(shared_from_this()), asio::detached);
}

void AsyncClient::Impl::Close() {
  if (state == State::kClosed) return;
  state = State::kClosed;
  stream.Close();
  retry_timer.cancel();
  writer_wakeup.cancel();
  for (auto& completion : pipeline.TakeAll()) completion(ClientError::kClosed, {});
  FinishConnectWaiters(ClientError::kClosed);
  pushes.close();
}

asio::awaitable<void> AsyncClient::Impl::Run() {
  while (state != State::kClosed) {
    state = State::kConnecting;
    std::error_code error = co_await ConnectOnce();
    if (state == State::kClosed) break;
    if (!error) {
      backoff.Reset();
      state = State::kConnected;
      last_error = {};
      FinishConnectWaiters({});
      Notify(ConnectionEvent::Kind::kConnected, {});
      error = co_await Serve();
      if (state == State::kClosed) break;
      Notify(ConnectionEvent::Kind::kDisconnected, error);
    } else {
      Notify(ConnectionEvent::Kind::kConnectFailed, error);
      FinishConnectWaiters(error);
    }
    stream.Close();
    // The server may have run what was in flight: fail it, never resend it. Say why when the
    // server broke the protocol; otherwise the connection was simply lost.
    const std::error_code lost =
        IsProtocolViolation(error) ? error : std::error_code(ClientError::kConnectionLost);
    for (auto& completion : pipeline.OnDisconnect()) completion(lost, {});
    last_error = error;
    protocol = 0;
    // Credentials the server refused will be refused again: waiting would only hide the error.
    if (!options.queue_while_disconnected || error == ClientError::kAuthFailed) FailQueued(error);
    auto delay = backoff.NextDelay();
    if (!delay) {
      state = State::kGaveUp;
      FailQueued(error);
      Notify(ConnectionEvent::Kind::kGaveUp, error);
      co_return;
    }
    state = State::kWaitingToRetry;
    retry_timer.expires_after(*delay);
    co_await retry_timer.async_wait(kNoThrow);  // cancelled: retry now, or closed
  }
}

asio::awaitable<std::error_code> AsyncClient::Impl::ConnectOnce() {
  using namespace asio::experimental::awaitable_operators;
  if (options.connection.tls && !tls) {
    std::string detail;
    auto context = detail::MakeTlsContext(options.connection.tls_options, &detail);
    if (!context) co_return context.error();
    tls = std::move(*context);
  }
  if (options.connection.connect_timeout.count() <= 0) co_return co_await ConnectAndHandshake();
  asio::steady_timer deadline(executor, options.connection.connect_timeout);
  auto outcome = co_await (ConnectAndHandshake() || deadline.async_wait(kNoThrow));
  if (outcome.index() == 1) co_return ClientError::kTimeout;
  co_return std::get<0>(outcome);
}

asio::awaitable<std::error_code> AsyncClient::Impl::ReadReply(detail::Stream& s,
                                                              ReplyParser& parser,
                                                              std::optional<Reply>* reply) {
  std::string buffer(4096, '\0');
  while (true) {
    auto next = parser.Next();
    if (!next) co_return next.error();
    if (*next) {
      *reply = std::move(**next);
      co_return std::error_code{};
    }
    auto [error, n] = co_await s.ReadSome(asio::buffer(buffer));
    if (error) co_return error;
    parser.Feed(std::string_view(buffer.data(), n));
  }
}

asio::awaitable<Expected<std::pair<std::string, uint16_t>>> AsyncClient::Impl::AskSentinel(
    size_t i) {
  detail::Stream s(executor);
  const ConnectionConfig config = detail::SentinelConnection(options.connection, i);
  if (auto error = co_await s.Connect(config, nullptr)) co_return error;
  if (auto error = co_await s.Write(detail::MasterAddrQuery(options.connection.sentinel_master))) {
    co_return error;
  }
  ReplyParser parser(options.reply_limits);
  std::optional<Reply> reply;
  if (auto error = co_await ReadReply(s, parser, &reply)) co_return error;
  s.Close();
  if (auto addr = detail::MasterAddrFrom(*reply)) co_return *addr;
  co_return ClientError::kNoMaster;
}

asio::awaitable<std::error_code> AsyncClient::Impl::ConnectThroughSentinels() {
  using namespace asio::experimental::awaitable_operators;
  // Each sentinel gets a share of the connect timeout, so that a stopped one (which accepts the
  // connection and never answers) leaves time for the others and for the master.
  const size_t n = options.connection.sentinels.size();
  const auto share = options.connection.connect_timeout.count() > 0
                         ? options.connection.connect_timeout / static_cast<int>(n + 1)
                         : std::chrono::milliseconds(1000);
  std::error_code last = ClientError::kNoMaster;
  bool answered = false;
  for (size_t i = 0; i < n; i++) {
    asio::steady_timer deadline(executor, share);
    auto outcome = co_await (AskSentinel(i) || deadline.async_wait(kNoThrow));
    if (outcome.index() != 0) {
      if (!answered) last = ClientError::kTimeout;
      continue;
    }
    auto& addr = std::get<0>(outcome);
    if (!addr) {
      // "Does not know the name" is kNoMaster; a transport error is kept when nobody answers.
      if (!answered || addr.error() == ClientError::kNoMaster) last = addr.error();
      answered = answered || addr.error() == ClientError::kNoMaster;
      continue;
    }
    answered = true;
    const ConnectionConfig target = detail::MasterConnection(options.connection, *addr);
    if (auto error = co_await ConnectTo(target, /*check_role=*/true)) {
      stream.Close();
      last = error;
      continue;
    }
    // This sentinel led to a master: it is asked first next time.
    options.connection.host = target.host;
    options.connection.port = target.port;
    detail::PreferSentinel(options.connection, i);
    co_return std::error_code{};
  }
  co_return last;
}

asio::awaitable<std::error_code> AsyncClient::Impl::ConnectAndHandshake() {
  if (!options.connection.sentinels.empty()) co_return co_await ConnectThroughSentinels();
  co_return co_await ConnectTo(options.connection, /*check_role=*/false);
}

asio::awaitable<std::error_code> AsyncClient::Impl::ConnectTo(const ConnectionConfig& target,
                                                              bool check_role) {
  if (auto error = co_await stream.Connect(target, tls.get())) co_return error;
  Handshake handshake(target);
  std::string out = handshake.Start();
  ReplyParser& parser = pipeline.parser();
  parser.Reset();
  std::string buffer(kReadChunk, '\0');
  while (true) {
    if (!out.empty()) {
      if (auto error = co_await stream.Write(out)) co_return error;
      out.clear();
    }
    auto [error, n] = co_await stream.ReadSome(asio::buffer(buffer));
    if (error) co_return error;
    parser.Feed(std::string_view(buffer.data(), n));
    switch (handshake.Drain(parser, &out)) {
      case Handshake::Action::kFailed:
        co_return handshake.error();
      case Handshake::Action::kDone:
        protocol = handshake.protocol();
        hello = handshake.server_hello();
        pipeline.set_protocol(protocol);
        // A sentinel's answer may be stale (a failover under way): only a master will do.
        if (check_role) {
          if (auto error = co_await stream.Write(detail::kRoleRequest)) co_return error;
          std::optional<Reply> role;
          if (auto error = co_await ReadReply(stream, parser, &role)) co_return error;
          if (!detail::RoleIsMaster(*role)) co_return ClientError::kNoMaster;
        }
        // Subscriptions come back before anything queued, so no message is missed by a
        // request that depends on them.
        if (!subscriptions.empty()) {
          pipeline.Add(subscriptions.Restore(), ExecCompletion{});
          subscriptions.Clear();  // the new confirmations rebuild it
        }
        co_return std::error_code{};
      default:
        break;  // more replies to read
    }
  }
}

// ---- serving a connection ----

asio::awaitable<std::error_code> AsyncClient::Impl::Serve() {
  using namespace asio::experimental::awaitable_operators;
  health.Reset();
  auto outcome = co_await (ReadLoop() || WriteLoop() || HealthLoop());
  co_return std::visit([](std::error_code error) { return error; }, outcome);
}

asio::awaitable<std::error_code> AsyncClient::Impl::ReadLoop() {
  std::string buffer(kReadChunk, '\0');
  while (true) {
    auto [error, n] = co_await stream.ReadSome(asio::buffer(buffer));
    if (error) co_return error;
    health.OnData();
    pipeline.Feed(std::string_view(buffer.data(), n));
    while (true) {
      auto event = pipeline.Next();
      if (!event) co_return event.error();
      if (!*event) break;
      auto& e = **event;
      if (e.kind == Pipeline<ExecCompletion>::Event::Kind::kCompleted) {
        if (e.op) e.op({}, std::move(e.replies));  // no op: an internal PING or restore
        continue;
      }
      subscriptions.OnPush(e.push);
      if (push_handler) {
        push_handler(e.push);
        continue;
      }
      // Waits while the queue is full: reading stops, and the server's output-buffer limit
      // takes over (see ClientOptions::push_queue_capacity).
      auto [send_error] =
          co_await pushes.async_send(std::error_code{}, std::move(e.push), kNoThrow);
      if (send_error) co_return send_error;
    }
  }
}

asio::awaitable<std::error_code> AsyncClient::Impl::WriteLoop() {
  auto cancellation = co_await asio::this_coro::cancellation_state;
  while (true) {
    if (pipeline.queued() > 0) {
      std::string bytes = pipeline.TakeWrite();
      if (auto error = co_await stream.Write(bytes)) co_return error;
      for (auto& [completion, replies] : pipeline.TakeFinished()) {
        if (completion) completion({}, std::move(replies));
      }
      continue;
    }
    writer_wakeup.expires_at(asio::steady_timer::time_point::max());
    writer_waiting = true;
    co_await writer_wakeup.async_wait(kNoThrow);  // cancelled by WakeWriter() or by Serve()
    writer_waiting = false;
    if (Cancelled(cancellation)) co_return asio::error::operation_aborted;
    if (state == State::kClosed) co_return ClientError::kClosed;
  }
}

asio::awaitable<std::error_code> AsyncClient::Impl::HealthLoop() {
  asio::steady_timer tick(executor);
  while (true) {
    if (health.enabled()) {
      tick.expires_after(health.interval());
    } else {
      tick.expires_at(asio::steady_timer::time_point::max());  // wait to be cancelled
    }
    auto [error] = co_await tick.async_wait(kNoThrow);
    if (error) co_return error;
    switch (health.OnTick()) {
      case HealthCheck::Action::kNothing:
        break;
      case HealthCheck::Action::kPing: {
        Request ping;
        ping.Push("PING");
        pipeline.Add(std::move(ping), ExecCompletion{});
        WakeWriter();
        break;
      }
      case HealthCheck::Action::kDead:
        co_return ClientError::kTimeout;
    }
  }
}

// ---- requests ----

void AsyncClient::Impl::Submit(Request request, ExecCompletion completion,
                               asio::cancellation_slot slot) {
  if (state == State::kClosed) return completion(ClientError::kClosed, {});
  const bool connected = state == State::kConnected;
  // Queued before Start(): the run loop may fail its first attempt before it ever suspends
  // (an unreadable CA file), and must find this request to fail it.
  uint64_t id = pipeline.Add(std::move(request), std::move(completion));
  if (state == State::kIdle || state == State::kGaveUp) Start();
  if (connected) {
    WakeWriter();
  } else if (state == State::kWaitingToRetry && !options.queue_while_disconnected) {
    retry_timer.cancel();  // this request waits for one attempt only: make it now
  }
  if (slot.is_connected()) {
    // Posted, not run inside the slot's emit(): completing clears the slot, which must not
    // happen while the slot is calling this very handler.
    slot.assign([weak = weak_from_this(), id](asio::cancellation_type) {
      if (auto self = weak.lock()) {
        asio::post(self->executor, [weak, id] {
          if (auto self = weak.lock()) self->Cancel(id);
        });
      }
    });
  }
}

void AsyncClient::Impl::Cancel(uint64_t id) {
  if (auto completion = pipeline.Cancel(id)) (*completion)(ClientError::kCancelled, {});
}

void AsyncClient::Impl::FailQueued(std::error_code error) {
  // Only queued requests remain after OnDisconnect(); the restore request has no completion.
  for (auto& completion : pipeline.TakeAll()) completion(error, {});
}

void AsyncClient::Impl::FinishConnectWaiters(std::error_code error) {
  auto waiters = std::move(connect_waiters);
  connect_waiters.clear();
  for (auto& waiter : waiters) waiter(error, error);
}

// ---- AsyncClient ----

AsyncClient::AsyncClient(asio::any_io_executor executor, ClientOptions options)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(options))) {}

AsyncClient::~AsyncClient() { impl_->Close(); }

void AsyncClient::Start() { impl_->Start(); }
void AsyncClient::Close() { impl_->Close(); }

asio::awaitable<std::error_code> AsyncClient::Connect() {
  if (impl_->state == Impl::State::kClosed) co_return ClientError::kClosed;
  if (impl_->state == Impl::State::kConnected) co_return std::error_code{};
  auto [error, result] =
      co_await asio::async_initiate<decltype(kNoThrow), void(std::error_code, std::error_code)>(
          // A raw pointer: this client outlives the call. (g++ 12 destroys an initiation lambda's
          // captures twice when the token is use_awaitable, so they must be trivially
          // destructible.) The waiter is registered before Start(): a first attempt that fails
          // without suspending must find it.
          [impl = impl_.get()](auto handler) {
            impl->connect_waiters.emplace_back(std::move(handler));
            impl->Start();
          },
          kNoThrow);
  co_return result;
}

void AsyncClient::SubmitErased(Request request, detail::Completion<Replies> completion,
                               asio::cancellation_slot slot) {
  impl_->Submit(std::move(request), std::move(completion), slot);
}

asio::awaitable<Expected<AsyncClient::Replies>> AsyncClient::Exec(
    Request request, std::optional<std::chrono::milliseconds> timeout) {
  using namespace asio::experimental::awaitable_operators;
  const auto limit = timeout.value_or(impl_->options.connection.command_timeout);
  if (limit.count() <= 0) {
    auto [error, replies] = co_await AsyncExec(std::move(request), kNoThrow);
    if (error) co_return error;
    co_return std::move(replies);
  }
  asio::steady_timer deadline(co_await asio::this_coro::executor, limit);
  auto outcome =
      co_await (AsyncExec(std::move(request), kNoThrow) || deadline.async_wait(kNoThrow));
  if (outcome.index() == 1) co_return ClientError::kTimeout;
  auto [error, replies] = std::move(std::get<0>(outcome));
  if (error) co_return error;
  co_return std::move(replies);
}

asio::awaitable<Expected<Reply>> AsyncClient::FirstReply(Request request) {
  auto replies = co_await Exec(std::move(request));
  if (!replies) co_return replies.error();
  if (replies->empty()) co_return Reply::Null();
  co_return std::move(replies->front());
}

asio::awaitable<Expected<Reply>> AsyncClient::Transaction(
    const Request& commands, std::optional<std::chrono::milliseconds> timeout) {
  Request request;
  request.Push("MULTI");
  request.Append(commands);
  request.Push("EXEC");
  auto replies = co_await Exec(std::move(request), timeout);
  if (!replies) co_return replies.error();
  co_return std::move(replies->back());
}

void AsyncClient::SetPushHandler(std::function<void(const Reply&)> handler) {
  impl_->push_handler = std::move(handler);
}

void AsyncClient::SetConnectionHandler(std::function<void(const ConnectionEvent&)> handler) {
  impl_->connection_handler = std::move(handler);
}

asio::awaitable<Expected<Reply>> AsyncClient::ReceivePush() {
  if (impl_->state == Impl::State::kClosed && !impl_->pushes.ready()) {
    co_return ClientError::kClosed;
  }
  auto [error, push] = co_await impl_->pushes.async_receive(kNoThrow);
  if (error) co_return ClientError::kClosed;
  co_return std::move(push);
}

bool AsyncClient::connected() const { return impl_->state == Impl::State::kConnected; }
int AsyncClient::protocol() const { return impl_->protocol; }
const std::optional<ServerHello>& AsyncClient::server_hello() const { return impl_->hello; }
const ClientOptions& AsyncClient::options() const { return impl_->options; }

}  // namespace keyward::client
