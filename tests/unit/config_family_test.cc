#include <filesystem>
#include <fstream>

#include "tests/support/command_test.h"

namespace keyward::test {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

class ConfigFamilyTest : public CommandTest {};

TEST_F(ConfigFamilyTest, GetWithPatterns) {
  EXPECT_THAT(Run({"config", "get", "port"}).strings(), ElementsAre("port", "6379"));
  EXPECT_THAT(Run({"config", "get", "slowlog-*"}).strings(),
              UnorderedElementsAre("slowlog-log-slower-than", "10000", "slowlog-max-len", "128"));
  EXPECT_THAT(Run({"config", "get", "maxclients", "timeout"}).strings(),
              UnorderedElementsAre("maxclients", "10000", "timeout", "0"));
  EXPECT_EQ(Run({"config", "get", "nosuch"}).size(), 0u);
  EXPECT_THAT(Run({"config", "get", "save"}).strings(), ElementsAre("save", ""));
  EXPECT_THAT(Run({"config", "get", "lua-time-limit"}).strings(),
              ElementsAre("lua-time-limit", "5000"));
}

TEST_F(ConfigFamilyTest, SetWithRedisErrors) {
  EXPECT_EQ(Run({"config", "set", "maxclients", "100"}), "OK");
  EXPECT_EQ(Run({"config", "get", "maxclients"})[1], "100");
  EXPECT_THAT(Run({"config", "set", "maxclients", "abc"}),
              ErrorIs("ERR CONFIG SET failed (possibly related to argument 'maxclients') - "
                      "argument couldn't be parsed into an integer"));
  EXPECT_THAT(Run({"config", "set", "foo", "bar"}),
              ErrorIs("ERR Unknown option or number of arguments for CONFIG SET - 'foo'"));
  EXPECT_THAT(Run({"config", "set", "databases", "1"}),
              ErrorIs("ERR CONFIG SET failed (possibly related to argument 'databases') - can't "
                      "set immutable config"));
  EXPECT_EQ(Run({"config", "set", "hz", "0"}), "OK");  // clamped like Redis
  EXPECT_EQ(Run({"config", "get", "hz"})[1], "1");
  EXPECT_THAT(Run({"config", "get", "MAXCLIENTS"}).strings(),
              ElementsAre("MAXCLIENTS", "100"));  // an exact name is echoed as typed
  EXPECT_THAT(Run({"config", "set", "loglevel", "xx"}),
              ErrorIs("ERR CONFIG SET failed (possibly related to argument 'loglevel') - "
                      "argument(s) must be one of the following: debug, verbose, notice, warning"));
  EXPECT_THAT(Run({"config", "set", "protected-mode", "maybe"}),
              ErrorIs("ERR CONFIG SET failed (possibly related to argument 'protected-mode') - "
                      "argument must be 'yes' or 'no'"));
  EXPECT_THAT(Run({"config", "set", "port"}),
              ErrorIs("ERR wrong number of arguments for 'config|set' command"));
  EXPECT_EQ(Run({"config", "set", "proto-max-bulk-len", "2mb"}), "OK");
  EXPECT_EQ(Run({"config", "get", "proto-max-bulk-len"})[1], "2097152");
}

TEST_F(ConfigFamilyTest, SetIsAtomic) {
  EXPECT_THAT(Run({"config", "set", "timeout", "5", "maxclients", "x"}),
              ErrorStartsWith("ERR CONFIG SET failed (possibly related to argument 'maxclients')"));
  EXPECT_EQ(Run({"config", "get", "timeout"})[1], "0");  // rolled back
  EXPECT_THAT(Run({"config", "set", "timeout", "5", "timeout", "6"}),
              ErrorIs("ERR CONFIG SET failed (possibly related to argument 'timeout') - "
                      "duplicate parameter"));
  EXPECT_EQ(Run({"config", "set", "timeout", "5", "hz", "20"}), "OK");
  EXPECT_EQ(Run({"config", "get", "hz"})[1], "20");
}

TEST_F(ConfigFamilyTest, UnimplementedOptionsAreRefused) {
  EXPECT_EQ(Run({"config", "set", "maxmemory-clients", "0"}), "OK");
  EXPECT_THAT(
      Run({"config", "set", "maxmemory-clients", "1mb"}),
      ErrorStartsWith("ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients')"));
}

TEST_F(ConfigFamilyTest, SavePointsAreReplacedByConfigSetAndAddUpInAFile) {
  EXPECT_EQ(Run({"config", "set", "save", "3600 1 60 100"}), "OK");
  EXPECT_EQ(Run({"config", "get", "save"})[1], "3600 1 60 100");
  EXPECT_EQ(Run({"config", "set", "save", "30 5"}), "OK");
  EXPECT_EQ(Run({"config", "get", "save"})[1], "30 5");
  for (const char* bad : {"30", "0 1", "30 -1", "x 1"}) {
    EXPECT_THAT(Run({"config", "set", "save", bad}),
                ErrorIs("ERR CONFIG SET failed (possibly related to argument 'save') - Invalid "
                        "save parameters"))
        << bad;
  }
  EXPECT_EQ(Run({"config", "get", "save"})[1], "30 5");
  EXPECT_EQ(Run({"config", "set", "save", ""}), "OK");
  EXPECT_EQ(Run({"config", "get", "save"})[1], "");

  // In a file, the first `save` line replaces the defaults and the next ones add points.
  Config config;
  ServerSettings settings;
  Server::DeclareOptions(config, settings);
  EXPECT_EQ(settings.save_params.size(), 3u);  // Redis's defaults
  config.LoadText("save 900 1\nsave 300 10\n", "test");
  EXPECT_EQ(config.Get({"save"})[0].second, "900 1 300 10");
}

TEST_F(ConfigFamilyTest, DirIsTheWorkingDirectoryAndProtected) {
  EXPECT_EQ(Run({"config", "get", "dir"})[1], std::filesystem::current_path().string());
  EXPECT_THAT(Run({"config", "set", "dir", "/tmp"}),
              ErrorIs("ERR CONFIG SET failed (possibly related to argument 'dir') - can't set "
                      "protected config"));
}

TEST_F(ConfigFamilyTest, RewriteWithoutFile) {
  EXPECT_THAT(Run({"config", "rewrite"}),
              ErrorIs("ERR The server is running without a config file"));
}

TEST(ConfigTest, FileSyntaxIncludesAndErrors) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("keyward-config-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "extra.conf") << "timeout 7\n";
  std::ofstream(dir / "main.conf") << "# comment\nport 7777\nrequirepass \"p a\\x41ss\"\ninclude "
                                   << (dir / "extra.conf").string() << "\n";
  Config config;
  ServerSettings s;
  Server::DeclareOptions(config, s);
  std::string path = (dir / "main.conf").string();
  std::string opt1 = "--maxclients", val1 = "55";
  char* argv[] = {const_cast<char*>("keyward-server"), path.data(), opt1.data(), val1.data()};
  config.LoadArgs(4, argv);
  EXPECT_EQ(s.port, 7777);
  EXPECT_EQ(s.requirepass, "p aAss");
  EXPECT_EQ(s.timeout, 7);
  EXPECT_EQ(s.maxclients, 55);

  // REWRITE keeps comments, updates changed lines and appends new ones.
  ASSERT_FALSE(config.Set({{"timeout", "9"}, {"hz", "15"}}).has_value());
  ASSERT_FALSE(config.Rewrite().has_value());
  Config reread;
  ServerSettings s2;
  Server::DeclareOptions(reread, s2);
  reread.LoadFile(path);
  EXPECT_EQ(s2.port, 7777);
  EXPECT_EQ(s2.hz, 15);
  EXPECT_EQ(s2.requirepass, "p aAss");
  EXPECT_EQ(s2.maxclients, 55);

  Config bad;
  ServerSettings s3;
  Server::DeclareOptions(bad, s3);
  try {
    bad.LoadText("port 1\ncluster-enabled yes\n", "test");
    FAIL() << "expected a config error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(),
                ::testing::HasSubstr("at line 2\n>>> 'cluster-enabled yes'\nBad directive "
                                     "or wrong number of arguments"));
  }
  EXPECT_THROW(bad.LoadText("port abc\n", "test"), ConfigError);
  EXPECT_THROW(bad.LoadText("port \"unbalanced\n", "test"), ConfigError);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace keyward::test
