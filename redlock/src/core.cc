#include "core.h"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/this_coro.hpp>
#include <stdexcept>

#include "keyward/redlock/catch_up.h"

namespace keyward::redlock::detail {

Core::Core(asio::any_io_executor ex, const std::vector<std::string>& urls, RedlockOptions opts)
    : executor(ex),
      options(std::move(opts)),
      background_done(
          std::make_unique<asio::steady_timer>(ex, asio::steady_timer::time_point::max())) {
  if (urls.empty()) throw std::invalid_argument("redlock: no instance URLs");
  seeds.seed(options.seed != 0 ? options.seed : std::random_device{}());
  for (const std::string& url : urls) {
    auto client_options = client::OptionsFromUrl(url);
    if (!client_options) {
      throw std::invalid_argument("redlock: " + client_options.error().message() + ": " + url);
    }
    client_options->connection.connect_timeout = options.connect_timeout;
    // A request for an instance that is down fails at once (the next connection attempt is
    // made for it) instead of waiting out its timeout: a dead instance then costs a round
    // almost nothing.
    client_options->queue_while_disconnected = false;
    // A paused instance (SIGSTOP, a partition) is noticed within two intervals, after which its
    // requests fail fast too.
    client_options->health_check_interval = Millis(1000);
    client_options->reconnect.initial_delay = Millis(10);
    client_options->reconnect.max_delay = Millis(1000);
    if (options.configure) options.configure(*client_options);
    instances.push_back(std::make_shared<Instance>(
        ex, url, std::move(*client_options), options.connect_timeout, options.instance_timeout));
  }
}

Fencing Core::FencingMode() const {
  for (const auto& instance : instances) {
    if (instance->backend() == Backend::kRedis) return Fencing::kNone;
  }
  return instances.size() == 1 ? Fencing::kSingleTrip : Fencing::kTwoPhase;
}

bool Core::AllKeyward() const {
  for (const auto& instance : instances) {
    if (instance->backend() != Backend::kKeyward) return false;
  }
  return true;
}

void Core::Close() {
  if (closed.exchange(true)) return;
  for (const auto& instance : instances) instance->Close();
  auto hooks = std::move(close_hooks);
  for (auto& hook : hooks) hook();
}

namespace {

asio::awaitable<client::Expected<bool>> NotReleased() { co_return false; }
asio::awaitable<AcquireAnswer> NotAsked() { co_return AcquireAnswer::Failed("not asked"); }

size_t IndexOf(const Core& core, const Instance& instance) {
  for (size_t i = 0; i < core.instances.size(); ++i) {
    if (core.instances[i].get() == &instance) return i;
  }
  return core.instances.size();
}

// Whether `only` (empty: all) includes `instance`.
bool Selected(const Core& core, const std::vector<bool>& only, const Instance& instance) {
  if (only.empty()) return true;
  const size_t i = IndexOf(core, instance);
  return i < only.size() && only[i];
}

}  // namespace

asio::awaitable<Error> ReleaseLock(std::shared_ptr<Core> core, std::string resource,
                                   std::string owner, std::vector<bool> only, bool wait_all) {
  if (core->closed) co_return Error(LockError::kClosed);
  const Millis timeout = core->options.instance_timeout;
  // Decided once a majority released it: the others finish in the background. A background
  // release waits for every instance, so that Drain() (before closing) covers all of them.
  const size_t n = core->size();
  std::function<bool(const Partial<client::Expected<bool>>&)> decided;
  if (!wait_all) {
    decided = [n](const Partial<client::Expected<bool>>& results) {
      size_t released = 0;
      for (const auto& r : results) released += r && *r && **r ? 1 : 0;
      return released >= Majority(n);
    };
  }
  auto results = co_await core->ForEach<client::Expected<bool>>(
      [&](Instance& instance) {
        if (!Selected(*core, only, instance)) return NotReleased();
        return instance.Release(resource, owner, timeout);
      },
      client::ClientError::kCancelled, decided);
  size_t released = 0;
  size_t answered = 0;
  std::string why;
  for (const auto& result : results) {
    if (result) {
      ++answered;
      released += *result ? 1 : 0;
    } else if (why.empty()) {
      why = result.error().message();
    }
  }
  const std::string tally = "released on " + std::to_string(released) + " of " + std::to_string(n) +
                            " instances, " + std::to_string(n - answered) + " did not answer" +
                            (why.empty() ? "" : " (" + why + ")");
  if (released >= Majority(n)) co_return Error();
  if (answered < Majority(n)) co_return Error(LockError::kNoQuorum, tally);
  co_return Error(LockError::kNotHeld, "the lock had expired or been taken: " + tally);
}

namespace {

asio::awaitable<void> ReleaseDetached(std::shared_ptr<Core> core, std::string resource,
                                      std::string owner, std::vector<bool> only) {
  co_await ReleaseLock(core, std::move(resource), std::move(owner), std::move(only), true);
  core->BackgroundFinished();
}

}  // namespace

void ReleaseInBackground(const std::shared_ptr<Core>& core, std::string resource, std::string owner,
                         std::vector<bool> only) {
  if (core->closed) return;
  if (!only.empty() && std::find(only.begin(), only.end(), true) == only.end()) return;
  core->BackgroundStarted();
  asio::co_spawn(core->executor,
                 ReleaseDetached(core, std::move(resource), std::move(owner), std::move(only)),
                 asio::detached);
}

asio::awaitable<bool> CatchUpEverywhere(std::shared_ptr<Core> core) {
  const Millis timeout = core->options.instance_timeout;
  // Every round trip from before the first request: each peer's answer then came after this
  // instant, which an unsettled instance's `ready` must cover (catch_up.h).
  const Clock::time_point sent = Clock::now();
  auto reports = co_await core->ForEach<std::optional<CatchUpReport>>(
      [&](Instance& instance) { return instance.CatchUpState(sent, timeout); }, std::nullopt);
  const CatchUpPlan plan = PlanCatchUp(reports);
  if (plan.instances.empty()) co_return false;
  std::vector<asio::awaitable<bool>> raises;
  std::vector<std::shared_ptr<void>> keep_alive;
  for (size_t i : plan.instances) {
    raises.push_back(core->instances[i]->CatchUp(plan.counter, reports[i]->run_id, timeout));
    keep_alive.push_back(core->instances[i]);
  }
  const std::vector<bool> raised = co_await Gather(std::move(raises), std::move(keep_alive), false);
  co_return std::find(raised.begin(), raised.end(), true) != raised.end();
}

namespace {

asio::awaitable<void> CatchUpDetached(std::shared_ptr<Core> core) {
  co_await CatchUpEverywhere(core);
  core->catching_up = false;
  core->BackgroundFinished();
}

}  // namespace

void CatchUpInBackground(const std::shared_ptr<Core>& core) {
  if (core->closed || core->catching_up) return;
  core->catching_up = true;
  core->BackgroundStarted();
  asio::co_spawn(core->executor, CatchUpDetached(core), asio::detached);
}

asio::awaitable<void> Drain(std::shared_ptr<Core> core) {
  while (core->background.load() > 0) {
    co_await core->background_done->async_wait(kNoThrow);
  }
}

asio::awaitable<Error> ExtendLock(std::shared_ptr<Core> core, Lock* lock, Millis ttl) {
  if (core->closed) co_return Error(LockError::kClosed);
  if (ttl.count() <= 0) co_return Error(LockError::kInvalidArgument, "the TTL must be positive");
  const Clock::time_point started = Clock::now();
  if (!lock->valid(started)) {
    co_return Error(LockError::kNotHeld, "the lock's validity had already run out");
  }
  // A request answered after the validity ran out proves nothing: bound each by what is left.
  const Millis left = std::chrono::ceil<Millis>(lock->valid_until - started);
  const Millis timeout = std::min(core->options.instance_timeout, left);
  auto results = co_await core->ForEach<client::Expected<bool>>(
      [&](Instance& instance) {
        return instance.Extend(lock->resource, lock->owner, ttl, timeout);
      },
      client::ClientError::kCancelled);
  size_t extended = 0;
  size_t answered = 0;
  for (const auto& result : results) {
    if (result) {
      ++answered;
      extended += *result ? 1 : 0;
    }
  }
  const size_t n = core->size();
  const Clock::time_point now = Clock::now();
  const std::string tally = "extended on " + std::to_string(extended) + " of " + std::to_string(n) +
                            " instances, " + std::to_string(n - answered) + " did not answer";
  if (extended >= Majority(n) && now < lock->valid_until && now < ValidUntil(started, ttl)) {
    lock->ttl = ttl;
    lock->acquired_at = started;
    lock->valid_until = ValidUntil(started, ttl);
    co_return Error();
  }
  if (now >= lock->valid_until) {
    co_return Error(LockError::kNotHeld, "the validity ran out during the extension: " + tally);
  }
  if (answered < Majority(n)) co_return Error(LockError::kNoQuorum, tally);
  co_return Error(LockError::kNotHeld, "the lock had expired or been taken: " + tally);
}

asio::awaitable<RenewalTally> RenewLock(std::shared_ptr<Core> core, Lock lock, Millis ttl,
                                        Clock::time_point deadline) {
  RenewalTally tally;
  tally.instances = core->size();
  if (core->closed) {
    tally.detail = "the redlock was closed";
    co_return tally;
  }
  const auto timeout_until = [&core, deadline] {
    const Millis left = std::chrono::ceil<Millis>(deadline - Clock::now());
    return std::max(Millis(1), std::min(core->options.instance_timeout, left));
  };
  Millis timeout = timeout_until();
  auto answers = co_await core->ForEach<RenewAnswer>(
      [&](Instance& instance) {
        return instance.Renew(lock.resource, lock.owner, ttl, lock.token, timeout);
      },
      RenewAnswer::kFailed);
  tally.decided_at = Clock::now();
  std::vector<bool> lost_here(answers.size(), false);
  for (size_t i = 0; i < answers.size(); ++i) {
    switch (answers[i]) {
      case RenewAnswer::kExtended:
        ++tally.granted;
        break;
      case RenewAnswer::kNotHeld:
        ++tally.refused;
        lost_here[i] = true;
        break;
      case RenewAnswer::kFailed:
        if (tally.detail.empty()) tally.detail = "an instance did not answer in time";
        break;
    }
  }
  // Repair: re-create the lock where it vanished, but only now that a majority proved the lease
  // continuous (nobody else can have held a majority in between). A re-creation is never what
  // renews the lease.
  if (tally.granted < Majority(core->size()) || tally.refused == 0 || Clock::now() >= deadline ||
      core->closed) {
    co_return tally;
  }
  timeout = timeout_until();
  auto repairs = co_await core->ForEach<AcquireAnswer>(
      [&](Instance& instance) {
        if (!Selected(*core, lost_here, instance)) return NotAsked();
        return instance.Repair(lock.resource, lock.owner, ttl, lock.token, timeout);
      },
      AcquireAnswer::Failed("cancelled"));
  for (const AcquireAnswer& repair : repairs) {
    if (repair.kind == AcquireAnswer::Kind::kGranted) ++tally.repaired;
  }
  co_return tally;
}

}  // namespace keyward::redlock::detail
