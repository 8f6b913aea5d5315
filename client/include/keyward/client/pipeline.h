// The execute/read state machine of one connection: requests queued, written and answered, with
// every parsed reply routed either to the request it answers or to the push stream. Sans-I/O: the
// asio loops (async_client.cc) write what TakeWrite() gives, feed what they read and act on the
// events Next() returns. Tested without sockets in tests/unit/client_pipeline_test.cc.
//
//   Pipeline<Op> p;                 // Op: whatever the caller completes (a handler, a promise)
//   p.Add(std::move(request), op);  // queued
//   Write(p.TakeWrite());           // every queued request is now in flight, in order
//   p.Feed(bytes_read);
//   while (auto event = p.Next()) ...  // kCompleted (op + its replies) or kPush
//
// Matching. Redis answers the commands of one connection in order, so replies are matched to
// requests first in, first out: a request takes Request::expected_replies() replies, then the next
// one. Out-of-band messages are not replies:
// - RESP3 push messages ('>'), which carry pub/sub messages, subscribe confirmations and
//   client-tracking invalidations;
// - on RESP2, once a subscribe-family command has been written, arrays whose first element is
//   "message", "pmessage", "smessage" or one of the six subscribe/unsubscribe confirmations. The
//   connection stays in that mode until it is reset or reconnected: RESP2 has no way to tell when
//   the last confirmation of an UNSUBSCRIBE without arguments has arrived, so the rule errs on the
//   side of pushes. Prefer RESP3 (the default handshake) for pub/sub on a shared connection.
// Subscribe-family commands therefore expect no reply of their own; a request made only of them
// completes as soon as it is written.
//
// Cancellation. A queued request is removed (its bytes are never sent). A request in flight
// cannot be unsent: Cancel() hands its op back and the request stays in the queue without it, so
// its replies are still consumed, in order, and dropped.
//
// Disconnection. OnDisconnect() hands back the ops of requests in flight (the server may or may not
// have run them, so the caller fails them rather than resending), keeps queued requests for the
// next connection and resets the parser.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "keyward/client/reply.h"
#include "keyward/client/reply_parser.h"
#include "keyward/client/request.h"

namespace keyward::client {

namespace detail {
// True when `reply` is a RESP2 pub/sub message or confirmation (see the header comment).
bool IsResp2PubSubMessage(const Reply& reply);
}  // namespace detail

template <typename Op>
class Pipeline {
 public:
  struct Event {
    enum class Kind { kCompleted, kPush };
    Kind kind;
    Op op{};                     // kCompleted: the op given to Add()
    std::vector<Reply> replies;  // kCompleted: Request::expected_replies() replies, in order
    Reply push;                  // kPush
  };

  explicit Pipeline(ReplyParserLimits limits = {}) : parser_(limits) {}

  // How pushes are recognised: 3 (the default) or 2. Set after the handshake.
  void set_protocol(int protocol) { protocol_ = protocol; }
  int protocol() const { return protocol_; }

  // Queues `request` (its bytes are moved, not copied). Returns an id for Cancel().
  uint64_t Add(Request request, Op op) {
    Entry entry;
    entry.id = ++last_id_;
    entry.expected = request.expected_replies();
    entry.subscribe = request.has_subscribe();
    entry.payload = request.TakePayload();
    entry.op = std::move(op);
    entry.replies.reserve(entry.expected);
    entries_.push_back(std::move(entry));
    ++queued_;
    return last_id_;
  }

  // Requests added but not yet taken by TakeWrite().
  size_t queued() const { return queued_; }
  // Requests written whose replies have not all arrived (abandoned ones included).
  size_t in_flight() const { return entries_.size() - queued_; }
  bool empty() const { return entries_.empty(); }

  // The bytes of every queued request, in order; from now on they are in flight.
  std::string TakeWrite() {
    std::string out;
    const size_t first = entries_.size() - queued_;
    if (queued_ == 1) {
      out = std::move(entries_[first].payload);  // the common case costs no copy
    } else {
      size_t total = 0;
      for (size_t i = first; i < entries_.size(); ++i) total += entries_[i].payload.size();
      out.reserve(total);
      for (size_t i = first; i < entries_.size(); ++i) out += entries_[i].payload;
    }
    for (size_t i = first; i < entries_.size(); ++i) {
      Entry& entry = entries_[i];
      entry.written = true;
      std::string().swap(entry.payload);
    }
    queued_ = 0;
    return out;
  }

  void Feed(std::string_view bytes) { parser_.Feed(bytes); }

  // The next event, std::nullopt when more bytes are needed, or an error when the server sent
  // something that is not RESP or a reply nothing is waiting for (the connection must be closed).
  Expected<std::optional<Event>> Next() {
    while (true) {
      // RESP2 pub/sub mode starts when a request with a subscribe-family command is the oldest
      // in flight: every reply before it has been read (including a RESET's, which ends the
      // mode), and its confirmations can come next.
      if (protocol_ == 2 && in_flight() > 0 && entries_.front().subscribe) resp2_pubsub_ = true;
      // A request in flight that needs no (more) replies completes first: subscribe-only requests
      // complete as soon as they are written.
      if (in_flight() > 0 && entries_.front().replies.size() == entries_.front().expected) {
        Entry entry = std::move(entries_.front());
        entries_.pop_front();
        if (!entry.op) continue;  // cancelled while in flight
        return std::optional<Event>(
            Event{Event::Kind::kCompleted, std::move(*entry.op), std::move(entry.replies), {}});
      }
      auto parsed = parser_.Next();
      if (!parsed) return parsed.error();
      if (!*parsed) return std::optional<Event>();
      Reply& reply = **parsed;  // moved once, into its destination
      if (reply.type() == ReplyType::kPush ||
          (resp2_pubsub_ && detail::IsResp2PubSubMessage(reply))) {
        return std::optional<Event>(Event{Event::Kind::kPush, Op{}, {}, std::move(reply)});
      }
      if (in_flight() == 0) return ClientError::kProtocolError;  // nothing asked for this
      if (protocol_ == 2 && reply.type() == ReplyType::kSimpleString) {
        auto text = reply.as_string();
        if (text && *text == "RESET") resp2_pubsub_ = false;  // RESET leaves subscribed mode
      }
      entries_.front().replies.push_back(std::move(reply));
    }
  }

  // Requests at the front that are written and need no more replies (an empty request, or one
  // of subscribe-family commands only), with their replies, oldest first. Next() finds them too,
  // but only when called, which the read loop does only when bytes arrive: the write loop calls
  // this after each write, so such a request completes without waiting for unrelated traffic.
  std::vector<std::pair<Op, std::vector<Reply>>> TakeFinished() {
    std::vector<std::pair<Op, std::vector<Reply>>> finished;
    while (in_flight() > 0 && entries_.front().replies.size() == entries_.front().expected) {
      if (protocol_ == 2 && entries_.front().subscribe) resp2_pubsub_ = true;
      Entry entry = std::move(entries_.front());
      entries_.pop_front();
      if (entry.op) finished.emplace_back(std::move(*entry.op), std::move(entry.replies));
    }
    return finished;
  }

  // Takes `id`'s op back (the caller completes it as cancelled). Empty when the request has
  // already completed or was cancelled before.
  std::optional<Op> Cancel(uint64_t id) {
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->id != id) continue;
      std::optional<Op> op = std::move(it->op);
      it->op.reset();
      if (!it->written) {
        entries_.erase(it);
        --queued_;
      }
      return op;
    }
    return std::nullopt;
  }

  // The connection closed. Returns the ops of requests in flight; queued requests stay queued.
  std::vector<Op> OnDisconnect() {
    std::vector<Op> lost;
    while (in_flight() > 0) {
      if (entries_.front().op) lost.push_back(std::move(*entries_.front().op));
      entries_.pop_front();
    }
    parser_.Reset();
    resp2_pubsub_ = false;
    return lost;
  }

  // Every op, queued or in flight (for closing the client). The pipeline is empty afterwards.
  std::vector<Op> TakeAll() {
    std::vector<Op> all = OnDisconnect();
    for (Entry& entry : entries_) {
      if (entry.op) all.push_back(std::move(*entry.op));
    }
    entries_.clear();
    queued_ = 0;
    return all;
  }

  // The parser, for the handshake, which reads its replies before any request is added.
  ReplyParser& parser() { return parser_; }

 private:
  struct Entry {
    uint64_t id = 0;
    size_t expected = 0;
    bool subscribe = false;
    bool written = false;
    std::string payload;   // until written
    std::optional<Op> op;  // empty once cancelled
    std::vector<Reply> replies;
  };

  ReplyParser parser_;
  std::deque<Entry> entries_;  // in flight first (in write order), then queued
  size_t queued_ = 0;
  uint64_t last_id_ = 0;
  int protocol_ = 3;
  bool resp2_pubsub_ = false;
};

}  // namespace keyward::client
