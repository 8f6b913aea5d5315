#include "server/engine/output.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace keyward {

ReplyScope::ReplyScope(ReplyOutput& output, Client& c, bool deferred)
    : output_(output),
      c_(c),
      deferred_(deferred),
      before_(c.transport()->output().size()),
      silenced_(c.reply_mode == Client::ReplyMode::kOff ||
                c.reply_mode == Client::ReplyMode::kSkip),
      was_skip_(c.reply_mode == Client::ReplyMode::kSkip),
      previous_sink_(c.rb().sink()) {
  // Like Redis, this covers the gatekeeper's refusals too, and a refused command uses up a SKIP.
  if (silenced_) c_.rb().set_sink(&aside_);
}

ReplyScope::~ReplyScope() {
  std::string& out = c_.transport()->output();
  if (silenced_) {
    c_.rb().set_sink(previous_sink_);
    // CLIENT REPLY ON, run while replies were off, is answered.
    if (c_.reply_mode == Client::ReplyMode::kOn) out.append(aside_);
  }
  if (abandoned_) return;
  // Redis's order: the skipped command's SKIP ends, then a SKIP just asked for starts.
  if (was_skip_ && c_.reply_mode == Client::ReplyMode::kSkip)
    c_.reply_mode = Client::ReplyMode::kOn;
  if (c_.reply_mode == Client::ReplyMode::kSkipNext) c_.reply_mode = Client::ReplyMode::kSkip;
  if (deferred_) {
    output_.FinishDeferredReply(c_, before_);
  } else {
    output_.FinishReply(c_, before_);
  }
}

void ReplyOutput::FinishReply(Client& c, size_t before) {
  std::string& out = c.transport()->output();
  stats_.total_net_output_bytes += out.size() - before;
  c.reply_peak = std::max(c.reply_peak, out.size() - before);
  // A client's own replies count against its limit too (normal clients: none by default).
  if (out.size() > before) CheckLimit(c);
}

void ReplyOutput::FinishDeferredReply(Client& c, size_t before) {
  FinishReply(c, before);
  ScheduleFlush(c);
}

void ReplyOutput::SendToOther(Client& c, std::string_view bytes) {
  if (c.closing()) return;
  c.transport()->output().append(bytes);
  (c.has(Client::kReplica) ? stats_.total_net_repl_output_bytes : stats_.total_net_output_bytes) +=
      bytes.size();
  if (CheckLimit(c)) ScheduleFlush(c);
}

bool ReplyOutput::CheckLimit(Client& c) {
  // The class decides the limit (Redis's getClientType; the master link counts as normal, as
  // Redis's getClientOutputBufferLimitClass has it).
  const Client::Type type = c.type();
  const ClientClass cls = type == Client::Type::kReplica  ? ClientClass::kReplica
                          : type == Client::Type::kPubSub ? ClientClass::kPubSub
                                                          : ClientClass::kNormal;
  OutputBufferLimit limit = settings_.client_output_buffer_limit[static_cast<int>(cls)];
  if (limit.hard == 0 && limit.soft == 0) return true;
  // A replica's hard limit is never below repl-backlog-size (Redis 7.0: what the backlog holds
  // anyway must not disconnect it).
  if (cls == ClientClass::kReplica && limit.hard > 0 && limit.hard < settings_.repl_backlog_size) {
    limit.hard = settings_.repl_backlog_size;
  }
  // Redis counts only what overflows a client's fixed 16 KB reply buffer (PROTO_REPLY_CHUNK_BYTES)
  // against the limit, so a tiny limit still lets ordinary replies through.
  constexpr int64_t kStaticReplyBuffer = 16 * 1024;
  const int64_t used =
      std::max<int64_t>(0, static_cast<int64_t>(c.transport()->pending_output() + c.held_output) -
                               kStaticReplyBuffer);
  const int64_t now = keyspace_.now_ms();
  bool over = limit.hard > 0 && used >= limit.hard;
  if (limit.soft > 0 && used >= limit.soft) {
    if (c.obuf_soft_limit_since_ms == 0) c.obuf_soft_limit_since_ms = now;
    over = over || now - c.obuf_soft_limit_since_ms > limit.soft_seconds * 1000;
  } else {
    c.obuf_soft_limit_since_ms = 0;
  }
  if (!over) return true;
  // Closed once the current command (or fan-out) is over: closing now would unsubscribe it
  // from the very list a PUBLISH is walking.
  static constexpr const char* kClassNames[] = {"normal", "slave", "pubsub"};
  spdlog::warn(
      "Client id={} addr={} scheduled to be closed ASAP for overcoming of output buffer limits "
      "(class {}, {} bytes pending).",
      c.id(), c.transport()->peer_address(), kClassNames[static_cast<int>(cls)], used);
  c.flags |= Client::kCloseAsap;
  close_asap_.push_back(c.id());
  PostDeferred();
  return false;
}

void ReplyOutput::ScheduleFlush(Client& c) {
  // Once per batch: a subscriber that receives 16 messages is flushed once.
  if (c.has(Client::kPendingFlush)) return;
  c.flags |= Client::kPendingFlush;
  if (c.has(Client::kReplica) && host_ != nullptr) {
    pending_replica_flush_.push_back(c.id());
    if (!replica_flush_posted_) {
      replica_flush_posted_ = true;
      host_->Post([this] { FlushReplicas(); });
    }
    return;
  }
  pending_flush_.push_back(c.id());
  PostDeferred();
}

void ReplyOutput::PostDeferred() {
  // Work done outside any client's input (the cron's expiry notifications, timers) is flushed by
  // a posted task; work inside a client's input by the session after the batch.
  if (host_ != nullptr && !deferred_posted_) {
    deferred_posted_ = true;
    host_->Post([this] { ProcessDeferred(); });
  }
}

void ReplyOutput::FlushReplicas() {
  replica_flush_posted_ = false;
  Flush(pending_replica_flush_);
}

void ReplyOutput::Flush(std::vector<uint64_t>& pending) {
  std::vector<uint64_t> flush;
  flush.swap(pending);
  for (uint64_t id : flush) {
    // Flushing one client cannot close another, but may close itself (a write error); look
    // each one up again.
    if (Client* c = clients_.Find(id)) {
      c->flags &= ~Client::kPendingFlush;
      if (!c->transport()->output().empty()) stats_.total_writes_processed++;
      c->transport()->Flush();
    }
  }
}

void ReplyOutput::ProcessDeferred() {
  deferred_posted_ = false;
  for (const auto& work : before_flush_) work();
  std::vector<uint64_t> closing;
  closing.swap(close_asap_);
  for (uint64_t id : closing) {
    if (Client* c = clients_.Find(id)) clients_.Close(*c);
  }
  Flush(pending_flush_);
}

}  // namespace keyward
