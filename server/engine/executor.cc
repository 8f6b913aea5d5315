#include "server/engine/executor.h"

#include <spdlog/spdlog.h>

#include <cstdlib>

#include "server/core/errors.h"
#include "server/core/strings.h"
#include "server/engine/context.h"

namespace keyward {

void Executor::CallFromClient(Client& c, CmdArgs args) {
  UpdateTime();
  const Verdict verdict = p_.gatekeeper.Check(CallerKind::kClient, c, args, p_.keyspace.now_ms());
  p_.tracking.set_current(&c);
  // tracking-table-max-keys: the table is trimmed before the next command, as in Redis.
  if (p_.tracking.clients() != 0) {
    p_.tracking.LimitTable(static_cast<uint64_t>(p_.settings.tracking_table_max_keys));
  }
  {
    ReplyScope reply(p_.output, c);
    switch (verdict.action) {
      case Verdict::kRefuse:
        Refuse(c, verdict);
        break;
      case Verdict::kHold:
        // CLIENT LIST shows the command as the client's current one, held or not. It stays in
        // the input buffer until the pause ends.
        c.last_command = verdict.cmd->full_name();
        p_.pause.Hold(c);
        reply.Abandon();
        p_.tracking.set_current(nullptr);
        return;
      case Verdict::kQueue:
        c.last_command = verdict.cmd->full_name();
        p_.transactions.Queue(c, *verdict.cmd, verdict.flags, args);
        break;
      case Verdict::kRun: {
        c.last_command = verdict.cmd->full_name();
        const int64_t offset = p_.state.master_repl_offset;
        {
          UnitScope unit(p_.propagation);
          Run(CallerKind::kClient, c, *verdict.cmd, args, /*replicate=*/true);
        }
        // WAIT counts the replicas that reached the client's last write.
        if (p_.state.master_repl_offset != offset) c.woff = p_.state.master_repl_offset;
        break;
      }
    }
  }
  // Invalidations the command caused for its own client follow its reply.
  p_.tracking.AfterCommand(c, verdict.cmd);
  p_.tracking.set_current(nullptr);
  // A key the command made ready goes to its waiters now, in the same event-loop turn.
  if (p_.blocking.has_ready()) p_.blocking.ServeReady();
}

std::optional<std::string> Executor::CallNested(CallerKind kind, CommandContext& outer, Client& c,
                                                CmdArgs args, const NestedOptions& options) {
  const Verdict verdict = p_.gatekeeper.Check(
      kind, c, args, p_.keyspace.now_ms(),
      GateOptions{options.read_only_script, options.wrote != nullptr && *options.wrote,
                  options.allow_oom, kind == CallerKind::kScript ? &outer.client() : nullptr});
  if (verdict.action == Verdict::kRefuse) {
    if (verdict.cmd != nullptr) verdict.cmd->stats().rejected_calls++;
    return verdict.error;
  }
  if (options.wrote != nullptr && (verdict.flags & CO::kWrite)) *options.wrote = true;
  Run(kind, c, *verdict.cmd, args, options.replicate && outer.replicate());
  // A script reads for the client that called it.
  if (kind == CallerKind::kScript) RememberReadKeys(outer.client(), *verdict.cmd, args);
  return std::nullopt;
}

std::optional<std::string> Executor::Apply(CallerKind kind, Client& c, CmdArgs args) {
  if (args.size() == 1 && EqualsIgnoreCase(args[0], "MULTI")) {
    p_.propagation.BeginUnit();
    applying_transaction_++;
    return std::nullopt;
  }
  if (args.size() == 1 && EqualsIgnoreCase(args[0], "EXEC")) {
    if (applying_transaction_ == 0) return std::string(errors::kExecWithoutMulti);
    applying_transaction_--;
    p_.propagation.EndUnit();
    if (applying_transaction_ == 0 && p_.blocking.has_ready()) p_.blocking.ServeReady();
    return std::nullopt;
  }
  UpdateTime();
  const Verdict verdict = p_.gatekeeper.Check(kind, c, args, p_.keyspace.now_ms());
  if (verdict.action == Verdict::kRefuse) return verdict.error;
  std::string& out = c.transport()->output();
  const size_t reply_at = out.size();
  {
    UnitScope unit(p_.propagation);
    // No key expires while the stream is applied: its own DELs say when keys went.
    p_.keyspace.set_ignore_expiry(true);
    Run(kind, c, *verdict.cmd, args, /*replicate=*/kind == CallerKind::kMaster);
    p_.keyspace.set_ignore_expiry(false);
  }
  if (out.size() > reply_at && out[reply_at] == '-') {
    // The stream says a command succeeded here and it failed: the datasets differ from now on.
    // propagation-error-behavior decides: log it, or stop (panic on the master's stream only, or
    // on the AOF too).
    const std::string_view error(out.data() + reply_at + 1,
                                 out.find('\r', reply_at) - reply_at - 1);
    p_.stats.unexpected_error_replies++;
    const auto behavior =
        static_cast<PropagationErrorBehavior>(p_.settings.propagation_error_behavior);
    const bool panic =
        behavior == PropagationErrorBehavior::kPanic ||
        (behavior == PropagationErrorBehavior::kPanicOnReplicas && kind == CallerKind::kMaster);
    const char* source = kind == CallerKind::kMaster ? "the master's stream" : "the AOF";
    spdlog::warn("== CRITICAL == A command from {} failed here: '{}' replied -{}", source, args[0],
                 error);
    if (panic) {
      spdlog::critical(
          "propagation-error-behavior is {}: stopping",
          behavior == PropagationErrorBehavior::kPanic ? "panic" : "panic-on-replicas");
      spdlog::shutdown();
      std::abort();
    }
  }
  out.resize(reply_at);  // applied silently (what was queued before it, an ACK, stays)
  if (p_.blocking.has_ready()) p_.blocking.ServeReady();
  return std::nullopt;
}

void Executor::RunUnit(const std::function<void()>& fn) {
  {
    UnitScope unit(p_.propagation);
    fn();
  }
  if (p_.blocking.has_ready()) p_.blocking.ServeReady();
}

void Executor::UpdateTime() {
  const int64_t now = p_.clock.NowMs();
  p_.keyspace.set_now_ms(now);
  p_.keyspace.set_deletion_paused(p_.pause.HoldsWrites(now));
}

bool Executor::ServeBlocked(Client& c, const CommandSpec& cmd,
                            const std::function<bool(CommandContext&)>& fn) {
  ReplyScope reply(p_.output, c, /*deferred=*/true);
  const int64_t offset = p_.state.master_repl_offset;
  bool served = false;
  {
    UnitScope unit(p_.propagation);
    CommandContext ctx(*this, c, cmd, CallerKind::kClient);
    served = fn(ctx);
    if (!served) {
      reply.Abandon();
      return false;
    }
    ctx.Finish({});
  }
  // What the served wait wrote is the client's last write (WAIT, and a fenced grant held for
  // replicas, count the replicas that reached it).
  if (p_.state.master_repl_offset != offset) c.woff = p_.state.master_repl_offset;
  return true;
}

void Executor::ReplyDeferred(Client& c, const std::function<void()>& write) {
  ReplyScope reply(p_.output, c, /*deferred=*/true);
  write();
}

void Executor::Refuse(Client& c, const Verdict& verdict) {
  std::string* sink = c.rb().sink();
  const size_t at = sink->size();
  // A command refused inside MULTI makes EXEC fail (Redis's flagTransaction); a refused EXEC
  // discards the transaction and says why (Redis's execCommandAbort), in or out of MULTI.
  p_.transactions.FlagError(c);
  const bool exec = verdict.cmd != nullptr && verdict.cmd->full_name() == "exec";
  if (exec) {
    p_.transactions.End(c);
    c.rb().SendError(errors::ExecAbortBecause(verdict.error));
    // Monitors saw MULTI and none of the queued commands: EXEC tells them the transaction is over.
    if (!p_.monitors.empty()) {
      const std::string_view argv[] = {"EXEC"};
      p_.monitors.Feed(c, false, c.db, *verdict.cmd, argv, p_.settings.unixsocket);
    }
  } else {
    c.rb().SendError(verdict.error);
  }
  p_.stats.CountErrorReply(std::string_view(*sink).substr(at));
  if (verdict.cmd != nullptr) verdict.cmd->stats().rejected_calls++;
}

void Executor::Run(CallerKind kind, Client& c, const CommandSpec& cmd, CmdArgs args,
                   bool replicate) {
  const std::string* sink = c.rb().sink();
  const size_t reply_at = sink->size();
  CommandContext ctx(*this, c, cmd, kind, replicate);
  const int64_t start = p_.clock.MonotonicUs();
  cmd.handler()(args, ctx);
  const int64_t duration = p_.clock.MonotonicUs() - start;
  ctx.Finish(args);
  if (kind == CallerKind::kClient || kind == CallerKind::kExec) RememberReadKeys(c, cmd, args);

  const bool replaying = kind == CallerKind::kAofReplay;
  // Monitors see the command after it ran, with the database it ran in (SELECT shows the new
  // one); a script's commands show "lua" as their origin.
  if (!replaying && !p_.monitors.empty() && !cmd.has(CO::kSkipMonitor) && !cmd.has(CO::kAdmin)) {
    p_.monitors.Feed(c, kind == CallerKind::kScript, c.db, cmd, args, p_.settings.unixsocket);
  }
  if (replaying) return;  // Redis keeps no statistics of a load
  cmd.stats().calls++;
  cmd.stats().usec += static_cast<uint64_t>(duration);
  // The latency monitor and the command's histogram see the runs INFO commandstats counts
  // (Redis's call(): a fast command's slow run is its own event, "fast-command").
  if (LatencyMonitor::Exceeds(duration / 1000, p_.settings.latency_monitor_threshold)) {
    p_.latency.AddSample(cmd.has(CO::kFast) ? "fast-command" : "command", duration / 1000,
                         p_.clock.NowMs() / 1000);
  }
  if (p_.settings.latency_tracking) p_.latency.RecordCommand(cmd, duration);
  p_.stats.total_commands_processed++;
  const bool failed = sink->size() > reply_at && (*sink)[reply_at] == '-';
  if (failed) cmd.stats().failed_calls++;
  // A transaction's commands are the client's own: their errors and slow runs count as if sent
  // one by one (Redis's call() with CMD_CALL_FULL at EXEC).
  if (kind != CallerKind::kClient && kind != CallerKind::kExec) return;
  if (kind == CallerKind::kClient) c.commands_processed++;
  if (failed) p_.stats.CountErrorReply(std::string_view(*sink).substr(reply_at));
  p_.slowlog.MaybeAdd(c, cmd, args, duration, p_.keyspace.now_ms(),
                      p_.settings.slowlog_log_slower_than, p_.settings.slowlog_max_len);
}

void Executor::RememberReadKeys(Client& caller, const CommandSpec& cmd, CmdArgs args) {
  if (!caller.has(Client::kTracking) || caller.has(Client::kTrackingBcast)) return;
  if (!cmd.has(CO::kReadOnly)) return;
  // The read-only script commands are not reads themselves: the commands they run are.
  const std::string& name = cmd.full_name();
  if (name == "eval_ro" || name == "evalsha_ro" || name == "fcall_ro") return;
  p_.tracking.RememberKeys(caller, cmd, args);
}

}  // namespace keyward
