// SAVE, BGSAVE [SCHEDULE] and LASTSAVE: RDB snapshots on demand (storage/rdb_persistence.h);
// BGREWRITEAOF: a new AOF base file (storage/aof_persistence.h).
#include "server/commands/families.h"
#include "server/commands/services.h"
#include "server/core/errors.h"
#include "server/core/strings.h"
#include "server/engine/context.h"
#include "server/engine/registry.h"
#include "server/storage/aof_persistence.h"
#include "server/storage/rdb_persistence.h"

namespace keyward {

namespace {

void CmdSave(CmdArgs args, CommandContext& ctx) {
  RdbPersistence& rdb = ctx.services().rdb;
  if (rdb.bgsave_in_progress()) return ctx.rb().SendError(errors::kBgsaveInProgress);
  if (!rdb.Save()) return ctx.rb().SendError("ERR");
  ctx.rb().SendOk();
}

// BGSAVE [SCHEDULE]: inside EXEC the save is only scheduled (the cron starts it), as Redis.
void CmdBgsave(CmdArgs args, CommandContext& ctx) {
  if (args.size() > 1 && !(args.size() == 2 && EqualsIgnoreCase(args[1], "schedule"))) {
    return ctx.rb().SendError(errors::kSyntax);
  }
  RdbPersistence& rdb = ctx.services().rdb;
  if (rdb.bgsave_in_progress()) return ctx.rb().SendError(errors::kBgsaveInProgress);
  // Another snapshot job (an AOF rewrite) is running, or we are inside EXEC.
  if (ctx.services().snapshots.running() || ctx.caller() == CallerKind::kExec) {
    if (args.size() == 2 || ctx.caller() == CallerKind::kExec) {
      rdb.ScheduleBackgroundSave();
      return ctx.rb().SendSimple("Background saving scheduled");
    }
    return ctx.rb().SendError(
        "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE "
        "in order to schedule a BGSAVE whenever possible.");
  }
  rdb.BackgroundSave();
  ctx.rb().SendSimple("Background saving started");
}

// BGREWRITEAOF: scheduled while a BGSAVE runs or inside EXEC, as Redis.
void CmdBgrewriteaof(CmdArgs args, CommandContext& ctx) {
  switch (ctx.services().aof.BackgroundRewrite(ctx.caller() == CallerKind::kExec)) {
    case AofPersistence::RewriteOutcome::kInProgress:
      return ctx.rb().SendError("ERR Background append only file rewriting already in progress");
    case AofPersistence::RewriteOutcome::kScheduled:
      return ctx.rb().SendSimple("Background append only file rewriting scheduled");
    case AofPersistence::RewriteOutcome::kStarted:
      return ctx.rb().SendSimple("Background append only file rewriting started");
    case AofPersistence::RewriteOutcome::kFailed:
      return ctx.rb().SendError(
          "ERR Can't execute an AOF background rewriting. Please check the server logs for more "
          "information.");
  }
}

void CmdLastSave(CmdArgs args, CommandContext& ctx) {
  ctx.rb().SendLong(ctx.services().rdb.lastsave());
}

}  // namespace

void RegisterPersistenceFamily(CommandRegistry& r) {
  r << CommandSpec{"save",
                   1,
                   CO::kAdmin | CO::kNoScript | CO::kNoAsyncLoading | CO::kNoMulti,
                   0,
                   0,
                   0,
                   Acl::kDangerous,
                   CmdSave,
                   {"Synchronously save the dataset to disk", "1.0.0", "server",
                    "O(N) where N is the total number of keys in all databases", ""}}
    << CommandSpec{"bgsave",
                   -1,
                   CO::kAdmin | CO::kNoScript | CO::kNoAsyncLoading,
                   0,
                   0,
                   0,
                   Acl::kDangerous,
                   CmdBgsave,
                   {"Asynchronously save the dataset to disk", "1.0.0", "server", "O(1)",
                    "[SCHEDULE]"}}
    << CommandSpec{"bgrewriteaof",
                   1,
                   CO::kAdmin | CO::kNoScript | CO::kNoAsyncLoading,
                   0,
                   0,
                   0,
                   Acl::kDangerous,
                   CmdBgrewriteaof,
                   {"Asynchronously rewrite the append-only file", "1.0.0", "server", "O(1)", ""}}
    << CommandSpec{"lastsave",
                   1,
                   CO::kLoading | CO::kStale | CO::kFast,
                   0,
                   0,
                   0,
                   Acl::kAdmin | Acl::kDangerous,
                   CmdLastSave,
                   {"Get the UNIX time stamp of the last successful save to disk", "1.0.0",
                    "server", "O(1)", ""}};
}

}  // namespace keyward
