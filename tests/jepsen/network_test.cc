// The nemesis's network: the partition shapes (pure), and the iptables rules cutting real
// loopback connections (root, as CI runs; the harness itself refuses network faults otherwise).
#include "network.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <random>

namespace keyward::jepsen {
namespace {

TEST(PartitionShapeTest, OneCutsANodeOffBothWays) {
  std::mt19937_64 rng(1);
  const Grudge g = *PartitionShape("one", 5, rng);
  int isolated = -1;
  for (const auto& [to, froms] : g) {
    if (froms.size() == 4) isolated = to;
  }
  ASSERT_GE(isolated, 0);
  for (int x = 0; x < 5; x++) {
    if (x == isolated) continue;
    EXPECT_FALSE(Hears(g, x, isolated));
    EXPECT_FALSE(Hears(g, isolated, x));
    for (int y = 0; y < 5; y++) {
      if (y != isolated) {
        EXPECT_TRUE(Hears(g, x, y));
      }
    }
  }
}

TEST(PartitionShapeTest, HalvesAreAMinorityAndAMajority) {
  for (uint64_t seed = 1; seed < 20; seed++) {
    std::mt19937_64 rng(seed);
    const Grudge g = *PartitionShape("halves", 5, rng);
    // Each node hears exactly its own half: sizes 2 and 3, symmetric.
    std::multiset<size_t> sizes;
    for (int x = 0; x < 5; x++) {
      size_t heard = 0;
      for (int y = 0; y < 5; y++) {
        EXPECT_EQ(Hears(g, x, y), Hears(g, y, x));
        heard += Hears(g, x, y) ? 1 : 0;
      }
      sizes.insert(heard);
    }
    EXPECT_EQ(sizes, (std::multiset<size_t>{2, 2, 3, 3, 3}));
  }
}

TEST(PartitionShapeTest, BridgeNodeHearsAndIsHeardByAll) {
  std::mt19937_64 rng(3);
  const Grudge g = *PartitionShape("bridge", 5, rng);
  int bridges = 0;
  for (int b = 0; b < 5; b++) {
    bool all = true;
    for (int x = 0; x < 5; x++) all = all && Hears(g, x, b) && Hears(g, b, x);
    if (all) bridges++;
  }
  EXPECT_EQ(bridges, 1);
  // The other four form two pairs that do not hear each other.
  int cut_pairs = 0;
  for (int x = 0; x < 5; x++) {
    for (int y = x + 1; y < 5; y++) cut_pairs += Hears(g, x, y) ? 0 : 1;
  }
  EXPECT_EQ(cut_pairs, 4);
}

TEST(PartitionShapeTest, RingEveryNodeHearsADifferentMajority) {
  for (int n : {3, 5}) {
    std::mt19937_64 rng(static_cast<uint64_t>(n));
    const Grudge g = *PartitionShape("ring", n, rng);
    std::set<std::set<int>> views;
    for (int x = 0; x < n; x++) {
      std::set<int> view;
      for (int y = 0; y < n; y++) {
        if (Hears(g, x, y)) view.insert(y);
      }
      EXPECT_EQ(view.size(), static_cast<size_t>(n / 2 + 1)) << "node " << x;
      EXPECT_TRUE(view.count(x));
      views.insert(view);
    }
    EXPECT_EQ(views.size(), static_cast<size_t>(n));
  }
  std::mt19937_64 rng(1);
  EXPECT_FALSE(PartitionShape("triangle", 3, rng));
}

// A listener on `address`, and connection attempts from a chosen source address.
class Endpoint {
 public:
  explicit Endpoint(const std::string& address) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    ::inet_pton(AF_INET, address.c_str(), &a.sin_addr);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    addr_ = a;
  }
  ~Endpoint() { ::close(fd_); }

  // Whether a connection from `source` completes within `timeout_ms`. (A dropped SYN never
  // completes, however long one waits: the short wait cannot make a cut look healed.)
  bool ReachableFrom(const std::string& source, int timeout_ms) const {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in s{};
    s.sin_family = AF_INET;
    ::inet_pton(AF_INET, source.c_str(), &s.sin_addr);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&s), sizeof s), 0);
    ::connect(fd, reinterpret_cast<const sockaddr*>(&addr_), sizeof addr_);
    pollfd p{fd, POLLOUT, 0};
    bool connected = false;
    if (::poll(&p, 1, timeout_ms) == 1) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      connected = err == 0;
    }
    ::close(fd);
    return connected;
  }

 private:
  int fd_ = -1;
  sockaddr_in addr_{};
};

constexpr int kSurely = 10000, kBriefly = 300;

TEST(NetworkTest, GrudgesDropNodesAndTheirClientsButNeverTheHarness) {
  Network net(3);
  ASSERT_EQ(net.Setup(), std::nullopt) << "run as root with iptables (scripts/install-deps.sh)";
  Endpoint n0(net.NodeAddress(0));
  EXPECT_TRUE(n0.ReachableFrom(net.NodeAddress(1), kSurely));
  EXPECT_TRUE(n0.ReachableFrom(net.ClientAddress(1), kSurely));
  // Node 0 does not hear node 1 (nor the clients beside it); node 2 and its clients are heard.
  ASSERT_TRUE(net.Partition({{0, {1}}}));
  EXPECT_FALSE(n0.ReachableFrom(net.NodeAddress(1), kBriefly));
  EXPECT_FALSE(n0.ReachableFrom(net.ClientAddress(1), kBriefly));
  EXPECT_TRUE(n0.ReachableFrom(net.NodeAddress(2), kSurely));
  EXPECT_TRUE(n0.ReachableFrom(net.ClientAddress(2), kSurely));
  EXPECT_TRUE(n0.ReachableFrom(net.ClientAddress(0), kSurely));
  EXPECT_TRUE(n0.ReachableFrom("127.0.0.1", kSurely));
  // Only node 0 was cut off: node 1 still hears node 0's clients.
  Endpoint n1(net.NodeAddress(1));
  EXPECT_TRUE(n1.ReachableFrom(net.ClientAddress(0), kSurely));
  ASSERT_TRUE(net.Heal());
  EXPECT_TRUE(n0.ReachableFrom(net.NodeAddress(1), kSurely));
  EXPECT_TRUE(n0.ReachableFrom(net.ClientAddress(1), kSurely));
}

TEST(NetworkTest, TotalLossDropsEverythingButTheHarness) {
  Network net(3);
  ASSERT_EQ(net.Setup(), std::nullopt) << "run as root with iptables (scripts/install-deps.sh)";
  Endpoint n2(net.NodeAddress(2));
  ASSERT_TRUE(net.Loss(2, 1.0));
  EXPECT_FALSE(n2.ReachableFrom(net.ClientAddress(0), kBriefly));
  EXPECT_FALSE(n2.ReachableFrom(net.NodeAddress(1), kBriefly));
  EXPECT_TRUE(n2.ReachableFrom("127.0.0.1", kSurely));
  ASSERT_TRUE(net.Heal());
  EXPECT_TRUE(n2.ReachableFrom(net.ClientAddress(0), kSurely));
}

bool ChainExists(const std::string& chain) {
  return std::system(("iptables -w -S " + chain + " >/dev/null 2>&1").c_str()) == 0;
}

TEST(NetworkTest, CleaningRemovesOnlyTheChainsOfRunsThatAreGone) {
  // (Tests and harness runs go on side by side: `clean` must not cut a running one's faults.)
  Network net(2);
  ASSERT_EQ(net.Setup(), std::nullopt) << "run as root with iptables (scripts/install-deps.sh)";
  pid_t gone = 4000000;
  while (::kill(gone, 0) == 0 || errno == EPERM) gone++;
  const std::string leftover = "KWJ-" + std::to_string(gone);
  ASSERT_EQ(std::system(("iptables -w -N " + leftover).c_str()), 0);
  EXPECT_GE(RemoveLeftoverChains(), 1);
  EXPECT_FALSE(ChainExists(leftover));
  EXPECT_TRUE(ChainExists("KWJ-" + std::to_string(::getpid())));
  // Ours still cuts.
  Endpoint n0(net.NodeAddress(0));
  ASSERT_TRUE(net.Partition({{0, {1}}}));
  EXPECT_FALSE(n0.ReachableFrom(net.NodeAddress(1), kBriefly));
}

TEST(NetworkTest, AddressesAreDistinctAndOnLoopback) {
  Network net(5);
  std::set<std::string> all;
  for (int i = 0; i < 5; i++) {
    all.insert(net.NodeAddress(i));
    all.insert(net.ClientAddress(i));
  }
  EXPECT_EQ(all.size(), 10u);
  for (const std::string& a : all) EXPECT_EQ(a.rfind("127.", 0), 0u) << a;
  EXPECT_EQ(all.count("127.0.0.1"), 0u);
}

}  // namespace
}  // namespace keyward::jepsen
