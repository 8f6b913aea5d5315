#include "server/net/tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>
#include <strings.h>

#include <asio/ssl/context.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>

namespace keyward::net {

namespace {

constexpr int kTlsV1 = 1 << 0;
constexpr int kTlsV1_1 = 1 << 1;
constexpr int kTlsV1_2 = 1 << 2;
constexpr int kTlsV1_3 = 1 << 3;

// tls-protocols: a space-separated list, any case; -1 (logged) when a name is not a protocol.
int ParseProtocols(const std::string& text) {
  if (text.empty()) return kTlsV1_2 | kTlsV1_3;
  int protocols = 0;
  std::istringstream in(text);
  std::string name;
  while (in >> name) {
    if (strcasecmp(name.c_str(), "tlsv1") == 0) {
      protocols |= kTlsV1;
    } else if (strcasecmp(name.c_str(), "tlsv1.1") == 0) {
      protocols |= kTlsV1_1;
    } else if (strcasecmp(name.c_str(), "tlsv1.2") == 0) {
      protocols |= kTlsV1_2;
    } else if (strcasecmp(name.c_str(), "tlsv1.3") == 0) {
      protocols |= kTlsV1_3;
    } else {
      spdlog::warn(
          "Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and "
          "'TLSv1.3'.");
      return -1;
    }
  }
  return protocols;
}

std::string LastSslError() {
  char buf[256];
  ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
  return buf;
}

// The passphrase of an encrypted key (tls-key-file-pass), set only while the key is read.
int PasswordCallback(char* buf, int size, int /*rwflag*/, void* user) {
  const auto* pass = static_cast<const std::string*>(user);
  if (pass == nullptr || size <= 0) return 0;
  const size_t n = std::min(pass->size(), static_cast<size_t>(size - 1));
  std::memcpy(buf, pass->data(), n);
  buf[n] = '\0';
  return static_cast<int>(n);
}

// Redis's createSSLContext: what the server and the client contexts share. Null (logged) on
// failure.
std::shared_ptr<asio::ssl::context> NewContext(const TlsConfig& config, int protocols,
                                               bool client) {
  const std::string& cert_file = client ? config.client_cert_file : config.cert_file;
  const std::string& key_file = client ? config.client_key_file : config.key_file;
  const std::string& key_pass = client ? config.client_key_file_pass : config.key_file_pass;
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls);
  SSL_CTX* ctx = context->native_handle();
  SSL_CTX_set_options(ctx, SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_DONT_INSERT_EMPTY_FRAGMENTS |
                               SSL_OP_NO_COMPRESSION);
  if (!(protocols & kTlsV1)) SSL_CTX_set_options(ctx, SSL_OP_NO_TLSv1);
  if (!(protocols & kTlsV1_1)) SSL_CTX_set_options(ctx, SSL_OP_NO_TLSv1_1);
  if (!(protocols & kTlsV1_2)) SSL_CTX_set_options(ctx, SSL_OP_NO_TLSv1_2);
  if (!(protocols & kTlsV1_3)) SSL_CTX_set_options(ctx, SSL_OP_NO_TLSv1_3);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);

  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) <= 0) {
    spdlog::warn("Failed to load certificate: {}: {}", cert_file, LastSslError());
    return nullptr;
  }
  SSL_CTX_set_default_passwd_cb(ctx, PasswordCallback);
  SSL_CTX_set_default_passwd_cb_userdata(ctx, const_cast<std::string*>(&key_pass));
  const int key_loaded = SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM);
  SSL_CTX_set_default_passwd_cb_userdata(ctx, nullptr);  // `key_pass` does not outlive this
  if (key_loaded <= 0) {
    spdlog::warn("Failed to load private key: {}: {}", key_file, LastSslError());
    return nullptr;
  }
  if (!config.ca_cert_file.empty() || !config.ca_cert_dir.empty()) {
    const char* file = config.ca_cert_file.empty() ? nullptr : config.ca_cert_file.c_str();
    const char* dir = config.ca_cert_dir.empty() ? nullptr : config.ca_cert_dir.c_str();
    if (SSL_CTX_load_verify_locations(ctx, file, dir) <= 0) {
      spdlog::warn("Failed to configure CA certificate(s) file/directory: {}", LastSslError());
      return nullptr;
    }
  }
  if (!config.ciphers.empty() && !SSL_CTX_set_cipher_list(ctx, config.ciphers.c_str())) {
    spdlog::warn("Failed to configure ciphers: {}", config.ciphers);
    return nullptr;
  }
  if (!config.ciphersuites.empty() && !SSL_CTX_set_ciphersuites(ctx, config.ciphersuites.c_str())) {
    spdlog::warn("Failed to configure ciphersuites: {}", config.ciphersuites);
    return nullptr;
  }
  return context;
}

// tls-dh-params-file on the server context. False (logged) on failure.
bool LoadDhParams(SSL_CTX* ctx, const std::string& path) {
  FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) {
    spdlog::warn("Failed to load {}: {}", path, std::strerror(errno));
    return false;
  }
  BIO* bio = BIO_new_fp(file, BIO_CLOSE);
  EVP_PKEY* params = bio != nullptr ? PEM_read_bio_Parameters(bio, nullptr) : nullptr;
  if (bio != nullptr) {
    BIO_free(bio);
  } else {
    std::fclose(file);
  }
  if (params == nullptr || EVP_PKEY_base_id(params) != EVP_PKEY_DH) {
    EVP_PKEY_free(params);
    spdlog::warn("{}: failed to read DH params.", path);
    return false;
  }
  if (SSL_CTX_set0_tmp_dh_pkey(ctx, params) <= 0) {  // takes `params` on success only
    EVP_PKEY_free(params);
    spdlog::warn("Failed to load DH params file: {}: {}", path, LastSslError());
    return false;
  }
  return true;
}

}  // namespace

TlsContexts::TlsContexts() = default;
TlsContexts::~TlsContexts() = default;

std::optional<std::string> TlsContexts::Configure(const TlsConfig& config) {
  const std::string failed = "TLS configuration failed";
  if (config.cert_file.empty()) {
    spdlog::warn("No tls-cert-file configured!");
    return failed;
  }
  if (config.key_file.empty()) {
    spdlog::warn("No tls-key-file configured!");
    return failed;
  }
  if (config.needs_ca && config.ca_cert_file.empty() && config.ca_cert_dir.empty()) {
    spdlog::warn(
        "Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, "
        "tls-replication or tls-auth-clients are enabled!");
    return failed;
  }
  const int protocols = ParseProtocols(config.protocols);
  if (protocols == -1) return failed;

  std::shared_ptr<asio::ssl::context> server = NewContext(config, protocols, /*client=*/false);
  if (server == nullptr) return failed;
  SSL_CTX* ctx = server->native_handle();
  if (config.session_caching) {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(ctx, config.session_cache_size);
    SSL_CTX_set_timeout(ctx, static_cast<long>(config.session_cache_timeout));
    SSL_CTX_set_session_id_context(ctx, reinterpret_cast<const unsigned char*>("redis"), 5);
  } else {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  }
  // Clients cannot renegotiate: OpenSSL 3's default (SSL_OP_ALLOW_CLIENT_RENEGOTIATION unset).
  SSL_CTX_set_options(ctx, SSL_OP_SINGLE_DH_USE);
  if (config.prefer_server_ciphers) SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (!config.dh_params_file.empty()) {
    if (!LoadDhParams(ctx, config.dh_params_file)) return failed;
  } else {
    SSL_CTX_set_dh_auto(ctx, 1);
  }
  // The server's own certificate serves as the client's unless one is configured for it.
  std::shared_ptr<asio::ssl::context> client = server;
  if (!config.client_cert_file.empty() && !config.client_key_file.empty()) {
    client = NewContext(config, protocols, /*client=*/true);
    if (client == nullptr) return failed;
  }
  server_ = std::move(server);
  client_ = std::move(client);
  return std::nullopt;
}

}  // namespace keyward::net
