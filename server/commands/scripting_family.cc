// Scripting commands: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT. The engine, its sandbox
// and the conversions are in server/scripting/.
#include "server/commands/families.h"
#include "server/commands/services.h"
#include "server/core/errors.h"
#include "server/core/strings.h"
#include "server/engine/context.h"
#include "server/engine/registry.h"
#include "server/scripting/lua_engine.h"
#include "server/scripting/script_flags.h"

namespace keyward {

namespace {

void CmdEval(CmdArgs args, CommandContext& ctx) {
  ctx.services().lua.Eval(ctx, args, false, false);
}
void CmdEvalSha(CmdArgs args, CommandContext& ctx) {
  ctx.services().lua.Eval(ctx, args, true, false);
}
void CmdEvalRo(CmdArgs args, CommandContext& ctx) {
  ctx.services().lua.Eval(ctx, args, false, true);
}
void CmdEvalShaRo(CmdArgs args, CommandContext& ctx) {
  ctx.services().lua.Eval(ctx, args, true, true);
}

void CmdScriptLoad(CmdArgs args, CommandContext& ctx) {
  std::string error;
  std::string sha = ctx.services().lua.Load(args[2], &error);
  if (sha.empty()) return ctx.rb().SendError(error);
  ctx.rb().SendBulk(sha);
}

void CmdScriptExists(CmdArgs args, CommandContext& ctx) {
  ctx.rb().StartArray(args.size() - 2);
  for (size_t i = 2; i < args.size(); i++) ctx.rb().SendLong(ctx.services().lua.Exists(args[i]));
}

void CmdScriptFlush(CmdArgs args, CommandContext& ctx) {
  if (args.size() > 3 || (args.size() == 3 && !EqualsIgnoreCase(args[2], "SYNC") &&
                          !EqualsIgnoreCase(args[2], "ASYNC"))) {
    return ctx.rb().SendError(errors::kScriptFlushMode);
  }
  // The Lua state is small and freed at once; ASYNC and SYNC behave the same.
  ctx.services().lua.Flush();
  ctx.rb().SendOk();
}

void CmdScriptKill(CmdArgs args, CommandContext& ctx) { KillBusyScript(ctx, false); }

void CmdScriptDebug(CmdArgs args, CommandContext& ctx) {
  if (EqualsIgnoreCase(args[2], "NO")) return ctx.rb().SendOk();
  if (EqualsIgnoreCase(args[2], "YES") || EqualsIgnoreCase(args[2], "SYNC")) {
    return ctx.rb().SendError(errors::kScriptDebugUnsupported);
  }
  ctx.rb().SendError(errors::kScriptDebugMode);
}

void CmdScriptHelp(CmdArgs args, CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "DEBUG (YES|SYNC|NO)",
      "    Set the debug mode for subsequent scripts executed.",
      "EXISTS <sha1> [<sha1> ...]",
      "    Return information about the existence of the scripts in the script cache.",
      "FLUSH [ASYNC|SYNC]",
      "    Flush the Lua scripts cache. Very dangerous on replicas.",
      "    When called without the optional mode argument, the behavior is determined by the",
      "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
      "    * ASYNC: Asynchronously flush the scripts cache.",
      "    * SYNC: Synchronously flush the scripts cache.",
      "KILL",
      "    Kill the currently executing Lua script.",
      "LOAD <script>",
      "    Load a script into the scripts cache without executing it.",
  };
  ctx.rb().SendHelp("SCRIPT", kLines);
}

// EVAL and EVALSHA run with the flags their script declares in its shebang.
uint32_t EvalFlags(CmdArgs args, uint32_t flags, Services& s) {
  auto declared = s.lua.FlagsOf(args, /*by_sha=*/false);
  return declared ? ScriptCommandFlags(flags, *declared) : flags;
}
uint32_t EvalShaFlags(CmdArgs args, uint32_t flags, Services& s) {
  auto declared = s.lua.FlagsOf(args, /*by_sha=*/true);
  return declared ? ScriptCommandFlags(flags, *declared) : flags;
}

}  // namespace

void KillBusyScript(CommandContext& ctx, bool function) {
  auto& slot = ctx.services().state.busy_script;
  BusyScript* busy = slot ? &*slot : nullptr;
  if (busy == nullptr || busy->function != function) {
    return ctx.rb().SendError(errors::kNotBusy);
  }
  if (*busy->wrote) {
    return ctx.rb().SendError(errors::kUnkillable);
  }
  *busy->kill = true;
  ctx.rb().SendOk();
}

void RegisterScriptingFamily(CommandRegistry& r) {
  constexpr uint64_t kScripting = Acl::kScripting;
  constexpr uint32_t kEvalFlags =
      CO::kNoScript | CO::kStale | CO::kSkipMonitor | CO::kNoMandatoryKeys | CO::kMovableKeys;
  // EVAL and EVALSHA may replicate (their scripts' writes); the _RO forms may not.
  r << CommandSpec{"eval",
                   -3,
                   kEvalFlags | CO::kMayReplicate,
                   0,
                   0,
                   0,
                   kScripting,
                   CmdEval,
                   {"Execute a Lua script server side", "2.6.0", "scripting",
                    "Depends on the script that is executed.",
                    "script numkeys [key [key ...]] [arg [arg ...]]"}}
           .WithFlagsHook(EvalFlags)
    << CommandSpec{"evalsha",
                   -3,
                   kEvalFlags | CO::kMayReplicate,
                   0,
                   0,
                   0,
                   kScripting,
                   CmdEvalSha,
                   {"Execute a Lua script server side", "2.6.0", "scripting",
                    "Depends on the script that is executed.",
                    "sha1 numkeys [key [key ...]] [arg [arg ...]]"}}
           .WithFlagsHook(EvalShaFlags)
    << CommandSpec{"eval_ro",
                   -3,
                   kEvalFlags | CO::kReadOnly,
                   0,
                   0,
                   0,
                   kScripting,
                   CmdEvalRo,
                   {"Execute a read-only Lua script server side", "7.0.0", "scripting",
                    "Depends on the script that is executed.",
                    "script numkeys [key [key ...]] [arg [arg ...]]"}}
           .WithFlagsHook(EvalFlags)
    << CommandSpec{"evalsha_ro",
                   -3,
                   kEvalFlags | CO::kReadOnly,
                   0,
                   0,
                   0,
                   kScripting,
                   CmdEvalShaRo,
                   {"Execute a read-only Lua script server side", "7.0.0", "scripting",
                    "Depends on the script that is executed.",
                    "sha1 numkeys [key [key ...]] [arg [arg ...]]"}}
           .WithFlagsHook(EvalShaFlags);

  CommandSpec script{"script",
                     -2,
                     0,
                     0,
                     0,
                     0,
                     0,
                     nullptr,
                     {"A container for Lua scripts management commands", "2.6.0", "scripting",
                      "Depends on subcommand.", ""}};
  script
      .AddSubcommand({"load",
                      3,
                      CO::kNoScript | CO::kStale,
                      0,
                      0,
                      0,
                      kScripting,
                      CmdScriptLoad,
                      {"Load the specified Lua script into the script cache.", "2.6.0", "scripting",
                       "O(N) with N being the length in bytes of the script body.", "script"}})
      .AddSubcommand({"exists",
                      -3,
                      CO::kNoScript,
                      0,
                      0,
                      0,
                      kScripting,
                      CmdScriptExists,
                      {"Check existence of scripts in the script cache.", "2.6.0", "scripting",
                       "O(N) with N being the number of scripts to check (so checking a single "
                       "script is an O(1) operation).",
                       "sha1 [sha1 ...]"}})
      .AddSubcommand({"flush",
                      -2,
                      CO::kNoScript,
                      0,
                      0,
                      0,
                      kScripting,
                      CmdScriptFlush,
                      {"Remove all the scripts from the script cache.", "2.6.0", "scripting",
                       "O(N) with N being the number of scripts in cache", "[ASYNC|SYNC]"}})
      .AddSubcommand(
          {"kill",
           2,
           CO::kNoScript | CO::kAllowBusy,
           0,
           0,
           0,
           kScripting,
           CmdScriptKill,
           {"Kill the script currently in execution.", "2.6.0", "scripting", "O(1)", ""}})
      .AddSubcommand({"debug",
                      3,
                      CO::kNoScript,
                      0,
                      0,
                      0,
                      kScripting,
                      CmdScriptDebug,
                      {"Set the debug mode for executed scripts.", "3.2.0", "scripting", "O(1)",
                       "YES|SYNC|NO"}})
      .AddSubcommand({"help",
                      2,
                      CO::kLoading | CO::kStale,
                      0,
                      0,
                      0,
                      kScripting,
                      CmdScriptHelp,
                      {"Show helpful text about the different subcommands", "5.0.0", "scripting",
                       "O(1)", ""}});
  r << std::move(script);
}

}  // namespace keyward
