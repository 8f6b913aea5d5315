// Keyspace event classes (Redis's NOTIFY_* flags), fired by every write. What is published, and
// where, is decided by notify-keyspace-events (the pub/sub issue); families only say what
// happened.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

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
  // 'A': every type class, but not key misses or new keys (Redis's NOTIFY_ALL).
  kAll =
      kGeneric | kString | kList | kSet | kHash | kZSet | kExpired | kEvicted | kStream | kModule,
};

// notify-keyspace-events text to flags; nullopt on an unknown character.
std::optional<uint32_t> ParseFlags(std::string_view text);
// Flags back to text, in Redis's canonical form (CONFIG GET): "AKE", "gxE", ...
std::string FormatFlags(uint32_t flags);
}  // namespace keyward::notify
