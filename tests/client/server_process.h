// Real servers for the client tests: keyward-server (the build's) or Debian's redis-server, on a
// free loopback port, in a private temporary directory, with persistence off. The same suite runs
// against both (see ServerKind and the parameterised fixtures).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "keyward/client/reply.h"
#include "keyward/client/reply_parser.h"

namespace keyward::testing {

// kKeywardSentinel: keyward-server in sentinel mode; its `extra_args` are the lines of its
// sentinel.conf ("sentinel monitor m 127.0.0.1 6379 1").
enum class ServerKind { kKeyward, kRedis, kKeywardSentinel };

std::string ToString(ServerKind kind);

class ServerProcess {
 public:
  // Starts the server and waits (polling, with a deadline) until it answers PING. `extra_args`
  // are redis-server style arguments ("--requirepass", "pw"). Throws std::runtime_error on
  // failure, with the server's output.
  explicit ServerProcess(ServerKind kind, std::vector<std::string> extra_args = {});
  ~ServerProcess();  // SIGKILL if still running; removes the directory
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  ServerKind kind() const { return kind_; }
  uint16_t port() const { return port_; }
  const std::string& unix_path() const { return unix_path_; }
  const std::string& dir() const { return dir_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

  void Signal(int sig);  // SIGSTOP, SIGCONT, SIGKILL ...
  // SIGKILL and wait for the process to be gone.
  void Kill();
  // Starts the same server again on the same port (after Kill()), and waits until it answers.
  void Restart();
  // Restart with more command-line arguments (kept for later restarts too).
  void Restart(const std::vector<std::string>& more_args);
  bool alive();
  // One command over a fresh raw socket (RESP), for setting up state independently of the
  // client under test (RESP2). Throws when no reply arrives.
  client::Reply RawCommand(const std::vector<std::string>& args);

 private:
  void Launch();
  void WaitReady();

  ServerKind kind_;
  std::vector<std::string> extra_args_;
  std::string dir_;
  std::string unix_path_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

// The keyward-server binary under test (KEYWARD_SERVER, else the path baked in at build time).
std::string KeywardBinary();
// True when /usr/bin/redis-server exists (tests against it skip otherwise).
bool RedisAvailable();
// Whether the server implements `command` (COMMAND INFO answers a non-null entry), for features
// that must exist (LOCK.* on keyward-server).
bool Supports(ServerProcess& server, const std::string& command);

// A port nobody listens on right now (the kernel's pick for port 0).
uint16_t FreePort();

}  // namespace keyward::testing
