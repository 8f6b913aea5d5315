// Runs the command that `keyward lock` and `keyward elect` guard, and stops it when the lease is
// lost: SIGTERM first, SIGKILL after a grace period (as `consul lock` does).
//
// Waiting uses no polling: the child's pidfd, an eventfd the lease-loss callback writes to (from
// any thread), and a signalfd for the signals the CLI forwards to the child (SIGINT, SIGTERM,
// SIGHUP, SIGQUIT) are watched with one poll().
#pragma once

#include <sys/types.h>

#include <chrono>
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

  // Starts `argv` with `env` added to the environment. kExitNotFound / kExitCannotExecute are
  // reported through `exit_code` when exec fails.
  std::error_code Start(const std::vector<std::string>& argv,
                        const std::vector<std::pair<std::string, std::string>>& env);

  // Callable from any thread (the lease-loss callback): Wait() then stops the child.
  void RequestStop();

  // Waits until the child exits, forwarding signals to it. After RequestStop(), sends SIGTERM,
  // then SIGKILL when `grace` passed. Returns the shell-style exit code (128 + signal number
  // when the child was killed). `stopped` says whether RequestStop() caused the end.
  int Wait(std::chrono::milliseconds grace, bool* stopped);

  pid_t pid() const { return pid_; }
  Child();
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

 private:
  pid_t pid_ = -1;
  int pidfd_ = -1;
  int stopfd_ = -1;  // eventfd
  int signalfd_ = -1;
};

}  // namespace keyward::cli
