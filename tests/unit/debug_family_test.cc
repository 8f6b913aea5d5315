// DEBUG over the in-process fixture: the subcommands, their argument counts, the packed
// threshold's effect on lists, CHANGE-REPL-ID, and what LISTPACK and QUICKLIST print.
#include <regex>

#include "tests/support/command_test.h"

namespace keyward::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class DebugFamilyTest : public CommandTest {};

std::string SyntaxError(const std::string& sub) {
  return "ERR unknown subcommand or wrong number of arguments for '" + sub + "'. Try DEBUG HELP.";
}

// A field of DEBUG OBJECT's line ("ql_nodes" -> "3").
std::string ObjectField(const Resp& line, const std::string& name) {
  std::smatch m;
  const std::regex re(" " + name + ":([^ ]+)");
  return std::regex_search(line.str, m, re) ? m[1].str() : "<none>";
}

TEST_F(DebugFamilyTest, Debug) {
  SkipReplayCheck("DEBUG POPULATE writes keys without propagating them, as in Redis");
  EXPECT_EQ(Run({"debug", "sleep", "0"}), "OK");
  EXPECT_EQ(Run({"debug", "populate", "10"}), "OK");
  EXPECT_EQ(Run({"get", "key:3"}), "value:3");
  EXPECT_EQ(Run({"debug", "populate", "3", "p", "20"}), "OK");
  EXPECT_EQ(Run({"strlen", "p:1"}), 20);
  EXPECT_EQ(Run({"debug", "set-active-expire", "0"}), "OK");
  EXPECT_FALSE(server().services().cron.active_expire_enabled);
  EXPECT_THAT(Run({"debug", "nope"}), ErrorIs(SyntaxError("nope")));
}

TEST_F(DebugFamilyTest, DebugIsDisabledByDefault) {
  EXPECT_EQ(Run({"config", "get", "enable-debug-command"})[1], "yes");  // set by the fixture
  settings_for_test().enable_debug_command = static_cast<int>(DebugCommand::kNo);
  EXPECT_THAT(Run({"debug", "sleep", "0"}), ErrorStartsWith("ERR DEBUG command not allowed."));
}

TEST_F(DebugFamilyTest, SubcommandsNeedTheirArgumentCounts) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"debug", "help", "x"},
                                             {"debug", "change-repl-id", "x"},
                                             {"debug", "object"},
                                             {"debug", "quicklist-packed-threshold"},
                                             {"debug", "quicklist-packed-threshold", "1", "2"},
                                             {"debug", "listpack", "k", "x"},
                                             {"debug", "quicklist", "k", "1", "x"},
                                             {"debug", "sleep"}}) {
    EXPECT_THAT(Run(args), ErrorIs(SyntaxError(args[1]))) << args[1];
  }
}

TEST_F(DebugFamilyTest, HelpListsWhatKeywardHas) {
  std::vector<std::string> entries;
  for (const std::string& line : Run({"debug", "help"}).strings()) {
    if (!line.starts_with(" ")) entries.push_back(line.substr(0, line.find(' ')));
  }
  EXPECT_THAT(entries,
              ElementsAre("DEBUG", "CHANGE-REPL-ID", "LOADAOF", "OBJECT", "POPULATE", "PROTOCOL",
                          "RELOAD", "SEGFAULT", "SET-ACTIVE-EXPIRE", "QUICKLIST-PACKED-THRESHOLD",
                          "SLEEP", "LISTPACK", "QUICKLIST", "HELP"));
}

TEST_F(DebugFamilyTest, ChangeReplIdMakesANewIdAndClearsTheSecond) {
  ServerState& state = server().services().state;
  state.replid2 = std::string(40, 'a');  // as if this server had been a replica
  state.second_replid_offset = 100;
  const std::string before = state.replid;
  ASSERT_EQ(before.size(), 40u);
  EXPECT_NE(before, state.run_id);
  EXPECT_EQ(Run({"debug", "change-repl-id"}), "OK");
  EXPECT_NE(state.replid, before);
  EXPECT_EQ(state.replid.size(), 40u);
  EXPECT_EQ(state.replid.find_first_not_of("0123456789abcdef"), std::string::npos);
  const std::string info = Run({"info", "replication"}).str;
  EXPECT_THAT(info, HasSubstr("master_replid:" + state.replid + "\r\n"));
  EXPECT_THAT(info, HasSubstr("master_replid2:" + std::string(40, '0') + "\r\n"));
  EXPECT_THAT(info, HasSubstr("second_repl_offset:-1\r\n"));
}

TEST_F(DebugFamilyTest, PackedThresholdMakesPlainNodes) {
  SkipReplayCheck(
      "DEBUG QUICKLIST-PACKED-THRESHOLD is not propagated, as in Redis: a replica lays its lists "
      "out in nodes by its own threshold");
  EXPECT_EQ(Run({"debug", "quicklist-packed-threshold", "3b"}), "OK");
  // "abc" and "12345" get nodes of their own, between which the short ones get theirs.
  Run({"rpush", "l", "a", "abc", "12", "12345", "b"});
  Resp obj = Run({"debug", "object", "l"});
  EXPECT_EQ(ObjectField(obj, "ql_nodes"), "5");
  // Listpacks of 10 ("a", "b") and 9 bytes ("12", an integer); the plain nodes' elements.
  EXPECT_EQ(ObjectField(obj, "ql_uncompressed_size"), std::to_string(10 + 3 + 9 + 5 + 10));
  EXPECT_THAT(Run({"lrange", "l", "0", "-1"}).strings(),
              ElementsAre("a", "abc", "12", "12345", "b"));
  // The threshold applies to lists that exist; 0 restores the default.
  EXPECT_EQ(Run({"debug", "quicklist-packed-threshold", "0"}), "OK");
  EXPECT_EQ(server().services().settings.list_packed_threshold, size_t{1} << 30);
  Run({"rpush", "l", "cdef"});  // into the last node, "b"'s
  EXPECT_EQ(ObjectField(Run({"debug", "object", "l"}), "ql_nodes"), "5");
  EXPECT_THAT(Run({"debug", "quicklist-packed-threshold", "4gb"}),
              ErrorIs("ERR argument must be a memory value bigger than 1 and smaller than 4gb"));
  EXPECT_THAT(Run({"debug", "quicklist-packed-threshold", "1.5"}),
              ErrorIs("ERR argument must be a memory value bigger than 1 and smaller than 4gb"));
  EXPECT_EQ(Run({"debug", "quicklist-packed-threshold", "4095mb"}), "OK");
  EXPECT_EQ(server().services().settings.list_packed_threshold, size_t{4095} << 20);
  EXPECT_EQ(Run({"debug", "quicklist-packed-threshold", "2K"}), "OK");
  EXPECT_EQ(server().services().settings.list_packed_threshold, 2000u);
}

TEST_F(DebugFamilyTest, ListpackAndQuicklistPrintOnStdout) {
  Run({"rpush", "l", "a", "12"});
  Run({"hset", "h", "f", "1"});
  Run({"set", "s", "x"});
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(Run({"debug", "quicklist", "l", "1"}), "Quicklist structure printed on stdout");
  EXPECT_EQ(Run({"debug", "listpack", "h"}), "Listpack structure printed on stdout");
  const std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_THAT(out, HasSubstr("{count : 2}\n{len : 1}\n{fill : -2}\n{compress : 0}\n"
                             "{bookmark_count : 0}\n{quicklist node(0)\n{container : PACKED, "
                             "encoding: RAW, size: 12, count: 2, recompress: 0, "
                             "attempted_compress: 0}\n{ listpack:\n{total bytes 12} "
                             "{num entries 2}\n"));
  // "12" is a 7-bit integer: one byte, and its backlen.
  EXPECT_THAT(out, HasSubstr("\toffset: 9,\n\thdr+entrylen+backlen:  2,\n\thdrlen:   1,\n"
                             "\tbacklen:  1,\n\tpayload: 0\n\tbytes: 0c|01|\n\t[str]12\n}\n"
                             "{end}\n\n}\n}\n"));
  // The hash's field "f": a 6-bit string.
  EXPECT_THAT(out, HasSubstr("\thdr+entrylen+backlen:  3,\n\thdrlen:   1,\n\tbacklen:  1,\n"
                             "\tpayload: 1\n\tbytes: 81|66|02|\n\t[str]f\n"));
  EXPECT_THAT(Run({"debug", "listpack", "l"}), ErrorIs("ERR Not a listpack encoded object."));
  EXPECT_THAT(Run({"debug", "quicklist", "h"}), ErrorIs("ERR Not a quicklist encoded object."));
  EXPECT_THAT(Run({"debug", "listpack", "s"}), ErrorIs("ERR Not a listpack encoded object."));
  EXPECT_THAT(Run({"debug", "quicklist", "nosuch"}), ErrorIs("ERR no such key"));
}

}  // namespace
}  // namespace keyward::test
