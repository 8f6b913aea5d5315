// The reconnect and health-check state machines. Sans-I/O: the async client's run loop asks them
// how long to wait before the next connection attempt and whether an idle connection is still
// alive; they never touch a socket or a clock (tests/unit/client_reconnect_test.cc).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>

namespace keyward::client {

struct ReconnectPolicy {
  // Off: after a connection is lost, or a connection attempt fails, the client stays
  // disconnected and every command fails with kNotConnected.
  bool enabled = true;
  // Delay before the first retry; each further failed attempt multiplies it, up to max_delay.
  std::chrono::milliseconds initial_delay{50};
  std::chrono::milliseconds max_delay{2000};
  double multiplier = 2.0;
  // Each delay is drawn uniformly from [d * (1 - jitter), d], so clients that lost the same
  // server do not all come back in the same millisecond. 0 disables it; 1 is "full jitter".
  double jitter = 0.5;
  // Consecutive failed attempts before the client gives up (commands then fail with the last
  // connection error). 0: never give up.
  int max_attempts = 0;
};

// Exponential backoff with jitter between connection attempts.
class Backoff {
 public:
  explicit Backoff(ReconnectPolicy policy, uint64_t seed = std::random_device{}())
      : policy_(policy), random_(seed) {}

  // Called after a failed attempt or a lost connection: the delay before the next attempt, or
  // std::nullopt when the policy says to give up.
  std::optional<std::chrono::milliseconds> NextDelay();
  // Called when a connection is established (and its handshake done): the next failure starts
  // again from initial_delay.
  void Reset() { attempts_ = 0; }
  // Consecutive failures since the last Reset().
  int attempts() const { return attempts_; }

 private:
  ReconnectPolicy policy_;
  std::mt19937_64 random_;
  int attempts_ = 0;
};

// Detects a connection whose server stopped answering (paused, partitioned, a half-open TCP
// connection) when the kernel would not notice for minutes. The run loop calls OnTick() every
// interval and OnData() whenever bytes arrive:
// - data arrived during the last interval: the connection is alive, nothing to do;
// - an idle interval: send a PING (kPing);
// - an idle interval after that PING: nothing came back, the connection is dead (kDead).
// A dead connection is therefore detected between one and two intervals after it went silent.
// Busy connections cost nothing: a PING is only sent when nothing else arrived.
//
// A blocking command (BLPOP k 0) keeps a healthy connection silent and the PING queued behind it;
// run those on a connection with the health check off, or with a timeout shorter than the
// interval.
class HealthCheck {
 public:
  enum class Action { kNothing, kPing, kDead };

  explicit HealthCheck(std::chrono::milliseconds interval) : interval_(interval) {}

  std::chrono::milliseconds interval() const { return interval_; }
  bool enabled() const { return interval_.count() > 0; }

  Action OnTick();
  void OnData() { data_ = true; }
  // A new connection: forget the previous one's state.
  void Reset() {
    data_ = false;
    pinged_ = false;
  }

 private:
  std::chrono::milliseconds interval_;
  bool data_ = false;    // bytes arrived since the last tick
  bool pinged_ = false;  // the last tick sent a PING
};

}  // namespace keyward::client
