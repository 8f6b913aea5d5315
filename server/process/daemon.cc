#include "server/process/daemon.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace keyward {

void Daemonize() {
  if (fork() != 0) std::exit(0);  // the parent
  setsid();
  const int fd = open("/dev/null", O_RDWR, 0);
  if (fd != -1) {
    dup2(fd, STDIN_FILENO);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    if (fd > STDERR_FILENO) close(fd);
  }
}

void WritePidFile(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) {
    spdlog::warn("Failed to write PID file: {}", std::strerror(errno));
    return;
  }
  std::fprintf(f, "%d\n", static_cast<int>(getpid()));
  std::fclose(f);
}

Supervision::Supervision(Supervised mode) : mode_(mode) {
  if (mode_ == Supervised::kAuto) {
    if (std::getenv("UPSTART_JOB") != nullptr) {
      mode_ = Supervised::kUpstart;
    } else if (std::getenv("NOTIFY_SOCKET") != nullptr) {
      mode_ = Supervised::kSystemd;
    } else {
      mode_ = Supervised::kNo;
    }
  }
  switch (mode_) {
    case Supervised::kUpstart:
      if (std::getenv("UPSTART_JOB") == nullptr) {
        spdlog::warn("upstart supervision requested, but UPSTART_JOB not found!");
        mode_ = Supervised::kNo;
      } else {
        spdlog::info("supervised by upstart, will stop to signal readiness.");
      }
      break;
    case Supervised::kSystemd:
      if (std::getenv("NOTIFY_SOCKET") == nullptr) {
        spdlog::warn(
            "systemd supervision requested or auto-detected, but NOTIFY_SOCKET environment "
            "variable is not set!");
        mode_ = Supervised::kNo;
      } else {
        spdlog::info(
            "Supervised by systemd. Please make sure you set appropriate values for "
            "TimeoutStartSec and TimeoutStopSec in your service unit.");
      }
      break;
    default:
      break;
  }
}

bool Supervision::Notify(std::string_view message) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const size_t len = std::strlen(path);
  if (len == 0 || len >= sizeof(addr.sun_path)) return false;
  std::memcpy(addr.sun_path, path, len);
  // A leading '@' names an abstract socket.
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd == -1) return false;
  const socklen_t addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
  const ssize_t sent = sendto(fd, message.data(), message.size(), MSG_NOSIGNAL,
                              reinterpret_cast<const sockaddr*>(&addr), addr_len);
  close(fd);
  if (sent < 0) spdlog::warn("Can't send notification to systemd: {}", std::strerror(errno));
  return sent == static_cast<ssize_t>(message.size());
}

void Supervision::Ready() {
  if (mode_ == Supervised::kSystemd) {
    Notify("STATUS=Ready to accept connections\n");
    Notify("READY=1\n");
  } else if (mode_ == Supervised::kUpstart) {
    raise(SIGSTOP);
    unsetenv("UPSTART_JOB");
  }
}

void Supervision::Stopping() {
  if (mode_ == Supervised::kSystemd) Notify("STOPPING=1\n");
}

}  // namespace keyward
