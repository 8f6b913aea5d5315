// MEMORY USAGE, MEMORY PURGE and MEMORY HELP (object.c's memoryCommand). Keyward measures a key
// exactly (its entry, and every allocation of its value, by malloc's usable sizes) rather than
// estimating from samples, so SAMPLES is accepted and checked but changes nothing.
#include <malloc.h>

#include "server/commands/args.h"
#include "server/commands/families.h"
#include "server/core/errors.h"
#include "server/core/strings.h"
#include "server/engine/context.h"
#include "server/engine/registry.h"

namespace keyward {

namespace {

// MEMORY USAGE key [SAMPLES count]
void CmdMemoryUsage(CmdArgs args, CommandContext& ctx) {
  for (size_t j = 3; j < args.size(); j++) {
    if (EqualsIgnoreCase(args[j], "samples") && j + 1 < args.size()) {
      int64_t samples;
      if (!GetLong(ctx, args[j + 1], &samples)) return;
      if (samples < 0) return ctx.rb().SendError(errors::kSyntax);
      j++;
    } else {
      return ctx.rb().SendError(errors::kSyntax);
    }
  }
  Entry* e = ctx.db().Find(args[2], LookupMode::kNoTouch);
  if (e == nullptr) return ctx.rb().SendNull();
  // The entry holds the key and its table link; the bucket slot is the table's.
  ctx.rb().SendLong(static_cast<int64_t>(e->MemoryUsage() + sizeof(Entry*)));
}

// MEMORY PURGE: hands freed memory back to the system (glibc's malloc_trim, where Redis asks
// jemalloc to purge its arenas).
void CmdMemoryPurge(CmdArgs, CommandContext& ctx) {
  malloc_trim(0);
  ctx.rb().SendOk();
}

void CmdMemoryHelp(CmdArgs, CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "PURGE",
      "    Attempt to purge dirty pages for reclamation by the allocator.",
      "USAGE <key> [SAMPLES <count>]",
      "    Return memory in bytes used by <key> and its value. Nested values are",
      "    sampled up to <count> times (default: 5, 0 means sample all).",
  };
  ctx.rb().SendHelp("MEMORY", kLines);
}

}  // namespace

void RegisterMemoryFamily(CommandRegistry& r) {
  // clang-format off
  CommandSpec memory{"memory", -2, 0, 0, 0, 0, 0, nullptr,
                     {"A container for memory diagnostics commands", "4.0.0", "server",
                      "Depends on subcommand.", ""}};
  memory
      .AddSubcommand({"usage", -3, CO::kReadOnly, 2, 2, 1, 0, CmdMemoryUsage,
                      {"Estimate the memory usage of a key", "4.0.0", "server",
                       "O(N) where N is the number of samples.", "key [SAMPLES count]"}})
      .AddSubcommand({"purge", 2, 0, 0, 0, 0, 0, CmdMemoryPurge,
                      {"Ask the allocator to release memory", "4.0.0", "server",
                       "Depends on how much memory is allocated, could be slow", ""}})
      .AddSubcommand({"help", 2, CO::kLoading | CO::kStale, 0, 0, 0, 0, CmdMemoryHelp,
                      {"Show helpful text about the different subcommands", "4.0.0", "server",
                       "O(1)", ""}});
  r << std::move(memory);
  // clang-format on
}

}  // namespace keyward
