// Timers in server time (unix ms of the server clock, which ignores wall-clock jumps): blocked
// clients' timeouts, lock deadlines, whatever must happen at a moment rather than at the next
// cron tick. The host is asked to wake the server at the earliest deadline only; the server then
// pops what is due and runs each as an execution unit of its own.
#pragma once

#include <climits>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>

namespace keyward {

class Timers {
 public:
  using Id = uint64_t;
  static constexpr Id kNone = 0;
  // Asks the host to wake the server at `at_ms` (server time).
  using Arm = std::function<void(int64_t at_ms)>;

  void set_arm(Arm arm) { arm_ = std::move(arm); }

  // Calls `fn` once at `at_ms` or later. Returns an id for Cancel.
  Id Schedule(int64_t at_ms, std::function<void()> fn);
  // Cancels a pending timer; nothing when it already ran or was cancelled (or kNone).
  void Cancel(Id id);

  // The next timer due at `now_ms`, taken out of the queue; nothing when none is due.
  std::optional<std::function<void()>> PopDue(int64_t now_ms);
  int64_t next_deadline() const { return queue_.empty() ? INT64_MAX : queue_.begin()->first.first; }
  size_t size() const { return queue_.size(); }

  // The host woke us (or will not: the alarm was replaced); re-arm for what remains.
  void Rearm();

 private:
  using Key = std::pair<int64_t, Id>;  // deadline, id (ids break ties in scheduling order)
  std::map<Key, std::function<void()>> queue_;
  std::unordered_map<Id, int64_t> deadline_of_;
  Id next_id_ = 1;
  int64_t armed_ms_ = INT64_MAX;  // the deadline the host was last asked to wake us at
  Arm arm_;
};

}  // namespace keyward
