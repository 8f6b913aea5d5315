// Runs the command that `keyward lock` and `keyward elect` guard, and stops it before the lease
// can be anyone else's: SIGTERM first, SIGKILL after a grace period (as `consul lock` does).
//
// - The command runs in a process group of its own, and every signal goes to the whole group: a
//   `sh -c 'a & b'` tree stops as one.
// - A watchdog process holds the read end of a pipe whose write end only this process has: when
//   this process dies, however (SIGKILL included), the watchdog SIGKILLs the group. The command's
//   direct child also has a parent-death signal. The watchdog also holds the lease's end of
//   validity (moved at every renewal) and SIGKILLs the group when it is reached: a `keyward`
//   that is stopped (SIGSTOP) or starved cannot let the command outlive the lease.
// - When the direct child exits, what is left of its group is killed: nothing the command started
//   runs on without the lock.
// - Stopping starts early: if the lease has not been renewed by `grace` before its validity ends,
//   the group gets SIGTERM then, and SIGKILL at the validity's end at the latest. Another client
//   can take the lock only once it expired on a majority of servers, which is at least the drift
//   (1% of the TTL + 2 ms) after the validity's end: by then the group has been sent SIGKILL.
//
// Waiting uses no polling: the child's pidfd, an eventfd the lease-loss callback writes to (from
// any thread), and a signalfd for the signals the CLI forwards to the group (SIGINT, SIGTERM,
// SIGHUP, SIGQUIT; and job control: a terminal stop stops the command, then this process, and
// SIGCONT continues the command only if the lease is still valid, else kills it) are watched with
// one poll(), whose timeout is the next stop deadline.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace keyward::cli {

// Exit codes of `keyward lock` / `keyward elect` when the child's own cannot be used.
inline constexpr int kExitUsage = 64;        // bad arguments (CLI11 also uses it)
inline constexpr int kExitUnavailable = 69;  // no quorum of servers reachable
inline constexpr int kExitNotAcquired = 75;  // held by another owner, or the wait ended
inline constexpr int kExitLeaseLost = 76;    // the lease was lost: the child was stopped
inline constexpr int kExitCannotExecute = 126;
inline constexpr int kExitNotFound = 127;

class Child {
 public:
  // Blocks the forwarded signals in this (single-threaded so far) process, so that threads
  // started later (the lease's renewer) inherit the mask and the signals reach the signalfd.
  // Call before starting any thread.
  static std::error_code PrepareSignals();

  // The lease's current end of validity (read at each deadline; renewals move it).
  using ValidUntil = std::function<std::chrono::steady_clock::time_point()>;

  // Starts `argv` with `env` added to the environment, in a process group of its own, with the
  // watchdog. kExitNotFound / kExitCannotExecute are reported through Wait() when exec fails.
  // With `valid_until`, the command is started only if the lease is still valid once the watchdog
  // holds its deadline (else it exits at once, unstarted, and Wait() reports the stop).
  std::error_code Start(const std::vector<std::string>& argv,
                        const std::vector<std::pair<std::string, std::string>>& env,
                        const ValidUntil& valid_until = {});

  // Callable from any thread (the lease-loss callback): Wait() then stops the child.
  void RequestStop();

  // Waits until the child exits, forwarding signals to its group. After RequestStop(), or once
  // `valid_until() - grace` passed without a renewal, sends SIGTERM, then SIGKILL when `grace`
  // passed or the validity ended, whichever comes first. Returns the shell-style exit code (128 +
  // signal number when the child was killed). `stopped` says whether the stop caused the end.
  int Wait(std::chrono::milliseconds grace, bool* stopped, const ValidUntil& valid_until = {});

  pid_t pid() const { return pid_; }
  Child();
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

 private:
  // Sends `sig` to the child's group.
  void SignalGroup(int sig) const;
  // False when it could not be started (the command then is not).
  bool StartWatchdog(std::chrono::steady_clock::time_point valid_until);
  // Writes one message to the watchdog: a deadline (CLOCK_MONOTONIC ns) at which it kills the
  // group unless moved, or -1: goodbye.
  void TellWatchdog(int64_t message);
  // Closes the watchdog's pipe (it then kills what is left of the group) and reaps it.
  void StopWatchdog();

  pid_t pid_ = -1;
  pid_t watchdog_ = -1;
  int watchdog_fd_ = -1;  // the pipe's write end: closing it (or dying) fires the watchdog
  int pidfd_ = -1;
  int stopfd_ = -1;  // eventfd
  int signalfd_ = -1;
};

}  // namespace keyward::cli
