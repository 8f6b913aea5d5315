// What the server asks of the process that hosts it (main.cc's event loop; nothing in tests):
// shut down, defer a task, serve other connections while a script is busy, wake at a deadline.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "server/net/transport.h"

namespace keyward {

class ServerHost {
 public:
  virtual ~ServerHost() = default;
  virtual void RequestShutdown() = 0;
  // Defer a task to the next event loop iteration.
  virtual void Post(std::function<void()> task) = 0;
  // Serves other connections' ready input once, without blocking, while a script runs past
  // busy-reply-threshold (Redis's processEventsWhileBlocked). Timers do not run.
  virtual void ProcessEventsWhileBusy() {}
  // Asks for Timers::RunDue() after `delay_us` microseconds; a later request replaces an
  // earlier one (the timers always ask for their earliest deadline).
  virtual void ArmTimer(int64_t delay_us) {}
  // Holds every connection's output until ReleaseOutput: replies to writes wait for the AOF to
  // be written (and synced, when it must be) first. The holder posts the task that releases it.
  virtual void HoldOutput() {}
  virtual void ReleaseOutput() {}
  // Opens a TCP connection (a replica to its master), from the local address `source` when
  // one is given and can be bound (bind-source-addr): connected, it gets its session from
  // `factory`; failed, `failed` gets the reason. The returned function cancels an attempt in
  // progress. Without a network (tests) it fails at once.
  virtual std::function<void()> Connect(const std::string& host, int port,
                                        const std::string& source, net::SessionFactory factory,
                                        std::function<void(const std::string& error)> failed) {
    failed("no network");
    return [] {};
  }
};

}  // namespace keyward
