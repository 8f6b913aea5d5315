#include "cli_workload.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

extern char** environ;

namespace keyward::jepsen {

namespace {

constexpr int kExitUnavailable = 69, kExitNotAcquired = 75;  // keyward's (docs/cli.md)

sockaddr_un AbstractAddress(const std::string& name, socklen_t* len) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  // The abstract namespace: a leading NUL, nothing on disk to clean up.
  std::memcpy(addr.sun_path + 1, name.data(), std::min(name.size(), sizeof(addr.sun_path) - 2));
  *len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 +
                                std::min(name.size(), sizeof(addr.sun_path) - 2));
  return addr;
}

// Whether `pid` is a live (not zombie) process whose command line is `cli-child SOCKET ATTEMPT`.
bool TreeProcessAlive(pid_t pid, const std::string& socket, int64_t attempt) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const size_t paren = line.rfind(')');
  if (paren == std::string::npos || paren + 2 >= line.size()) return false;
  const char state = line[paren + 2];
  if (state == 'Z' || state == 'X' || state == 'x') return false;
  // SIGKILL sent and not yet acted on (a group killed a moment ago): as good as dead.
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string field; std::getline(status, field);) {
    if (field.rfind("SigPnd:", 0) == 0 || field.rfind("ShdPnd:", 0) == 0) {
      const uint64_t pending = std::stoull(field.substr(7), nullptr, 16);
      if (pending & (uint64_t{1} << (SIGKILL - 1))) return false;
    }
  }
  std::ifstream cmdline("/proc/" + std::to_string(pid) + "/cmdline");
  std::vector<std::string> args;
  for (std::string arg; std::getline(cmdline, arg, '\0');) args.push_back(arg);
  for (size_t i = 0; i + 2 < args.size(); i++) {
    if (args[i] == "cli-child")
      return args[i + 1] == socket && args[i + 2] == std::to_string(attempt);
  }
  return false;
}

}  // namespace

// The harness's side of the children's reports: the acquisitions in flight, the trees, the
// store. One thread serves every connection (poll), each line handled as it arrives.
class CliReports {
 public:
  CliReports(History& h, ClientStalls& clients, bool fenced, std::string resource)
      : h_(h), clients_(clients), store_(fenced), resource_(std::move(resource)) {
    name_ = "keyward-jepsen-" + std::to_string(::getpid()) + "-cli";
  }
  ~CliReports() {
    for (auto& [fd, buffer] : conns_) ::close(fd);
    if (listen_ >= 0) ::close(listen_);
  }

  std::optional<std::string> Listen() {
    listen_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    socklen_t len = 0;
    const sockaddr_un addr = AbstractAddress(name_, &len);
    if (listen_ < 0 || ::bind(listen_, reinterpret_cast<const sockaddr*>(&addr), len) != 0 ||
        ::listen(listen_, 128) != 0) {
      return std::string("cannot listen for the children's reports: ") + std::strerror(errno);
    }
    return std::nullopt;
  }
  const std::string& name() const { return name_; }

  // A new attempt of client `index`, recorded as `process`: its number, which the child is given.
  int64_t Begin(int index, int process) {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t attempt = next_attempt_++;
    attempts_[attempt] = Attempt{index, process};
    return attempt;
  }
  // Once its `keyward` exited: whether the child said hello (the lock was held), bye.
  struct Attempt {
    int index = 0;
    int process = 0;
    bool hello = false;
    bool bye = false;
    bool ended = false;  // its keyward exited
  };
  bool Hello(int64_t attempt) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = attempts_.find(attempt);
    return it != attempts_.end() && it->second.hello;
  }
  Attempt End(int64_t attempt) {
    std::lock_guard<std::mutex> lock(mu_);
    Attempt& a = attempts_[attempt];
    a.ended = true;  // kept: a child that reports after its keyward exited is an anomaly
    clients_.SetHolding(a.index, false);
    return a;
  }

  void Serve(const std::atomic<bool>& done) {
    while (!done.load()) {
      std::vector<pollfd> fds = {{listen_, POLLIN, 0}};
      for (auto& [fd, buffer] : conns_) fds.push_back({fd, POLLIN, 0});
      if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        while (true) {
          const int fd = ::accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC);
          if (fd < 0) break;
          conns_[fd];
        }
      }
      for (size_t i = 1; i < fds.size(); i++) {
        if (fds[i].revents == 0) continue;
        const int fd = fds[i].fd;
        char buf[512];
        const ssize_t n = ::read(fd, buf, sizeof(buf));
        if (n <= 0) {
          ::close(fd);
          conns_.erase(fd);
          continue;
        }
        std::string& buffer = conns_[fd];
        buffer.append(buf, static_cast<size_t>(n));
        for (size_t nl; (nl = buffer.find('\n')) != std::string::npos;) {
          const std::string reply = Handle(buffer.substr(0, nl)) + "\n";
          buffer.erase(0, nl + 1);
          // (A child killed meanwhile must not take the harness with it: no SIGPIPE.)
          if (::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL) < 0) break;
        }
      }
    }
  }

  // After every `keyward` exited: the trees still alive (each recorded), then killed.
  void FinalCheck(int process) {
    std::lock_guard<std::mutex> lock(mu_);
    nlohmann::json alive = Alive(-1);
    h_.Add(process, OpType::kInvoke, "trees", {{"resource", resource_}});
    h_.Add(process, OpType::kOk, "trees", {{"resource", resource_}, {"outlived", alive}});
    for (const Tree& t : trees_) {
      for (pid_t pid : t.pids) {
        if (TreeProcessAlive(pid, name_, t.attempt)) ::kill(pid, SIGKILL);
      }
    }
  }

 private:
  struct Tree {
    int64_t attempt;
    uint64_t token;
    std::vector<pid_t> pids;
  };

  // Processes of the trees other than `attempt`'s that are alive (dead trees are forgotten).
  nlohmann::json Alive(int64_t attempt) {
    nlohmann::json alive = nlohmann::json::array();
    for (auto it = trees_.begin(); it != trees_.end();) {
      nlohmann::json live = LiveProcesses(*it);
      if (it->attempt != attempt) {
        for (auto& p : live) alive.push_back(std::move(p));
      }
      it = live.empty() ? trees_.erase(it) : it + 1;
    }
    return alive;
  }

  // The live processes of `tree`, as the checker's "outlived" lists them.
  nlohmann::json LiveProcesses(const Tree& tree) const {
    nlohmann::json live = nlohmann::json::array();
    for (pid_t pid : tree.pids) {
      if (TreeProcessAlive(pid, name_, tree.attempt)) {
        live.push_back({{"token", tree.token}, {"attempt", tree.attempt}, {"pid", pid}});
      }
    }
    return live;
  }

  // "hello ATTEMPT TOKEN PID PID...", "write ATTEMPT TOKEN", "bye ATTEMPT".
  std::string Handle(const std::string& line) {
    std::istringstream in(line);
    std::string verb;
    int64_t attempt = -1;
    in >> verb >> attempt;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = attempts_.find(attempt);
    if (it == attempts_.end()) return "unknown";
    Attempt& a = it->second;
    if (verb == "hello") {
      uint64_t token = 0;
      in >> token;
      Tree tree{attempt, token, {}};
      for (pid_t pid; in >> pid;) tree.pids.push_back(pid);
      if (a.ended) {
        // Read after its keyward exited. A tree killed meanwhile is what keyward promises (the
        // hello was sent before); one that still runs has outlived its lock: recorded, and
        // watched from now on.
        nlohmann::json alive = LiveProcesses(tree);
        if (alive.empty()) return "unknown";
        trees_.push_back(std::move(tree));
        h_.Add(a.process, OpType::kInfo, "orphan",
               {{"resource", resource_}, {"attempt", attempt}, {"outlived", alive}});
        return "ok";
      }
      nlohmann::json value = {{"resource", resource_}, {"token", token}, {"attempt", attempt}};
      value["outlived"] = Alive(attempt);
      trees_.push_back(std::move(tree));
      a.hello = true;
      clients_.SetHolding(a.index, true);
      h_.Add(a.process, OpType::kOk, "acquire", value);
      return "ok";
    }
    if (a.ended) return "unknown";
    if (verb == "write") {
      uint64_t token = 0;
      in >> token;
      h_.Add(a.process, OpType::kInvoke, "write", {{"resource", resource_}, {"token", token}});
      const bool accepted = store_.Write(resource_, token);
      h_.Add(a.process, OpType::kOk, "write",
             {{"resource", resource_}, {"token", token}, {"accepted", accepted}});
      return accepted ? "accepted" : "refused";
    }
    if (verb == "bye" && a.hello && !a.bye) {
      a.bye = true;
      h_.Add(a.process, OpType::kInvoke, "release", {{"resource", resource_}});
      return "ok";
    }
    return "unknown";
  }

  History& h_;
  ClientStalls& clients_;
  Store store_;
  std::string resource_;
  std::string name_;
  int listen_ = -1;
  std::map<int, std::string> conns_;  // fd -> what arrived of its next line (Serve's thread)
  std::mutex mu_;
  int64_t next_attempt_ = 1;
  std::map<int64_t, Attempt> attempts_;
  std::vector<Tree> trees_;
};

namespace {

// Starts `argv` in a group of its own, its output appended to `log`. The pid, or -1.
pid_t Spawn(const std::vector<std::string>& argv, const std::string& log) {
  std::vector<char*> cargv;
  for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&files, 1, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, cargv[0], &files, &attr, cargv.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&files);
  return rc == 0 ? pid : -1;
}

void Say(int fd, const std::string& line) {
  const std::string out = line + "\n";
  if (::write(fd, out.data(), out.size()) < 0) ::_exit(1);
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n') {
  }
}

}  // namespace

CliClients::CliClients(const LockWorkloadOptions& o, std::string keyward, std::string self,
                       std::string log, History& h, ClientStalls& clients)
    : o_(o),
      keyward_(std::move(keyward)),
      self_(std::move(self)),
      log_(std::move(log)),
      h_(h),
      clients_(clients),
      reports_(std::make_unique<CliReports>(h, clients, o.fence, o.resource)) {
  for (const std::string& url : o.urls) servers_ += (servers_.empty() ? "" : ",") + url;
}

CliClients::~CliClients() {
  done_ = true;
  if (server_.joinable()) server_.join();
}

std::optional<std::string> CliClients::Start() {
  if (auto error = reports_->Listen()) return error;
  server_ = std::thread([this] { reports_->Serve(done_); });
  return std::nullopt;
}

CliAttempt CliClients::Launch(int index, int process, int64_t wait_ms, int64_t hold_ms,
                              bool stubborn) {
  const int64_t ttl = o_.ttl.count();
  nlohmann::json target = {{"resource", o_.resource}};
  if (wait_ms >= 0) target["wait_ms"] = wait_ms;
  h_.Add(process, OpType::kInvoke, "acquire", target);
  CliAttempt a{index, process, reports_->Begin(index, process), -1};
  std::vector<std::string> argv = {keyward_,    "lock", o_.resource, "--ttl", std::to_string(ttl),
                                   "--timeout", "100",  "--servers", servers_};
  if (const std::string address = ProcessAddress(o_, index); !address.empty()) {
    argv.insert(argv.end(), {"--source-addr", address});
  }
  if (wait_ms >= 0) argv.insert(argv.end(), {"--wait", std::to_string(wait_ms)});
  argv.insert(argv.end(), {"--", self_, "cli-child", reports_->name(), std::to_string(a.attempt),
                           std::to_string(hold_ms), stubborn ? "1" : "0"});
  a.pid = Spawn(argv, log_);
  if (a.pid > 0) clients_.SetPid(index, a.pid);
  return a;
}

bool CliClients::Holding(const CliAttempt& a) const { return reports_->Hello(a.attempt); }

int CliClients::Finish(const CliAttempt& a) {
  int status = 0;
  if (a.pid > 0) {
    // Exited, but not reaped until the nemesis can no longer pick its pid (which the kernel
    // could hand to another process once reaped).
    siginfo_t info{};
    while (::waitid(P_PID, static_cast<id_t>(a.pid), &info, WEXITED | WNOWAIT) < 0 &&
           errno == EINTR) {
    }
    clients_.SetPid(a.index, 0);
    while (::waitpid(a.pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  const CliReports::Attempt r = reports_->End(a.attempt);
  const int code = a.pid < 0             ? -1
                   : WIFEXITED(status)   ? WEXITSTATUS(status)
                   : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
                                         : -1;
  nlohmann::json outcome = {{"resource", o_.resource}, {"exit", code}};
  if (!r.hello) {
    // keyward's own refusals: the lock was not had. Anything else (killed, a crash) may have
    // taken it on the servers.
    const bool refused = code == kExitNotAcquired || code == kExitUnavailable;
    h_.Add(a.process, refused ? OpType::kFail : OpType::kInfo, "acquire", outcome);
    return refused ? a.process : a.process + o_.concurrency;
  }
  if (!r.bye) h_.Add(a.process, OpType::kInvoke, "release", {{"resource", o_.resource}});
  if (code == 0) {
    h_.Add(a.process, OpType::kOk, "release", outcome);
    return a.process;
  }
  // The lease was lost (76), or keyward was killed: whether the servers still hold it is
  // unknown.
  h_.Add(a.process, OpType::kInfo, "release", outcome);
  return a.process + o_.concurrency;
}

void CliClients::FinalCheck(int process) { reports_->FinalCheck(process); }

void RunCliWorkload(const LockWorkloadOptions& o, const std::string& keyward,
                    const std::string& self, const std::string& log, History& history,
                    ClientStalls& clients, const std::atomic<bool>& stop) {
  CliClients cli(o, keyward, self, log, history, clients);
  if (auto error = cli.Start()) {
    history.Add(kNemesis, OpType::kInfo, "error", {{"error", *error}});
    return;
  }
  RunProcesses(o.concurrency, [&](int index) {
    std::mt19937_64 rng = ProcessRng(o, index);
    const int64_t ttl = o.ttl.count();
    int process = index;
    while (!stop.load()) {
      // Half the attempts queue for the lock (the wait's hand-off path), half fail at once.
      const int64_t wait_ms = rng() % 2 == 0 ? 2 * ttl : -1;
      const int64_t hold_ms = static_cast<int64_t>(rng() % static_cast<uint64_t>(ttl + 1));
      const bool stubborn = rng() % 4 == 0;
      const int before = process;
      process = cli.Finish(cli.Launch(index, process, wait_ms, hold_ms, stubborn));
      if (process == before) std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 11));
    }
  });
  cli.FinalCheck(o.concurrency * 1000);
}

int RunCliChild(const std::vector<std::string>& args) {
  if (args.size() != 4) return 64;
  const char* token = std::getenv("KEYWARD_FENCING_TOKEN");
  const std::string attempt = args[1];
  const int64_t hold_ms = std::stoll(args[2]);
  if (args[3] == "1") ::signal(SIGTERM, SIG_IGN);  // stubborn: only SIGKILL ends it
  // The rest of the tree: a process that only sleeps, and must not outlive the lock either.
  const pid_t grandchild = ::fork();
  if (grandchild == 0) {
    while (true) ::pause();
  }
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  socklen_t len = 0;
  const sockaddr_un addr = AbstractAddress(args[0], &len);
  if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), len) != 0) return 1;
  const std::string t = token != nullptr ? token : "0";
  Say(fd, "hello " + attempt + " " + t + " " + std::to_string(::getpid()) + " " +
              std::to_string(grandchild));
  Say(fd, "write " + attempt + " " + t);
  std::this_thread::sleep_for(std::chrono::milliseconds(hold_ms));
  Say(fd, "bye " + attempt);
  return 0;
}

}  // namespace keyward::jepsen
