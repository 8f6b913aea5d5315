#include "server/engine/notifier.h"

#include <string>

#include "server/core/notify.h"

namespace keyward {

void KeyspaceNotifier::Notify(uint32_t type_class, std::string_view event, std::string_view key,
                              int db) {
  const uint32_t enabled = settings_.notify_keyspace_events;
  if ((enabled & type_class) == 0) return;
  // Built by appending: g++ 12 at -O3 warns (-Wrestrict, a known false positive) on
  // "literal" + std::string here.
  auto channel_of = [db](std::string_view kind, std::string_view name) {
    std::string channel(kind);
    channel += '@';
    channel += std::to_string(db);
    channel += "__:";
    channel.append(name);
    return channel;
  };
  if (enabled & notify::kKeyspace) {
    pubsub_.Publish(PubSubKind::kChannel, channel_of("__keyspace", key), event);
  }
  if (enabled & notify::kKeyevent) {
    pubsub_.Publish(PubSubKind::kChannel, channel_of("__keyevent", event), key);
  }
}

}  // namespace keyward
