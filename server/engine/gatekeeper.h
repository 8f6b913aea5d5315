// The gatekeeper: the checks every command passes before its handler runs, whoever calls it, in
// Redis 7.0's order (processCommand, and scriptCall for scripts):
//
//   lookup → arity → protected commands → authentication → not-in-MULTI → ACL →
//   guardable (LOCK.GUARD) → noscript → script writes → deny-oom → read-only replica →
//   RESP2 subscribed context → loading → busy script → CLIENT PAUSE → MULTI queueing
//
// Which checks apply to which caller is decided here, in one table (kChecks in gatekeeper.cc),
// never in a family. Caller kinds: a network client; a script's redis.call; LOCK.GUARD's
// guarded write; a queued MULTI command at EXEC; AOF replay; the master's replication stream.
// The last two must obey: they are only checked for being well-formed.
//
// Hooks for the checks of later issues (ACL, maxmemory) are slots that allow everything until
// their issue fills them; the loading and read-only-replica checks read ServerState, which
// persistence and replication set.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "server/core/settings.h"
#include "server/engine/command.h"
#include "server/engine/registry.h"
#include "server/engine/server_state.h"

namespace keyward {

class Client;
class ClientPause;
class ClientRegistry;
class Transactions;

enum class CallerKind : uint8_t {
  kClient,     // a network client's command line
  kScript,     // redis.call / redis.pcall
  kGuard,      // the write LOCK.GUARD runs
  kExec,       // a queued command, run by EXEC
  kAofReplay,  // a command of the AOF being loaded
  kMaster,     // a command of the master's replication stream
};

struct Verdict {
  enum Action : uint8_t {
    kRun,     // run the command
    kRefuse,  // refused: `error` says why (no '-', no CRLF)
    kHold,    // CLIENT PAUSE holds the client until the pause ends
    kQueue,   // inside MULTI: queue the command
  };
  Action action = kRun;
  const CommandSpec* cmd = nullptr;  // the command (a container's subcommand), once found
  uint32_t flags = 0;                // the flags it runs with (CommandSpec::FlagsFor)
  std::string error;
};

// What a caller adds to the checks.
struct GateOptions {
  bool read_only_script = false;  // kScript: EVAL_RO, FCALL_RO or a no-writes script
  bool script_wrote = false;      // kScript: the script has written already
  bool allow_oom = false;         // kScript: the script declared allow-oom
  // kScript: the client whose script runs the command (its user's permissions apply); the
  // checked client itself when null.
  const Client* origin = nullptr;
};

// Slots for the checks later issues bring. Empty: allowed.
struct GateHooks {
  // ACL: the error text when the user of `origin` (the client, or the one whose script runs
  // the command) may not run it, worded for the caller kind (NOPERM ...).
  std::function<std::optional<std::string>(CallerKind, const Client& origin, const CommandSpec&,
                                           CmdArgs)>
      acl;
  // maxmemory: evicts what the policy allows, then says whether memory is still over the
  // limit. Run before every command of a client.
  std::function<bool()> out_of_memory;
  // Persistence: the -MISCONF text while writes are refused because saving to disk failed.
  std::function<std::optional<std::string>()> disk_error;
};

class Gatekeeper {
 public:
  Gatekeeper(const CommandRegistry& registry, const ServerSettings& settings,
             const ServerState& state, const ClientRegistry& clients, const ClientPause& pause,
             const Transactions& transactions)
      : registry_(registry),
        settings_(settings),
        state_(state),
        clients_(clients),
        pause_(pause),
        transactions_(transactions) {}

  GateHooks& hooks() { return hooks_; }
  // For commands whose flags depend on their arguments (EVAL, FCALL).
  void set_services(Services* services) { services_ = services; }

  // The verdict on `args` from a caller of `kind` on behalf of client `c`, at server time
  // `now_ms` (CLIENT PAUSE deadlines).
  Verdict Check(CallerKind kind, const Client& c, CmdArgs args, int64_t now_ms,
                const GateOptions& options = {}) const;

 private:
  const CommandRegistry& registry_;
  const ServerSettings& settings_;
  const ServerState& state_;
  const ClientRegistry& clients_;
  const ClientPause& pause_;
  const Transactions& transactions_;
  Services* services_ = nullptr;
  GateHooks hooks_;
  // Whether the client command running now found memory over the limit (for its scripts).
  mutable bool command_oom_ = false;
};

}  // namespace keyward
