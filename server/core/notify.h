// Keyspace event classes (Redis's NOTIFY_* flags), fired by every write. What is published, and
// where, is decided by notify-keyspace-events (the pub/sub issue); families only say what
// happened.
#pragma once

#include <cstdint>

namespace keyward::notify {
enum : uint32_t {
  kKeyspace = 1 << 0,  // K
  kKeyevent = 1 << 1,  // E
  kGeneric = 1 << 2,   // g
  kString = 1 << 3,    // $
  kList = 1 << 4,      // l
  kSet = 1 << 5,       // s
  kHash = 1 << 6,      // h
  kZSet = 1 << 7,      // z
  kExpired = 1 << 8,   // x
  kEvicted = 1 << 9,   // e
  kStream = 1 << 10,   // t
  kKeyMiss = 1 << 11,  // m
  kModule = 1 << 12,   // d
  kNew = 1 << 13,      // n
};
}  // namespace keyward::notify
