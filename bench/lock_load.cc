// Load generator for the lock benchmark (compare_locks.py): Keyward's native LOCK.* commands over
// N independent instances, through the client library's AsyncClient on one thread. Each run
// prints one JSON line.
//
//   keyward_lock_load --urls redis://127.0.0.1:7001,redis://127.0.0.1:7002 --mode uncontended
//
// It sends the commands itself, following the protocol that keyward::redlock implements (the
// two-phase fencing of COORDINATION.md, and the library's waiting strategy, redlock/src/retry.cc),
// so that the lock rounds and the PING rounds they are compared with go through the same calls on
// the same connections, with nothing else in between.
//
// Modes:
//   uncontended  One resource, no contention. Each iteration sends a PING to each of the N
//                instances in parallel (the "PING round"), then acquires and releases the lock on
//                the same connections:
//                - N = 1: LOCK.ACQUIRE r owner ttl FENCE (granted and fenced in one round trip),
//                  then LOCK.RELEASE r owner;
//                - N > 1: LOCK.ACQUIRE r owner ttl PROPOSE (counter seen last + 1) to all in
//                  parallel; a majority granted and counted it with positive validity: held in
//                  one round trip. Otherwise (the first time, or a stale guess) LOCK.FENCE r owner
//                  max(F)+1 to all, a majority counted. Then LOCK.RELEASE to all. As in the
//                  library, an acquisition waits for every instance's answer and a release is
//                  done once a majority released (the others answer in the background).
//                Reports p50/p99 of the PING round, the acquisition and acquire+release, and
//                acquire+release per second (over the time spent in them, not in the PINGs).
//   handoff      `--contenders` coroutines take turns on one resource, each with connections of
//                its own; the holder keeps the lock `--hold-us`, releases it, and queues again
//                once another contender holds it (so every release finds contenders-1 waiters and
//                the releaser never races them). Waiting:
//                - N = 1: LOCK.ACQUIRE r owner ttl WAIT t FENCE, answered by the release
//                  itself, in arrival order;
//                - N > 1: an attempt as above; refused cleanly by another holder: LOCK.WAIT r
//                  on the first refusing instance, bounded by the holder's TTL, with HANDOFF
//                  `--handoff-ms` (one waiter woken per release; 0: the plain form, which wakes
//                  every waiter), then a new attempt; a split vote (some grants, no majority):
//                  release everywhere and sleep a random `--retry-delay-ms` +- `--retry-jitter-ms`,
//                  as the library does.
//                A hand-off is the time from the moment the holder starts its release to the
//                moment a contender that was already waiting holds the lock (its grant, or its
//                fenced token for N > 1, received). The first `contenders` acquisitions are not
//                counted (the queue is filling). Reports hand-off p50/p99/max, the longest
//                wait (from calling acquire to holding), and checks that no two contenders ever
//                held the lock at once and that fencing tokens only grow.
//   fifo         N = 1: checks that waiters are served in the order they joined the queue. A
//                holder takes the lock; `--contenders` waiters send LOCK.ACQUIRE ... WAIT one at a
//                time, in a shuffled order, each only after LOCK.INFO shows the previous one
//                queued (so the arrival order is known, not assumed); each waiter releases as soon
//                as it is granted. `--fifo-rounds` rounds; reports how many rounds were served in
//                arrival order.
#include <algorithm>
#include <asio/async_result.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "keyward/client/async_client.h"
#include "keyward/client/config.h"
#include "load_flags.h"

namespace {

using keyward::client::AsyncClient;
using keyward::client::Reply;
using keyward::client::Request;
using Clock = std::chrono::steady_clock;
using Replies = std::vector<Reply>;
// Whether the replies in so far (a null reply: not in yet) settle a round.
using Decided = std::function<bool(const Replies&)>;

constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);

struct Args {
  std::string urls;
  std::string mode = "uncontended";
  std::string resource;
  long iterations = 10000;
  int ttl_ms = 10000;
  int contenders = 8;
  long handoffs = 1000;
  int hold_us = 1000;
  int retry_delay_ms = 200;
  int retry_jitter_ms = 100;
  int handoff_ms = 100;  // LOCK.WAIT's HANDOFF window (the library's: 2 x its instance timeout)
  int fifo_rounds = 20;
};

constexpr const char* kUsage =
    "usage: keyward_lock_load --urls URL[,URL...] [--mode uncontended|handoff|fifo]\n"
    "  [--resource NAME] [-n ITERATIONS] [--ttl-ms MS] [--contenders C] [--handoffs H]\n"
    "  [--hold-us US] [--retry-delay-ms MS] [--retry-jitter-ms MS] [--handoff-ms MS]\n"
    "  [--fifo-rounds R]\n";

std::vector<std::string> SplitUrls(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = list.find(',', start);
    const size_t end = comma == std::string::npos ? list.size() : comma;
    if (end > start) out.push_back(list.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

double Micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

double Percentile(std::vector<double> samples, double p) {
  if (samples.empty()) return 0;
  const size_t k = static_cast<size_t>(p / 100.0 * static_cast<double>(samples.size() - 1));
  std::nth_element(samples.begin(), samples.begin() + static_cast<long>(k), samples.end());
  return samples[k];
}

// Owner tokens: 20 random bytes in hex, as the library draws them (from a PRNG here: what is
// measured is the server and the protocol, not the entropy source).
class Owners {
 public:
  explicit Owners(uint64_t seed) : random_(seed) {}
  std::string Next() {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(40, '0');
    for (size_t i = 0; i < out.size(); i += 16) {
      uint64_t bits = random_();
      for (size_t j = i; j < std::min(out.size(), i + 16); ++j, bits >>= 4)
        out[j] = kHex[bits & 15];
    }
    return out;
  }

 private:
  std::mt19937_64 random_;
};

// ---------------------------------------------------------------------------------------------
// Sending to N instances at once.

// The state of one All(): the caller's handler and the replies gathered so far. It lives on the
// heap until the last instance has answered (also after a decided round has resumed the caller);
// each per-instance handler holds only a raw pointer to it (g++ 12 can destroy owning captures of
// lambdas handed to asio twice).
template <typename Handler>
struct Gathering {
  Handler handler;
  Replies replies;
  std::error_code error;
  size_t pending;
  const Decided* decided;
  bool completed = false;
};

// Sends requests[i] to *clients[i], all before waiting for any, and completes with the first
// reply of each once every instance has answered (or with the first transport error), or as soon
// as `decided` (if any) says the replies in so far settle the round: as the library does, the
// caller goes on and the others answer in the background (their replies are dropped; a reply not
// in yet is a null reply). The per-instance completions run inline on the client's thread and
// the one that completes resumes the caller directly, so a round costs what the client's own Exec
// costs: the PING round and the lock rounds pay the same overhead.
template <typename Token>
auto All(const std::vector<AsyncClient*>& clients, std::vector<Request> requests,
         const Decided* decided, Token&& token) {
  return asio::async_initiate<Token, void(std::error_code, Replies)>(
      [](auto handler, const std::vector<AsyncClient*>* clients, std::vector<Request> requests,
         const Decided* decided) {
        using State = Gathering<decltype(handler)>;
        auto* state =
            new State{std::move(handler), Replies(clients->size()), {}, clients->size(), decided};
        for (size_t i = 0; i < clients->size(); ++i) {
          (*clients)[i]->AsyncExec(std::move(requests[i]), [state, i](std::error_code error,
                                                                      Replies replies) {
            const bool last = --state->pending == 0;
            if (!state->completed) {
              if (error && !state->error) state->error = error;
              // A pipeline's answer is its last reply.
              if (!replies.empty()) state->replies[i] = std::move(replies.back());
              if (last || (!state->error && state->decided && (*state->decided)(state->replies))) {
                state->completed = true;
                auto done = std::move(state->handler);
                const std::error_code first_error = state->error;
                Replies all = std::move(state->replies);
                if (last) delete state;
                std::move(done)(first_error, std::move(all));
                return;
              }
            }
            if (last) delete state;
          });
        }
      },
      token, &clients, std::move(requests), decided);
}

// Each instance's request (a pipeline answers with its last reply); a connection error or an
// error reply ends the run.
asio::awaitable<Replies> AllOrThrow(const std::vector<AsyncClient*>& clients,
                                    std::vector<Request> requests, std::string_view name,
                                    const Decided* decided = nullptr) {
  auto [error, replies] = co_await All(clients, std::move(requests), decided, kNoThrow);
  if (error) throw std::system_error(error, std::string(name));
  for (const Reply& reply : replies) {
    if (reply.is_error()) {
      auto text = reply.as_error();
      throw std::runtime_error(std::string(name) + ": " + std::string(text ? *text : "?"));
    }
  }
  co_return replies;
}

// The same command (the same arguments) to every instance.
template <typename... Args>
asio::awaitable<Replies> AllSame(const std::vector<AsyncClient*>& clients, std::string_view name,
                                 const Args&... args) {
  std::vector<Request> requests(clients.size());
  for (Request& r : requests) r.Push(name, args...);
  co_return co_await AllOrThrow(clients, std::move(requests), name);
}

asio::awaitable<void> Sleep(Clock::duration d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(kNoThrow);
}

int64_t Integer(const Reply& reply) {
  auto v = reply.as_integer();
  if (!v) throw std::runtime_error("expected an integer reply");
  return *v;
}

// LOCK.ACQUIRE's [granted, token, pttl] (granted 1: created, 2: re-entered), and with PROPOSE
// a fourth element: counted.
struct AcquireReply {
  bool granted;
  int64_t token;
  int64_t pttl;
  bool counted = false;
};

AcquireReply ParseAcquire(const Reply& reply) {
  auto array = reply.as_array();
  if (!array || (array->size() != 3 && array->size() != 4)) {
    throw std::runtime_error("LOCK.ACQUIRE: unexpected reply");
  }
  return {Integer((*array)[0]) >= 1, Integer((*array)[1]), Integer((*array)[2]),
          array->size() == 4 && Integer((*array)[3]) == 1};
}

// ---------------------------------------------------------------------------------------------
// The protocol.

// The connections of one lock user: one per instance.
struct Connections {
  std::vector<std::unique_ptr<AsyncClient>> owned;
  std::vector<AsyncClient*> clients;
  // The highest counter seen (the library's per-resource memory; the bench uses one resource):
  // the next acquisition proposes it + 1 and commits it in one round trip when that holds.
  std::optional<int64_t> known_counter;

  Connections(asio::any_io_executor ex,
              const std::vector<keyward::client::ClientOptions>& options) {
    for (const auto& o : options) {
      owned.push_back(std::make_unique<AsyncClient>(ex, o));
      clients.push_back(owned.back().get());
    }
  }
  size_t size() const { return clients.size(); }
  asio::awaitable<void> Connect() {
    for (AsyncClient* c : clients) {
      if (auto error = co_await c->Connect()) throw std::system_error(error, "connect");
    }
  }
  void Close() {
    for (AsyncClient* c : clients) c->Close();
  }
};

size_t Majority(size_t n) { return n / 2 + 1; }

// Redlock's validity: ttl - elapsed - (ttl * 0.01 + 2 ms), from the first request sent.
bool StillValid(Clock::time_point started, int ttl_ms) {
  const auto drift = std::chrono::microseconds(ttl_ms * 10 + 2000);
  return Clock::now() < started + std::chrono::milliseconds(ttl_ms) - drift;
}

// What one acquisition attempt over N > 1 instances ended with.
struct Attempt {
  enum class Kind { kHeld, kHeldElsewhere, kSplit } kind;
  int64_t token = 0;
  size_t wait_instance = 0;  // kHeldElsewhere: the first instance that refused
  int64_t holder_pttl = -1;  // its holder's remaining TTL there
};

// One attempt of the two-phase protocol, in one round trip when the proposal (the counter seen
// last + 1) is counted by a majority, as the library does; on failure the partial grants are
// released everywhere.
// `woken_on`: the instance whose LOCK.WAIT said the lock is free. As the library does, the
// acquisitions on the other instances wait first (LOCK.WAIT, at most kSettleMs, in the same round
// trip) for the holder's release, which may still be on its way to them.
constexpr int kSettleMs = 10;  // the library's: a fifth of its default instance timeout

asio::awaitable<Attempt> TryTwoPhase(Connections& c, const std::string& resource,
                                     const std::string& owner, int ttl_ms,
                                     std::optional<size_t> woken_on = std::nullopt) {
  const Clock::time_point started = Clock::now();
  const std::optional<int64_t> proposal =
      c.known_counter ? std::optional<int64_t>(*c.known_counter + 1) : std::nullopt;
  std::vector<Request> requests(c.size());
  for (size_t i = 0; i < c.size(); ++i) {
    if (woken_on && i != *woken_on) requests[i].Push("LOCK.WAIT", resource, kSettleMs);
    if (proposal) {
      requests[i].Push("LOCK.ACQUIRE", resource, owner, ttl_ms, "PROPOSE", *proposal);
    } else {
      requests[i].Push("LOCK.ACQUIRE", resource, owner, ttl_ms);
    }
  }
  const Replies replies = co_await AllOrThrow(c.clients, std::move(requests), "LOCK.ACQUIRE");
  size_t granted = 0;
  size_t counted_now = 0;
  int64_t max_counter = 0;
  std::optional<size_t> refusing;
  int64_t refusing_pttl = -1;
  for (size_t i = 0; i < replies.size(); ++i) {
    const AcquireReply a = ParseAcquire(replies[i]);
    max_counter = std::max(max_counter, a.token);  // refusals count towards the maximum too
    if (a.granted) {
      ++granted;
      counted_now += a.counted ? 1 : 0;
    } else if (!refusing) {
      refusing = i;
      refusing_pttl = a.pttl;
    }
  }
  c.known_counter = std::max(c.known_counter.value_or(0), max_counter);
  if (proposal && counted_now >= Majority(c.size()) && StillValid(started, ttl_ms)) {
    co_return Attempt{Attempt::Kind::kHeld, *proposal};
  }
  if (granted >= Majority(c.size()) && StillValid(started, ttl_ms)) {
    const int64_t token = max_counter + 1;
    c.known_counter = token;
    Replies fences = co_await AllSame(c.clients, "LOCK.FENCE", resource, owner, token);
    size_t counted = 0;
    for (const Reply& r : fences) counted += Integer(r) == 1 ? 1 : 0;
    if (counted >= Majority(c.size()) && StillValid(started, ttl_ms)) {
      co_return Attempt{Attempt::Kind::kHeld, token};
    }
  }
  // Not held: release everywhere, also where nothing was granted (compare-and-delete is harmless).
  if (granted > 0) co_await AllSame(c.clients, "LOCK.RELEASE", resource, owner);
  if (granted == 0 && refusing) {
    co_return Attempt{Attempt::Kind::kHeldElsewhere, 0, *refusing, refusing_pttl};
  }
  co_return Attempt{Attempt::Kind::kSplit};
}

size_t Released(const Replies& replies) {
  size_t released = 0;
  for (const Reply& r : replies) {
    auto v = r.as_integer();
    released += v && *v == 1 ? 1 : 0;
  }
  return released;
}

// LOCK.RELEASE everywhere, decided, as the library's release is, once a majority released it:
// the other instances answer in the background.
asio::awaitable<void> Release(Connections& c, const std::string& resource,
                              const std::string& owner) {
  const size_t majority = Majority(c.size());
  const Decided decided = [majority](const Replies& in) { return Released(in) >= majority; };
  std::vector<Request> requests(c.size());
  for (Request& r : requests) r.Push("LOCK.RELEASE", resource, owner);
  Replies replies = co_await AllOrThrow(c.clients, std::move(requests), "LOCK.RELEASE", &decided);
  if (Released(replies) < majority) throw std::runtime_error("LOCK.RELEASE: lock not held");
}

// ---------------------------------------------------------------------------------------------
// uncontended

asio::awaitable<void> RunUncontended(const Args& args, Connections& c, bool& ok) {
  co_await c.Connect();
  const std::string resource = args.resource.empty() ? "bench:lock:uncontended" : args.resource;
  Owners owners(std::random_device{}());
  // Warm-up: connections, the server's first look-ups, the client's buffers; not measured.
  const long warmup = std::max(100L, args.iterations / 100);
  std::vector<double> ping, acquire, acquire_release;
  ping.reserve(static_cast<size_t>(args.iterations));
  acquire.reserve(static_cast<size_t>(args.iterations));
  acquire_release.reserve(static_cast<size_t>(args.iterations));
  double lock_seconds = 0;
  int64_t last_token = 0;
  bool tokens_increasing = true;
  for (long i = 0; i < warmup + args.iterations; ++i) {
    const Clock::time_point t0 = Clock::now();
    co_await AllSame(c.clients, "PING");
    const Clock::time_point t1 = Clock::now();

    const std::string owner = owners.Next();
    const Clock::time_point t2 = Clock::now();
    int64_t token = 0;
    if (c.size() == 1) {
      Replies r =
          co_await AllSame(c.clients, "LOCK.ACQUIRE", resource, owner, args.ttl_ms, "FENCE");
      const AcquireReply a = ParseAcquire(r[0]);
      if (!a.granted) throw std::runtime_error("uncontended LOCK.ACQUIRE refused");
      token = a.token;
    } else {
      const Attempt a = co_await TryTwoPhase(c, resource, owner, args.ttl_ms);
      if (a.kind != Attempt::Kind::kHeld) throw std::runtime_error("uncontended attempt failed");
      token = a.token;
    }
    const Clock::time_point t3 = Clock::now();
    co_await Release(c, resource, owner);
    const Clock::time_point t4 = Clock::now();

    if (token <= last_token) tokens_increasing = false;
    last_token = token;
    if (i < warmup) continue;
    ping.push_back(Micros(t1 - t0));
    acquire.push_back(Micros(t3 - t2));
    acquire_release.push_back(Micros(t4 - t2));
    lock_seconds += std::chrono::duration<double>(t4 - t2).count();
  }
  std::printf(
      "{\"mode\":\"uncontended\",\"instances\":%zu,\"iterations\":%ld,"
      "\"ping_p50_us\":%.2f,\"ping_p99_us\":%.2f,\"acquire_p50_us\":%.2f,"
      "\"acquire_p99_us\":%.2f,\"acquire_release_p50_us\":%.2f,\"acquire_release_p99_us\":%.2f,"
      "\"acquire_release_per_s\":%.1f,\"tokens_increasing\":%s}\n",
      c.size(), args.iterations, Percentile(ping, 50), Percentile(ping, 99),
      Percentile(acquire, 50), Percentile(acquire, 99), Percentile(acquire_release, 50),
      Percentile(acquire_release, 99), static_cast<double>(args.iterations) / lock_seconds,
      tokens_increasing ? "true" : "false");
  ok = true;
}

// ---------------------------------------------------------------------------------------------
// handoff

struct Handoff {
  explicit Handoff(asio::any_io_executor ex) : taken(ex, Clock::time_point::max()) {}

  long target = 0;
  bool done = false;
  int holder = -1;
  long generation = 0;  // acquisitions so far
  std::optional<Clock::time_point> release_started;
  // Cancelled at every acquisition: wakes the contender that released last (it queues again only
  // once someone else holds the lock). Its expiry stays at max.
  asio::steady_timer taken;
  std::vector<double> handoff_us;
  std::vector<double> wait_us;
  long overlaps = 0;     // a contender granted while another held the lock: must stay 0
  long not_waiting = 0;  // acquisitions by a contender that arrived after the release began
  int64_t last_token = 0;
  bool tokens_increasing = true;
  long server_waits = 0;      // N > 1: LOCK.WAIT calls
  long split_votes = 0;       // N > 1: attempts with grants but no majority
  long acquire_timeouts = 0;  // N = 1: LOCK.ACQUIRE ... WAIT that timed out (retried)
  int finished = 0;
};

// Blocks until `owner` holds the lock; returns its fencing token.
asio::awaitable<int64_t> AcquireBlocking(const Args& args, Connections& c,
                                         const std::string& resource, const std::string& owner,
                                         Handoff& h, std::mt19937_64& random) {
  if (c.size() == 1) {
    for (;;) {
      Replies r = co_await AllSame(c.clients, "LOCK.ACQUIRE", resource, owner, args.ttl_ms, "WAIT",
                                   60000, "FENCE");
      const AcquireReply a = ParseAcquire(r[0]);
      if (a.granted) co_return a.token;
      ++h.acquire_timeouts;
    }
  }
  std::uniform_int_distribution<int> jitter(-args.retry_jitter_ms, args.retry_jitter_ms);
  std::optional<size_t> woken_on;
  for (;;) {
    const Attempt a = co_await TryTwoPhase(c, resource, owner, args.ttl_ms, woken_on);
    woken_on.reset();
    if (a.kind == Attempt::Kind::kHeld) co_return a.token;
    if (a.kind == Attempt::Kind::kHeldElsewhere && a.holder_pttl >= 0) {
      // Woken by the release (or the holder's expiry, one millisecond past its TTL).
      ++h.server_waits;
      std::vector<AsyncClient*> one{c.clients[a.wait_instance]};
      if (args.handoff_ms > 0) {
        const Replies woke = co_await AllSame(one, "LOCK.WAIT", resource, a.holder_pttl + 1,
                                              "HANDOFF", args.handoff_ms);
        if (Integer(woke[0]) == 1) woken_on = a.wait_instance;
      } else {
        co_await AllSame(one, "LOCK.WAIT", resource, a.holder_pttl + 1);
      }
      continue;
    }
    ++h.split_votes;
    const int delay = std::max(0, args.retry_delay_ms + jitter(random));
    co_await Sleep(std::chrono::milliseconds(delay));
  }
}

asio::awaitable<void> Contender(const Args& args, Connections& c, int id, Handoff& h) {
  const std::string resource = args.resource.empty() ? "bench:lock:handoff" : args.resource;
  Owners owners(std::random_device{}() + static_cast<uint64_t>(id));
  std::mt19937_64 random(std::random_device{}() ^ static_cast<uint64_t>(id));
  try {
    co_await c.Connect();
    while (!h.done) {
      const std::string owner = owners.Next();
      const Clock::time_point called = Clock::now();
      const int64_t token = co_await AcquireBlocking(args, c, resource, owner, h, random);
      const Clock::time_point held = Clock::now();
      if (h.holder != -1) ++h.overlaps;
      h.holder = id;
      ++h.generation;
      h.taken.cancel();
      if (token <= h.last_token) h.tokens_increasing = false;
      h.last_token = token;
      if (!h.done && h.generation > args.contenders) {
        h.wait_us.push_back(Micros(held - called));
        if (h.release_started && called < *h.release_started) {
          h.handoff_us.push_back(Micros(held - *h.release_started));
          if (static_cast<long>(h.handoff_us.size()) >= h.target) h.done = true;
        } else if (h.release_started) {
          ++h.not_waiting;
        }
      }
      if (!h.done) co_await Sleep(std::chrono::microseconds(args.hold_us));
      h.holder = -1;
      h.release_started = Clock::now();
      // Read before the release: the next holder's grant may be processed before its reply.
      const long generation = h.generation;
      co_await Release(c, resource, owner);
      // Queue again only once another contender holds the lock (or the run is over).
      while (!h.done && h.generation == generation) co_await h.taken.async_wait(kNoThrow);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "contender %d: %s\n", id, e.what());
    std::exit(1);
  }
  ++h.finished;
  h.taken.cancel();  // the others may be waiting for an acquisition that will not come
}

// ---------------------------------------------------------------------------------------------
// fifo

struct Fifo {
  explicit Fifo(asio::any_io_executor ex) : granted(ex, Clock::time_point::max()) {}
  std::vector<int> grant_order;
  size_t released = 0;         // waiters of this round done (granted, then released)
  asio::steady_timer granted;  // cancelled at every release
};

asio::awaitable<void> FifoWaiter(const Args& args, Connections& c, int id, std::string resource,
                                 std::string owner, Fifo& f) {
  try {
    Replies r = co_await AllSame(c.clients, "LOCK.ACQUIRE", resource, owner, args.ttl_ms, "WAIT",
                                 60000, "FENCE");
    if (!ParseAcquire(r[0]).granted) throw std::runtime_error("LOCK.ACQUIRE WAIT timed out");
    f.grant_order.push_back(id);
    co_await Release(c, resource, owner);
    ++f.released;
    f.granted.cancel();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "waiter %d: %s\n", id, e.what());
    std::exit(1);
  }
}

asio::awaitable<int64_t> QueuedWaiters(Connections& control, const std::string& resource) {
  Replies r = co_await AllSame(control.clients, "LOCK.INFO", resource);
  auto map = r[0].as_map();
  if (!map) throw std::runtime_error("LOCK.INFO: unexpected reply");
  const Reply* waiters = map->Find("waiters");
  if (waiters == nullptr) throw std::runtime_error("LOCK.INFO: no waiters field");
  co_return Integer(*waiters);
}

asio::awaitable<void> RunFifo(const Args& args, Connections& control, Connections& holder,
                              std::vector<std::unique_ptr<Connections>>& waiters, bool& ok) {
  co_await control.Connect();
  co_await holder.Connect();
  for (auto& w : waiters) co_await w->Connect();
  const std::string resource = args.resource.empty() ? "bench:lock:fifo" : args.resource;
  auto ex = co_await asio::this_coro::executor;
  Owners owners(std::random_device{}());
  std::mt19937_64 random(std::random_device{}());
  Fifo f(ex);
  long in_order = 0;
  long grants = 0;
  long grants_in_place = 0;
  for (int round = 0; round < args.fifo_rounds; ++round) {
    const std::string holder_owner = owners.Next();
    Replies r = co_await AllSame(holder.clients, "LOCK.ACQUIRE", resource, holder_owner,
                                 args.ttl_ms, "FENCE");
    if (!ParseAcquire(r[0]).granted) throw std::runtime_error("fifo: holder refused");
    std::vector<int> arrival(waiters.size());
    std::iota(arrival.begin(), arrival.end(), 0);
    std::shuffle(arrival.begin(), arrival.end(), random);
    f.grant_order.clear();
    f.released = 0;
    for (size_t k = 0; k < arrival.size(); ++k) {
      const int id = arrival[k];
      asio::co_spawn(
          ex, FifoWaiter(args, *waiters[static_cast<size_t>(id)], id, resource, owners.Next(), f),
          asio::detached);
      // The next waiter leaves only once this one is in the server's queue: a condition on the
      // server's state, polled with LOCK.INFO round trips.
      while (co_await QueuedWaiters(control, resource) < static_cast<int64_t>(k + 1)) {
      }
    }
    co_await Release(holder, resource, holder_owner);
    while (f.released < arrival.size()) co_await f.granted.async_wait(kNoThrow);
    grants += static_cast<long>(arrival.size());
    for (size_t k = 0; k < arrival.size(); ++k) grants_in_place += f.grant_order[k] == arrival[k];
    if (f.grant_order == arrival) ++in_order;
  }
  std::printf(
      "{\"mode\":\"fifo\",\"waiters\":%zu,\"rounds\":%d,\"rounds_in_order\":%ld,\"grants\":%ld,"
      "\"grants_in_place\":%ld,\"fifo\":%s}\n",
      waiters.size(), args.fifo_rounds, in_order, grants, grants_in_place,
      in_order == args.fifo_rounds ? "true" : "false");
  ok = true;
}

// ---------------------------------------------------------------------------------------------

Args Parse(int argc, char** argv) {
  Args args;
  keyward::bench::ParseFlags(argc, argv,
                             {{"--urls", &args.urls},
                              {"--mode", &args.mode},
                              {"--resource", &args.resource},
                              {"-n", &args.iterations},
                              {"--ttl-ms", &args.ttl_ms},
                              {"--contenders", &args.contenders},
                              {"--handoffs", &args.handoffs},
                              {"--hold-us", &args.hold_us},
                              {"--retry-delay-ms", &args.retry_delay_ms},
                              {"--retry-jitter-ms", &args.retry_jitter_ms},
                              {"--handoff-ms", &args.handoff_ms},
                              {"--fifo-rounds", &args.fifo_rounds}},
                             kUsage);
  if (args.mode != "uncontended" && args.mode != "handoff" && args.mode != "fifo") {
    keyward::bench::Usage(kUsage);
  }
  if (args.iterations < 1 || args.contenders < 2 || args.handoffs < 1 || args.ttl_ms < 100 ||
      args.fifo_rounds < 1 || args.hold_us < 0) {
    keyward::bench::Usage(kUsage);
  }
  return args;
}

// Runs the loop until `finished()`: the clients' own loops keep the context busy, so run() would
// not return by itself.
template <typename Finished>
void RunUntil(asio::io_context& io, Finished finished) {
  while (!finished()) io.run_one();
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = Parse(argc, argv);
  std::vector<keyward::client::ClientOptions> options;
  for (const std::string& url : SplitUrls(args.urls)) {
    auto o = keyward::client::OptionsFromUrl(url);
    if (!o) {
      std::fprintf(stderr, "bad url: %s\n", url.c_str());
      return 2;
    }
    options.push_back(*o);
  }
  if (options.empty()) keyward::bench::Usage(kUsage);
  if (args.mode == "fifo" && options.size() != 1) {
    std::fprintf(stderr, "--mode fifo takes one instance\n");
    return 2;
  }

  asio::io_context io(1);
  auto ex = io.get_executor();
  bool ok = false;
  bool failed = false;
  const auto fail = [&failed](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& error) {
      std::fprintf(stderr, "keyward_lock_load: %s\n", error.what());
    }
    failed = true;
  };
  std::vector<std::unique_ptr<Connections>> all;
  if (args.mode == "uncontended") {
    all.push_back(std::make_unique<Connections>(ex, options));
    asio::co_spawn(io, RunUncontended(args, *all[0], ok), fail);
    RunUntil(io, [&] { return ok || failed; });
  } else if (args.mode == "handoff") {
    Handoff h(ex);
    h.target = args.handoffs;
    for (int i = 0; i < args.contenders; ++i) {
      all.push_back(std::make_unique<Connections>(ex, options));
      asio::co_spawn(io, Contender(args, *all.back(), i, h), asio::detached);
    }
    RunUntil(io, [&] { return h.finished == args.contenders; });
    std::printf(
        "{\"mode\":\"handoff\",\"instances\":%zu,\"contenders\":%d,\"handoffs\":%zu,"
        "\"hold_us\":%d,\"handoff_p50_us\":%.2f,\"handoff_p99_us\":%.2f,"
        "\"handoff_max_us\":%.2f,\"wait_p50_us\":%.2f,\"wait_max_us\":%.2f,\"overlaps\":%ld,"
        "\"not_waiting\":%ld,\"tokens_increasing\":%s,\"server_waits\":%ld,\"split_votes\":%ld,"
        "\"acquire_timeouts\":%ld}\n",
        options.size(), args.contenders, h.handoff_us.size(), args.hold_us,
        Percentile(h.handoff_us, 50), Percentile(h.handoff_us, 99), Percentile(h.handoff_us, 100),
        Percentile(h.wait_us, 50), Percentile(h.wait_us, 100), h.overlaps, h.not_waiting,
        h.tokens_increasing ? "true" : "false", h.server_waits, h.split_votes, h.acquire_timeouts);
    ok = h.overlaps == 0 && h.tokens_increasing;
  } else {
    auto control = std::make_unique<Connections>(ex, options);
    auto holder = std::make_unique<Connections>(ex, options);
    std::vector<std::unique_ptr<Connections>> waiters;
    for (int i = 0; i < args.contenders; ++i) {
      waiters.push_back(std::make_unique<Connections>(ex, options));
    }
    asio::co_spawn(io, RunFifo(args, *control, *holder, waiters, ok), fail);
    RunUntil(io, [&] { return ok || failed; });
    all.push_back(std::move(control));
    all.push_back(std::move(holder));
    for (auto& w : waiters) all.push_back(std::move(w));
  }
  for (auto& c : all) c->Close();
  io.poll();
  std::fflush(stdout);
  return ok && !failed ? 0 : 1;
}
