#include "stream.h"

#include <openssl/ssl.h>

#include <asio/connect.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/address.hpp>
#include <asio/read.hpp>
#include <asio/ssl/error.hpp>
#include <asio/ssl/host_name_verification.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

namespace keyward::client::detail {
namespace {

constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);

// asio reports OS errors in its own "asio.system" category, which does not compare equal to
// std::errc values; callers of this library get them in std::system_category, as the standard
// library would report them.
std::error_code Normalize(std::error_code ec) {
  if (ec && ec.category() == asio::error::get_system_category()) {
    return {ec.value(), std::system_category()};
  }
  return ec;
}

bool IsIpAddress(const std::string& host) {
  asio::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

Expected<std::shared_ptr<asio::ssl::context>> MakeTlsContext(const TlsOptions& options,
                                                             std::string* detail) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  asio::error_code ec;
  auto step = [&](const char* what, const std::string& arg) {
    if (!ec) return true;
    if (detail) *detail = std::string(what) + " " + arg + ": " + ec.message();
    return false;
  };
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1);
  if (!options.ca_file.empty()) {
    context->load_verify_file(options.ca_file, ec);
    if (!step("CA file", options.ca_file)) return ClientError::kTlsUnavailable;
  }
  if (!options.ca_path.empty()) {
    context->add_verify_path(options.ca_path, ec);
    if (!step("CA path", options.ca_path)) return ClientError::kTlsUnavailable;
  }
  if (options.ca_file.empty() && options.ca_path.empty()) {
    context->set_default_verify_paths(ec);
    if (!step("default CA paths", "")) return ClientError::kTlsUnavailable;
  }
  if (!options.cert_file.empty()) {
    context->use_certificate_chain_file(options.cert_file, ec);
    if (!step("certificate", options.cert_file)) return ClientError::kTlsUnavailable;
    context->use_private_key_file(options.key_file.empty() ? options.cert_file : options.key_file,
                                  asio::ssl::context::pem, ec);
    if (!step("private key", options.key_file)) return ClientError::kTlsUnavailable;
  }
  context->set_verify_mode(options.verify_peer ? asio::ssl::verify_peer : asio::ssl::verify_none);
  return context;
}

asio::awaitable<std::error_code> Stream::ConnectTcp(const ConnectionConfig& config, Tcp& socket) {
  asio::ip::tcp::resolver resolver(executor_);
  auto [resolve_error, endpoints] =
      co_await resolver.async_resolve(config.host, std::to_string(config.port), kNoThrow);
  if (resolve_error) co_return Normalize(resolve_error);
  // Tries each address in turn (IPv6 and IPv4 for "localhost") until one accepts.
  if (config.source_address.empty()) {
    auto [connect_error, endpoint] = co_await asio::async_connect(socket, endpoints, kNoThrow);
    if (connect_error) co_return Normalize(connect_error);
  } else {
    // Bound to the source address first: asio's range connect would reopen the socket unbound.
    asio::error_code ec = asio::error::host_not_found;
    const asio::ip::address source = asio::ip::make_address(config.source_address, ec);
    if (ec) co_return std::make_error_code(std::errc::address_family_not_supported);
    ec = asio::error::host_not_found;
    for (const auto& entry : endpoints) {
      asio::error_code step;
      socket.close(step);
      socket.open(entry.endpoint().protocol(), step);
      if (!step) socket.bind(asio::ip::tcp::endpoint(source, 0), step);
      if (step) {
        ec = step;
        continue;
      }
      std::tie(ec) = co_await socket.async_connect(entry.endpoint(), kNoThrow);
      if (!ec) break;
    }
    if (ec) co_return Normalize(ec);
  }
  asio::error_code ec;
  // Requests are small and latency-bound: never wait for Nagle's timer.
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
  if (config.tcp_keepalive) socket.set_option(asio::socket_base::keep_alive(true), ec);
  co_return std::error_code{};
}

asio::awaitable<std::error_code> Stream::Connect(const ConnectionConfig& config,
                                                 asio::ssl::context* tls) {
  Close();
  open_ = true;
  if (config.transport == ConnectionConfig::Transport::kUnix) {
    Unix& socket = socket_.emplace<Unix>(executor_);
    auto [ec] = co_await socket.async_connect(asio::local::stream_protocol::endpoint(config.path),
                                              kNoThrow);
    co_return Normalize(ec);
  }
  if (!config.tls) {
    Tcp& socket = socket_.emplace<Tcp>(executor_);
    co_return co_await ConnectTcp(config, socket);
  }
  if (tls == nullptr) co_return ClientError::kTlsUnavailable;
  Tls& stream = socket_.emplace<Tls>(std::make_unique<asio::ssl::stream<Tcp>>(executor_, *tls));
  if (auto ec = co_await ConnectTcp(config, stream->next_layer())) co_return ec;
  const std::string& name =
      config.tls_options.server_name.empty() ? config.host : config.tls_options.server_name;
  // SNI carries host names only; an IP address is verified against the certificate's IP SANs.
  if (!IsIpAddress(name)) SSL_set_tlsext_host_name(stream->native_handle(), name.c_str());
  if (config.tls_options.verify_peer) {
    stream->set_verify_callback(asio::ssl::host_name_verification(name));
  }
  auto [ec] = co_await stream->async_handshake(asio::ssl::stream_base::client, kNoThrow);
  // One code for every TLS failure, as the synchronous client reports it; a connection that
  // died during the handshake stays what it was.
  if (ec && ec.category() == asio::error::get_ssl_category())
    co_return ClientError::kTlsUnavailable;
  co_return Normalize(ec);
}

asio::awaitable<std::error_code> Stream::Write(std::string_view bytes) {
  auto buffer = asio::buffer(bytes.data(), bytes.size());
  if (auto* tcp = std::get_if<Tcp>(&socket_)) {
    auto [ec, n] = co_await asio::async_write(*tcp, buffer, kNoThrow);
    co_return Normalize(ec);
  }
  if (auto* unix_socket = std::get_if<Unix>(&socket_)) {
    auto [ec, n] = co_await asio::async_write(*unix_socket, buffer, kNoThrow);
    co_return Normalize(ec);
  }
  if (auto* tls = std::get_if<Tls>(&socket_)) {
    auto [ec, n] = co_await asio::async_write(**tls, buffer, kNoThrow);
    co_return Normalize(ec);
  }
  co_return asio::error::not_connected;
}

asio::awaitable<std::pair<std::error_code, size_t>> Stream::ReadSome(asio::mutable_buffer buffer) {
  if (auto* tcp = std::get_if<Tcp>(&socket_)) {
    auto [ec, n] = co_await tcp->async_read_some(buffer, kNoThrow);
    co_return std::pair(Normalize(ec), n);
  }
  if (auto* unix_socket = std::get_if<Unix>(&socket_)) {
    auto [ec, n] = co_await unix_socket->async_read_some(buffer, kNoThrow);
    co_return std::pair(Normalize(ec), n);
  }
  if (auto* tls = std::get_if<Tls>(&socket_)) {
    auto [ec, n] = co_await (*tls)->async_read_some(buffer, kNoThrow);
    co_return std::pair(Normalize(ec), n);
  }
  co_return std::pair(std::error_code(asio::error::not_connected), size_t{0});
}

void Stream::Close() {
  asio::error_code ignored;
  if (auto* tcp = std::get_if<Tcp>(&socket_)) tcp->close(ignored);
  if (auto* unix_socket = std::get_if<Unix>(&socket_)) unix_socket->close(ignored);
  // No TLS close_notify: the connection is being dropped, not shut down politely, and waiting
  // for the peer's answer could block on a dead server.
  if (auto* tls = std::get_if<Tls>(&socket_)) (*tls)->next_layer().close(ignored);
  // The socket object itself stays until the next Connect(): operations cancelled by close()
  // complete later, and must not find it destroyed.
  open_ = false;
}

}  // namespace keyward::client::detail
