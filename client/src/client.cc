// The synchronous Client: a blocking loop around the sans-I/O state machines. Handshake says what
// to write while connecting, Pipeline matches replies to requests (and keeps replies of
// requests that timed out from being taken for later ones), SubscriptionSet remembers what to
// restore. BlockingStream moves the bytes.
#include "keyward/client/client.h"

#include <asio/ssl/context.hpp>
#include <deque>

#include "blocking_stream.h"
#include "keyward/client/pipeline.h"
#include "keyward/client/subscriptions.h"
#include "sentinel_lookup.h"
#include "stream.h"  // MakeTlsContext

namespace keyward::client {
namespace {

using Clock = std::chrono::steady_clock;
using detail::Deadline;

Deadline DeadlineAfter(std::chrono::milliseconds limit) {
  if (limit.count() <= 0) return std::nullopt;
  return Clock::now() + limit;
}

// Read buffer size: a full pipeline of small replies arrives in one read.
constexpr size_t kReadChunk = 16 * 1024;

}  // namespace

struct Client::Impl {
  explicit Impl(ClientOptions o) : options(std::move(o)), pipeline(options.reply_limits) {}

  std::error_code EnsureConnected();
  std::error_code ConnectNow();
  std::error_code Handshake(Deadline deadline, const ConnectionConfig& target);
  std::error_code ConnectTo(const ConnectionConfig& target, SSL_CTX* tls_context,
                            Deadline deadline);
  // redis+sentinel://: the master where the first sentinel that knows it says it is.
  std::error_code ConnectThroughSentinels(SSL_CTX* tls_context, Deadline deadline);
  // One reply on a connection being set up.
  std::error_code ReadReply(detail::BlockingStream& s, ReplyParser& parser, Deadline deadline,
                            std::optional<Reply>* reply);
  void Disconnect();
  // Reads and dispatches until the request `op` completes, a push arrives (when `op` is 0), or
  // the deadline passes.
  std::error_code Pump(uint64_t op, Deadline deadline, std::optional<Replies>* out);
  std::error_code ReadSome(Deadline deadline);

  ClientOptions options;
  std::unique_ptr<asio::ssl::context> tls;  // made on first use (rediss:// only)
  detail::BlockingStream stream;
  // Op: the caller's request number; 0 for requests nobody waits for (subscription restore).
  Pipeline<uint64_t> pipeline;
  SubscriptionSet subscriptions;
  std::deque<Reply> pushes;
  std::string buffer = std::string(kReadChunk, '\0');
  uint64_t last_op = 0;
  bool connected = false;
  bool ever_connected = false;
  int protocol = 0;
  std::optional<ServerHello> hello;
  std::string error_detail;
};

std::error_code Client::Impl::EnsureConnected() {
  // A connection that died while idle has its close (or pushes) waiting to be read: read them
  // before writing, so that a server restarted between two calls costs a reconnection, not a
  // failed call.
  if (connected && stream.Readable() && pipeline.in_flight() == 0) {
    if (auto error = ReadSome(Clock::now())) Disconnect();
  }
  if (connected) return {};
  if (ever_connected && !options.reconnect.enabled) return ClientError::kNotConnected;
  return ConnectNow();
}

std::error_code Client::Impl::ConnectNow() {
  Disconnect();
  const Deadline deadline = DeadlineAfter(options.connection.connect_timeout);
  SSL_CTX* tls_context = nullptr;
  if (options.connection.tls) {
    if (!tls) {
      auto context = detail::MakeTlsContext(options.connection.tls_options, &error_detail);
      if (!context) return context.error();
      // The asio wrapper only owns the OpenSSL context here; no asio I/O is involved.
      tls = std::make_unique<asio::ssl::context>(std::move(**context));
    }
    tls_context = tls->native_handle();
  }
  if (options.connection.sentinels.empty()) {
    if (auto error = ConnectTo(options.connection, tls_context, deadline)) return error;
  } else if (auto error = ConnectThroughSentinels(tls_context, deadline)) {
    return error;
  }
  connected = ever_connected = true;
  if (!subscriptions.empty()) {
    // Confirmations arrive as pushes; nothing waits for this request itself.
    pipeline.Add(subscriptions.Restore(), 0);
    subscriptions.Clear();
    if (auto error = stream.Write(pipeline.TakeWrite(), deadline)) {
      Disconnect();
      return error;
    }
  }
  return {};
}

std::error_code Client::Impl::ReadReply(detail::BlockingStream& s, ReplyParser& parser,
                                        Deadline deadline, std::optional<Reply>* reply) {
  while (true) {
    auto next = parser.Next();
    if (!next) return next.error();
    if (*next) {
      *reply = std::move(**next);
      return {};
    }
    auto [error, n] = s.Read(buffer.data(), buffer.size(), deadline);
    if (error) return error;
    parser.Feed(std::string_view(buffer.data(), n));
  }
}

std::error_code Client::Impl::ConnectTo(const ConnectionConfig& target, SSL_CTX* tls_context,
                                        Deadline deadline) {
  if (auto error = stream.Connect(target, tls_context, deadline)) {
    error_detail = stream.error_detail();
    return error;
  }
  if (auto error = Handshake(deadline, target)) {
    Disconnect();
    return error;
  }
  return {};
}

std::error_code Client::Impl::ConnectThroughSentinels(SSL_CTX* tls_context, Deadline deadline) {
  // Each sentinel gets a share of the time left, so that a stopped one (which accepts the
  // connection and never answers) leaves time for the others and for the master. A sentinel
  // whose answer does not lead to a master is passed over; the one that led to it is asked
  // first next time.
  const size_t n = options.connection.sentinels.size();
  std::error_code last = ClientError::kNoMaster;
  bool answered = false;
  for (size_t i = 0; i < n; i++) {
    Deadline mine = deadline;
    if (deadline) {
      auto left = *deadline - Clock::now();
      if (left.count() <= 0) break;
      mine = Clock::now() + left / static_cast<int>(n - i + 1);
    } else {
      mine = Clock::now() + std::chrono::seconds(1);
    }
    detail::BlockingStream s;
    std::optional<Reply> reply;
    std::error_code error =
        s.Connect(detail::SentinelConnection(options.connection, i), nullptr, mine);
    if (!error) error = s.Write(detail::MasterAddrQuery(options.connection.sentinel_master), mine);
    ReplyParser parser(options.reply_limits);
    if (!error) error = ReadReply(s, parser, mine, &reply);
    if (error) {
      if (!answered) last = error;  // a transport error, kept while no sentinel answered
      continue;
    }
    answered = true;
    auto addr = detail::MasterAddrFrom(*reply);
    if (!addr) {
      last = ClientError::kNoMaster;
      continue;
    }
    const ConnectionConfig target = detail::MasterConnection(options.connection, *addr);
    if (auto failed = ConnectTo(target, tls_context, deadline)) {
      last = failed;
      continue;
    }
    options.connection.host = target.host;
    options.connection.port = target.port;
    detail::PreferSentinel(options.connection, i);
    return {};
  }
  return last;
}

std::error_code Client::Impl::Handshake(Deadline deadline, const ConnectionConfig& target) {
  client::Handshake handshake(target);
  ReplyParser& parser = pipeline.parser();
  parser.Reset();
  std::string out = handshake.Start();
  while (true) {
    if (!out.empty()) {
      if (auto error = stream.Write(out, deadline)) return error;
      out.clear();
    }
    auto [error, n] = stream.Read(buffer.data(), buffer.size(), deadline);
    if (error) return error;
    parser.Feed(std::string_view(buffer.data(), n));
    switch (handshake.Drain(parser, &out)) {
      case client::Handshake::Action::kFailed:
        error_detail = handshake.error_detail();
        return handshake.error();
      case client::Handshake::Action::kDone:
        protocol = handshake.protocol();
        hello = handshake.server_hello();
        pipeline.set_protocol(protocol);
        // A sentinel's answer may be stale (a failover under way): only a master will do.
        if (!options.connection.sentinels.empty()) {
          if (auto error = stream.Write(detail::kRoleRequest, deadline)) return error;
          std::optional<Reply> role;
          if (auto error = ReadReply(stream, parser, deadline, &role)) return error;
          if (!detail::RoleIsMaster(*role)) return ClientError::kNoMaster;
        }
        return {};
      default:
        break;  // more replies to read
    }
  }
}

void Client::Impl::Disconnect() {
  stream.Close();
  // Requests in flight are lost with the connection; their callers have already returned
  // (timed out), so the ops handed back need no completion.
  pipeline.OnDisconnect();
  pipeline.TakeAll();
  connected = false;
  protocol = 0;
}

std::error_code Client::Impl::ReadSome(Deadline deadline) {
  auto [error, n] = stream.Read(buffer.data(), buffer.size(), deadline);
  if (error) return error;
  pipeline.Feed(std::string_view(buffer.data(), n));
  return {};
}

std::error_code Client::Impl::Pump(uint64_t op, Deadline deadline, std::optional<Replies>* out) {
  while (true) {
    while (true) {
      auto event = pipeline.Next();
      if (!event) {
        Disconnect();
        return event.error();
      }
      if (!*event) break;
      auto& e = **event;
      if (e.kind == Pipeline<uint64_t>::Event::Kind::kPush) {
        subscriptions.OnPush(e.push);
        pushes.push_back(std::move(e.push));
        if (op == 0) return {};
        continue;
      }
      if (op != 0 && e.op == op) {
        *out = std::move(e.replies);
        return {};
      }
    }
    if (auto error = ReadSome(deadline)) {
      if (error != ClientError::kTimeout) Disconnect();
      return error;
    }
  }
}

Client::Client(ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

std::error_code Client::Connect() {
  if (impl_->connected) return {};
  return impl_->ConnectNow();
}

void Client::Close() { impl_->Disconnect(); }

Expected<Client::Replies> Client::Exec(Request request, Timeout timeout) {
  Impl& impl = *impl_;
  if (auto error = impl.EnsureConnected()) return error;
  const Deadline deadline =
      DeadlineAfter(timeout.value_or(impl.options.connection.command_timeout));
  const uint64_t op = ++impl.last_op;
  impl.pipeline.Add(std::move(request), op);
  if (auto error = impl.stream.Write(impl.pipeline.TakeWrite(), deadline)) {
    // Part of the request may be on the wire: the connection is out of step, drop it.
    impl.Disconnect();
    return error == ClientError::kTimeout ? error : ClientError::kConnectionLost;
  }
  std::optional<Replies> replies;
  std::error_code error = impl.Pump(op, deadline, &replies);
  if (error == ClientError::kTimeout) {
    // The command is abandoned with its connection. Keeping the connection and dropping the
    // late reply would lose data whenever the command takes something (a BLPOP would pop the next
    // job into the void), and would leave the server blocked on it ahead of every later call.
    // Closing makes the server forget it; the next call reconnects.
    impl.Disconnect();
    return error;
  }
  if (error) {
    // Written and not answered: the server may or may not have run it.
    return IsProtocolViolation(error) ? error : std::error_code(ClientError::kConnectionLost);
  }
  return std::move(*replies);
}

Expected<Reply> Client::FirstReply(Request request) {
  auto replies = Exec(std::move(request));
  if (!replies) return replies.error();
  if (replies->empty()) return Reply::Null();
  return std::move(replies->front());
}

Expected<Reply> Client::Transaction(const Request& commands, Timeout timeout) {
  Request request;
  request.Push("MULTI");
  request.Append(commands);
  request.Push("EXEC");
  auto replies = Exec(std::move(request), timeout);
  if (!replies) return replies.error();
  return std::move(replies->back());
}

Expected<Reply> Client::ReceivePush(Timeout timeout) {
  Impl& impl = *impl_;
  if (impl.pushes.empty()) {
    if (auto error = impl.EnsureConnected()) return error;
    const Deadline deadline = DeadlineAfter(timeout.value_or(std::chrono::milliseconds{0}));
    if (auto error = impl.Pump(0, deadline, nullptr)) return error;
  }
  Reply push = std::move(impl.pushes.front());
  impl.pushes.pop_front();
  return push;
}

bool Client::connected() const { return impl_->connected; }
int Client::protocol() const { return impl_->protocol; }
const std::optional<ServerHello>& Client::server_hello() const { return impl_->hello; }
const std::string& Client::error_detail() const { return impl_->error_detail; }

}  // namespace keyward::client
