// The subscriptions a connection holds, kept from the server's own confirmations so that they can
// be restored after a reconnection. Sans-I/O (tests/unit/client_pipeline_test.cc).
//
// A confirmation is a push [kind, name, count]: "subscribe"/"unsubscribe" for channels,
// "psubscribe"/"punsubscribe" for patterns, "ssubscribe"/"sunsubscribe" for shard channels.
// Tracking what the server confirmed, rather than what the caller asked for, keeps the set right
// when a command was refused or an UNSUBSCRIBE without arguments dropped everything.
#pragma once

#include <set>
#include <string>

#include "keyward/client/reply.h"
#include "keyward/client/request.h"

namespace keyward::client {

class SubscriptionSet {
 public:
  // Applies `push` if it is a confirmation; other pushes (messages) are ignored.
  void OnPush(const Reply& push);

  bool empty() const { return channels_.empty() && patterns_.empty() && shard_channels_.empty(); }
  const std::set<std::string>& channels() const { return channels_; }
  const std::set<std::string>& patterns() const { return patterns_; }
  const std::set<std::string>& shard_channels() const { return shard_channels_; }

  // SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE for everything held, for a new connection. Empty when
  // nothing is held.
  Request Restore() const;
  void Clear();

 private:
  std::set<std::string> channels_;
  std::set<std::string> patterns_;
  std::set<std::string> shard_channels_;
};

}  // namespace keyward::client
