// The pub/sub registry: who is subscribed to which channel, pattern and shard channel, and the
// fan-out of a published message. It knows clients only as opaque subscribers and delivers
// through a callback, so it holds no socket and no server state (tests/unit/pubsub_test.cc).
//
// Fan-out serialises a message once per publish, not once per subscriber: the RESP2 array and
// the RESP3 push are each built at most once, then the same bytes are handed to every receiver
// (a subscriber to both a channel and a matching pattern gets both messages, as in Redis).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace keyward {

class Client;

enum class PubSubKind {
  kChannel,  // SUBSCRIBE / PUBLISH
  kPattern,  // PSUBSCRIBE: glob patterns matched against PUBLISH's channel
  kShard,    // SSUBSCRIBE / SPUBLISH (one shard here: no cluster)
};

// What one client holds, for its confirmations' counts, UNSUBSCRIBE without arguments and
// CLIENT LIST (sub= psub= ssub=). Kept in subscription order.
struct ClientSubscriptions {
  std::vector<std::string> channels;
  std::vector<std::string> patterns;
  std::vector<std::string> shard_channels;

  std::vector<std::string>& of(PubSubKind kind);
  const std::vector<std::string>& of(PubSubKind kind) const;
  bool empty() const { return channels.empty() && patterns.empty() && shard_channels.empty(); }
};

class PubSub {
 public:
  // Called once per receiver with the message in the receiver's protocol (RESP2 array or RESP3
  // push). The callee appends it to the client's output; it must not subscribe or unsubscribe.
  using Deliver = std::function<void(Client& receiver, std::string_view bytes)>;
  // The protocol version (2 or 3) a client speaks, and where its subscriptions are kept.
  using ProtocolOf = std::function<int(const Client&)>;
  using SubscriptionsOf = std::function<ClientSubscriptions&(Client&)>;

  PubSub(Deliver deliver, ProtocolOf protocol_of, SubscriptionsOf subscriptions_of)
      : deliver_(std::move(deliver)),
        protocol_of_(std::move(protocol_of)),
        subscriptions_of_(std::move(subscriptions_of)) {}

  // Adds the subscription; false when the client already had it (Redis still confirms it).
  bool Subscribe(Client& c, PubSubKind kind, std::string_view name);
  // Removes it; false when the client did not have it.
  bool Unsubscribe(Client& c, PubSubKind kind, std::string_view name);
  // Removes every subscription of the client (RESET, disconnection): no confirmations.
  void UnsubscribeAll(Client& c);

  // PUBLISH / SPUBLISH: delivers to every matching subscription; returns the number of
  // deliveries (what PUBLISH replies). kPattern is not a publish kind.
  size_t Publish(PubSubKind kind, std::string_view channel, std::string_view message);

  // PUBSUB CHANNELS / SHARDCHANNELS: active channels matching `pattern` (all without one).
  std::vector<std::string> Channels(PubSubKind kind, std::optional<std::string_view> pattern) const;
  // PUBSUB NUMSUB / SHARDNUMSUB: subscribers of one channel.
  size_t NumSubscribers(PubSubKind kind, std::string_view channel) const;
  // Distinct channels (INFO pubsub_channels, pubsubshard_channels) or patterns (NUMPAT).
  size_t Count(PubSubKind kind) const { return table(kind).size(); }

  // The confirmation [kind, name, count] (subscribe, unsubscribe, psubscribe, ...) in the
  // client's protocol; a null name for an UNSUBSCRIBE of nothing.
  static std::string Confirmation(int resp, std::string_view kind, const std::string* name,
                                  int64_t count);

 private:
  // Looked up with string_views (a PUBLISH's channel) without building a std::string.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Table = std::unordered_map<std::string, std::vector<Client*>, Hash, std::equal_to<>>;
  Table& table(PubSubKind kind);
  const Table& table(PubSubKind kind) const;

  Deliver deliver_;
  ProtocolOf protocol_of_;
  SubscriptionsOf subscriptions_of_;
  Table channels_;
  Table patterns_;
  Table shard_channels_;
};

}  // namespace keyward
