#include "server/engine/gatekeeper.h"

#include "server/core/errors.h"
#include "server/core/strings.h"
#include "server/engine/client.h"
#include "server/engine/client_registry.h"
#include "server/engine/pause.h"
#include "server/engine/transactions.h"

namespace keyward {

namespace {

enum class Check : uint8_t {
  kProtected,        // DEBUG / MODULE without enable-debug-command / enable-module-command
  kAuth,             // requirepass and no AUTH yet
  kNotInMulti,       // no_multi commands inside MULTI
  kAcl,              // the user's permissions (server/acl/ fills the hook)
  kGuardable,        // LOCK.GUARD runs writes only, none that blocks, guards or scripts
  kNoScript,         // noscript commands from a script
  kScriptWrite,      // writes (and may-replicate commands) from a read-only script
  kDenyOom,          // deny-oom commands over maxmemory (the eviction issue fills the hook)
  kDiskError,        // writes (and PING) while saving to disk fails: -MISCONF
  kNoReplicas,       // writes on a master with fewer good replicas than min-replicas-to-write
  kReadOnlyReplica,  // writes on a read-only replica
  kMasterDown,       // a replica whose link is down with replica-serve-stale-data off
  kSubscribedResp2,  // a RESP2 connection in subscribed mode runs pub/sub commands only
  kLoading,          // while loading, only commands flagged loading
  kBusyScript,       // a script past busy-reply-threshold: allow_busy commands only
  kPause,            // CLIENT PAUSE holds the command
  kMultiQueue,       // inside MULTI: queued
};

constexpr uint8_t Bit(CallerKind k) { return static_cast<uint8_t>(1u << static_cast<uint8_t>(k)); }
constexpr uint8_t kClient = Bit(CallerKind::kClient);
constexpr uint8_t kScript = Bit(CallerKind::kScript);
constexpr uint8_t kGuard = Bit(CallerKind::kGuard);
constexpr uint8_t kExec = Bit(CallerKind::kExec);

// Which checks apply to which caller, in the order they run. Lookup and arity come first for
// everyone (AOF replay and the master's stream get nothing else: they must obey).
struct CheckRow {
  Check check;
  uint8_t callers;
};
// A check may have two rows when callers run it at different points (a script checks writes
// before memory, a client memory before writes: processCommand and scriptCall differ).
constexpr CheckRow kChecks[] = {
    {Check::kProtected, kClient},
    {Check::kAuth, kClient},
    {Check::kNotInMulti, kClient},
    {Check::kGuardable, kGuard},
    {Check::kNoScript, kScript},
    {Check::kAcl, kClient | kScript | kGuard | kExec},
    {Check::kScriptWrite, kScript},
    {Check::kReadOnlyReplica, kScript},
    {Check::kDiskError, kScript},
    {Check::kNoReplicas, kScript},
    // (A guarded write is not checked again: LOCK.GUARD was, as the command that runs it.)
    {Check::kDenyOom, kClient | kScript},
    {Check::kMasterDown, kScript},
    {Check::kDiskError, kClient | kGuard},
    {Check::kNoReplicas, kClient | kGuard},
    {Check::kReadOnlyReplica, kClient | kGuard},
    {Check::kSubscribedResp2, kClient},
    {Check::kMasterDown, kClient},
    {Check::kLoading, kClient},
    {Check::kBusyScript, kClient},
    {Check::kPause, kClient},
    {Check::kMultiQueue, kClient},
};

// The commands a RESP2 connection in subscribed mode may run (Redis's processCommand list).
bool AllowedWhileSubscribed(const CommandSpec& cmd) {
  static constexpr std::string_view kAllowed[] = {"subscribe",    "ssubscribe", "unsubscribe",
                                                  "sunsubscribe", "psubscribe", "punsubscribe",
                                                  "ping",         "quit",       "reset"};
  for (std::string_view name : kAllowed) {
    if (cmd.full_name() == name) return true;
  }
  return false;
}

// The commands MULTI does not queue.
bool RunsInsideMulti(const CommandSpec& cmd) {
  static constexpr std::string_view kRun[] = {"exec", "discard", "multi", "watch", "quit", "reset"};
  for (std::string_view name : kRun) {
    if (cmd.full_name() == name) return true;
  }
  return false;
}

Verdict Refuse(const CommandSpec* cmd, std::string error) {
  return Verdict{Verdict::kRefuse, cmd, 0, std::move(error)};
}

}  // namespace

Verdict Gatekeeper::Check(CallerKind kind, const Client& c, CmdArgs args, int64_t now_ms,
                          const GateOptions& options) const {
  const bool script = kind == CallerKind::kScript;
  // What the AOF and the master's stream run obeys: no maxmemory verdict carries into the
  // scripts they replay.
  if (kind == CallerKind::kAofReplay || kind == CallerKind::kMaster) command_oom_ = false;
  // Lookup and arity. A container dispatches on its subcommand, which has its own arity; a
  // script resolves both at once and words its errors its own way.
  const CommandSpec* cmd = registry_.Find(args[0]);
  if (cmd != nullptr && cmd->is_container() && !(args.size() == 1 && cmd->handler())) {
    if (args.size() == 1) {
      return Refuse(cmd, script ? std::string(errors::kScriptWrongArgs)
                                : errors::WrongArgs(cmd->full_name()));
    }
    const CommandSpec* sub = cmd->FindSubcommand(args[1]);
    if (sub == nullptr) {
      return Refuse(script ? nullptr : cmd, script
                                                ? std::string(errors::kScriptUnknownCommand)
                                                : errors::UnknownSubcommand(cmd->name(), args[1]));
    }
    cmd = sub;
  }
  if (cmd == nullptr) {
    return Refuse(nullptr, script
                               ? std::string(errors::kScriptUnknownCommand)
                               : errors::UnknownCommand(args[0], args.data() + 1, args.size() - 1));
  }
  if (!cmd->ArityOk(args.size())) {
    return Refuse(
        cmd, script ? std::string(errors::kScriptWrongArgs) : errors::WrongArgs(cmd->full_name()));
  }
  // EVAL and FCALL run with the flags their script declares; EXEC with those of what it runs.
  uint32_t flags = cmd->FlagsFor(args, services_);
  if (c.has(Client::kMulti) && cmd->full_name() == "exec") {
    flags = transactions_.ExecFlags(c, flags);
  }
  auto has = [flags](uint32_t f) { return (flags & f) != 0; };

  const uint8_t caller = Bit(kind);
  for (const CheckRow& row : kChecks) {
    if ((row.callers & caller) == 0) continue;
    switch (row.check) {
      case Check::kProtected:
        if (cmd->has(CO::kProtected)) {
          // Only DEBUG is protected here (Keyward has no MODULE command).
          const auto mode = static_cast<DebugCommand>(settings_.enable_debug_command);
          const bool local = c.transport()->is_loopback() || c.transport()->is_unix();
          if (mode == DebugCommand::kNo || (mode == DebugCommand::kLocal && !local)) {
            return Refuse(cmd, errors::ProtectedCommand("DEBUG", "enable-debug-command"));
          }
        }
        break;
      case Check::kAuth:
        if (clients_.AuthRequired(c) && !cmd->has(CO::kNoAuth)) {
          return Refuse(cmd, std::string(errors::kNoAuth));
        }
        break;
      case Check::kNotInMulti:
        if (c.has(Client::kMulti) && cmd->has(CO::kNoMulti)) {
          return Refuse(cmd, std::string(errors::kNotAllowedInMulti));
        }
        break;
      case Check::kAcl:
        if (hooks_.acl) {
          const Client& origin = options.origin != nullptr ? *options.origin : c;
          if (auto denied = hooks_.acl(kind, origin, *cmd, args)) {
            return Refuse(cmd, std::move(*denied));
          }
        }
        break;
      case Check::kGuardable:
        // LOCK.GUARD's own command is the one flagged movable keys among the writes that run
        // others; it may not guard itself.
        if (!has(CO::kWrite) || has(CO::kBlocking) || has(CO::kNoScript) ||
            cmd->full_name() == "lock.guard") {
          return Refuse(cmd, errors::GuardNotAWrite(cmd->full_name()));
        }
        break;
      case Check::kNoScript:
        if (has(CO::kNoScript)) return Refuse(cmd, std::string(errors::kScriptNoScript));
        break;
      case Check::kScriptWrite:
        // Scripts count may-replicate commands (PUBLISH) as writes, as Redis 7.0 does.
        if (options.read_only_script && (has(CO::kWrite) || has(CO::kMayReplicate))) {
          return Refuse(cmd, std::string(errors::kScriptWriteInReadOnly));
        }
        break;
      case Check::kDenyOom: {
        if (!hooks_.out_of_memory) break;
        bool oom;
        if (kind == CallerKind::kClient && state_.busy_script) {
          // Another client served while a script runs: nothing is evicted under the script
          // (Redis's isSafeToPerformEvictions), and its verdict stays the script's.
          oom = false;
        } else if (kind == CallerKind::kClient) {
          // Over maxmemory, keys are evicted before every command of a client, not only before
          // those that may use memory (processCommand). The verdict holds for what the command
          // runs: its scripts' calls and its guarded write.
          oom = hooks_.out_of_memory();
          command_oom_ = oom;
        } else {
          // A script is refused a write only before its first one: refusing one after would
          // break its atomicity; and never when it declared allow-oom (Redis's scriptVerifyOOM).
          oom = command_oom_ && !options.script_wrote && !options.allow_oom;
        }
        // Inside MULTI every queued command is refused over the limit, as in Redis (only EXEC,
        // DISCARD, QUIT and RESET are not).
        const bool queued = c.has(Client::kMulti) && !RunsInsideMulti(*cmd);
        if ((has(CO::kDenyOom) || queued) && oom) return Refuse(cmd, std::string(errors::kOom));
        break;
      }
      case Check::kDiskError:
        // Redis's writeCommandsDeniedByDiskError: writes, and PING from a client (so that a
        // health check notices), are refused; a script's PING is not.
        if ((has(CO::kWrite) || (kind == CallerKind::kClient && cmd->full_name() == "ping")) &&
            hooks_.disk_error) {
          if (auto error = hooks_.disk_error()) return Refuse(cmd, std::move(*error));
        }
        break;
      case Check::kNoReplicas:
        // Redis's checkGoodReplicasStatus: masters only, and only with both options set.
        if (has(CO::kWrite) && !state_.replica && settings_.min_replicas_to_write > 0 &&
            settings_.min_replicas_max_lag > 0 &&
            state_.good_replicas < settings_.min_replicas_to_write) {
          return Refuse(cmd, std::string(errors::kNoReplicas));
        }
        break;
      case Check::kReadOnlyReplica:
        if (state_.replica && settings_.replica_read_only && has(CO::kWrite)) {
          return Refuse(cmd, std::string(errors::kReadOnlyReplica));
        }
        break;
      case Check::kMasterDown:
        if (state_.replica && !state_.master_link_up && !settings_.replica_serve_stale_data &&
            !has(CO::kStale)) {
          return Refuse(cmd,
                        std::string(script ? errors::kScriptStaleReplica : errors::kMasterDown));
        }
        break;
      case Check::kSubscribedResp2:
        // A RESP2 connection with a subscription is a message stream: only the pub/sub commands,
        // PING, QUIT and RESET make sense on it (RESP3 can interleave replies and pushes).
        if (c.resp == 2 && c.subscribed() && !AllowedWhileSubscribed(*cmd)) {
          return Refuse(cmd, errors::NotAllowedWhileSubscribed(cmd->full_name()));
        }
        break;
      case Check::kLoading:
        if (state_.loading && !has(CO::kLoading)) {
          return Refuse(cmd, std::string(errors::kLoading));
        }
        if (state_.async_loading && has(CO::kNoAsyncLoading)) {
          return Refuse(cmd, std::string(errors::kLoading));
        }
        break;
      case Check::kBusyScript:
        if (state_.busy_script && state_.busy_script->runner != &c && !has(CO::kAllowBusy)) {
          return Refuse(cmd, std::string(state_.busy_script->function ? errors::kBusyFunction
                                                                      : errors::kBusyScript));
        }
        break;
      case Check::kPause:
        // Replicas are never paused (their ACKs keep WAIT and min-replicas going).
        if (!c.has(Client::kMonitor | Client::kReplica) && pause_.Holds(flags, now_ms)) {
          return Verdict{Verdict::kHold, cmd, flags, {}};
        }
        break;
      case Check::kMultiQueue:
        if (c.has(Client::kMulti) && !RunsInsideMulti(*cmd)) {
          return Verdict{Verdict::kQueue, cmd, flags, {}};
        }
        break;
    }
  }
  return Verdict{Verdict::kRun, cmd, flags, {}};
}

}  // namespace keyward
