// The lease: a renewal loop on the Redlock's executor that follows LeaseSchedule's decisions, the
// loss signal, and the observers that other threads read.
#include "keyward/redlock/lease.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <mutex>

#include "core.h"
#include "keyward/redlock/block_on.h"

namespace keyward::redlock {
namespace detail {

struct LeaseState {
  LeaseState(std::shared_ptr<Core> c, Lock l, LeaseOptions o)
      : core(std::move(c)),
        options(std::move(o)),
        resource(l.resource),
        owner(l.owner),
        token(l.token),
        wake(core->executor),
        ended_signal(core->executor, asio::steady_timer::time_point::max()),
        loop_done_signal(core->executor, asio::steady_timer::time_point::max()),
        released_signal(core->executor, asio::steady_timer::time_point::max()),
        lock(std::move(l)) {}

  const std::shared_ptr<Core> core;
  const LeaseOptions options;
  const std::string resource;
  const std::string owner;
  const std::optional<uint64_t> token;

  // Used on the executor only. The signals never expire: they are cancelled once, when what they
  // announce happens, which wakes every waiter; a later waiter checks the flag first. (Re-arming
  // them per waiter would cancel the other waiters' waits.)
  asio::steady_timer wake;              // the renewal loop sleeps on it; cancelled to stop it
  asio::steady_timer ended_signal;      // WaitLost() waits on it: lost or released
  asio::steady_timer loop_done_signal;  // Release() waits on it for the loop to exit
  asio::steady_timer released_signal;   // a second Release() waits on it for the first one
  bool stopping = false;                // Release() asked the loop to stop
  bool loop_done = false;
  bool releasing = false;
  std::optional<Error> released;  // Release()'s result, once done

  std::stop_source stop;

  // Read by the observers from any thread.
  mutable std::mutex mutex;
  Lock lock;
  int renewals = 0;
  int failures = 0;
  bool lost = false;
  bool ended = false;  // lost or released
  Error loss;
};

namespace {

void Lose(LeaseState& st, const Error& reason) {
  {
    std::lock_guard<std::mutex> guard(st.mutex);
    if (st.ended) return;
    st.lost = true;
    st.ended = true;
    st.loss = reason;
  }
  st.stop.request_stop();
  st.ended_signal.cancel();
  if (st.options.on_lost) st.options.on_lost(reason);
  // Whatever is left of it (a minority, or everything when the bounds ended it) goes now, rather
  // than blocking others until it expires. Compare-and-delete: another owner's lock is safe.
  ReleaseInBackground(st.core, st.resource, st.owner);
}

asio::awaitable<void> RenewalLoop(std::shared_ptr<LeaseState> st) {
  Lock lock = st->lock;  // the loop's own copy; the observers read st->lock under the mutex
  LeaseSchedule schedule(lock.ttl, lock.acquired_at, lock.valid_until, st->options.limits);
  while (!st->stopping) {
    if (st->core->closed) {
      Lose(*st, Error(LockError::kLeaseLost, "the redlock was closed"));
      break;
    }
    const LeaseSchedule::Step step = schedule.Next(Clock::now());
    if (step.kind == LeaseSchedule::Step::Kind::kLost) {
      Lose(*st, step.reason);
      break;
    }
    if (step.kind == LeaseSchedule::Step::Kind::kWait) {
      st->wake.expires_at(step.at);
      co_await st->wake.async_wait(kNoThrow);
      continue;
    }
    const Clock::time_point started = Clock::now();
    RenewalTally tally = co_await RenewLock(st->core, lock, step.ttl, step.deadline);
    if (st->stopping) break;
    // Judged as of when the extensions were in: a slow repair afterwards changes nothing.
    const Clock::time_point decided =
        tally.decided_at != Clock::time_point{} ? tally.decided_at : Clock::now();
    const auto outcome = schedule.OnRound(started, decided, step.ttl, tally);
    if (outcome == LeaseSchedule::Outcome::kLost) {
      Lose(*st, schedule.loss());
      break;
    }
    {
      std::lock_guard<std::mutex> guard(st->mutex);
      if (outcome == LeaseSchedule::Outcome::kRenewed) {
        lock.acquired_at = started;
        lock.valid_until = schedule.valid_until();
        st->lock = lock;
        st->renewals = schedule.renewals();
      }
      st->failures = schedule.consecutive_failures();
    }
    if (outcome == LeaseSchedule::Outcome::kFailed && st->options.on_renewal_failed) {
      st->options.on_renewal_failed(schedule.last_failure());
    }
    if (outcome == LeaseSchedule::Outcome::kRenewed && tally.repaired > 0 &&
        st->options.on_repaired) {
      st->options.on_repaired(tally.repaired);
    }
  }
  st->loop_done = true;
  st->loop_done_signal.cancel();
}

asio::awaitable<Error> ReleaseState(std::shared_ptr<LeaseState> st) {
  if (st->released) co_return *st->released;
  if (st->releasing) {
    // A second caller waits for the first one's verdict.
    while (!st->released) co_await st->released_signal.async_wait(kNoThrow);
    co_return *st->released;
  }
  st->releasing = true;
  st->stopping = true;
  st->wake.cancel();
  // A renewal round in flight finishes first, so no renewal can follow the release.
  while (!st->loop_done) co_await st->loop_done_signal.async_wait(kNoThrow);
  bool was_lost;
  Error loss;
  {
    std::lock_guard<std::mutex> guard(st->mutex);
    was_lost = st->lost;
    loss = st->loss;
    st->ended = true;
  }
  st->ended_signal.cancel();
  Error result = co_await ReleaseLock(st->core, st->resource, st->owner);
  if (was_lost) result = Error(LockError::kNotHeld, "the lease had been lost: " + loss.message());
  st->released = result;
  st->released_signal.cancel();
  co_return result;
}

asio::awaitable<void> ReleaseDetached(std::shared_ptr<LeaseState> st) {
  co_await ReleaseState(st);
  st->core->BackgroundFinished();
}

asio::awaitable<Error> WaitEnded(std::shared_ptr<LeaseState> st) {
  auto cancellation = co_await asio::this_coro::cancellation_state;
  while (true) {
    {
      std::lock_guard<std::mutex> guard(st->mutex);
      if (st->ended) co_return st->loss;  // empty when released
    }
    co_await st->ended_signal.async_wait(kNoThrow);
    if (Cancelled(cancellation)) co_return Error(LockError::kCancelled);
  }
}

}  // namespace
}  // namespace detail

Lease::Lease(std::shared_ptr<detail::Core> core, Lock lock, LeaseOptions options,
             bool blocking_release)
    : state_(std::make_shared<detail::LeaseState>(std::move(core), std::move(lock),
                                                  std::move(options))),
      blocking_release_(blocking_release) {
  auto& hooks = state_->core->close_hooks;
  std::erase_if(hooks, [](const std::function<bool()>& hook) { return !hook(); });
  hooks.push_back([weak = std::weak_ptr<detail::LeaseState>(state_)] {
    auto st = weak.lock();
    if (!st) return false;
    if (st->core->closed) st->wake.cancel();
    return true;
  });
  asio::co_spawn(state_->core->executor, detail::RenewalLoop(state_), asio::detached);
}

Lease::Lease(Lease&& other) noexcept
    : state_(std::move(other.state_)), blocking_release_(other.blocking_release_) {}

Lease& Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Abandon();
    state_ = std::move(other.state_);
    blocking_release_ = other.blocking_release_;
  }
  return *this;
}

Lease::~Lease() { Abandon(); }

void Lease::Abandon() {
  if (!state_) return;
  std::shared_ptr<detail::LeaseState> st = std::move(state_);
  // After its Redlock closed, the executor may be gone: nothing is left to release with anyway.
  if (st->core->closed) return;
  if (blocking_release_) {
    detail::BlockOn(st->core->executor, detail::ReleaseState(st));
  } else {
    st->core->BackgroundStarted();
    asio::co_spawn(st->core->executor, detail::ReleaseDetached(st), asio::detached);
  }
}

const std::string& Lease::resource() const { return state_->resource; }
const std::string& Lease::owner() const { return state_->owner; }

Result<uint64_t> Lease::fencing_token() const { return lock().fencing_token(); }

Lock Lease::lock() const {
  std::lock_guard<std::mutex> guard(state_->mutex);
  return state_->lock;
}

int Lease::renewals() const {
  std::lock_guard<std::mutex> guard(state_->mutex);
  return state_->renewals;
}

int Lease::consecutive_failures() const {
  std::lock_guard<std::mutex> guard(state_->mutex);
  return state_->failures;
}

Clock::time_point Lease::valid_until() const {
  std::lock_guard<std::mutex> guard(state_->mutex);
  return state_->lock.valid_until;
}

Clock::duration Lease::validity() const { return valid_until() - Clock::now(); }

bool Lease::active() const {
  if (!state_) return false;
  std::lock_guard<std::mutex> guard(state_->mutex);
  return !state_->ended;
}

bool Lease::lost() const {
  std::lock_guard<std::mutex> guard(state_->mutex);
  return state_->lost;
}

Error Lease::loss() const {
  std::lock_guard<std::mutex> guard(state_->mutex);
  return state_->loss;
}

std::stop_token Lease::stop_token() const { return state_->stop.get_token(); }

asio::awaitable<Error> Lease::WaitLost() {
  if (!state_) co_return Error(LockError::kNotHeld, "an empty lease");
  co_return co_await detail::WaitEnded(state_);
}

asio::awaitable<Error> Lease::Release() {
  if (!state_) co_return Error(LockError::kNotHeld, "an empty lease");
  co_return co_await detail::ReleaseState(state_);
}

}  // namespace keyward::redlock
