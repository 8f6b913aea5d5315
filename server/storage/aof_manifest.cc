#include "server/storage/aof_manifest.h"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "server/core/strings.h"
#include "server/storage/file_io.h"

namespace keyward {
namespace {

constexpr size_t kManifestMaxLine = 1024;  // Redis's MANIFEST_MAX_LINE

// Redis's sdsneedsrepr: a name with spaces, quotes or unprintable bytes is written quoted.
bool NeedsRepr(std::string_view s) {
  for (unsigned char c : s) {
    if (c == '\\' || c == '"' || c == '\n' || c == '\r' || c == '\t' || c == '\a' || c == '\b' ||
        !std::isprint(c) || std::isspace(c)) {
      return true;
    }
  }
  return false;
}

std::string Trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n";
  const size_t b = s.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return {};
  const size_t e = s.find_last_not_of(kSpace);
  return std::string(s.substr(b, e - b + 1));
}

}  // namespace

std::optional<std::string> AofManifest::Parse(std::string_view text, AofManifest* out) {
  int linenum = 0;
  std::optional<std::string> line;  // the line an error is about
  std::optional<std::string> error = ParseLines(text, out, &linenum, &line);
  if (!error || !line) return error;
  return "Reading the manifest file, at line " + std::to_string(linenum) + "\n>>> '" + *line +
         "'\n" + *error;
}

std::optional<std::string> AofManifest::ParseLines(std::string_view text, AofManifest* out,
                                                   int* linenum_out,
                                                   std::optional<std::string>* line_out) {
  AofManifest am;
  int64_t maxseq = 0;
  size_t pos = 0;
  int& linenum = *linenum_out;
  while (true) {
    if (pos >= text.size()) {
      if (linenum == 0) return std::string("Found an empty AOF manifest");
      break;
    }
    // fgets with Redis's buffer: at most kManifestMaxLine bytes, up to and with the newline.
    const size_t nl = text.find('\n', pos);
    size_t len = nl == std::string_view::npos ? text.size() - pos : nl - pos + 1;
    len = std::min(len, kManifestMaxLine);
    const std::string_view buf = text.substr(pos, len);
    pos += len;
    linenum++;
    if (buf[0] == '#') continue;  // a comment
    if (buf.find('\n') == std::string_view::npos) {
      return std::string("The AOF manifest file contains too long line");
    }
    const std::string line = Trim(buf);
    *line_out = line;
    std::vector<std::string> argv;
    if (line.empty() || !SplitArgs(line, &argv) || argv.size() < 6 || argv.size() % 2 != 0) {
      return std::string("Invalid AOF manifest file format");
    }
    AofFileInfo info;
    char type = 0;
    for (size_t i = 0; i < argv.size(); i += 2) {
      if (EqualsIgnoreCase(argv[i], "file")) {
        info.name = argv[i + 1];
        if (info.name.find('/') != std::string::npos || info.name.find('\\') != std::string::npos) {
          return std::string("File can't be a path, just a filename");
        }
      } else if (EqualsIgnoreCase(argv[i], "seq")) {
        info.seq = std::atoll(argv[i + 1].c_str());
      } else if (EqualsIgnoreCase(argv[i], "type")) {
        type = argv[i + 1].empty() ? 0 : argv[i + 1][0];
      } else if (EqualsIgnoreCase(argv[i], "keyward-stale")) {
        am.stale_ = argv[i + 1] == "1";
      }
      // Other keys are skipped: forward compatibility, as in Redis.
    }
    if (info.name.empty() || info.seq == 0 || type == 0) {
      return std::string("Invalid AOF manifest file format");
    }
    if (type == AofFileInfo::kBase) {
      if (am.base_) return std::string("Found duplicate base file information");
      info.type = AofFileInfo::kBase;
      am.base_seq_ = info.seq;
      am.base_ = std::move(info);
    } else if (type == AofFileInfo::kHistory) {
      info.type = AofFileInfo::kHistory;
      am.history_.push_back(std::move(info));
    } else if (type == AofFileInfo::kIncr) {
      if (info.seq <= maxseq) return std::string("Found a non-monotonic sequence number");
      info.type = AofFileInfo::kIncr;
      am.incr_seq_ = maxseq = info.seq;
      am.incr_.push_back(std::move(info));
    } else {
      return std::string("Unknown AOF file type");
    }
    line_out->reset();
  }
  *out = std::move(am);
  return std::nullopt;
}

std::string AofManifest::ToString() const {
  std::string out;
  auto add = [this, &out](const AofFileInfo& info) {
    out += "file ";
    out += NeedsRepr(info.name) ? Repr(info.name) : info.name;
    out += " seq ";
    out += std::to_string(info.seq);
    out += " type ";
    out += static_cast<char>(info.type);
    if (stale_ && out.find('\n') == std::string::npos) out += " keyward-stale 1";
    out += '\n';
  };
  if (base_) add(*base_);
  for (const AofFileInfo& info : history_) add(info);
  for (const AofFileInfo& info : incr_) add(info);
  return out;
}

std::string AofManifest::NewBase(const std::string& filename, bool rdb_preamble) {
  if (base_) {
    base_->type = AofFileInfo::kHistory;
    history_.insert(history_.begin(), std::move(*base_));
  }
  AofFileInfo info;
  info.seq = ++base_seq_;
  info.name =
      filename + "." + std::to_string(info.seq) + ".base" + (rdb_preamble ? ".rdb" : ".aof");
  info.type = AofFileInfo::kBase;
  base_ = std::move(info);
  return base_->name;
}

std::string AofManifest::NewIncr(const std::string& filename) {
  AofFileInfo info;
  info.seq = ++incr_seq_;
  info.name = filename + "." + std::to_string(info.seq) + ".incr.aof";
  info.type = AofFileInfo::kIncr;
  incr_.push_back(std::move(info));
  return incr_.back().name;
}

std::string AofManifest::LastIncr(const std::string& filename) {
  if (incr_.empty()) return NewIncr(filename);
  return incr_.back().name;
}

void AofManifest::MarkIncrAsHistory(size_t keep) {
  // Redis walks from the tail and puts each at the head of the history list: the history ends
  // up in increasing order again.
  while (incr_.size() > keep) {
    AofFileInfo info = std::move(incr_[incr_.size() - keep - 1]);
    incr_.erase(incr_.begin() + static_cast<ptrdiff_t>(incr_.size() - keep - 1));
    info.type = AofFileInfo::kHistory;
    history_.insert(history_.begin(), std::move(info));
  }
}

std::vector<AofFileInfo> AofManifest::TakeHistory() {
  std::vector<AofFileInfo> out;
  out.swap(history_);
  return out;
}

void AofManifest::AdoptOldStyle(const std::string& filename) {
  AofFileInfo info;
  info.name = filename;
  info.seq = 1;
  info.type = AofFileInfo::kBase;
  base_ = std::move(info);
  base_seq_ = 1;
}

std::optional<std::string> PersistAofManifest(const AofManifest& manifest, const std::string& dir,
                                              const std::string& filename) {
  const std::string path = dir + "/" + filename + ".manifest";
  const std::string temp = dir + "/temp-" + filename + ".manifest";
  int fd = ::open(temp.c_str(), O_WRONLY | O_TRUNC | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return "Can't open the AOF manifest file temp-" + filename +
           ".manifest: " + std::strerror(errno);
  }
  std::optional<std::string> error;
  const std::string text = manifest.ToString();
  int err = 0;
  if (WriteFully(fd, text, &err) != text.size()) {
    error = "Error trying to write the temporary AOF manifest file temp-" + filename +
            ".manifest: " + std::strerror(err);
  } else if (::fsync(fd) != 0) {
    error =
        "Fail to fsync the temp AOF file temp-" + filename + ".manifest: " + std::strerror(errno);
  }
  ::close(fd);
  if (error) return error;
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    return "Error trying to rename the temporary AOF manifest file temp-" + filename +
           ".manifest into " + filename + ".manifest: " + std::strerror(errno);
  }
  std::string sync_error;
  if (!SyncDirectory(dir, &sync_error)) {
    return "Fail to fsync AOF directory " + path + ": " + sync_error;
  }
  return std::nullopt;
}

}  // namespace keyward
