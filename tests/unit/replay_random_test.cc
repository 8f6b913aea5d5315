// The replay check over the seeded random sequences of the differential suite
// (tests/differential/test_random.py generates them, here printed with --dump): string, bitmap,
// generic and expire commands across three databases, invalid ones mixed in, with time moving on
// between batches so keys expire lazily and in the active cycle. After each sequence the
// fixture rebuilds a server from the propagation stream alone and compares the whole dataset
// (command_test.h). A few scripts and fenced locks run in between, so their effects are part of
// the same stream.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tests/support/command_test.h"

namespace keyward::test {
namespace {

std::vector<std::string> SplitHexLine(const std::string& line) {
  std::vector<std::string> args;
  size_t start = 0;
  while (true) {
    const size_t space = line.find(' ', start);
    const std::string hex =
        line.substr(start, space == std::string::npos ? std::string::npos : space - start);
    std::string arg;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) {
      arg.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    }
    args.push_back(std::move(arg));
    if (space == std::string::npos) return args;
    start = space + 1;
  }
}

// The generator's commands for `seed`.
std::vector<std::vector<std::string>> Sequence(int seed, int count) {
  const std::string cmd = "PYTHONPATH=" KEYWARD_SOURCE_DIR
                          "/tests/support /usr/bin/python3 " KEYWARD_SOURCE_DIR
                          "/tests/differential/test_random.py --dump " +
                          std::to_string(seed) + " " + std::to_string(count);
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  std::vector<std::vector<std::string>> out;
  if (!pipe) return out;
  std::string line;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof(buf), pipe.get())) line.append(buf, n);
  size_t start = 0;
  while (start < line.size()) {
    const size_t eol = line.find('\n', start);
    out.push_back(SplitHexLine(line.substr(start, eol - start)));
    start = eol + 1;
  }
  return out;
}

class RandomReplayTest : public CommandTest, public ::testing::WithParamInterface<int> {};

TEST_P(RandomReplayTest, AServerRebuiltFromTheStreamMatches) {
  const int seed = GetParam();
  const auto commands = Sequence(seed, 3000);
  ASSERT_EQ(commands.size(), 3000u) << "the generator did not run";
  std::mt19937 rng(seed);
  for (size_t i = 0; i < commands.size(); i++) {
    Run(commands[i]);
    switch (rng() % 97) {
      case 0:  // long enough for the generator's shortest relative expiries (1000 s)
        AdvanceMs(1000 * 1000 + static_cast<int64_t>(rng() % 5000));
        break;
      case 1:
        Run({"eval", "redis.call('incr', 'num'); redis.call('set', KEYS[1], ARGV[1]); return 1",
             "1", "k" + std::to_string(rng() % 5), "from a script"});
        break;
      case 2:
        Run({"lock.acquire", "k" + std::to_string(rng() % 5), "owner", "500000", "FENCE"});
        break;
      default:
        AdvanceMs(static_cast<int64_t>(rng() % 200));
        break;
    }
  }
  // The replay check runs after the test (CommandTest::TearDown).
}

INSTANTIATE_TEST_SUITE_P(Seeds, RandomReplayTest, ::testing::Values(20261121, 1, 2, 3, 4));

}  // namespace
}  // namespace keyward::test
