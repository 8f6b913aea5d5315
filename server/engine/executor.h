// The executor: the one path every command takes, whoever calls it.
//
//   Call*(caller kind, client, argv)
//     gatekeeper (gatekeeper.h: which checks apply to which caller is decided there)
//     handler (Cmd*), writing its reply through the client's reply builder
//     after the handler: statistics, MONITOR, the slow log, the command's effects into the
//     propagation stream (an execution unit per top-level command), the client's reply
//     finished (CLIENT REPLY, output limits), then blocked clients whose keys became ready
//     are served, in the same event-loop turn.
//
// Entry points by caller: CallFromClient (a network client's input), CallNested (a script's
// redis.call, LOCK.GUARD's write, a queued command at EXEC: inside the caller's execution unit),
// Apply (AOF replay, the master's stream: silent and obeyed), ServeBlocked and RunUnit (the
// blocking registry's served waiters, timers).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "server/core/clock.h"
#include "server/core/settings.h"
#include "server/engine/blocking.h"
#include "server/engine/client_registry.h"
#include "server/engine/command.h"
#include "server/engine/gatekeeper.h"
#include "server/engine/latency.h"
#include "server/engine/monitor.h"
#include "server/engine/notifier.h"
#include "server/engine/output.h"
#include "server/engine/pause.h"
#include "server/engine/propagation.h"
#include "server/engine/registry.h"
#include "server/engine/server_state.h"
#include "server/engine/slowlog.h"
#include "server/engine/stats.h"
#include "server/engine/tracking.h"
#include "server/engine/transactions.h"
#include "server/keyspace/keyspace.h"

namespace keyward {

class CommandContext;
struct Services;

// The parts the executor drives; each is owned by the server.
struct ExecutorParts {
  Clock& clock;
  const ServerSettings& settings;
  Keyspace& keyspace;
  const CommandRegistry& registry;
  Gatekeeper& gatekeeper;
  ClientRegistry& clients;
  ReplyOutput& output;
  ClientPause& pause;
  ServerStats& stats;
  SlowLog& slowlog;
  MonitorFeed& monitors;
  Propagation& propagation;
  BlockingRegistry& blocking;
  KeyspaceNotifier& notifier;
  ServerState& state;
  Transactions& transactions;
  Tracking& tracking;
  LatencyMonitor& latency;
};

struct NestedOptions {
  bool read_only_script = false;  // kScript: EVAL_RO, FCALL_RO, a no-writes script
  bool replicate = true;          // redis.set_repl(REPL_NONE) turns propagation off
  bool* wrote = nullptr;          // set when the command is a write (busy scripts)
  bool allow_oom = false;         // a script declared allow-oom
};

class Executor {
 public:
  explicit Executor(ExecutorParts parts) : p_(parts) {}

  void set_services(Services* services) { services_ = services; }
  Services* services() const { return services_; }
  // The latency monitor, for the cron's expire-cycle samples.
  LatencyMonitor& latency() { return p_.latency; }

  // A command line from a network client's input.
  void CallFromClient(Client& c, CmdArgs args);
  // A command run inside `outer` for client `c` (its reply lands in c's output, in c's
  // protocol), within outer's execution unit. nullopt when it ran (its reply, error or not, is
  // in the output); otherwise the gatekeeper's refusal, and nothing was written.
  std::optional<std::string> CallNested(CallerKind kind, CommandContext& outer, Client& c,
                                        CmdArgs args, const NestedOptions& options = {});
  // A command of the AOF or of the master's stream: obeyed (only checked for being a known
  // command with the right arity), its reply discarded. nullopt when it ran, else the refusal.
  // The stream's MULTI ... EXEC applies what is between them as one execution unit. The
  // master's commands propagate on (to this server's own replicas); the AOF's do not.
  std::optional<std::string> Apply(CallerKind kind, Client& c, CmdArgs args);

  // Runs `fn` as an execution unit of its own (a timer), then serves what it made ready.
  void RunUnit(const std::function<void()>& fn);
  // A blocked client's turn: runs `fn` in a context for `c` running `cmd`, as an execution unit
  // of its own. When fn returns true (it wrote the client's reply), the reply is finished and
  // queued for a flush.
  bool ServeBlocked(Client& c, const CommandSpec& cmd,
                    const std::function<bool(CommandContext&)>& fn);
  // Whether blocked clients may be served now: not while a script is busy (other clients' commands
  // then run inside its execution) nor inside an execution unit.
  bool MayServeBlocked() const { return !p_.state.busy_script && !p_.propagation.in_unit(); }
  // A reply to `c` written by `write` outside its own input processing (a wait that timed out):
  // finished as any reply (CLIENT REPLY modes, limits) and queued for a flush.
  void ReplyDeferred(Client& c, const std::function<void()>& write);

  // Takes a new server-time snapshot for the next command.
  // The time commands judge expiry by, and whether an expired key may be deleted now (not while
  // writes are paused: a deletion is a write, and Redis 7.0 hides the key instead).
  void UpdateTime();

  Keyspace& keyspace() { return p_.keyspace; }
  Clock& clock() { return p_.clock; }
  ServerState& state() { return p_.state; }
  const ServerSettings& settings() const { return p_.settings; }
  Propagation& propagation() { return p_.propagation; }
  KeyspaceNotifier& notifier() { return p_.notifier; }
  BlockingRegistry& blocking() { return p_.blocking; }
  Transactions& transactions() { return p_.transactions; }
  Tracking& tracking() { return p_.tracking; }
  const CommandRegistry& registry() const { return p_.registry; }
  const Gatekeeper& gatekeeper() const { return p_.gatekeeper; }

 private:
  // The handler and everything after it. The reply goes to c's reply builder.
  void Run(CallerKind kind, Client& c, const CommandSpec& cmd, CmdArgs args, bool replicate);
  void Refuse(Client& c, const Verdict& verdict);
  // Client-side caching: after a read-only command run for `caller` (a network client), the keys
  // it read are remembered for the caller's invalidations.
  void RememberReadKeys(Client& caller, const CommandSpec& cmd, CmdArgs args);

  ExecutorParts p_;
  Services* services_ = nullptr;
  // Open MULTI ... EXEC of the stream being applied (Apply).
  int applying_transaction_ = 0;
};

}  // namespace keyward
