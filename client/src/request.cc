#include "keyward/client/request.h"

#include <charconv>
#include <cstring>
#include <system_error>

namespace keyward::client {
namespace {

// Large enough for any of the formatted numbers below: the longest is a long double in
// scientific notation (about 30 characters); to_chars reports overflow rather than writing past.
constexpr size_t kNumberBuffer = 64;

template <typename T>
std::string_view Format(char (&buf)[kNumberBuffer], T value) {
  // Without a format argument, to_chars on a floating-point value gives the shortest text that
  // parses back to the same value, which is the whole point of using it over printf("%.17g").
  auto [end, ec] = std::to_chars(buf, buf + kNumberBuffer, value);
  // Cannot fail with this buffer size; an empty string would be a visible, not silent, mistake.
  if (ec != std::errc{}) return {};
  return {buf, static_cast<size_t>(end - buf)};
}

}  // namespace

void Request::AppendArrayHeader(size_t count) {
  // Formatted in a stack buffer and appended once: one capacity check instead of three.
  char buf[kNumberBuffer + 3];
  buf[0] = '*';
  auto [end, ec] = std::to_chars(buf + 1, buf + kNumberBuffer, count);
  end[0] = '\r';
  end[1] = '\n';
  payload_.append(buf, static_cast<size_t>(end + 2 - buf));
}

void Request::AppendBulk(std::string_view bytes) {
  char header[kNumberBuffer + 3];
  header[0] = '$';
  auto [end, ec] = std::to_chars(header + 1, header + kNumberBuffer, bytes.size());
  end[0] = '\r';
  end[1] = '\n';
  const size_t header_len = static_cast<size_t>(end + 2 - header);
  const size_t at = payload_.size();
  // resize + memcpy: the bytes are written once, with no per-append bookkeeping.
  payload_.resize(at + header_len + bytes.size() + 2);
  char* out = payload_.data() + at;
  std::memcpy(out, header, header_len);
  if (!bytes.empty()) std::memcpy(out + header_len, bytes.data(), bytes.size());
  out[header_len + bytes.size()] = '\r';
  out[header_len + bytes.size() + 1] = '\n';
}

void Request::AppendSigned(int64_t value) {
  char buf[kNumberBuffer];
  AppendBulk(Format(buf, value));
}

void Request::AppendUnsigned(uint64_t value) {
  char buf[kNumberBuffer];
  AppendBulk(Format(buf, value));
}

void Request::AppendFloat(float value) {
  char buf[kNumberBuffer];
  AppendBulk(Format(buf, value));
}

void Request::AppendFloat(double value) {
  char buf[kNumberBuffer];
  AppendBulk(Format(buf, value));
}

void Request::AppendFloat(long double value) {
  char buf[kNumberBuffer];
  AppendBulk(Format(buf, value));
}

}  // namespace keyward::client

namespace keyward::client {

bool Request::IsSubscribeFamily(std::string_view command) {
  // Case-insensitive, as the server matches command names. Short names never match, so most
  // commands are rejected by the length check alone.
  static constexpr std::string_view kNames[] = {"subscribe",    "unsubscribe", "psubscribe",
                                                "punsubscribe", "ssubscribe",  "sunsubscribe"};
  if (command.size() < 9 || command.size() > 12) return false;
  for (std::string_view name : kNames) {
    if (name.size() != command.size()) continue;
    bool equal = true;
    for (size_t i = 0; i < name.size() && equal; ++i) {
      char c = command[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      equal = c == name[i];
    }
    if (equal) return true;
  }
  return false;
}

}  // namespace keyward::client
