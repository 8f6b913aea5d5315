// The byte stream under the synchronous Client: a non-blocking socket (TCP or Unix), with OpenSSL
// on top for TLS, driven by poll(2) against a deadline. Private to the client library.
//
// Why not asio here: a synchronous call needs exactly write, poll, read. Running the same call
// through an io_context (coroutine frames, posted completions, a reactor) cost about 16,000
// instructions per round trip, 10% of a loopback PING's latency. The state machines (Handshake,
// Pipeline) are shared with AsyncClient; only this thin I/O differs.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "keyward/client/config.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace keyward::client::detail {

using Deadline = std::optional<std::chrono::steady_clock::time_point>;

class BlockingStream {
 public:
  BlockingStream() = default;
  ~BlockingStream() { Close(); }
  BlockingStream(const BlockingStream&) = delete;
  BlockingStream& operator=(const BlockingStream&) = delete;

  // Resolves (getaddrinfo: not bounded by the deadline), connects to the first address that
  // accepts, and for TLS performs the handshake and checks the certificate's name. `tls` must
  // be set when config.tls is. Errors: the OS error (connection_refused ...), kTimeout, or
  // kTlsUnavailable for a failed TLS handshake (the OpenSSL reason is in error_detail()).
  std::error_code Connect(const ConnectionConfig& config, SSL_CTX* tls, Deadline deadline);

  std::error_code Write(std::string_view bytes, Deadline deadline);
  // Reads at least one byte into `buffer`: (error, bytes). End of stream is kConnectionLost;
  // a passed deadline is kTimeout.
  std::pair<std::error_code, size_t> Read(char* buffer, size_t size, Deadline deadline);
  // True when a read would not block: data, or the peer's close, is waiting.
  bool Readable();

  void Close();
  bool is_open() const { return fd_ >= 0; }
  const std::string& error_detail() const { return error_detail_; }

 private:
  // Waits for `events` (POLLIN / POLLOUT) on the socket until the deadline.
  std::error_code Wait(short events, Deadline deadline);
  std::error_code ConnectTcp(const ConnectionConfig& config, Deadline deadline);
  std::error_code ConnectUnix(const ConnectionConfig& config, Deadline deadline);
  std::error_code ConnectTls(const ConnectionConfig& config, SSL_CTX* tls, Deadline deadline);
  std::error_code FinishConnect(Deadline deadline);
  std::error_code TlsError(int ret, const char* what);

  int fd_ = -1;
  SSL* ssl_ = nullptr;
  std::string error_detail_;
};

}  // namespace keyward::client::detail
