// The values the lock API takes and returns: options, a held Lock, and what the library knows about
// each instance.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "keyward/client/config.h"
#include "keyward/redlock/errors.h"
#include "keyward/redlock/quorum.h"

namespace keyward::redlock {

// What an instance speaks, found out on first contact (COMMAND INFO lock.acquire).
enum class Backend {
  kUnknown,  // not reached yet
  kKeyward,  // LOCK.* commands: fencing tokens, server-side waiting
  kRedis,    // plain Redis: Lua scripts on the same key, no fencing tokens, polling
};

struct InstanceStatus {
  std::string url;
  Backend backend = Backend::kUnknown;
  bool connected = false;
};

// Settings shared by every operation of one Redlock.
struct RedlockOptions {
  // Each request to one instance is abandoned after this long, so that a dead or paused instance
  // costs a round at most this much. Keep it small relative to the TTLs (Redlock: a few ms to
  // tens of ms on a LAN); the time a round takes is subtracted from the lock's validity.
  Millis instance_timeout{50};
  // Connecting, the handshake, and finding out the instance's backend (first contact only).
  Millis connect_timeout{1000};
  // Applied to each instance's client options after they were read from its URL (TLS files, a
  // client name, reconnection policy ...).
  std::function<void(client::ClientOptions&)> configure;
  // Seed of the retry jitter; 0 draws one from std::random_device.
  uint64_t seed = 0;
};

// Wait for the lock with no deadline (AcquireOptions::wait).
inline constexpr Millis kWaitForever = Millis::max();

struct AcquireOptions {
  // The lease: the lock expires on each instance this long after it was granted there.
  Millis ttl{10000};
  // Without `wait`: attempts after the first one, each after retry_delay +- retry_jitter.
  int retry_count = 3;
  Millis retry_delay{200};
  Millis retry_jitter{100};
  // Block until the lock is granted, up to this long (kWaitForever: no limit). On Keyward the
  // wait is woken by the release itself (one instance: LOCK.ACQUIRE ... WAIT, queued in arrival
  // order; several: LOCK.WAIT between attempts); on Redis it polls every retry_delay +-
  // retry_jitter. retry_count does not apply.
  std::optional<Millis> wait;
  // Fail with kFencingUnavailable rather than return a lock without a fencing token (when an
  // instance is plain Redis).
  bool require_fencing = false;
  // The owner token stored in the lock key; empty: a fresh NewOwnerToken(). Reusing the owner of
  // a lock you hold re-enters it (same token, TTL restarted).
  std::string owner;
};

// A lock held on a majority of instances.
struct Lock {
  std::string resource;
  std::string owner;
  Millis ttl{0};
  // When the round that granted the lock (or the last extension) started; validity counts from
  // there.
  Clock::time_point acquired_at;
  Clock::time_point valid_until;
  // The fencing token, absent when fencing was unavailable (see fencing_token()).
  std::optional<uint64_t> token;

  // The token, or kFencingUnavailable: some instance is plain Redis, where a counter cannot
  // survive FLUSHALL, eviction or a restart, so no monotonic token can be promised.
  Result<uint64_t> fencing_token() const {
    if (token) return *token;
    return Error(LockError::kFencingUnavailable,
                 "an instance is plain Redis; the lock holds without a fencing token");
  }
  // Time left to act; non-positive means the lock may already be someone else's.
  Clock::duration validity(Clock::time_point now = Clock::now()) const { return valid_until - now; }
  bool valid(Clock::time_point now = Clock::now()) const { return now < valid_until; }
};

}  // namespace keyward::redlock
