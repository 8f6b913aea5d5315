// The synchronous Redlock: each call is the asynchronous one, run on the private thread.
//
// The coroutines below take what they need as parameters (values and raw pointers) rather than
// being lambdas with captures: g++ 12 destroys the non-trivial captures of a lambda coroutine
// given to co_spawn twice.
#include "keyward/redlock/redlock.h"

#include "core.h"

namespace keyward::redlock {
namespace {

asio::awaitable<Error> DoConnect(AsyncRedlock* redlock) { co_return co_await redlock->Connect(); }

asio::awaitable<Result<Lock>> DoAcquire(AsyncRedlock* redlock, std::string resource,
                                        AcquireOptions options) {
  co_return co_await redlock->Acquire(std::move(resource), std::move(options));
}

asio::awaitable<Error> DoRelease(AsyncRedlock* redlock, Lock lock) {
  co_return co_await redlock->Release(std::move(lock));
}

asio::awaitable<Error> DoExtend(AsyncRedlock* redlock, Lock* lock, Millis ttl) {
  co_return co_await redlock->Extend(*lock, ttl);
}

// The lease releases with blocking_release: its owner is a thread other than the private one.
asio::awaitable<Result<Lease>> DoAcquireLease(AsyncRedlock* redlock, std::string resource,
                                              AcquireOptions options, LeaseOptions lease) {
  Result<Lock> lock = co_await redlock->Acquire(std::move(resource), std::move(options));
  if (!lock) co_return lock.error();
  co_return Lease(redlock->core(), std::move(*lock), std::move(lease), true);
}

asio::awaitable<Error> DoReleaseLease(Lease* lease) { co_return co_await lease->Release(); }

asio::awaitable<std::vector<InstanceStatus>> DoInstances(AsyncRedlock* redlock) {
  co_return redlock->instances();
}

// Background releases (a lease or leadership destroyed without waiting, a cancelled
// acquisition) finish first: closing would fail them.
asio::awaitable<int> DoClose(AsyncRedlock* redlock) {
  co_await detail::Drain(redlock->core());
  redlock->Close();
  co_return 0;
}

}  // namespace

Redlock::Redlock(const std::vector<std::string>& urls, RedlockOptions options)
    : work_(asio::make_work_guard(io_)),
      async_(std::make_unique<AsyncRedlock>(io_.get_executor(), urls, std::move(options))),
      thread_([this] { io_.run(); }) {}

Redlock::~Redlock() {
  // Closing touches the clients, which belong to the private thread.
  detail::BlockOn(async_->executor(), DoClose(async_.get()));
  work_.reset();
  thread_.join();
  async_.reset();
}

Error Redlock::Connect() { return Run(DoConnect(async_.get())); }

Result<Lock> Redlock::Acquire(std::string resource, AcquireOptions options) {
  return Run(DoAcquire(async_.get(), std::move(resource), std::move(options)));
}

Error Redlock::Release(const Lock& lock) { return Run(DoRelease(async_.get(), lock)); }

Error Redlock::Extend(Lock& lock, Millis ttl) { return Run(DoExtend(async_.get(), &lock, ttl)); }

Result<Lease> Redlock::AcquireLease(std::string resource, AcquireOptions options,
                                    LeaseOptions lease) {
  return Run(
      DoAcquireLease(async_.get(), std::move(resource), std::move(options), std::move(lease)));
}

Error Redlock::Release(Lease& lease) { return Run(DoReleaseLease(&lease)); }

std::vector<InstanceStatus> Redlock::instances() { return Run(DoInstances(async_.get())); }

}  // namespace keyward::redlock
