// Fuzzes the request parser the way a connection drives it: the input arrives in pieces (the
// first byte chooses the piece size), complete commands are consumed, partial ones kept. Checks
// that the parser never reads out of bounds, never loops, and that a command parsed from pieces
// is the same as the one parsed from the whole input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "server/protocol/request_parser.h"

namespace {

using keyward::ParserLimits;
using keyward::RequestParser;

std::vector<std::vector<std::string>> Run(std::string_view input, size_t piece) {
  ParserLimits limits;
  limits.max_bulk_len = 1 << 20;
  RequestParser parser(limits);
  std::vector<std::vector<std::string>> out;
  std::string buffer;
  size_t fed = 0;
  while (fed < input.size()) {
    size_t n = std::min(piece, input.size() - fed);
    buffer.append(input.substr(fed, n));
    fed += n;
    while (!buffer.empty()) {
      auto st = parser.Parse(buffer);
      if (st == RequestParser::Status::kNeedMore) break;
      if (st == RequestParser::Status::kError) {
        out.push_back({"<error>", parser.error()});
        return out;
      }
      if (st == RequestParser::Status::kOk) {
        out.emplace_back(parser.args().begin(), parser.args().end());
      }
      if (parser.consumed() == 0 || parser.consumed() > buffer.size()) __builtin_trap();
      buffer.erase(0, parser.consumed());
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  size_t piece = data[0] % 16 + 1;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  auto whole = Run(input, input.size() + 1);
  auto pieces = Run(input, piece);
  // Inline commands with an unfinished last line parse differently only in their tail; compare
  // the commands both runs completed.
  size_t n = std::min(whole.size(), pieces.size());
  for (size_t i = 0; i < n; i++) {
    if (whole[i] != pieces[i]) __builtin_trap();
  }
  return 0;
}
