// Redlock over N independent instances, on asio with C++20 coroutines.
//
//   asio::io_context io;
//   AsyncRedlock redlock(io.get_executor(),
//                        {"redis://10.0.0.1:6379", "redis://10.0.0.2:6379",
//                        "redis://10.0.0.3:6379"});
//   asio::co_spawn(io, [&]() -> asio::awaitable<void> {
//     Result<Lock> lock = co_await redlock.Acquire("orders:42", {.ttl = 10s});
//     if (!lock) { log(lock.error().message()); co_return; }
//     co_await store.Write(order, lock->fencing_token().value());  // the store checks tokens
//     co_await redlock.Release(*lock);
//   }, asio::detached);
//   io.run();
//
// Acquire sends the request to every instance in parallel, each bounded by
// RedlockOptions::instance_timeout, and holds the lock when a majority (N/2+1) granted it and the
// validity (ttl - elapsed - drift) is still positive. With fencing (every instance Keyward) it
// then commits a fencing token with a second parallel round (LOCK.FENCE, see AcquireRound); with
// one instance both happen in one round trip. A failed attempt is released on every instance,
// also those that did not answer, before the next one.
//
// Instances are told apart on first contact: LOCK.* commands where the server has them
// (Keyward), Lua scripts on the same key otherwise (Redis). A Lock then has no fencing token
// (fencing_token() says kFencingUnavailable), but excludes other holders all the same.
//
// Lifetime and threading: like the AsyncClient it is built on, an AsyncRedlock is used from its
// executor's thread. It must outlive the operations awaited on it; leases and background
// releases keep what they need alive, and fail with kClosed / lose the lease after it is gone.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <memory>
#include <string>
#include <vector>

#include "keyward/redlock/errors.h"
#include "keyward/redlock/lease.h"
#include "keyward/redlock/lock.h"

namespace keyward::redlock {

namespace detail {
struct Core;
}

class AsyncRedlock {
 public:
  // One instance per URL (redis://, rediss://, unix://; see keyward/client/config.h). Throws
  // std::invalid_argument for an empty list or a malformed URL. Connects lazily.
  AsyncRedlock(asio::any_io_executor executor, const std::vector<std::string>& urls,
               RedlockOptions options = {});
  // Closes every connection (see Close()).
  ~AsyncRedlock();
  AsyncRedlock(const AsyncRedlock&) = delete;
  AsyncRedlock& operator=(const AsyncRedlock&) = delete;

  // Connects to every instance and finds out its backend (COMMAND INFO lock.acquire), each within
  // connect_timeout. Optional: the first operation does it otherwise, at the cost of a longer
  // first round. kNoQuorum when fewer than a majority could be reached.
  asio::awaitable<Error> Connect();

  // Takes the lock on `resource` (see AcquireOptions: retries, or a blocking wait). Errors:
  // kHeldByOther (with the holder's remaining lease), kNoQuorum, kTimedOut (waited until the
  // deadline, or the validity ran out during the attempt), kFencingUnavailable (only with
  // require_fencing), kCancelled, kInvalidArgument, kClosed.
  asio::awaitable<Result<Lock>> Acquire(std::string resource, AcquireOptions options = {});

  // Compare-and-delete on every instance. Empty on success (released on a majority); kNotHeld
  // when it had already expired or been taken on a majority; kNoQuorum when too few answered.
  asio::awaitable<Error> Release(Lock lock);

  // Compare-and-PEXPIRE to `ttl` on every instance, which must succeed on a majority within the
  // remaining validity; `lock` then counts its validity from this round. Does not re-create the
  // lock where it was lost (a Lease's renewal does). kNotHeld / kNoQuorum otherwise, and `lock`
  // is left as it was.
  asio::awaitable<Error> Extend(Lock& lock, Millis ttl);

  // Acquire, then renew in the background until released (see Lease).
  asio::awaitable<Result<Lease>> AcquireLease(std::string resource, AcquireOptions options = {},
                                              LeaseOptions lease = {});
  // Starts renewing a lock acquired with Acquire().
  Lease StartLease(Lock lock, LeaseOptions lease = {});

  // Fails every operation in progress and later (kClosed); leases are lost.
  void Close();

  size_t size() const;
  size_t quorum() const;
  // URL, backend (once known) and connection state of each instance, in the order given.
  std::vector<InstanceStatus> instances() const;
  asio::any_io_executor executor() const;

  // The shared state, for the parts of the library built on top (Election).
  const std::shared_ptr<detail::Core>& core() const { return core_; }

 private:
  std::shared_ptr<detail::Core> core_;
};

}  // namespace keyward::redlock
