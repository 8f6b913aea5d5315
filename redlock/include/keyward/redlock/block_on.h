// Blocking on a coroutine that another thread's io_context runs: how the synchronous forms
// (Redlock, the release of a synchronous Lease) are the asynchronous ones on a private thread.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>

namespace keyward::redlock {

namespace detail {

// co_spawn hands a default-constructed T to its handler on an exception, which Result<T> is not:
// the operation's value travels in an optional.
template <typename T>
asio::awaitable<std::optional<T>> AsOptional(asio::awaitable<T> operation) {
  co_return co_await std::move(operation);
}

// Runs `operation` on `executor`, which another thread drives, and blocks until it completes.
// Never call it from that thread: it would wait for itself.
template <typename T>
T BlockOn(const asio::any_io_executor& executor, asio::awaitable<T> operation) {
  struct Waiter {
    std::mutex mutex;
    std::condition_variable done_cv;
    bool done = false;
    std::optional<T> result;
    std::exception_ptr failure;
  } waiter;
  // The handler captures a raw pointer only (g++ 12 destroys non-trivial captures of handlers
  // given to co_spawn twice). It notifies under the lock, so this frame cannot be gone before the
  // handler stops touching it.
  asio::co_spawn(executor, AsOptional(std::move(operation)),
                 [w = &waiter](std::exception_ptr failure, std::optional<T> result) {
                   std::lock_guard<std::mutex> lock(w->mutex);
                   w->failure = failure;
                   w->result = std::move(result);
                   w->done = true;
                   w->done_cv.notify_one();
                 });
  std::unique_lock<std::mutex> lock(waiter.mutex);
  waiter.done_cv.wait(lock, [&] { return waiter.done; });
  if (waiter.failure) std::rethrow_exception(waiter.failure);
  return std::move(*waiter.result);
}

}  // namespace detail

}  // namespace keyward::redlock
