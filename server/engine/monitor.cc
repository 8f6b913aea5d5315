#include "server/engine/monitor.h"

#include <algorithm>
#include <cstdio>

#include "server/core/clock.h"
#include "server/core/strings.h"
#include "server/engine/client.h"
#include "server/engine/output.h"
#include "server/engine/slowlog.h"

namespace keyward {

void MonitorFeed::Add(Client& c) {
  if (std::find(monitors_.begin(), monitors_.end(), &c) == monitors_.end()) {
    monitors_.push_back(&c);
  }
  c.flags |= Client::kMonitor;
}

void MonitorFeed::Remove(Client& c) {
  monitors_.erase(std::remove(monitors_.begin(), monitors_.end(), &c), monitors_.end());
  c.flags &= ~Client::kMonitor;
}

void MonitorFeed::Feed(const Client& c, bool from_script, int db, const CommandSpec& cmd,
                       CmdArgs args, const std::string& unixsocket) {
  char head[96];
  const int64_t us = clock_.NowUs();
  std::string origin;
  if (from_script) {
    origin = "lua";
  } else if (c.has(Client::kUnixSocket)) {
    origin = "unix:" + unixsocket;
  } else {
    origin = c.transport()->peer_address();
  }
  std::snprintf(head, sizeof(head), "+%lld.%06lld [%d ", static_cast<long long>(us / 1000000),
                static_cast<long long>(us % 1000000), db);
  std::string line = head + origin + "]";
  for (size_t i = 0; i < args.size(); i++) {
    line += " ";
    line += Repr(IsRedactedArgument(cmd, args, i) ? kRedacted : args[i]);
  }
  line += "\r\n";
  // A client on its way out gets nothing more (Redis's prepareClientToWrite): a monitor that
  // sent QUIT sees +OK, not its own QUIT. SendToOther skips those.
  for (Client* m : monitors_) output_.SendToOther(*m, line);
}

}  // namespace keyward
