#include "keyward/client/subscriptions.h"

namespace keyward::client {

void SubscriptionSet::OnPush(const Reply& push) {
  auto elements = push.as_array();
  if (!elements || elements->size() != 3) return;
  auto kind = (*elements)[0].as_string();
  // The name is null in the reply to an UNSUBSCRIBE sent while nothing was subscribed.
  auto name = (*elements)[1].as_string();
  if (!kind || !name || !(*elements)[2].as_integer()) return;
  const std::string value(*name);
  if (*kind == "subscribe") {
    channels_.insert(value);
  } else if (*kind == "unsubscribe") {
    channels_.erase(value);
  } else if (*kind == "psubscribe") {
    patterns_.insert(value);
  } else if (*kind == "punsubscribe") {
    patterns_.erase(value);
  } else if (*kind == "ssubscribe") {
    shard_channels_.insert(value);
  } else if (*kind == "sunsubscribe") {
    shard_channels_.erase(value);
  }
}

Request SubscriptionSet::Restore() const {
  Request request;
  if (!channels_.empty()) request.Push("SUBSCRIBE", channels_);
  if (!patterns_.empty()) request.Push("PSUBSCRIBE", patterns_);
  // One SSUBSCRIBE per channel: on a cluster the channels of one call must share a slot.
  for (const std::string& channel : shard_channels_) request.Push("SSUBSCRIBE", channel);
  return request;
}

void SubscriptionSet::Clear() {
  channels_.clear();
  patterns_.clear();
  shard_channels_.clear();
}

}  // namespace keyward::client
