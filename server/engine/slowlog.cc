#include "server/engine/slowlog.h"

#include <algorithm>

#include "server/core/strings.h"
#include "server/engine/client.h"

namespace keyward {

bool IsRedactedArgument(const CommandSpec& cmd, CmdArgs args, size_t i) {
  const std::string& name = cmd.full_name();
  if (name == "auth") return i >= 1;
  if (name == "hello") {
    for (size_t j = 2; j + 2 < args.size(); j++) {
      if (EqualsIgnoreCase(args[j], "AUTH")) return i == j + 1 || i == j + 2;
    }
  }
  if (name == "acl|setuser") return i >= 2;  // its rules carry passwords
  if (name == "config|set") {
    return i >= 3 && i % 2 == 1 && EqualsIgnoreCase(args[i - 1], "requirepass");
  }
  return false;
}

void SlowLog::MaybeAdd(const Client& c, const CommandSpec& cmd, CmdArgs args, int64_t duration_us,
                       int64_t now_ms, int64_t log_slower_than_us, int64_t max_len) {
  if (cmd.has(CO::kSkipSlowlog) || log_slower_than_us < 0 || duration_us < log_slower_than_us) {
    return;
  }
  // Redis keeps at most 32 arguments of at most 128 bytes each.
  SlowLogEntry e;
  e.id = next_id_++;
  e.time_sec = now_ms / 1000;
  e.duration_us = duration_us;
  const size_t n = std::min<size_t>(args.size(), 32);
  for (size_t i = 0; i < n; i++) {
    if (i == 31 && args.size() > 32) {
      e.args.push_back("... (" + std::to_string(args.size() - 31) + " more arguments)");
      break;
    }
    if (IsRedactedArgument(cmd, args, i)) {
      e.args.emplace_back(kRedacted);
    } else if (args[i].size() > 128) {
      e.args.push_back(std::string(args[i].substr(0, 128)) + "... (" +
                       std::to_string(args[i].size() - 128) + " more bytes)");
    } else {
      e.args.emplace_back(args[i]);
    }
  }
  e.peer = c.transport()->peer_address();
  e.client_name = c.name;
  entries_.push_front(std::move(e));
  while (entries_.size() > static_cast<size_t>(std::max<int64_t>(max_len, 0))) {
    entries_.pop_back();
  }
}

}  // namespace keyward
