#include "server/scripting/sandbox.h"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
int luaopen_cjson(lua_State* L);  // Debian's lua-cjson
int luaopen_bit(lua_State* L);    // Debian's lua-bitop
}

#include <openssl/sha.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "server/core/errors.h"
#include "server/core/strings.h"
#include "server/engine/context.h"
#include "server/engine/executor.h"
#include "server/engine/host.h"
#include "server/scripting/lua_cmsgpack.h"
#include "server/scripting/lua_convert.h"
#include "server/scripting/lua_engine.h"
#include "server/scripting/lua_struct.h"

namespace keyward {

namespace {

constexpr const char* kRegistryGlobals = "__keyward_globals";
constexpr int kReplAll = 3;

// The script running now. Scripts never nest (EVAL and FCALL are refused inside a script) and
// run on the server's thread only, so one pointer serves every state; reading it is what every
// redis.call does first, and a registry field lookup hashed a string each time.
ScriptRun* current_run = nullptr;

ScriptRun* CurrentRun(lua_State*) { return current_run; }

// redis.call's scratch space, reused by every call: the arguments, the text of number
// arguments, and the command's reply. Not locals: a Lua error longjmps past C++ destructors, and
// reusing them spares allocations on every call.
struct CallScratch {
  struct NumberArg {
    size_t arg, offset, size;
  };
  std::vector<std::string_view> args;
  std::string numbers;
  std::vector<NumberArg> number_args;
  std::string reply;
};
CallScratch call_scratch;

// A Lua number argument as Redis 7.0 formats it: "%.17g" (0.1 is 0.10000000000000001). Integral
// values below 2^53 print the same digits as an integer, without printf's cost.
void AppendNumber(std::string& out, double d) {
  char buf[64];
  if (d == std::floor(d) && std::fabs(d) < 9007199254740992.0 && !(d == 0 && std::signbit(d))) {
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(d));
    out.append(buf, end);
    return;
  }
  int n = std::snprintf(buf, sizeof buf, "%.17g", d);
  out.append(buf, static_cast<size_t>(n));
}

// Raises an error positioned at the script's line (level 1: the Lua code that triggered this C
// function): the message reads "user_script:3: ...", as Redis's patched Lua reports it.
int RaiseAtCaller(lua_State* L, const char* message) {
  luaL_where(L, 1);
  lua_pushstring(L, message);
  lua_concat(L, 2);
  return lua_error(L);
}

int ReadOnlyError(lua_State* L) { return RaiseAtCaller(L, errors::kLuaReadOnlyTable.data()); }

// __index of the global table: reading a global that does not exist is an error.
int GlobalIndex(lua_State* L) {
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  if (!lua_isnil(L, -1)) return 1;
  return RaiseNonexistentGlobal(L, lua_tostring(L, 2));
}

constexpr const char* kRegistryProxies = "__keyward_proxies";  // proxy -> real (weak keys)

// Pushes the real table behind the proxy at `index`; false (pushing nothing) if not a proxy.
bool PushReal(lua_State* L, int index) {
  if (!lua_istable(L, index)) return false;
  lua_getfield(L, LUA_REGISTRYINDEX, kRegistryProxies);
  lua_pushvalue(L, index);
  lua_rawget(L, -2);
  lua_remove(L, -2);
  if (lua_istable(L, -1)) return true;
  lua_pop(L, 1);
  return false;
}

bool IsProxy(lua_State* L, int index) {
  if (!PushReal(L, index)) return false;
  lua_pop(L, 1);
  return true;
}

// The VM's own readonly error, as Redis raises it from rawset / setmetatable: no position.
int ReadOnlyPlainError(lua_State* L) {
  lua_pushlstring(L, errors::kLuaReadOnlyTable.data(), errors::kLuaReadOnlyTable.size());
  return lua_error(L);
}

// next / pairs / ipairs see through the read-only proxies, so iterating a library or _G lists
// what Redis lists.
int ProxyNext(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 2);
  if (PushReal(L, 1)) lua_replace(L, 1);
  if (lua_next(L, 1)) return 2;
  lua_pushnil(L);
  return 1;
}

int ProxyPairs(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_pushcfunction(L, ProxyNext);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

int ProxyIpairsStep(lua_State* L) {
  const int i = luaL_checkint(L, 2) + 1;
  lua_pushinteger(L, i);
  lua_rawgeti(L, 1, i);
  return lua_isnil(L, -1) ? 0 : 2;
}

int ProxyIpairs(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_pushcfunction(L, ProxyIpairsStep);
  if (!PushReal(L, 1)) lua_pushvalue(L, 1);
  lua_pushinteger(L, 0);
  return 3;
}

// setmetatable on a read-only table is a write to it.
int GuardedSetmetatable(lua_State* L) {
  if (IsProxy(L, 1)) return ReadOnlyPlainError(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

// rawset would write into a read-only proxy itself, past its __newindex: refused like a write.
int GuardedRawset(lua_State* L) {
  if (IsProxy(L, 1)) return ReadOnlyPlainError(L);
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  luaL_checkany(L, 3);
  lua_settop(L, 3);
  lua_rawset(L, 1);
  return 1;
}

// loadstring / load without precompiled chunks: Lua 5.1 bytecode is not verified, and loading
// crafted bytecode escapes any sandbox. Redis's patched loader returns nil for it.
int SafeLoad(lua_State* L) {
  if (lua_type(L, 1) == LUA_TSTRING) {
    size_t len;
    const char* chunk = lua_tolstring(L, 1, &len);
    if (len > 0 && chunk[0] == LUA_SIGNATURE[0]) {
      lua_pushnil(L);
      return 1;
    }
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

// Redis 7.0's pcall: an error table caught by pcall becomes its err string, so
// `local ok, e = pcall(redis.call, ...)` gives e a string, as in Redis.
int RedisStylePcall(lua_State* L) {
  const int argc = lua_gettop(L);
  luaL_checkany(L, 1);
  lua_pushboolean(L, 1);
  lua_insert(L, 1);
  if (lua_pcall(L, argc - 1, LUA_MULTRET, 0) != 0) {
    lua_remove(L, 1);
    if (lua_istable(L, -1)) {
      lua_getfield(L, -1, "err");
      if (lua_isstring(L, -1)) {
        lua_replace(L, -2);
      } else {
        lua_pop(L, 1);
      }
    }
    lua_pushboolean(L, 0);
    lua_insert(L, 1);
  }
  return lua_gettop(L);
}

// math.random and math.randomseed on Redis's rand48, reseeded with 0 before every EVAL, so a
// script draws the same numbers on every server (and on Redis).
uint64_t rand48_state = 0x330E;
void Rand48Seed(int32_t seed) {
  rand48_state = (static_cast<uint64_t>(static_cast<uint32_t>(seed)) << 16) | 0x330E;
}
int32_t Rand48() {
  rand48_state = (0x5DEECE66DULL * rand48_state + 0xB) & ((1ULL << 48) - 1);
  return static_cast<int32_t>(rand48_state >> 17);
}

int MathRandom(lua_State* L) {
  constexpr int32_t kMax = INT32_MAX;
  const lua_Number r = static_cast<lua_Number>(Rand48() % kMax) / static_cast<lua_Number>(kMax);
  switch (lua_gettop(L)) {
    case 0:
      lua_pushnumber(L, r);
      break;
    case 1: {
      const int u = luaL_checkint(L, 1);
      luaL_argcheck(L, 1 <= u, 1, errors::kLuaIntervalEmpty.data());
      lua_pushnumber(L, std::floor(r * u) + 1);
      break;
    }
    case 2: {
      const int l = luaL_checkint(L, 1);
      const int u = luaL_checkint(L, 2);
      luaL_argcheck(L, l <= u, 2, errors::kLuaIntervalEmpty.data());
      lua_pushnumber(L, std::floor(r * (u - l + 1)) + l);
      break;
    }
    default:
      return luaL_error(L, "%s", errors::WithoutCode(errors::kLuaWrongArgs).data());
  }
  return 1;
}

int MathRandomSeed(lua_State* L) {
  Rand48Seed(static_cast<int32_t>(luaL_checkint(L, 1)));
  return 0;
}

// Replaces the table at `index` (absolute) by a read-only proxy of it; pushes the proxy.
void PushReadOnlyProxy(lua_State* L, int real, lua_CFunction index) {
  lua_newtable(L);  // proxy
  lua_newtable(L);  // its metatable
  if (index != nullptr) {
    lua_pushvalue(L, real);
    lua_pushcclosure(L, index, 1);
  } else {
    lua_pushvalue(L, real);
  }
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, ReadOnlyError);
  lua_setfield(L, -2, "__newindex");
  // getmetatable(proxy) cannot reach the real table through __index.
  // getmetatable(proxy) gives an empty table: a table, as on Redis, that leads nowhere.
  lua_newtable(L);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  // Remembered as a proxy of `real`, for rawset, setmetatable and iteration.
  lua_getfield(L, LUA_REGISTRYINDEX, kRegistryProxies);
  lua_pushvalue(L, -2);
  lua_pushvalue(L, real);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

// Redis's __redis__err__handler: turns any error into a table {err, source, line}, with the
// position of the script code that raised it (skipping a C function such as redis.call).
int ErrorHandler(lua_State* L) {
  lua_Debug ar;
  bool found = lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar);
  if (found && std::strcmp(ar.what, "C") == 0) {
    found = lua_getstack(L, 2, &ar) && lua_getinfo(L, "Sl", &ar);
  }
  if (!lua_istable(L, 1)) {
    // Redis's handler: 'ERR ' .. tostring(err), so error() reads "ERR nil".
    if (lua_type(L, 1) == LUA_TSTRING || lua_type(L, 1) == LUA_TNUMBER) {
      lua_pushfstring(L, "ERR %s", lua_tostring(L, 1));
    } else if (lua_type(L, 1) == LUA_TBOOLEAN) {
      lua_pushstring(
          L, lua_toboolean(L, 1) ? errors::kLuaErrorTrue.data() : errors::kLuaErrorFalse.data());
    } else if (lua_isnil(L, 1)) {
      lua_pushstring(L, errors::kLuaErrorNil.data());
    } else {
      lua_pushfstring(L, "ERR %s: %p", luaL_typename(L, 1), lua_topointer(L, 1));
    }
    lua_newtable(L);
    lua_insert(L, -2);
    lua_setfield(L, -2, "err");
    lua_replace(L, 1);
  }
  lua_settop(L, 1);
  if (found) {
    lua_pushstring(L, ar.source);
    lua_setfield(L, 1, "source");
    lua_pushinteger(L, ar.currentline);
    lua_setfield(L, 1, "line");
  }
  return 1;
}

// Pushes {err = message}.
void PushErrorTable(lua_State* L, std::string_view message) {
  lua_newtable(L);
  lua_pushlstring(L, message.data(), message.size());
  lua_setfield(L, -2, "err");
}

// Raises {err = "ERR <message>"}: the redis.* functions' errors carry no "user_script:N:"
// prefix (the position is added by the error handler, as "on @user_script:N").
int RaiseRedisError(lua_State* L, std::string_view message) {
  PushErrorTable(L, NormalizeError(message));
  return lua_error(L);
}

// redis.call / redis.pcall: `raise` decides whether an error reply is raised or returned.
// Runs the command of redis.call / redis.pcall and pushes either its raw reply (a Lua string;
// returns 0) or an error table (returns 1). Every C++ object lives and dies in here: the caller
// may raise a Lua error, and lua_error longjmps past C++ destructors.
int RunScriptCommand(lua_State* L) {
  ScriptRun* run = CurrentRun(L);
  const int argc = lua_gettop(L);
  if (argc == 0 || run == nullptr) {
    PushErrorTable(L, errors::kLuaNoArgs);
    return 1;
  }
  // String arguments are read in place (they stay on the Lua stack during the call); numbers
  // are formatted into one buffer, whose views are taken once it stops growing.
  std::vector<std::string_view>& args = call_scratch.args;
  std::string& numbers = call_scratch.numbers;
  std::vector<CallScratch::NumberArg>& number_args = call_scratch.number_args;
  args.clear();
  numbers.clear();
  number_args.clear();
  for (int i = 1; i <= argc; i++) {
    const int type = lua_type(L, i);
    if (type == LUA_TNUMBER) {
      const size_t at = numbers.size();
      AppendNumber(numbers, static_cast<double>(lua_tonumber(L, i)));
      number_args.push_back({args.size(), at, numbers.size() - at});
      args.emplace_back();  // set below
    } else if (type == LUA_TSTRING) {
      size_t len;
      const char* s = lua_tolstring(L, i, &len);
      args.emplace_back(s, len);
    } else {
      PushErrorTable(L, errors::kLuaArgType);
      return 1;
    }
  }
  for (const auto& n : number_args) {
    args[n.arg] = std::string_view(numbers.data() + n.offset, n.size);
  }
  std::string& out = call_scratch.reply;
  // The command runs on the script's client, in the script's protocol, through the one executor
  // and gatekeeper every command passes (with the checks Redis applies to scripts); its reply is
  // captured from the client's output.
  Client& script_client = *run->script_client;
  script_client.set_resp(run->resp);
  // The script runs as its caller's user (its commands are checked against it).
  script_client.user = run->ctx->client().user;
  std::string& output = script_client.transport()->output();
  output.clear();
  const auto status =
      run->ctx->executor().CallNested(CallerKind::kScript, *run->ctx, script_client, args,
                                      NestedOptions{.read_only_script = run->read_only,
                                                    .replicate = run->replicate,
                                                    .wrote = &run->wrote,
                                                    .allow_oom = run->allow_oom});
  out.swap(output);
  output.clear();
  if (status) {
    PushErrorTable(L, *status);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "ignore_error_stats_update");
    return 1;
  }
  if (!out.empty() && out[0] == '-') {
    // An error reply becomes {err = ..., ignore_error_stats_update = true}, as in Redis.
    PushErrorTable(L, NormalizeError(std::string_view(out.data(), out.find("\r\n"))));
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "ignore_error_stats_update");
    return 1;
  }
  return 0;
}

int CallCommand(lua_State* L, bool raise) {
  if (RunScriptCommand(L) == 1) return raise ? lua_error(L) : 1;
  // Converted straight from the reply buffer, which nothing touches until the next call.
  const std::string& reply = call_scratch.reply;
  size_t pos = 0;
  PushReplyAsLua(L, reply, &pos);
  return 1;
}

int RedisCall(lua_State* L) { return CallCommand(L, true); }
int RedisPcall(lua_State* L) { return CallCommand(L, false); }

// redis.error_reply / redis.status_reply: {err=...} / {ok=...}.
int ReplyTable(lua_State* L, const char* field) {
  if (lua_gettop(L) != 1 || lua_type(L, 1) != LUA_TSTRING) {
    // Returned, not raised: the script gets an error reply it may return.
    PushErrorTable(L, errors::kLuaReplyArgs);
    return 1;
  }
  if (std::strcmp(field, "err") == 0) {
    size_t len;
    const char* s = lua_tolstring(L, 1, &len);
    std::string_view text(s, len);
    PushErrorTable(L, NormalizeError(!text.empty() && text[0] == '-' ? std::string(text)
                                                                     : "-" + std::string(text)));
    return 1;
  }
  lua_newtable(L);
  lua_pushvalue(L, 1);
  lua_setfield(L, -2, field);
  return 1;
}
int RedisErrorReply(lua_State* L) { return ReplyTable(L, "err"); }
int RedisStatusReply(lua_State* L) { return ReplyTable(L, "ok"); }

int RedisSha1Hex(lua_State* L) {
  if (lua_gettop(L) != 1) return RaiseRedisError(L, errors::WithoutCode(errors::kLuaWrongArgs));
  size_t len;
  const char* s = lua_tolstring(L, 1, &len);
  std::string hex = Sha1Hex(std::string_view(s ? s : "", s ? len : 0));
  lua_pushlstring(L, hex.data(), hex.size());
  return 1;
}

int RedisLog(lua_State* L) {
  const int argc = lua_gettop(L);
  if (argc < 2) return RaiseRedisError(L, errors::WithoutCode(errors::kLuaLogArgs));
  if (!lua_isnumber(L, 1)) return RaiseRedisError(L, errors::WithoutCode(errors::kLuaLogLevelType));
  const int level = static_cast<int>(lua_tonumber(L, 1));
  if (level < 0 || level > 3) return RaiseRedisError(L, errors::WithoutCode(errors::kLuaLogLevel));
  std::string message;
  for (int i = 2; i <= argc; i++) {
    size_t len;
    const char* s = lua_tolstring(L, i, &len);
    if (s == nullptr) continue;
    if (i > 2) message += ' ';
    message.append(s, len);
  }
  switch (level) {
    case 0:
      spdlog::trace("{}", message);
      break;
    case 1:
      spdlog::debug("{}", message);
      break;
    case 2:
      spdlog::info("{}", message);
      break;
    default:
      spdlog::warn("{}", message);
  }
  return 0;
}

int RedisSetResp(lua_State* L) {
  ScriptRun* run = CurrentRun(L);
  if (lua_gettop(L) != 1) return RaiseRedisError(L, errors::WithoutCode(errors::kLuaSetRespArgs));
  const int resp = static_cast<int>(lua_tonumber(L, 1));
  if (resp != 2 && resp != 3) {
    return RaiseRedisError(L, errors::WithoutCode(errors::kLuaRespVersion));
  }
  if (run != nullptr) run->resp = resp;
  return 0;
}

int RedisSetRepl(lua_State* L) {
  ScriptRun* run = CurrentRun(L);
  if (lua_gettop(L) != 1) return RaiseRedisError(L, errors::WithoutCode(errors::kLuaSetReplArgs));
  const int flags = static_cast<int>(lua_tonumber(L, 1));
  if ((flags & ~kReplAll) != 0) {
    return RaiseRedisError(L, errors::WithoutCode(errors::kLuaReplFlags));
  }
  // AOF and replicas are one stream here: any of them means "propagate".
  if (run != nullptr) run->replicate = flags != 0;
  return 0;
}

// redis.replicate_commands (always true in 7.0), redis.breakpoint and redis.debug (the Lua
// debugger is not supported: they do nothing, as outside a debugging session in Redis).
int RedisTrue(lua_State* L) {
  lua_pushboolean(L, 1);
  return 1;
}
int RedisFalse(lua_State* L) {
  lua_pushboolean(L, 0);
  return 1;
}
int RedisNothing(lua_State*) { return 0; }

// redis.acl_check_cmd: every user may run every command until ACLs exist; unknown commands
// are an error, as in Redis.
int RedisAclCheckCmd(lua_State* L) {
  const int argc = lua_gettop(L);
  if (argc < 1) {
    return RaiseRedisError(L, errors::WithoutCode(errors::kLuaNoArgs));
  }
  for (int i = 1; i <= argc; i++) {
    if (lua_type(L, i) != LUA_TSTRING && lua_type(L, i) != LUA_TNUMBER) {
      return RaiseRedisError(L, errors::WithoutCode(errors::kLuaArgType));
    }
  }
  ScriptRun* run = CurrentRun(L);
  const CommandSpec* cmd = nullptr;
  if (run != nullptr) {
    cmd = run->ctx->executor().registry().Find(lua_tostring(L, 1));
    // A container needs a known subcommand, as Redis's lookup does.
    if (cmd != nullptr && cmd->is_container() && argc > 1) {
      cmd = cmd->FindSubcommand(lua_tostring(L, 2));
    }
  }
  if (cmd == nullptr) return RaiseRedisError(L, errors::WithoutCode(errors::kLuaAclCheckCmd));
  lua_pushboolean(L, 1);
  return 1;
}

void SetNumber(lua_State* L, const char* name, lua_Number value) {
  lua_pushnumber(L, value);
  lua_setfield(L, -2, name);
}

void SetFunction(lua_State* L, const char* name, lua_CFunction f) {
  lua_pushcfunction(L, f);
  lua_setfield(L, -2, name);
}

}  // namespace

// Redis's luaPushErrorBuff: "-CODE msg" keeps its code (without the '-'), "-msg" with no space
// and a bare "msg" get ERR; trailing CR/LF go. So error_reply("-abc") is "ERR abc" and
// error_reply("MY err") stays "MY err".
std::string NormalizeError(std::string_view text) {
  std::string code = "ERR";
  std::string msg;
  if (!text.empty() && text[0] == '-') {
    size_t space = text.find(' ');
    if (space == std::string_view::npos) {
      msg = std::string(text.substr(1));
    } else {
      code = std::string(text.substr(1, space - 1));
      msg = std::string(text.substr(space + 1));
    }
  } else {
    msg = std::string(text);
  }
  while (!msg.empty() && (msg.back() == '\r' || msg.back() == '\n')) msg.pop_back();
  while (!msg.empty() && (msg.front() == '\r' || msg.front() == '\n')) msg.erase(0, 1);
  return code + " " + msg;
}

std::string Sha1Hex(std::string_view data) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return HexLower(std::string_view(reinterpret_cast<const char*>(digest), SHA_DIGEST_LENGTH));
}

lua_State* NewSandboxState() {
  lua_State* L = luaL_newstate();
  lua_newtable(L);  // the proxies, weakly keyed
  lua_newtable(L);
  lua_pushstring(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_setfield(L, LUA_REGISTRYINDEX, kRegistryProxies);
  // The libraries Redis 7.0 loads; os, io, package and debug are not among them.
  for (lua_CFunction open : {luaopen_base, luaopen_table, luaopen_string, luaopen_math,
                             luaopen_struct, luaopen_cmsgpack, luaopen_bit}) {
    lua_pushcfunction(L, open);
    lua_call(L, 0, 0);
  }
  // Debian's cjson returns its table without setting a global (Redis's copy sets one).
  lua_pushcfunction(L, luaopen_cjson);
  lua_call(L, 0, 1);
  lua_setglobal(L, "cjson");
  // Base functions Redis removes.
  for (const char* name : {"print", "dofile", "loadfile", "getfenv", "setfenv", "newproxy",
                           "module", "require", "package", "os", "io", "debug"}) {
    lua_pushnil(L);
    lua_setglobal(L, name);
  }
  // Redis's replacements: guarded rawset, loaders without bytecode, pcall that unwraps error
  // tables, math.random on rand48.
  lua_pushcfunction(L, GuardedRawset);
  lua_setglobal(L, "rawset");
  lua_getglobal(L, "setmetatable");
  lua_pushcclosure(L, GuardedSetmetatable, 1);
  lua_setglobal(L, "setmetatable");
  lua_pushcfunction(L, ProxyNext);
  lua_setglobal(L, "next");
  lua_pushcfunction(L, ProxyPairs);
  lua_setglobal(L, "pairs");
  lua_pushcfunction(L, ProxyIpairs);
  lua_setglobal(L, "ipairs");
  for (const char* name : {"loadstring", "load"}) {
    lua_getglobal(L, name);
    lua_pushcclosure(L, SafeLoad, 1);
    lua_setglobal(L, name);
  }
  lua_pushcfunction(L, RedisStylePcall);
  lua_setglobal(L, "pcall");
  lua_getglobal(L, "math");
  lua_pushcfunction(L, MathRandom);
  lua_setfield(L, -2, "random");
  lua_pushcfunction(L, MathRandomSeed);
  lua_setfield(L, -2, "randomseed");
  lua_pop(L, 1);
  // The redis table.
  lua_newtable(L);
  SetFunction(L, "call", RedisCall);
  SetFunction(L, "pcall", RedisPcall);
  SetFunction(L, "error_reply", RedisErrorReply);
  SetFunction(L, "status_reply", RedisStatusReply);
  SetFunction(L, "sha1hex", RedisSha1Hex);
  SetFunction(L, "log", RedisLog);
  SetFunction(L, "setresp", RedisSetResp);
  SetFunction(L, "set_repl", RedisSetRepl);
  SetFunction(L, "replicate_commands", RedisTrue);
  SetFunction(L, "breakpoint", RedisFalse);
  SetFunction(L, "debug", RedisNothing);
  SetFunction(L, "acl_check_cmd", RedisAclCheckCmd);
  SetNumber(L, "LOG_DEBUG", 0);
  SetNumber(L, "LOG_VERBOSE", 1);
  SetNumber(L, "LOG_NOTICE", 2);
  SetNumber(L, "LOG_WARNING", 3);
  SetNumber(L, "REPL_NONE", 0);
  SetNumber(L, "REPL_AOF", 1);
  SetNumber(L, "REPL_SLAVE", 2);
  SetNumber(L, "REPL_REPLICA", 2);
  SetNumber(L, "REPL_ALL", kReplAll);
  lua_pushstring(L, KEYWARD_REDIS_VERSION);
  lua_setfield(L, -2, "REDIS_VERSION");
  {
    // 7.0.15 -> 0x07000f, as Redis encodes it.
    int major = 0, minor = 0, patch = 0;
    std::sscanf(KEYWARD_REDIS_VERSION, "%d.%d.%d", &major, &minor, &patch);
    SetNumber(L, "REDIS_VERSION_NUM", (major << 16) | (minor << 8) | patch);
  }
  lua_setglobal(L, "redis");
  lua_pushcfunction(L, ErrorHandler);
  lua_setglobal(L, "__redis__err__handler");

  // Read-only libraries: each global table is replaced by a proxy that refuses writes.
  for (const char* name :
       {"string", "table", "math", "coroutine", "redis", "cjson", "bit", "struct", "cmsgpack"}) {
    lua_getglobal(L, name);
    const int real = lua_gettop(L);
    PushReadOnlyProxy(L, real, nullptr);
    lua_setglobal(L, name);
    lua_pop(L, 1);
  }
  // ("x"):upper() goes through the string metatable: point it at the read-only proxy too, or
  // getmetatable('').__index would hand out the real table.
  // The metatable itself is read-only as well: getmetatable('') returns a read-only proxy of
  // it (its __metatable), so getmetatable('').__index = {} fails as on Redis.
  lua_pushliteral(L, "");
  lua_getmetatable(L, -1);
  const int string_meta = lua_gettop(L);
  lua_getglobal(L, "string");
  lua_setfield(L, string_meta, "__index");
  PushReadOnlyProxy(L, string_meta, nullptr);
  lua_setfield(L, string_meta, "__metatable");
  lua_pop(L, 2);
  // Read-only globals: LUA_GLOBALSINDEX becomes a proxy whose __index refuses unknown names;
  // the real table stays reachable from the registry, for KEYS and ARGV.
  lua_pushvalue(L, LUA_GLOBALSINDEX);
  const int real_globals = lua_gettop(L);
  lua_pushvalue(L, real_globals);
  lua_setfield(L, LUA_REGISTRYINDEX, kRegistryGlobals);
  PushReadOnlyProxy(L, real_globals, GlobalIndex);
  lua_pushvalue(L, -1);
  lua_setfield(L, real_globals, "_G");
  lua_replace(L, LUA_GLOBALSINDEX);
  lua_pop(L, 1);
  // Functions compiled before now (the libraries') keep the real table as their environment;
  // scripts compiled from here on get the proxy.
  return L;
}

namespace {

constexpr int kHookInstructions = 100000;

void BusyHook(lua_State* L, lua_Debug*) {
  ScriptRun* run = CurrentRun(L);
  if (run == nullptr) return;
  Executor& executor = run->ctx->executor();
  ServerState& state = executor.state();
  if (!run->busy) {
    const int64_t threshold_ms = executor.settings().busy_reply_threshold;
    if (threshold_ms <= 0 || executor.clock().MonotonicUs() - run->start_us < threshold_ms * 1000) {
      return;
    }
    run->busy = true;
    BusyScript busy;
    busy.runner = &run->ctx->client();
    busy.function = run->function;
    busy.wrote = &run->wrote;
    busy.kill = &run->kill;
    busy.command.assign(run->command.begin(), run->command.end());
    busy.name = run->command.size() > 1 ? std::string(run->command[1]) : "";
    busy.start_ms = executor.keyspace().now_ms();
    state.busy_script = std::move(busy);
    spdlog::warn(
        "Slow script detected: still in execution after {} milliseconds. You can try killing "
        "the script using the {} command.",
        threshold_ms, run->function ? "FUNCTION KILL" : "SCRIPT KILL");
  }
  if (state.host != nullptr) state.host->ProcessEventsWhileBusy();
  if (run->kill || state.shutting_down) {
    // Raised again at every line, so a script's own pcall cannot swallow it for long.
    lua_sethook(L, BusyHook, LUA_MASKLINE, 0);
    PushErrorTable(L, errors::kScriptKilled);
    lua_error(L);
  }
}

}  // namespace

void RunProtected(lua_State* L, ScriptRun& run, int nargs, std::string_view name) {
  CommandContext& ctx = *run.ctx;
  run.start_us = ctx.executor().clock().MonotonicUs();
  lua_sethook(L, BusyHook, LUA_MASKCOUNT, kHookInstructions);
  // The handler goes below the function and its arguments.
  lua_pushcfunction(L, ErrorHandler);
  lua_insert(L, -(nargs + 2));
  const int handler = lua_gettop(L) - nargs - 1;
  ScriptRun* const previous_run = current_run;
  current_run = &run;
  run.script_client->db = ctx.client().db;
  // The EVAL or FCALL itself is never propagated: the commands it ran are (Redis 7.0's effects
  // replication), wrapped in MULTI/EXEC by the stream when there are several.
  ctx.PropagateOnlyCollected();
  const int status = lua_pcall(L, nargs, 1, handler);
  if (status == 0) {
    WriteLuaAsReply(L, ctx.rb(), run.resp);
  } else if (lua_istable(L, -1)) {
    lua_getfield(L, -1, "err");
    std::string message =
        lua_tostring(L, -1) ? lua_tostring(L, -1) : errors::kLuaUnknownError.data();
    lua_pop(L, 1);
    lua_getfield(L, -1, "source");
    const char* source = lua_tostring(L, -1);
    std::string where = source ? source : "?";
    lua_pop(L, 1);
    lua_getfield(L, -1, "line");
    const long line = static_cast<long>(lua_tonumber(L, -1));
    lua_pop(L, 1);
    for (char& c : message) {
      if (c == '\r' || c == '\n') c = ' ';
    }
    ctx.rb().Raw("-" + errors::ScriptErrorAt(message, name, where, line) + "\r\n");
  } else {
    // Out of memory or an error inside the error handler: no position to give.
    const char* msg = lua_tostring(L, -1);
    ctx.rb().SendError(errors::ScriptRunFailed(
        name, msg ? std::string_view(msg) : errors::WithoutCode(errors::kLuaUnknownError)));
  }
  lua_settop(L, 0);
  lua_sethook(L, nullptr, 0, 0);
  if (run.busy) ctx.executor().state().busy_script.reset();
  current_run = previous_run;
  // Garbage is collected a step at a time, every 50 scripts, as Redis does: a step after every
  // script cost 40% of a short EVALSHA.
  static thread_local int scripts_since_gc = 0;
  if (++scripts_since_gc >= 50) {
    scripts_since_gc = 0;
    lua_gc(L, LUA_GCSTEP, 50);
  }
}

int SandboxErrorHandler(lua_State* L) { return ErrorHandler(L); }

int SandboxRedisLog(lua_State* L) { return RedisLog(L); }

int RaiseError(lua_State* L, std::string_view message) { return RaiseRedisError(L, message); }

int RaiseNonexistentGlobal(lua_State* L, const char* name) {
  // Built on the Lua stack, not in a std::string: lua_error longjmps past C++ destructors.
  luaL_where(L, 1);
  lua_pushfstring(L, errors::kLuaNonexistentGlobalFormat.data(), name != nullptr ? name : "?");
  lua_concat(L, 2);
  return lua_error(L);
}

int RaiseReadOnly(lua_State* L) { return ReadOnlyError(L); }

void ResetScriptRandom() { Rand48Seed(0); }

std::optional<std::string_view> StaleRefusal(CommandContext& ctx, const ScriptFlags& script) {
  const ServerState& state = ctx.executor().state();
  const bool running_stale =
      state.replica && !state.master_link_up && !ctx.settings().replica_serve_stale_data;
  if (!running_stale) return std::nullopt;
  // Redis's scriptPrepareForRun: a script without a shebang never runs on a stale replica, one
  // that declares its flags only with allow-stale.
  if (!script.declared) return errors::kMasterDown;
  if (!script.allow_stale) return errors::kMasterDownScript;
  return std::nullopt;
}

uint32_t ScriptCommandFlags(uint32_t cmd_flags, const ScriptFlags& script) {
  if (!script.declared) return cmd_flags;
  cmd_flags &= ~(CO::kStale | CO::kDenyOom | CO::kWrite | CO::kMayReplicate);
  // no-writes implies allow-oom.
  if (!script.allow_oom && !script.no_writes) cmd_flags |= CO::kDenyOom;
  if (!script.no_writes) cmd_flags |= CO::kWrite;
  if (script.allow_stale) cmd_flags |= CO::kStale;
  return cmd_flags;
}

std::optional<size_t> ParseNumKeys(CommandContext& ctx, CmdArgs args,
                                   std::string_view not_integer) {
  int64_t numkeys;
  if (!ParseInt64(args[2], &numkeys)) {
    ctx.rb().SendError(not_integer);
    return std::nullopt;
  }
  if (numkeys < 0) {
    ctx.rb().SendError(errors::kNumKeysNegative);
    return std::nullopt;
  }
  if (numkeys > static_cast<int64_t>(args.size()) - 3) {
    ctx.rb().SendError(errors::kNumKeysTooMany);
    return std::nullopt;
  }
  return static_cast<size_t>(numkeys);
}

std::string_view CodeWithoutShebang(std::string_view code, std::string* storage) {
  if (code.substr(0, 2) != "#!") return code;
  const size_t eol = code.find('\n');
  *storage = eol == std::string_view::npos ? "" : std::string(code.substr(eol));
  return *storage;
}

void PushRealGlobals(lua_State* L) { lua_getfield(L, LUA_REGISTRYINDEX, kRegistryGlobals); }

void PushStringArray(lua_State* L, CmdArgs values) {
  lua_createtable(L, static_cast<int>(values.size()), 0);
  for (size_t i = 0; i < values.size(); i++) {
    lua_pushlstring(L, values[i].data(), values[i].size());
    lua_rawseti(L, -2, static_cast<int>(i + 1));
  }
}

}  // namespace keyward
