#include "server/scripting/function_engine.h"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

#include <algorithm>
#include <cctype>
#include <cstring>

#include "server/core/errors.h"
#include "server/core/strings.h"
#include "server/engine/context.h"
#include "server/engine/executor.h"
#include "server/persistence/rdb_codec.h"
#include "server/scripting/sandbox.h"

namespace keyward {
namespace {

constexpr const char* kChunkName = "@user_function";
// Registry keys: the library being loaded (light userdata, null outside FUNCTION LOAD), the
// load-time `redis` table, and the environment proxy of every library's code.
constexpr const char* kRegistryLoading = "__keyward_loading";
constexpr const char* kRegistryLoadRedis = "__keyward_load_redis";

constexpr std::string_view kKnownFlags[] = {"no-writes", "allow-oom", "allow-stale", "no-cluster",
                                            "allow-cross-slot-keys"};

bool ValidName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

FunctionEngine::Library* Loading(lua_State* L) {
  lua_getfield(L, LUA_REGISTRYINDEX, kRegistryLoading);
  auto* library = static_cast<FunctionEngine::Library*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  return library;
}

// __index of a library's environment: while its code loads, only `redis` (the load-time table)
// exists; afterwards its functions see the sandbox's globals, like EVAL scripts.
int LibraryEnvIndex(lua_State* L) {
  const char* name = lua_tostring(L, 2);
  if (Loading(L) != nullptr) {
    if (name != nullptr && std::strcmp(name, "redis") == 0) {
      lua_getfield(L, LUA_REGISTRYINDEX, kRegistryLoadRedis);
      return 1;
    }
    return RaiseNonexistentGlobal(L, name);
  }
  PushRealGlobals(L);
  lua_pushvalue(L, 2);
  lua_rawget(L, -2);
  if (!lua_isnil(L, -1)) return 1;
  return RaiseNonexistentGlobal(L, name);
}

int LibraryEnvNewIndex(lua_State* L) { return RaiseReadOnly(L); }

// The load-time redis table's __index: a missing field is reported like a missing global.
int LoadRedisIndex(lua_State* L) { return RaiseNonexistentGlobal(L, lua_tostring(L, 2)); }

// redis.register_function(name, callback) or redis.register_function{function_name=...,
// callback=..., flags={...}, description=...}. Returns the error text, or nullptr when the
// function was added. The C++ objects live only in here: the caller raises the Lua error, and
// lua_error longjmps past C++ destructors. The texts are the errors:: constants without their
// code (RaiseError adds "ERR " back); a constant's suffix is NUL-terminated.
const char* Register(lua_State* L, FunctionEngine::Library* library) {
  FunctionEngine::Function f;
  f.library = library->name;
  const int argc = lua_gettop(L);
  if (argc == 1 && lua_istable(L, 1)) {
    bool have_callback = false;
    lua_pushnil(L);
    while (lua_next(L, 1) != 0) {
      const char* key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : nullptr;
      if (key != nullptr && std::strcmp(key, "function_name") == 0 &&
          lua_type(L, -1) == LUA_TSTRING) {
        f.name = lua_tostring(L, -1);
      } else if (key != nullptr && std::strcmp(key, "callback") == 0 && lua_isfunction(L, -1)) {
        lua_pushvalue(L, -1);
        f.ref = luaL_ref(L, LUA_REGISTRYINDEX);
        have_callback = true;
      } else if (key != nullptr && std::strcmp(key, "description") == 0 &&
                 lua_type(L, -1) == LUA_TSTRING) {
        f.description = lua_tostring(L, -1);
      } else if (key != nullptr && std::strcmp(key, "flags") == 0 && lua_istable(L, -1)) {
        for (int i = 1;; i++) {
          lua_rawgeti(L, -1, i);
          if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            break;
          }
          const char* flag = lua_tostring(L, -1);
          const bool known =
              flag != nullptr && std::find(std::begin(kKnownFlags), std::end(kKnownFlags),
                                           std::string_view(flag)) != std::end(kKnownFlags);
          if (!known) {
            if (have_callback) luaL_unref(L, LUA_REGISTRYINDEX, f.ref);
            return errors::WithoutCode(errors::kRegisterUnknownFlag).data();
          }
          f.flags.emplace_back(flag);
          lua_pop(L, 1);
        }
      } else {
        if (have_callback) luaL_unref(L, LUA_REGISTRYINDEX, f.ref);
        return errors::WithoutCode(errors::kRegisterUnknownArg).data();
      }
      lua_pop(L, 1);
    }
    if (f.name.empty() && !have_callback) {
      return errors::WithoutCode(errors::kRegisterNoName).data();
    }
    if (!have_callback) return errors::WithoutCode(errors::kRegisterNoCallback).data();
    if (f.name.empty()) {
      luaL_unref(L, LUA_REGISTRYINDEX, f.ref);
      return errors::WithoutCode(errors::kRegisterNoName).data();
    }
  } else if (argc == 2) {
    if (lua_type(L, 1) != LUA_TSTRING) {
      return errors::WithoutCode(errors::kRegisterNameType).data();
    }
    if (!lua_isfunction(L, 2)) {
      return errors::WithoutCode(errors::kRegisterCallbackType).data();
    }
    f.name = lua_tostring(L, 1);
    lua_pushvalue(L, 2);
    f.ref = luaL_ref(L, LUA_REGISTRYINDEX);
  } else {
    return errors::WithoutCode(errors::kRegisterArgCount).data();
  }
  // Redis's own text, library wording included.
  if (!ValidName(f.name)) {
    luaL_unref(L, LUA_REGISTRYINDEX, f.ref);
    return errors::WithoutCode(errors::kInvalidLibraryName).data();
  }
  if (library->functions.count(f.name) != 0) {
    luaL_unref(L, LUA_REGISTRYINDEX, f.ref);
    return errors::WithoutCode(errors::kFunctionExistsInLibrary).data();
  }
  std::string name = f.name;
  library->functions.emplace(std::move(name), std::move(f));
  return nullptr;
}

int RegisterFunction(lua_State* L) {
  FunctionEngine::Library* library = Loading(L);
  const char* error = library == nullptr ? errors::WithoutCode(errors::kRegisterOutsideLoad).data()
                                         : Register(L, library);
  if (error != nullptr) return RaiseError(L, error);
  return 0;
}

void ReleaseRefs(lua_State* L, const FunctionEngine::Library& library) {
  for (const auto& [name, f] : library.functions) luaL_unref(L, LUA_REGISTRYINDEX, f.ref);
}

}  // namespace

bool FunctionEngine::Function::no_writes() const {
  return std::find(flags.begin(), flags.end(), "no-writes") != flags.end();
}

FunctionEngine::FunctionEngine(Executor& executor)
    : executor_(executor), transport_(std::make_unique<ScriptTransport>()) {
  script_client_ = std::make_unique<Client>(0, transport_.get(), executor_.keyspace().now_ms());
  script_client_->authenticated = true;
  script_client_->flags |= Client::kScript;
  CreateState();
}

FunctionEngine::~FunctionEngine() {
  if (lua_ != nullptr) lua_close(lua_);
}

int64_t FunctionEngine::memory_bytes() const {
  return static_cast<int64_t>(lua_gc(lua_, LUA_GCCOUNT, 0)) * 1024 + lua_gc(lua_, LUA_GCCOUNTB, 0);
}

size_t FunctionEngine::cache_bytes() const {
  // Each std::map node is the pair plus three links and a color (four words).
  constexpr size_t kNode = 4 * sizeof(void*);
  auto heap = [](const std::string& s) {
    return s.capacity() >= sizeof(std::string) ? s.capacity() + 1 : 0;  // not inline (SSO)
  };
  size_t bytes = 0;
  for (const auto& [name, lib] : libraries_) {
    bytes += kNode + sizeof(std::pair<const std::string, Library>) + heap(name) + heap(lib.name) +
             heap(lib.code);
    for (const auto& [fname, f] : lib.functions) {
      bytes += kNode + sizeof(std::pair<const std::string, Function>) + heap(fname) + heap(f.name) +
               heap(f.library) + (f.description ? heap(*f.description) : 0);
      for (const auto& flag : f.flags) bytes += sizeof(std::string) + heap(flag);
    }
  }
  for (const auto& [fname, lname] : functions_) {
    bytes += kNode + sizeof(std::pair<const std::string, std::string>) + heap(fname) + heap(lname);
  }
  return bytes;
}

void FunctionEngine::CreateState() {
  if (lua_ != nullptr) lua_close(lua_);
  lua_State* L = lua_ = NewSandboxState();
  // The load-time redis table: register_function, log and the log levels, nothing else.
  lua_newtable(L);
  lua_pushcfunction(L, RegisterFunction);
  lua_setfield(L, -2, "register_function");
  lua_pushcfunction(L, SandboxRedisLog);
  lua_setfield(L, -2, "log");
  const std::pair<const char*, int> kLevels[] = {
      {"LOG_DEBUG", 0}, {"LOG_VERBOSE", 1}, {"LOG_NOTICE", 2}, {"LOG_WARNING", 3}};
  for (auto [name, level] : kLevels) {
    lua_pushnumber(L, level);
    lua_setfield(L, -2, name);
  }
  lua_newtable(L);
  lua_pushcfunction(L, LoadRedisIndex);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, LibraryEnvNewIndex);
  lua_setfield(L, -2, "__newindex");
  lua_setmetatable(L, -2);
  lua_setfield(L, LUA_REGISTRYINDEX, kRegistryLoadRedis);
}

std::string FunctionEngine::Load(std::string_view code, bool replace, std::string* error) {
  // Metadata: "#!lua name=<library>" on the first line.
  if (code.substr(0, 2) != "#!") {
    *error = errors::kMissingLibraryMetadata;
    return "";
  }
  const size_t eol = code.find('\n');
  std::string_view shebang =
      code.substr(2, eol == std::string_view::npos ? std::string_view::npos : eol - 2);
  std::string_view engine = shebang.substr(0, shebang.find(' '));
  // Engines are looked up by name in any case, as Redis's engine dictionary does.
  if (!EqualsIgnoreCase(engine, "lua")) {
    *error = errors::EngineNotFound(engine);
    return "";
  }
  std::string name;
  std::string_view rest = shebang.size() > engine.size() ? shebang.substr(engine.size() + 1) : "";
  while (!rest.empty()) {
    size_t space = rest.find(' ');
    std::string_view option = rest.substr(0, space);
    rest = space == std::string_view::npos ? "" : rest.substr(space + 1);
    if (option.empty()) continue;
    if (option.substr(0, 5) != "name=") {
      *error = errors::InvalidMetadata(option);
      return "";
    }
    name = std::string(option.substr(5));
  }
  if (name.empty()) {
    *error = errors::kLibraryNameMissing;
    return "";
  }
  if (!ValidName(name)) {
    *error = errors::kInvalidLibraryName;
    return "";
  }
  auto existing = libraries_.find(name);
  if (existing != libraries_.end() && !replace) {
    *error = errors::LibraryExists(name);
    return "";
  }

  lua_State* L = lua_;
  std::string storage;
  const std::string_view body = CodeWithoutShebang(code, &storage);
  if (luaL_loadbuffer(L, body.data(), body.size(), kChunkName) != 0) {
    *error = errors::FunctionCompileFailed(lua_tostring(L, -1) ? lua_tostring(L, -1) : "");
    lua_settop(L, 0);
    return "";
  }
  // The code's environment: a read-only proxy whose lookups depend on the load phase.
  lua_newtable(L);
  lua_newtable(L);
  lua_pushcfunction(L, LibraryEnvIndex);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, LibraryEnvNewIndex);
  lua_setfield(L, -2, "__newindex");
  lua_setmetatable(L, -2);
  lua_setfenv(L, -2);

  Library library{name, std::string(code), {}};
  lua_pushlightuserdata(L, &library);
  lua_setfield(L, LUA_REGISTRYINDEX, kRegistryLoading);
  lua_pushcfunction(L, SandboxErrorHandler);
  lua_insert(L, -2);
  const int status = lua_pcall(L, 0, 0, -2);
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, kRegistryLoading);
  if (status != 0) {
    std::string text(errors::WithoutCode(errors::kLuaUnknownError));
    if (lua_istable(L, -1)) {
      lua_getfield(L, -1, "err");
      if (lua_isstring(L, -1)) text = lua_tostring(L, -1);
      lua_pop(L, 1);
    }
    lua_settop(L, 0);
    ReleaseRefs(L, library);
    *error = errors::FunctionRegisterFailed(text);
    return "";
  }
  lua_settop(L, 0);
  if (library.functions.empty()) {
    *error = errors::kNoFunctionsRegistered;
    return "";
  }
  for (const auto& [fname, f] : library.functions) {
    auto owner = functions_.find(fname);
    if (owner != functions_.end() && owner->second != name) {
      ReleaseRefs(L, library);
      *error = errors::FunctionExists(fname);
      return "";
    }
  }
  if (existing != libraries_.end()) {
    ReleaseRefs(L, existing->second);
    for (const auto& [fname, f] : existing->second.functions) functions_.erase(fname);
    libraries_.erase(existing);
  }
  for (const auto& [fname, f] : library.functions) functions_[fname] = name;
  libraries_.emplace(name, std::move(library));
  return name;
}

bool FunctionEngine::Delete(std::string_view library) {
  auto it = libraries_.find(std::string(library));
  if (it == libraries_.end()) return false;
  ReleaseRefs(lua_, it->second);
  for (const auto& [fname, f] : it->second.functions) functions_.erase(fname);
  libraries_.erase(it);
  return true;
}

void FunctionEngine::Flush() {
  libraries_.clear();
  functions_.clear();
  CreateState();
}

std::string FunctionEngine::Dump() const {
  std::string payload;
  for (const auto& [name, library] : libraries_) {
    payload += static_cast<char>(rdb::kOpcodeFunction2);
    rdb::AppendString(payload, library.code);
  }
  rdb::AppendPayloadFooter(payload);
  return payload;
}

std::string FunctionEngine::Restore(std::string_view payload, RestorePolicy policy) {
  auto body = rdb::VerifyPayload(payload);
  if (!body) return std::string(errors::kBadPayload);
  std::vector<std::string> codes;
  rdb::Reader reader(*body);
  while (reader.position() < body->size()) {
    auto type = reader.Byte();
    if (*type == rdb::kOpcodeFunctionPreGa) return std::string(errors::kPreGaFunctionFormat);
    if (*type != rdb::kOpcodeFunction2) return std::string(errors::kNotAFunction);
    auto code = reader.String();
    if (!code) return std::string(errors::kFunctionPayloadLoad);
    codes.push_back(std::move(*code));
  }
  // Apply on top of a snapshot: any failure puts the snapshot back.
  std::vector<std::string> snapshot;
  for (const auto& [name, library] : libraries_) snapshot.push_back(library.code);
  auto rollback = [&] {
    Flush();
    std::string ignored;
    for (const auto& code : snapshot) Load(code, false, &ignored);
  };
  if (policy == RestorePolicy::kFlush) Flush();
  for (const auto& code : codes) {
    std::string error;
    // APPEND refuses a library that exists (Redis's libraryJoin text, without quotes).
    if (Load(code, policy == RestorePolicy::kReplace, &error).empty()) {
      if (error.rfind(errors::kLibraryExistsPrefix, 0) == 0) {
        const size_t at = errors::kLibraryExistsPrefix.size();
        error = errors::LibraryExistsUnquoted(error.substr(at, error.find('\'', at) - at));
      }
      rollback();
      return error;
    }
  }
  return "";
}

std::optional<ScriptFlags> FunctionEngine::FlagsOf(CmdArgs args) const {
  auto owner = functions_.find(std::string(args[1]));
  if (owner == functions_.end()) return std::nullopt;
  const Function& f = libraries_.at(owner->second).functions.at(owner->first);
  auto has = [&f](std::string_view flag) {
    return std::find(f.flags.begin(), f.flags.end(), flag) != f.flags.end();
  };
  // A function always declares its flags (none is a declaration too: a write).
  return ScriptFlags{true, has("no-writes"), has("allow-oom"), has("allow-stale")};
}

void FunctionEngine::Call(CommandContext& ctx, CmdArgs args, bool read_only) {
  const auto parsed = ParseNumKeys(ctx, args, errors::kFcallBadNumKeys);
  if (!parsed) return;
  const size_t numkeys = *parsed;
  auto owner = functions_.find(std::string(args[1]));
  if (owner == functions_.end()) return ctx.rb().SendError(errors::kFunctionNotFound);
  const Function& f = libraries_.at(owner->second).functions.at(owner->first);
  if (read_only && !f.no_writes()) {
    return ctx.rb().SendError(errors::kWriteScriptInRoCommand);
  }
  if (auto refusal = StaleRefusal(ctx, *FlagsOf(args))) return ctx.rb().SendError(*refusal);
  lua_State* L = lua_;
  ScriptRun run{
      .script_client = script_client_.get(), .ctx = &ctx, .read_only = read_only || f.no_writes()};
  run.allow_oom = FlagsOf(args)->allow_oom;
  run.function = true;
  run.command = args;
  lua_rawgeti(L, LUA_REGISTRYINDEX, f.ref);
  PushStringArray(L, args.subspan(3, numkeys));
  PushStringArray(L, args.subspan(3 + numkeys));
  RunProtected(L, run, 2, f.name);
}

}  // namespace keyward
