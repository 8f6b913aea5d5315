#include "child.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>

namespace keyward::cli {

namespace {

sigset_t ForwardedSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&set, s);
  return set;
}

std::error_code LastError() { return {errno, std::generic_category()}; }

int PidfdOpen(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

}  // namespace

std::error_code Child::PrepareSignals() {
  sigset_t set = ForwardedSignals();
  if (sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return LastError();
  return {};
}

std::error_code Child::Start(const std::vector<std::string>& argv,
                             const std::vector<std::pair<std::string, std::string>>& env) {
  if (argv.empty()) return std::make_error_code(std::errc::invalid_argument);
  if (signalfd_ < 0 || stopfd_ < 0) return LastError();
  sigset_t set = ForwardedSignals();
  // exec failures travel back through a close-on-exec pipe: EOF means exec succeeded.
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return LastError();
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

  pid_ = fork();
  if (pid_ < 0) return LastError();
  if (pid_ == 0) {
    close(pipefd[0]);
    // The child gets the default signal mask back: it must see SIGTERM.
    sigprocmask(SIG_UNBLOCK, &set, nullptr);
    execvpe(args[0], args.data(), envp.data());
    int err = errno;
    ssize_t ignored = write(pipefd[1], &err, sizeof(err));
    (void)ignored;
    _exit(err == ENOENT ? kExitNotFound : kExitCannotExecute);
  }
  close(pipefd[1]);
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

void Child::RequestStop() {
  uint64_t one = 1;
  ssize_t ignored = write(stopfd_, &one, sizeof(one));
  (void)ignored;
}

int Child::Wait(std::chrono::milliseconds grace, bool* stopped) {
  using SteadyClock = std::chrono::steady_clock;
  *stopped = false;
  std::optional<SteadyClock::time_point> kill_at;  // set when SIGTERM was sent
  while (true) {
    int timeout_ms = -1;
    if (kill_at) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(*kill_at - SteadyClock::now());
      timeout_ms = static_cast<int>(std::max<int64_t>(0, left.count()));
    }
    pollfd fds[3] = {{pidfd_, POLLIN, 0}, {stopfd_, POLLIN, 0}, {signalfd_, POLLIN, 0}};
    int r = poll(fds, 3, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) {
      kill(pid_, SIGKILL);  // the grace period is over
      kill_at.reset();
      continue;
    }
    if (fds[0].revents & POLLIN) break;  // exited
    if ((fds[1].revents & POLLIN) && !*stopped) {
      uint64_t v;
      ssize_t ignored = read(stopfd_, &v, sizeof(v));
      (void)ignored;
      *stopped = true;
      kill(pid_, SIGTERM);
      kill_at = SteadyClock::now() + grace;
    }
    if (fds[2].revents & POLLIN) {
      signalfd_siginfo info;
      while (read(signalfd_, &info, sizeof(info)) == sizeof(info)) {
        kill(pid_, static_cast<int>(info.ssi_signo));
      }
    }
  }
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

// Made before the child exists: a lease can be lost (RequestStop) while it starts.
Child::Child() {
  sigset_t set = ForwardedSignals();
  signalfd_ = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  stopfd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

Child::~Child() {
  for (int fd : {pidfd_, stopfd_, signalfd_}) {
    if (fd >= 0) close(fd);
  }
}

}  // namespace keyward::cli
