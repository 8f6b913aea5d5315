// What EVAL scripts and FUNCTION libraries share: the sandboxed Lua state with Redis 7.0's
// libraries and redis.* API, the connection redis.call runs commands on, and the protected call
// that turns a script's result or error into the caller's reply. Private to server/scripting/.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/engine/capture_transport.h"
#include "server/engine/command.h"
#include "server/scripting/script_flags.h"

struct lua_State;

namespace keyward {

class Client;
class CommandContext;

// The connection redis.call runs its commands on: no socket, output captured in a string.
using ScriptTransport = CaptureTransport;

// The script being run, for the redis.* functions.
struct ScriptRun {
  Client* script_client = nullptr;  // redis.call's commands run on it
  CommandContext* ctx = nullptr;    // the EVAL's or FCALL's
  bool read_only = false;           // *_RO commands, or a no-writes script or function
  bool allow_oom = false;           // declared allow-oom: its writes run over maxmemory
  bool function = false;            // FCALL: FUNCTION KILL stops it, FUNCTION STATS shows it
  CmdArgs command{};                // the EVAL or FCALL arguments
  int resp = 2;                     // redis.setresp
  bool replicate = true;            // redis.set_repl: REPL_NONE stops propagation
  // Busy-script state (see RunProtected).
  int64_t start_us = 0;
  bool busy = false;   // past busy-reply-threshold: other clients get BUSY
  bool wrote = false;  // ran a write command: SCRIPT KILL refuses
  bool kill = false;   // SCRIPT KILL / FUNCTION KILL asked for it
};

// A fresh state with the sandbox: Redis 7.0's globals and libraries only, every library table
// and the global table read-only, unknown globals an error. Scripts compiled in it see the
// read-only globals.
lua_State* NewSandboxState();

// math.random's generator back to its start (before every EVAL, as Redis does).
void ResetScriptRandom();
// The real (writable) globals table, pushed: for KEYS and ARGV.
void PushRealGlobals(lua_State* L);
// A Lua array of `values`, pushed.
void PushStringArray(lua_State* L, CmdArgs values);

// Calls the function below its `nargs` arguments on the top of the stack as `run`, and replies
// through run.ctx: the converted result, or the error as Redis formats it
// ("<err> script: <name>, on <source>:<line>."). Leaves the stack empty.
//
// A script still running after busy-reply-threshold becomes the server's busy script: every
// 100,000 Lua instructions a hook lets the event loop serve other clients (who get -BUSY
// except for SCRIPT KILL, FUNCTION KILL, SHUTDOWN ...), and stops the script with an error when
// it was killed or the server is shutting down.
void RunProtected(lua_State* L, ScriptRun& run, int nargs, std::string_view name);

// Error handler for lua_pcall: turns any error into {err, source, line} (Redis's
// __redis__err__handler).
int SandboxErrorHandler(lua_State* L);
// Raises "Script attempted to access nonexistent global variable '<name>'" at the caller's line.
int RaiseNonexistentGlobal(lua_State* L, const char* name);
// Raises "Attempt to modify a readonly table" at the caller's line.
int RaiseReadOnly(lua_State* L);
// redis.log, for the load-time environment of function libraries.
int SandboxRedisLog(lua_State* L);
// Raises {err = NormalizeError(message)}.
int RaiseError(lua_State* L, std::string_view message);

// The `numkeys` of EVAL-like commands (args[2]): the count, or nothing after replying the
// error (`not_integer` when it is not a number; EVAL and FCALL word that one differently).
std::optional<size_t> ParseNumKeys(CommandContext& ctx, CmdArgs args, std::string_view not_integer);
// A script's code as compiled: a "#!..." first line is blanked, not removed, so line numbers
// stay those of the text. Points into `code` or into `*storage`.
std::string_view CodeWithoutShebang(std::string_view code, std::string* storage);

// Redis's error normalisation ("-CODE msg", "-msg", "msg": see sandbox.cc).
std::string NormalizeError(std::string_view text);

}  // namespace keyward
