// TLS for the network layer: the server's OpenSSL contexts, built from the tls-* options as
// Redis 7.0's tls.c builds them, and replaced as a whole when they change (CONFIG SET reloads
// certificates without a restart). A connection keeps the context it was accepted with; new
// connections take the current one.
//
// Nothing here includes asio or OpenSSL: the event loop reaches the contexts through
// server_context() / client_context().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace asio::ssl {
class context;
}

namespace keyward::net {

// tls-auth-clients: whether a client on the TLS port must show a certificate.
enum class TlsAuthClients { kNo = 0, kYes = 1, kOptional = 2 };

// The tls-* options, as the server's configuration holds them ("" for not set).
struct TlsConfig {
  std::string cert_file, key_file, key_file_pass;
  // The certificate the server shows when it is the client (replication, a sentinel's links);
  // the server's own when not set.
  std::string client_cert_file, client_key_file, client_key_file_pass;
  std::string dh_params_file;
  std::string ca_cert_file, ca_cert_dir;
  std::string protocols;  // "TLSv1.2 TLSv1.3" when empty
  std::string ciphers, ciphersuites;
  bool prefer_server_ciphers = false;
  bool session_caching = true;
  int64_t session_cache_size = 20 * 1024;
  int64_t session_cache_timeout = 300;
  // tls-auth-clients, tls-replication or tls-cluster: a CA is then required.
  bool needs_ca = true;
};

class TlsContexts {
 public:
  TlsContexts();
  ~TlsContexts();

  // Builds new contexts from `config`. On success they replace the current ones; on failure the
  // current ones stay, the reason is logged (Redis's warnings) and returned.
  std::optional<std::string> Configure(const TlsConfig& config);
  bool configured() const { return server_ != nullptr; }

  // The contexts new connections use (null until configured).
  std::shared_ptr<asio::ssl::context> server_context() const { return server_; }
  std::shared_ptr<asio::ssl::context> client_context() const { return client_; }

  // tls-auth-clients, read at every accept (a change applies to the next connection).
  TlsAuthClients auth_clients() const {
    return auth_clients_ ? auth_clients_() : TlsAuthClients::kYes;
  }
  void set_auth_clients(std::function<TlsAuthClients()> mode) { auth_clients_ = std::move(mode); }

 private:
  std::shared_ptr<asio::ssl::context> server_;
  std::shared_ptr<asio::ssl::context> client_;
  std::function<TlsAuthClients()> auth_clients_;
};

}  // namespace keyward::net
