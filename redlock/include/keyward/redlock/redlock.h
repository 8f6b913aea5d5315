// The synchronous Redlock: blocking calls for programs without an event loop (the `keyward` CLI,
// worker threads). It runs an AsyncRedlock on a private io_context thread, which is also where
// leases renew themselves and their callbacks run.
//
//   Redlock redlock({"redis://a:6379", "redis://b:6379", "redis://c:6379"});
//   if (Result<Lock> lock = redlock.Acquire("orders:42", {.ttl = 10s})) {
//     LockGuard guard(redlock, *lock);                   // released when the scope ends
//     store.Write(order, lock->fencing_token().value());
//   }
//
//   Result<Lease> lease = redlock.AcquireLease("jobs:nightly", {.ttl = 30s});
//   while (!lease->stop_token().stop_requested()) DoSomeWork();  // stops when the lease is lost
//
// Every method may be called from any thread (calls from several threads run concurrently on the
// private thread), except from that thread itself: not from a lease callback.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "keyward/redlock/async_redlock.h"
#include "keyward/redlock/block_on.h"

namespace keyward::redlock {

class Redlock {
 public:
  // Throws std::invalid_argument like AsyncRedlock. Starts the private thread; connects lazily.
  explicit Redlock(const std::vector<std::string>& urls, RedlockOptions options = {});
  // Lets background releases finish (those of leases destroyed without waiting, of cancelled
  // acquisitions), closes the instances and joins the thread. Leases still alive are then lost
  // ("the redlock was closed") without being released: destroy or release them first.
  ~Redlock();
  Redlock(const Redlock&) = delete;
  Redlock& operator=(const Redlock&) = delete;

  Error Connect();
  Result<Lock> Acquire(std::string resource, AcquireOptions options = {});
  Error Release(const Lock& lock);
  Error Extend(Lock& lock, Millis ttl);
  // The lease's destructor releases the lock and waits for it.
  Result<Lease> AcquireLease(std::string resource, AcquireOptions options = {},
                             LeaseOptions lease = {});
  Error Release(Lease& lease);

  // Runs any operation of the asynchronous API (an Election's Campaign(), a Lease's WaitLost())
  // on the private thread and returns its result.
  template <typename T>
  T Run(asio::awaitable<T> operation) {
    return detail::BlockOn(async_->executor(), std::move(operation));
  }

  AsyncRedlock& async() { return *async_; }
  size_t size() const { return async_->size(); }
  size_t quorum() const { return async_->quorum(); }
  std::vector<InstanceStatus> instances();

 private:
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::unique_ptr<AsyncRedlock> async_;
  std::thread thread_;
};

// Releases the lock when it goes out of scope (blocking until the instances answered).
class LockGuard {
 public:
  LockGuard(Redlock& redlock, Lock lock) : redlock_(&redlock), lock_(std::move(lock)) {}
  LockGuard(LockGuard&& other) noexcept
      : redlock_(std::exchange(other.redlock_, nullptr)), lock_(std::move(other.lock_)) {}
  LockGuard& operator=(LockGuard&&) = delete;
  ~LockGuard() { Release(); }

  const Lock& lock() const { return lock_; }
  Lock& lock() { return lock_; }
  // Releases now (idempotent; the first call's verdict, empty afterwards).
  Error Release() {
    if (!redlock_) return Error();
    Redlock* redlock = std::exchange(redlock_, nullptr);
    return redlock->Release(lock_);
  }

 private:
  Redlock* redlock_;
  Lock lock_;
};

}  // namespace keyward::redlock
