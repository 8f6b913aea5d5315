// A lock that renews itself in the background until released, and says the moment it can no
// longer be guaranteed.
//
//   auto lease = co_await redlock.AcquireLease("jobs:nightly", {.ttl = 30s}, {
//       .on_renewal_failed = [](const Error& e) { log("renewal failed: ", e.message()); },
//       .on_lost = [](const Error& e) { log("lease lost: ", e.message()); }});
//   if (!lease) co_return;
//   // Run the job; it is cancelled the moment the lease is lost.
//   auto outcome = co_await (RunJob(lease->fencing_token()) || lease->WaitLost());
//   co_await lease->Release();
//
// Renewal (see LeaseSchedule for the exact rules): about every ttl/3, a re-entrant acquire on
// every instance. On Keyward that is LOCK.ACQUIRE resource owner ttl, which also re-creates the
// lock on an instance that lost it (a restart without its data, a FLUSHALL), followed by
// LOCK.FENCE with the lease's token where the instance's counter lags behind. On Redis, a script
// that PEXPIREs the key when it is ours and re-creates it (SET NX PX) when it is missing. Either
// way the quorum is repaired instead of eroding one instance at a time.
//
// Loss: when the validity runs out before a majority renewed, or when a majority answers that
// another owner holds the resource, or when the renewal bounds are reached and the last validity
// ends. It is reported once, by every means at the same time: the on_lost callback, the
// std::stop_token (for threads), WaitLost() (for coroutines: use it with the awaitable operators
// to cancel the work), and lost()/loss() (for polling). What the lease still held is then
// released in the background.
//
// Threading: the renewal runs on the Redlock's executor, and the callbacks are called there (they
// must not block). The observers (renewals(), validity(), lost(), lock() ...) may be called from
// any thread.
#pragma once

#include <asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>

#include "keyward/redlock/errors.h"
#include "keyward/redlock/lock.h"
#include "keyward/redlock/renewal.h"

namespace keyward::redlock {

namespace detail {
struct LeaseState;
struct Core;
}  // namespace detail

struct LeaseOptions {
  // How often to renew and how far (see LeaseLimits: 0 = ttl/3, unbounded).
  LeaseLimits limits;
  // After each renewal round that failed (the lease is still valid; a retry follows), with why.
  std::function<void(const Error&)> on_renewal_failed;
  // Once, when the lease is lost, with why (kLeaseLost). Not called after Release().
  std::function<void(const Error&)> on_lost;
  // After a renewal round that re-created the lock on instances that had lost it (a restart
  // without data, a FLUSHALL), with how many: what else lived there is gone too (an election
  // re-advertises its value).
  std::function<void(size_t)> on_repaired;
};

class Lease {
 public:
  // An empty lease: holds nothing.
  Lease() = default;
  // Takes over `lock` and starts renewing it (AsyncRedlock::AcquireLease and StartLease make
  // them). `blocking_release`: the destructor waits for the release (the synchronous Redlock's
  // leases, used from threads other than the executor's).
  Lease(std::shared_ptr<detail::Core> core, Lock lock, LeaseOptions options,
        bool blocking_release = false);
  Lease(Lease&&) noexcept;
  Lease& operator=(Lease&&) noexcept;
  // Stops renewing and releases the lock (in the background, or waiting for it when
  // blocking_release).
  ~Lease();

  explicit operator bool() const { return state_ != nullptr; }

  // The observers below require a non-empty lease (operator bool).

  const std::string& resource() const;
  const std::string& owner() const;
  // The fencing token (the same for the whole lease), or kFencingUnavailable.
  Result<uint64_t> fencing_token() const;
  // A copy of the lock as of the last renewal.
  Lock lock() const;
  // Successful renewal rounds so far, and failed ones in a row.
  int renewals() const;
  int consecutive_failures() const;
  // The end of the current validity, and the time left until then (as of the last renewal).
  Clock::time_point valid_until() const;
  Clock::duration validity() const;
  // Held: renewing, not lost, not released.
  bool active() const;
  bool lost() const;
  // Why it was lost (empty while not lost).
  Error loss() const;
  // Stop is requested the moment the lease is lost (never on Release()).
  std::stop_token stop_token() const;

  // Completes when the lease is lost (with the reason), or is released (with an empty Error).
  // Cancellable.
  asio::awaitable<Error> WaitLost();
  // Stops renewing (waiting for a round in progress) and releases the lock everywhere. Returns
  // ReleaseLock's verdict (kNotHeld if it was already lost). Idempotent.
  asio::awaitable<Error> Release();

 private:
  void Abandon();
  std::shared_ptr<detail::LeaseState> state_;
  bool blocking_release_ = false;
};

}  // namespace keyward::redlock
