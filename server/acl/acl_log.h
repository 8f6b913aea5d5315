// ACL LOG: the recent refusals (a command, key or channel denied, a failed AUTH), similar ones
// grouped into one entry with a count, newest first (Redis 7.0's addACLLogEntry).
#pragma once

#include <cstdint>
#include <deque>
#include <string>

#include "server/acl/selector.h"

namespace keyward::acl {

enum class LogContext : uint8_t { kToplevel, kMulti, kLua, kModule };

struct LogEntry {
  uint64_t count = 1;
  Denial reason = Denial::kCommand;
  LogContext context = LogContext::kToplevel;
  std::string object;       // the command's full name, the key, the channel, or "AUTH"
  std::string username;     // the user refused (for AUTH: the name tried)
  int64_t ctime_ms = 0;     // last time it happened
  std::string client_info;  // CLIENT INFO of the client, the last time
};

std::string_view ReasonName(Denial reason);
std::string_view ContextName(LogContext context);

class AclLog {
 public:
  // Adds `entry`, or counts it into a recent similar one (same reason, context, object and
  // user, within a minute, among the 10 newest), keeping at most `max_len` entries.
  void Add(LogEntry entry, int64_t max_len);
  const std::deque<LogEntry>& entries() const { return entries_; }
  void Reset() { entries_.clear(); }
  void Trim(int64_t max_len);

 private:
  std::deque<LogEntry> entries_;  // newest first
};

}  // namespace keyward::acl
