// The Lua 5.1 scripting engine behind EVAL, EVALSHA and SCRIPT, compatible with Redis 7.0's:
// - one Lua state for the server, recreated by SCRIPT FLUSH;
// - a sandbox: Redis 7.0's globals and libraries only (no os, io, debug, require, loadfile,
//   dofile, print), every library and the global table read-only ("Attempt to modify a
//   readonly table"), reading an unknown global an error;
// - the `redis` table: call, pcall, error_reply, status_reply, sha1hex, log and the LOG_*
//   levels, setresp, set_repl and REPL_*, replicate_commands, breakpoint/debug (no-ops),
//   acl_check_cmd, REDIS_VERSION, REDIS_VERSION_NUM; and cjson, bit, struct, cmsgpack;
// - scripts call commands through the same command table and handlers as clients, with the
//   script flags Redis enforces (noscript commands refused, writes refused in EVAL_RO);
// - type conversion both ways as Redis 7.0 does, in RESP2 and, after redis.setresp(3), RESP3
//   (lua_convert.cc).
// A script runs to completion on the server's thread: nothing else runs meanwhile.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "server/engine/command.h"
#include "server/scripting/script_flags.h"

struct lua_State;

namespace keyward {

class CommandContext;
class CaptureTransport;
class Client;
class Executor;

class LuaEngine {
 public:
  explicit LuaEngine(Executor& executor);
  ~LuaEngine();
  LuaEngine(const LuaEngine&) = delete;
  LuaEngine& operator=(const LuaEngine&) = delete;

  // EVAL / EVALSHA / EVAL_RO / EVALSHA_RO: args are the command's, starting with its name.
  // `by_sha`: args[1] is a SHA1 of a cached script. Replies through ctx.
  void Eval(CommandContext& ctx, CmdArgs args, bool by_sha, bool read_only);

  // SCRIPT LOAD: compiles and caches `body`; its SHA1 (hex), or the compile error text.
  std::string Load(std::string_view body, std::string* error);
  bool Exists(std::string_view sha) const;
  // SCRIPT FLUSH: forgets every script and starts a fresh Lua state.
  void Flush();

  size_t script_count() const { return scripts_.size(); }
  // The flags the script of an EVAL (its body) or an EVALSHA (its cached script) declares;
  // nothing for an unknown SHA1 or a malformed shebang (the command itself reports those).
  std::optional<ScriptFlags> FlagsOf(CmdArgs args, bool by_sha) const;
  // Memory used by the Lua state, in bytes (INFO used_memory_lua).
  int64_t memory_bytes() const;
  // Bytes the script cache holds outside the Lua state: each script's SHA1 key, body and cache
  // entry (INFO used_memory_scripts_eval).
  size_t cache_bytes() const;

 private:
  void CreateState();
  // Compiles `body` into the registry; its reference, or the error text.
  std::optional<std::string> Compile(std::string_view body, int* ref);

  struct CachedScript {
    std::string body;
    int ref;  // the compiled function, in the Lua registry
  };
  // Looked up with string_views (EVALSHA's argument) without building a std::string.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  Executor& executor_;
  lua_State* lua_ = nullptr;
  std::unordered_map<std::string, CachedScript, Hash, std::equal_to<>> scripts_;  // by SHA1
  std::unique_ptr<CaptureTransport> transport_;
  std::unique_ptr<Client> script_client_;  // runs redis.call's commands
};

// Checks a script's "#!lua flags=..." first line, if it has one: the error reply text, or
// nothing with *flags set (declared when there is a shebang).
std::optional<std::string> ParseShebang(std::string_view body, ScriptFlags* flags);

// SHA1 of `data` in lowercase hex (redis.sha1hex, script ids).
std::string Sha1Hex(std::string_view data);

}  // namespace keyward
