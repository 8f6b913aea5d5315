#include "server/commands/replica_acks.h"

#include <memory>

#include "server/commands/services.h"
#include "server/core/errors.h"
#include "server/replication/replication.h"

namespace keyward {

namespace {

struct AckWait : WaitState {
  int64_t needed = 0;
  Replication* replication = nullptr;
  AckReply reply, timeout;
};

class AckWaitHandler : public BlockHandler {
 public:
  bool TryServe(CommandContext& ctx, WaitState* state, std::string_view) override {
    auto& w = *static_cast<AckWait*>(state);
    const int64_t acked = w.replication->source().CountAcked(ctx.client().woff);
    if (acked < w.needed) return false;
    w.reply(ctx.rb(), acked);
    return true;
  }
  void OnTimeout(Client& c, WaitState* state) override {
    auto& w = *static_cast<AckWait*>(state);
    w.timeout(c.rb(), w.replication->source().CountAcked(c.woff));
  }
};

AckWaitHandler& AckWaits() {
  static AckWaitHandler handler;  // stateless: each wait knows its server
  return handler;
}

}  // namespace

void BlockForReplicaAcks(CommandContext& ctx, int64_t needed, int64_t deadline_ms, AckReply reply,
                         AckReply timeout) {
  Replication& repl = ctx.services().replication;
  auto wait = std::make_unique<AckWait>();
  wait->needed = needed;
  wait->replication = &repl;
  wait->reply = std::move(reply);
  wait->timeout = std::move(timeout);
  BlockRequest request;
  request.condition = WaitCondition::kReplicationOffset;
  request.deadline_ms = deadline_ms;
  request.handler = &AckWaits();
  request.command = &ctx.cmd();
  request.state = std::move(wait);
  ctx.services().blocking.Block(ctx.client(), std::move(request));
  // Every replica is asked for an ACK before the event loop sleeps.
  repl.source().RequestAcks();
}

bool HoldFencedReply(CommandContext& ctx, AckReply reply) {
  const ServerSettings& settings = ctx.settings();
  if (settings.lock_fence_replicas <= 0 || ctx.services().state.replica || !ctx.may_block()) {
    return false;
  }
  const int64_t needed = settings.lock_fence_replicas;
  const int64_t deadline = ctx.now_ms() + settings.lock_fence_timeout;
  BlockForReplicaAcks(ctx, needed, deadline, std::move(reply),
                      [needed](ReplyBuilder& rb, int64_t acked) {
                        rb.SendError(errors::FenceNotReplicated(acked, needed));
                      });
  return true;
}

}  // namespace keyward
