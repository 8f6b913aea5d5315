// LATENCY: the latency monitor's events (LATEST, HISTORY, GRAPH, DOCTOR, RESET) and the
// per-command latency histograms (HISTOGRAM), as Redis 7.0's latency.c replies.
#include <string>

#include "server/commands/families.h"
#include "server/commands/services.h"
#include "server/engine/context.h"
#include "server/engine/latency.h"
#include "server/engine/registry.h"

namespace keyward {

namespace {

// Redis's wording for an event it has no samples of (only LATENCY GRAPH asks for one that must
// exist; HISTORY answers an empty array).
std::string NoSamplesError(std::string_view event) {
  return "ERR No samples available for event '" + std::string(event) + "'";
}

int64_t NowSec(CommandContext& ctx) { return ctx.services().clock.NowMs() / 1000; }

void CmdLatencyLatest(CmdArgs args, CommandContext& ctx) {
  const auto& events = ctx.services().latency.events();
  ctx.rb().StartArray(events.size());
  for (const auto& [event, ts] : events) {
    ctx.rb().StartArray(4);
    ctx.rb().SendBulk(event);
    ctx.rb().SendLong(ts.latest().time_sec);
    ctx.rb().SendLong(ts.latest().latency_ms);
    ctx.rb().SendLong(ts.max);
  }
}

void CmdLatencyHistory(CmdArgs args, CommandContext& ctx) {
  const LatencyTimeSeries* ts = ctx.services().latency.Find(args[2]);
  if (ts == nullptr) return ctx.rb().StartArray(0);
  const auto samples = ts->InOrder();
  ctx.rb().StartArray(samples.size());
  for (const LatencySample& s : samples) {
    ctx.rb().StartArray(2);
    ctx.rb().SendLong(s.time_sec);
    ctx.rb().SendLong(s.latency_ms);
  }
}

void CmdLatencyGraph(CmdArgs args, CommandContext& ctx) {
  const LatencyTimeSeries* ts = ctx.services().latency.Find(args[2]);
  if (ts == nullptr) return ctx.rb().SendError(NoSamplesError(args[2]));
  ctx.rb().SendVerbatim(LatencyGraph(args[2], *ts, NowSec(ctx)));
}

void CmdLatencyDoctor(CmdArgs args, CommandContext& ctx) {
  Services& s = ctx.services();
  ctx.rb().SendVerbatim(
      LatencyDoctorReport(s.latency, s.settings, NowSec(ctx), SmapsBytes("AnonHugePages:")));
}

void CmdLatencyReset(CmdArgs args, CommandContext& ctx) {
  LatencyMonitor& latency = ctx.services().latency;
  if (args.size() == 2) return ctx.rb().SendLong(latency.Reset(std::nullopt));
  int resets = 0;
  for (size_t i = 2; i < args.size(); i++) resets += latency.Reset(args[i]);
  ctx.rb().SendLong(resets);
}

// fillCommandCDF: calls, then the cumulative count at each power-of-two microsecond level
// (from 1 µs) that adds calls, keyed by the highest nanosecond value of the sub-bucket that
// reached the level, in whole microseconds.
void SendCommandCdf(CommandContext& ctx, const HdrHistogram& h) {
  ctx.rb().StartMap(2);
  ctx.rb().SendBulk("calls");
  ctx.rb().SendLong(h.total_count());
  ctx.rb().SendBulk("histogram_usec");
  std::vector<std::pair<int64_t, int64_t>> buckets;
  int64_t previous = 0;
  for (const auto& step : h.LogBuckets(1024, 2)) {
    if (step.cumulative_count > previous) {
      buckets.emplace_back(step.highest_equivalent_value / 1000, step.cumulative_count);
    }
    previous = step.cumulative_count;
  }
  ctx.rb().StartMap(buckets.size());
  for (const auto& [usec, count] : buckets) {
    ctx.rb().SendLong(usec);
    ctx.rb().SendLong(count);
  }
}

// The named command and, for a container, its subcommands: those with a histogram.
void CollectWithData(const LatencyMonitor& latency, const CommandSpec& cmd,
                     std::vector<std::pair<const CommandSpec*, const HdrHistogram*>>& out) {
  if (const HdrHistogram* h = latency.HistogramOf(cmd)) out.emplace_back(&cmd, h);
  for (const auto& sub : cmd.subcommands()) {
    if (const HdrHistogram* h = latency.HistogramOf(*sub)) out.emplace_back(sub.get(), h);
  }
}

// Redis's lookupCommandBySds: "name" or "container|sub"; anything else is unknown.
const CommandSpec* LookupByFullName(const CommandRegistry& registry, std::string_view name) {
  const size_t bar = name.find('|');
  if (bar == std::string_view::npos) return registry.Find(name);
  const std::string_view rest = name.substr(bar + 1);
  if (rest.find('|') != std::string_view::npos) return nullptr;
  const CommandSpec* parent = registry.Find(name.substr(0, bar));
  if (parent == nullptr || !parent->is_container()) return nullptr;
  return parent->FindSubcommand(rest);
}

void CmdLatencyHistogram(CmdArgs args, CommandContext& ctx) {
  Services& s = ctx.services();
  std::vector<std::pair<const CommandSpec*, const HdrHistogram*>> with_data;
  if (args.size() == 2) {
    for (const CommandSpec* cmd : s.registry.all()) CollectWithData(s.latency, *cmd, with_data);
  } else {
    // Unknown names are skipped; a name given twice is answered twice, as Redis does.
    for (size_t i = 2; i < args.size(); i++) {
      if (const CommandSpec* cmd = LookupByFullName(s.registry, args[i])) {
        CollectWithData(s.latency, *cmd, with_data);
      }
    }
  }
  ctx.rb().StartMap(with_data.size());
  for (const auto& [cmd, h] : with_data) {
    ctx.rb().SendBulk(cmd->full_name());
    SendCommandCdf(ctx, *h);
  }
}

void CmdLatencyHelp(CmdArgs args, CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "DOCTOR",
      "    Return a human readable latency analysis report.",
      "GRAPH <event>",
      "    Return an ASCII latency graph for the <event> class.",
      "HISTORY <event>",
      "    Return time-latency samples for the <event> class.",
      "LATEST",
      "    Return the latest latency samples for all events.",
      "RESET [<event> ...]",
      "    Reset latency data of one or more <event> classes.",
      "    (default: reset all data for all event classes)",
      "HISTOGRAM [COMMAND ...]",
      "    Return a cumulative distribution of latencies in the format of a histogram for the "
      "specified command names.",
      "    If no commands are specified then all histograms are replied.",
  };
  ctx.rb().SendHelp("LATENCY", kLines);
}

}  // namespace

void RegisterLatencyFamily(CommandRegistry& r) {
  // Every subcommand but HELP is an admin command kept from scripts; all run while loading and
  // on a stale replica.
  constexpr uint32_t kLS = CO::kLoading | CO::kStale;
  constexpr uint32_t kAdmin = CO::kAdmin | CO::kNoScript | kLS;
  CommandSpec latency{"latency",
                      -2,
                      0,
                      0,
                      0,
                      0,
                      0,
                      nullptr,
                      {"A container for latency diagnostics commands", "2.8.13", "server",
                       "Depends on subcommand.", ""}};
  latency
      .AddSubcommand(
          {"doctor",
           2,
           kAdmin,
           0,
           0,
           0,
           0,
           CmdLatencyDoctor,
           {"Return a human readable latency analysis report.", "2.8.13", "server", "O(1)", ""}})
      .AddSubcommand(
          {"graph",
           3,
           kAdmin,
           0,
           0,
           0,
           0,
           CmdLatencyGraph,
           {"Return a latency graph for the event.", "2.8.13", "server", "O(1)", "event"}})
      .AddSubcommand({"histogram",
                      -2,
                      kAdmin,
                      0,
                      0,
                      0,
                      0,
                      CmdLatencyHistogram,
                      {"Return the cumulative distribution of latencies of a subset of commands "
                       "or all.",
                       "7.0.0", "server",
                       "O(N) where N is the number of commands with latency information being "
                       "retrieved.",
                       "[command [command ...]]"}})
      .AddSubcommand({"history",
                      3,
                      kAdmin,
                      0,
                      0,
                      0,
                      0,
                      CmdLatencyHistory,
                      {"Return timestamp-latency samples for the event.", "2.8.13", "server",
                       "O(1)", "event"}})
      .AddSubcommand(
          {"latest",
           2,
           kAdmin,
           0,
           0,
           0,
           0,
           CmdLatencyLatest,
           {"Return the latest latency samples for all events.", "2.8.13", "server", "O(1)", ""}})
      .AddSubcommand({"reset",
                      -2,
                      kAdmin,
                      0,
                      0,
                      0,
                      0,
                      CmdLatencyReset,
                      {"Reset latency data for one or more events.", "2.8.13", "server", "O(1)",
                       "[event [event ...]]"}})
      .AddSubcommand(
          {"help",
           2,
           kLS,
           0,
           0,
           0,
           0,
           CmdLatencyHelp,
           {"Show helpful text about the different subcommands.", "2.8.13", "server", "O(1)", ""}});
  r << std::move(latency);
}

}  // namespace keyward
