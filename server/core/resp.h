// RESP framing for what the server writes itself: commands for the AOF and replicas, pub/sub
// messages, invalidation pushes. (Replies go through protocol/reply_builder.h.)
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace keyward {

// "<type><n>\r\n": an array ('*'), a push ('>'), a bulk length ('$').
// Appended piece by piece: "literal" + std::string chains trip g++ 12's -Wrestrict false
// positive at -O3.
inline void AppendRespHeader(std::string& out, char type, size_t n) {
  out += type;
  out += std::to_string(n);
  out += "\r\n";
}

inline void AppendArrayHeader(std::string& out, size_t n) { AppendRespHeader(out, '*', n); }

// "$<len>\r\n<bytes>\r\n".
inline void AppendBulk(std::string& out, std::string_view s) {
  AppendRespHeader(out, '$', s.size());
  out.append(s);
  out += "\r\n";
}

}  // namespace keyward
