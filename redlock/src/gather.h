// Runs one operation per instance concurrently and collects every result: the "send to all N in
// parallel" of Redlock. (asio 1.22 has no ranged parallel_group, and the awaitable operators take
// a fixed number of operands.)
//
// Each operation runs in its own coroutine, which owns what it needs (a keep-alive of its
// instance, the shared result state), so the caller may be cancelled or destroyed while they
// finish: they always do, each being bounded by its own per-instance timeout.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace keyward::redlock::detail {

inline constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);

template <typename T>
struct GatherState {
  GatherState(asio::any_io_executor ex, size_t n) : done(ex), results(n), pending(n) {}
  asio::steady_timer done;  // cancelled whenever an operation finished
  std::vector<std::optional<T>> results;
  size_t pending;
};

template <typename T>
asio::awaitable<void> GatherOne(std::shared_ptr<GatherState<T>> state, size_t index,
                                asio::awaitable<T> operation, std::shared_ptr<void> keep_alive,
                                T on_exception) {
  try {
    state->results[index].emplace(co_await std::move(operation));
  } catch (const std::exception&) {
    // Nothing here throws by design; if something does, the slot still gets an answer, or the
    // caller would wait forever.
    state->results[index].emplace(std::move(on_exception));
  }
  --state->pending;
  state->done.cancel();  // the gatherer looks again (all in, or decided)
}

// The results in so far (nullopt: still running).
template <typename T>
using Partial = std::vector<std::optional<T>>;

// One entry per operation, in order. `keep_alive[i]` is held while operation i runs. If the
// caller is cancelled first, or `decided` says the results in so far settle the outcome, the
// results not yet in are `on_cancel` (the operations go on in the background and their results
// are dropped: a request still runs on its connection, before anything sent there later).
template <typename T>
asio::awaitable<std::vector<T>> Gather(std::vector<asio::awaitable<T>> operations,
                                       std::vector<std::shared_ptr<void>> keep_alive, T on_cancel,
                                       std::function<bool(const Partial<T>&)> decided = {}) {
  auto executor = co_await asio::this_coro::executor;
  auto state = std::make_shared<GatherState<T>>(executor, operations.size());
  for (size_t i = 0; i < operations.size(); ++i) {
    asio::co_spawn(executor,
                   GatherOne<T>(state, i, std::move(operations[i]),
                                i < keep_alive.size() ? keep_alive[i] : nullptr, on_cancel),
                   asio::detached);
  }
  if (decided) {
    // Let every operation start (send its request) before the caller may go on: whatever the
    // caller sends next to an instance then follows this round's request on its connection.
    co_await asio::post(executor, asio::use_awaitable);
  }
  while (state->pending > 0 && !(decided && decided(state->results))) {
    state->done.expires_at(asio::steady_timer::time_point::max());
    co_await state->done.async_wait(kNoThrow);
    auto cancellation = co_await asio::this_coro::cancellation_state;
    if (cancellation.cancelled() != asio::cancellation_type::none) break;
  }
  std::vector<T> out;
  out.reserve(state->results.size());
  for (auto& result : state->results) out.push_back(result ? std::move(*result) : on_cancel);
  co_return out;
}

// Sleeps `duration` on the current executor. False when cancelled.
inline asio::awaitable<bool> Sleep(std::chrono::steady_clock::duration duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  auto [error] = co_await timer.async_wait(kNoThrow);
  co_return !error;
}

}  // namespace keyward::redlock::detail
