// Sentinel mode's commands: SENTINEL and its subcommands, and the sentinel's own ROLE and PUBLISH
// (which only takes hello messages), replying as Redis Sentinel 7.0.15 does. The command table
// of a sentinel is this family plus PING, AUTH, HELLO, CLIENT, COMMAND, INFO, SHUTDOWN and the
// subscribe commands; nothing that touches data.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "server/commands/families.h"
#include "server/commands/services.h"
#include "server/core/errors.h"
#include "server/core/strings.h"
#include "server/engine/context.h"
#include "server/engine/registry.h"
#include "server/sentinel/sentinel.h"

namespace keyward {

namespace {

using sentinel::Instance;
using sentinel::Sentinel;

Sentinel& S(CommandContext& ctx) { return *ctx.services().sentinel; }

// The error text of a Redis reply string starting with '-' (sent as is) or not (ERR added).
void SendSentinelError(CommandContext& ctx, std::string_view text) {
  if (!text.empty() && text[0] == '-') text.remove_prefix(1);
  ctx.rb().SendError(text);
}

Instance* MasterOrError(CommandContext& ctx, std::string_view name) {
  Instance* ri = S(ctx).FindMaster(name);
  if (ri == nullptr) ctx.rb().SendError("No such master with that name");
  return ri;
}

void FlushConfigAndReply(CommandContext& ctx) {
  if (S(ctx).FlushConfig()) {
    ctx.rb().SendOk();
  } else {
    ctx.rb().SendError("Failed to save config file. Check server logs.");
  }
}

// One instance as the flat field list Redis builds (addReplySentinelRedisInstance).
void SendInstance(CommandContext& ctx, const Instance& ri) {
  Sentinel& s = S(ctx);
  const int64_t now = s.now();
  std::vector<std::pair<std::string, std::string>> f;
  auto add = [&](std::string name, std::string value) { f.emplace_back(std::move(name), value); };
  auto num = [&](std::string name, int64_t v) { add(std::move(name), std::to_string(v)); };
  add("name", ri.name);
  add("ip", s.Announce(ri.addr));
  num("port", ri.addr.port);
  add("runid", ri.runid);
  std::string flags;
  using namespace sentinel;
  const std::pair<uint32_t, const char*> names[] = {{kSDown, "s_down"},
                                                    {kODown, "o_down"},
                                                    {kMaster, "master"},
                                                    {kSlave, "slave"},
                                                    {kSentinel, "sentinel"},
                                                    {0, "disconnected"},
                                                    {kMasterDown, "master_down"},
                                                    {kFailoverInProgress, "failover_in_progress"},
                                                    {kPromoted, "promoted"},
                                                    {kReconfSent, "reconf_sent"},
                                                    {kReconfInprog, "reconf_inprog"},
                                                    {kReconfDone, "reconf_done"},
                                                    {kForceFailover, "force_failover"},
                                                    {kScriptKillSent, "script_kill_sent"}};
  for (const auto& [flag, name] : names) {
    const bool on = flag == 0 ? ri.link->disconnected : ri.is(flag);
    if (!on) continue;
    if (!flags.empty()) flags += ',';
    flags += name;
  }
  add("flags", flags);
  num("link-pending-commands", ri.link->pending_commands);
  num("link-refcount", static_cast<int64_t>(ri.link.use_count()));
  if (ri.is(kFailoverInProgress)) add("failover-state", FailoverStateName(ri.failover_state));
  num("last-ping-sent", ri.link->act_ping_time ? now - ri.link->act_ping_time : 0);
  num("last-ok-ping-reply", now - ri.link->last_avail_time);
  num("last-ping-reply", now - ri.link->last_pong_time);
  if (ri.is(kSDown)) num("s-down-time", now - ri.s_down_since_time);
  if (ri.is(kODown)) num("o-down-time", now - ri.o_down_since_time);
  num("down-after-milliseconds", ri.down_after_period);
  if (ri.is(kMaster | kSlave)) {
    num("info-refresh", ri.info_refresh ? now - ri.info_refresh : 0);
    add("role-reported", ri.role_reported == kMaster ? "master" : "slave");
    num("role-reported-time", now - ri.role_reported_time);
  }
  if (ri.is(kMaster)) {
    num("config-epoch", static_cast<int64_t>(ri.config_epoch));
    num("num-slaves", static_cast<int64_t>(ri.slaves.size()));
    num("num-other-sentinels", static_cast<int64_t>(ri.sentinels.size()));
    num("quorum", ri.quorum);
    num("failover-timeout", ri.failover_timeout);
    num("parallel-syncs", ri.parallel_syncs);
    if (ri.notification_script) add("notification-script", *ri.notification_script);
    if (ri.client_reconfig_script) add("client-reconfig-script", *ri.client_reconfig_script);
  }
  if (ri.is(kSlave)) {
    num("master-link-down-time", ri.master_link_down_time);
    add("master-link-status", ri.slave_master_link_up ? "ok" : "err");
    add("master-host", ri.slave_master_host ? *ri.slave_master_host : "?");
    num("master-port", ri.slave_master_port);
    num("slave-priority", ri.slave_priority);
    num("slave-repl-offset", static_cast<int64_t>(ri.slave_repl_offset));
    num("replica-announced", ri.replica_announced);
  }
  if (ri.is(kSentinel)) {
    num("last-hello-message", now - ri.last_hello_time);
    add("voted-leader", ri.leader ? *ri.leader : "?");
    num("voted-leader-epoch", static_cast<int64_t>(ri.leader_epoch));
  }
  ctx.rb().StartMap(f.size());
  for (const auto& [name, value] : f) {
    ctx.rb().SendBulk(name);
    ctx.rb().SendBulk(value);
  }
}

void SendInstances(CommandContext& ctx, const Sentinel::Instances& instances) {
  std::vector<const Instance*> shown;
  for (const auto& [k, ri] : instances) {
    // Replicas that ask not to be announced (replica-announced no) are not listed.
    if (ri->is(sentinel::kSlave) && !ri->replica_announced) continue;
    shown.push_back(ri.get());
  }
  ctx.rb().StartArray(shown.size());
  for (const Instance* ri : shown) SendInstance(ctx, *ri);
}

void CmdSentinelMasters(CmdArgs, CommandContext& ctx) { SendInstances(ctx, S(ctx).masters()); }

void CmdSentinelMaster(CmdArgs args, CommandContext& ctx) {
  if (Instance* ri = MasterOrError(ctx, args[2])) SendInstance(ctx, *ri);
}

void CmdSentinelReplicas(CmdArgs args, CommandContext& ctx) {
  if (Instance* ri = MasterOrError(ctx, args[2])) SendInstances(ctx, ri->slaves);
}

void CmdSentinelSentinels(CmdArgs args, CommandContext& ctx) {
  if (Instance* ri = MasterOrError(ctx, args[2])) SendInstances(ctx, ri->sentinels);
}

void CmdSentinelMyid(CmdArgs, CommandContext& ctx) { ctx.rb().SendBulk(S(ctx).myid()); }

void CmdSentinelIsMasterDownByAddr(CmdArgs args, CommandContext& ctx) {
  int64_t port = 0, epoch = 0;
  // A negative epoch would wrap to the largest one and end this sentinel's elections for good
  // (Redis takes it): refused as out of range.
  if (!ParseInt64(args[3], &port) || !ParseInt64(args[4], &epoch) || epoch < 0) {
    return ctx.rb().SendError(errors::kNotInteger);
  }
  auto r = S(ctx).IsMasterDownByAddr(std::string(args[2]), static_cast<int>(port),
                                     static_cast<uint64_t>(epoch), std::string(args[5]));
  ctx.rb().StartArray(3);
  ctx.rb().SendLong(r.down ? 1 : 0);
  ctx.rb().SendBulk(r.leader);
  ctx.rb().SendLong(static_cast<int64_t>(r.leader_epoch));
}

void CmdSentinelReset(CmdArgs args, CommandContext& ctx) {
  ctx.rb().SendLong(S(ctx).ResetMasters(args[2]));
}

void CmdSentinelGetMasterAddr(CmdArgs args, CommandContext& ctx) {
  Instance* ri = S(ctx).FindMaster(args[2]);
  if (ri == nullptr) return ctx.rb().SendNullArray();
  const sentinel::Addr& addr = S(ctx).CurrentMasterAddress(*ri);
  ctx.rb().StartArray(2);
  ctx.rb().SendBulk(S(ctx).Announce(addr));
  ctx.rb().SendBulk(std::to_string(addr.port));
}

void CmdSentinelFailover(CmdArgs args, CommandContext& ctx) {
  Instance* ri = MasterOrError(ctx, args[2]);
  if (ri == nullptr) return;
  if (auto err = S(ctx).ForceFailover(*ri)) return SendSentinelError(ctx, *err);
  ctx.rb().SendOk();
}

void CmdSentinelPendingScripts(CmdArgs, CommandContext& ctx) {
  Sentinel& s = S(ctx);
  const int64_t now = s.now();
  ctx.rb().StartArray(s.scripts().size());
  for (const auto& job : s.scripts()) {
    ctx.rb().StartMap(5);
    ctx.rb().SendBulk("argv");
    ctx.rb().StartArray(job.argv.size());
    for (const auto& a : job.argv) ctx.rb().SendBulk(a);
    ctx.rb().SendBulk("flags");
    ctx.rb().SendBulk(job.running ? "running" : "scheduled");
    ctx.rb().SendBulk("pid");
    ctx.rb().SendBulk(std::to_string(job.pid));
    if (job.running) {
      ctx.rb().SendBulk("run-time");
      ctx.rb().SendBulk(std::to_string(now - job.start_time));
    } else {
      ctx.rb().SendBulk("run-delay");
      ctx.rb().SendBulk(
          std::to_string(job.start_time ? std::max<int64_t>(job.start_time - now, 0) : 0));
    }
    ctx.rb().SendBulk("retry-num");
    ctx.rb().SendBulk(std::to_string(job.retry_num));
  }
}

void CmdSentinelMonitor(CmdArgs args, CommandContext& ctx) {
  int64_t quorum = 0, port = 0;
  if (!ParseInt64(args[5], &quorum)) return ctx.rb().SendError("Invalid quorum");
  if (!ParseInt64(args[4], &port)) return ctx.rb().SendError("Invalid port");
  if (quorum <= 0) return ctx.rb().SendError("Quorum must be 1 or greater.");
  Sentinel& s = S(ctx);
  int error = 0;
  if (!s.MakeAddr(std::string(args[3]), 0, false, &error)) {
    return ctx.rb().SendError("Invalid IP address or hostname specified");
  }
  if (port < INT32_MIN || port > INT32_MAX) port = -1;
  if (auto err = s.Monitor(std::string(args[2]), std::string(args[3]), static_cast<int>(port),
                           static_cast<unsigned>(std::min<int64_t>(quorum, UINT32_MAX)))) {
    return ctx.rb().SendError(*err);
  }
  FlushConfigAndReply(ctx);
  Instance* ri = s.FindMaster(args[2]);
  s.Event(sentinel::EventLevel::kWarning, "+monitor", ri, " quorum " + std::to_string(ri->quorum));
}

void CmdSentinelFlushConfig(CmdArgs, CommandContext& ctx) { FlushConfigAndReply(ctx); }

void CmdSentinelRemove(CmdArgs args, CommandContext& ctx) {
  if (MasterOrError(ctx, args[2]) == nullptr) return;
  S(ctx).Remove(std::string(args[2]));
  FlushConfigAndReply(ctx);
}

void CmdSentinelCkquorum(CmdArgs args, CommandContext& ctx) {
  Instance* ri = MasterOrError(ctx, args[2]);
  if (ri == nullptr) return;
  auto q = S(ctx).CheckQuorum(*ri);
  const std::string usable = std::to_string(q.usable);
  if (q.quorum_ok && q.majority_ok) {
    return ctx.rb().SendSimple("OK " + usable +
                               " usable Sentinels. Quorum and failover authorization can be "
                               "reached");
  }
  std::string e = "NOQUORUM " + usable + " usable Sentinels. ";
  if (!q.quorum_ok)
    e += "Not enough available Sentinels to reach the specified quorum for this master";
  if (!q.majority_ok) {
    if (!q.quorum_ok) e += ". ";
    e += "Not enough available Sentinels to reach the majority and authorize a failover";
  }
  ctx.rb().SendError(e);
}

// SENTINEL SET <master> <option> <value> [<option> <value> ...]
void CmdSentinelSet(CmdArgs args, CommandContext& ctx) {
  Instance* ri = MasterOrError(ctx, args[2]);
  if (ri == nullptr) return;
  Sentinel& s = S(ctx);
  int changes = 0;
  size_t badarg = 0;
  std::string option;
  auto finish_error = [&] {
    if (changes) s.FlushConfig();
  };
  for (size_t j = 3; j < args.size(); j++) {
    const size_t moreargs = args.size() - 1 - j;
    option = std::string(args[j]);
    const size_t old_j = j;
    bool redacted = false;
    int64_t ll = 0;
    auto positive = [&](bool allow_zero) {
      j++;
      if (!ParseInt64(args[j], &ll) || ll < 0 || (!allow_zero && ll == 0)) {
        badarg = j;
        return false;
      }
      return true;
    };
    auto script = [&](std::optional<std::string>* target, const char* missing) {
      std::string value(args[++j]);
      if (s.globals().deny_scripts_reconfig) {
        ctx.rb().SendError(
            "Reconfiguration of scripts path is denied for security reasons. Check the "
            "deny-scripts-reconfig configuration directive in your Sentinel configuration");
        return false;
      }
      if (!value.empty() && access(value.c_str(), X_OK) == -1) {
        ctx.rb().SendError(missing);
        return false;
      }
      *target = value.empty() ? std::nullopt : std::optional<std::string>(value);
      return true;
    };
    if (EqualsIgnoreCase(option, "down-after-milliseconds") && moreargs > 0) {
      if (!positive(false)) break;
      s.SetDownAfter(*ri, ll);
    } else if (EqualsIgnoreCase(option, "failover-timeout") && moreargs > 0) {
      if (!positive(false)) break;
      ri->failover_timeout = ll;
    } else if (EqualsIgnoreCase(option, "parallel-syncs") && moreargs > 0) {
      if (!positive(false)) break;
      ri->parallel_syncs = ll;
    } else if (EqualsIgnoreCase(option, "notification-script") && moreargs > 0) {
      if (!script(&ri->notification_script,
                  "Notification script seems non existing or non executable")) {
        return finish_error();
      }
    } else if (EqualsIgnoreCase(option, "client-reconfig-script") && moreargs > 0) {
      if (!script(&ri->client_reconfig_script,
                  "Client reconfiguration script seems non existing or non executable")) {
        return finish_error();
      }
    } else if (EqualsIgnoreCase(option, "auth-pass") && moreargs > 0) {
      std::string value(args[++j]);
      ri->auth_pass = value.empty() ? std::nullopt : std::optional<std::string>(value);
      s.DropInstanceConnections(*ri);
      redacted = true;
    } else if (EqualsIgnoreCase(option, "auth-user") && moreargs > 0) {
      std::string value(args[++j]);
      ri->auth_user = value.empty() ? std::nullopt : std::optional<std::string>(value);
      s.DropInstanceConnections(*ri);
    } else if (EqualsIgnoreCase(option, "quorum") && moreargs > 0) {
      if (!positive(false)) break;
      ri->quorum = static_cast<unsigned>(std::min<int64_t>(ll, UINT32_MAX));
    } else if (EqualsIgnoreCase(option, "rename-command") && moreargs > 1) {
      std::string from(args[++j]), to(args[++j]);
      if (from.empty() || to.empty()) {
        badarg = !to.empty() ? j - 1 : j;
        break;
      }
      ri->renamed_commands.erase(ToLower(from));
      if (!EqualsIgnoreCase(from, to)) ri->renamed_commands[ToLower(from)] = to;
    } else if (EqualsIgnoreCase(option, "master-reboot-down-after-period") && moreargs > 0) {
      if (!positive(true)) break;
      ri->master_reboot_down_after_period = ll;
    } else {
      ctx.rb().SendError("Unknown option or number of arguments for SENTINEL SET '" + option + "'");
      return finish_error();
    }
    changes++;
    std::string msg = " " + option;
    for (size_t k = old_j + 1; k <= j; k++)
      msg += " " + (redacted ? "******" : std::string(args[k]));
    s.Event(sentinel::EventLevel::kWarning, "+set", ri, msg);
  }
  if (badarg != 0) {
    ctx.rb().SendError("Invalid argument '" + std::string(args[badarg]) + "' for SENTINEL SET '" +
                       option + "'");
    return finish_error();
  }
  if (changes) FlushConfigAndReply(ctx);
}

void CmdSentinelConfig(CmdArgs args, CommandContext& ctx) {
  Sentinel& s = S(ctx);
  Sentinel::Globals& g = s.globals();
  if (EqualsIgnoreCase(args[2], "set") && args.size() == 5) {
    const std::string name(args[3]), value(args[4]);
    auto badfmt = [&] {
      ctx.rb().SendError("Invalid value '" + value + "' to SENTINEL CONFIG SET '" + name + "'");
    };
    bool drop = false;
    auto yesno = [&](bool* target) {
      auto v = ParseYesNo(value);
      if (v) *target = *v;
      return v.has_value();
    };
    if (EqualsIgnoreCase(name, "resolve-hostnames")) {
      if (!yesno(&g.resolve_hostnames)) return badfmt();
    } else if (EqualsIgnoreCase(name, "announce-hostnames")) {
      if (!yesno(&g.announce_hostnames)) return badfmt();
    } else if (EqualsIgnoreCase(name, "announce-ip")) {
      g.announce_ip = value;
    } else if (EqualsIgnoreCase(name, "announce-port")) {
      int64_t port = 0;
      if (!ParseInt64(value, &port) || port < 0 || port > 65535) return badfmt();
      g.announce_port = port;
    } else if (EqualsIgnoreCase(name, "sentinel-user")) {
      g.sentinel_auth_user = value.empty() ? std::nullopt : std::optional<std::string>(value);
      drop = true;
    } else if (EqualsIgnoreCase(name, "sentinel-pass")) {
      g.sentinel_auth_pass = value.empty() ? std::nullopt : std::optional<std::string>(value);
      drop = true;
    } else {
      return ctx.rb().SendError("Invalid argument '" + name + "' to SENTINEL CONFIG SET");
    }
    FlushConfigAndReply(ctx);
    if (drop) s.DropSentinelConnections();
    return;
  }
  if (EqualsIgnoreCase(args[2], "get") && args.size() == 4) {
    const std::string_view pattern = args[3];
    std::vector<std::pair<std::string, std::string>> matches;
    auto maybe = [&](const char* name, std::string value) {
      if (GlobMatch(pattern, name, /*nocase=*/true)) matches.emplace_back(name, std::move(value));
    };
    maybe("resolve-hostnames", g.resolve_hostnames ? "yes" : "no");
    maybe("announce-hostnames", g.announce_hostnames ? "yes" : "no");
    maybe("announce-ip", g.announce_ip.value_or(""));
    maybe("announce-port", std::to_string(g.announce_port));
    maybe("sentinel-user", g.sentinel_auth_user.value_or(""));
    maybe("sentinel-pass", g.sentinel_auth_pass.value_or(""));
    ctx.rb().StartMap(matches.size());
    for (const auto& [k, v] : matches) {
      ctx.rb().SendBulk(k);
      ctx.rb().SendBulk(v);
    }
    return;
  }
  ctx.rb().SendError("Only SENTINEL CONFIG GET <option> / SET <option> <value> are supported.");
}

void CmdSentinelInfoCache(CmdArgs args, CommandContext& ctx) {
  Sentinel& s = S(ctx);
  const int64_t now = s.now();
  std::vector<const Instance*> masters;
  if (args.size() > 2) {
    for (size_t i = 2; i < args.size(); i++) {
      const Instance* ri = s.FindMaster(args[i]);
      if (ri != nullptr && std::find(masters.begin(), masters.end(), ri) == masters.end()) {
        masters.push_back(ri);
      }
    }
  } else {
    for (const auto& [k, m] : s.masters()) masters.push_back(m.get());
  }
  ctx.rb().StartArray(masters.size() * 2);
  for (const Instance* m : masters) {
    ctx.rb().SendBulk(m->name);
    ctx.rb().StartArray(m->slaves.size() + 1);
    auto one = [&](const Instance& ri) {
      ctx.rb().StartArray(2);
      // Redis tests the master's refresh time for the replicas' entries too.
      ctx.rb().SendLong(m->info_refresh ? now - ri.info_refresh : 0);
      if (ri.info) {
        ctx.rb().SendBulk(*ri.info);
      } else {
        ctx.rb().SendNull();
      }
    };
    one(*m);
    for (const auto& [k, r] : m->slaves) one(*r);
  }
}

void CmdSentinelSimulateFailure(CmdArgs args, CommandContext& ctx) {
  Sentinel& s = S(ctx);
  int flags = 0;
  s.set_simfailure_flags(0);
  for (size_t j = 2; j < args.size(); j++) {
    if (EqualsIgnoreCase(args[j], "crash-after-election")) {
      flags |= sentinel::kSimFailureCrashAfterElection;
      spdlog::warn(
          "Failure simulation: this Sentinel will crash after being successfully elected as "
          "failover leader");
    } else if (EqualsIgnoreCase(args[j], "crash-after-promotion")) {
      flags |= sentinel::kSimFailureCrashAfterPromotion;
      spdlog::warn(
          "Failure simulation: this Sentinel will crash after promoting the selected replica to "
          "master");
    } else if (EqualsIgnoreCase(args[j], "help")) {
      s.set_simfailure_flags(flags);
      ctx.rb().StartArray(2);
      ctx.rb().SendBulk("crash-after-election");
      ctx.rb().SendBulk("crash-after-promotion");
      return;
    } else {
      s.set_simfailure_flags(flags);
      return ctx.rb().SendError("Unknown failure simulation specified");
    }
    s.set_simfailure_flags(flags);
  }
  ctx.rb().SendOk();
}

void CmdSentinelDebug(CmdArgs args, CommandContext& ctx) {
  sentinel::Timing& t = S(ctx).timing();
  const std::pair<const char*, int64_t*> periods[] = {
      {"info-period", &t.info_period},
      {"ping-period", &t.ping_period},
      {"ask-period", &t.ask_period},
      {"publish-period", &t.publish_period},
      {"default-down-after", &t.default_down_after},
      {"default-failover-timeout", &t.default_failover_timeout},
      {"tilt-trigger", &t.tilt_trigger},
      {"tilt-period", &t.tilt_period},
      {"slave-reconf-timeout", &t.slave_reconf_timeout},
      {"min-link-reconnect-period", &t.min_link_reconnect_period},
      {"election-timeout", &t.election_timeout},
      {"script-max-runtime", &t.script_max_runtime},
      {"script-retry-delay", &t.script_retry_delay}};
  if (args.size() == 2) {
    ctx.rb().StartMap(std::size(periods));
    for (const auto& [name, value] : periods) {
      ctx.rb().SendBulk(ToUpper(name));
      ctx.rb().SendBulk(std::to_string(*value));
    }
    return;
  }
  for (size_t j = 2; j < args.size(); j++) {
    const size_t moreargs = args.size() - 1 - j;
    int64_t* target = nullptr;
    for (const auto& [name, value] : periods) {
      if (EqualsIgnoreCase(args[j], name)) target = value;
    }
    if (target == nullptr || moreargs == 0) {
      return ctx.rb().SendError("Unknown option or number of arguments for SENTINEL DEBUG '" +
                                std::string(args[j]) + "'");
    }
    int64_t ll = 0;
    if (!ParseInt64(args[j + 1], &ll) || ll <= 0) {
      return ctx.rb().SendError("Invalid argument '" + std::string(args[j + 1]) +
                                "' for SENTINEL DEBUG '" + std::string(args[j]) + "'");
    }
    *target = ll;
    j++;
  }
  ctx.rb().SendOk();
}

void CmdSentinelHelp(CmdArgs, CommandContext& ctx) {
  static constexpr std::string_view kHelp[] = {
      "CKQUORUM <master-name>",
      "    Check if the current Sentinel configuration is able to reach the quorum",
      "    needed to failover a master and the majority needed to authorize the",
      "    failover.",
      "CONFIG SET <param> <value>",
      "    Set a global Sentinel configuration parameter.",
      "CONFIG GET <param>",
      "    Get global Sentinel configuration parameter.",
      "DEBUG [<param> <value> ...]",
      "    Show a list of configurable time parameters and their values (milliseconds).",
      "    Or update current configurable parameters values (one or more).",
      "GET-MASTER-ADDR-BY-NAME <master-name>",
      "    Return the ip and port number of the master with that name.",
      "FAILOVER <master-name>",
      "    Manually failover a master node without asking for agreement from other",
      "    Sentinels",
      "FLUSHCONFIG",
      "    Force Sentinel to rewrite its configuration on disk, including the current",
      "    Sentinel state.",
      "INFO-CACHE <master-name>",
      "    Return last cached INFO output from masters and all its replicas.",
      "IS-MASTER-DOWN-BY-ADDR <ip> <port> <current-epoch> <runid>",
      "    Check if the master specified by ip:port is down from current Sentinel's",
      "    point of view.",
      "MASTER <master-name>",
      "    Show the state and info of the specified master.",
      "MASTERS",
      "    Show a list of monitored masters and their state.",
      "MONITOR <name> <ip> <port> <quorum>",
      "    Start monitoring a new master with the specified name, ip, port and quorum.",
      "MYID",
      "    Return the ID of the Sentinel instance.",
      "PENDING-SCRIPTS",
      "    Get pending scripts information.",
      "REMOVE <master-name>",
      "    Remove master from Sentinel's monitor list.",
      "REPLICAS <master-name>",
      "    Show a list of replicas for this master and their state.",
      "RESET <pattern>",
      "    Reset masters for specific master name matching this pattern.",
      "SENTINELS <master-name>",
      "    Show a list of Sentinel instances for this master and their state.",
      "SET <master-name> <option> <value> [<option> <value> ...]",
      "    Set configuration parameters for certain masters.",
      "SIMULATE-FAILURE [CRASH-AFTER-ELECTION] [CRASH-AFTER-PROMOTION] [HELP]",
      "    Simulate a Sentinel crash.",
  };
  ctx.rb().SendHelp("SENTINEL", kHelp);
}

// ROLE on a sentinel: "sentinel" and the names of the masters it monitors.
void CmdSentinelRole(CmdArgs, CommandContext& ctx) {
  const auto& masters = S(ctx).masters();
  ctx.rb().StartArray(2);
  ctx.rb().SendBulk("sentinel");
  ctx.rb().StartArray(masters.size());
  for (const auto& [name, m] : masters) ctx.rb().SendBulk(name);
}

// PUBLISH on a sentinel: only hello messages, which are processed, not delivered.
void CmdSentinelPublish(CmdArgs args, CommandContext& ctx) {
  if (args[1] != sentinel::kHelloChannel) {
    return ctx.rb().SendError("Only HELLO messages are accepted by Sentinel instances.");
  }
  S(ctx).ProcessHello(args[2]);
  ctx.rb().SendLong(1);
}

}  // namespace

void RegisterSentinelFamily(CommandRegistry& r) {
  // What a sentinel serves besides SENTINEL (Redis 7.0's sentinel command table; ACL comes with
  // the security issue).
  r.Retain({"ping", "auth", "acl", "hello", "client", "command", "info", "shutdown", "subscribe",
            "unsubscribe", "psubscribe", "punsubscribe", "publish"});
  constexpr uint32_t kSub = CO::kAdmin | CO::kNoScript | CO::kLoading | CO::kStale;
  constexpr uint64_t kAcl = Acl::kAdmin | Acl::kSlow | Acl::kDangerous;
  auto sub = [](const char* name, int arity, Handler handler, const char* summary,
                const char* args) {
    return CommandSpec{
        name, arity, kSub, 0, 0, 0, kAcl, handler, {summary, "2.8.4", "sentinel", "O(1)", args}};
  };
  CommandSpec sentinel{
      "sentinel",
      -2,
      CO::kAdmin | CO::kNoScript | CO::kLoading | CO::kStale,
      0,
      0,
      0,
      kAcl,
      nullptr,
      {"A container for Sentinel commands", "2.8.4", "sentinel", "Depends on subcommand.", ""}};
  sentinel
      .AddSubcommand(
          sub("ckquorum", 3, CmdSentinelCkquorum, "Check for a Sentinel quorum", "master-name"))
      .AddSubcommand(sub("config", -3, CmdSentinelConfig, "Configure Sentinel",
                         "SET parameter value|GET parameter"))
      .AddSubcommand(sub("debug", -2, CmdSentinelDebug,
                         "List or update the current configurable parameters",
                         "[parameter value [parameter value ...]]"))
      .AddSubcommand(sub("failover", 3, CmdSentinelFailover, "Force a failover", "master-name"))
      .AddSubcommand(
          sub("flushconfig", 2, CmdSentinelFlushConfig, "Rewrite configuration file", ""))
      .AddSubcommand(sub("get-master-addr-by-name", 3, CmdSentinelGetMasterAddr,
                         "Get port and address of a master", "master-name"))
      .AddSubcommand(sub("help", 2, CmdSentinelHelp,
                         "Show helpful text about the different "
                         "subcommands",
                         ""))
      .AddSubcommand(sub("info-cache", -3, CmdSentinelInfoCache,
                         "Get cached INFO from the instances in the deployment",
                         "nodename [nodename ...]"))
      .AddSubcommand(sub("is-master-down-by-addr", 6, CmdSentinelIsMasterDownByAddr,
                         "Check if a master is down", "ip port current-epoch runid"))
      .AddSubcommand(
          sub("master", 3, CmdSentinelMaster, "Shows the state of a master", "master-name"))
      .AddSubcommand(sub("masters", 2, CmdSentinelMasters, "List the monitored masters", ""))
      .AddSubcommand(
          sub("monitor", 6, CmdSentinelMonitor, "Start monitoring", "name ip port quorum"))
      .AddSubcommand(sub("myid", 2, CmdSentinelMyid, "Get the Sentinel instance ID", ""))
      .AddSubcommand(sub("pending-scripts", 2, CmdSentinelPendingScripts,
                         "Get information about pending scripts", ""))
      .AddSubcommand(sub("remove", 3, CmdSentinelRemove, "Stop monitoring", "master-name"))
      .AddSubcommand(
          sub("replicas", 3, CmdSentinelReplicas, "List the monitored replicas", "master-name"))
      .AddSubcommand(sub("reset", 3, CmdSentinelReset, "Reset masters by name pattern", "pattern"))
      .AddSubcommand(
          sub("sentinels", 3, CmdSentinelSentinels, "List the Sentinel instances", "master-name"))
      .AddSubcommand(sub("set", -5, CmdSentinelSet,
                         "Change the configuration of a monitored master",
                         "master-name option value [option value ...]"))
      .AddSubcommand(sub("simulate-failure", -3, CmdSentinelSimulateFailure,
                         "Simulate failover scenarios",
                         "[CRASH-AFTER-ELECTION] [CRASH-AFTER-PROMOTION] [HELP]"))
      .AddSubcommand(
          sub("slaves", 3, CmdSentinelReplicas, "List the monitored slaves", "master-name"));
  r << std::move(sentinel);
  r << CommandSpec{"role",
                   1,
                   CO::kNoScript | CO::kLoading | CO::kStale | CO::kFast,
                   0,
                   0,
                   0,
                   Acl::kAdmin | Acl::kDangerous,
                   CmdSentinelRole,
                   {"Return the role of the instance in the context of replication", "2.8.12",
                    "server", "O(1)", ""}};
  r.Replace(CommandSpec{"publish",
                        3,
                        CO::kPubSub | CO::kLoading | CO::kStale | CO::kFast,
                        0,
                        0,
                        0,
                        Acl::kPubSub | Acl::kFast,
                        CmdSentinelPublish,
                        {"Post a message to a channel", "2.0.0", "pubsub",
                         "O(N+M) where N is the number of clients subscribed to the receiving "
                         "channel and M is the total number of subscribed patterns (by any "
                         "client).",
                         "channel message"}});
}

}  // namespace keyward
