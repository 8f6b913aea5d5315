#include "keyward/redlock/async_redlock.h"

#include "core.h"

namespace keyward::redlock {

AsyncRedlock::AsyncRedlock(asio::any_io_executor executor, const std::vector<std::string>& urls,
                           RedlockOptions options)
    : core_(std::make_shared<detail::Core>(executor, urls, std::move(options))) {}

AsyncRedlock::~AsyncRedlock() { Close(); }

void AsyncRedlock::Close() { core_->Close(); }

asio::awaitable<Error> AsyncRedlock::Connect() {
  auto backends = co_await core_->ForEach<Backend>(
      [](detail::Instance& instance) { return instance.Detect(); }, Backend::kUnknown);
  size_t reached = 0;
  std::string unreachable;
  for (size_t i = 0; i < backends.size(); ++i) {
    if (backends[i] != Backend::kUnknown) {
      ++reached;
    } else {
      unreachable += (unreachable.empty() ? "" : ", ") + core_->instances[i]->url();
    }
  }
  if (reached >= quorum()) co_return Error();
  co_return Error(LockError::kNoQuorum, "reached " + std::to_string(reached) + " of " +
                                            std::to_string(size()) +
                                            " instances; unreachable: " + unreachable);
}

asio::awaitable<Result<Lock>> AsyncRedlock::Acquire(std::string resource, AcquireOptions options) {
  co_return co_await detail::AcquireLock(core_, std::move(resource), std::move(options));
}

asio::awaitable<Error> AsyncRedlock::Release(Lock lock) {
  co_return co_await detail::ReleaseLock(core_, std::move(lock.resource), std::move(lock.owner));
}

asio::awaitable<Error> AsyncRedlock::Extend(Lock& lock, Millis ttl) {
  co_return co_await detail::ExtendLock(core_, &lock, ttl);
}

asio::awaitable<Result<Lease>> AsyncRedlock::AcquireLease(std::string resource,
                                                          AcquireOptions options,
                                                          LeaseOptions lease) {
  Result<Lock> lock = co_await Acquire(std::move(resource), std::move(options));
  if (!lock) co_return lock.error();
  co_return Lease(core_, std::move(*lock), std::move(lease));
}

Lease AsyncRedlock::StartLease(Lock lock, LeaseOptions lease) {
  return Lease(core_, std::move(lock), std::move(lease));
}

size_t AsyncRedlock::size() const { return core_->size(); }
size_t AsyncRedlock::quorum() const { return Majority(core_->size()); }

std::vector<InstanceStatus> AsyncRedlock::instances() const {
  std::vector<InstanceStatus> out;
  for (const auto& instance : core_->instances) {
    out.push_back({instance->url(), instance->backend(), instance->connected()});
  }
  return out;
}

asio::any_io_executor AsyncRedlock::executor() const { return core_->executor; }

}  // namespace keyward::redlock
