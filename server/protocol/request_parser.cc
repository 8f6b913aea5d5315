#include "server/protocol/request_parser.h"

#include <cctype>
#include <cstring>

#include "server/core/strings.h"

namespace keyward {

namespace {

// Finds the end of a header line ("*3", "$5") at or after `from`, as Redis does: the first '\r'
// with one more byte after it, which is skipped without being checked. npos when incomplete.
size_t FindCrlf(std::string_view input, size_t from) {
  if (from >= input.size()) return std::string_view::npos;
  const void* p = std::memchr(input.data() + from, '\r', input.size() - from);
  if (p == nullptr) return std::string_view::npos;
  size_t i = static_cast<const char*>(p) - input.data();
  return i + 1 < input.size() ? i : std::string_view::npos;
}

}  // namespace

void RequestParser::Reset() {
  pos_ = 0;
  expected_args_ = -1;
  bulk_len_ = -1;
  offsets_.clear();
  bytes_hint_ = 0;
}

RequestParser::Status RequestParser::Fail(std::string text) {
  error_ = "Protocol error: " + text;
  Reset();
  return Status::kError;
}

RequestParser::Status RequestParser::Parse(std::string_view input) {
  args_.clear();
  consumed_ = 0;
  if (input.empty()) return Status::kNeedMore;
  return input[0] == '*' ? ParseMultibulk(input) : ParseInline(input);
}

RequestParser::Status RequestParser::ParseInline(std::string_view input) {
  const void* nl = std::memchr(input.data(), '\n', input.size());
  // Redis looks for the newline with strchr, which stops at a NUL byte: an inline command with a
  // NUL before its newline never completes (until the inline size limit is hit).
  if (nl != nullptr &&
      std::memchr(input.data(), '\0', static_cast<const char*>(nl) - input.data()) != nullptr) {
    nl = nullptr;
  }
  if (nl == nullptr) {
    if (input.size() > limits_.max_inline_size) return Fail("too big inline request");
    return Status::kNeedMore;
  }
  size_t end = static_cast<const char*>(nl) - input.data();
  std::string_view line = input.substr(0, end);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (!SplitArgs(line, &inline_args_)) return Fail("unbalanced quotes in request");
  consumed_ = end + 1;
  if (inline_args_.empty()) return Status::kEmpty;
  for (const auto& a : inline_args_) args_.push_back(a);
  return Status::kOk;
}

RequestParser::Status RequestParser::ParseMultibulk(std::string_view input) {
  if (expected_args_ < 0) {
    size_t crlf = FindCrlf(input, 0);
    if (crlf == std::string_view::npos) {
      if (input.size() > limits_.max_inline_size) return Fail("too big mbulk count string");
      return Status::kNeedMore;
    }
    int64_t n;
    if (!ParseInt64(input.substr(1, crlf - 1), &n) || n > limits_.max_multibulk_len)
      return Fail("invalid multibulk length");
    if (!authenticated_ && n > limits_.max_unauth_multibulk_len)
      return Fail("unauthenticated multibulk length");
    pos_ = crlf + 2;
    if (n <= 0) {
      consumed_ = pos_;
      Reset();
      return Status::kEmpty;
    }
    expected_args_ = n;
    // Do not trust the count for the reservation: a client may announce a million arguments.
    offsets_.reserve(static_cast<size_t>(std::min<int64_t>(n, 1024)));
  }
  while (static_cast<int64_t>(offsets_.size()) < expected_args_) {
    if (bulk_len_ < 0) {
      size_t crlf = FindCrlf(input, pos_);
      if (crlf == std::string_view::npos) {
        if (input.size() - pos_ > limits_.max_inline_size) return Fail("too big bulk count string");
        return Status::kNeedMore;
      }
      if (input[pos_] != '$') {
        return Fail(std::string("expected '$', got '") + input[pos_] + "'");
      }
      int64_t len;
      if (!ParseInt64(input.substr(pos_ + 1, crlf - pos_ - 1), &len) || len < 0 ||
          len > limits_.max_bulk_len)
        return Fail("invalid bulk length");
      if (!authenticated_ && len > limits_.max_unauth_bulk_len)
        return Fail("unauthenticated bulk length");
      bulk_len_ = len;
      pos_ = crlf + 2;
    }
    size_t need = pos_ + static_cast<size_t>(bulk_len_) + 2;
    if (input.size() < need) {
      bytes_hint_ = need;
      return Status::kNeedMore;
    }
    // Like Redis, the two bytes after the payload are skipped without being checked.
    offsets_.emplace_back(pos_, static_cast<size_t>(bulk_len_));
    pos_ = need;
    bulk_len_ = -1;
  }
  for (auto [off, len] : offsets_) args_.emplace_back(input.data() + off, len);
  consumed_ = pos_;
  Reset();
  return Status::kOk;
}

}  // namespace keyward
