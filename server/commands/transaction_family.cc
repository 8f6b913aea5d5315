// Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH, as Redis 7.0's multi.c. The queue and the
// watched keys live in engine/transactions.h; the gatekeeper queues commands inside MULTI and
// judges EXEC by the flags of what it will run; this file holds the commands themselves.
#include <string_view>
#include <vector>

#include "server/commands/families.h"
#include "server/commands/services.h"
#include "server/core/errors.h"
#include "server/engine/context.h"
#include "server/engine/registry.h"
#include "server/engine/transactions.h"

namespace keyward {

namespace {

void CmdMulti(CmdArgs args, CommandContext& ctx) {
  Client& c = ctx.client();
  if (c.has(Client::kMulti)) return ctx.rb().SendError(errors::kMultiNested);
  ctx.services().transactions.Begin(c);
  ctx.rb().SendOk();
}

void CmdDiscard(CmdArgs args, CommandContext& ctx) {
  Client& c = ctx.client();
  if (!c.has(Client::kMulti)) return ctx.rb().SendError(errors::kDiscardWithoutMulti);
  ctx.services().transactions.End(c);
  ctx.rb().SendOk();
}

// EXEC runs the queued commands one after the other, each through the executor (ACL checked
// again, statistics, MONITOR, the slow log), inside EXEC's execution unit: the stream carries
// their effects as one MULTI ... EXEC when there is more than one, and waiters on the keys they
// touch are served after the last. Nothing blocks inside it (CommandContext::may_block): BLPOP
// on an empty list answers null at once. All of them see one server time, EXEC's.
void CmdExec(CmdArgs args, CommandContext& ctx) {
  Client& c = ctx.client();
  Transactions& transactions = ctx.services().transactions;
  if (!c.has(Client::kMulti)) return ctx.rb().SendError(errors::kExecWithoutMulti);
  if (transactions.WatchedKeyExpired(c)) c.flags |= Client::kDirtyCas;
  if (c.has(Client::kDirtyExec | Client::kDirtyCas)) {
    // A command refused while queueing is an error; a watched key that changed is not: the
    // transaction simply did not run (a null reply).
    if (c.has(Client::kDirtyExec)) {
      ctx.rb().SendError(errors::kExecAbort);
    } else {
      ctx.rb().SendNullArray();
    }
    transactions.End(c);
    return;
  }
  const std::vector<QueuedCommand> queued = transactions.TakeQueued(c);
  ctx.rb().StartArray(queued.size());
  std::vector<std::string_view> argv;
  for (const QueuedCommand& q : queued) {
    argv.assign(q.argv.begin(), q.argv.end());
    if (auto refused = ctx.executor().CallNested(CallerKind::kExec, ctx, c, argv)) {
      ctx.rb().SendError(*refused);
    }
  }
  transactions.End(c);
}

void CmdWatch(CmdArgs args, CommandContext& ctx) {
  Client& c = ctx.client();
  if (c.has(Client::kMulti)) return ctx.rb().SendError(errors::kWatchInsideMulti);
  // A transaction that already failed cannot succeed again: nothing to watch for.
  if (!c.has(Client::kDirtyCas)) {
    for (size_t i = 1; i < args.size(); i++) {
      ctx.services().transactions.Watch(c, c.db, args[i]);
    }
  }
  ctx.rb().SendOk();
}

void CmdUnwatch(CmdArgs args, CommandContext& ctx) {
  Client& c = ctx.client();
  ctx.services().transactions.UnwatchAll(c);
  c.flags &= ~Client::kDirtyCas;
  ctx.rb().SendOk();
}

}  // namespace

void RegisterTransactionFamily(CommandRegistry& r) {
  constexpr uint64_t kTx = Acl::kTransaction;
  constexpr uint32_t kTxFlags = CO::kNoScript | CO::kLoading | CO::kStale;
  r << CommandSpec{"multi",
                   1,
                   kTxFlags | CO::kFast | CO::kAllowBusy,
                   0,
                   0,
                   0,
                   kTx,
                   CmdMulti,
                   {"Mark the start of a transaction block", "1.2.0", "transactions", "O(1)", ""}}
    << CommandSpec{"exec",
                   1,
                   kTxFlags | CO::kSkipSlowlog,
                   0,
                   0,
                   0,
                   kTx,
                   CmdExec,
                   {"Execute all commands issued after MULTI", "1.2.0", "transactions",
                    "Depends on commands in the transaction", ""}}
    << CommandSpec{"discard",
                   1,
                   kTxFlags | CO::kFast | CO::kAllowBusy,
                   0,
                   0,
                   0,
                   kTx,
                   CmdDiscard,
                   {"Discard all commands issued after MULTI", "2.0.0", "transactions",
                    "O(N), when N is the number of queued commands", ""}}
    << CommandSpec{"watch",
                   -2,
                   kTxFlags | CO::kFast | CO::kAllowBusy,
                   1,
                   -1,
                   1,
                   kTx,
                   CmdWatch,
                   {"Watch the given keys to determine execution of the MULTI/EXEC block", "2.2.0",
                    "transactions", "O(1) for every key.", "key [key ...]"}}
    << CommandSpec{"unwatch",
                   1,
                   kTxFlags | CO::kFast | CO::kAllowBusy,
                   0,
                   0,
                   0,
                   kTx,
                   CmdUnwatch,
                   {"Forget about all watched keys", "2.2.0", "transactions", "O(1)", ""}};
}

}  // namespace keyward
