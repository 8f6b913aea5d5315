#include "server_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

#ifndef KEYWARD_SERVER_BIN
#define KEYWARD_SERVER_BIN ""
#endif

namespace keyward::testing {
namespace {

constexpr const char* kRedisServer = "/usr/bin/redis-server";
// Sanitizer builds start slowly; this is a deadline, not a duration anything waits for.
constexpr auto kReadyDeadline = std::chrono::seconds(30);

int ConnectLoopback(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

std::string Encode(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto& a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return out;
}

}  // namespace

std::string ToString(ServerKind kind) {
  switch (kind) {
    case ServerKind::kKeyward:
      return "keyward";
    case ServerKind::kRedis:
      return "redis";
    case ServerKind::kKeywardSentinel:
      return "keyward-sentinel";
  }
  return "?";
}

std::string KeywardBinary() {
  if (const char* env = std::getenv("KEYWARD_SERVER"); env && *env) return env;
  return KEYWARD_SERVER_BIN;
}

bool RedisAvailable() { return ::access(kRedisServer, X_OK) == 0; }

uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

ServerProcess::ServerProcess(ServerKind kind, std::vector<std::string> extra_args)
    : kind_(kind), extra_args_(std::move(extra_args)) {
  char tmpl[] = "/tmp/keyward-client-test-XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  unix_path_ = dir_ + "/server.sock";
  // A port taken between FreePort() and the server's bind makes the server exit: try another.
  for (int attempt = 0;; ++attempt) {
    port_ = FreePort();
    Launch();
    try {
      WaitReady();
      return;
    } catch (const std::exception&) {
      if (alive()) Kill();
      if (attempt == 2) throw;
    }
  }
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) Kill();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void ServerProcess::Launch() {
  std::vector<std::string> args;
  args.push_back(kind_ == ServerKind::kRedis ? kRedisServer : KeywardBinary());
  if (kind_ == ServerKind::kKeywardSentinel) {
    // A sentinel keeps its state in its file: written once, kept across restarts.
    const std::string conf = dir_ + "/sentinel.conf";
    if (::access(conf.c_str(), F_OK) != 0) {
      std::ofstream out(conf);
      for (const auto& line : extra_args_) out << line << "\n";
    }
    args.push_back(conf);
    args.push_back("--sentinel");
  }
  const std::vector<std::string> common = {
      "--port", std::to_string(port_), "--bind",  "127.0.0.1", "--dir",
      dir_,     "--unixsocket",        unix_path_};
  args.insert(args.end(), common.begin(), common.end());
  // Persistence off on both servers (Keyward's defaults are Redis's: save points on).
  for (const char* a : {"--save", ""}) args.push_back(a);
  if (kind_ == ServerKind::kRedis) {
    for (const char* a : {"--appendonly", "no"}) args.push_back(a);
  }
  if (kind_ != ServerKind::kKeywardSentinel) {
    args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  }
  const std::string log = dir_ + "/server.log";
  // Everything the child needs is made before the fork: the test's other threads (clients
  // running while a server restarts) may hold the allocator's lock at that moment, and a child
  // that allocates before exec would wait for it forever.
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const char* log_path = log.c_str();
  pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ == 0) {
    // Only async-signal-safe calls from here to exec.
    // Dies with the test process, so a crashed test never leaks a server.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    int fd = ::open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
}

void ServerProcess::WaitReady() {
  const auto deadline = std::chrono::steady_clock::now() + kReadyDeadline;
  std::string last_probe = "none";  // what the last PING got, for the failure message
  while (true) {
    if (!alive()) {
      last_probe = "the process exited";
      break;
    }
    try {
      // Any reply will do: a server with a password answers NOAUTH, which is an answer too.
      client::Reply pong = RawCommand({"PING"});
      if ((pong.as_string() && *pong.as_string() == "PONG") || pong.is_error()) return;
      last_probe = "an unexpected reply";
    } catch (const std::exception& e) {
      last_probe = e.what();
    }
    if (std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling interval
  }
  std::ifstream in(dir_ + "/server.log");
  std::stringstream log;
  log << in.rdbuf();
  // The sockets on the port, for the report: who holds it when the server cannot be reached.
  std::string sockets;
  const std::string ss = "ss -tanpe '( sport = :" + std::to_string(port_) +
                         " or dport = :" + std::to_string(port_) + " )' 2>&1; echo listening:; " +
                         "ss -tlnp 2>&1 | grep 'pid=" + std::to_string(pid_) +
                         ",'; echo files:; ls -l /proc/" + std::to_string(pid_) + "/fd 2>&1";
  if (FILE* p = ::popen(ss.c_str(), "r")) {
    char line[512];
    while (std::fgets(line, sizeof line, p) != nullptr) sockets += line;
    ::pclose(p);
  }
  throw std::runtime_error(ToString(kind_) + " on port " + std::to_string(port_) +
                           " did not start (last PING: " + last_probe + "):\n" + log.str() +
                           "sockets on the port:\n" + sockets);
}

void ServerProcess::Signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

void ServerProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void ServerProcess::Restart() {
  Kill();
  Launch();
  WaitReady();
}

void ServerProcess::Restart(const std::vector<std::string>& more_args) {
  extra_args_.insert(extra_args_.end(), more_args.begin(), more_args.end());
  Restart();
}

bool ServerProcess::alive() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

client::Reply ServerProcess::RawCommand(const std::vector<std::string>& args) {
  int fd = ConnectLoopback(port_);
  if (fd < 0) throw std::runtime_error(std::string("connect failed: ") + std::strerror(errno));
  std::string request = Encode(args);
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) < 0) {
    ::close(fd);
    throw std::runtime_error("send failed");
  }
  client::ReplyParser parser;
  std::optional<client::Reply> reply;
  std::string failure = "no reply";
  char buf[4096];
  while (!reply) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10000) <= 0) {
      failure = "no reply within 10 s";
      break;
    }
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      failure = n == 0 ? "closed without a reply" : std::string("recv: ") + std::strerror(errno);
      break;
    }
    parser.Feed(std::string_view(buf, static_cast<size_t>(n)));
    auto next = parser.Next();
    if (!next) {
      failure = "a protocol error";
      break;
    }
    reply = std::move(*next);  // still empty while the rest of the reply is coming
  }
  ::close(fd);
  if (!reply) throw std::runtime_error(failure);
  return std::move(*reply);
}

bool Supports(ServerProcess& server, const std::string& command) {
  // COMMAND INFO answers [null] for an unknown command.
  auto info = server.RawCommand({"COMMAND", "INFO", command});
  auto entries = info.as_array();
  return entries && entries->size() == 1 && !(*entries)[0].is_null();
}

}  // namespace keyward::testing
