// The two pure pieces of the multi-part AOF, without a server: the manifest (storage/
// aof_manifest.h), parsed and written as Redis 7.0's aof.c does, every error text included; and
// the replay of one AOF file (storage/aof_loader.h) with fake handlers that record what they are
// handed, so the order of the commands, the transactions handed over at their EXEC and the
// offset a damaged file would be cut at are checked byte by byte. Where a case is a quirk of
// Redis's fgets-based readers (a last line without its newline, a line longer than the buffer),
// the expectation was taken from Redis 7.0.15 (redis-server and redis-check-aof).
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "server/storage/aof_loader.h"
#include "server/storage/aof_manifest.h"

namespace keyward::test {
namespace {

// ---------------------------------------------------------------------------------------------
// AofManifest

// The parse error, or "" when the text parses.
std::string ParseError(std::string_view text) {
  AofManifest m;
  return AofManifest::Parse(text, &m).value_or("");
}

AofManifest Parsed(std::string_view text) {
  AofManifest m;
  const std::optional<std::string> error = AofManifest::Parse(text, &m);
  EXPECT_FALSE(error) << *error;
  return m;
}

// Redis's report for an error about one line (aofLoadManifestFromFile's three log lines).
std::string AtLine(int linenum, std::string_view line, std::string_view error) {
  return "Reading the manifest file, at line " + std::to_string(linenum) + "\n>>> '" +
         std::string(line) + "'\n" + std::string(error);
}

constexpr std::string_view kInvalid = "Invalid AOF manifest file format";
constexpr std::string_view kTwoFiles =
    "file appendonly.aof.1.base.rdb seq 1 type b\n"
    "file appendonly.aof.1.incr.aof seq 1 type i\n";

TEST(AofManifestTest, ParsesBaseHistoryAndIncrAndWritesTheSameText) {
  const std::string text =
      "file appendonly.aof.2.base.rdb seq 2 type b\n"
      "file appendonly.aof.1.incr.aof seq 1 type h\n"
      "file appendonly.aof.1.base.rdb seq 1 type h\n"
      "file appendonly.aof.2.incr.aof seq 2 type i\n"
      "file appendonly.aof.3.incr.aof seq 3 type i\n";
  const AofManifest m = Parsed(text);
  ASSERT_TRUE(m.base());
  EXPECT_EQ(m.base()->name, "appendonly.aof.2.base.rdb");
  EXPECT_EQ(m.base()->seq, 2);
  EXPECT_EQ(m.base()->type, AofFileInfo::kBase);
  ASSERT_EQ(m.history().size(), 2u);
  EXPECT_EQ(m.history()[0].name, "appendonly.aof.1.incr.aof");
  EXPECT_EQ(m.history()[1].name, "appendonly.aof.1.base.rdb");
  EXPECT_EQ(m.history()[1].type, AofFileInfo::kHistory);
  ASSERT_EQ(m.incr().size(), 2u);
  EXPECT_EQ(m.incr()[1].name, "appendonly.aof.3.incr.aof");
  EXPECT_EQ(m.incr()[1].seq, 3);
  EXPECT_EQ(m.incr()[1].type, AofFileInfo::kIncr);
  EXPECT_FALSE(m.empty());
  EXPECT_FALSE(m.stale());
  EXPECT_EQ(m.ToString(), text);
  // And back again.
  EXPECT_EQ(Parsed(m.ToString()).ToString(), text);
}

TEST(AofManifestTest, WritesBaseFirstThenHistoryThenIncrWhateverTheLineOrder) {
  // Redis's getAofManifestAsString: base, history, incr, whatever order the file had.
  const AofManifest m = Parsed(
      "file i1 seq 1 type i\n"
      "file h1 seq 7 type h\n"
      "file b1 seq 4 type b\n"
      "file i2 seq 2 type i\n");
  EXPECT_EQ(m.ToString(),
            "file b1 seq 4 type b\n"
            "file h1 seq 7 type h\n"
            "file i1 seq 1 type i\n"
            "file i2 seq 2 type i\n");
}

TEST(AofManifestTest, EmptyManifestIsRefused) {
  EXPECT_EQ(ParseError(""), "Found an empty AOF manifest");
  // Only comments: not empty for Redis (it counted lines), and nothing to load.
  const AofManifest m = Parsed("# nothing here\n");
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(m.ToString(), "");
}

TEST(AofManifestTest, LineLongerThanTheBufferIsRefused) {
  // fgets with MANIFEST_MAX_LINE (1024) bytes: a line and its newline fit in 1024 bytes.
  const std::string prefix = "file ";
  const std::string suffix = " seq 1 type b";
  const std::string longest(1023 - prefix.size() - suffix.size(), 'n');
  EXPECT_EQ(ParseError(prefix + longest + suffix + "\n"), "");
  EXPECT_EQ(ParseError(prefix + longest + "n" + suffix + "\n"),
            "The AOF manifest file contains too long line");
  // No line is reported: Redis has not taken the line yet when it finds it too long.
  EXPECT_EQ(ParseError(std::string(kTwoFiles) + std::string(5000, 'x') + "\n"),
            "The AOF manifest file contains too long line");
}

TEST(AofManifestTest, LastLineWithoutItsNewlineIsTooLong) {
  // A Redis quirk (fgets found no '\n'), kept so both servers refuse the same files.
  EXPECT_EQ(ParseError("file appendonly.aof.1.base.rdb seq 1 type b"),
            "The AOF manifest file contains too long line");
  std::string text(kTwoFiles);
  text.pop_back();
  EXPECT_EQ(ParseError(text), "The AOF manifest file contains too long line");
}

TEST(AofManifestTest, LongCommentLineSpillsIntoTheNextRead) {
  // A comment is skipped one fgets buffer at a time: what is past the first 1024 bytes is read
  // as a line of its own (redis-check-aof says the same).
  const std::string comment = "#" + std::string(1100, 'c') + "\n";
  EXPECT_EQ(ParseError(comment + std::string(kTwoFiles)),
            AtLine(2, std::string(77, 'c'), kInvalid));
}

TEST(AofManifestTest, BlankLineIsRefusedWithItsNumber) {
  EXPECT_EQ(ParseError("file appendonly.aof.1.base.rdb seq 1 type b\n\n"
                       "file appendonly.aof.1.incr.aof seq 1 type i\n"),
            AtLine(2, "", kInvalid));
  EXPECT_EQ(ParseError("  \t\r\n"), AtLine(1, "", kInvalid));
}

TEST(AofManifestTest, WrongNumberOfArgumentsIsRefused) {
  // Fewer than six, or an odd number (a key without its value).
  EXPECT_EQ(ParseError("file a seq 1\n"), AtLine(1, "file a seq 1", kInvalid));
  EXPECT_EQ(ParseError("file a seq 1 type\n"), AtLine(1, "file a seq 1 type", kInvalid));
  EXPECT_EQ(ParseError("file a seq 1 type b extra\n"),
            AtLine(1, "file a seq 1 type b extra", kInvalid));
  // Unbalanced quotes: sdssplitargs fails.
  EXPECT_EQ(ParseError("file \"a seq 1 type b\n"), AtLine(1, "file \"a seq 1 type b", kInvalid));
}

TEST(AofManifestTest, FileNameThatIsAPathIsRefused) {
  EXPECT_EQ(ParseError("file dir/a.aof seq 1 type b\n"),
            AtLine(1, "file dir/a.aof seq 1 type b", "File can't be a path, just a filename"));
  EXPECT_EQ(ParseError(std::string(kTwoFiles) + "file a\\b seq 2 type i\n"),
            AtLine(3, "file a\\b seq 2 type i", "File can't be a path, just a filename"));
}

TEST(AofManifestTest, MissingFileSeqOrTypeIsRefused) {
  EXPECT_EQ(ParseError("file a type b x y\n"), AtLine(1, "file a type b x y", kInvalid));
  EXPECT_EQ(ParseError("file a seq 1 x y\n"), AtLine(1, "file a seq 1 x y", kInvalid));
  EXPECT_EQ(ParseError("seq 1 type b x y\n"), AtLine(1, "seq 1 type b x y", kInvalid));
  // A sequence that atoll reads as 0, an empty type.
  EXPECT_EQ(ParseError("file a seq 0 type b\n"), AtLine(1, "file a seq 0 type b", kInvalid));
  EXPECT_EQ(ParseError("file a seq one type b\n"), AtLine(1, "file a seq one type b", kInvalid));
  EXPECT_EQ(ParseError("file a seq 1 type \"\"\n"), AtLine(1, "file a seq 1 type \"\"", kInvalid));
}

TEST(AofManifestTest, SecondBaseIsRefused) {
  EXPECT_EQ(ParseError(std::string(kTwoFiles) + "file appendonly.aof.2.base.rdb seq 2 type b\n"),
            AtLine(3, "file appendonly.aof.2.base.rdb seq 2 type b",
                   "Found duplicate base file information"));
}

TEST(AofManifestTest, IncrSequenceMustIncrease) {
  EXPECT_EQ(ParseError("file i2 seq 2 type i\nfile i1 seq 1 type i\n"),
            AtLine(2, "file i1 seq 1 type i", "Found a non-monotonic sequence number"));
  EXPECT_EQ(ParseError("file i1 seq 1 type i\nfile i1b seq 1 type i\n"),
            AtLine(2, "file i1b seq 1 type i", "Found a non-monotonic sequence number"));
  EXPECT_EQ(ParseError("file i1 seq -1 type i\n"),
            AtLine(1, "file i1 seq -1 type i", "Found a non-monotonic sequence number"));
  // Base and history sequences are numbered apart: they do not count.
  EXPECT_EQ(ParseError("file b seq 9 type b\nfile h seq 8 type h\nfile i1 seq 1 type i\n"), "");
}

TEST(AofManifestTest, UnknownTypeIsRefused) {
  EXPECT_EQ(ParseError(std::string(kTwoFiles) + "file x seq 3 type z\n"),
            AtLine(3, "file x seq 3 type z", "Unknown AOF file type"));
  // The type is the first character, case-sensitive.
  EXPECT_EQ(ParseError("file x seq 3 type B\n"),
            AtLine(1, "file x seq 3 type B", "Unknown AOF file type"));
  const AofManifest m = Parsed("file x seq 3 type base\nfile y seq 1 type incr\n");
  ASSERT_TRUE(m.base());
  EXPECT_EQ(m.base()->name, "x");
  ASSERT_EQ(m.incr().size(), 1u);
}

TEST(AofManifestTest, CommentsAndCrlfAreAccepted) {
  const AofManifest m = Parsed(
      "# written by hand\r\n"
      "file appendonly.aof.1.base.rdb seq 1 type b\r\n"
      "#file appendonly.aof.9.incr.aof seq 9 type i\n"
      "  file appendonly.aof.1.incr.aof seq 1 type i  \r\n");
  EXPECT_EQ(m.ToString(), kTwoFiles);
  // The line reported is trimmed, as Redis trims it.
  EXPECT_EQ(ParseError("# c\n  file a seq 1 type z \r\n"),
            AtLine(2, "file a seq 1 type z", "Unknown AOF file type"));
}

TEST(AofManifestTest, QuotedNamesAreReadAndWrittenQuoted) {
  const std::string text =
      "file \"my file.aof.1.base.rdb\" seq 1 type b\n"
      "file \"my file.aof.1.incr.aof\" seq 1 type i\n";
  const AofManifest m = Parsed(text);
  ASSERT_TRUE(m.base());
  EXPECT_EQ(m.base()->name, "my file.aof.1.base.rdb");
  EXPECT_EQ(m.ToString(), text);
  // Only names that need it are quoted (sdsneedsrepr); escapes are read back.
  const AofManifest quoted = Parsed("file \"plain\" seq 1 type b\nfile \"a\\x01b\" seq 1 type i\n");
  EXPECT_EQ(quoted.base()->name, "plain");
  EXPECT_EQ(quoted.incr()[0].name, std::string("a\x01") + "b");
  EXPECT_EQ(quoted.ToString(), "file plain seq 1 type b\nfile \"a\\x01b\" seq 1 type i\n");
}

TEST(AofManifestTest, ExtraPairsAndAnyKeyOrderAreAccepted) {
  const AofManifest m = Parsed(
      "seq 1 type b file appendonly.aof.1.base.rdb\n"
      "TYPE i SEQ 1 future value FILE appendonly.aof.1.incr.aof\n");
  EXPECT_EQ(m.ToString(), kTwoFiles);  // unknown pairs are not kept
}

TEST(AofManifestTest, StaleMarkIsAPairOnTheFirstLine) {
  const std::string text =
      "file appendonly.aof.1.base.rdb seq 1 type b keyward-stale 1\n"
      "file appendonly.aof.1.incr.aof seq 1 type i\n";
  const AofManifest m = Parsed(text);
  EXPECT_TRUE(m.stale());
  EXPECT_EQ(m.ToString(), text);
  EXPECT_FALSE(Parsed("file a seq 1 type b keyward-stale 0\n").stale());
  EXPECT_FALSE(Parsed(kTwoFiles).stale());

  AofManifest fresh = Parsed(kTwoFiles);
  fresh.set_stale(true);
  EXPECT_EQ(fresh.ToString(), text);
  fresh.set_stale(false);
  EXPECT_EQ(fresh.ToString(), kTwoFiles);
  // Without a base, the first line is the first incr file's.
  AofManifest incr_only = Parsed("file i1 seq 1 type i\nfile i2 seq 2 type i\n");
  incr_only.set_stale(true);
  EXPECT_EQ(incr_only.ToString(), "file i1 seq 1 type i keyward-stale 1\nfile i2 seq 2 type i\n");
}

TEST(AofManifestTest, NewFilesAreNumberedAfterTheParsedOnes) {
  AofManifest m = Parsed(
      "file appendonly.aof.4.base.aof seq 4 type b\n"
      "file appendonly.aof.9.incr.aof seq 9 type h\n"
      "file appendonly.aof.6.incr.aof seq 6 type i\n");
  EXPECT_EQ(m.LastIncr("appendonly.aof"), "appendonly.aof.6.incr.aof");
  EXPECT_EQ(m.NewIncr("appendonly.aof"), "appendonly.aof.7.incr.aof");
  EXPECT_EQ(m.LastIncr("appendonly.aof"), "appendonly.aof.7.incr.aof");
  EXPECT_EQ(m.NewBase("appendonly.aof", /*rdb_preamble=*/true), "appendonly.aof.5.base.rdb");
  EXPECT_EQ(m.NewBase("appendonly.aof", /*rdb_preamble=*/false), "appendonly.aof.6.base.aof");
}

TEST(AofManifestTest, FreshManifestGetsBaseOneAndIncrOne) {
  // aofOpenIfNeededOnServerStart on an empty dataset.
  AofManifest m;
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(m.NewBase("appendonly.aof", true), "appendonly.aof.1.base.rdb");
  EXPECT_EQ(m.LastIncr("appendonly.aof"), "appendonly.aof.1.incr.aof");
  EXPECT_EQ(m.ToString(), kTwoFiles);
}

TEST(AofManifestTest, RewritesProduceRedisOrder) {
  // Redis 7.0.15 with aof-disable-auto-gc yes: base 1 and incr 1, a crash during a rewrite
  // (incr 2), another rewrite after the restart (opens incr 3) that finishes, then one more.
  // backgroundRewriteDoneHandler marks the base as history (at the head of the history), then
  // the incr files but the one being written, walking from the tail and adding each at the head.
  AofManifest m = Parsed(kTwoFiles);
  EXPECT_EQ(m.NewIncr("appendonly.aof"), "appendonly.aof.2.incr.aof");
  EXPECT_EQ(m.NewIncr("appendonly.aof"), "appendonly.aof.3.incr.aof");
  EXPECT_EQ(m.NewBase("appendonly.aof", true), "appendonly.aof.2.base.rdb");
  m.MarkIncrAsHistory(1);
  EXPECT_EQ(m.ToString(),
            "file appendonly.aof.2.base.rdb seq 2 type b\n"
            "file appendonly.aof.1.incr.aof seq 1 type h\n"
            "file appendonly.aof.2.incr.aof seq 2 type h\n"
            "file appendonly.aof.1.base.rdb seq 1 type h\n"
            "file appendonly.aof.3.incr.aof seq 3 type i\n");
  EXPECT_EQ(m.NewIncr("appendonly.aof"), "appendonly.aof.4.incr.aof");
  EXPECT_EQ(m.NewBase("appendonly.aof", true), "appendonly.aof.3.base.rdb");
  m.MarkIncrAsHistory(1);
  EXPECT_EQ(m.ToString(),
            "file appendonly.aof.3.base.rdb seq 3 type b\n"
            "file appendonly.aof.3.incr.aof seq 3 type h\n"
            "file appendonly.aof.2.base.rdb seq 2 type h\n"
            "file appendonly.aof.1.incr.aof seq 1 type h\n"
            "file appendonly.aof.2.incr.aof seq 2 type h\n"
            "file appendonly.aof.1.base.rdb seq 1 type h\n"
            "file appendonly.aof.4.incr.aof seq 4 type i\n");
  // The history is handed over for deletion in that order, and is gone from the manifest.
  const std::vector<AofFileInfo> history = m.TakeHistory();
  ASSERT_EQ(history.size(), 5u);
  EXPECT_EQ(history.front().name, "appendonly.aof.3.incr.aof");
  EXPECT_EQ(history.back().name, "appendonly.aof.1.base.rdb");
  EXPECT_EQ(m.ToString(),
            "file appendonly.aof.3.base.rdb seq 3 type b\n"
            "file appendonly.aof.4.incr.aof seq 4 type i\n");
}

TEST(AofManifestTest, RewriteWithTheAofOffMarksEveryIncrAsHistory) {
  // markRewrittenIncrAofAsHistory with aof_fd == -1: nothing is being written, none is kept.
  AofManifest m = Parsed(
      "file appendonly.aof.1.base.rdb seq 1 type b\n"
      "file appendonly.aof.1.incr.aof seq 1 type i\n"
      "file appendonly.aof.2.incr.aof seq 2 type i\n"
      "file appendonly.aof.3.incr.aof seq 3 type i\n");
  m.NewBase("appendonly.aof", false);
  m.MarkIncrAsHistory(0);
  EXPECT_EQ(m.ToString(),
            "file appendonly.aof.2.base.aof seq 2 type b\n"
            "file appendonly.aof.1.incr.aof seq 1 type h\n"
            "file appendonly.aof.2.incr.aof seq 2 type h\n"
            "file appendonly.aof.3.incr.aof seq 3 type h\n"
            "file appendonly.aof.1.base.rdb seq 1 type h\n");
  EXPECT_TRUE(m.incr().empty());
  // The next incr file goes on from the highest incr sequence.
  EXPECT_EQ(m.LastIncr("appendonly.aof"), "appendonly.aof.4.incr.aof");
}

TEST(AofManifestTest, OldStyleFileIsAdoptedAsBaseOne) {
  AofManifest m;
  m.AdoptOldStyle("appendonly.aof");
  EXPECT_EQ(m.ToString(), "file appendonly.aof seq 1 type b\n");
  EXPECT_EQ(m.NewBase("appendonly.aof", true), "appendonly.aof.2.base.rdb");
  EXPECT_EQ(m.history().front().name, "appendonly.aof");
}

// ---------------------------------------------------------------------------------------------
// ReplayAof

std::string Cmd(std::initializer_list<std::string_view> args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (std::string_view a : args) {
    out += "$" + std::to_string(a.size()) + "\r\n";
    out += a;
    out += "\r\n";
  }
  return out;
}

// What the fake handlers were handed, in order: commands joined by spaces, "rdb:<size>" for the
// RDB part, "#..." for annotations.
struct Recorder {
  std::vector<std::string> events;
  std::vector<size_t> progress;
  std::string rdb_seen;  // the bytes load_rdb was handed
  size_t rdb_size = 0;   // what load_rdb says it used
  std::optional<std::string> rdb_error;
  std::string unknown = "NOSUCHCMD";  // apply refuses this name

  AofReplayHandlers Handlers() {
    AofReplayHandlers h;
    h.apply = [this](CmdArgs args) -> std::optional<std::string> {
      if (args[0] == unknown) return std::string("ERR unknown command");
      std::string joined;
      for (std::string_view a : args) joined += (joined.empty() ? "" : " ") + std::string(a);
      events.push_back(joined);
      return std::nullopt;
    };
    h.load_rdb = [this](std::string_view data, size_t* used) -> std::optional<std::string> {
      rdb_seen = std::string(data);
      events.push_back("rdb:" + std::to_string(rdb_size));
      if (rdb_error) return rdb_error;
      *used = rdb_size;
      return std::nullopt;
    };
    h.annotation = [this](std::string_view line) { events.push_back(std::string(line)); };
    h.progress = [this](size_t loaded) { progress.push_back(loaded); };
    return h;
  }
};

// Replays `data` from a buffer of exactly its size, so that ASan reports any read past the end.
AofReplayResult Replay(std::string_view data, Recorder& recorder,
                       const std::string& name = "appendonly.aof.1.incr.aof") {
  std::unique_ptr<char[]> exact(new char[data.size()]);
  std::copy(data.begin(), data.end(), exact.get());
  return ReplayAof(std::string_view(exact.get(), data.size()), name, recorder.Handlers());
}

constexpr std::string_view kName = "appendonly.aof.1.incr.aof";
const std::string kBadFormat =
    "Bad file format reading the append only file appendonly.aof.1.incr.aof: make a backup of "
    "your AOF file, then use ./redis-check-aof --fix <filename.manifest>";
const std::string kUnexpectedEof =
    "Unexpected end of file reading the append only file appendonly.aof.1.incr.aof";
const std::string kRevertMulti =
    "Revert incomplete MULTI/EXEC transaction in AOF file appendonly.aof.1.incr.aof";

using Events = std::vector<std::string>;

TEST(AofReplayTest, EmptyFileIsEmpty) {
  Recorder r;
  const AofReplayResult result = Replay("", r);
  EXPECT_EQ(result.status, AofReplayResult::kEmpty);
  EXPECT_EQ(result.commands, 0u);
  EXPECT_TRUE(r.events.empty());
}

TEST(AofReplayTest, CommandsAreAppliedInOrder) {
  const std::string data = Cmd({"SELECT", "0"}) + Cmd({"SET", "k", "v"}) +
                           Cmd({"RPUSH", "l", "a", "b"}) +
                           Cmd({"SET", "bin", std::string_view("a\r\nb\0c", 6)}) +
                           Cmd({"SET", "empty", ""}) + Cmd({"DEL", "k"});
  Recorder r;
  const AofReplayResult result = Replay(data, r);
  EXPECT_EQ(result.status, AofReplayResult::kOk);
  EXPECT_EQ(result.commands, 6u);
  EXPECT_EQ(result.valid_up_to, data.size());
  EXPECT_EQ(r.events,
            (Events{"SELECT 0", "SET k v", "RPUSH l a b",
                    "SET bin a\r\nb" + std::string(1, '\0') + "c", "SET empty ", "DEL k"}));
}

TEST(AofReplayTest, AnnotationsAreHandedOverWithoutTheirLineEndAndSkipped) {
  const std::string data = "#TS:1700000000\r\n" + Cmd({"SET", "a", "1"}) + "#note\n" +
                           Cmd({"SET", "b", "2"}) + "#\r\n" + "#last, no line end";
  Recorder r;
  const AofReplayResult result = Replay(data, r);
  EXPECT_EQ(result.status, AofReplayResult::kOk);
  EXPECT_EQ(result.commands, 2u);
  EXPECT_EQ(r.events,
            (Events{"#TS:1700000000", "SET a 1", "#note", "SET b 2", "#", "#last, no line end"}));
  // No annotation handler: still skipped.
  AofReplayHandlers h = r.Handlers();
  h.annotation = nullptr;
  r.events.clear();
  EXPECT_EQ(ReplayAof(data, "x", h).status, AofReplayResult::kOk);
  EXPECT_EQ(r.events, (Events{"SET a 1", "SET b 2"}));
}

TEST(AofReplayTest, TransactionIsHandedOverAtItsExec) {
  const std::string before = Cmd({"SET", "a", "1"});
  const std::string multi = Cmd({"MULTI"}) + Cmd({"SET", "b", "2"}) + Cmd({"INCR", "c"});
  const std::string data = before + multi + Cmd({"EXEC"}) + Cmd({"SET", "d", "4"});
  Recorder r;
  AofReplayResult result = Replay(data, r);
  EXPECT_EQ(result.status, AofReplayResult::kOk);
  EXPECT_EQ(result.commands, 6u);
  EXPECT_EQ(r.events, (Events{"SET a 1", "MULTI", "SET b 2", "INCR c", "EXEC", "SET d 4"}));

  // Before its EXEC is read, none of the transaction has been handed over.
  Recorder partial;
  result = Replay(before + multi, partial);
  EXPECT_EQ(partial.events, (Events{"SET a 1"}));
  // Lower case, as a client may have sent it.
  Recorder lower;
  EXPECT_EQ(Replay(Cmd({"multi"}) + Cmd({"SET", "b", "2"}) + Cmd({"exec"}), lower).status,
            AofReplayResult::kOk);
  EXPECT_EQ(lower.events, (Events{"MULTI", "SET b 2", "EXEC"}));
}

TEST(AofReplayTest, MultiWithoutExecIsRevertedToBeforeTheMulti) {
  const std::string before = Cmd({"SET", "a", "1"}) + Cmd({"SET", "b", "2"});
  const std::string data = before + Cmd({"MULTI"}) + Cmd({"SET", "c", "3"});
  Recorder r;
  const AofReplayResult result = Replay(data, r);
  EXPECT_EQ(result.status, AofReplayResult::kTruncated);
  EXPECT_EQ(result.valid_up_to, before.size());
  EXPECT_EQ(result.error, kRevertMulti);
  EXPECT_EQ(r.events, (Events{"SET a 1", "SET b 2"}));
  // A MULTI alone at the end, and one at the very start.
  Recorder alone;
  EXPECT_EQ(Replay(before + Cmd({"MULTI"}), alone).valid_up_to, before.size());
  Recorder first;
  const AofReplayResult at_start = Replay(Cmd({"MULTI"}) + Cmd({"SET", "c", "3"}), first);
  EXPECT_EQ(at_start.status, AofReplayResult::kTruncated);
  EXPECT_EQ(at_start.valid_up_to, 0u);
  EXPECT_TRUE(first.events.empty());
}

TEST(AofReplayTest, TornCommandInsideMultiRevertsTheWholeTransaction) {
  // Keyward cuts before the MULTI; Redis 7.0.15 cuts after the last whole command, inside the
  // transaction, and later loses what is appended behind it (test_aof.py documents it).
  const std::string before = Cmd({"SET", "a", "1"});
  const std::string torn = Cmd({"MULTI"}) + Cmd({"SET", "b", "2"}) + Cmd({"SET", "c", "3"});
  Recorder r;
  const AofReplayResult result = Replay(before + torn.substr(0, torn.size() - 4), r);
  EXPECT_EQ(result.status, AofReplayResult::kTruncated);
  EXPECT_EQ(result.valid_up_to, before.size());
  EXPECT_EQ(result.error, kUnexpectedEof);
  EXPECT_EQ(r.events, (Events{"SET a 1"}));
}

// The commands of a small file with a transaction, an annotation and a binary value, and every
// prefix of it: a prefix that ends on the boundary of a whole command outside a transaction (or
// inside a following annotation) loads everything before it; any other is truncated back to the
// last such boundary (before the MULTI when it ends inside a transaction), with exactly the
// commands before that boundary applied. Never a read past the end (ASan, exact-size buffers).
TEST(AofReplayTest, EveryPrefixIsCutAtTheLastWholeCommand) {
  struct Unit {
    std::string bytes;
    Events events;  // what the unit hands over once whole
    bool in_multi;  // a command between MULTI and EXEC (EXEC itself closes it)
    bool annotation;
  };
  const std::vector<Unit> units = {
      {Cmd({"SELECT", "0"}), {"SELECT 0"}, false, false},
      {Cmd({"SET", "a", "1"}), {"SET a 1"}, false, false},
      {"#TS:1700000000\r\n", {"#TS:1700000000"}, false, true},
      {Cmd({"MULTI"}), {}, true, false},
      {Cmd({"SET", "b", "22"}), {}, true, false},
      {Cmd({"INCR", "counter"}), {}, true, false},
      {Cmd({"EXEC"}), {"MULTI", "SET b 22", "INCR counter", "EXEC"}, false, false},
      {Cmd({"RPUSH", "list", "x", "y\r\n"}), {"RPUSH list x y\r\n"}, false, false},
      {Cmd({"SET", "last", "value"}), {"SET last value"}, false, false},
  };
  std::string data;
  for (const Unit& u : units) data += u.bytes;

  for (size_t cut = 0; cut <= data.size(); cut++) {
    SCOPED_TRACE("cut at " + std::to_string(cut) + " of " + std::to_string(data.size()));
    // The expectation, from the units.
    Events want_events;
    size_t boundary = 0;          // the last whole-unit end outside a transaction
    bool ok = cut == 0;           // ends on a boundary (or in an annotation after one)
    bool multi_complete = false;  // ends after whole commands inside a transaction
    for (size_t i = 0, start = 0; i < units.size() && start < cut; i++) {
      const Unit& u = units[i];
      const size_t end = start + u.bytes.size();
      if (end <= cut) {
        want_events.insert(want_events.end(), u.events.begin(), u.events.end());
        // Only a command moves the cut point (Redis updates valid_up_to after commands).
        if (!u.in_multi && !u.annotation) boundary = end;
        ok = !u.in_multi;
        multi_complete = u.in_multi;
      } else {
        ok = u.annotation;  // an annotation cut short is a whole line at the end of the file
        multi_complete = false;
        if (u.annotation) {
          std::string line = u.bytes.substr(0, cut - start);
          while (line.back() == '\r' || line.back() == '\n') line.pop_back();
          want_events.push_back(line);
        }
      }
      start = end;
    }
    Recorder r;
    const AofReplayResult result = Replay(std::string_view(data).substr(0, cut), r);
    if (cut == 0) {
      EXPECT_EQ(result.status, AofReplayResult::kEmpty);
      continue;
    }
    EXPECT_EQ(r.events, want_events);
    if (ok) {
      EXPECT_EQ(result.status, AofReplayResult::kOk);
      continue;
    }
    EXPECT_EQ(result.status, AofReplayResult::kTruncated);
    EXPECT_EQ(result.valid_up_to, boundary);
    EXPECT_EQ(result.error, multi_complete ? kRevertMulti : kUnexpectedEof);
  }
}

TEST(AofReplayTest, ByteThatCannotStartACommandIsAFormatError) {
  const std::string good = Cmd({"SET", "a", "1"});
  for (const std::string& bad :
       {std::string("SET a 1\r\n"), std::string("\r\n"), std::string("+OK\r\n"),
        std::string(" *1\r\n$4\r\nPING\r\n"), std::string("$1\r\nx\r\n"), std::string(1, '\0')}) {
    SCOPED_TRACE(bad);
    Recorder r;
    const AofReplayResult result = Replay(good + bad + Cmd({"SET", "b", "2"}), r);
    EXPECT_EQ(result.status, AofReplayResult::kFailed);
    EXPECT_EQ(result.error, kBadFormat);
    EXPECT_EQ(r.events, (Events{"SET a 1"}));  // nothing after it
  }
  // An argument line that is not a bulk length.
  Recorder r;
  const AofReplayResult result = Replay(good + "*2\r\n$3\r\nGET\r\n:1\r\n", r);
  EXPECT_EQ(result.status, AofReplayResult::kFailed);
  EXPECT_EQ(result.error, kBadFormat);
}

TEST(AofReplayTest, BadCountsAndLengthsAreFormatErrors) {
  const std::string good = Cmd({"SET", "a", "1"});
  for (const std::string& bad : {
           std::string("*0\r\n"),
           std::string("*-5\r\n$3\r\nSET\r\n"),
           std::string("*x\r\n"),
           std::string("*2\r\n$3\r\nGET\r\n$-1\r\n"),
           std::string("*2\r\n$3\r\nGET\r\n$99999999999999999999\r\nk\r\n"),
       }) {
    SCOPED_TRACE(bad);
    Recorder r;
    const AofReplayResult result = Replay(good + bad, r);
    EXPECT_EQ(result.status, AofReplayResult::kFailed);
    EXPECT_EQ(result.error, kBadFormat);
    EXPECT_EQ(r.events, (Events{"SET a 1"}));
  }
}

TEST(AofReplayTest, LengthPastTheEndIsATruncation) {
  // A length that reads past the end of the file (a large one, a torn value, a value without its
  // CRLF, a lone '*' or '$') is a short read, not a format error.
  const std::string good = Cmd({"SET", "a", "1"});
  for (const std::string& tail :
       {std::string("*2\r\n$3\r\nGET\r\n$9999999999\r\nk\r\n"),
        std::string("*2\r\n$3\r\nGET\r\n$5\r\nk"), std::string("*2\r\n$3\r\nGET\r\n$1\r\nk"),
        std::string("*2\r\n$3\r\nGET\r\n$1\r\nk\r"), std::string("*"),
        std::string("*2\r\n$3\r\nGET\r\n$")}) {
    SCOPED_TRACE(tail);
    Recorder r;
    const AofReplayResult result = Replay(good + tail, r);
    EXPECT_EQ(result.status, AofReplayResult::kTruncated);
    EXPECT_EQ(result.valid_up_to, good.size());
    EXPECT_EQ(r.events, (Events{"SET a 1"}));
  }
  // The CRLF after a value is skipped unchecked, as Redis's fread of two bytes does.
  Recorder r;
  EXPECT_EQ(Replay("*2\r\n$3\r\nGET\r\n$1\r\nkXY" + good, r).status, AofReplayResult::kOk);
  EXPECT_EQ(r.events, (Events{"GET k", "SET a 1"}));
}

TEST(AofReplayTest, LinesAreReadInRedisBufferSizedPieces) {
  // Redis reads lines with fgets into AOF_ANNOTATION_LINE_MAX_LEN (1024) bytes: 1023 and the
  // terminating NUL. An annotation that fits (1023 bytes with its CRLF) is one line...
  const std::string fits = "#" + std::string(1020, 'a') + "\r\n";
  ASSERT_EQ(fits.size(), 1023u);
  Recorder r;
  EXPECT_EQ(Replay(fits + Cmd({"SET", "a", "1"}), r).status, AofReplayResult::kOk);
  EXPECT_EQ(r.events, (Events{fits.substr(0, 1021), "SET a 1"}));
  // ... one byte more and its "\n" is read as a line of its own: a format error.
  const std::string over = "#" + std::string(1021, 'a') + "\r\n";
  Recorder over_r;
  const AofReplayResult result = Replay(Cmd({"SET", "a", "1"}) + over, over_r);
  EXPECT_EQ(result.status, AofReplayResult::kFailed);
  EXPECT_EQ(result.error, kBadFormat);
  EXPECT_EQ(over_r.events, (Events{"SET a 1", over.substr(0, 1022)}));
}

TEST(AofReplayTest, FiveThousandByteLines) {
  const std::string good = Cmd({"SET", "a", "1"});
  // An annotation: its second piece does not start with '#'.
  Recorder annotation;
  AofReplayResult result = Replay(good + "#" + std::string(4997, 'x') + "\r\n" + good, annotation);
  EXPECT_EQ(result.status, AofReplayResult::kFailed);
  EXPECT_EQ(result.error, kBadFormat);
  EXPECT_EQ(annotation.events.size(), 2u);
  // A line of '#': every piece is an annotation.
  Recorder hashes;
  result = Replay(good + std::string(4998, '#') + "\r\n" + good, hashes);
  EXPECT_EQ(result.status, AofReplayResult::kOk);
  EXPECT_EQ(result.commands, 2u);
  // A count of 5000 digits: atoi reads the first piece's (zero).
  Recorder count;
  result = Replay(good + "*" + std::string(4998, '0') + "1\r\n" + good, count);
  EXPECT_EQ(result.status, AofReplayResult::kFailed);
  EXPECT_EQ(result.error, kBadFormat);
  // A 5000-byte value is read by its length, not as a line.
  Recorder value;
  const std::string big(5000, 'v');
  result = Replay(good + Cmd({"SET", "big", big}), value);
  EXPECT_EQ(result.status, AofReplayResult::kOk);
  EXPECT_EQ(value.events.back(), "SET big " + big);
}

TEST(AofReplayTest, UnknownCommandFailsWithRedisText) {
  Recorder r;
  AofReplayResult result =
      Replay(Cmd({"SET", "a", "1"}) + Cmd({"NOSUCHCMD", "x"}) + Cmd({"SET", "b", "2"}), r);
  EXPECT_EQ(result.status, AofReplayResult::kFailed);
  EXPECT_EQ(result.error,
            "Unknown command 'NOSUCHCMD' reading the append only file appendonly.aof.1.incr.aof "
            "(ERR unknown command)");
  EXPECT_EQ(r.events, (Events{"SET a 1"}));
  // Inside a transaction: found at the EXEC, after the commands before it were handed over.
  Recorder in_multi;
  result = Replay(Cmd({"MULTI"}) + Cmd({"SET", "a", "1"}) + Cmd({"NOSUCHCMD"}) + Cmd({"EXEC"}),
                  in_multi);
  EXPECT_EQ(result.status, AofReplayResult::kFailed);
  EXPECT_EQ(in_multi.events, (Events{"MULTI", "SET a 1"}));
}

TEST(AofReplayTest, RdbPreambleIsHandedToLoadRdbAndCommandsAfterItReplayed) {
  const std::string rdb = std::string("REDIS0010\xfa\x05hello\xff", 17) + std::string(8, '\x01');
  const std::string commands = Cmd({"SET", "a", "1"}) + Cmd({"SELECT", "3"});
  Recorder r;
  r.rdb_size = rdb.size();
  AofReplayResult result = Replay(rdb + commands, r, "appendonly.aof");
  EXPECT_EQ(result.status, AofReplayResult::kOk);
  EXPECT_EQ(r.rdb_seen, rdb + commands);  // the whole file: the RDB loader finds its own end
  EXPECT_EQ(r.events, (Events{"rdb:" + std::to_string(rdb.size()), "SET a 1", "SELECT 3"}));
  EXPECT_EQ(result.commands, 2u);

  // A base that is only the RDB.
  Recorder only;
  only.rdb_size = rdb.size();
  result = Replay(rdb, only);
  EXPECT_EQ(result.status, AofReplayResult::kOk);
  EXPECT_EQ(only.events, (Events{"rdb:" + std::to_string(rdb.size())}));

  // A torn command after the RDB part: cut at the end of the RDB part (Redis cuts at 0, losing
  // the preamble), which stays loaded.
  Recorder torn;
  torn.rdb_size = rdb.size();
  result = Replay(rdb + commands.substr(0, 5), torn);
  EXPECT_EQ(result.status, AofReplayResult::kTruncated);
  EXPECT_EQ(result.valid_up_to, rdb.size());

  // The RDB loader's error.
  Recorder bad;
  bad.rdb_error = "Short read or OOM loading DB. Unrecoverable error, aborting now.";
  result = Replay(rdb + commands, bad);
  EXPECT_EQ(result.status, AofReplayResult::kFailed);
  EXPECT_EQ(result.error,
            "Error reading the RDB base file appendonly.aof.1.incr.aof, AOF loading aborted: "
            "Short read or OOM loading DB. Unrecoverable error, aborting now.");
  EXPECT_EQ(bad.events.size(), 1u);

  // Not quite the signature: commands, and "R" cannot start one.
  Recorder almost;
  result = Replay("REDI" + commands, almost);
  EXPECT_EQ(result.status, AofReplayResult::kFailed);
  EXPECT_EQ(result.error, kBadFormat);
  EXPECT_TRUE(almost.events.empty());
}

TEST(AofReplayTest, ProgressIsReportedEvery1024Reads) {
  std::string data;
  for (int i = 0; i < 2100; i++) data += Cmd({"INCR", "n"});
  Recorder r;
  const AofReplayResult result = Replay(data, r);
  EXPECT_EQ(result.commands, 2100u);
  const size_t one = Cmd({"INCR", "n"}).size();
  EXPECT_EQ(r.progress, (std::vector<size_t>{0, 1024 * one, 2048 * one}));
}

}  // namespace
}  // namespace keyward::test
