// Incremental parser for client requests: RESP multibulk arrays and inline commands, with
// Redis's limits and Redis's protocol error texts.
//
// The caller owns the bytes. It passes the unconsumed input starting at the beginning of a
// command; when the command is incomplete the parser remembers how far it got (no rescanning) and
// the caller calls again with the same start and more bytes. Arguments of a parsed multibulk
// command are views into the caller's bytes, so parsing copies nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace keyward {

struct ParserLimits {
  int64_t max_bulk_len = 512LL * 1024 * 1024;  // proto-max-bulk-len
  // Inline commands and the header lines of a multibulk may not exceed this without a newline.
  size_t max_inline_size = 64 * 1024;
  int64_t max_multibulk_len = 1024 * 1024 * 1024 - 1;  // INT_MAX in Redis; kept at 2^30 here
  // Before authentication, Redis refuses big requests (unauthenticated multibulk/bulk length).
  int64_t max_unauth_multibulk_len = 10;
  int64_t max_unauth_bulk_len = 16384;
};

class RequestParser {
 public:
  enum class Status {
    kOk,        // a complete command: args() is valid, consumed() bytes belong to it
    kEmpty,     // an empty command (blank inline line, "*0"): consumed() bytes to drop, no args
    kNeedMore,  // incomplete: call again with the same start and more bytes
    kError,     // protocol error: error() holds the text; the connection must be closed
  };

  explicit RequestParser(ParserLimits limits = {}) : limits_(limits) {}

  Status Parse(std::string_view input);

  std::span<const std::string_view> args() const { return args_; }
  size_t consumed() const { return consumed_; }
  // "Protocol error: ..." (without the "ERR " prefix).
  const std::string& error() const { return error_; }
  // While parsing a big bulk argument: how many bytes the command needs in total, so the caller
  // can size its buffer once. 0 when unknown.
  size_t bytes_hint() const { return bytes_hint_; }

  void set_limits(const ParserLimits& limits) { limits_ = limits; }
  void set_authenticated(bool authenticated) { authenticated_ = authenticated; }
  // Forget any partial progress (the caller dropped its input).
  void Reset();

 private:
  Status ParseInline(std::string_view input);
  Status ParseMultibulk(std::string_view input);
  Status Fail(std::string text);

  ParserLimits limits_;
  bool authenticated_ = true;

  // Progress through a partial multibulk command.
  size_t pos_ = 0;              // bytes of the command scanned so far
  int64_t expected_args_ = -1;  // -1 until the "*<n>" header is read
  int64_t bulk_len_ = -1;       // -1 until the "$<len>" header of the current arg is read
  std::vector<std::pair<size_t, size_t>> offsets_;  // (offset, length) of each argument

  std::vector<std::string> inline_args_;  // inline arguments are unquoted, hence owned
  std::vector<std::string_view> args_;
  size_t consumed_ = 0;
  size_t bytes_hint_ = 0;
  std::string error_;
};

}  // namespace keyward
