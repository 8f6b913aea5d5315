// Redis 7.0 functions: libraries of named Lua functions loaded with FUNCTION LOAD and called
// with FCALL / FCALL_RO, on a Lua state of their own (SCRIPT FLUSH does not touch them; FUNCTION
// FLUSH does not touch EVAL's scripts).
//
// A library's code starts with "#!lua name=<library>". It runs once at load time in a minimal
// environment: the only global is `redis`, with register_function, log and the LOG_* levels.
// Each redis.register_function(name, callback) or
// redis.register_function{function_name=..., callback=..., flags={...}, description=...} adds
// a function. Loading is all or nothing: a library that fails to load changes nothing. Once
// loaded, the callbacks run in the same sandbox as EVAL scripts, as callback(keys, args).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/engine/command.h"
#include "server/scripting/script_flags.h"

struct lua_State;

namespace keyward {

class Client;
class CommandContext;
class CaptureTransport;
class Executor;

class FunctionEngine {
 public:
  struct Function {
    std::string name;
    std::string library;
    std::optional<std::string> description;
    std::vector<std::string> flags;  // no-writes, allow-oom, allow-stale, no-cluster, ...
    int ref = 0;                     // the callback, in the Lua registry
    bool no_writes() const;
  };
  struct Library {
    std::string name;
    std::string code;
    std::map<std::string, Function> functions;
  };

  explicit FunctionEngine(Executor& executor);
  ~FunctionEngine();
  FunctionEngine(const FunctionEngine&) = delete;
  FunctionEngine& operator=(const FunctionEngine&) = delete;

  // FUNCTION LOAD [REPLACE]: the library's name, or the error text (with its code).
  std::string Load(std::string_view code, bool replace, std::string* error);
  // FUNCTION DELETE: false when there is no such library.
  bool Delete(std::string_view library);
  // FUNCTION FLUSH: every library, and a fresh Lua state.
  void Flush();
  // FUNCTION DUMP: every library as an RDB payload (opcode, code; version; CRC64).
  std::string Dump() const;
  // FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]: empty on success, else the error text.
  // All or nothing: on any failure the libraries are as before.
  enum class RestorePolicy { kFlush, kAppend, kReplace };
  std::string Restore(std::string_view payload, RestorePolicy policy);
  // FCALL / FCALL_RO: replies through ctx.
  void Call(CommandContext& ctx, CmdArgs args, bool read_only);

  const std::map<std::string, Library>& libraries() const { return libraries_; }
  // The flags of the function FCALL names (args[1]); nothing for an unknown function.
  std::optional<ScriptFlags> FlagsOf(CmdArgs args) const;
  size_t function_count() const { return functions_.size(); }
  size_t library_count() const { return libraries_.size(); }
  // Memory used by the functions' Lua state, in bytes (INFO used_memory_vm_functions).
  int64_t memory_bytes() const;
  // Bytes the libraries hold outside the Lua state: names, code, function records (INFO
  // used_memory_functions).
  size_t cache_bytes() const;

 private:
  void CreateState();

  Executor& executor_;
  lua_State* lua_ = nullptr;
  std::map<std::string, Library> libraries_;      // by name
  std::map<std::string, std::string> functions_;  // function name -> library name
  std::unique_ptr<CaptureTransport> transport_;
  std::unique_ptr<Client> script_client_;
};

}  // namespace keyward
