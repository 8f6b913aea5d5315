// Connection settings, and the URL form they are usually given in.
//
//   redis://[[user]:password@]host[:port][/db]       TCP
//   rediss://[[user]:password@]host[:port][/db]      TCP with TLS
//   unix://[[user]:password@]/path/to.sock[?db=N]    Unix domain socket
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

#include "keyward/client/reply.h"  // Expected

namespace keyward::client {

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
};

// Reads one of the URL forms above into a ConnectionConfig (fields the URL cannot express keep
// their defaults). Fails with ClientError::kInvalidUrl.
Expected<ConnectionConfig> ParseUrl(std::string_view url);

}  // namespace keyward::client
