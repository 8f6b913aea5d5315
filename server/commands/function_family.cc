// Functions: FUNCTION LOAD/DELETE/LIST/FLUSH/STATS/KILL/DUMP/RESTORE/HELP, FCALL, FCALL_RO. The
// libraries and their Lua state are in server/scripting/function_engine.*; DUMP payloads use the
// RDB encoding of server/persistence/rdb_codec.*.
#include "server/commands/families.h"
#include "server/commands/services.h"
#include "server/core/errors.h"
#include "server/core/strings.h"
#include "server/engine/context.h"
#include "server/engine/registry.h"
#include "server/scripting/function_engine.h"
#include "server/scripting/script_flags.h"

namespace keyward {

namespace {

void CmdFcall(CmdArgs args, CommandContext& ctx) {
  ctx.services().functions.Call(ctx, args, false);
}
void CmdFcallRo(CmdArgs args, CommandContext& ctx) {
  ctx.services().functions.Call(ctx, args, true);
}

void CmdFunctionLoad(CmdArgs args, CommandContext& ctx) {
  bool replace = false;
  size_t i = 2;
  for (; i + 1 < args.size(); i++) {
    if (!EqualsIgnoreCase(args[i], "REPLACE")) {
      return ctx.rb().SendError(errors::FunctionUnknownOption(args[i]));
    }
    replace = true;
  }
  if (i != args.size() - 1) return ctx.rb().SendError(errors::WrongArgs("function|load"));
  std::string error;
  std::string name = ctx.services().functions.Load(args[i], replace, &error);
  if (name.empty()) return ctx.rb().SendError(error);
  ctx.AddDirty();
  ctx.rb().SendBulk(name);
}

void CmdFunctionDelete(CmdArgs args, CommandContext& ctx) {
  if (!ctx.services().functions.Delete(args[2])) {
    return ctx.rb().SendError(errors::kLibraryNotFound);
  }
  ctx.AddDirty();
  ctx.rb().SendOk();
}

void CmdFunctionFlush(CmdArgs args, CommandContext& ctx) {
  if (args.size() == 3 && !EqualsIgnoreCase(args[2], "SYNC") &&
      !EqualsIgnoreCase(args[2], "ASYNC")) {
    return ctx.rb().SendError(errors::kFunctionFlushMode);
  }
  if (args.size() > 3) return ctx.rb().SendError(errors::SubcommandSyntax("FUNCTION", args[1]));
  ctx.services().functions.Flush();
  ctx.AddDirty();
  ctx.rb().SendOk();
}

void CmdFunctionList(CmdArgs args, CommandContext& ctx) {
  bool with_code = false;
  std::optional<std::string_view> pattern;
  for (size_t i = 2; i < args.size(); i++) {
    if (EqualsIgnoreCase(args[i], "WITHCODE") && !with_code) {
      with_code = true;
    } else if (EqualsIgnoreCase(args[i], "LIBRARYNAME") && !pattern) {
      if (i + 1 >= args.size()) {
        return ctx.rb().SendError(errors::kLibraryNameArgMissing);
      }
      pattern = args[++i];
    } else {
      return ctx.rb().SendError(errors::FunctionUnknownArgument(args[i]));
    }
  }
  const auto& libraries = ctx.services().functions.libraries();
  std::vector<const FunctionEngine::Library*> shown;
  for (const auto& [name, library] : libraries) {
    if (!pattern || GlobMatch(*pattern, name)) shown.push_back(&library);
  }
  ReplyBuilder& rb = ctx.rb();
  rb.StartArray(shown.size());
  for (const FunctionEngine::Library* library : shown) {
    rb.StartMap(with_code ? 4 : 3);
    rb.SendBulk("library_name");
    rb.SendBulk(library->name);
    rb.SendBulk("engine");
    rb.SendBulk("LUA");
    rb.SendBulk("functions");
    rb.StartArray(library->functions.size());
    for (const auto& [fname, f] : library->functions) {
      rb.StartMap(3);
      rb.SendBulk("name");
      rb.SendBulk(f.name);
      rb.SendBulk("description");
      if (f.description) {
        rb.SendBulk(*f.description);
      } else {
        rb.SendNull();
      }
      rb.SendBulk("flags");
      rb.StartSet(f.flags.size());
      for (const auto& flag : f.flags) rb.SendSimple(flag);
    }
    if (with_code) {
      rb.SendBulk("library_code");
      rb.SendBulk(library->code);
    }
  }
}

void CmdFunctionStats(CmdArgs args, CommandContext& ctx) {
  ReplyBuilder& rb = ctx.rb();
  FunctionEngine& functions = ctx.services().functions;
  rb.StartMap(2);
  rb.SendBulk("running_script");
  const auto& slot = ctx.services().state.busy_script;
  const BusyScript* busy = slot ? &*slot : nullptr;
  if (busy != nullptr && busy->function) {
    rb.StartMap(3);
    rb.SendBulk("name");
    rb.SendBulk(busy->name);
    rb.SendBulk("command");
    rb.StartArray(busy->command.size());
    for (const auto& a : busy->command) rb.SendBulk(a);
    rb.SendBulk("duration_ms");
    rb.SendLong(ctx.now_ms() - busy->start_ms);
  } else {
    rb.SendNull();
  }
  rb.SendBulk("engines");
  rb.StartMap(1);
  rb.SendBulk("LUA");
  rb.StartMap(2);
  rb.SendBulk("libraries_count");
  rb.SendLong(static_cast<int64_t>(functions.libraries().size()));
  rb.SendBulk("functions_count");
  rb.SendLong(static_cast<int64_t>(functions.function_count()));
}

void CmdFunctionDump(CmdArgs args, CommandContext& ctx) {
  ctx.rb().SendBulk(ctx.services().functions.Dump());
}

void CmdFunctionRestore(CmdArgs args, CommandContext& ctx) {
  auto policy = FunctionEngine::RestorePolicy::kAppend;
  if (args.size() > 4) return ctx.rb().SendError(errors::kSyntax);
  if (args.size() == 4) {
    if (EqualsIgnoreCase(args[3], "FLUSH")) {
      policy = FunctionEngine::RestorePolicy::kFlush;
    } else if (EqualsIgnoreCase(args[3], "REPLACE")) {
      policy = FunctionEngine::RestorePolicy::kReplace;
    } else if (!EqualsIgnoreCase(args[3], "APPEND")) {
      return ctx.rb().SendError(errors::kRestorePolicy);
    }
  }
  std::string error = ctx.services().functions.Restore(args[2], policy);
  if (!error.empty()) return ctx.rb().SendError(error);
  ctx.AddDirty();
  ctx.rb().SendOk();
}

void CmdFunctionKill(CmdArgs args, CommandContext& ctx) { KillBusyScript(ctx, true); }

void CmdFunctionHelp(CmdArgs args, CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "LOAD [REPLACE] <FUNCTION CODE>",
      "    Create a new library with the given library name and code.",
      "DELETE <LIBRARY NAME>",
      "    Delete the given library.",
      "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
      "    Return general information on all the libraries:",
      "    * Library name",
      "    * The engine used to run the Library",
      "    * Library description",
      "    * Functions list",
      "    * Library code (if WITHCODE is given)",
      "    It also possible to get only function that matches a pattern using LIBRARYNAME "
      "argument.",
      "STATS",
      "    Return information about the current function running:",
      "    * Function name",
      "    * Command used to run the function",
      "    * Duration in MS that the function is running",
      "    If no function is running, return nil",
      "    In addition, returns a list of available engines.",
      "KILL",
      "    Kill the current running function.",
      "FLUSH [ASYNC|SYNC]",
      "    Delete all the libraries.",
      "    When called without the optional mode argument, the behavior is determined by the",
      "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
      "    * ASYNC: Asynchronously flush the libraries.",
      "    * SYNC: Synchronously flush the libraries.",
      "DUMP",
      "    Return a serialized payload representing the current libraries, can be restored "
      "using FUNCTION RESTORE command",
      "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
      "    Restore the libraries represented by the given payload, it is possible to give a "
      "restore policy to",
      "    control how to handle existing libraries (default APPEND):",
      "    * FLUSH: delete all existing libraries.",
      "    * APPEND: appends the restored libraries to the existing libraries. On collision, "
      "abort.",
      "    * REPLACE: appends the restored libraries to the existing libraries, On collision, "
      "replace the old",
      "      libraries with the new libraries (notice that even on this option there is a "
      "chance of failure",
      "      in case of functions name collision with another library).",
  };
  ctx.rb().SendHelp("FUNCTION", kLines);
}

// FCALL runs with the flags its function declares.
uint32_t FcallFlags(CmdArgs args, uint32_t flags, Services& s) {
  auto declared = s.functions.FlagsOf(args);
  return declared ? ScriptCommandFlags(flags, *declared) : flags;
}

}  // namespace

void RegisterFunctionFamily(CommandRegistry& r) {
  constexpr uint64_t kScripting = Acl::kScripting;
  constexpr uint32_t kCallFlags =
      CO::kNoScript | CO::kStale | CO::kSkipMonitor | CO::kNoMandatoryKeys | CO::kMovableKeys;
  r << CommandSpec{"fcall",
                   -3,
                   kCallFlags | CO::kMayReplicate,
                   0,
                   0,
                   0,
                   kScripting,
                   CmdFcall,
                   {"Invoke a function", "7.0.0", "scripting",
                    "Depends on the function that is executed.",
                    "function numkeys [key [key ...]] [arg [arg ...]]"}}
           .WithFlagsHook(FcallFlags)
    << CommandSpec{"fcall_ro",
                   -3,
                   kCallFlags | CO::kReadOnly,
                   0,
                   0,
                   0,
                   kScripting,
                   CmdFcallRo,
                   {"Invoke a read-only function", "7.0.0", "scripting",
                    "Depends on the function that is executed.",
                    "function numkeys [key [key ...]] [arg [arg ...]]"}}
           .WithFlagsHook(FcallFlags);
  CommandSpec function{
      "function",
      -2,
      0,
      0,
      0,
      0,
      0,
      nullptr,
      {"A container for function commands", "7.0.0", "scripting", "Depends on subcommand.", ""}};
  function
      .AddSubcommand({"load",
                      -3,
                      CO::kWrite | CO::kDenyOom | CO::kNoScript,
                      0,
                      0,
                      0,
                      kScripting,
                      CmdFunctionLoad,
                      {"Create a function with the given arguments (name, code, description)",
                       "7.0.0", "scripting", "O(1) (considering compilation time is redundant)",
                       "[REPLACE] function-code"}})
      .AddSubcommand({"delete",
                      3,
                      CO::kWrite | CO::kNoScript,
                      0,
                      0,
                      0,
                      kScripting,
                      CmdFunctionDelete,
                      {"Delete a function by name", "7.0.0", "scripting", "O(1)", "library-name"}})
      .AddSubcommand({"list",
                      -2,
                      CO::kNoScript,
                      0,
                      0,
                      0,
                      kScripting,
                      CmdFunctionList,
                      {"List information about all the functions", "7.0.0", "scripting",
                       "O(N) where N is the number of functions",
                       "[LIBRARYNAME library-name-pattern] [WITHCODE]"}})
      .AddSubcommand({"flush",
                      -2,
                      CO::kWrite | CO::kNoScript,
                      0,
                      0,
                      0,
                      kScripting,
                      CmdFunctionFlush,
                      {"Deleting all functions", "7.0.0", "scripting",
                       "O(N) where N is the number of functions deleted", "[ASYNC|SYNC]"}})
      .AddSubcommand({"stats",
                      2,
                      CO::kNoScript | CO::kAllowBusy,
                      0,
                      0,
                      0,
                      kScripting,
                      CmdFunctionStats,
                      {"Return information about the function currently running (name, "
                       "description, duration)",
                       "7.0.0", "scripting", "O(1)", ""}})
      .AddSubcommand(
          {"kill",
           2,
           CO::kNoScript | CO::kAllowBusy,
           0,
           0,
           0,
           kScripting,
           CmdFunctionKill,
           {"Kill the function currently in execution.", "7.0.0", "scripting", "O(1)", ""}})
      .AddSubcommand({"dump",
                      2,
                      CO::kNoScript,
                      0,
                      0,
                      0,
                      kScripting,
                      CmdFunctionDump,
                      {"Dump all functions into a serialized binary payload", "7.0.0", "scripting",
                       "O(N) where N is the number of functions", ""}})
      .AddSubcommand({"restore",
                      -3,
                      CO::kWrite | CO::kDenyOom | CO::kNoScript,
                      0,
                      0,
                      0,
                      kScripting,
                      CmdFunctionRestore,
                      {"Restore all the functions on the given payload", "7.0.0", "scripting",
                       "O(N) where N is the number of functions on the payload",
                       "serialized-value [FLUSH|APPEND|REPLACE]"}})
      .AddSubcommand({"help",
                      2,
                      CO::kLoading | CO::kStale,
                      0,
                      0,
                      0,
                      kScripting,
                      CmdFunctionHelp,
                      {"Show helpful text about the different subcommands", "7.0.0", "scripting",
                       "O(1)", ""}});
  r << std::move(function);
}

}  // namespace keyward
