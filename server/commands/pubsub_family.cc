// Pub/sub commands: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, SSUBSCRIBE, SUNSUBSCRIBE,
// PUBLISH, SPUBLISH, PUBSUB. The registry and the fan-out live in server/pubsub/pubsub.*; these
// handlers parse, call it and reply. Confirmations are pushes in RESP3 and arrays in RESP2, and
// like messages they reach the client even under CLIENT REPLY OFF (Redis 7.0); a RESP2 connection
// holding a subscription accepts only the commands the gatekeeper allows.
#include <array>
#include <optional>

#include "server/commands/families.h"
#include "server/commands/services.h"
#include "server/core/errors.h"
#include "server/core/strings.h"
#include "server/engine/context.h"
#include "server/engine/registry.h"

namespace keyward {

namespace {

struct KindNames {
  std::string_view subscribe;
  std::string_view unsubscribe;
};

KindNames NamesOf(PubSubKind kind) {
  switch (kind) {
    case PubSubKind::kChannel:
      return {"subscribe", "unsubscribe"};
    case PubSubKind::kPattern:
      return {"psubscribe", "punsubscribe"};
    case PubSubKind::kShard:
      break;
  }
  return {"ssubscribe", "sunsubscribe"};
}

// The count a confirmation carries: channels and patterns together (Redis's
// clientSubscriptionsCount), shard channels on their own (clientShardSubscriptionsCount).
int64_t CountFor(const Client& c, PubSubKind kind) {
  if (kind == PubSubKind::kShard)
    return static_cast<int64_t>(c.subscriptions.shard_channels.size());
  return static_cast<int64_t>(c.subscriptions.channels.size() + c.subscriptions.patterns.size());
}

void Subscribe(CmdArgs args, CommandContext& ctx, PubSubKind kind) {
  Client& c = ctx.client();
  PubSub& pubsub = ctx.services().pubsub;
  for (size_t i = 1; i < args.size(); i++) {
    pubsub.Subscribe(c, kind, args[i]);
    const std::string name(args[i]);
    ctx.SendPush(PubSub::Confirmation(c.resp, NamesOf(kind).subscribe, &name, CountFor(c, kind)));
  }
}

void Unsubscribe(CmdArgs args, CommandContext& ctx, PubSubKind kind) {
  Client& c = ctx.client();
  PubSub& pubsub = ctx.services().pubsub;
  const std::string_view verb = NamesOf(kind).unsubscribe;
  if (args.size() > 1) {
    // Every name is confirmed, held or not.
    for (size_t i = 1; i < args.size(); i++) {
      pubsub.Unsubscribe(c, kind, args[i]);
      const std::string name(args[i]);
      ctx.SendPush(PubSub::Confirmation(c.resp, verb, &name, CountFor(c, kind)));
    }
    return;
  }
  // No arguments: everything of this kind, one confirmation each; a null name when there was
  // nothing to drop.
  std::vector<std::string> held = c.subscriptions.of(kind);
  if (held.empty()) {
    ctx.SendPush(PubSub::Confirmation(c.resp, verb, nullptr, CountFor(c, kind)));
    return;
  }
  for (const std::string& name : held) {
    pubsub.Unsubscribe(c, kind, name);
    ctx.SendPush(PubSub::Confirmation(c.resp, verb, &name, CountFor(c, kind)));
  }
}

void CmdSubscribe(CmdArgs args, CommandContext& ctx) { Subscribe(args, ctx, PubSubKind::kChannel); }
void CmdPsubscribe(CmdArgs args, CommandContext& ctx) {
  Subscribe(args, ctx, PubSubKind::kPattern);
}
void CmdSsubscribe(CmdArgs args, CommandContext& ctx) { Subscribe(args, ctx, PubSubKind::kShard); }
void CmdUnsubscribe(CmdArgs args, CommandContext& ctx) {
  Unsubscribe(args, ctx, PubSubKind::kChannel);
}
void CmdPunsubscribe(CmdArgs args, CommandContext& ctx) {
  Unsubscribe(args, ctx, PubSubKind::kPattern);
}
void CmdSunsubscribe(CmdArgs args, CommandContext& ctx) {
  Unsubscribe(args, ctx, PubSubKind::kShard);
}

void CmdPublish(CmdArgs args, CommandContext& ctx) {
  size_t receivers = ctx.services().pubsub.Publish(PubSubKind::kChannel, args[1], args[2]);
  // Replicas' subscribers get it too (Redis propagates PUBLISH to replicas, not to the AOF).
  ctx.PropagateToReplicas({"PUBLISH", std::string(args[1]), std::string(args[2])});
  ctx.rb().SendLong(static_cast<int64_t>(receivers));
}

void CmdSpublish(CmdArgs args, CommandContext& ctx) {
  size_t receivers = ctx.services().pubsub.Publish(PubSubKind::kShard, args[1], args[2]);
  ctx.PropagateToReplicas({"SPUBLISH", std::string(args[1]), std::string(args[2])});
  ctx.rb().SendLong(static_cast<int64_t>(receivers));
}

void SendChannels(CmdArgs args, CommandContext& ctx, PubSubKind kind) {
  if (args.size() > 3) return ctx.rb().SendError(errors::SubcommandSyntax("PUBSUB", args[1]));
  // No pattern lists everything; an empty pattern matches only the empty channel name.
  auto names = ctx.services().pubsub.Channels(
      kind, args.size() == 3 ? std::optional<std::string_view>(args[2]) : std::nullopt);
  ctx.rb().StartArray(names.size());
  for (const auto& n : names) ctx.rb().SendBulk(n);
}

void SendNumSub(CmdArgs args, CommandContext& ctx, PubSubKind kind) {
  // An array of channel, count pairs in both protocols, as Redis sends it.
  ctx.rb().StartArray((args.size() - 2) * 2);
  for (size_t i = 2; i < args.size(); i++) {
    ctx.rb().SendBulk(args[i]);
    ctx.rb().SendLong(static_cast<int64_t>(ctx.services().pubsub.NumSubscribers(kind, args[i])));
  }
}

void CmdPubsubChannels(CmdArgs args, CommandContext& ctx) {
  SendChannels(args, ctx, PubSubKind::kChannel);
}
void CmdPubsubShardChannels(CmdArgs args, CommandContext& ctx) {
  SendChannels(args, ctx, PubSubKind::kShard);
}
void CmdPubsubNumSub(CmdArgs args, CommandContext& ctx) {
  SendNumSub(args, ctx, PubSubKind::kChannel);
}
void CmdPubsubShardNumSub(CmdArgs args, CommandContext& ctx) {
  SendNumSub(args, ctx, PubSubKind::kShard);
}
void CmdPubsubNumPat(CmdArgs args, CommandContext& ctx) {
  ctx.rb().SendLong(static_cast<int64_t>(ctx.services().pubsub.Count(PubSubKind::kPattern)));
}

void CmdPubsubHelp(CmdArgs args, CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "CHANNELS [<pattern>]",
      "    Return the currently active channels matching a <pattern> (default: '*').",
      "NUMPAT",
      "    Return number of subscriptions to patterns.",
      "NUMSUB [<channel> ...]",
      "    Return the number of subscribers for the specified channels, excluding",
      "    pattern subscriptions(default: no channels).",
      "SHARDCHANNELS [<pattern>]",
      "    Return the currently active shard level channels matching a <pattern> (default: "
      "'*').",
      "SHARDNUMSUB [<shardchannel> ...]",
      "    Return the number of subscribers for the specified shard level channel(s)",
  };
  ctx.rb().SendHelp("PUBSUB", kLines);
}

}  // namespace

void RegisterPubSubFamily(CommandRegistry& r) {
  constexpr uint64_t kPs = Acl::kPubSub;
  constexpr uint32_t kSub = CO::kPubSub | CO::kNoScript | CO::kLoading | CO::kStale;
  constexpr uint32_t kPub = CO::kPubSub | CO::kLoading | CO::kStale | CO::kFast;
  constexpr uint32_t kInfo = CO::kPubSub | CO::kLoading | CO::kStale;
  r << CommandSpec{"subscribe",
                   -2,
                   kSub,
                   0,
                   0,
                   0,
                   kPs,
                   CmdSubscribe,
                   {"Listen for messages published to the given channels", "2.0.0", "pubsub",
                    "O(N) where N is the number of channels to subscribe to.",
                    "channel [channel ...]"}}
    << CommandSpec{"unsubscribe",
                   -1,
                   kSub,
                   0,
                   0,
                   0,
                   kPs,
                   CmdUnsubscribe,
                   {"Stop listening for messages posted to the given channels", "2.0.0", "pubsub",
                    "O(N) where N is the number of clients already subscribed to a channel.",
                    "[channel [channel ...]]"}}
    << CommandSpec{"psubscribe",
                   -2,
                   kSub,
                   0,
                   0,
                   0,
                   kPs,
                   CmdPsubscribe,
                   {"Listen for messages published to channels matching the given patterns",
                    "2.0.0", "pubsub",
                    "O(N) where N is the number of patterns the client is "
                    "already subscribed to.",
                    "pattern [pattern ...]"}}
    << CommandSpec{"punsubscribe",
                   -1,
                   kSub,
                   0,
                   0,
                   0,
                   kPs,
                   CmdPunsubscribe,
                   {"Stop listening for messages posted to channels matching the given patterns",
                    "2.0.0", "pubsub",
                    "O(N+M) where N is the number of patterns the client is already subscribed "
                    "and M is the number of total patterns subscribed in the system (by any "
                    "client).",
                    "[pattern [pattern ...]]"}}
    << CommandSpec{"ssubscribe",
                   -2,
                   kSub,
                   1,
                   -1,
                   1,
                   kPs,
                   CmdSsubscribe,
                   {"Listen for messages published to the given shard channels", "7.0.0", "pubsub",
                    "O(N) where N is the number of shard channels to subscribe to.",
                    "shardchannel [shardchannel ...]"}}
    << CommandSpec{"sunsubscribe",
                   -1,
                   kSub,
                   1,
                   -1,
                   1,
                   kPs,
                   CmdSunsubscribe,
                   {"Stop listening for messages posted to the given shard channels", "7.0.0",
                    "pubsub",
                    "O(N) where N is the number of clients already subscribed to a shard channel.",
                    "[shardchannel [shardchannel ...]]"}}
    << CommandSpec{"publish",
                   3,
                   kPub | CO::kMayReplicate,
                   0,
                   0,
                   0,
                   kPs,
                   CmdPublish,
                   {"Post a message to a channel", "2.0.0", "pubsub",
                    "O(N+M) where N is the number of clients subscribed to the receiving channel "
                    "and M is the total number of subscribed patterns (by any client).",
                    "channel message"}}
    << CommandSpec{"spublish",
                   3,
                   kPub | CO::kMayReplicate,
                   1,
                   1,
                   1,
                   kPs,
                   CmdSpublish,
                   {"Post a message to a shard channel", "7.0.0", "pubsub",
                    "O(N) where N is the number of clients subscribed to the receiving shard "
                    "channel.",
                    "shardchannel message"}};

  CommandSpec pubsub{
      "pubsub",
      -2,
      0,
      0,
      0,
      0,
      0,
      nullptr,
      {"A container for Pub/Sub commands", "2.8.0", "pubsub", "Depends on subcommand.", ""}};
  pubsub
      .AddSubcommand({"channels",
                      -2,
                      kInfo,
                      0,
                      0,
                      0,
                      kPs,
                      CmdPubsubChannels,
                      {"List active channels", "2.8.0", "pubsub",
                       "O(N) where N is the number of active channels, and assuming constant "
                       "time pattern matching (relatively short channels and patterns)",
                       "[pattern]"}})
      .AddSubcommand({"numpat",
                      2,
                      kInfo,
                      0,
                      0,
                      0,
                      kPs,
                      CmdPubsubNumPat,
                      {"Get the count of unique patterns pattern subscriptions", "2.8.0", "pubsub",
                       "O(1)", ""}})
      .AddSubcommand({"numsub",
                      -2,
                      kInfo,
                      0,
                      0,
                      0,
                      kPs,
                      CmdPubsubNumSub,
                      {"Get the count of subscribers for channels", "2.8.0", "pubsub",
                       "O(N) for the NUMSUB subcommand, where N is the requested channels",
                       "[channel [channel ...]]"}})
      .AddSubcommand({"shardchannels",
                      -2,
                      kInfo,
                      0,
                      0,
                      0,
                      kPs,
                      CmdPubsubShardChannels,
                      {"List active shard channels", "7.0.0", "pubsub",
                       "O(N) where N is the number of active shard channels, and assuming "
                       "constant time pattern matching (relatively short shard channels).",
                       "[pattern]"}})
      .AddSubcommand({"shardnumsub",
                      -2,
                      kInfo,
                      0,
                      0,
                      0,
                      kPs,
                      CmdPubsubShardNumSub,
                      {"Get the count of subscribers for shard channels", "7.0.0", "pubsub",
                       "O(N) for the SHARDNUMSUB subcommand, where N is the requested shard "
                       "channels",
                       "[shardchannel [shardchannel ...]]"}})
      .AddSubcommand(
          {"help",
           2,
           CO::kLoading | CO::kStale,
           0,
           0,
           0,
           0,
           CmdPubsubHelp,
           {"Show helpful text about the different subcommands", "6.2.0", "pubsub", "O(1)", ""}});
  r << std::move(pubsub);
}

}  // namespace keyward
