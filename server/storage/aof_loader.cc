#include "server/storage/aof_loader.h"

#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

#include "server/core/strings.h"

namespace keyward {
namespace {

// Redis reads the AOF with fgets into a buffer of AOF_ANNOTATION_LINE_MAX_LEN bytes.
constexpr size_t kLineMax = 1024 - 1;

class Replayer {
 public:
  Replayer(std::string_view data, const std::string& name, const AofReplayHandlers& h)
      : data_(data), name_(name), h_(h) {}

  AofReplayResult Run() {
    if (data_.empty()) {
      result_.status = AofReplayResult::kEmpty;
      return result_;
    }
    if (data_.substr(0, 5) == "REDIS") {
      size_t used = 0;
      if (auto error = h_.load_rdb(data_, &used)) {
        return Fail("Error reading the RDB base file " + name_ +
                    ", AOF loading aborted: " + *error);
      }
      pos_ = valid_up_to_ = used;
    }
    std::vector<std::string_view> argv;
    for (size_t loops = 0;; loops++) {
      if (loops % 1024 == 0 && h_.progress) h_.progress(pos_);
      std::string_view line;
      if (!ReadLine(&line)) break;  // the end
      if (line[0] == '#') {         // an annotation
        if (h_.annotation) {
          const size_t end = line.find_last_not_of("\r\n");
          h_.annotation(line.substr(0, end == std::string_view::npos ? 0 : end + 1));
        }
        continue;
      }
      if (line[0] != '*') return FormatError();
      if (line.size() == 1) return UnexpectedEof();
      const long argc = std::atol(std::string(line.substr(1)).c_str());
      if (argc < 1) return FormatError();
      argv.clear();
      for (long j = 0; j < argc; j++) {
        if (!ReadLine(&line)) return UnexpectedEof();
        if (line[0] != '$') return FormatError();
        const std::string digits(line.substr(1));
        errno = 0;
        char* end = nullptr;
        const long long len = std::strtoll(digits.c_str(), &end, 10);
        if (len < 0 || errno == ERANGE) return FormatError();
        const size_t n = static_cast<size_t>(len);
        if (n > data_.size() - pos_ || data_.size() - pos_ - n < 2) return UnexpectedEof();
        argv.push_back(data_.substr(pos_, n));
        pos_ += n + 2;  // the CRLF is skipped unchecked, as Redis does
      }
      if (auto error = Command(argv)) return Fail(*error);
    }
    if (in_multi_) {
      result_.error = "Revert incomplete MULTI/EXEC transaction in AOF file " + name_;
      valid_up_to_ = valid_before_multi_;
      return UnexpectedEof();
    }
    result_.valid_up_to = valid_up_to_;
    return result_;
  }

 private:
  // A line as fgets reads it: up to and with the newline, or kLineMax bytes. False at the end.
  bool ReadLine(std::string_view* line) {
    if (pos_ >= data_.size()) return false;
    const size_t nl = data_.find('\n', pos_);
    size_t n = nl == std::string_view::npos ? data_.size() - pos_ : nl - pos_ + 1;
    if (n > kLineMax) n = kLineMax;
    *line = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }

  // One complete command: a transaction is collected and handed over at its EXEC.
  std::optional<std::string> Command(const std::vector<std::string_view>& argv) {
    const bool multi = argv.size() == 1 && EqualsIgnoreCase(argv[0], "multi");
    const bool exec = argv.size() == 1 && EqualsIgnoreCase(argv[0], "exec");
    if ((multi && in_multi_) || (exec && !in_multi_)) {
      // A MULTI inside a transaction, an EXEC outside one: Redis's AOF client gets an error
      // reply for them and goes on; so does the replay.
    } else if (multi) {
      in_multi_ = true;
      valid_before_multi_ = valid_up_to_;
      queued_.clear();
    } else if (in_multi_ && !exec) {
      if (h_.known && !h_.known(argv)) {
        return "Unknown command '" + std::string(argv[0]) + "' reading the append only file " +
               name_;
      }
      queued_.emplace_back(argv);
    } else if (in_multi_) {
      in_multi_ = false;
      const std::string_view m[] = {"MULTI"};
      if (auto error = Apply(m)) return error;
      for (const auto& q : queued_) {
        if (auto error = Apply(q)) return error;
      }
      const std::string_view e[] = {"EXEC"};
      if (auto error = Apply(e)) return error;
      queued_.clear();
    } else if (auto error = Apply(argv)) {
      return error;
    }
    result_.commands++;
    if (!in_multi_) valid_up_to_ = pos_;
    return std::nullopt;
  }

  std::optional<std::string> Apply(CmdArgs args) {
    if (auto error = h_.apply(args)) {
      return "Unknown command '" + std::string(args[0]) + "' reading the append only file " +
             name_ + " (" + *error + ")";
    }
    return std::nullopt;
  }

  AofReplayResult Fail(std::string error) {
    result_.status = AofReplayResult::kFailed;
    result_.error = std::move(error);
    return result_;
  }
  AofReplayResult FormatError() {
    return Fail("Bad file format reading the append only file " + name_ +
                ": make a backup of your AOF file, then use ./redis-check-aof --fix "
                "<filename.manifest>");
  }
  AofReplayResult UnexpectedEof() {
    result_.status = AofReplayResult::kTruncated;
    result_.valid_up_to = valid_up_to_;
    if (result_.error.empty()) {
      result_.error = "Unexpected end of file reading the append only file " + name_;
    }
    return result_;
  }

  std::string_view data_;
  const std::string& name_;
  const AofReplayHandlers& h_;
  size_t pos_ = 0;
  size_t valid_up_to_ = 0;
  size_t valid_before_multi_ = 0;
  bool in_multi_ = false;
  std::vector<std::vector<std::string_view>> queued_;
  AofReplayResult result_;
};

}  // namespace

AofReplayResult ReplayAof(std::string_view data, const std::string& name,
                          const AofReplayHandlers& handlers) {
  return Replayer(data, name, handlers).Run();
}

}  // namespace keyward
