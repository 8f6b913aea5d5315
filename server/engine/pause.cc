#include "server/engine/pause.h"

#include <algorithm>
#include <iterator>

#include "server/engine/client.h"
#include "server/engine/client_registry.h"

namespace keyward {

void ClientPause::Pause(int64_t now_ms, int64_t until_ms, bool writes_only, Purpose purpose) {
  Slot& slot = slots_[static_cast<int>(purpose)];
  if (slot.until_ms != 0 && now_ms < slot.until_ms) {
    slot.until_ms = std::max(slot.until_ms, until_ms);
    slot.writes_only = slot.writes_only && writes_only;
  } else {
    slot.until_ms = until_ms;
    slot.writes_only = writes_only;
  }
}

void ClientPause::Unpause(Purpose purpose) {
  slots_[static_cast<int>(purpose)].until_ms = 0;
  std::vector<uint64_t> ids;
  ids.swap(held_);
  for (uint64_t id : ids) {
    Client* c = clients_.Find(id);
    if (c == nullptr) continue;
    c->flags &= ~Client::kPaused;
    c->transport()->SetReading(true);  // re-processes the buffered command
  }
}

void ClientPause::Expire(int64_t now_ms) {
  for (size_t i = 0; i < std::size(slots_); ++i) {
    if (slots_[i].until_ms != 0 && now_ms >= slots_[i].until_ms) Unpause(static_cast<Purpose>(i));
  }
}

bool ClientPause::Holds(uint32_t flags, int64_t now_ms) const {
  for (const Slot& slot : slots_) {
    if (slot.until_ms == 0 || now_ms >= slot.until_ms) continue;
    if (!slot.writes_only || (flags & (CO::kWrite | CO::kMayReplicate)) != 0) return true;
  }
  return false;
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
