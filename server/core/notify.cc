#include "server/core/notify.h"

namespace keyward::notify {

std::optional<uint32_t> ParseFlags(std::string_view text) {
  uint32_t flags = 0;
  for (char c : text) {
    switch (c) {
      case 'A':
        flags |= kAll;
        break;
      case 'g':
        flags |= kGeneric;
        break;
      case '$':
        flags |= kString;
        break;
      case 'l':
        flags |= kList;
        break;
      case 's':
        flags |= kSet;
        break;
      case 'h':
        flags |= kHash;
        break;
      case 'z':
        flags |= kZSet;
        break;
      case 'x':
        flags |= kExpired;
        break;
      case 'e':
        flags |= kEvicted;
        break;
      case 'K':
        flags |= kKeyspace;
        break;
      case 'E':
        flags |= kKeyevent;
        break;
      case 't':
        flags |= kStream;
        break;
      case 'm':
        flags |= kKeyMiss;
        break;
      case 'd':
        flags |= kModule;
        break;
      case 'n':
        flags |= kNew;
        break;
      default:
        return std::nullopt;
    }
  }
  return flags;
}

std::string FormatFlags(uint32_t flags) {
  // Redis's keyspaceEventsFlagsToString: "A" when every type class is on, else the classes one
  // by one and n; then K, E and m. Redis prints no 'n' after 'A' even when it is set (so
  // "AnKE" reads back as "AKE"); this follows it byte for byte.
  std::string out;
  if ((flags & kAll) == kAll) {
    out += 'A';
  } else {
    static constexpr std::pair<uint32_t, char> kClasses[] = {
        {kGeneric, 'g'}, {kString, '$'}, {kList, 'l'},    {kSet, 's'},
        {kHash, 'h'},    {kZSet, 'z'},   {kExpired, 'x'}, {kEvicted, 'e'},
        {kStream, 't'},  {kModule, 'd'}, {kNew, 'n'}};
    for (auto [flag, c] : kClasses) {
      if (flags & flag) out += c;
    }
  }
  if (flags & kKeyspace) out += 'K';
  if (flags & kKeyevent) out += 'E';
  if (flags & kKeyMiss) out += 'm';
  return out;
}

}  // namespace keyward::notify
