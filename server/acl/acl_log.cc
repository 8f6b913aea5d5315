#include "server/acl/acl_log.h"

#include <cstdlib>

namespace keyward::acl {

std::string_view ReasonName(Denial reason) {
  switch (reason) {
    case Denial::kCommand:
      return "command";
    case Denial::kKey:
      return "key";
    case Denial::kChannel:
      return "channel";
    case Denial::kAuth:
      return "auth";
    case Denial::kNone:
      break;
  }
  return "unknown";
}

std::string_view ContextName(LogContext context) {
  switch (context) {
    case LogContext::kToplevel:
      return "toplevel";
    case LogContext::kMulti:
      return "multi";
    case LogContext::kLua:
      return "lua";
    case LogContext::kModule:
      return "module";
  }
  return "unknown";
}

void AclLog::Add(LogEntry entry, int64_t max_len) {
  constexpr int64_t kGroupingMs = 60000;
  constexpr size_t kScan = 10;
  for (size_t i = 0; i < entries_.size() && i < kScan; i++) {
    LogEntry& e = entries_[i];
    if (e.reason == entry.reason && e.context == entry.context && e.object == entry.object &&
        e.username == entry.username && std::llabs(e.ctime_ms - entry.ctime_ms) <= kGroupingMs) {
      LogEntry match = std::move(e);
      entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(i));
      match.count++;
      match.ctime_ms = entry.ctime_ms;
      match.client_info = std::move(entry.client_info);
      entries_.push_front(std::move(match));
      return;
    }
  }
  entries_.push_front(std::move(entry));
  Trim(max_len);
}

void AclLog::Trim(int64_t max_len) {
  while (!entries_.empty() && static_cast<int64_t>(entries_.size()) > max_len) {
    entries_.pop_back();
  }
}

}  // namespace keyward::acl
