// Keyspace notifications (Redis's notifyKeyspaceEvent): families and the keyspace say what
// happened; notify-keyspace-events decides what is published, on __keyspace@<db>__:<key> (the
// event) and __keyevent@<db>__:<event> (the key).
#pragma once

#include <cstdint>
#include <string_view>

#include "server/core/settings.h"
#include "server/pubsub/pubsub.h"

namespace keyward {

class KeyspaceNotifier {
 public:
  KeyspaceNotifier(const ServerSettings& settings, PubSub& pubsub)
      : settings_(settings), pubsub_(pubsub) {}

  // Nothing unless the event's class (notify::k*) is enabled.
  void Notify(uint32_t type_class, std::string_view event, std::string_view key, int db);

 private:
  const ServerSettings& settings_;
  PubSub& pubsub_;
};

}  // namespace keyward
