#include "server/scripting/lua_engine.h"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

#include "server/commands/context.h"
#include "server/core/errors.h"
#include "server/core/strings.h"
#include "server/scripting/sandbox.h"
#include "server/server.h"

namespace keyward {

namespace {
constexpr const char* kChunkName = "@user_script";
}  // namespace

LuaEngine::LuaEngine(Server& server)
    : server_(server), transport_(std::make_unique<ScriptTransport>()) {
  script_client_ = std::make_unique<Client>(0, transport_.get(), server_.now_ms());
  script_client_->authenticated = true;
  CreateState();
}

LuaEngine::~LuaEngine() {
  if (lua_ != nullptr) lua_close(lua_);
}

void LuaEngine::CreateState() {
  if (lua_ != nullptr) lua_close(lua_);
  lua_ = NewSandboxState();
}

std::optional<std::string> LuaEngine::Compile(const std::string& sha, std::string_view body) {
  lua_State* L = lua_;
  // A "#!lua ..." first line is blanked, not removed: line numbers stay those of the text.
  std::string text;
  if (body.substr(0, 2) == "#!") {
    size_t eol = body.find('\n');
    text = eol == std::string_view::npos ? "" : std::string(body.substr(eol));
    body = text;
  }
  if (luaL_loadbuffer(L, body.data(), body.size(), kChunkName) != 0) {
    std::string error = "Error compiling script (new function): ";
    if (const char* msg = lua_tostring(L, -1)) error += msg;
    lua_pop(L, 1);
    return error;
  }
  lua_setfield(L, LUA_REGISTRYINDEX, ("f_" + sha).c_str());
  return std::nullopt;
}

std::string LuaEngine::Load(std::string_view body, std::string* error) {
  std::string sha = Sha1Hex(body);
  if (scripts_.count(sha) == 0) {
    if (auto failed = Compile(sha, body)) {
      *error = *failed;
      return "";
    }
    scripts_.emplace(sha, std::string(body));
  }
  return sha;
}

bool LuaEngine::Exists(std::string_view sha) const { return scripts_.count(ToLower(sha)) != 0; }

void LuaEngine::Flush() {
  scripts_.clear();
  CreateState();
}

int64_t LuaEngine::memory_bytes() const {
  return static_cast<int64_t>(lua_gc(lua_, LUA_GCCOUNT, 0)) * 1024 + lua_gc(lua_, LUA_GCCOUNTB, 0);
}

void LuaEngine::Eval(CommandContext& ctx, CmdArgs args, bool by_sha, bool read_only) {
  // numkeys: an integer, not negative, not more than the arguments that follow.
  int64_t numkeys;
  if (!ParseInt64(args[2], &numkeys)) return ctx.rb().SendError(errors::kNotInteger);
  if (numkeys < 0) return ctx.rb().SendError("ERR Number of keys can't be negative");
  if (numkeys > static_cast<int64_t>(args.size()) - 3) {
    return ctx.rb().SendError("ERR Number of keys can't be greater than number of args");
  }
  std::string sha;
  std::string_view body;
  if (by_sha) {
    sha = ToLower(args[1]);
    auto it = scripts_.find(sha);
    if (it == scripts_.end()) {
      return ctx.rb().SendError("NOSCRIPT No matching script. Please use EVAL.");
    }
    body = it->second;
  } else {
    body = args[1];
  }
  // Shebang flags: only no-writes changes anything on a single server without eviction.
  bool no_writes = false;
  if (body.substr(0, 2) == "#!") {
    std::string_view first = body.substr(0, body.find('\n'));
    std::string_view rest = first;
    size_t space = rest.find(' ');
    std::string_view engine = rest.substr(0, space);
    if (engine != "#!lua") {
      return ctx.rb().SendError("ERR Unexpected engine in script shebang: " + std::string(first));
    }
    rest = space == std::string_view::npos ? "" : rest.substr(space + 1);
    while (!rest.empty()) {
      size_t next = rest.find(' ');
      std::string_view part = rest.substr(0, next);
      rest = next == std::string_view::npos ? "" : rest.substr(next + 1);
      if (part.empty()) continue;
      if (part.substr(0, 6) != "flags=") {
        return ctx.rb().SendError("ERR Unknown lua shebang option: " + std::string(part));
      }
      std::string_view flags = part.substr(6);
      while (!flags.empty()) {
        size_t comma = flags.find(',');
        std::string_view flag = flags.substr(0, comma);
        flags = comma == std::string_view::npos ? "" : flags.substr(comma + 1);
        if (flag == "no-writes") {
          no_writes = true;
        } else if (flag != "allow-oom" && flag != "allow-stale" && flag != "no-cluster" &&
                   flag != "allow-cross-slot-keys" && !flag.empty()) {
          return ctx.rb().SendError("ERR Unexpected flag in script shebang: " + std::string(flag));
        }
      }
    }
  }
  if (!by_sha) {
    std::string error;
    sha = Load(body, &error);
    if (sha.empty()) return ctx.rb().SendError("ERR " + error);
  }

  lua_State* L = lua_;
  ScriptRun run{
      .script_client = script_client_.get(), .ctx = &ctx, .read_only = read_only || no_writes};
  run.command = args;
  PushRealGlobals(L);
  PushStringArray(L, args.subspan(3, static_cast<size_t>(numkeys)));
  lua_setfield(L, -2, "KEYS");
  PushStringArray(L, args.subspan(3 + static_cast<size_t>(numkeys)));
  lua_setfield(L, -2, "ARGV");
  lua_pop(L, 1);
  lua_getfield(L, LUA_REGISTRYINDEX, ("f_" + sha).c_str());
  RunProtected(L, run, 0, sha);
}

}  // namespace keyward
