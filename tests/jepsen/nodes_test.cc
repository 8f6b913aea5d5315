// The nodes under test and their clock fault: libfaketime preloaded into a node moves its wall
// clock when the harness rewrites the offset (the server log's timestamps show it), and Keyward,
// which slews towards the wall clock instead of jumping, does not follow a step at once (its
// promise: expiry and leases move with the monotonic clock).
#include "nodes.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>

#include "keyward/client/client.h"

namespace keyward::jepsen {
namespace {

namespace fs = std::filesystem;

int64_t NowS() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The node's TIME, seconds (-1 when it does not answer).
int64_t NodeTimeS(const Node& node) {
  client::ClientOptions options;
  options.connection.host = node.host();
  options.connection.port = static_cast<uint16_t>(node.port());
  client::Client c(options);
  auto reply = c.Command("TIME");
  if (!reply || !reply->as_array()) return -1;
  return std::stoll(std::string((*reply->as_array())[0].as_string().value()));
}

// The date the server's log gives its last "DB saved on disk" line ("06 Dec 2026").
std::string LastSaveLogDate(const Node& node) {
  EXPECT_EQ(Admin(node, {"SAVE"}), "OK");
  std::ifstream log(node.dir() + "/server.log");
  std::string line, last;
  while (std::getline(log, line)) {
    if (line.find("DB saved on disk") != std::string::npos) last = line;
  }
  // "<pid>:M 06 Dec 2026 05:24:29.123 * DB saved on disk"
  const size_t at = last.find(' ');
  return at == std::string::npos ? "" : last.substr(at + 1, 11);
}

std::string DateIn(int64_t offset_s) {
  const std::time_t t = std::time(nullptr) + offset_s;
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%d %b %Y", &tm);
  return buf;
}

std::string Beside(const std::string& name) {
  return (fs::read_symlink("/proc/self/exe").parent_path() / name).string();
}

class NodeClockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (LibFaketime().empty()) GTEST_FAIL() << "libfaketime: scripts/install-deps.sh --test";
    dir_ = fs::temp_directory_path() / ("kwj-nodes-" + std::to_string(::getpid()));
    options_.binary = Beside("keyward-server");
    options_.faketime = true;
    options_.persistent = false;
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  NodeOptions options_;
};

TEST_F(NodeClockTest, AStepMovesTheNodesWallClockOnly) {
  // (Debian's redis-server cannot take libfaketime: jemalloc and its clock_gettime recurse.)
  Node node(1, "127.0.0.1", (dir_ / "n1").string(), options_);
  ASSERT_EQ(node.Start(), std::nullopt);
  EXPECT_EQ(LastSaveLogDate(node), DateIn(0));
  // The log's timestamps are the wall clock: a year on, then back.
  ASSERT_TRUE(node.SetClock("+31536000"));
  EXPECT_EQ(LastSaveLogDate(node), DateIn(31536000));
  ASSERT_TRUE(node.SetClock("+0"));
  EXPECT_EQ(LastSaveLogDate(node), DateIn(0));
  // The harness's own clock never moved.
  EXPECT_EQ(std::getenv("FAKETIME_TIMESTAMP_FILE"), nullptr);
}

TEST_F(NodeClockTest, KeywardSlewsInsteadOfJumping) {
  Node node(1, "127.0.0.1", (dir_ / "n1").string(), options_);
  ASSERT_EQ(node.Start(), std::nullopt);
  ASSERT_TRUE(node.SetClock("+31536000"));
  // The step is in the log at once ...
  EXPECT_EQ(LastSaveLogDate(node), DateIn(31536000));
  // ... but Keyward's own clock (expiry, leases, TIME) moves towards it by at most 0.1% of the
  // time elapsed: it is still today.
  const int64_t t = NodeTimeS(node);
  EXPECT_LE(std::abs(t - NowS()), 2) << t;
}

}  // namespace
}  // namespace keyward::jepsen
