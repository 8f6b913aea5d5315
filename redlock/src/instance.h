// One lock instance as the algorithms see it: a connection, the backend it speaks (found out on
// first contact), and each lock step in that backend's terms.
//
// - Keyward: LOCK.ACQUIRE / FENCE / RELEASE / EXTEND / WAIT / INFO / GUARD.
// - Redis: Lua scripts on the same key (EVALSHA, EVAL after NOSCRIPT): a re-entrant acquire that
//   also serves as the renewal (PEXPIRE when ours, SET NX PX when missing), compare-and-delete,
//   compare-and-PEXPIRE. No counters.
//
// Requests go over one shared connection (AsyncClient), in order, so a RELEASE sent after an
// ACQUIRE that timed out still runs after it. Blocking requests (LOCK.ACQUIRE ... WAIT,
// LOCK.WAIT) would hold that connection up, so each takes a connection of its own from a small
// pool; one that ends badly (timeout, cancellation) is closed, which makes the server drop the
// wait, instead of being reused with a reply still owed.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "keyward/client/async_client.h"
#include "keyward/redlock/acquire_round.h"
#include "keyward/redlock/catch_up.h"
#include "keyward/redlock/lock.h"

namespace keyward::redlock::detail {

// What one instance answered to a renewal's extension.
enum class RenewAnswer { kExtended, kNotHeld, kFailed };

// LOCK.INFO's answer.
struct LockInfo {
  std::optional<std::string> owner;
  int64_t pttl = -2;                     // -2: free; -1: held without a TTL
  uint64_t token = 0;                    // the counter F(R)
  std::optional<uint64_t> holder_token;  // the holder's token, where this instance counted it
  uint64_t seen = 0;
  int64_t waiters = 0;
};

// LOCK.INFO's reply (a map, or RESP2's flat array of pairs).
client::Expected<LockInfo> ParseLockInfo(const client::Reply& reply);

class Instance {
 public:
  // `instance_timeout`: the configured per-request limit; only a request given all of it that
  // timed out marks the instance unresponsive (a renewal's request cut short by the validity
  // left says nothing about the instance).
  Instance(asio::any_io_executor executor, std::string url, client::ClientOptions options,
           Millis connect_timeout, Millis instance_timeout);
  ~Instance();

  const std::string& url() const { return url_; }
  Backend backend() const { return backend_; }
  bool connected() const { return client_.connected(); }

  // Finds out the backend if not known yet (COMMAND INFO lock.acquire, within connect_timeout).
  asio::awaitable<Backend> Detect();

  // The acquisition request: LOCK.ACQUIRE resource owner ttl [FENCE], or the acquire script.
  // `holder_token`: on Keyward, LOCK.INFO goes in the same round trip, so that a re-entry
  // reports the token this instance counted for the owner.
  // `propose`: LOCK.ACQUIRE ... PROPOSE (the one-round-trip fencing of AcquireRound) on Keyward.
  // `settle` > 0 (Keyward): LOCK.WAIT resource `settle` first, in the same round trip, so that
  // the acquisition waits (at most `settle`) for a release still on its way to this instance.
  asio::awaitable<AcquireAnswer> Acquire(std::string resource, std::string owner, Millis ttl,
                                         bool fence, Millis timeout, bool holder_token = false,
                                         std::optional<uint64_t> propose = std::nullopt,
                                         Millis settle = Millis(0));
  // LOCK.ACQUIRE ... WAIT `wait` (0: forever) [FENCE] on a connection of its own (Keyward only).
  asio::awaitable<AcquireAnswer> AcquireWaiting(std::string resource, std::string owner, Millis ttl,
                                                bool fence, Millis wait, Millis margin);
  asio::awaitable<FenceAnswer> Fence(std::string resource, std::string owner, uint64_t token,
                                     Millis timeout);
  // LOCK.CATCHUP: where this instance's counters stand (catch_up.h); nullopt when it did not
  // answer usefully (or is Redis). The round trip counts from `sent`: when the round's first
  // request went out.
  asio::awaitable<std::optional<CatchUpReport>> CatchUpState(Clock::time_point sent,
                                                             Millis timeout);
  // LOCK.CATCHUP counter run-id: true when this life of the instance (`run_id`) took it.
  asio::awaitable<bool> CatchUp(uint64_t counter, std::string run_id, Millis timeout);
  // True when the lock was ours here and is now deleted / extended.
  asio::awaitable<client::Expected<bool>> Release(std::string resource, std::string owner,
                                                  Millis timeout);
  asio::awaitable<client::Expected<bool>> Extend(std::string resource, std::string owner,
                                                 Millis ttl, Millis timeout);
  // Renewal of a held lease: an owner-checked extension, which never re-creates the lock (a
  // renewal proves the lease only where the key survived), with, on Keyward, LOCK.FENCE of the
  // lease's token in the same round trip (catching up a counter that missed the FENCE).
  asio::awaitable<RenewAnswer> Renew(std::string resource, std::string owner, Millis ttl,
                                     std::optional<uint64_t> token, Millis timeout);
  // Re-creates the lease's lock on an instance that lost it (re-entrant acquire, then the
  // counter raised to the token). Only after a majority extended it in the same round.
  asio::awaitable<AcquireAnswer> Repair(std::string resource, std::string owner, Millis ttl,
                                        std::optional<uint64_t> token, Millis timeout);
  // LOCK.WAIT resource `wait` (0: forever) HANDOFF on a connection of its own: true when the
  // resource is free, false at the timeout. With HANDOFF the server wakes one such waiter per
  // release and gives it 2 x `margin` (at least 10 ms) to take the lock before it wakes the
  // next; a server without HANDOFF (Keyward before it) gets the plain form, which wakes all.
  asio::awaitable<client::Expected<bool>> WaitFree(std::string resource, Millis wait,
                                                   Millis margin);
  asio::awaitable<client::Expected<LockInfo>> Info(std::string resource, Millis timeout);
  // Any request (election: GET, LOCK.GUARD ...), replies in order.
  asio::awaitable<client::Expected<std::vector<client::Reply>>> Exec(client::Request request,
                                                                     Millis timeout);

  // Closes every connection; pending requests fail with kClosed.
  void Close();

  // An answer that says the instance has no LOCK.* commands: remember it is Redis.
  void NoteUnknownCommand(const client::Reply& reply);

  // Whether a request to this instance timed out within the last kUnresponsiveFor (and nothing
  // answered since): a failing round does not wait for it (AcquireRound::Decided). Past that
  // window it is waited for again, once, so an instance back from a partition is noticed.
  bool Unresponsive(Clock::time_point now) const { return now < unresponsive_until_; }

 private:
  // One request on the shared connection, timing it.
  asio::awaitable<client::Expected<client::Reply>> Call(client::Request request, Millis timeout);
  // EVALSHA of `script` with one key, falling back to EVAL when the server lacks it.
  asio::awaitable<client::Expected<client::Reply>> Script(int script, std::string key,
                                                          std::vector<std::string> args,
                                                          Millis timeout);
  // The native command on Keyward, else `script` (EVALSHA) on Redis; a reply of 1 is true.
  asio::awaitable<client::Expected<bool>> NativeOrScript(client::Request native, int script,
                                                         std::string key,
                                                         std::vector<std::string> script_args,
                                                         Millis timeout);
  // A blocking request on a pooled connection; `limit` 0 means no client-side limit.
  asio::awaitable<client::Expected<client::Reply>> CallBlocking(client::Request request,
                                                                Millis limit);
  asio::any_io_executor executor_;
  std::string url_;
  client::ClientOptions options_;
  Millis connect_timeout_;
  Millis instance_timeout_;
  client::AsyncClient client_;
  Backend backend_ = Backend::kUnknown;
  bool wait_handoff_ = true;  // LOCK.WAIT takes HANDOFF (false once the server refused it)
  std::vector<std::unique_ptr<client::AsyncClient>> idle_;  // blocking connections, free
  std::set<client::AsyncClient*> busy_;                     // blocking connections in use
  bool closed_ = false;
  Clock::time_point unresponsive_until_{};
};

}  // namespace keyward::redlock::detail
