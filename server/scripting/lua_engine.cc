#include "server/scripting/lua_engine.h"

#include <cctype>
#include <utility>
#include <vector>

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

#include "server/core/errors.h"
#include "server/core/strings.h"
#include "server/engine/context.h"
#include "server/engine/executor.h"
#include "server/protocol/request_parser.h"
#include "server/scripting/sandbox.h"

namespace keyward {

namespace {
constexpr const char* kChunkName = "@user_script";
}  // namespace

LuaEngine::LuaEngine(Executor& executor)
    : executor_(executor), transport_(std::make_unique<ScriptTransport>()) {
  script_client_ = std::make_unique<Client>(0, transport_.get(), executor_.keyspace().now_ms());
  script_client_->authenticated = true;
  script_client_->flags |= Client::kScript;
  CreateState();
}

LuaEngine::~LuaEngine() {
  if (lua_ != nullptr) lua_close(lua_);
}

void LuaEngine::CreateState() {
  if (lua_ != nullptr) lua_close(lua_);
  lua_ = NewSandboxState();
}

std::optional<std::string> LuaEngine::Compile(std::string_view body, int* ref) {
  lua_State* L = lua_;
  std::string storage;
  body = CodeWithoutShebang(body, &storage);
  if (luaL_loadbuffer(L, body.data(), body.size(), kChunkName) != 0) {
    const char* msg = lua_tostring(L, -1);
    std::string error = errors::ScriptCompileFailed(msg != nullptr ? msg : "");
    lua_pop(L, 1);
    return error;
  }
  *ref = luaL_ref(L, LUA_REGISTRYINDEX);
  return std::nullopt;
}

std::optional<std::string> ParseShebang(std::string_view body, ScriptFlags* out) {
  *out = ScriptFlags{};
  if (body.substr(0, 2) != "#!") return std::nullopt;
  out->declared = true;
  const size_t eol = body.find('\n');
  if (eol == std::string_view::npos) return std::string(errors::kInvalidShebang);
  // Split like a command line (quotes, any whitespace), as Redis's sdssplitargs does.
  std::vector<std::string> parts;
  if (!SplitArgs(body.substr(0, eol), &parts) || parts.empty()) {
    return std::string(errors::kInvalidShebangEngine);
  }
  if (parts[0] != "#!lua") return errors::UnexpectedShebangEngine(parts[0]);
  for (size_t i = 1; i < parts.size(); i++) {
    std::string_view part = parts[i];
    if (part.substr(0, 6) != "flags=") {
      return errors::UnknownShebangOption(part);
    }
    std::string_view flags = part.substr(6);
    if (flags.empty()) continue;
    while (true) {
      size_t comma = flags.find(',');
      std::string_view flag = flags.substr(0, comma);
      if (flag == "no-writes") {
        out->no_writes = true;
      } else if (flag == "allow-oom") {
        out->allow_oom = true;
      } else if (flag == "allow-stale") {
        out->allow_stale = true;
      } else if (flag != "no-cluster" && flag != "allow-cross-slot-keys") {
        return errors::UnexpectedShebangFlag(flag);
      }
      if (comma == std::string_view::npos) break;
      flags = flags.substr(comma + 1);
    }
  }
  return std::nullopt;
}

std::string LuaEngine::Load(std::string_view body, std::string* error) {
  // SCRIPT LOAD checks the shebang as EVAL would.
  ScriptFlags flags;
  if (auto bad = ParseShebang(body, &flags)) {
    *error = std::move(*bad);
    return "";
  }
  std::string sha = Sha1Hex(body);
  if (scripts_.find(sha) == scripts_.end()) {
    int ref = 0;
    if (auto failed = Compile(body, &ref)) {
      *error = std::move(*failed);
      return "";
    }
    scripts_.emplace(sha, CachedScript{std::string(body), ref});
  }
  return sha;
}

bool LuaEngine::Exists(std::string_view sha) const {
  return scripts_.find(ToLower(sha)) != scripts_.end();
}

void LuaEngine::Flush() {
  scripts_.clear();
  CreateState();
}

std::optional<ScriptFlags> LuaEngine::FlagsOf(CmdArgs args, bool by_sha) const {
  std::string_view body = args[1];
  if (by_sha) {
    if (args[1].size() != 40) return std::nullopt;
    auto it = scripts_.find(ToLower(args[1]));
    if (it == scripts_.end()) return std::nullopt;
    body = it->second.body;
  }
  ScriptFlags flags;
  if (ParseShebang(body, &flags)) return std::nullopt;
  return flags;
}

int64_t LuaEngine::memory_bytes() const {
  return static_cast<int64_t>(lua_gc(lua_, LUA_GCCOUNT, 0)) * 1024 + lua_gc(lua_, LUA_GCCOUNTB, 0);
}

size_t LuaEngine::cache_bytes() const {
  // A node of the unordered_map holds the pair and a next pointer; each bucket is a pointer.
  size_t bytes = scripts_.bucket_count() * sizeof(void*);
  for (const auto& [sha, script] : scripts_) {
    bytes += sizeof(void*) + sizeof(std::pair<const std::string, CachedScript>);
    if (sha.capacity() >= sizeof(std::string)) bytes += sha.capacity() + 1;  // not inline (SSO)
    if (script.body.capacity() >= sizeof(std::string)) bytes += script.body.capacity() + 1;
  }
  return bytes;
}

void LuaEngine::Eval(CommandContext& ctx, CmdArgs args, bool by_sha, bool read_only) {
  // numkeys: an integer, not negative, not more than the arguments that follow.
  const auto parsed = ParseNumKeys(ctx, args, errors::kNotInteger);
  if (!parsed) return;
  const size_t numkeys = *parsed;
  std::string sha;
  std::string_view body;
  const CachedScript* script = nullptr;
  if (by_sha) {
    // SHA1s match case-insensitively; lowered on the stack (a SHA1 is 40 characters), since
    // EVALSHA is the hot path of every lock library.
    char lowered[40];
    const std::string_view given = args[1];
    auto it = scripts_.end();
    if (given.size() == sizeof lowered) {
      for (size_t i = 0; i < given.size(); i++) {
        lowered[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(given[i])));
      }
      it = scripts_.find(std::string_view(lowered, sizeof lowered));
    }
    if (it == scripts_.end()) {
      return ctx.rb().SendError(errors::kNoScript);
    }
    script = &it->second;
    body = script->body;
    sha = it->first;
  } else {
    body = args[1];
  }
  // Shebang flags: the gatekeeper already ran with the command flags they imply
  // (ScriptCommandFlags); no-writes also makes the script read-only.
  ScriptFlags flags;
  if (auto error = ParseShebang(body, &flags)) return ctx.rb().SendError(*error);
  const bool no_writes = flags.no_writes;
  // A script that declares its flags must declare no-writes to run as read-only.
  if (read_only && flags.declared && !no_writes) {
    return ctx.rb().SendError(errors::kWriteScriptInRoCommand);
  }
  if (auto refusal = StaleRefusal(ctx, flags)) return ctx.rb().SendError(*refusal);
  if (!by_sha) {
    std::string error;
    sha = Load(body, &error);
    if (sha.empty()) return ctx.rb().SendError(error);
    script = &scripts_.find(sha)->second;
  }

  lua_State* L = lua_;
  ScriptRun run{
      .script_client = script_client_.get(), .ctx = &ctx, .read_only = read_only || no_writes};
  run.allow_oom = flags.allow_oom;
  run.command = args;
  PushRealGlobals(L);
  PushStringArray(L, args.subspan(3, numkeys));
  lua_setfield(L, -2, "KEYS");
  PushStringArray(L, args.subspan(3 + numkeys));
  lua_setfield(L, -2, "ARGV");
  lua_pop(L, 1);
  lua_rawgeti(L, LUA_REGISTRYINDEX, script->ref);
  ResetScriptRandom();
  RunProtected(L, run, 0, sha);
}

}  // namespace keyward
