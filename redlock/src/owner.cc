#include "keyward/redlock/owner.h"

#include <openssl/rand.h>

#include <stdexcept>

namespace keyward::redlock {

std::string NewOwnerToken() {
  unsigned char bytes[20];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    throw std::runtime_error("RAND_bytes failed: no owner token can be drawn");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * sizeof bytes);
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
  return out;
}

}  // namespace keyward::redlock
