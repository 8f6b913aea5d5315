#include "server/engine/session.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <span>

#include "server/core/errors.h"
#include "server/protocol/request_scan.h"

namespace keyward {

namespace {

// The per-connection Session: feeds input to the server and reports closure.
class ClientSession : public net::Session {
 public:
  ClientSession(Sessions& sessions, ClientRegistry& clients, ReplyOutput& output,
                std::unique_ptr<Client> client)
      : sessions_(sessions), clients_(clients), output_(output), client_(std::move(client)) {}

  size_t OnInput(std::string_view input) override {
    const size_t used = sessions_.ProcessInput(*client_, input);
    // Output this batch produced for other clients goes out now, in one write each.
    output_.ProcessDeferred();
    // The connection writes this client's replies as soon as we return (INFO
    // total_writes_processed counts that write).
    if (!client_->has(Client::kClosed) && !client_->transport()->output().empty()) {
      sessions_.CountWrite();
    }
    return used;
  }
  void OnClosed() override { clients_.Close(*client_); }
  size_t PendingCommandSize() const override { return client_->parser().bytes_hint(); }

 private:
  Sessions& sessions_;
  ClientRegistry& clients_;
  ReplyOutput& output_;
  std::unique_ptr<Client> client_;
};

}  // namespace

std::unique_ptr<net::Session> Sessions::Open(net::Transport& transport) {
  return std::make_unique<ClientSession>(*this, clients_, output_,
                                         clients_.Accept(transport, keyspace_.now_ms()));
}

// About where a key table (8-byte slots, entries of 40-80 bytes) outgrows the caches of the
// machines this runs on.
constexpr size_t kPrefetchMinKeys = 65536;

size_t Sessions::PrefetchKeys(const Client& c, std::string_view input) const {
  // A table small enough to stay in the cache (a pipeline on a few keys) gains nothing: the
  // look-ahead would be pure cost, so the whole input counts as looked at.
  const Database& db = keyspace_.db(c.db);
  if (db.size() < kPrefetchMinKeys) return input.size();
  // Sixteen requests: a pipeline of redis-benchmark -P 16 per read, and the misses of that many
  // lookups overlap well; more would be evicted before their commands run.
  std::array<std::string_view, 16> keys;
  size_t scanned;
  const size_t n = PeekSecondArgs(input, keys, &scanned);
  // Nor does one request: its lookup follows at once.
  if (n >= 2) db.Prefetch(std::span<const std::string_view>(keys.data(), n));
  return scanned;
}

size_t Sessions::ProcessInput(Client& c, std::string_view input) {
  // Every batch a connection hands over is a read event (Redis counts each readQueryFromClient).
  // A paused client's buffer offered again on resume counts once more.
  stats_.total_reads_processed++;
  if (c.has(Client::kClosed) || c.has(Client::kCloseAfterReply)) return input.size();
  // Redis closes a client whose unprocessed input outgrows client-query-buffer-limit.
  auto over_limit = [&](size_t pending) {
    if (pending <= static_cast<size_t>(settings_.client_query_buffer_limit)) return false;
    spdlog::warn("Closing client that reached max query buffer length: id={} qbuf={}", c.id(),
                 pending);
    stats_.client_query_buffer_limit_disconnections++;
    clients_.Close(c);
    return true;
  };
  c.query_buffer_peak = std::max(c.query_buffer_peak, input.size());
  // Every read counts as interaction (Redis's lastinteraction), a paused or blocked client's
  // too: the cron frees the buffer of idle clients only.
  c.last_interaction_ms = keyspace_.now_ms();
  // A client held by CLIENT PAUSE or blocked keeps sending: its commands wait in the buffer,
  // which is still bounded by the limit.
  if (c.has(Client::kPaused | Client::kBlocked)) {
    return over_limit(input.size()) ? input.size() : 0;
  }
  size_t consumed = 0;
  // Read the limits at every call, as Redis does: CONFIG SET proto-max-bulk-len applies to
  // connected clients too.
  c.parser().set_limits(ParserLimits{.max_bulk_len = settings_.proto_max_bulk_len});
  c.parser().set_authenticated(!clients_.AuthRequired(c));
  size_t prefetched_to = 0;  // the input whose keys were prefetched
  while (consumed < input.size()) {
    if (consumed >= prefetched_to)
      prefetched_to = consumed + PrefetchKeys(c, input.substr(consumed));
    RequestParser& parser = c.parser();
    const auto status = parser.Parse(input.substr(consumed));
    if (status == RequestParser::Status::kNeedMore) {
      if (over_limit(input.size() - consumed)) return input.size();
      break;
    }
    if (status == RequestParser::Status::kError) {
      c.rb().SendError(errors::Protocol(parser.error()));
      spdlog::info("Protocol error ({}) from client: id={} addr={}", parser.error(), c.id(),
                   c.transport()->peer_address());
      clients_.Close(c, /*after_reply=*/true);
      return input.size();
    }
    const size_t used = parser.consumed();
    if (status == RequestParser::Status::kOk) {
      executor_.CallFromClient(c, parser.args());
      // Held back by CLIENT PAUSE: the command stays in the buffer.
      if (c.has(Client::kPaused)) break;
      if (c.has(Client::kClosed)) return input.size();
      if (c.has(Client::kBlocked)) {
        // The command ran and waits; what follows it waits in the buffer.
        consumed += used;
        break;
      }
    }
    consumed += used;
    if (c.has(Client::kCloseAfterReply)) return input.size();
  }
  stats_.total_net_input_bytes += consumed;
  return consumed;
}

}  // namespace keyward
