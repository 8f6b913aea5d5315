// The state every operation of one Redlock shares (the instances, the options, the jitter seeds),
// and the rounds the algorithms are made of. Operations hold the Core through a shared_ptr, so
// one that outlives its AsyncRedlock (a background release, a lease's last round) still finds its
// instances; after Close() they fail with kClosed.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/cancellation_state.hpp>
#include <asio/steady_timer.hpp>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "gather.h"
#include "instance.h"
#include "keyward/redlock/acquire_round.h"
#include "keyward/redlock/lock.h"
#include "keyward/redlock/renewal.h"

namespace keyward::redlock::detail {

struct Core {
  // Throws std::invalid_argument for an empty list or a URL OptionsFromUrl() refuses.
  Core(asio::any_io_executor ex, const std::vector<std::string>& urls, RedlockOptions opts);

  size_t size() const { return instances.size(); }
  uint64_t NextSeed() { return seeds(); }
  // kNone when an instance is known to be plain Redis; otherwise one or two phases by N.
  Fencing FencingMode() const;
  // Every instance known to be Keyward (LOCK.WAIT available everywhere).
  bool AllKeyward() const;
  void Close();

  // One `make(instance)` per instance, run in parallel; results in instance order. Each
  // operation keeps its instance alive while it runs.
  // `decided`: the round ends as soon as the answers in settle its outcome (a majority is what
  // counts, not the slowest instance); the others finish in the background.
  template <typename T, typename MakeOperation>
  asio::awaitable<std::vector<T>> ForEach(MakeOperation make, T on_cancel,
                                          std::function<bool(const Partial<T>&)> decided = {}) {
    std::vector<asio::awaitable<T>> operations;
    std::vector<std::shared_ptr<void>> keep_alive;
    for (const auto& instance : instances) {
      operations.push_back(make(*instance));
      keep_alive.push_back(instance);
    }
    co_return co_await Gather(std::move(operations), std::move(keep_alive), std::move(on_cancel),
                              std::move(decided));
  }

  asio::any_io_executor executor;
  RedlockOptions options;
  std::vector<std::shared_ptr<Instance>> instances;
  std::mt19937_64 seeds;
  // Atomic: a Lease destroyed on another thread reads it to know whether the executor still runs.
  std::atomic<bool> closed{false};
  // Background operations (releases after a failure, a cancellation, a loss, a destroyed lease)
  // still running; the synchronous Redlock lets them finish before it closes (Drain).
  std::atomic<int> background{0};
  std::unique_ptr<asio::steady_timer> background_done;  // cancelled when `background` drops to 0
  void BackgroundStarted() { ++background; }
  void BackgroundFinished() {
    if (--background == 0) background_done->cancel();
  }
  // The highest counter seen per resource (answers, tokens held): a fenced acquisition over N
  // proposes the next one and commits it in one round trip when that guess holds. Bounded: it
  // starts over past kMaxKnownCounters resources (a missing entry costs a second round trip).
  std::unordered_map<std::string, uint64_t> known_counters;
  static constexpr size_t kMaxKnownCounters = 4096;
  std::optional<uint64_t> Proposal(const std::string& resource) const {
    auto it = known_counters.find(resource);
    if (it == known_counters.end()) return std::nullopt;
    return it->second + 1;
  }
  void NoteCounter(const std::string& resource, uint64_t counter) {
    if (known_counters.size() >= kMaxKnownCounters && !known_counters.contains(resource)) {
      known_counters.clear();
    }
    uint64_t& known = known_counters[resource];
    known = std::max(known, counter);
  }
  // A background catch-up runs (one at a time: every acquisition that saw an unsettled instance
  // would start one). Read and written on the executor only.
  bool catching_up = false;
  // Called by Close(): wakes what sleeps on its own timers (a lease's renewal loop), so that it
  // sees `closed` now rather than at its next renewal. Expired hooks return false and are
  // dropped when the next one is added.
  std::vector<std::function<bool()>> close_hooks;
};

inline bool Cancelled(const asio::cancellation_state& state) {
  return state.cancelled() != asio::cancellation_type::none;
}

// The acquisition: attempts, fencing, retries or waiting (acquire.cc).
asio::awaitable<Result<Lock>> AcquireLock(std::shared_ptr<Core> core, std::string resource,
                                          AcquireOptions options);

// Compare-and-delete on every instance (or on those `only` marks). Succeeds when a majority
// released it (returning then, the others finishing behind it, unless `wait_all`); kNotHeld when
// the lock had already gone from a majority.
asio::awaitable<Error> ReleaseLock(std::shared_ptr<Core> core, std::string resource,
                                   std::string owner, std::vector<bool> only = {},
                                   bool wait_all = false);
// The same, started in the background (cleanup after a failure, a cancellation or a loss).
void ReleaseInBackground(const std::shared_ptr<Core>& core, std::string resource, std::string owner,
                         std::vector<bool> only = {});

// Catches up the instances that answered that they started without their fencing counters
// (catch_up.h): LOCK.CATCHUP to every instance, then, where the answers allow it, LOCK.CATCHUP
// with the highest counter to each unsettled one. True when one was caught up.
asio::awaitable<bool> CatchUpEverywhere(std::shared_ptr<Core> core);
// The same, started in the background (after a lock was granted without that instance), unless
// one is running already.
void CatchUpInBackground(const std::shared_ptr<Core>& core);

// Waits until no background operation runs (each is bounded by the instance timeouts).
asio::awaitable<void> Drain(std::shared_ptr<Core> core);

// Compare-and-PEXPIRE on every instance, within the remaining validity; updates `lock` on
// success.
asio::awaitable<Error> ExtendLock(std::shared_ptr<Core> core, Lock* lock, Millis ttl);

// One renewal round of a lease (Instance::Renew on every instance), each request bounded by the
// instance timeout and by `deadline`.
asio::awaitable<RenewalTally> RenewLock(std::shared_ptr<Core> core, Lock lock, Millis ttl,
                                        Clock::time_point deadline);

}  // namespace keyward::redlock::detail
