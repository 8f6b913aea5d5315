// SLOWLOG: the commands that ran longer than slowlog-log-slower-than, newest first, at most
// slowlog-max-len of them, with their arguments shortened as Redis shortens them.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "server/engine/command.h"

namespace keyward {

class Client;

struct SlowLogEntry {
  uint64_t id;
  int64_t time_sec;
  int64_t duration_us;
  std::vector<std::string> args;
  std::string peer;
  std::string client_name;
};

class SlowLog {
 public:
  // Adds the command when it was slow enough (and its command may be logged at all).
  void MaybeAdd(const Client& c, const CommandSpec& cmd, CmdArgs args, int64_t duration_us,
                int64_t now_ms, int64_t log_slower_than_us, int64_t max_len);
  const std::deque<SlowLogEntry>& entries() const { return entries_; }
  void Reset() { entries_.clear(); }

 private:
  std::deque<SlowLogEntry> entries_;
  uint64_t next_id_ = 0;
};

// Secrets never reach MONITOR or the slow log: AUTH's arguments, HELLO's AUTH user and password,
// and the value of CONFIG SET requirepass (Redis's redactClientCommandArgument).
bool IsRedactedArgument(const CommandSpec& cmd, CmdArgs args, size_t i);
inline constexpr std::string_view kRedacted = "(redacted)";

}  // namespace keyward
