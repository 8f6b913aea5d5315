#include "keyward/client/reply_parser.h"

#include <algorithm>
#include <charconv>
#include <utility>

namespace keyward::client {
namespace {

// The whole text must be a decimal integer: "12x" or "" are protocol errors, not 12 or 0.
std::optional<int64_t> ParseInt(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> ParseDouble(std::string_view s) {
  // from_chars takes "inf", "-inf" and "nan" (what Redis sends) but not a leading '+'.
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

bool IsBigNumber(std::string_view s) {
  if (!s.empty() && s[0] == '-') s.remove_prefix(1);
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

ReplyType AggregateType(char marker) {
  switch (marker) {
    case '%':
      return ReplyType::kMap;
    case '~':
      return ReplyType::kSet;
    case '>':
      return ReplyType::kPush;
    default:
      return ReplyType::kArray;  // '*', and '|' whose type is never used
  }
}

}  // namespace

void ReplyParser::Feed(std::string_view bytes) {
  // Drop consumed bytes only once they are at least half the buffer, so each byte is moved a
  // bounded number of times however the input is split.
  if (pos_ > 0 && pos_ * 2 >= buffer_.size()) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
  buffer_.append(bytes);
}

void ReplyParser::Reset() {
  buffer_.clear();
  pos_ = scanned_ = 0;
  bulk_marker_ = 0;
  bulk_len_ = 0;
  frames_.clear();
  pending_attributes_.clear();
  error_.clear();
  error_detail_.clear();
}

Expected<std::optional<Reply>> ReplyParser::Next() {
  if (error_) return error_;
  while (true) {
    // Initialised straight from the parse (no temporary, no move): see Complete() on why moves
    // matter here.
    std::optional<Reply> value = ReadValue();
    if (error_) return error_;
    if (!value) {
      if (need_more_) return std::optional<Reply>();
      continue;  // a frame was opened or a bulk body is awaited
    }
    // A fresh value (scalar or empty aggregate) takes the attributes read just before it.
    if (!pending_attributes_.empty()) {
      value->set_attributes(std::exchange(pending_attributes_, {}));
    }
    if (frames_.empty()) return value;  // moved implicitly (C++20)
    if (std::optional<Reply> top = Complete(std::move(*value))) return top;
  }
}

std::optional<Reply> ReplyParser::ReadValue() {
  need_more_ = false;
  if (bulk_marker_ != 0) {
    if (buffered() < static_cast<size_t>(bulk_len_) + 2) {
      need_more_ = true;
      return std::nullopt;
    }
    return ParseBulk();
  }
  std::optional<std::string_view> line = ReadLine();
  if (!line) {
    need_more_ = true;
    return std::nullopt;
  }
  return ParseLine(*line);
}

std::optional<std::string_view> ReplyParser::ReadLine() {
  size_t newline = buffer_.find('\n', pos_ + scanned_);
  if (newline == std::string::npos) {
    scanned_ = buffer_.size() - pos_;
    if (scanned_ > limits_.max_line_len + 1) {
      Fail(ClientError::kLineTooLong, "no line terminator within the line limit");
    }
    return std::nullopt;
  }
  size_t len = newline - pos_;  // includes the '\r'
  if (len > limits_.max_line_len + 1) {
    Fail(ClientError::kLineTooLong, "line longer than the line limit");
    return std::nullopt;
  }
  // At least a type byte and the '\r'.
  if (len < 2 || buffer_[newline - 1] != '\r') {
    Fail(ClientError::kProtocolError,
         "line not terminated by CRLF at offset " + std::to_string(pos_));
    return std::nullopt;
  }
  std::string_view line(buffer_.data() + pos_, len - 1);
  pos_ = newline + 1;
  scanned_ = 0;
  return line;
}

std::optional<Reply> ReplyParser::ParseLine(std::string_view line) {
  const char marker = line[0];
  const std::string_view body = line.substr(1);
  switch (marker) {
    case '+':
      return Reply::SimpleString(std::string(body));
    case '-':
      return Reply::Error(std::string(body));
    case ':':
      if (auto v = ParseInt(body)) return Reply::Integer(*v);
      break;
    case ',':
      if (auto v = ParseDouble(body)) return Reply::Double(*v);
      break;
    case '#':
      if (body == "t" || body == "f") return Reply::Boolean(body == "t");
      break;
    case '_':
      if (body.empty()) return Reply::Null();
      break;
    case '(':
      if (IsBigNumber(body)) return Reply::BigNumber(std::string(body));
      break;
    case '$':
    case '!':
    case '=': {
      std::optional<int64_t> len = ParseInt(body);
      if (!len) break;
      if (*len == -1 && marker == '$') return Reply::Null();  // RESP2 null bulk
      if (*len < 0) break;
      if (*len > limits_.max_bulk_len) {
        Fail(ClientError::kBulkTooLarge, "bulk length " + std::to_string(*len));
        return std::nullopt;
      }
      bulk_marker_ = marker;
      bulk_len_ = *len;
      return std::nullopt;
    }
    case '*':
    case '%':
    case '~':
    case '>':
    case '|': {
      std::optional<int64_t> count = ParseInt(body);
      if (!count) break;
      if (*count == -1 && marker == '*') return Reply::Null();  // RESP2 null array
      if (*count < 0) break;
      if (*count > limits_.max_aggregate_len) {
        Fail(ClientError::kAggregateTooLarge, "aggregate length " + std::to_string(*count));
        return std::nullopt;
      }
      if (*count == 0) {
        // An empty attribute annotates nothing; other empty aggregates are finished values.
        if (marker == '|') return std::nullopt;
        return Reply::Aggregate(AggregateType(marker), {});
      }
      if (frames_.size() >= limits_.max_depth) {
        Fail(ClientError::kNestingTooDeep,
             "more than " + std::to_string(limits_.max_depth) + " nested aggregates");
        return std::nullopt;
      }
      OpenFrame(marker, *count);
      return std::nullopt;
    }
    default:
      break;
  }
  Fail(ClientError::kProtocolError, "malformed line \"" + std::string(line.substr(0, 64)) + "\"");
  return std::nullopt;
}

void ReplyParser::OpenFrame(char marker, int64_t count) {
  const bool pairs = marker == '%' || marker == '|';
  Frame frame{AggregateType(marker), marker == '|', pairs ? 2 * count : count, {}, {}};
  // Attributes read before this header annotate the aggregate, not its first element.
  frame.attributes = std::exchange(pending_attributes_, {});
  // Reserve only a little: the count is untrusted until the elements actually arrive.
  frame.elements.reserve(static_cast<size_t>(std::min<int64_t>(frame.remaining, 1024)));
  frames_.push_back(std::move(frame));
}

std::optional<Reply> ReplyParser::ParseBulk() {
  const size_t len = static_cast<size_t>(bulk_len_);
  std::string_view body(buffer_.data() + pos_, len);
  if (buffer_[pos_ + len] != '\r' || buffer_[pos_ + len + 1] != '\n') {
    Fail(ClientError::kProtocolError, "bulk string not terminated by CRLF");
    return std::nullopt;
  }
  const char marker = std::exchange(bulk_marker_, 0);
  pos_ += len + 2;
  scanned_ = 0;
  switch (marker) {
    case '!':
      return Reply::Error(std::string(body));
    case '=':
      // "txt:..." : a three-letter format, a colon, then the text.
      if (body.size() < 4 || body[3] != ':') {
        Fail(ClientError::kProtocolError, "verbatim string without a format prefix");
        return std::nullopt;
      }
      return Reply::Verbatim(std::string(body.substr(0, 3)), std::string(body.substr(4)));
    default:
      return Reply::BulkString(std::string(body));
  }
}

std::optional<Reply> ReplyParser::Complete(Reply&& finished) {
  Reply value = std::move(finished);
  while (!frames_.empty()) {
    Frame& frame = frames_.back();
    frame.elements.push_back(std::move(value));
    if (--frame.remaining > 0) return std::nullopt;
    Frame done = std::move(frame);
    frames_.pop_back();
    if (done.is_attribute) {
      // Attributes do not count as elements of the enclosing aggregate: they wait for the next
      // value. Consecutive attributes accumulate.
      pending_attributes_ = std::move(done.attributes);
      for (Reply& r : done.elements) pending_attributes_.push_back(std::move(r));
      return std::nullopt;
    }
    value = Reply::Aggregate(done.type, std::move(done.elements));
    if (!done.attributes.empty()) value.set_attributes(std::move(done.attributes));
  }
  return value;
}

std::error_code ReplyParser::Fail(ClientError error, std::string detail) {
  error_ = error;
  error_detail_ = std::move(detail);
  return error_;
}

}  // namespace keyward::client
