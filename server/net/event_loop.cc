#include "server/net/event_loop.h"

#include <netinet/tcp.h>
#include <openssl/err.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <cstring>
#include <unordered_map>
#include <vector>

namespace keyward::net {

namespace {

constexpr size_t kReadChunk = 16 * 1024;  // Redis's PROTO_IOBUF_LEN
// How long an accepted or outgoing TLS connection may take to complete its handshake.
constexpr std::chrono::seconds kHandshakeTimeout{10};

std::string FormatEndpoint(const asio::ip::tcp::endpoint& ep) {
  asio::ip::address addr = ep.address();
  if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
    addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
  }
  std::string host = addr.to_string();
  if (addr.is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(ep.port());
}

// Redis's "local client" (islocalClient, protected mode): 127.0.0.1 or ::1 exactly, not the rest
// of 127.0.0.0/8.
bool IsLoopback(asio::ip::address addr) {
  if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
    addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
  }
  if (addr.is_v4()) return addr.to_v4() == asio::ip::address_v4::loopback();
  return addr.to_v6() == asio::ip::address_v6::loopback();
}

using TlsSocket = asio::ssl::stream<asio::ip::tcp::socket>;

template <typename Socket>
constexpr bool kIsTls = std::is_same_v<Socket, TlsSocket>;

// The socket under a TLS stream, or the socket itself.
template <typename Socket>
auto& Lowest(Socket& socket) {
  if constexpr (kIsTls<Socket>) {
    return socket.next_layer();
  } else {
    return socket;
  }
}

// What a failed handshake says, as Redis logs it (OpenSSL's error string).
std::string TlsErrorText(const std::error_code& ec) {
  if (ec.category() == asio::error::get_ssl_category()) {
    char buf[256];
    ERR_error_string_n(static_cast<unsigned long>(ec.value()), buf, sizeof(buf));
    return buf;
  }
  return ec.message();
}

// One client connection over a TCP or unix stream socket, or TLS over TCP.
// Connections are owned by the loop's registry from accept until close, not by their pending
// operations: a connection that is not reading (CLIENT PAUSE) has none and must stay alive.
class ConnectionRegistry {
 public:
  void Add(std::shared_ptr<void> conn) { live_.emplace(conn.get(), std::move(conn)); }
  std::shared_ptr<void> Remove(void* conn) {
    auto it = live_.find(conn);
    if (it == live_.end()) return nullptr;
    auto owned = std::move(it->second);
    live_.erase(it);
    return owned;
  }
  void Clear() { live_.clear(); }

  // The output gate (EventLoop::HoldOutput): while held, connections that would write queue up
  // here and write, in order, when it opens.
  bool output_held() const { return output_held_; }
  void HoldOutput() { output_held_ = true; }
  void QueueFlush(std::shared_ptr<Transport> conn) { held_.push_back(std::move(conn)); }
  void ReleaseOutput() {
    output_held_ = false;
    std::vector<std::shared_ptr<Transport>> held;
    held.swap(held_);
    for (auto& conn : held) conn->Flush();
  }

 private:
  std::unordered_map<void*, std::shared_ptr<void>> live_;
  bool output_held_ = false;
  std::vector<std::shared_ptr<Transport>> held_;
};

template <typename Socket>
class Connection : public Transport, public std::enable_shared_from_this<Connection<Socket>> {
 public:
  Connection(Socket socket, std::string unix_path, ConnectionRegistry* registry,
             std::shared_ptr<asio::ssl::context> tls_context = nullptr)
      : socket_(std::move(socket)),
        unix_path_(std::move(unix_path)),
        registry_(registry),
        tls_context_(std::move(tls_context)) {
    std::error_code ec;
    Lowest(socket_).non_blocking(true, ec);
    if constexpr (!std::is_same_v<Socket, asio::local::stream_protocol::socket>) {
      auto remote = Lowest(socket_).remote_endpoint(ec);
      auto local = Lowest(socket_).local_endpoint(ec);
      peer_ = FormatEndpoint(remote);
      local_ = FormatEndpoint(local);
      loopback_ = IsLoopback(remote.address());
    } else {
      peer_ = local_ = unix_path_ + ":0";
    }
  }

  // `handshake` (TLS only): server for an accepted connection, client for an outgoing one;
  // `failed` hears of a failed handshake (an outgoing one; an accepted one is logged).
  void Start(const SessionFactory& factory,
             asio::ssl::stream_base::handshake_type handshake = asio::ssl::stream_base::server,
             std::function<void(const std::string&)> failed = {}) {
    if constexpr (kIsTls<Socket>) {
      // A peer that never completes the handshake is dropped: it has no session yet, so neither
      // maxclients nor `timeout` would ever see it.
      handshake_deadline_ = std::make_unique<asio::steady_timer>(socket_.get_executor());
      handshake_deadline_->expires_after(kHandshakeTimeout);
      handshake_deadline_->async_wait(
          [weak = std::weak_ptr<Connection>(this->shared_from_this()), failed](std::error_code ec) {
            auto self = weak.lock();
            if (ec || self == nullptr || self->closed_ || self->session_ != nullptr) return;
            self->Close();
            if (failed) return failed("TLS handshake timed out");
            spdlog::warn("Error accepting a client connection: TLS handshake timed out");
          });
      // The session begins once the handshake is done: nothing is read or written before.
      socket_.async_handshake(
          handshake, [self = this->shared_from_this(), factory, failed](std::error_code ec) {
            if (self->handshake_deadline_) self->handshake_deadline_->cancel();
            if (self->closed_) return;
            if (ec) {
              const std::string reason = TlsErrorText(ec);
              self->Close();
              if (failed) return failed(reason);
              spdlog::warn("Error accepting a client connection: {}", reason);
              return;
            }
            self->Begin(factory);
          });
    } else {
      Begin(factory);
    }
  }

  // Transport
  std::string& output() override { return out_; }
  size_t pending_output() const override { return out_.size() + writing_.size(); }
  void Flush() override {
    if (closed_ || write_in_progress_) return;
    if (registry_->output_held()) {
      if (!flush_queued_) {
        flush_queued_ = true;
        registry_->QueueFlush(this->shared_from_this());
      }
      return;
    }
    flush_queued_ = false;
    if (out_.empty()) {
      if (close_after_flush_) Close();
      return;
    }
    std::error_code ec;
    size_t n = 0;
    // TLS always writes in the background: a record OpenSSL encrypted but the socket did not
    // take must be written as it is, which a synchronous attempt would lose.
    if constexpr (!kIsTls<Socket>) n = socket_.write_some(asio::buffer(out_), ec);
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
      Close();
      return;
    }
    if (n == out_.size()) {
      Release(out_);
      if (close_after_flush_) Close();
      return;
    }
    // The socket is full: write the rest in the background; new replies queue in out_.
    writing_.assign(out_, n);
    Release(out_);
    write_in_progress_ = true;
    asio::async_write(socket_, asio::buffer(writing_),
                      [self = this->shared_from_this()](std::error_code ec, size_t) {
                        self->write_in_progress_ = false;
                        Release(self->writing_);
                        if (ec) return self->Close();
                        self->Flush();
                      });
  }
  // Gives up a connection whose TLS handshake is still running (neither the session nor the
  // failure callback hears of it); a no-op once the session began.
  void CancelHandshake() {
    if (session_ == nullptr) Close();
  }
  void CloseAfterFlush() override {
    close_after_flush_ = true;
    // Not now: the caller is usually a command that is still running (QUIT, CLIENT KILL of
    // itself, SHUTDOWN). Writing and clearing the output under it would lose what it appends
    // afterwards and break its accounting of the reply. The read path flushes once processing
    // is done; the posted flush covers a caller outside it.
    asio::post(socket_.get_executor(), [self = this->shared_from_this()] { self->Flush(); });
  }
  void Close() override {
    if (closed_) return;
    closed_ = true;
    std::error_code ec;
    Lowest(socket_).shutdown(asio::socket_base::shutdown_both, ec);
    Lowest(socket_).close(ec);
    if (session_) session_->OnClosed();
    // Drop the registry's reference later: Close may run inside this connection's own call
    // stack. The posted task keeps the connection alive until then.
    if (auto self = registry_->Remove(this)) {
      asio::post(socket_.get_executor(), [self] {});
    }
  }
  // While not processing, the connection still reads (so a client that disconnects while
  // paused is noticed, as in Redis) and still offers the bytes to the session, which leaves them
  // in the buffer but can enforce its query buffer limit on them.
  void SetReading(bool reading) override {
    bool resumed = reading && !reading_;
    reading_ = reading;
    if (!resumed) return;
    // Commands held in the buffer while paused run now, on the loop, not inside the caller.
    asio::post(socket_.get_executor(), [self = this->shared_from_this()] {
      if (self->closed_) return;
      self->ProcessInput();
      self->Flush();
      self->ReadMore();  // a no-op while a read is pending
    });
  }
  size_t buffered_input() const override { return len_ - start_; }
  size_t input_capacity() const override { return buf_.size(); }
  void ShrinkInput(size_t capacity) override {
    capacity = std::max(capacity, len_ - start_);
    if (closed_ || capacity >= buf_.size()) return;
    if (read_in_progress_ && !kIsTls<Socket>) {
      // The pending read owns the buffer: cancel it (that read alone, not a write in progress),
      // resize in its completion, read again.
      shrink_to_ = capacity;
      read_cancel_.emit(asio::cancellation_type::all);
      return;
    }
    Resize(capacity);
  }
  std::string peer_address() const override { return peer_; }
  std::string local_address() const override { return local_; }
  int fd() const override {
    return closed_ ? -1 : Lowest(const_cast<Socket&>(socket_)).native_handle();
  }
  bool is_unix() const override {
    return std::is_same_v<Socket, asio::local::stream_protocol::socket>;
  }
  bool is_loopback() const override { return loopback_; }

 private:
  // Reads with async_read_some, so that asio's reactor does the read when epoll reports the
  // socket readable. A read that drained the socket (returned less than the room offered) makes
  // asio skip the speculative read on the next call and queue the operation without a system
  // call, so a request-reply client costs one read, one write and one epoll_wait per request, as
  // in Redis. (async_wait re-armed the descriptor with epoll_ctl at every request.) When the
  // buffer filled up, asio reads again speculatively and posts the completion, so one busy
  // client cannot starve the others.
  void ReadMore() {
    if (closed_ || read_in_progress_) return;
    if constexpr (kIsTls<Socket>) {
      // TLS reads at once (OpenSSL may hold decrypted bytes the socket no longer shows), into a
      // chunk of its own appended to the buffer when the read completes: the buffer never
      // belongs to a pending read, so the cron can shrink it at any time, and no read is
      // cancelled half-way through a record.
      if (tls_chunk_.empty()) tls_chunk_.resize(kReadChunk);
      read_in_progress_ = true;
      socket_.async_read_some(asio::buffer(tls_chunk_), [self = this->shared_from_this()](
                                                            std::error_code ec, size_t n) {
        self->read_in_progress_ = false;
        if (ec || self->closed_) return self->Close();
        self->Compact();
        if (self->buf_.size() - self->len_ < n) {
          size_t grown = std::max(self->buf_.size() * 2, self->len_ + n);
          const size_t need = self->session_ ? self->session_->PendingCommandSize() : 0;
          if (need > self->len_) grown = std::min(grown, std::max(need, self->len_ + n));
          self->buf_.reserve(grown);
          self->buf_.resize(grown);
        }
        std::memcpy(self->buf_.data() + self->len_, self->tls_chunk_.data(), n);
        self->OnRead(n);
      });
      return;
    }
    if (buf_.empty()) {
      // No buffer (a new connection, or one the cron freed while idle): wait until bytes arrive
      // before allocating one, as Redis's empty query buffer does.
      read_in_progress_ = true;
      Lowest(socket_).async_wait(asio::socket_base::wait_read,
                                 [self = this->shared_from_this()](std::error_code ec) {
                                   self->read_in_progress_ = false;
                                   if (self->Cancelled(ec)) return;
                                   if (ec) return self->Close();
                                   self->buf_.resize(kReadChunk);
                                   self->ReadMore();
                                 });
      return;
    }
    // Keep at least one chunk of free space; compact consumed bytes away first.
    if (buf_.size() - len_ < kReadChunk) {
      Compact();
      if (buf_.size() - len_ < kReadChunk) {
        size_t grown = std::max(buf_.size() * 2, len_ + kReadChunk);
        // While a big argument arrives, grow no further than its command needs: a 512 MB value
        // ends in a 512 MB buffer, not a 1 GB one. Growth still follows the bytes received, so
        // announcing a big argument alone allocates nothing.
        size_t need = session_ ? session_->PendingCommandSize() : 0;
        if (need > len_) grown = std::min(grown, need);
        // reserve first: resize alone may allocate up to twice the size asked for, which
        // input_capacity() (buf_.size()) would not show.
        buf_.reserve(grown);
        buf_.resize(grown);
      }
    }
    read_in_progress_ = true;
    // The buffer is not moved or shrunk while the read is pending (see ProcessInput), and len_
    // changes only here: the bytes land at buf_[len_].
    socket_.async_read_some(
        asio::buffer(buf_.data() + len_, buf_.size() - len_),
        asio::bind_cancellation_slot(
            read_cancel_.slot(), [self = this->shared_from_this()](std::error_code ec, size_t n) {
              self->read_in_progress_ = false;
              if (self->Cancelled(ec)) return;
              if (ec) return self->Close();  // EOF, a socket error, or closed meanwhile
              // The read completed before a ShrinkInput's cancel reached it: the
              // next cron tick asks again.
              self->shrink_to_ = kNoShrink;
              self->OnRead(n);
            }));
  }

  // A read cancelled by ShrinkInput: resize now that nothing writes into the buffer, then read
  // again. False for any other completion.
  bool Cancelled(const std::error_code& ec) {
    if (ec != asio::error::operation_aborted || shrink_to_ == kNoShrink || closed_) return false;
    const size_t capacity = std::max(shrink_to_, len_ - start_);
    shrink_to_ = kNoShrink;
    Resize(capacity);
    ReadMore();
    return true;
  }

  void Resize(size_t capacity) {
    Compact();
    buf_.resize(capacity);
    buf_.shrink_to_fit();
  }

  void Begin(const SessionFactory& factory) {
    session_ = factory(*this);
    Flush();  // a refused connection has an error waiting
    ReadMore();
  }

  void OnRead(size_t n) {
    if (closed_) return;
    len_ += n;
    ProcessInput();
    Flush();
    ReadMore();
  }

  // Empties an output buffer. A big reply (GET of a large value) leaves a big capacity behind;
  // an idle connection must not keep it (twice: out_ and writing_) until it closes.
  static void Release(std::string& buf) {
    if (buf.capacity() > 4 * kReadChunk) {
      std::string().swap(buf);
    } else {
      buf.clear();
    }
  }

  void Compact() {
    if (start_ == 0) return;
    std::memmove(buf_.data(), buf_.data() + start_, len_ - start_);
    len_ -= start_;
    start_ = 0;
  }

  void ProcessInput() {
    // Also while not reading_: a paused session consumes nothing, but must see its buffer grow
    // (Redis closes a paused client whose query buffer outgrows client-query-buffer-limit).
    if (closed_ || start_ == len_) return;
    size_t used = session_->OnInput(std::string_view(buf_.data() + start_, len_ - start_));
    if (closed_) return;
    start_ += used;
    // A pending read writes at buf_[len_] (SetReading's re-processing can run while one is):
    // the buffer is rewound only when none is. Memory a big request needed stays until the
    // server's cron gives it back (ShrinkInput), as Redis's query buffer does.
    if (read_in_progress_ && !kIsTls<Socket>) return;
    if (start_ == len_) start_ = len_ = 0;
  }

  Socket socket_;
  std::string unix_path_;
  ConnectionRegistry* registry_;
  // The TLS context the connection was made with (a reconfiguration makes a new one).
  std::shared_ptr<asio::ssl::context> tls_context_;
  std::vector<char> tls_chunk_;  // what a TLS read decrypts, before it joins buf_
  std::unique_ptr<asio::steady_timer> handshake_deadline_;
  std::string peer_, local_;
  bool loopback_ = false;
  std::unique_ptr<Session> session_;
  std::vector<char> buf_;
  size_t start_ = 0, len_ = 0;
  std::string out_, writing_;
  bool reading_ = true, read_in_progress_ = false, write_in_progress_ = false;
  static constexpr size_t kNoShrink = SIZE_MAX;
  size_t shrink_to_ = kNoShrink;
  asio::cancellation_signal read_cancel_;  // cancels the pending read only  // a ShrinkInput
                                           // waiting for the pending read to be cancelled
  bool close_after_flush_ = false, closed_ = false;
  bool flush_queued_ = false;  // waiting for the output gate to open
};

}  // namespace

struct EventLoop::Impl {
  // Everything runs on one thread: no locking in the scheduler or the reactor.
  asio::io_context io{ASIO_CONCURRENCY_HINT_UNSAFE};
  struct TcpAcceptor {
    std::unique_ptr<asio::ip::tcp::acceptor> acceptor;
    ListenerKind kind;
  };
  std::vector<TcpAcceptor> tcp_acceptors;
  std::vector<std::unique_ptr<asio::local::stream_protocol::acceptor>> unix_acceptors;
  std::vector<std::string> unix_paths;
  std::vector<std::unique_ptr<asio::steady_timer>> timers;
  std::unique_ptr<asio::signal_set> signals;
  // Handlers that re-arm themselves are owned here, so they live as long as the loop.
  std::vector<std::shared_ptr<std::function<void(std::error_code)>>> ticks;
  std::shared_ptr<std::function<void(std::error_code, int)>> signal_handler;
  std::unique_ptr<asio::steady_timer> alarm;
  std::function<void()> alarm_fn;
  ConnectionRegistry connections;
  int keepalive = 300;
  TlsContexts tls;

  // Wraps a connected TCP socket in TLS with `context` and starts it: the handshake, then the
  // session.
  std::shared_ptr<Connection<TlsSocket>> StartTls(
      asio::ip::tcp::socket s, std::shared_ptr<asio::ssl::context> context,
      const SessionFactory& factory, asio::ssl::stream_base::handshake_type handshake,
      std::function<void(const std::string&)> failed = {}) {
    TlsSocket stream(std::move(s), *context);
    if (handshake == asio::ssl::stream_base::server) {
      switch (tls.auth_clients()) {  // tls-auth-clients, read at accept as Redis does
        case TlsAuthClients::kNo:
          stream.set_verify_mode(asio::ssl::verify_none);
          break;
        case TlsAuthClients::kOptional:
          stream.set_verify_mode(asio::ssl::verify_peer);
          break;
        case TlsAuthClients::kYes:
          stream.set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
          break;
      }
    }
    auto conn = std::make_shared<Connection<TlsSocket>>(std::move(stream), "", &connections,
                                                        std::move(context));
    connections.Add(conn);
    conn->Start(factory, handshake, std::move(failed));
    return conn;
  }

  void AcceptTcp(asio::ip::tcp::acceptor* acceptor, SessionFactory factory, bool with_tls) {
    acceptor->async_accept([this, acceptor, factory, with_tls](std::error_code ec,
                                                               asio::ip::tcp::socket s) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        std::error_code ignored;
        s.set_option(asio::ip::tcp::no_delay(true), ignored);
        if (keepalive > 0) {
          s.set_option(asio::socket_base::keep_alive(true), ignored);
          int idle = keepalive;
          setsockopt(s.native_handle(), IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
          int interval = std::max(keepalive / 3, 1);
          setsockopt(s.native_handle(), IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
        }
        if (with_tls) {
          // The context of the moment: a reconfiguration applies to the connections after it.
          if (auto context = tls.server_context()) {
            StartTls(std::move(s), std::move(context), factory, asio::ssl::stream_base::server);
          }
        } else {
          auto conn =
              std::make_shared<Connection<asio::ip::tcp::socket>>(std::move(s), "", &connections);
          connections.Add(conn);
          conn->Start(factory);
        }
      }
      AcceptTcp(acceptor, factory, with_tls);
    });
  }

  void AcceptUnix(asio::local::stream_protocol::acceptor* acceptor, std::string path,
                  SessionFactory factory) {
    acceptor->async_accept([this, acceptor, path, factory](std::error_code ec,
                                                           asio::local::stream_protocol::socket s) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        auto conn = std::make_shared<Connection<asio::local::stream_protocol::socket>>(
            std::move(s), path, &connections);
        connections.Add(conn);
        conn->Start(factory);
      }
      AcceptUnix(acceptor, path, factory);
    });
  }
};

EventLoop::EventLoop() : impl_(std::make_unique<Impl>()) {}

EventLoop::~EventLoop() {
  CloseListeners();
  impl_->connections.Clear();
  // Destroy pending handlers (and the connections they hold) before the listeners' owners go.
  impl_->io.stop();
}

void EventLoop::Run() { impl_->io.run(); }

void EventLoop::Stop() { impl_->io.stop(); }

void EventLoop::Post(std::function<void()> task) { asio::post(impl_->io, std::move(task)); }

void EventLoop::PollOnce() { impl_->io.poll(); }

void EventLoop::HoldOutput() { impl_->connections.HoldOutput(); }

void EventLoop::ReleaseOutput() { impl_->connections.ReleaseOutput(); }

void EventLoop::set_keepalive(int secs) { impl_->keepalive = secs; }

void EventLoop::SetAlarm(std::chrono::microseconds delay, std::function<void()> fn) {
  if (!impl_->alarm) impl_->alarm = std::make_unique<asio::steady_timer>(impl_->io);
  impl_->alarm_fn = std::move(fn);
  impl_->alarm->expires_after(delay);  // cancels a pending wait
  Impl* impl = impl_.get();
  impl_->alarm->async_wait([impl](std::error_code ec) {
    if (ec) return;  // replaced by a later SetAlarm, or the loop is stopping
    // Moved out first: the callback may arm the alarm again.
    std::function<void()> fn = std::move(impl->alarm_fn);
    impl->alarm_fn = nullptr;
    if (fn) fn();
  });
}

void EventLoop::Every(std::chrono::microseconds first,
                      std::function<std::chrono::microseconds()> fn) {
  auto timer = std::make_unique<asio::steady_timer>(impl_->io);
  asio::steady_timer* t = timer.get();
  impl_->timers.push_back(std::move(timer));
  auto tick = std::make_shared<std::function<void(std::error_code)>>();
  auto* self = tick.get();
  *tick = [t, fn, self](std::error_code ec) {
    if (ec) return;
    t->expires_after(fn());
    t->async_wait(*self);
  };
  impl_->ticks.push_back(tick);
  t->expires_after(first);
  t->async_wait(*self);
}

void EventLoop::OnSignals(std::function<void(int)> fn) {
  impl_->signals = std::make_unique<asio::signal_set>(impl_->io, SIGTERM, SIGINT);
  auto* signals = impl_->signals.get();
  impl_->signal_handler = std::make_shared<std::function<void(std::error_code, int)>>();
  auto* handler = impl_->signal_handler.get();
  *handler = [signals, fn, handler](std::error_code ec, int signo) {
    if (ec) return;
    fn(signo);
    signals->async_wait(*handler);
  };
  signals->async_wait(*handler);
}

std::error_code EventLoop::ListenTcp(const std::string& host, int port,
                                     const ListenOptions& options, SessionFactory factory,
                                     int* bound_port) {
  std::error_code ec;
  asio::ip::address addr;
  bool v6 = false;
  if (host == "*") {
    addr = asio::ip::address_v4::any();
  } else if (host == "::*") {
    addr = asio::ip::address_v6::any();
    v6 = true;
  } else {
    addr = asio::ip::make_address(host, ec);
    if (ec) return ec;
    v6 = addr.is_v6();
  }
  auto acceptor = std::make_unique<asio::ip::tcp::acceptor>(impl_->io);
  asio::ip::tcp::endpoint ep(addr, static_cast<unsigned short>(port));
  acceptor->open(ep.protocol(), ec);
  if (ec) return ec;
  acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (v6) acceptor->set_option(asio::ip::v6_only(true), ec);
  acceptor->bind(ep, ec);
  if (ec) return ec;
  acceptor->listen(options.backlog, ec);
  if (ec) return ec;
  if (bound_port != nullptr) *bound_port = acceptor->local_endpoint().port();
  impl_->keepalive = options.keepalive_secs;
  impl_->AcceptTcp(acceptor.get(), std::move(factory), options.tls);
  impl_->tcp_acceptors.push_back({std::move(acceptor), options.kind});
  return {};
}

std::error_code EventLoop::ListenUnix(const std::string& path, int perm,
                                      const ListenOptions& options, SessionFactory factory) {
  std::error_code ec;
  ::unlink(path.c_str());
  auto acceptor = std::make_unique<asio::local::stream_protocol::acceptor>(impl_->io);
  asio::local::stream_protocol::endpoint ep(path);
  acceptor->open(ep.protocol(), ec);
  if (ec) return ec;
  acceptor->bind(ep, ec);
  if (ec) return ec;
  acceptor->listen(options.backlog, ec);
  if (ec) return ec;
  if (perm != 0) ::chmod(path.c_str(), static_cast<mode_t>(perm));
  impl_->AcceptUnix(acceptor.get(), path, std::move(factory));
  impl_->unix_acceptors.push_back(std::move(acceptor));
  impl_->unix_paths.push_back(path);
  return {};
}

std::function<void()> EventLoop::ConnectTcp(const std::string& host, int port,
                                            const std::string& source, bool with_tls,
                                            SessionFactory factory,
                                            std::function<void(const std::string&)> failed) {
  std::shared_ptr<asio::ssl::context> tls_context;
  if (with_tls) {
    tls_context = impl_->tls.client_context();
    if (tls_context == nullptr) {
      auto cancelled = std::make_shared<bool>(false);
      asio::post(impl_->io, [failed, cancelled] {
        if (!*cancelled) failed("TLS is not configured");
      });
      return [cancelled] { *cancelled = true; };
    }
  }
  // The attempt's state, shared by its handlers and its cancel function.
  struct Attempt {
    asio::ip::tcp::resolver resolver;
    asio::ip::tcp::socket socket;
    bool cancelled = false;
    std::weak_ptr<Connection<TlsSocket>> handshaking;  // connected, the TLS handshake running
    explicit Attempt(asio::io_context& io) : resolver(io), socket(io) {}
  };
  auto attempt = std::make_shared<Attempt>(impl_->io);
  Impl* impl = impl_.get();
  // Names are resolved here, blocking, as Redis's connect does (getaddrinfo): the loop runs
  // without the locking asio's background resolver needs.
  std::error_code ec;
  auto endpoints = attempt->resolver.resolve(host, std::to_string(port), ec);
  if (ec) {
    // Reported from the loop, not from inside the caller.
    asio::post(impl_->io, [attempt, failed, ec] {
      if (!attempt->cancelled) failed(ec.message());
    });
  } else {
    auto connected = [attempt, impl, factory, failed, tls_context](std::error_code ec) {
      if (attempt->cancelled) return;
      if (ec) return failed(ec.message());
      std::error_code ignored;
      attempt->socket.set_option(asio::ip::tcp::no_delay(true), ignored);
      if (impl->keepalive > 0) {
        attempt->socket.set_option(asio::socket_base::keep_alive(true), ignored);
      }
      if (tls_context != nullptr) {
        attempt->handshaking = impl->StartTls(std::move(attempt->socket), tls_context, factory,
                                              asio::ssl::stream_base::client, failed);
        return;
      }
      auto conn = std::make_shared<Connection<asio::ip::tcp::socket>>(std::move(attempt->socket),
                                                                      "", &impl->connections);
      impl->connections.Add(conn);
      conn->Start(factory);
    };
    // Bound to `source` first when asked, best effort as Redis's
    // anetTcpNonBlockBestEffortBindConnect: an address that cannot be bound is left out. A bound
    // socket connects to the first address only (asio's range connect would reopen it).
    std::error_code bind_error = asio::error::invalid_argument;
    const asio::ip::tcp::endpoint first = endpoints.begin()->endpoint();
    if (!source.empty()) {
      const asio::ip::address local = asio::ip::make_address(source, bind_error);
      if (!bind_error) attempt->socket.open(first.protocol(), bind_error);
      if (!bind_error) attempt->socket.bind(asio::ip::tcp::endpoint(local, 0), bind_error);
      if (bind_error) {
        std::error_code ignored;
        attempt->socket.close(ignored);
      }
    }
    if (!bind_error) {
      attempt->socket.async_connect(first, connected);
    } else {
      asio::async_connect(
          attempt->socket, endpoints,
          [connected](std::error_code ec, const asio::ip::tcp::endpoint&) { connected(ec); });
    }
  }
  return [attempt] {
    attempt->cancelled = true;
    std::error_code ignored;
    attempt->socket.close(ignored);
    if (auto conn = attempt->handshaking.lock()) conn->CancelHandshake();
  };
}

void EventLoop::CloseTcpListeners(ListenerKind kind) {
  std::error_code ec;
  auto& acceptors = impl_->tcp_acceptors;
  for (auto& a : acceptors) {
    if (a.kind == kind) a.acceptor->close(ec);
  }
  std::erase_if(acceptors, [kind](const Impl::TcpAcceptor& a) { return a.kind == kind; });
}

TlsContexts& EventLoop::tls() { return impl_->tls; }

void EventLoop::CloseListeners() {
  std::error_code ec;
  for (auto& a : impl_->tcp_acceptors) a.acceptor->close(ec);
  for (auto& a : impl_->unix_acceptors) a->close(ec);
  for (auto& p : impl_->unix_paths) ::unlink(p.c_str());
  impl_->unix_paths.clear();
}

}  // namespace keyward::net
