#include "nodes.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "keyward/client/client.h"

namespace keyward::jepsen {

namespace fs = std::filesystem;

std::string Admin(const Node& node, const std::vector<std::string>& command,
                  std::chrono::milliseconds timeout) {
  client::ClientOptions options;
  options.connection.host = node.host();
  options.connection.port = static_cast<uint16_t>(node.port());
  options.connection.connect_timeout = std::min(timeout, std::chrono::milliseconds(1000));
  options.connection.command_timeout = timeout;
  options.reconnect.enabled = false;
  client::Client c(options);
  client::Request request;
  request.PushRange(command.front(), std::vector<std::string>(command.begin() + 1, command.end()));
  auto replies = c.Exec(std::move(request));
  if (!replies) return "error: " + replies.error().message();
  const client::Reply& r = replies->front();
  if (r.is_error()) return "error: " + std::string(r.as_error().value());
  if (auto s = r.as_string()) return std::string(*s);
  if (auto i = r.as_integer()) return std::to_string(*i);
  return "";
}

std::string InfoField(const Node& node, const std::string& section, const std::string& field) {
  const std::string info = Admin(node, {"INFO", section});
  const std::string key = field + ":";
  const size_t at = info.find(key);
  if (at == std::string::npos) return "";
  const size_t end = info.find("\r\n", at);
  return info.substr(at + key.size(), end - at - key.size());
}

Node::Node(int id, std::string host, std::string dir, const NodeOptions& options)
    : id_(id),
      host_(std::move(host)),
      port_(FreePort(host_)),
      dir_(std::move(dir)),
      options_(options) {}

Node::~Node() {
  if (running()) Kill();
}

std::optional<std::string> Node::Start() {
  if (running()) return std::nullopt;
  fs::create_directories(dir_);
  std::vector<std::string> argv = {options_.binary, "--port", std::to_string(port_), "--bind",
                                   host_,
                                   // Clients come from other loopback addresses (network.h).
                                   "--protected-mode", "no", "--bind-source-addr", host_, "--dir",
                                   dir_, "--logfile", dir_ + "/server.log", "--save", ""};
  if (options_.persistent) {
    for (const char* a : {"--appendonly", "yes", "--appendfsync", "always"}) argv.push_back(a);
  }
  argv.insert(argv.end(), options_.args.begin(), options_.args.end());
  std::vector<char*> cargv;
  for (std::string& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  // Its own process group: a signal to the harness's group does not reach it. posix_spawn, not
  // fork: copying this (sanitized, threaded) process's page tables is slow.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = -1;
  // The environment, with libfaketime preloaded for the clock fault (its offset file written
  // first: the node starts on the real clock).
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; e++) env.emplace_back(*e);
  if (options_.faketime) {
    if (!SetClock("+0")) return "cannot write " + dir_ + "/faketime";
    std::string asan = "ASAN_OPTIONS=verify_asan_link_order=0";
    for (auto it = env.begin(); it != env.end(); ++it) {
      if (it->rfind("ASAN_OPTIONS=", 0) == 0) {
        asan = *it + ":verify_asan_link_order=0";
        env.erase(it);
        break;
      }
    }
    env.push_back(asan);
    env.push_back("LD_PRELOAD=" + LibFaketime());
    env.push_back("FAKETIME_TIMESTAMP_FILE=" + dir_ + "/faketime");
    env.push_back("FAKETIME_NO_CACHE=1");
    env.push_back("FAKETIME_DONT_FAKE_MONOTONIC=1");
  }
  std::vector<char*> cenv;
  for (std::string& e : env) cenv.push_back(e.data());
  cenv.push_back(nullptr);
  const int rc = ::posix_spawn(&pid, cargv[0], nullptr, &attr, cargv.data(), cenv.data());
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return "cannot start " + options_.binary + ": " + std::strerror(rc);
  pid_ = pid;
  paused_ = false;
  std::ofstream(dir_ + "/pid") << pid << '\n';
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return "node " + std::to_string(id_) + " exited at start (see " + dir_ + "/server.log)";
    }
    if (Admin(*this, {"PING"}, std::chrono::milliseconds(500)) == "PONG") return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Kill();
  return "node " + std::to_string(id_) + " did not answer PING within 30 s";
}

void Node::Kill() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  paused_ = false;
  std::error_code ec;
  fs::remove(dir_ + "/pid", ec);
}

void Node::Pause() {
  if (!running() || paused_) return;
  ::kill(pid_, SIGSTOP);
  paused_ = true;
}

void Node::Resume() {
  if (!running() || !paused_) return;
  ::kill(pid_, SIGCONT);
  paused_ = false;
}

void Node::Wipe() {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (name == "server.log" || name == "pid") continue;
    fs::remove_all(entry.path(), ec);
  }
}

bool Node::SetClock(const std::string& offset) {
  // Written aside and renamed: libfaketime never reads half a line.
  const std::string path = dir_ + "/faketime";
  {
    std::ofstream out(path + ".new", std::ios::trunc);
    out << offset << '\n';
    if (!out) return false;
  }
  std::error_code ec;
  fs::rename(path + ".new", path, ec);
  return !ec;
}

std::string LibFaketime() {
  for (const char* path : {"/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
                           "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
                           "/usr/lib/faketime/libfaketime.so.1"}) {
    if (fs::exists(path)) return path;
  }
  return "";
}

int FreePort(const std::string& host) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

int KillLeftovers(const std::string& store) {
  int killed = 0;
  std::error_code ec;
  if (!fs::exists(store, ec)) return 0;
  for (auto it = fs::recursive_directory_iterator(store, ec); it != fs::end(it); it.increment(ec)) {
    if (ec || it->path().filename() != "pid") continue;
    pid_t pid = 0;
    std::ifstream(it->path()) >> pid;
    if (pid > 0 && ::kill(pid, SIGKILL) == 0) killed++;
    fs::remove(it->path(), ec);
  }
  return killed;
}

}  // namespace keyward::jepsen
