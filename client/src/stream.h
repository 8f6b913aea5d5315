// The byte stream under a client connection: TCP, a Unix socket, or TLS over TCP, behind one
// interface so that nothing above it knows which. Private to the client library.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>
#include <cstddef>
#include <memory>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>

#include "keyward/client/config.h"

namespace keyward::client::detail {

// The OpenSSL context for `options`, or the reason it cannot be made (an unreadable CA or key
// file): kTlsUnavailable, with the OpenSSL text in `detail`.
Expected<std::shared_ptr<asio::ssl::context>> MakeTlsContext(const TlsOptions& options,
                                                             std::string* detail);

class Stream {
 public:
  explicit Stream(asio::any_io_executor executor) : executor_(std::move(executor)) {}

  // Resolves, connects and, for TLS, performs the TLS handshake. `tls` must be set when
  // config.tls is. No time limit of its own: the caller races it against a timer.
  asio::awaitable<std::error_code> Connect(const ConnectionConfig& config, asio::ssl::context* tls);

  // Writes all of `bytes`.
  asio::awaitable<std::error_code> Write(std::string_view bytes);
  // Reads what is available, at least one byte; end of stream is asio::error::eof.
  asio::awaitable<std::pair<std::error_code, size_t>> ReadSome(asio::mutable_buffer buffer);

  // Closes the socket; pending reads and writes complete with operation_aborted.
  void Close();
  bool is_open() const { return open_; }

 private:
  using Tcp = asio::ip::tcp::socket;
  using Unix = asio::local::stream_protocol::socket;
  using Tls = std::unique_ptr<asio::ssl::stream<Tcp>>;  // not movable, hence the pointer

  asio::awaitable<std::error_code> ConnectTcp(const ConnectionConfig& config, Tcp& socket);

  asio::any_io_executor executor_;
  std::variant<std::monostate, Tcp, Unix, Tls> socket_;
  bool open_ = false;
};

}  // namespace keyward::client::detail
