// MONITOR: every command a monitor should see, as one line, to every monitoring client.
#pragma once

#include <vector>

#include "server/engine/command.h"

namespace keyward {

class Client;
class Clock;
class ReplyOutput;

class MonitorFeed {
 public:
  MonitorFeed(Clock& clock, ReplyOutput& output) : clock_(clock), output_(output) {}

  void Add(Client& c);
  void Remove(Client& c);
  bool empty() const { return monitors_.empty(); }

  // "+1339518083.107412 [0 127.0.0.1:60866] "keys" "*"" to every monitor: a command of `c`,
  // run in database `db`. Commands a script runs show "lua" as their origin, as in Redis.
  void Feed(const Client& c, bool from_script, int db, const CommandSpec& cmd, CmdArgs args,
            const std::string& unixsocket);

 private:
  Clock& clock_;
  ReplyOutput& output_;
  std::vector<Client*> monitors_;
};

}  // namespace keyward
