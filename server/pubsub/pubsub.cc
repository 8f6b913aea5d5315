#include "server/pubsub/pubsub.h"

#include <algorithm>
#include <optional>

#include "server/core/resp.h"
#include "server/core/strings.h"

namespace keyward {
namespace {

// A message as `resp` frames it: a RESP2 array or a RESP3 push of `parts`.
std::string Frame(int resp, std::initializer_list<std::string_view> parts) {
  std::string out;
  size_t size = 16;
  for (std::string_view p : parts) size += p.size() + 16;
  out.reserve(size);
  AppendRespHeader(out, resp == 3 ? '>' : '*', parts.size());
  for (std::string_view p : parts) AppendBulk(out, p);
  return out;
}

std::string_view MessageKind(PubSubKind kind) {
  return kind == PubSubKind::kShard ? "smessage" : "message";
}

}  // namespace

std::vector<std::string>& ClientSubscriptions::of(PubSubKind kind) {
  switch (kind) {
    case PubSubKind::kChannel:
      return channels;
    case PubSubKind::kPattern:
      return patterns;
    case PubSubKind::kShard:
      break;
  }
  return shard_channels;
}

const std::vector<std::string>& ClientSubscriptions::of(PubSubKind kind) const {
  return const_cast<ClientSubscriptions*>(this)->of(kind);
}

PubSub::Table& PubSub::table(PubSubKind kind) {
  switch (kind) {
    case PubSubKind::kChannel:
      return channels_;
    case PubSubKind::kPattern:
      return patterns_;
    case PubSubKind::kShard:
      break;
  }
  return shard_channels_;
}

const PubSub::Table& PubSub::table(PubSubKind kind) const {
  return const_cast<PubSub*>(this)->table(kind);
}

bool PubSub::Subscribe(Client& c, PubSubKind kind, std::string_view name) {
  std::vector<std::string>& mine = subscriptions_of_(c).of(kind);
  if (std::find(mine.begin(), mine.end(), name) != mine.end()) return false;
  mine.emplace_back(name);
  // Subscribers in subscription order: a channel's messages reach its subscribers in that order.
  Table& t = table(kind);
  auto it = t.find(name);
  if (it == t.end()) it = t.emplace(std::string(name), std::vector<Client*>{}).first;
  it->second.push_back(&c);
  return true;
}

bool PubSub::Unsubscribe(Client& c, PubSubKind kind, std::string_view name) {
  std::vector<std::string>& mine = subscriptions_of_(c).of(kind);
  auto it = std::find(mine.begin(), mine.end(), name);
  if (it == mine.end()) return false;
  mine.erase(it);
  Table& t = table(kind);
  auto entry = t.find(name);
  if (entry != t.end()) {
    auto& subscribers = entry->second;
    subscribers.erase(std::remove(subscribers.begin(), subscribers.end(), &c), subscribers.end());
    // An empty channel is forgotten, so PUBSUB CHANNELS and NUMPAT count only live ones.
    if (subscribers.empty()) t.erase(entry);
  }
  return true;
}

void PubSub::UnsubscribeAll(Client& c) {
  for (PubSubKind kind : {PubSubKind::kChannel, PubSubKind::kPattern, PubSubKind::kShard}) {
    std::vector<std::string> names = subscriptions_of_(c).of(kind);
    for (const std::string& name : names) Unsubscribe(c, kind, name);
  }
}

size_t PubSub::Publish(PubSubKind kind, std::string_view channel, std::string_view message) {
  size_t receivers = 0;
  // Serialised lazily, at most once per protocol, whatever the number of receivers.
  std::optional<std::string> framed[2];
  auto send = [&](Client& c, auto build) {
    const int resp = protocol_of_(c);
    std::optional<std::string>& f = framed[resp == 3 ? 1 : 0];
    if (!f) f = build(resp);
    deliver_(c, *f);
    ++receivers;
  };
  const Table& direct = table(kind);
  if (auto it = direct.find(channel); it != direct.end()) {
    for (Client* c : it->second) {
      send(*c, [&](int resp) { return Frame(resp, {MessageKind(kind), channel, message}); });
    }
  }
  if (kind != PubSubKind::kChannel) return receivers;
  // Patterns: each (pattern, subscriber) pair that matches gets a pmessage of its own.
  for (const auto& [pattern, subscribers] : patterns_) {
    if (!GlobMatch(pattern, channel)) continue;
    std::optional<std::string> pframed[2];  // the pattern is part of the message
    for (Client* c : subscribers) {
      const int resp = protocol_of_(*c);
      std::optional<std::string>& f = pframed[resp == 3 ? 1 : 0];
      if (!f) f = Frame(resp, {"pmessage", pattern, channel, message});
      deliver_(*c, *f);
      ++receivers;
    }
  }
  return receivers;
}

std::vector<std::string> PubSub::Channels(PubSubKind kind,
                                          std::optional<std::string_view> pattern) const {
  std::vector<std::string> out;
  for (const auto& [name, subscribers] : table(kind)) {
    if (!pattern || GlobMatch(*pattern, name)) out.push_back(name);
  }
  return out;
}

size_t PubSub::NumSubscribers(PubSubKind kind, std::string_view channel) const {
  const Table& t = table(kind);
  auto it = t.find(channel);
  return it == t.end() ? 0 : it->second.size();
}

std::string PubSub::Confirmation(int resp, std::string_view kind, const std::string* name,
                                 int64_t count) {
  std::string out;
  AppendRespHeader(out, resp == 3 ? '>' : '*', 3);
  AppendBulk(out, kind);
  if (name != nullptr) {
    AppendBulk(out, *name);
  } else {
    out += resp == 3 ? "_\r\n" : "$-1\r\n";
  }
  out += ':';
  out += std::to_string(count);
  out += "\r\n";
  return out;
}

}  // namespace keyward
