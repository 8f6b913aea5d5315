// Readers for the two compact encodings Redis wrote before the listpack, which a Redis 7.0
// RESTORE (and RDB load) still accepts and converts on the way in: the ziplist (small lists,
// hashes and sorted sets, and the nodes of quicklists, up to Redis 6.2: RDB 9 payloads) and the
// zipmap (small hashes up to Redis 2.4). Keyward never writes either; it only walks them.
//
// ziplist:  <zlbytes u32> <zltail u32> <zllen u16> <entry> ... <0xFF>     (little-endian)
//           entry: <prevlen: 1 byte, or 0xFE + u32> <encoding> <data>
//           strings carry a 6-bit, 14-bit (big-endian) or 32-bit (big-endian) length; integers
//           are 8, 16, 24, 32 or 64-bit, or 0..12 in the encoding byte itself.
// zipmap:   <count u8> (<len> field <len> <free u8> value <free bytes>)* <0xFF>
//           len: one byte under 254, else 0xFE (or 0xFF) and a u32.
//
// Both walks validate as Redis's deep integrity checks do (ziplistValidateIntegrity with
// zipEntrySafe, zipmapValidateIntegrity): nothing is read outside the blob, whatever it holds.
#pragma once

#include <functional>
#include <string_view>

#include "server/keyspace/listpack.h"

namespace keyward {

// Calls `fn` on every entry of the ziplist in `blob`, in order (an integer entry as an integer
// element). False when the blob is not a valid ziplist or `fn` returns false; `fn` may have been
// called on a prefix of the entries then. An empty ziplist is valid.
bool ZiplistForEach(std::string_view blob, const std::function<bool(const LpElement&)>& fn);

// Calls `fn` on every field and value of the zipmap in `blob`. False when the blob is not a valid
// zipmap (an empty one is not) or `fn` returns false.
bool ZipmapForEach(std::string_view blob,
                   const std::function<bool(std::string_view field, std::string_view value)>& fn);

}  // namespace keyward
