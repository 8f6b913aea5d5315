#include "blocking_stream.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace keyward::client::detail {
namespace {

std::error_code LastError() { return {errno, std::system_category()}; }

// Milliseconds left until `deadline` for poll(2): -1 for none, rounded up so that a deadline
// a fraction of a millisecond away is still waited for.
int PollTimeout(Deadline deadline) {
  if (!deadline) return -1;
  auto left = *deadline - std::chrono::steady_clock::now();
  if (left <= std::chrono::steady_clock::duration::zero()) return 0;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return ms > 0x7fffffff ? 0x7fffffff : static_cast<int>(ms);
}

int OpenSocket(int family) {
  return ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

// Binds `fd` (of `family`) to `address` with an ephemeral port (ConnectionConfig::source_address).
std::error_code BindSource(int fd, int family, const std::string& address) {
  sockaddr_storage storage{};
  socklen_t len = 0;
  if (family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&storage);
    in->sin_family = AF_INET;
    if (::inet_pton(AF_INET, address.c_str(), &in->sin_addr) != 1) {
      return std::make_error_code(std::errc::address_family_not_supported);
    }
    len = sizeof(sockaddr_in);
  } else if (family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
    in6->sin6_family = AF_INET6;
    if (::inet_pton(AF_INET6, address.c_str(), &in6->sin6_addr) != 1) {
      return std::make_error_code(std::errc::address_family_not_supported);
    }
    len = sizeof(sockaddr_in6);
  } else {
    return std::make_error_code(std::errc::address_family_not_supported);
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&storage), len) != 0) return LastError();
  return {};
}

// OpenSSL's socket BIO writes with write(2), which raises SIGPIPE on a closed connection and
// kills a program that did not ignore it. This BIO sends with MSG_NOSIGNAL instead, as the plain
// path does. Everything else is delegated to the standard socket BIO.
int NoSignalWrite(BIO* bio, const char* data, int len) {
  int fd = -1;
  BIO_get_fd(bio, &fd);
  BIO_clear_retry_flags(bio);
  ssize_t n = ::send(fd, data, static_cast<size_t>(len), MSG_NOSIGNAL);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    BIO_set_retry_write(bio);
  }
  return static_cast<int>(n);
}

BIO_METHOD* NoSignalSocketMethod() {
  static BIO_METHOD* method = [] {
    const BIO_METHOD* base = BIO_s_socket();
    BIO_METHOD* m = BIO_meth_new(BIO_TYPE_SOCKET, "keyward socket");
    BIO_meth_set_write(m, NoSignalWrite);
    BIO_meth_set_read(m, BIO_meth_get_read(base));
    BIO_meth_set_puts(m, BIO_meth_get_puts(base));
    BIO_meth_set_ctrl(m, BIO_meth_get_ctrl(base));
    BIO_meth_set_create(m, BIO_meth_get_create(base));
    BIO_meth_set_destroy(m, BIO_meth_get_destroy(base));
    return m;
  }();
  return method;
}

bool IsIpAddress(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

std::error_code BlockingStream::Wait(short events, Deadline deadline) {
  pollfd p{fd_, events, 0};
  while (true) {
    int n = ::poll(&p, 1, PollTimeout(deadline));
    if (n > 0) return {};
    if (n == 0) return ClientError::kTimeout;
    if (errno != EINTR) return LastError();
  }
}

std::error_code BlockingStream::FinishConnect(Deadline deadline) {
  if (auto error = Wait(POLLOUT, deadline)) return error;
  int so_error = 0;
  socklen_t len = sizeof so_error;
  if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0) return LastError();
  if (so_error != 0) return {so_error, std::system_category()};
  return {};
}

std::error_code BlockingStream::ConnectTcp(const ConnectionConfig& config, Deadline deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(config.port);
  if (int rc = ::getaddrinfo(config.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    error_detail_ = ::gai_strerror(rc);
    return std::make_error_code(std::errc::host_unreachable);
  }
  std::error_code error = std::make_error_code(std::errc::host_unreachable);
  // Each address in turn ("localhost" is ::1 and 127.0.0.1) until one accepts.
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    Close();
    fd_ = OpenSocket(a->ai_family);
    if (fd_ < 0) {
      error = LastError();
      continue;
    }
    if (!config.source_address.empty()) {
      if (auto bind_error = BindSource(fd_, a->ai_family, config.source_address)) {
        error = bind_error;
        continue;
      }
    }
    if (::connect(fd_, a->ai_addr, a->ai_addrlen) == 0) {
      error = {};
    } else if (errno == EINPROGRESS) {
      error = FinishConnect(deadline);
    } else {
      error = LastError();
    }
    if (!error || error == ClientError::kTimeout) break;
  }
  ::freeaddrinfo(found);
  if (error) {
    Close();
    return error;
  }
  int one = 1;
  // Requests are small and latency-bound: never wait for Nagle's timer.
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (config.tcp_keepalive) ::setsockopt(fd_, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  return {};
}

std::error_code BlockingStream::ConnectUnix(const ConnectionConfig& config, Deadline deadline) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (config.path.size() >= sizeof addr.sun_path) {
    return std::make_error_code(std::errc::filename_too_long);
  }
  std::memcpy(addr.sun_path, config.path.data(), config.path.size());
  fd_ = OpenSocket(AF_UNIX);
  if (fd_ < 0) return LastError();
  std::error_code error;
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    // A Unix socket whose backlog is full says EAGAIN; wait for it like a TCP connect.
    error = (errno == EINPROGRESS || errno == EAGAIN) ? FinishConnect(deadline) : LastError();
  }
  if (error) Close();
  return error;
}

std::error_code BlockingStream::TlsError(int ret, const char* what) {
  unsigned long code = ERR_get_error();
  char text[256] = "";
  if (code != 0) ERR_error_string_n(code, text, sizeof text);
  error_detail_ = std::string(what) + ": " + (code != 0 ? text : std::to_string(ret));
  ERR_clear_error();
  return ClientError::kTlsUnavailable;
}

std::error_code BlockingStream::ConnectTls(const ConnectionConfig& config, SSL_CTX* tls,
                                           Deadline deadline) {
  if (tls == nullptr) return ClientError::kTlsUnavailable;
  ssl_ = SSL_new(tls);
  if (ssl_ == nullptr) return TlsError(0, "SSL_new");
  BIO* bio = BIO_new(NoSignalSocketMethod());
  BIO_set_fd(bio, fd_, BIO_NOCLOSE);
  SSL_set_bio(ssl_, bio, bio);
  const std::string& name =
      config.tls_options.server_name.empty() ? config.host : config.tls_options.server_name;
  const bool ip = IsIpAddress(name);
  // SNI carries host names only; an IP address is checked against the certificate's IP SANs.
  if (!ip) SSL_set_tlsext_host_name(ssl_, name.c_str());
  if (config.tls_options.verify_peer) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    if (ip) {
      X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
    } else {
      SSL_set1_host(ssl_, name.c_str());
    }
  }
  while (true) {
    int ret = SSL_connect(ssl_);
    if (ret == 1) return {};
    int why = SSL_get_error(ssl_, ret);
    if (why == SSL_ERROR_WANT_READ || why == SSL_ERROR_WANT_WRITE) {
      if (auto error = Wait(why == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) return error;
      continue;
    }
    long verify = SSL_get_verify_result(ssl_);
    if (verify != X509_V_OK) {
      error_detail_ =
          std::string("certificate verification failed: ") + X509_verify_cert_error_string(verify);
      ERR_clear_error();
      return ClientError::kTlsUnavailable;
    }
    return TlsError(ret, "TLS handshake");
  }
}

std::error_code BlockingStream::Connect(const ConnectionConfig& config, SSL_CTX* tls,
                                        Deadline deadline) {
  Close();
  error_detail_.clear();
  std::error_code error = config.transport == ConnectionConfig::Transport::kUnix
                              ? ConnectUnix(config, deadline)
                              : ConnectTcp(config, deadline);
  if (!error && config.tls) error = ConnectTls(config, tls, deadline);
  if (error) Close();
  return error;
}

std::error_code BlockingStream::Write(std::string_view bytes, Deadline deadline) {
  while (!bytes.empty()) {
    ssize_t n;
    short wait_for = POLLOUT;
    if (ssl_ != nullptr) {
      size_t written = 0;
      int ret = SSL_write_ex(ssl_, bytes.data(), bytes.size(), &written);
      n = ret == 1 ? static_cast<ssize_t>(written) : -1;
      if (n < 0) {
        int why = SSL_get_error(ssl_, ret);
        if (why == SSL_ERROR_WANT_READ) {
          wait_for = POLLIN;
        } else if (why != SSL_ERROR_WANT_WRITE) {
          TlsError(ret, "TLS write");
          return ClientError::kConnectionLost;
        }
      }
    } else {
      n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        return LastError();
      }
    }
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (auto error = Wait(wait_for, deadline)) return error;
  }
  return {};
}

std::pair<std::error_code, size_t> BlockingStream::Read(char* buffer, size_t size,
                                                        Deadline deadline) {
  while (true) {
    short wait_for = POLLIN;
    if (ssl_ != nullptr) {
      size_t got = 0;
      int ret = SSL_read_ex(ssl_, buffer, size, &got);
      if (ret == 1) return {{}, got};
      int why = SSL_get_error(ssl_, ret);
      if (why == SSL_ERROR_ZERO_RETURN) return {ClientError::kConnectionLost, 0};
      if (why == SSL_ERROR_WANT_WRITE) {
        wait_for = POLLOUT;
      } else if (why != SSL_ERROR_WANT_READ) {
        TlsError(ret, "TLS read");
        return {ClientError::kConnectionLost, 0};
      }
    } else {
      // Wait first: right after a request is written, the reply is never there yet, and a
      // read that fails with EAGAIN would be a wasted system call on every round trip.
      if (auto error = Wait(POLLIN, deadline)) return {error, 0};
      ssize_t n = ::recv(fd_, buffer, size, 0);
      if (n > 0) return {{}, static_cast<size_t>(n)};
      if (n == 0) return {ClientError::kConnectionLost, 0};
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return {LastError(), 0};
      continue;
    }
    if (auto error = Wait(wait_for, deadline)) return {error, 0};
  }
}

bool BlockingStream::Readable() {
  if (fd_ < 0) return false;
  if (ssl_ != nullptr && SSL_pending(ssl_) > 0) return true;
  pollfd p{fd_, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

void BlockingStream::Close() {
  if (ssl_ != nullptr) {
    // No close_notify: the connection is being dropped, and waiting for the peer's answer could
    // block on a dead server.
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

}  // namespace keyward::client::detail
