#include "server/engine/timers.h"

namespace keyward {

Timers::Id Timers::Schedule(int64_t at_ms, std::function<void()> fn) {
  const Id id = next_id_++;
  queue_.emplace(Key{at_ms, id}, std::move(fn));
  deadline_of_.emplace(id, at_ms);
  if (at_ms < armed_ms_ && arm_) {
    armed_ms_ = at_ms;
    arm_(at_ms);
  }
  return id;
}

void Timers::Cancel(Id id) {
  auto it = deadline_of_.find(id);
  if (it == deadline_of_.end()) return;
  queue_.erase(Key{it->second, id});
  deadline_of_.erase(it);
}

std::optional<std::function<void()>> Timers::PopDue(int64_t now_ms) {
  if (queue_.empty() || queue_.begin()->first.first > now_ms) return std::nullopt;
  auto node = queue_.extract(queue_.begin());
  deadline_of_.erase(node.key().second);
  return std::move(node.mapped());
}

void Timers::Rearm() {
  armed_ms_ = INT64_MAX;
  if (!queue_.empty() && arm_) {
    armed_ms_ = next_deadline();
    arm_(armed_ms_);
  }
}

}  // namespace keyward
