#include "child.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

namespace keyward::cli {

namespace {

using SteadyClock = std::chrono::steady_clock;

// Job control: the command is in a group of its own, out of the terminal's reach. A terminal stop
// (Ctrl-Z) stops the command and then this process; SIGCONT continues the command only while
// the lease is still valid.
constexpr int kJobControlSignals[] = {SIGTSTP, SIGTTIN, SIGTTOU, SIGCONT};

sigset_t ForwardedSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&set, s);
  for (int s : kJobControlSignals) sigaddset(&set, s);
  return set;
}

bool IsTerminalStop(int sig) { return sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU; }

std::error_code LastError() { return {errno, std::generic_category()}; }

int PidfdOpen(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

// How long before the watchdog's deadline Wait() looks for a renewal to move it, when the early
// stop would come later than that.
constexpr std::chrono::milliseconds kWatchdogMargin{100};

// A validity as the watchdog's deadline: CLOCK_MONOTONIC ns (steady_clock's), 0 for none.
int64_t DeadlineOf(SteadyClock::time_point t) {
  if (t == SteadyClock::time_point{}) return 0;
  return std::max<int64_t>(
      1, std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

}  // namespace

std::error_code Child::PrepareSignals() {
  // A write to a pipe whose reader is gone (the watchdog's, the child's "go") must not kill this
  // process before it released the lock.
  signal(SIGPIPE, SIG_IGN);
  sigset_t set = ForwardedSignals();
  if (sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return LastError();
  return {};
}

std::error_code Child::Start(const std::vector<std::string>& argv,
                             const std::vector<std::pair<std::string, std::string>>& env,
                             const ValidUntil& valid_until) {
  if (argv.empty()) return std::make_error_code(std::errc::invalid_argument);
  if (signalfd_ < 0 || stopfd_ < 0) return LastError();
  sigset_t set = ForwardedSignals();
  // exec failures travel back through a close-on-exec pipe: EOF means exec succeeded.
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return LastError();
  // The child execs only once the watchdog holds the lease's deadline: a byte on this pipe.
  int gofd[2];
  if (pipe2(gofd, O_CLOEXEC) != 0) {
    close(pipefd[0]);
    close(pipefd[1]);
    return LastError();
  }
  // Everything the child needs is prepared before fork: only async-signal-safe calls after it.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; e++) env_strings.emplace_back(*e);
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  const pid_t parent = getpid();
  pid_ = fork();
  if (pid_ < 0) {
    for (int fd : {pipefd[0], pipefd[1], gofd[0], gofd[1]}) close(fd);
    return LastError();
  }
  if (pid_ == 0) {
    close(pipefd[0]);
    close(gofd[1]);
    setpgid(0, 0);  // a group of its own: signals reach the whole tree
    // Dies with this process even if the watchdog cannot act (both killed at once).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(kExitCannotExecute);  // the parent died before prctl
    char go = 0;
    ssize_t got;
    do {
      got = read(gofd[0], &go, 1);
    } while (got < 0 && errno == EINTR);
    if (got != 1) _exit(kExitCannotExecute);  // not to be started (the lease ended meanwhile)
    signal(SIGPIPE, SIG_DFL);  // this process ignores it (PrepareSignals); the command must not
    // The child gets the default signal mask back: it must see SIGTERM.
    sigprocmask(SIG_UNBLOCK, &set, nullptr);
    execvpe(args[0], args.data(), envp.data());
    int err = errno;
    ssize_t ignored = write(pipefd[1], &err, sizeof(err));
    (void)ignored;
    _exit(err == ENOENT ? kExitNotFound : kExitCannotExecute);
  }
  setpgid(pid_, pid_);  // also here: whichever runs first, the group exists before any signal
  close(pipefd[1]);
  close(gofd[0]);
  const bool watched = StartWatchdog(valid_until ? valid_until() : SteadyClock::time_point{});
  // Checked once the watchdog holds the deadline: this process may have been stopped since the
  // lock was granted, and a command must not start on a lease that is over.
  if (!watched) {
    std::fprintf(stderr, "keyward: cannot start the watchdog (%s); not starting the command\n",
                 std::strerror(errno));
  } else if (valid_until && SteadyClock::now() >= valid_until()) {
    std::fprintf(stderr, "keyward: the lease ended before the command started; not starting it\n");
  } else {
    const char go = 1;
    ssize_t ignored = write(gofd[1], &go, 1);
    (void)ignored;
  }
  close(gofd[1]);
  int err = 0;
  ssize_t n;
  do {
    n = read(pipefd[0], &err, sizeof(err));
  } while (n < 0 && errno == EINTR);
  close(pipefd[0]);
  pidfd_ = PidfdOpen(pid_);
  if (pidfd_ < 0) return LastError();
  if (n == sizeof(err)) return {err, std::generic_category()};  // exec failed; Wait() reaps it
  return {};
}

bool Child::StartWatchdog(SteadyClock::time_point valid_until) {
  int guard[2];
  if (pipe2(guard, O_CLOEXEC) != 0) return false;
  const pid_t group = pid_;
  watchdog_ = fork();
  if (watchdog_ < 0) {
    close(guard[0]);
    close(guard[1]);
    return false;
  }
  if (watchdog_ == 0) {
    // Only async-signal-safe calls: this process has other threads. Its own group, so that a
    // terminal's signals to ours do not stop it before it acts.
    setpgid(0, 0);
    // Nothing of this process's but the guard: not the child's "go" pipe (whose end of file
    // tells the child not to start), not the connections to the servers.
    const unsigned keep = static_cast<unsigned>(guard[0]);
    if (keep > 3) close_range(3, keep - 1, 0);
    close_range(keep + 1, ~0U, 0);
    int64_t deadline = DeadlineOf(valid_until);  // CLOCK_MONOTONIC ns; 0: none
    while (true) {
      int timeout_ms = -1;
      if (deadline > 0) {
        timespec now{};
        clock_gettime(CLOCK_MONOTONIC, &now);
        const int64_t left = deadline - (now.tv_sec * 1000000000LL + now.tv_nsec);
        if (left <= 0) {
          // The lease's validity ended and the parent did not move it (stopped, or stuck):
          // nothing of the command may run on.
          kill(-group, SIGKILL);
          deadline = 0;
          continue;
        }
        timeout_ms = static_cast<int>(std::min<int64_t>((left + 999999) / 1000000, 1 << 30));
      }
      pollfd fd = {guard[0], POLLIN, 0};
      if (poll(&fd, 1, timeout_ms) <= 0) continue;  // the deadline, or EINTR
      int64_t message = 0;
      const ssize_t n = read(guard[0], &message, sizeof(message));
      if (n < 0 && errno == EINTR) continue;
      if (n != sizeof(message)) {
        kill(-group, SIGKILL);  // end of file: the parent died without saying goodbye
        _exit(0);
      }
      if (message < 0) _exit(0);  // goodbye: the group was already dealt with
      deadline = message;
    }
  }
  close(guard[0]);
  watchdog_fd_ = guard[1];
  return true;
}

void Child::TellWatchdog(int64_t message) {
  if (watchdog_fd_ < 0) return;
  ssize_t n;
  do {
    n = write(watchdog_fd_, &message, sizeof(message));  // atomic: below PIPE_BUF
  } while (n < 0 && errno == EINTR);
}

void Child::SignalGroup(int sig) const {
  if (pid_ > 0) kill(-pid_, sig);
}

void Child::RequestStop() {
  uint64_t one = 1;
  ssize_t ignored = write(stopfd_, &one, sizeof(one));
  (void)ignored;
}

int Child::Wait(std::chrono::milliseconds grace, bool* stopped, const ValidUntil& valid_until) {
  *stopped = false;
  std::optional<SteadyClock::time_point> kill_at;  // set when SIGTERM was sent
  const auto stop = [&](SteadyClock::time_point now) {
    *stopped = true;
    SignalGroup(SIGTERM);
    kill_at = now + grace;
    if (valid_until) kill_at = std::min(*kill_at, valid_until());
  };
  SteadyClock::time_point told{};  // the validity the watchdog enforces
  bool looked = false;             // woke before `told` to see whether a renewal moved it
  while (true) {
    const SteadyClock::time_point now = SteadyClock::now();
    if (valid_until && valid_until() != told) {
      // The watchdog kills the group at the validity's end even if this process cannot act by
      // then (stopped by SIGSTOP, starved): it is moved each time a renewal moved the validity.
      told = valid_until();
      TellWatchdog(DeadlineOf(told));
      looked = false;
    }
    // The next deadline: SIGKILL after SIGTERM, or the early stop of a lease not renewed.
    std::optional<SteadyClock::time_point> next = kill_at;
    if (!*stopped && valid_until) {
      const SteadyClock::time_point stop_at = valid_until() - grace;
      if (now >= stop_at) {
        std::fprintf(
            stderr,
            "keyward: the lease was not renewed with %lld ms of validity left; stopping "
            "the command before it ends\n",
            static_cast<long long>(
                std::chrono::floor<std::chrono::milliseconds>(valid_until() - now).count()));
        stop(now);
        continue;
      }
      next = stop_at;
      // With a short grace the early stop comes too late to move the watchdog's deadline after a
      // renewal: look once kWatchdogMargin before it.
      if (!looked && told - kWatchdogMargin < stop_at) {
        if (now >= told - kWatchdogMargin) {
          looked = true;
        } else {
          next = told - kWatchdogMargin;
        }
      }
    }
    int timeout_ms = -1;
    if (next) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(*next - now);
      timeout_ms = static_cast<int>(std::max<int64_t>(0, left.count()));
    }
    pollfd fds[3] = {{pidfd_, POLLIN, 0}, {stopfd_, POLLIN, 0}, {signalfd_, POLLIN, 0}};
    int r = poll(fds, 3, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    if (kill_at && SteadyClock::now() >= *kill_at) {
      SignalGroup(SIGKILL);  // the grace period, or the validity, is over
      kill_at.reset();
    }
    if (r == 0) continue;
    if (fds[0].revents & POLLIN) break;  // exited
    if (fds[1].revents & POLLIN) {
      uint64_t v;
      ssize_t ignored = read(stopfd_, &v, sizeof(v));  // drained even when already stopping
      (void)ignored;
      if (!*stopped) stop(SteadyClock::now());
    }
    if (fds[2].revents & POLLIN) {
      signalfd_siginfo info;
      while (read(signalfd_, &info, sizeof(info)) == sizeof(info)) {
        const int sig = static_cast<int>(info.ssi_signo);
        if (IsTerminalStop(sig)) {
          // Stop the command first, then this process (as the terminal meant to).
          SignalGroup(SIGSTOP);
          kill(getpid(), SIGSTOP);
        } else if (sig == SIGCONT) {
          // Back from a stop: the lease may have ended meanwhile (nobody renewed it). A command
          // whose lease is gone is killed while still stopped, never continued.
          if (valid_until && SteadyClock::now() >= valid_until()) {
            *stopped = true;
            SignalGroup(SIGKILL);
          } else {
            SignalGroup(SIGCONT);
          }
        } else {
          SignalGroup(sig);
        }
      }
    }
  }
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  // Ended after the validity did (the watchdog's kill, or late): the lease was not held to the
  // end, whatever the command's own status.
  if (valid_until && SteadyClock::now() >= valid_until()) *stopped = true;
  // What the command left running in its group must not outlive the lock.
  SignalGroup(SIGKILL);
  pid_ = -1;
  StopWatchdog();
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

void Child::StopWatchdog() {
  if (watchdog_fd_ >= 0) {
    TellWatchdog(-1);  // a normal end: the group was already dealt with here
    close(watchdog_fd_);
  }
  watchdog_fd_ = -1;
  if (watchdog_ > 0) {
    while (waitpid(watchdog_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  watchdog_ = -1;
}

// Made before the child exists: a lease can be lost (RequestStop) while it starts.
Child::Child() {
  sigset_t set = ForwardedSignals();
  signalfd_ = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  stopfd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

Child::~Child() {
  StopWatchdog();
  for (int fd : {pidfd_, stopfd_, signalfd_}) {
    if (fd >= 0) close(fd);
  }
}

}  // namespace keyward::cli
