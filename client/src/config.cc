#include "keyward/client/config.h"

#include <algorithm>
#include <charconv>
#include <climits>
#include <optional>

namespace keyward::client {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexValue(char c) {
  if (IsDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

// "%XX" -> the byte 0xXX. A '%' not followed by two hex digits is an error, not a literal: a
// half-encoded password would otherwise authenticate with the wrong bytes and fail obscurely.
std::optional<std::string> PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (s.size() - i < 3) return std::nullopt;  // '%' needs two more characters
    int hi = HexValue(s[i + 1]);
    int lo = HexValue(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// A non-empty run of decimal digits (no sign, no spaces) whose value is at most `max`.
std::optional<int64_t> ParseDecimal(std::string_view s, int64_t max) {
  if (s.empty() || !std::all_of(s.begin(), s.end(), IsDigit)) return std::nullopt;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size() || value > max) return std::nullopt;
  return value;
}

// "[user]:password" (the '@' already removed).
bool ParseUserInfo(std::string_view info, ConnectionConfig& config) {
  size_t colon = info.find(':');
  if (colon == std::string_view::npos) return false;  // ambiguous, see config.h
  auto user = PercentDecode(info.substr(0, colon));
  auto password = PercentDecode(info.substr(colon + 1));
  if (!user || !password) return false;
  if (user->empty() && !password->empty()) *user = "default";
  config.user = std::move(*user);
  config.password = std::move(*password);
  return true;
}

// Host names and IPv4 addresses. Underscores are not valid in DNS names but do occur in
// container and /etc/hosts names, and refusing them would help nobody.
bool IsHostName(std::string_view host) {
  return !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
    return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '.' ||
           c == '_';
  });
}

// The text between the brackets. Only checked for plausibility: the resolver has the last word.
bool IsIpv6Literal(std::string_view host) {
  return host.find(':') != std::string_view::npos &&
         std::all_of(host.begin(), host.end(),
                     [](char c) { return HexValue(c) >= 0 || c == ':' || c == '.'; });
}

bool ParsePort(std::string_view s, ConnectionConfig& config) {
  auto port = ParseDecimal(s, 65535);
  if (!port || *port == 0) return false;
  config.port = static_cast<uint16_t>(*port);
  return true;
}

bool ParseDb(std::string_view s, ConnectionConfig& config) {
  auto db = ParseDecimal(s, INT_MAX);
  if (!db) return false;
  config.db = static_cast<int>(*db);
  return true;
}

// host[:port] or [ipv6][:port].
bool ParseHostPort(std::string_view s, ConnectionConfig& config) {
  std::string_view port;
  bool has_port = false;
  if (!s.empty() && s.front() == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos) return false;
    std::string_view host = s.substr(1, close - 1);
    if (!IsIpv6Literal(host)) return false;
    config.host = std::string(host);
    std::string_view after = s.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return false;
      port = after.substr(1);
      has_port = true;
    }
  } else {
    size_t colon = s.find(':');
    std::string_view host = s.substr(0, colon);
    if (!IsHostName(host)) return false;
    config.host = std::string(host);
    if (colon != std::string_view::npos) {
      port = s.substr(colon + 1);
      has_port = true;
    }
  }
  return !has_port || ParsePort(port, config);
}

// Everything after "redis://" or "rediss://".
bool ParseTcp(std::string_view rest, ConnectionConfig& config) {
  // No query or fragment syntax for TCP: the db goes in the path.
  if (rest.find_first_of("?#") != std::string_view::npos) return false;
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash + 1);

  // The last '@', as URL parsers do, so a raw '@' in a password still splits correctly.
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    if (!ParseUserInfo(authority.substr(0, at), config)) return false;
    authority = authority.substr(at + 1);
  }
  if (!ParseHostPort(authority, config)) return false;
  // "redis://host/" means db 0, like "redis://host".
  return path.empty() || ParseDb(path, config);
}

// Everything after "redis+sentinel://": [userinfo@]host[:port][,host[:port]...]/master[/db].
bool ParseSentinel(std::string_view rest, ConnectionConfig& config) {
  if (rest.find_first_of("?#") != std::string_view::npos) return false;
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return false;  // the master's name is required
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = rest.substr(slash + 1);
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    if (!ParseUserInfo(authority.substr(0, at), config)) return false;
    authority = authority.substr(at + 1);
  }
  while (true) {
    const size_t comma = authority.find(',');
    ConnectionConfig one;
    one.port = 26379;
    if (!ParseHostPort(authority.substr(0, comma), one)) return false;
    config.sentinels.push_back({one.host, one.port});
    if (comma == std::string_view::npos) break;
    authority = authority.substr(comma + 1);
  }
  const size_t db_slash = path.find('/');
  auto master = PercentDecode(path.substr(0, db_slash));
  if (!master || master->empty()) return false;
  config.sentinel_master = std::move(*master);
  config.host = config.sentinels.front().host;
  config.port = config.sentinels.front().port;
  return db_slash == std::string_view::npos || db_slash + 1 == path.size() ||
         ParseDb(path.substr(db_slash + 1), config);
}

// Everything after "unix://".
bool ParseUnix(std::string_view rest, ConnectionConfig& config) {
  config.transport = ConnectionConfig::Transport::kUnix;
  if (rest.find('#') != std::string_view::npos) return false;
  size_t question = rest.find('?');
  std::string_view main = rest.substr(0, question);

  // The path starts at the first '/'; anything before it is user info ending in '@'.
  size_t slash = main.find('/');
  if (slash == std::string_view::npos) return false;
  if (slash > 0) {
    std::string_view info = main.substr(0, slash);
    if (info.back() != '@') return false;  // "unix://relative/path" or a host: not a socket
    if (!ParseUserInfo(info.substr(0, info.size() - 1), config)) return false;
  }
  auto path = PercentDecode(main.substr(slash));
  // A NUL would silently truncate the path in sockaddr_un.
  if (!path || path->find('\0') != std::string::npos) return false;
  config.path = std::move(*path);

  if (question != std::string_view::npos) {
    std::string_view query = rest.substr(question + 1);
    constexpr std::string_view kDb = "db=";
    if (!query.starts_with(kDb) || !ParseDb(query.substr(kDb.size()), config)) return false;
  }
  return true;
}

}  // namespace

Expected<ConnectionConfig> ParseUrl(std::string_view url) {
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) return ClientError::kInvalidUrl;
  std::string_view scheme = url.substr(0, sep);
  std::string_view rest = url.substr(sep + 3);

  ConnectionConfig config;
  bool ok = false;
  if (EqualsIgnoreCase(scheme, "redis")) {
    ok = ParseTcp(rest, config);
  } else if (EqualsIgnoreCase(scheme, "rediss")) {
    config.tls = true;
    ok = ParseTcp(rest, config);
  } else if (EqualsIgnoreCase(scheme, "unix")) {
    ok = ParseUnix(rest, config);
  } else if (EqualsIgnoreCase(scheme, "redis+sentinel")) {
    ok = ParseSentinel(rest, config);
  }
  if (!ok) return ClientError::kInvalidUrl;
  return config;
}

Expected<ClientOptions> OptionsFromUrl(std::string_view url) {
  auto connection = ParseUrl(url);
  if (!connection) return connection.error();
  ClientOptions options;
  options.connection = std::move(*connection);
  return options;
}

}  // namespace keyward::client
