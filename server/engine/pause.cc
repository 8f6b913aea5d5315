#include "server/engine/pause.h"

#include <algorithm>

#include "server/engine/client.h"
#include "server/engine/client_registry.h"

namespace keyward {

void ClientPause::Pause(int64_t now_ms, int64_t until_ms, bool writes_only) {
  if (until_ms_ != 0 && now_ms < until_ms_) {
    until_ms_ = std::max(until_ms_, until_ms);
    writes_only_ = writes_only_ && writes_only;
  } else {
    until_ms_ = until_ms;
    writes_only_ = writes_only;
  }
}

void ClientPause::Unpause() {
  until_ms_ = 0;
  std::vector<uint64_t> ids;
  ids.swap(held_);
  for (uint64_t id : ids) {
    Client* c = clients_.Find(id);
    if (c == nullptr) continue;
    c->flags &= ~Client::kPaused;
    c->transport()->SetReading(true);  // re-processes the buffered command
  }
}

bool ClientPause::Holds(uint32_t flags, int64_t now_ms) const {
  if (until_ms_ == 0 || now_ms >= until_ms_) return false;
  if (!writes_only_) return true;
  return (flags & (CO::kWrite | CO::kMayReplicate)) != 0;
}

void ClientPause::Hold(Client& c) {
  c.flags |= Client::kPaused;
  c.transport()->SetReading(false);
  held_.push_back(c.id());
}

void ClientPause::Forget(Client& c) {
  held_.erase(std::remove(held_.begin(), held_.end(), c.id()), held_.end());
}

}  // namespace keyward
