#include "network.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <numeric>

namespace keyward::jepsen {

namespace {

// Runs `argv` (no shell) with `input` on its standard input and its output discarded; true on
// exit status 0. posix_spawn, not fork: copying the page tables of this (sanitized, threaded)
// process would take longer than the faults themselves.
bool RunTool(std::vector<std::string> argv, const std::string& input = "") {
  std::vector<char*> cargv;
  for (std::string& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  int in[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return false;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, cargv[0], &actions, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(in[0]);
  if (rc == 0 && !input.empty()) {
    size_t off = 0;
    while (off < input.size()) {
      const ssize_t n = ::write(in[1], input.data() + off, input.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
  }
  ::close(in[1]);
  if (rc != 0) return false;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool Iptables(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"iptables", "-w"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunTool(std::move(argv));
}

// Appends `rules` (each an iptables -A line without the "-A") in one call.
bool AppendRules(const std::string& chain, const std::vector<std::string>& rules) {
  if (rules.empty()) return true;
  std::string input = "*filter\n";
  for (const std::string& r : rules) input += "-A " + chain + " " + r + "\n";
  input += "COMMIT\n";
  return RunTool({"iptables-restore", "-w", "--noflush"}, input);
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

// Every node of `components` does not hear the nodes of the other components (Jepsen's
// complete-grudge).
Grudge CompleteGrudge(const std::vector<std::vector<int>>& components) {
  Grudge grudge;
  for (size_t a = 0; a < components.size(); a++) {
    for (int x : components[a]) {
      for (size_t b = 0; b < components.size(); b++) {
        if (a != b) grudge[x].insert(components[b].begin(), components[b].end());
      }
    }
  }
  return grudge;
}

}  // namespace

std::optional<Grudge> PartitionShape(const std::string& shape, int n, std::mt19937_64& rng) {
  std::vector<int> nodes(static_cast<size_t>(n));
  std::iota(nodes.begin(), nodes.end(), 0);
  std::shuffle(nodes.begin(), nodes.end(), rng);
  const auto half = nodes.begin() + n / 2;
  if (shape == "one") {
    return CompleteGrudge({{nodes[0]}, std::vector<int>(nodes.begin() + 1, nodes.end())});
  }
  if (shape == "halves") {
    return CompleteGrudge(
        {std::vector<int>(nodes.begin(), half), std::vector<int>(half, nodes.end())});
  }
  if (shape == "bridge") {
    // The first node of the second half is the bridge: in neither component, so heard by all.
    if (n < 3) return Grudge{};
    return CompleteGrudge(
        {std::vector<int>(nodes.begin(), half), std::vector<int>(half + 1, nodes.end())});
  }
  if (shape == "ring") {
    // Windows of a majority along the shuffled ring; each window's middle node hears only it.
    const int m = n / 2 + 1;
    Grudge grudge;
    for (int i = 0; i < n; i++) {
      std::set<int> window;
      for (int j = 0; j < m; j++) window.insert(nodes[static_cast<size_t>((i + j) % n)]);
      const int middle = nodes[static_cast<size_t>((i + m / 2) % n)];
      for (int x : nodes) {
        if (window.count(x) == 0) grudge[middle].insert(x);
      }
    }
    return grudge;
  }
  return std::nullopt;
}

bool Hears(const Grudge& grudge, int to, int from) {
  auto it = grudge.find(to);
  return it == grudge.end() || it->second.count(from) == 0;
}

Network::Network(int client_groups) : client_groups_(client_groups) {
  const int pid = static_cast<int>(::getpid());
  base_ = "127." + std::to_string(100 + (pid / 256) % 100) + "." + std::to_string(pid % 256) + ".";
}

std::string Network::NodeAddress(int node) const { return base_ + std::to_string(10 + node); }

std::string Network::ClientAddress(int group) const { return base_ + std::to_string(110 + group); }

std::optional<std::string> Network::Setup() {
  if (::geteuid() != 0) return std::string("network faults need root (iptables)");
  chain_ = "KWJ-" + std::to_string(::getpid());
  if (!Iptables({"-N", chain_}) || !Iptables({"-I", "INPUT", "-j", chain_})) {
    chain_.clear();
    return std::string("iptables failed (is it installed? scripts/install-deps.sh --test)");
  }
  return std::nullopt;
}

Network::~Network() {
  if (chain_.empty()) return;
  Iptables({"-D", "INPUT", "-j", chain_});
  Iptables({"-F", chain_});
  Iptables({"-X", chain_});
}

bool Network::Partition(const Grudge& grudge) {
  if (chain_.empty()) return false;
  std::vector<std::string> rules;
  for (const auto& [to, froms] : grudge) {
    for (int from : froms) {
      // The node, and the clients beside it.
      for (const std::string& source : {NodeAddress(from), ClientAddress(from)}) {
        rules.push_back("-s " + source + " -d " + NodeAddress(to) + " -j DROP");
      }
    }
  }
  return AppendRules(chain_, rules);
}

bool Network::Loss(int node, double probability) {
  if (chain_.empty()) return false;
  const std::string random =
      " -m statistic --mode random --probability " + std::to_string(probability) + " -j DROP";
  const std::string address = NodeAddress(node);
  // Not the harness's own connections (127.0.0.1): only what clients and nodes exchange.
  return AppendRules(chain_, {"! -s 127.0.0.1 -d " + address + random,
                              "-s " + address + " ! -d 127.0.0.1" + random});
}

bool Network::Heal() { return chain_.empty() || Iptables({"-F", chain_}); }

int RemoveLeftoverChains() {
  int removed = 0;
  for (const std::string& chain : Chains()) {
    if (chain.rfind("KWJ-", 0) != 0) continue;
    // A run still going (another harness, a test beside this one) keeps its chain.
    const pid_t owner = static_cast<pid_t>(std::atoi(chain.c_str() + 4));
    if (owner > 0 && (::kill(owner, 0) == 0 || errno == EPERM)) continue;
    Iptables({"-D", "INPUT", "-j", chain});
    Iptables({"-F", chain});
    if (Iptables({"-X", chain})) removed++;
  }
  return removed;
}

}  // namespace keyward::jepsen
