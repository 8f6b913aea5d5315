// The manifest of a Redis 7.0 multi-part AOF: which files of `appenddirname` make up the dataset,
// in order. One line per file, "file <name> seq <n> type <b|h|i>": at most one BASE (a snapshot,
// RDB or commands, from the last rewrite), then HISTORY files (replaced by a rewrite, deleted
// soon), then the INCR files (the commands since), in increasing sequence. Parsed and written as
// Redis's aof.c does, error texts included, so either server reads the other's directory.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keyward {

struct AofFileInfo {
  enum Type : char { kBase = 'b', kHistory = 'h', kIncr = 'i' };
  std::string name;
  int64_t seq = 0;
  Type type = kIncr;
};

class AofManifest {
 public:
  // Parses a manifest's text; the error (Redis's text) when it is invalid. The report says where
  // (line number and text) when the error is about a line, as Redis logs it.
  static std::optional<std::string> Parse(std::string_view text, AofManifest* out);
  std::string ToString() const;

  const std::optional<AofFileInfo>& base() const { return base_; }
  const std::vector<AofFileInfo>& incr() const { return incr_; }
  const std::vector<AofFileInfo>& history() const { return history_; }
  bool empty() const { return !base_ && incr_.empty(); }
  // Keyward's mark for a directory the server stopped appending to at run time (CONFIG SET
  // appendonly no): it misses what came after, fencing counters included. Written as an extra
  // "keyward-stale 1" pair on the first line, which Redis skips (and drops when it rewrites).
  bool stale() const { return stale_; }
  void set_stale(bool stale) { stale_ = stale; }

  // A new BASE "<filename>.<seq>.base.<rdb|aof>"; the previous one becomes HISTORY.
  std::string NewBase(const std::string& filename, bool rdb_preamble);
  // A new INCR "<filename>.<seq>.incr.aof" at the end.
  std::string NewIncr(const std::string& filename);
  // The last INCR, created when there is none.
  std::string LastIncr(const std::string& filename);
  // After a rewrite: every INCR but the last `keep` (the one being written) becomes HISTORY.
  void MarkIncrAsHistory(size_t keep);
  // Forgets the HISTORY files (their deletion is the caller's).
  std::vector<AofFileInfo> TakeHistory();
  // An old-style single AOF file adopted as the BASE (Redis's upgrade from 6.x).
  void AdoptOldStyle(const std::string& filename);

 private:
  static std::optional<std::string> ParseLines(std::string_view text, AofManifest* out,
                                               int* linenum, std::optional<std::string>* line);

  std::optional<AofFileInfo> base_;
  std::vector<AofFileInfo> history_;
  std::vector<AofFileInfo> incr_;
  int64_t base_seq_ = 0;
  int64_t incr_seq_ = 0;
  bool stale_ = false;
};

// Writes `manifest` as "<filename>.manifest" in `dir` through a temp file, fsynced and renamed,
// then fsyncs the directory. The error text on failure.
std::optional<std::string> PersistAofManifest(const AofManifest& manifest, const std::string& dir,
                                              const std::string& filename);

}  // namespace keyward
