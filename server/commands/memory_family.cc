// MEMORY: USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE and HELP (object.c's memoryCommand).
// Keyward measures a key exactly (its entry, and every allocation of its value, by malloc's
// usable sizes) rather than estimating from samples, so SAMPLES is accepted and checked but
// changes nothing. STATS and DOCTOR read the accounting INFO memory prints (memory_overhead.h).
#include <malloc.h>

#include <string>

#include "server/commands/args.h"
#include "server/commands/families.h"
#include "server/commands/memory_overhead.h"
#include "server/commands/services.h"
#include "server/core/errors.h"
#include "server/core/strings.h"
#include "server/engine/context.h"
#include "server/engine/registry.h"
#include "server/scripting/lua_engine.h"

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

// MEMORY STATS: getMemoryOverheadData's figures, as Redis names and orders them: a map (a flat
// array in RESP2), each ratio a double (a bulk string in RESP2), a map per non-empty database.
void CmdMemoryStats(CmdArgs, CommandContext& ctx) {
  const MemoryOverhead mh = GetMemoryOverhead(ctx.services());
  ReplyBuilder& rb = ctx.rb();
  auto field = [&rb](std::string_view name, int64_t value) {
    rb.SendBulk(name);
    rb.SendLong(value);
  };
  auto ratio = [&rb](std::string_view name, float value) {
    rb.SendBulk(name);
    rb.SendDouble(value);
  };
  auto bytes = [](size_t n) { return static_cast<int64_t>(n); };
  rb.StartMap(27 + mh.dbs.size());
  field("peak.allocated", bytes(mh.peak_allocated));
  field("total.allocated", bytes(mh.total_allocated));
  field("startup.allocated", bytes(mh.startup_allocated));
  field("replication.backlog", bytes(mh.repl_backlog));
  field("clients.slaves", bytes(mh.clients_slaves));
  field("clients.normal", bytes(mh.clients_normal));
  field("cluster.links", bytes(mh.cluster_links));
  field("aof.buffer", bytes(mh.aof_buffer));
  field("lua.caches", bytes(mh.lua_caches));
  field("functions.caches", bytes(mh.functions_caches));
  for (const MemoryOverhead::Db& db : mh.dbs) {
    rb.SendBulk("db." + std::to_string(db.id));
    rb.StartMap(3);
    field("overhead.hashtable.main", bytes(db.overhead_ht_main));
    field("overhead.hashtable.expires", bytes(db.overhead_ht_expires));
    field("overhead.hashtable.slot-to-keys", 0);  // cluster mode only
  }
  field("overhead.total", bytes(mh.overhead_total));
  field("keys.count", bytes(mh.total_keys));
  field("keys.bytes-per-key", bytes(mh.bytes_per_key));
  field("dataset.bytes", bytes(mh.dataset));
  ratio("dataset.percentage", mh.dataset_perc);
  ratio("peak.percentage", mh.peak_perc);
  field("allocator.allocated", bytes(mh.allocator_allocated));
  field("allocator.active", bytes(mh.allocator_active));
  field("allocator.resident", bytes(mh.allocator_resident));
  ratio("allocator-fragmentation.ratio", mh.allocator_frag);
  field("allocator-fragmentation.bytes", mh.allocator_frag_bytes);
  ratio("allocator-rss.ratio", mh.allocator_rss);
  field("allocator-rss.bytes", mh.allocator_rss_bytes);
  ratio("rss-overhead.ratio", mh.rss_extra);
  field("rss-overhead.bytes", mh.rss_extra_bytes);
  ratio("fragmentation", mh.total_frag);
  field("fragmentation.bytes", mh.total_frag_bytes);
}

// MEMORY DOCTOR: getMemoryDoctorReport's text, decided from the same accounting.
void CmdMemoryDoctor(CmdArgs, CommandContext& ctx) {
  Services& s = ctx.services();
  const MemoryOverhead mh = GetMemoryOverhead(s);
  // No replicas yet: every client is a normal one.
  const DoctorInputs in{s.clients.size(), 0, s.lua.script_count()};
  ctx.rb().SendVerbatim(MemoryDoctorReport(mh, in));
}

// MEMORY MALLOC-STATS: the allocator's own report, as Redis replies jemalloc's; what Redis
// answers when its allocator has none (a sanitizer build's).
void CmdMemoryMallocStats(CmdArgs, CommandContext& ctx) {
  const std::string report = AllocatorStatsReport();
  if (report.empty()) return ctx.rb().SendBulk("Stats not supported for the current allocator");
  ctx.rb().SendVerbatim(report);
}

// MEMORY PURGE: hands freed memory back to the system (glibc's malloc_trim, where Redis asks
// jemalloc to purge its arenas).
void CmdMemoryPurge(CmdArgs, CommandContext& ctx) {
  malloc_trim(0);
  ctx.rb().SendOk();
}

void CmdMemoryHelp(CmdArgs, CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "DOCTOR",
      "    Return memory problems reports.",
      "MALLOC-STATS",
      "    Return internal statistics report from the memory allocator.",
      "PURGE",
      "    Attempt to purge dirty pages for reclamation by the allocator.",
      "STATS",
      "    Return information about the memory usage of the server.",
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
      .AddSubcommand({"stats", 2, 0, 0, 0, 0, 0, CmdMemoryStats,
                      {"Show memory usage details", "4.0.0", "server", "O(1)", ""}})
      .AddSubcommand({"doctor", 2, 0, 0, 0, 0, 0, CmdMemoryDoctor,
                      {"Outputs memory problems report", "4.0.0", "server", "O(1)", ""}})
      .AddSubcommand({"malloc-stats", 2, 0, 0, 0, 0, 0, CmdMemoryMallocStats,
                      {"Show allocator internal stats", "4.0.0", "server",
                       "Depends on how much memory is allocated, could be slow", ""}})
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
