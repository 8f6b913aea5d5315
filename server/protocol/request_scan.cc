#include "server/protocol/request_scan.h"

#include <cstdint>

namespace keyward {

namespace {

// Reads "<prefix><digits>\r\n" at *pos; false when incomplete or not of that shape.
bool ReadHeader(std::string_view in, size_t* pos, char prefix, uint64_t* value) {
  size_t i = *pos;
  if (i >= in.size() || in[i] != prefix) return false;
  ++i;
  uint64_t v = 0;
  size_t digits = 0;
  for (; i < in.size() && in[i] >= '0' && in[i] <= '9'; ++i, ++digits) {
    if (digits == 18) return false;  // far beyond any request this is used for
    v = v * 10 + static_cast<uint64_t>(in[i] - '0');
  }
  if (digits == 0 || i + 1 >= in.size() || in[i] != '\r' || in[i + 1] != '\n') return false;
  *pos = i + 2;
  *value = v;
  return true;
}

}  // namespace

size_t PeekSecondArgs(std::string_view input, std::span<std::string_view> out, size_t* scanned) {
  size_t filled = 0;
  size_t pos = 0;
  *scanned = 0;
  while (filled < out.size() && pos < input.size()) {
    uint64_t args;
    if (!ReadHeader(input, &pos, '*', &args)) break;
    bool complete = true;
    for (uint64_t a = 0; a < args; ++a) {
      uint64_t len;
      if (!ReadHeader(input, &pos, '$', &len) || len > input.size() - pos ||
          input.size() - pos - len < 2) {
        complete = false;
        break;
      }
      if (a == 1) out[filled] = input.substr(pos, len);
      pos += len + 2;
    }
    if (!complete) break;
    if (args >= 2) ++filled;
    *scanned = pos;
  }
  return filled;
}

}  // namespace keyward
