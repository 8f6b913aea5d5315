// Replication: REPLICAOF (SLAVEOF), REPLCONF, PSYNC, SYNC, ROLE, WAIT, FAILOVER. The work is done
// by server/replication/; this file parses, checks and replies as Redis 7.0 does.
#include <spdlog/spdlog.h>

#include "server/commands/args.h"
#include "server/commands/families.h"
#include "server/commands/replica_acks.h"
#include "server/commands/services.h"
#include "server/core/errors.h"
#include "server/core/strings.h"
#include "server/engine/context.h"
#include "server/engine/registry.h"
#include "server/replication/replication.h"

namespace keyward {

namespace {

// REPLICAOF host port | NO ONE
void CmdReplicaOf(CmdArgs args, CommandContext& ctx) {
  Replication& repl = ctx.services().replication;
  if (repl.failover().state() != Failover::State::kNone) {
    return ctx.rb().SendError("ERR REPLICAOF not allowed while failing over.");
  }
  if (EqualsIgnoreCase(args[1], "no") && EqualsIgnoreCase(args[2], "one")) {
    if (repl.is_replica()) {
      repl.SetNoMaster();
      spdlog::info("MASTER MODE enabled (user request from 'id={} addr={}')", ctx.client().id(),
                   ctx.client().transport()->peer_address());
    }
    return ctx.rb().SendOk();
  }
  // It would have to drop every replica, this client included.
  if (ctx.client().has(Client::kReplica)) {
    return ctx.rb().SendError(errors::kReplicaOfByReplica);
  }
  int64_t port;
  if (!ParseInt64(args[2], &port) || port < 0 || port > 65535) {
    return ctx.rb().SendError(errors::kInvalidMasterPort);
  }
  if (!repl.SetMaster(std::string(args[1]), static_cast<int>(port))) {
    spdlog::info(
        "REPLICAOF would result into synchronization with the master we are already connected "
        "with. No operation performed.");
    return ctx.rb().SendSimple("OK Already connected to specified master");
  }
  spdlog::info("REPLICAOF {}:{} enabled (user request from 'id={} addr={}')", args[1], port,
               ctx.client().id(), ctx.client().transport()->peer_address());
  ctx.rb().SendOk();
}

// REPLCONF <option> <value> [<option> <value> ...]
void CmdReplConf(CmdArgs args, CommandContext& ctx) {
  Replication& repl = ctx.services().replication;
  if (args.size() % 2 == 0) return ctx.rb().SendError(errors::kSyntax);
  for (size_t j = 1; j < args.size(); j += 2) {
    std::string_view option = args[j];
    if (EqualsIgnoreCase(option, "ack")) {
      // From a replica: how far it applied the stream. Never answered.
      int64_t offset;
      if (ParseInt64(args[j + 1], &offset)) {
        repl.source().Ack(ctx.client(), offset);
        repl.AckReceived();
      }
      return;
    }
    if (EqualsIgnoreCase(option, "getack")) {
      // From our master: an ACK as soon as this command is applied. Never answered.
      if (ctx.client().has(Client::kMaster)) repl.link().AckRequested();
      return;
    }
    if (EqualsIgnoreCase(option, "listening-port") || EqualsIgnoreCase(option, "ip-address") ||
        EqualsIgnoreCase(option, "capa")) {
      if (auto error = repl.source().Configure(ctx.client(), option, args[j + 1])) {
        return ctx.rb().SendError("ERR " + *error);
      }
      continue;
    }
    if (EqualsIgnoreCase(option, "rdb-only")) {
      // redis-cli --rdb / --functions-rdb: the snapshot alone, then the connection closes.
      int64_t v;
      if (!ParseInt64(args[j + 1], &v)) return ctx.rb().SendError(errors::kNotInteger);
      if (v != 0 && v != 1) {
        return ctx.rb().SendError("ERR value is out of range, value must between 0 and 1");
      }
      repl.source().SetRdbOnly(ctx.client(), v == 1);
      continue;
    }
    if (EqualsIgnoreCase(option, "rdb-filter-only")) {
      // "functions": the snapshot holds the function libraries and no keys.
      // "" leaves nothing in it (Redis's sdssplitargs, then the filters one by one).
      std::vector<std::string> filters;
      if (!SplitArgs(args[j + 1], &filters)) {
        return ctx.rb().SendError("ERR Missing rdb-filter-only values");
      }
      bool functions = false;
      for (const std::string& filter : filters) {
        if (!EqualsIgnoreCase(filter, "functions")) {
          return ctx.rb().SendError("ERR Unsupported rdb-filter-only option: " + filter);
        }
        functions = true;
      }
      repl.source().SetFunctionsOnly(ctx.client(), functions);
      continue;
    }
    return ctx.rb().SendError("ERR Unrecognized REPLCONF option: " + std::string(option));
  }
  ctx.rb().SendOk();
}

// SYNC, and PSYNC <replid> <offset>
void Sync(CmdArgs args, CommandContext& ctx, bool psync) {
  Client& c = ctx.client();
  if (c.has(Client::kReplica)) return;  // already one
  Replication& repl = ctx.services().replication;
  if (psync && args.size() > 3 && EqualsIgnoreCase(args[3], "failover")) {
    // A master handing over to this replica (its FAILOVER): this server takes over, then
    // serves the PSYNC like any other (the old master continues from its own history).
    spdlog::info("Failover request received for replid {}.", args[1]);
    if (!repl.is_replica())
      return ctx.rb().SendError("ERR PSYNC FAILOVER can't be sent to a master.");
    if (!EqualsIgnoreCase(args[1], repl.state().replid)) {
      return ctx.rb().SendError("ERR PSYNC FAILOVER replid must match my replid.");
    }
    // The old master's offset is the one it asks to continue from, less one: when this
    // replica applied all of it, it has every lease the old master granted.
    int64_t from = -1;
    const bool whole = ParseInt64(args[2], &from) && from - 1 == repl.state().master_repl_offset &&
                       repl.link().state() == MasterLink::State::kConnected;
    repl.SetNoMaster(/*handed_over=*/whole);
    spdlog::info("MASTER MODE enabled (failover request from 'id={} addr={}')", c.id(),
                 c.transport()->peer_address());
  }
  // Replicas do not sync with a master that is handing over.
  if (repl.failover().state() != Failover::State::kNone) {
    return ctx.rb().SendError("NOMASTERLINK Can't SYNC while failing over");
  }
  if (repl.is_replica() && repl.link().state() != MasterLink::State::kConnected) {
    return ctx.rb().SendError(errors::kSyncNoMasterLink);
  }
  if (c.transport()->pending_output() > 0) return ctx.rb().SendError(errors::kSyncPendingOutput);
  int64_t offset = -1;
  if (psync && !ParseInt64(args[2], &offset)) {
    spdlog::warn("Replica {} asks for synchronization but with a wrong offset",
                 c.transport()->peer_address());
    return ctx.rb().SendError(errors::kNotInteger);
  }
  // Its reply (+FULLRESYNC, +CONTINUE, then data) is written by the replication source.
  repl.source().Sync(c, psync ? args[1] : std::string_view(), offset, psync);
}

void CmdSync(CmdArgs args, CommandContext& ctx) { Sync(args, ctx, /*psync=*/false); }
void CmdPsync(CmdArgs args, CommandContext& ctx) { Sync(args, ctx, /*psync=*/true); }

// ROLE
void CmdRole(CmdArgs, CommandContext& ctx) {
  Replication& repl = ctx.services().replication;
  ReplyBuilder& rb = ctx.rb();
  if (repl.is_replica()) {
    const MasterLink& link = repl.link();
    const char* state = "unknown";
    switch (link.state()) {
      case MasterLink::State::kNone:
        state = "none";
        break;
      case MasterLink::State::kConnect:
        state = "connect";
        break;
      case MasterLink::State::kConnecting:
        state = "connecting";
        break;
      case MasterLink::State::kTransfer:
        state = "sync";
        break;
      case MasterLink::State::kConnected:
        state = "connected";
        break;
      default:
        break;
    }
    if (link.in_handshake()) state = "handshake";
    rb.StartArray(5);
    rb.SendBulk("slave");
    rb.SendBulk(link.host());
    rb.SendLong(link.port());
    rb.SendBulk(state);
    rb.SendLong(link.has_master_client() ? link.applied_offset() : -1);
    return;
  }
  const ReplicationSource& source = repl.source();
  std::vector<const ReplicationSource::Replica*> online;
  for (const auto& [id, r] : source.replicas()) {
    if (r.state == ReplicationSource::State::kOnline && !source.ReplicaIp(r).empty()) {
      online.push_back(&r);
    }
  }
  rb.StartArray(3);
  rb.SendBulk("master");
  rb.SendLong(ctx.services().state.master_repl_offset);
  rb.StartArray(online.size());
  for (const ReplicationSource::Replica* r : online) {
    rb.StartArray(3);
    rb.SendBulk(source.ReplicaIp(*r));
    rb.SendBulk(std::to_string(r->listening_port));
    rb.SendBulk(std::to_string(r->ack_offset));
  }
}

// WAIT numreplicas timeout
void CmdWait(CmdArgs args, CommandContext& ctx) {
  Replication& repl = ctx.services().replication;
  if (repl.is_replica()) return ctx.rb().SendError(errors::kWaitOnReplica);
  int64_t numreplicas;
  if (!ParseInt64(args[1], &numreplicas)) return ctx.rb().SendError(errors::kNotInteger);
  int64_t deadline;
  if (!GetBlockTimeoutMs(ctx, args[2], &deadline)) return;
  const int64_t acked = repl.source().CountAcked(ctx.client().woff);
  // Inside MULTI or a script it cannot block: the count as it is.
  if (acked >= numreplicas || !ctx.may_block()) return ctx.rb().SendLong(acked);
  auto count = [](ReplyBuilder& rb, int64_t n) { rb.SendLong(n); };
  BlockForReplicaAcks(ctx, numreplicas, deadline, count, count);
}

// FAILOVER [TO host port [FORCE]] [TIMEOUT milliseconds] | FAILOVER ABORT
void CmdFailover(CmdArgs args, CommandContext& ctx) {
  Failover& failover = ctx.services().replication.failover();
  if (args.size() == 2 && EqualsIgnoreCase(args[1], "abort")) {
    if (failover.state() == Failover::State::kNone) {
      return ctx.rb().SendError("ERR No failover in progress.");
    }
    failover.Abort("Failover manually aborted");
    return ctx.rb().SendOk();
  }
  int64_t timeout_ms = 0, port = 0;
  bool force = false;
  std::string host;
  bool has_host = false;
  for (size_t j = 1; j < args.size(); ++j) {
    if (EqualsIgnoreCase(args[j], "timeout") && j + 1 < args.size() && timeout_ms == 0) {
      if (!ParseInt64(args[j + 1], &timeout_ms)) return ctx.rb().SendError(errors::kNotInteger);
      if (timeout_ms <= 0) return ctx.rb().SendError("ERR FAILOVER timeout must be greater than 0");
      ++j;
    } else if (EqualsIgnoreCase(args[j], "to") && j + 2 < args.size() && !has_host) {
      if (!ParseInt64(args[j + 2], &port)) return ctx.rb().SendError(errors::kNotInteger);
      host = std::string(args[j + 1]);
      has_host = true;
      j += 2;
    } else if (EqualsIgnoreCase(args[j], "force") && !force) {
      force = true;
    } else {
      return ctx.rb().SendError(errors::kSyntax);
    }
  }
  if (auto error = failover.Start(has_host, host, port, timeout_ms, force)) {
    return ctx.rb().SendError(*error);
  }
  ctx.rb().SendOk();
}

}  // namespace

void RegisterReplicationFamily(CommandRegistry& r) {
  constexpr uint32_t kReplicaOfFlags =
      CO::kAdmin | CO::kNoScript | CO::kStale | CO::kNoAsyncLoading;
  r << CommandSpec{"replicaof",
                   3,
                   kReplicaOfFlags,
                   0,
                   0,
                   0,
                   0,
                   CmdReplicaOf,
                   {"Make the server a replica of another instance, or promote it as master.",
                    "5.0.0", "server", "O(1)", "host port"}};
  r << CommandSpec{"slaveof",
                   3,
                   kReplicaOfFlags,
                   0,
                   0,
                   0,
                   0,
                   CmdReplicaOf,
                   {"Make the server a replica of another instance, or promote it as master.",
                    "1.0.0", "server", "O(1)", "host port"}};
  r << CommandSpec{"replconf",
                   -1,
                   CO::kAdmin | CO::kNoScript | CO::kLoading | CO::kStale | CO::kAllowBusy,
                   0,
                   0,
                   0,
                   0,
                   CmdReplConf,
                   {"An internal command for configuring the replication stream", "3.0.0", "server",
                    "O(1)", ""}};
  r << CommandSpec{
      "psync",
      -3,
      CO::kAdmin | CO::kNoScript | CO::kNoAsyncLoading | CO::kNoMulti,
      0,
      0,
      0,
      0,
      CmdPsync,
      {"An internal command used in replication", "2.8.0", "server", "", "replicationid offset"}};
  r << CommandSpec{
      "sync", 1,       CO::kAdmin | CO::kNoScript | CO::kNoAsyncLoading | CO::kNoMulti,
      0,      0,       0,
      0,      CmdSync, {"An internal command used in replication", "1.0.0", "server", "", ""}};
  r << CommandSpec{"role",
                   1,
                   CO::kNoScript | CO::kLoading | CO::kStale | CO::kFast,
                   0,
                   0,
                   0,
                   Acl::kAdmin | Acl::kDangerous,
                   CmdRole,
                   {"Return the role of the instance in the context of replication", "2.8.12",
                    "server", "O(1)", ""}};
  r << CommandSpec{
      "failover",
      -1,
      CO::kAdmin | CO::kNoScript | CO::kStale,
      0,
      0,
      0,
      0,
      CmdFailover,
      {"Start a coordinated failover between this server and one of its replicas.", "6.2.0",
       "server", "O(1)", "[TO host port [FORCE]] [ABORT] [TIMEOUT milliseconds]"}};
  r << CommandSpec{"wait",
                   3,
                   CO::kNoScript,
                   0,
                   0,
                   0,
                   Acl::kConnection,
                   CmdWait,
                   {"Wait for the synchronous replication of all the write commands sent in the "
                    "context of the current connection",
                    "3.0.0", "generic", "O(1)", "numreplicas timeout"}};
}

}  // namespace keyward
