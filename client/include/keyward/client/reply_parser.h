// Incremental pull parser for server replies (RESP2 and RESP3). Sans-I/O: the connection code
// feeds it whatever bytes arrived and pulls complete top-level replies out of it.
//
//   ReplyParser parser;
//   parser.Feed(bytes_from_socket);
//   while (true) {
//     auto next = parser.Next();
//     if (!next) return next.error();  // malformed input: close the connection
//     if (!*next) break;               // need more bytes
//     Handle(std::move(**next));
//   }
//
// It is separate from the server's request parser on purpose: the two roles accept different
// grammars and have different limits (see STYLE.md on Dragonfly's shared parser).
//
// Progress survives across calls: a half-read aggregate keeps its finished elements, a bulk
// string whose header was read waits for its full length without rescanning, and a line is
// searched for its terminator only in bytes not yet searched.
//
// Attributes ('|') are parsed and attached to the value that follows them (Reply::attributes()).
// RESP3 streamed strings and aggregates ("$?", "*?") are not supported: Redis never sends them, so
// they are reported as protocol errors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keyward/client/error.h"
#include "keyward/client/reply.h"

namespace keyward::client {

struct ReplyParserLimits {
  // Aggregates open at once. Redis's deepest replies (COMMAND DOCS, XINFO STREAM FULL) stay well
  // under this; a hostile peer cannot drive the parser's stack unboundedly.
  size_t max_depth = 32;
  int64_t max_bulk_len = 512LL * 1024 * 1024;  // Redis's proto-max-bulk-len default
  int64_t max_aggregate_len = int64_t{1} << 32;
  // A line (header or simple string/error) longer than this is garbage, not a reply still coming.
  size_t max_line_len = 1024 * 1024;
};

class ReplyParser {
 public:
  explicit ReplyParser(ReplyParserLimits limits = {}) : limits_(limits) {}

  // Appends bytes to the internal buffer (copied: the caller's read buffer can be reused).
  void Feed(std::string_view bytes);

  // The next complete top-level reply; std::nullopt when more bytes are needed; or a ClientError.
  // Errors are sticky: after one, the stream is out of sync and every call returns it until
  // Reset().
  Expected<std::optional<Reply>> Next();

  // Forgets all buffered bytes, partial progress and any error (for a new connection).
  void Reset();

  // Bytes fed but not yet consumed by a complete element.
  size_t buffered() const { return buffer_.size() - pos_; }
  // Human-readable detail of the last error (which byte, which header), for logs.
  const std::string& error_detail() const { return error_detail_; }

 private:
  // An aggregate being filled in.
  struct Frame {
    ReplyType type;
    bool is_attribute;
    int64_t remaining;  // elements still to come (2 per map/attribute entry)
    std::vector<Reply> elements;
    std::vector<Reply> attributes;  // attributes that preceded this aggregate's header
  };

  // The next value from the buffer, or nullopt with need_more_ set (more bytes needed), with
  // error_ set, or neither (a frame was opened or a bulk header read).
  std::optional<Reply> ReadValue();
  std::optional<std::string_view> ReadLine();
  std::optional<Reply> ParseBulk();
  // Parses one header or simple line; returns a finished value, or nullopt when a frame was
  // opened, a bulk body is awaited, or an error was recorded.
  std::optional<Reply> ParseLine(std::string_view line);
  void OpenFrame(char marker, int64_t count);
  // Adds a finished value to the open frames; returns it when it finished a top-level reply.
  // Every Reply move costs (a std::string move is a memcpy for short strings, and a pipeline's
  // worth of replies makes each one count), so top-level scalars never come through here.
  std::optional<Reply> Complete(Reply&& finished);
  std::error_code Fail(ClientError error, std::string detail);

  ReplyParserLimits limits_;
  std::string buffer_;
  size_t pos_ = 0;        // start of unconsumed bytes
  size_t scanned_ = 0;    // bytes from pos_ already searched for '\n' (no rescanning)
  char bulk_marker_ = 0;  // non-zero while waiting for a bulk body: '$', '!' or '='
  int64_t bulk_len_ = 0;
  std::vector<Frame> frames_;
  std::vector<Reply> pending_attributes_;  // read, waiting for the value they annotate
  bool need_more_ = false;                 // set by ReadValue()
  std::error_code error_;
  std::string error_detail_;
};

}  // namespace keyward::client
