// Command-line options read the way redis-server 7.0 reads them: a bare `--save`, an option whose
// value starts with "--", an option and its value in one argument.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "server/core/config.h"
#include "server/core/settings.h"
#include "server/server.h"

namespace keyward {
namespace {

struct Loaded {
  Config config;
  ServerSettings settings;
};

// Loads `args` (without the program name); throws ConfigError like LoadArgs.
void Load(Loaded& l, std::vector<std::string> args) {
  Server::DeclareOptions(l.config, l.settings);
  args.insert(args.begin(), "keyward-server");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  l.config.LoadArgs(static_cast<int>(argv.size()), argv.data());
}

TEST(ConfigArgsTest, BareSaveIsAnEmptySaveList) {
  Loaded last;
  Load(last, {"--port", "7001", "--save"});
  EXPECT_EQ(last.settings.port, 7001);
  EXPECT_EQ(last.config.GetValue("save"), "");

  Loaded middle;
  Load(middle, {"--save", "--port", "7002"});
  EXPECT_EQ(middle.settings.port, 7002);
}

TEST(ConfigArgsTest, ValueStartingWithDashes) {
  Loaded l;
  Load(l, {"--requirepass", "--secret", "--port", "7003"});
  EXPECT_EQ(l.settings.requirepass, "--secret");
  EXPECT_EQ(l.settings.port, 7003);
}

TEST(ConfigArgsTest, OptionAndValueInOneArgument) {
  Loaded l;
  Load(l, {"--port 7004", "--timeout", "3"});
  EXPECT_EQ(l.settings.port, 7004);
  EXPECT_EQ(l.settings.timeout, 3);
}

TEST(ConfigArgsTest, OtherBareOptionsAreStillErrors) {
  Loaded l;
  EXPECT_THROW(Load(l, {"--port"}), ConfigError);
}

}  // namespace
}  // namespace keyward
