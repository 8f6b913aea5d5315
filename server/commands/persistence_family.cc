// SAVE, BGSAVE [SCHEDULE] and LASTSAVE: RDB snapshots on demand (storage/rdb_persistence.h).
#include "server/commands/families.h"
#include "server/commands/services.h"
#include "server/core/errors.h"
#include "server/core/strings.h"
#include "server/engine/context.h"
#include "server/engine/registry.h"
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
  if (ctx.caller() == CallerKind::kExec) {
    rdb.ScheduleBackgroundSave();
    return ctx.rb().SendSimple("Background saving scheduled");
  }
  rdb.BackgroundSave();
  ctx.rb().SendSimple("Background saving started");
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
