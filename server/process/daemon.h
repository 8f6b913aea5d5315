// Running as a daemon or under a supervisor, as Redis does: daemonize (fork, new session, standard
// streams to /dev/null), the pid file, and supervision (systemd's readiness notification through
// NOTIFY_SOCKET, upstart's SIGSTOP).
#pragma once

#include <string>
#include <string_view>

#include "server/core/settings.h"

namespace keyward {

// Forks; the parent exits, the child goes on in a session of its own with its standard streams on
// /dev/null. Before any thread exists.
void Daemonize();

// Writes the pid file (a warning in the log when it cannot).
void WritePidFile(const std::string& path);

// The supervisor the server reports to, resolved from `supervised` (auto: UPSTART_JOB, then
// NOTIFY_SOCKET).
class Supervision {
 public:
  explicit Supervision(Supervised mode);
  Supervised mode() const { return mode_; }
  // The server accepts connections: systemd gets READY=1, upstart a SIGSTOP.
  void Ready();
  void Stopping();

 private:
  // systemd's sd_notify: one datagram to NOTIFY_SOCKET. False when it could not be sent.
  bool Notify(std::string_view message);
  Supervised mode_;
};

}  // namespace keyward
