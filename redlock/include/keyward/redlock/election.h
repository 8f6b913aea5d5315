// Leader election on Keyward instances (it needs fencing tokens: plain Redis instances make every
// call fail with kFencingUnavailable).
//
//   Election election(redlock, "scheduler");
//   Result<Leadership> leadership = co_await election.Campaign("10.0.0.7:8080");  // blocks
//   if (!leadership) co_return;
//   // Lead until the leadership is lost: every job dispatched carries the term.
//   co_await (Dispatch(leadership->term()) || leadership->lease().WaitLost());
//   co_await leadership->Resign();
//
//   // Elsewhere: who leads, and every change.
//   Observer observer = election.Observe();
//   while (auto leader = co_await observer.Next()) { ... (*leader)->value ... }
//
// The model:
// - Being leader is holding the lock NAME (a lease, renewed in the background), taken with a
//   fresh owner token (20 random bytes) per campaign. The term is the lock's fencing token, so it
//   increases with every new leader and is what the leader stamps its work with: a store that
//   checks tokens refuses a deposed leader's late writes.
// - The advertised value lives in the key NAME:leader as "<term> <value>", written with
//   `LOCK.GUARD NAME <term> SET NAME:leader ...` on every instance: a deposed leader's late
//   write is refused (FENCED) once the next leader has written. A value whose term is not the
//   lock's current token is stale and is not reported.
// - Loss: the lease's signal (Leadership::lease(): on_lost, stop_token(), WaitLost()). It fires
//   when the lease can no longer be guaranteed, in particular when a majority says another owner
//   holds NAME.
// - Observing re-reads LOCK.INFO NAME and GET NAME:leader on every instance whenever the server
//   announces a change of the lock: Keyward publishes "acquired" and "released" on the channel
//   __lock@<db>__:NAME (whatever notify-keyspace-events says), to which the observer subscribes
//   on one instance. It also re-reads every observe_period, which covers a proclaimed value, a
//   lost event (a reconnection) and an instance that is down (then it waits with LOCK.WAIT).
#pragma once

#include <asio/awaitable.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "keyward/redlock/async_redlock.h"
#include "keyward/redlock/errors.h"
#include "keyward/redlock/lease.h"

namespace keyward::client {
class AsyncClient;
}  // namespace keyward::client

namespace keyward::redlock {

struct ElectionOptions {
  // The leader's lease; a crashed leader is replaced after about this long.
  Millis ttl{10000};
  LeaseLimits limits;
  // How often observers re-read when nothing woke them.
  Millis observe_period{250};
  // Passed to the leader's lease.
  std::function<void(const Error&)> on_renewal_failed;
  std::function<void(const Error&)> on_lost;
};

struct LeaderInfo {
  std::string owner;                 // the leader's owner token (one per campaign)
  uint64_t term = 0;                 // its lock's fencing token
  std::optional<std::string> value;  // the advertised value, when written for this term
  bool operator==(const LeaderInfo&) const = default;
};

// Held by the process that won a campaign.
class Leadership {
 public:
  Leadership(std::shared_ptr<detail::Core> core, std::string name, Lease lease, std::string value);
  // `value` shared with the lease's repair callback (Election::Campaign), which re-advertises it
  // where an instance lost it.
  Leadership(std::shared_ptr<detail::Core> core, std::string name, Lease lease,
             std::shared_ptr<std::string> value);
  Leadership(Leadership&&) noexcept = default;
  Leadership& operator=(Leadership&&) noexcept = default;

  const std::string& name() const { return name_; }
  uint64_t term() const { return term_; }
  const std::string& value() const { return *value_; }
  // The leader's lease: the loss signal (on_lost, stop_token(), WaitLost(), lost()).
  Lease& lease() { return lease_; }

  // Rewrites the advertised value (value() is this one from now on, and what re-advertisements
  // write). kLeaseLost when a newer leader has written (FENCED on a majority), kNoQuorum when too
  // few instances answered.
  asio::awaitable<Error> Proclaim(std::string value);
  // Withdraws the advertised value (a guarded DEL) and releases the lock: a waiting campaign
  // wins at once. Idempotent.
  asio::awaitable<Error> Resign();

 private:
  std::shared_ptr<detail::Core> core_;
  std::string name_;
  Lease lease_;
  uint64_t term_ = 0;
  std::shared_ptr<std::string> value_;
};

// A stream of leader changes.
class Observer {
 public:
  Observer(std::shared_ptr<detail::Core> core, std::string name, Millis period);

  // The first call: the current leader (nullopt: none). Later calls: the next different one
  // (another owner, another term, or another value). Errors (kNoQuorum ...) are returned as they
  // happen; calling again resumes, after a backoff that doubles with each consecutive error
  // (kErrorBackoff up to the observe period, at least kErrorBackoff), so that a loop calling
  // Next() never spins while the instances are unreachable.
  asio::awaitable<Result<std::optional<LeaderInfo>>> Next();

  static constexpr Millis kErrorBackoff{50};

 private:
  std::shared_ptr<detail::Core> core_;
  std::string name_;
  Millis period_;
  bool first_ = true;
  std::optional<LeaderInfo> last_;
  // Since when the reads show a campaign between its acquire and its FENCE (ReadLeader).
  std::optional<Clock::time_point> unsettled_since_;
  std::string unsettled_owner_;
  Millis backoff_{0};  // before the next read: the last call ended in an error
  // The subscription to the lock's events (on the first instance that accepted it).
  std::shared_ptr<client::AsyncClient> events_;
};

class Election {
 public:
  // `redlock` must outlive the calls awaited on this Election (the Leadership and Observers keep
  // what they need).
  Election(AsyncRedlock& redlock, std::string name, ElectionOptions options = {});

  const std::string& name() const { return name_; }

  // Blocks until elected (or `wait` passed: kTimedOut), then advertises `value`.
  asio::awaitable<Result<Leadership>> Campaign(std::string value, Millis wait = kWaitForever);
  // The current leader, read from the instances: the owner holding NAME on a majority, its term,
  // and its value. nullopt when no owner holds a majority.
  asio::awaitable<Result<std::optional<LeaderInfo>>> Leader();
  Observer Observe();

 private:
  std::shared_ptr<detail::Core> core_;
  std::string name_;
  ElectionOptions options_;
};

}  // namespace keyward::redlock
