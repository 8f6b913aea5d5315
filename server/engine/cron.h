// Timers and the cron: the server's own work, outside any client's command.
//
// - RunTimers: the host's alarm fired; every timer now due runs as an execution unit of its own.
// - Tick, at `hz`: active expiry (each expired key deleted and propagated on its own), incremental
//   rehashing, idle clients (timeout), the end of a CLIENT PAUSE, the periodic jobs of the parts
//   above the engine (the lock manager's record trimming), timers the host missed, and the
//   instantaneous ops/sec sample, and each client's query buffer sized to what it uses.
// Neither runs while a script is busy: nothing may change what it reads.
#pragma once

#include <functional>
#include <vector>

#include "server/core/clock.h"
#include "server/core/settings.h"
#include "server/engine/blocking.h"
#include "server/engine/client_registry.h"
#include "server/engine/executor.h"
#include "server/engine/output.h"
#include "server/engine/pause.h"
#include "server/engine/server_state.h"
#include "server/engine/stats.h"
#include "server/engine/timers.h"
#include "server/keyspace/keyspace.h"

namespace keyward {

class Cron {
 public:
  struct Parts {
    Clock& clock;
    const ServerSettings& settings;
    ServerState& state;
    Keyspace& keyspace;
    ClientRegistry& clients;
    ClientPause& pause;
    ServerStats& stats;
    ReplyOutput& output;
    Executor& executor;
    BlockingRegistry& blocking;
    Timers& timers;
  };
  explicit Cron(Parts parts) : p_(parts) {}

  // Periodic work of a part above the engine, run at every tick.
  void AddJob(std::function<void()> job) { jobs_.push_back(std::move(job)); }

  void Tick();
  void RunTimers();
  // Redis's clientsCronResizeQueryBuffer: a buffer wasting more than 4 KB shrinks, entirely
  // when its client has been idle for more than 2 s, to its recent peak when it is over 32 KB
  // and more than twice that peak.
  static void ResizeQueryBuffer(Client& c, int64_t now_ms);

  // DEBUG SET-ACTIVE-EXPIRE.
  bool active_expire_enabled = true;

 private:
  Parts p_;
  std::vector<std::function<void()>> jobs_;
};

}  // namespace keyward
