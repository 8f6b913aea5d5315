// Connection settings, and the URL form they are usually given in.
//
//   redis://[[user]:password@]host[:port][/db]       TCP
//   rediss://[[user]:password@]host[:port][/db]      TCP with TLS
//   unix://[[user]:password@]/path/to.sock[?db=N]    Unix domain socket
//   redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/master-name[/db]
//                                                    the master of a sentinel-managed group
//
// A sentinel-managed group is found through its sentinels (port 26379 unless given): every
// connection asks them in turn `SENTINEL GET-MASTER-ADDR-BY-NAME master-name`, connects to the
// address the first one that knows it names (that sentinel is asked first next time), and checks
// with ROLE that the server is a master before using it. Sentinels reconfigure a failed-over
// group and disconnect its clients, so a reconnection finds the new master. The credentials and
// the db are the master's; the sentinels are asked without credentials.
//
// IPv6 hosts go in brackets (redis://[::1]:6380). User, password and socket path are
// percent-decoded, so they can hold any byte ("p%40ss" is "p@ss"). The scheme is
// case-insensitive. The password is what follows the first ':' of the user info, and the user info
// ends at the last '@' before the host, so raw ':' and '@' in a password happen to work; '/' and
// '?' must be written %2F and %3F.
//
// Refused as kInvalidUrl, rather than guessed at:
// - user info without a ':' ("redis://secret@host"): redis-cli reads that as a password, redis-py
//   as a user name. Write ":secret@" or "user:@" instead;
// - an empty host, a host with characters no host name has, an unbracketed IPv6 address;
// - a port that is empty, not decimal, 0 or above 65535; a db that is not a non-negative decimal
//   int; a path with more than the db; a query on redis:// (use the path), or any query
//   parameter other than db on unix://; a relative socket path; a malformed %-escape.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "keyward/client/reconnect.h"
#include "keyward/client/reply.h"  // Expected
#include "keyward/client/reply_parser.h"

namespace keyward::client {

// TLS settings, used when ConnectionConfig::tls is set (rediss://). OpenSSL underneath.
struct TlsOptions {
  // Trusted CAs for verifying the server: a PEM file, or a directory prepared with c_rehash.
  // Both empty: the system's default trust store.
  std::string ca_file;
  std::string ca_path;
  // A client certificate (PEM chain) and its key, for servers that require one
  // (tls-auth-clients yes).
  std::string cert_file;
  std::string key_file;
  // Verify the server's certificate chain and that it names `server_name` (default: the host
  // connected to). Turning this off makes TLS encryption without authentication: for tests only.
  bool verify_peer = true;
  std::string server_name;  // also sent as SNI
};

struct ConnectionConfig {
  enum class Transport { kTcp, kUnix };

  Transport transport = Transport::kTcp;
  std::string host = "127.0.0.1";  // kTcp; an IPv6 address without its brackets
  uint16_t port = 6379;            // kTcp
  std::string path;                // kUnix: the socket's absolute path
  bool tls = false;                // rediss://

  // AUTH is sent on connect when either is non-empty. A URL with only a password sets user to
  // "default", which is what Redis 6+ authenticates a one-argument AUTH against anyway; sending
  // the two-argument form keeps one code path.
  std::string user;
  std::string password;
  int db = 0;  // SELECTed on connect when not 0

  // CLIENT SETNAME on connect when not empty (shows in CLIENT LIST, which helps operators).
  std::string client_name;
  // Resolving, connecting and the handshake (HELLO, AUTH, SELECT, SETNAME) together.
  std::chrono::milliseconds connect_timeout{5000};
  // Default per-command limit; zero means none. None by default because blocking commands
  // (BLPOP k 0, XREAD BLOCK 0) legitimately wait forever; callers pass per-call timeouts.
  std::chrono::milliseconds command_timeout{0};
  // SO_KEEPALIVE on TCP connections, so that the kernel eventually notices a vanished peer even
  // with the health check off.
  bool tcp_keepalive = true;
  // kTcp: the local address outgoing connections are bound to (as Redis's bind-source-addr);
  // empty: the kernel's choice. An address of the other family than the server's is an error.
  std::string source_address;
  TlsOptions tls_options;

  // redis+sentinel://: the sentinels, asked in this order, and the name of the master they
  // watch. When set, host and port are where the last connection went.
  struct SentinelAddress {
    std::string host;
    uint16_t port = 26379;
  };
  std::vector<SentinelAddress> sentinels;
  std::string sentinel_master;
};

// Everything the clients (Client and AsyncClient) are configured with.
struct ClientOptions {
  ConnectionConfig connection;
  ReconnectPolicy reconnect;
  // See HealthCheck (reconnect.h). 0 turns it off, the default, because a healthy connection
  // blocked in BLPOP k 0 is indistinguishable from a dead one. 1000 ms suits a lock service.
  std::chrono::milliseconds health_check_interval{0};
  // Commands issued while the client is disconnected (before the first connection, or between a
  // loss and the reconnection): true, they wait for the connection, bounded by their timeout;
  // false, they wait for the next connection attempt only (one is started at once) and fail with
  // its error if it fails. Client (synchronous) sets false, AsyncClient defaults to true.
  bool queue_while_disconnected = true;
  // Push messages buffered for ReceivePush() before the client stops reading from the server.
  // Stopping is deliberate: a consumer that cannot keep up is then disconnected by the server's
  // client-output-buffer-limit instead of growing this process's memory without bound.
  size_t push_queue_capacity = 4096;
  ReplyParserLimits reply_limits;
};

// Options from a URL (see ParseUrl), with the other settings at their defaults.
Expected<ClientOptions> OptionsFromUrl(std::string_view url);

// Reads one of the URL forms above into a ConnectionConfig (fields the URL cannot express keep
// their defaults). Fails with ClientError::kInvalidUrl.
Expected<ConnectionConfig> ParseUrl(std::string_view url);

}  // namespace keyward::client
