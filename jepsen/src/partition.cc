#include "partition.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <memory>
#include <vector>

namespace keyward::jepsen {

namespace {

// Runs iptables with `args` (no shell), its output discarded; true on exit status 0.
bool Iptables(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"iptables", "-w"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (std::string& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    std::FILE* null = std::fopen("/dev/null", "w");
    if (null != nullptr) {
      ::dup2(::fileno(null), 1);
      ::dup2(::fileno(null), 2);
    }
    ::execvp("iptables", cargv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// The names of the chains in the filter table.
std::vector<std::string> Chains() {
  std::vector<std::string> out;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> p(::popen("iptables -w -S 2>/dev/null", "r"),
                                                    ::pclose);
  if (!p) return out;
  std::array<char, 512> line{};
  while (std::fgets(line.data(), line.size(), p.get()) != nullptr) {
    std::string l(line.data());
    if (l.rfind("-N ", 0) == 0) {
      std::string name = l.substr(3);
      while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
      out.push_back(name);
    }
  }
  return out;
}

}  // namespace

std::optional<std::string> Partitioner::Setup() {
  if (::geteuid() != 0) return std::string("the partition fault needs root (iptables)");
  chain_ = "KWJ-" + std::to_string(::getpid());
  if (!Iptables({"-N", chain_}) || !Iptables({"-I", "INPUT", "-j", chain_})) {
    chain_.clear();
    return std::string("iptables failed (is it installed? scripts/install-deps.sh --test)");
  }
  return std::nullopt;
}

Partitioner::~Partitioner() {
  if (chain_.empty()) return;
  Iptables({"-D", "INPUT", "-j", chain_});
  Iptables({"-F", chain_});
  Iptables({"-X", chain_});
}

bool Partitioner::Isolate(int port) {
  if (chain_.empty()) return false;
  const std::string p = std::to_string(port);
  return Iptables({"-A", chain_, "-p", "tcp", "--dport", p, "-j", "DROP"}) &&
         Iptables({"-A", chain_, "-p", "tcp", "--sport", p, "-j", "DROP"});
}

bool Partitioner::Heal() { return chain_.empty() || Iptables({"-F", chain_}); }

int RemoveLeftoverChains() {
  int removed = 0;
  for (const std::string& chain : Chains()) {
    if (chain.rfind("KWJ-", 0) != 0) continue;
    Iptables({"-D", "INPUT", "-j", chain});
    Iptables({"-F", chain});
    if (Iptables({"-X", chain})) removed++;
  }
  return removed;
}

}  // namespace keyward::jepsen
