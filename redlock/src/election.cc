#include "keyward/redlock/election.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <charconv>
#include <map>

#include "core.h"
#include "keyward/client/async_client.h"
#include "keyward/error_codes.h"
#include "keyward/redlock/owner.h"

namespace keyward::redlock {
namespace {

using client::Expected;
using client::Reply;
using client::Request;
using detail::Core;
using detail::Instance;

std::string LeaderKey(const std::string& name) { return name + ":leader"; }

// "<term> <value>" -> (term, value).
std::optional<std::pair<uint64_t, std::string>> ParseAdvertised(std::string_view text) {
  const size_t space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  uint64_t term = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + space, term);
  if (error != std::errc() || end != text.data() + space) return std::nullopt;
  return std::make_pair(term, std::string(text.substr(space + 1)));
}

Error NeedsKeyward() {
  return Error(LockError::kFencingUnavailable,
               "leader election needs Keyward instances (LOCK.* commands): an instance is plain "
               "Redis");
}

// What one instance says about the election.
struct InstanceView {
  bool answered = false;
  detail::LockInfo info;
  std::optional<std::pair<uint64_t, std::string>> advertised;
};

asio::awaitable<InstanceView> ReadOne(Instance& instance, std::string name, Millis timeout) {
  Request request;
  request.Push("LOCK.INFO", name);
  request.Push("GET", LeaderKey(name));
  InstanceView view;
  auto replies = co_await instance.Exec(std::move(request), timeout);
  if (!replies || replies->size() != 2) co_return view;
  instance.NoteUnknownCommand((*replies)[0]);
  auto info = detail::ParseLockInfo((*replies)[0]);
  if (!info) co_return view;
  view.answered = true;
  view.info = std::move(*info);
  if (auto text = (*replies)[1].as_string()) view.advertised = ParseAdvertised(*text);
  co_return view;
}

struct LeaderRead {
  std::optional<LeaderInfo> leader;
  // An instance where the leader's lock is held (for LOCK.WAIT), when there is a leader.
  std::optional<size_t> holding;
  // The holder's term is not counted anywhere yet (a campaign between its acquire and its FENCE):
  // the term and value are the last advertisement's, perhaps a predecessor's.
  bool unsettled = false;
};

// The owner that holds NAME on a majority. Its term is the holder's token as the instances that
// counted it report it (LOCK.INFO holder_token; a FENCE counted it on a majority). An instance
// that lost the lock and got it back from the leader's renewal (a restart without data) counted
// no token for it: it does not vote (its counter is its own boot floor, no term). When no instance
// still knows the holder's token (every one of them restarted), the term is the highest one
// advertised where the owner holds the lock: only the leader writes there, with a guarded write
// of its own term, and a deposed leader's terms are lower. Its value is the advertised one written
// for that term.
asio::awaitable<Result<LeaderRead>> ReadLeader(std::shared_ptr<Core> core, std::string name) {
  if (core->closed) co_return Error(LockError::kClosed);
  if (core->FencingMode() == Fencing::kNone) co_return NeedsKeyward();
  const Millis timeout = core->options.instance_timeout;
  auto views = co_await core->ForEach<InstanceView>(
      [&](Instance& instance) { return ReadOne(instance, name, timeout); }, InstanceView{});
  if (core->FencingMode() == Fencing::kNone) co_return NeedsKeyward();
  const size_t majority = Majority(core->size());
  size_t answered = 0;
  std::map<std::string, size_t> holders;
  for (const InstanceView& view : views) {
    if (!view.answered) continue;
    ++answered;
    if (view.info.owner && view.info.pttl != -2) ++holders[*view.info.owner];
  }
  if (answered < majority) {
    co_return Error(LockError::kNoQuorum,
                    std::to_string(answered) + " of " + std::to_string(core->size()) +
                        " instances answered; a majority is " + std::to_string(majority));
  }
  LeaderRead read;
  for (const auto& [owner, count] : holders) {
    if (count < majority) continue;
    std::map<uint64_t, size_t> terms;
    uint64_t advertised_term = 0;
    for (size_t i = 0; i < views.size(); ++i) {
      if (views[i].answered && views[i].info.owner == owner) {
        if (views[i].info.holder_token) ++terms[*views[i].info.holder_token];
        if (views[i].advertised) {
          advertised_term = std::max(advertised_term, views[i].advertised->first);
        }
        if (!read.holding) read.holding = i;
      }
    }
    LeaderInfo leader;
    leader.owner = owner;
    size_t best = 0;
    for (const auto& [term, votes] : terms) {
      if (votes >= best) {  // ties go to the higher term (the map is ordered)
        best = votes;
        leader.term = term;
      }
    }
    if (terms.empty()) {
      leader.term = advertised_term;  // 0: not known yet
      read.unsettled = true;
    }
    for (const InstanceView& view : views) {
      if (view.advertised && view.advertised->first == leader.term) {
        leader.value = view.advertised->second;
        break;
      }
    }
    read.leader = std::move(leader);
  }
  co_return read;
}

// Where Keyward announces the lock NAME's changes, in the database the instance's URL selects.
std::string LockEventChannel(const std::string& url, const std::string& name) {
  auto options = client::OptionsFromUrl(url);
  return "__lock@" + std::to_string(options ? options->connection.db : 0) + "__:" + name;
}

// `LOCK.GUARD name term <command...>` on every instance: empty when a majority ran it, kLeaseLost
// when a majority refused it as FENCED (a newer term wrote), kNoQuorum otherwise.
asio::awaitable<Error> GuardEverywhere(std::shared_ptr<Core> core, std::string name, uint64_t term,
                                       std::vector<std::string> command, bool announce = false) {
  if (core->closed) co_return Error(LockError::kClosed);
  const Millis timeout = core->options.instance_timeout;
  auto replies = co_await core->ForEach<Expected<std::vector<Reply>>>(
      [&](Instance& instance) {
        Request request;
        request.Push("LOCK.GUARD", name, term, command);
        if (announce) {
          // Observers re-read on the lock's event channel; a new value is no lock event of the
          // server's own, so the leader announces it there (same db as the URL's).
          request.Push("PUBLISH", LockEventChannel(instance.url(), name), "proclaimed");
        }
        return instance.Exec(std::move(request), timeout);
      },
      client::ClientError::kCancelled);
  size_t accepted = 0;
  size_t fenced = 0;
  std::string why;
  for (const auto& reply : replies) {
    if (!reply || reply->empty()) {
      if (why.empty()) why = reply ? "no reply" : reply.error().message();
      continue;
    }
    const Reply& r = reply->front();
    if (auto error = r.as_error()) {
      if (codes::HasCode(*error, codes::kFenced)) {
        ++fenced;
      } else if (why.empty()) {
        why = std::string(*error);
      }
      continue;
    }
    ++accepted;
  }
  const size_t majority = Majority(core->size());
  const std::string tally = "accepted on " + std::to_string(accepted) + ", fenced on " +
                            std::to_string(fenced) + " of " + std::to_string(core->size()) +
                            " instances" + (why.empty() ? "" : " (" + why + ")");
  if (accepted >= majority) co_return Error();
  if (fenced >= majority) {
    co_return Error(LockError::kLeaseLost, "a newer leader has written: " + tally);
  }
  co_return Error(LockError::kNoQuorum, tally);
}

std::vector<std::string> SetAdvertised(const std::string& name, uint64_t term,
                                       const std::string& value) {
  return {"SET", LeaderKey(name), std::to_string(term) + " " + value};
}

asio::awaitable<void> Readvertise(std::shared_ptr<Core> core, std::string name, uint64_t term,
                                  std::string value) {
  co_await GuardEverywhere(core, name, term, SetAdvertised(name, term, value), true);
  core->BackgroundFinished();
}

}  // namespace

// ---- Leadership

Leadership::Leadership(std::shared_ptr<Core> core, std::string name, Lease lease, std::string value)
    : Leadership(std::move(core), std::move(name), std::move(lease),
                 std::make_shared<std::string>(std::move(value))) {}

Leadership::Leadership(std::shared_ptr<Core> core, std::string name, Lease lease,
                       std::shared_ptr<std::string> value)
    : core_(std::move(core)),
      name_(std::move(name)),
      lease_(std::move(lease)),
      value_(std::move(value)) {
  term_ = lease_.fencing_token().value();
}

asio::awaitable<Error> Leadership::Proclaim(std::string value) {
  if (!lease_.active()) {
    co_return lease_.lost() ? lease_.loss() : Error(LockError::kNotHeld, "resigned");
  }
  // The shared value first: a re-advertisement (after a repair) racing with this one then writes
  // the new value too, never the old one back.
  *value_ = value;
  co_return co_await GuardEverywhere(core_, name_, term_, SetAdvertised(name_, term_, value), true);
}

asio::awaitable<Error> Leadership::Resign() {
  if (!lease_) co_return Error();
  // Best effort: the value of a released term is ignored by readers anyway (its term no longer
  // matches), and FENCED here just means the next leader already wrote its own.
  std::vector<std::string> del = {"DEL", LeaderKey(name_)};  // not braced in the co_await (g++ 12)
  co_await GuardEverywhere(core_, name_, term_, std::move(del));
  co_return co_await lease_.Release();
}

// ---- Observer

Observer::Observer(std::shared_ptr<Core> core, std::string name, Millis period)
    : core_(std::move(core)), name_(std::move(name)), period_(period) {}

namespace {

// Subscribes to the election lock's events on the first instance that accepts. Null when none
// did (the observer then waits with LOCK.WAIT or the period alone).
asio::awaitable<std::shared_ptr<client::AsyncClient>> SubscribeToLockEvents(
    std::shared_ptr<Core> core, std::string name) {
  for (const auto& instance : core->instances) {
    auto options = client::OptionsFromUrl(instance->url());
    if (!options) continue;
    if (core->options.configure) core->options.configure(*options);
    const std::string channel = "__lock@" + std::to_string(options->connection.db) + "__:" + name;
    auto events = std::make_shared<client::AsyncClient>(core->executor, *options);
    Request subscribe;
    subscribe.Push("SUBSCRIBE", channel);
    auto done = co_await events->Exec(std::move(subscribe), core->options.connect_timeout);
    if (done) co_return events;
    events->Close();
  }
  co_return nullptr;
}

}  // namespace

asio::awaitable<Result<std::optional<LeaderInfo>>> Observer::Next() {
  using namespace asio::experimental::awaitable_operators;
  auto cancellation = co_await asio::this_coro::cancellation_state;
  if (backoff_.count() > 0) {
    co_await detail::Sleep(backoff_);
    if (detail::Cancelled(cancellation)) co_return Error(LockError::kCancelled);
  }
  // Subscribed before reading, so that no change between the read and the wait goes unheard.
  if (!events_) events_ = co_await SubscribeToLockEvents(core_, name_);
  while (true) {
    Result<LeaderRead> read = co_await ReadLeader(core_, name_);
    if (detail::Cancelled(cancellation)) co_return Error(LockError::kCancelled);
    if (!read) {
      backoff_ = backoff_.count() == 0 ? kErrorBackoff
                                       : std::min(backoff_ * 2, std::max(period_, kErrorBackoff));
      co_return read.error();
    }
    backoff_ = Millis(0);
    // A campaign caught between its acquire and its FENCE: the owner is new, the term and value
    // may still be its predecessor's, a leader that never was. Read again shortly; only an owner
    // that stays unsettled longer than a campaign's rounds can take (10 instance timeouts, at
    // least a period) is reported as it reads (every instance restarted: no term counted).
    if (read->unsettled && read->leader) {
      const Clock::time_point now = Clock::now();
      if (!unsettled_since_ || unsettled_owner_ != read->leader->owner) {
        unsettled_since_ = now;
        unsettled_owner_ = read->leader->owner;
      }
      const Millis grace = std::max(period_, 10 * core_->options.instance_timeout);
      if (now - *unsettled_since_ < grace) {
        co_await detail::Sleep(std::min(period_, Millis(10)));
        if (detail::Cancelled(cancellation)) co_return Error(LockError::kCancelled);
        continue;
      }
    } else {
      unsettled_since_.reset();
    }
    if (first_ || read->leader != last_) {
      first_ = false;
      last_ = read->leader;
      co_return last_;
    }
    // Nothing changed: wait for the server's next lock event (a message, or the subscription's
    // confirmation after a reconnection), or for the period to pass.
    if (events_) {
      auto woken = co_await (events_->ReceivePush() || detail::Sleep(period_));
      // A subscription that failed for good (closed) is dropped: LOCK.WAIT and the period serve.
      if (woken.index() == 0 && !std::get<0>(woken)) events_.reset();
    } else if (read->holding) {
      std::shared_ptr<Instance> instance = core_->instances[*read->holding];
      co_await instance->WaitFree(name_, period_, core_->options.instance_timeout);
    } else {
      co_await detail::Sleep(period_);
    }
    if (detail::Cancelled(cancellation)) co_return Error(LockError::kCancelled);
  }
}

// ---- Election

Election::Election(AsyncRedlock& redlock, std::string name, ElectionOptions options)
    : core_(redlock.core()), name_(std::move(name)), options_(std::move(options)) {}

asio::awaitable<Result<Leadership>> Election::Campaign(std::string value, Millis wait) {
  AcquireOptions acquire;
  acquire.ttl = options_.ttl;
  acquire.wait = wait;
  acquire.require_fencing = true;
  acquire.owner = NewOwnerToken();
  Result<Lock> lock = co_await detail::AcquireLock(core_, name_, acquire);
  if (!lock) {
    if (lock.error() == LockError::kFencingUnavailable) co_return NeedsKeyward();
    co_return lock.error();
  }
  LeaseOptions lease_options;
  lease_options.limits = options_.limits;
  lease_options.on_renewal_failed = options_.on_renewal_failed;
  lease_options.on_lost = options_.on_lost;
  // An instance that lost the lock (and the advertised value with it) got the lock back from the
  // renewal: advertise the value there again, so that readers find it after a rolling restart.
  auto advertised = std::make_shared<std::string>(value);
  const uint64_t term = lock->token.value_or(0);
  lease_options.on_repaired = [core = core_, name = name_, term,
                               weak = std::weak_ptr<std::string>(advertised)](size_t) {
    auto current = weak.lock();
    if (!current || core->closed) return;
    core->BackgroundStarted();
    asio::co_spawn(core->executor, Readvertise(core, name, term, *current), asio::detached);
  };
  Leadership leadership(core_, name_, Lease(core_, std::move(*lock), std::move(lease_options)),
                        advertised);
  if (Error error = co_await leadership.Proclaim(std::move(value))) {
    co_await leadership.lease().Release();
    co_return error;
  }
  co_return std::move(leadership);
}

asio::awaitable<Result<std::optional<LeaderInfo>>> Election::Leader() {
  Result<LeaderRead> read = co_await ReadLeader(core_, name_);
  if (!read) co_return read.error();
  co_return std::move(read->leader);
}

Observer Election::Observe() { return Observer(core_, name_, options_.observe_period); }

}  // namespace keyward::redlock
