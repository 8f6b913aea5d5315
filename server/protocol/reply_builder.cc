#include "server/protocol/reply_builder.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

namespace keyward {

namespace {
constexpr size_t kShortBulk = 64;
}  // namespace

void ReplyBuilder::SendSimple(std::string_view s) {
  sink_->push_back('+');
  sink_->append(s);
  sink_->append("\r\n");
}

void ReplyBuilder::SendError(std::string_view text) {
  sink_->push_back('-');
  // A message that does not start with an error code (an upper-case word) gets "ERR ", as in
  // Redis's addReplyError.
  size_t i = 0;
  while (i < text.size() && text[i] >= 'A' && text[i] <= 'Z') i++;
  if (i == 0 || (i < text.size() && text[i] != ' ')) sink_->append("ERR ");
  for (char c : text) sink_->push_back(c == '\r' || c == '\n' ? ' ' : c);
  sink_->append("\r\n");
}

void ReplyBuilder::SendLong(int64_t v) {
  char buf[32];
  buf[0] = ':';
  auto [end, ec] = std::to_chars(buf + 1, buf + sizeof(buf) - 2, v);
  *end++ = '\r';
  *end++ = '\n';
  sink_->append(buf, end - buf);
}

void ReplyBuilder::SendBulk(std::string_view s) {
  // A short value (list elements, set members, most GETs) goes out in one append with its header
  // and CRLF: three appends cost more than the bytes they copy.
  if (s.size() <= kShortBulk) {
    char buf[kShortBulk + 32];
    buf[0] = '$';
    char* p = std::to_chars(buf + 1, buf + 24, s.size()).ptr;
    *p++ = '\r';
    *p++ = '\n';
    std::memcpy(p, s.data(), s.size());
    p += s.size();
    *p++ = '\r';
    *p++ = '\n';
    sink_->append(buf, p - buf);
    return;
  }
  Header('$', s.size());
  sink_->append(s);
  sink_->append("\r\n");
}

void ReplyBuilder::SendNull() { Raw(resp3_ ? "_\r\n" : "$-1\r\n"); }

void ReplyBuilder::SendNullArray() { Raw(resp3_ ? "_\r\n" : "*-1\r\n"); }

void ReplyBuilder::SendDouble(double d) {
  char buf[64];
  int n;
  if (std::isinf(d)) {
    n = std::snprintf(buf, sizeof(buf), "%s", d > 0 ? "inf" : "-inf");
  } else {
    n = std::snprintf(buf, sizeof(buf), "%.17g", d);
  }
  if (resp3_) {
    sink_->push_back(',');
    sink_->append(buf, n);
    sink_->append("\r\n");
  } else {
    SendBulk(std::string_view(buf, n));
  }
}

void ReplyBuilder::SendBool(bool b) {
  if (resp3_) {
    Raw(b ? "#t\r\n" : "#f\r\n");
  } else {
    Raw(b ? ":1\r\n" : ":0\r\n");
  }
}

void ReplyBuilder::SendVerbatim(std::string_view s, std::string_view format) {
  if (!resp3_) return SendBulk(s);
  Header('=', s.size() + 4);
  sink_->append(format.substr(0, 3));
  sink_->push_back(':');
  sink_->append(s);
  sink_->append("\r\n");
}

void ReplyBuilder::SendBigNumber(std::string_view digits) {
  if (!resp3_) return SendBulk(digits);
  sink_->push_back('(');
  sink_->append(digits);
  sink_->append("\r\n");
}

void ReplyBuilder::SendHelp(std::string_view command, std::span<const std::string_view> lines) {
  StartArray(lines.size() + 3);
  SendSimple(std::string(command) + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
  for (auto line : lines) SendSimple(line);
  SendSimple("HELP");
  SendSimple("    Prints this help.");
}

void ReplyBuilder::StartMap(size_t n) {
  if (resp3_) {
    Header('%', n);
  } else {
    Header('*', n * 2);
  }
}

void ReplyBuilder::StartSet(size_t n) { Header(resp3_ ? '~' : '*', n); }

void ReplyBuilder::StartPush(size_t n) { Header(resp3_ ? '>' : '*', n); }

}  // namespace keyward
