// CONFIG GET / SET / REWRITE / RESETSTAT / HELP.
#include "server/commands/families.h"
#include "server/commands/services.h"
#include "server/core/errors.h"
#include "server/engine/context.h"
#include "server/engine/registry.h"

namespace keyward {

namespace {

void CmdConfigGet(CmdArgs args, CommandContext& ctx) {
  std::vector<std::string> patterns(args.begin() + 2, args.end());
  auto pairs = ctx.services().config.Get(patterns);
  ctx.rb().StartMap(pairs.size());
  for (const auto& [name, value] : pairs) {
    ctx.rb().SendBulk(name);
    ctx.rb().SendBulk(value);
  }
}

void CmdConfigSet(CmdArgs args, CommandContext& ctx) {
  if (args.size() % 2 != 0) {
    return ctx.rb().SendError(errors::kSyntax);
  }
  std::vector<std::pair<std::string, std::string>> pairs;
  for (size_t j = 2; j < args.size(); j += 2) pairs.emplace_back(args[j], args[j + 1]);
  // enable-protected-configs: yes, or local for a loopback or unix-socket client.
  const auto allow = static_cast<DebugCommand>(ctx.settings().enable_protected_configs);
  const net::Transport& t = *ctx.client().transport();
  const bool allow_protected = allow == DebugCommand::kYes ||
                               (allow == DebugCommand::kLocal && (t.is_loopback() || t.is_unix()));
  if (auto err = ctx.services().config.Set(pairs, allow_protected)) return ctx.rb().SendError(*err);
  ctx.rb().SendOk();
}

void CmdConfigRewrite(CmdArgs args, CommandContext& ctx) {
  if (auto err = ctx.services().config.Rewrite()) return ctx.rb().SendError(*err);
  ctx.rb().SendOk();
}

// INFO's statistics and every command's; the dirty counter and the slow log stay, as in Redis.
void CmdConfigResetStat(CmdArgs args, CommandContext& ctx) {
  Services& s = ctx.services();
  s.stats = ServerStats{};
  s.keyspace.stats() = KeyspaceStats{};
  s.keyspace.lazy_freer().ResetStats();  // INFO lazyfreed_objects
  s.latency.ResetHistograms();           // INFO latencystats, LATENCY HISTOGRAM
  for (const CommandSpec* cmd : s.registry.all()) {
    cmd->stats() = CommandStats{};
    for (const auto& sub : cmd->subcommands()) sub->stats() = CommandStats{};
  }
  ctx.rb().SendOk();
}

void CmdConfigHelp(CmdArgs args, CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "GET <pattern>",
      "    Return parameters matching the glob-like <pattern> and their values.",
      "SET <directive> <value>",
      "    Set the configuration <directive> to <value>.",
      "RESETSTAT",
      "    Reset statistics reported by the INFO command.",
      "REWRITE",
      "    Rewrite the configuration file.",
  };
  ctx.rb().SendHelp("CONFIG", kLines);
}

}  // namespace

void RegisterConfigFamily(CommandRegistry& r) {
  constexpr uint32_t kAdmin = CO::kAdmin | CO::kNoScript | CO::kLoading | CO::kStale;
  CommandSpec config{"config",
                     -2,
                     0,
                     0,
                     0,
                     0,
                     0,
                     nullptr,
                     {"A container for server configuration commands", "2.0.0", "server",
                      "Depends on subcommand.", ""}};
  config
      .AddSubcommand({"get",
                      -3,
                      kAdmin,
                      0,
                      0,
                      0,
                      0,
                      CmdConfigGet,
                      {"Get the values of configuration parameters", "2.0.0", "server",
                       "O(N) when N is the number of configuration parameters provided",
                       "parameter [parameter ...]"}})
      .AddSubcommand({"set",
                      -4,
                      kAdmin,
                      0,
                      0,
                      0,
                      0,
                      CmdConfigSet,
                      {"Set configuration parameters to the given values", "2.0.0", "server",
                       "O(N) when N is the number of configuration parameters provided",
                       "parameter value [parameter value ...]"}})
      .AddSubcommand({"rewrite",
                      2,
                      kAdmin,
                      0,
                      0,
                      0,
                      0,
                      CmdConfigRewrite,
                      {"Rewrite the configuration file with the in memory configuration", "2.8.0",
                       "server", "O(1)", ""}})
      .AddSubcommand({"resetstat",
                      2,
                      kAdmin,
                      0,
                      0,
                      0,
                      0,
                      CmdConfigResetStat,
                      {"Reset the stats returned by INFO", "2.0.0", "server", "O(1)", ""}})
      .AddSubcommand(
          {"help",
           2,
           CO::kLoading | CO::kStale,
           0,
           0,
           0,
           0,
           CmdConfigHelp,
           {"Show helpful text about the different subcommands", "5.0.0", "server", "O(1)", ""}});
  r << std::move(config);
}

}  // namespace keyward
