// The servers under test: N keyward-server (or redis-server) processes, each on its own loopback
// address (network.h) with its replication link bound to it, each in its own directory under the
// run's store, controlled one by one (start, SIGKILL, SIGSTOP /
// SIGCONT, restart with its data or empty). Their pids are written to `<dir>/pid` so that
// `keyward-jepsen clean` can stop what a crashed run left behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace keyward::jepsen {

struct NodeOptions {
  std::string binary;             // keyward-server
  std::vector<std::string> args;  // added to every node's command line
  bool persistent = true;         // appendonly yes, appendfsync always: a restart keeps the data
  // libfaketime preloaded into every node (the clock fault): its wall clock (not its monotonic
  // clock: a clock step, as NTP's, or a wrong rate) follows the offset in `<dir>/faketime`.
  bool faketime = false;
};

// Debian's libfaketime, or "" when it is not installed.
std::string LibFaketime();

class Node {
 public:
  Node(int id, std::string host, std::string dir, const NodeOptions& options);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Starts the process and waits until it answers PING (up to 30 s). The error text, or
  // nullopt.
  std::optional<std::string> Start();
  void Kill();    // SIGKILL, reaped
  void Pause();   // SIGSTOP
  void Resume();  // SIGCONT
  // Deletes the node's data (its AOF and RDB files): the next Start is an empty restart.
  void Wipe();
  // With NodeOptions::faketime: the node's wall clock from now on, in libfaketime's relative
  // form ("+3", "-2": seconds off the real clock; "+0 x2": running twice as fast). False when
  // the offset file cannot be written.
  bool SetClock(const std::string& offset);

  int id() const { return id_; }
  int port() const { return port_; }
  const std::string& host() const { return host_; }
  bool running() const { return pid_ > 0; }
  bool paused() const { return paused_; }
  std::string url() const { return "redis://" + host_ + ":" + std::to_string(port_); }
  const std::string& dir() const { return dir_; }

 private:
  int id_;
  std::string host_;
  int port_;
  std::string dir_;
  const NodeOptions& options_;
  pid_t pid_ = -1;
  bool paused_ = false;
};

// Sends one command to `node` over the harness's own connection (127.0.0.1, which no fault
// touches), giving up after `timeout`; the reply as text, or the error (prefixed "error: ").
std::string Admin(const Node& node, const std::vector<std::string>& command,
                  std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));

// One field of `node`'s INFO `section` (over Admin), or "" when it is missing or unreachable.
std::string InfoField(const Node& node, const std::string& section, const std::string& field);

// A free TCP port on `host` (bound then released).
int FreePort(const std::string& host);
// SIGKILLs the processes whose pid files lie under `store` (a crashed run's nodes). How many.
int KillLeftovers(const std::string& store);

}  // namespace keyward::jepsen
