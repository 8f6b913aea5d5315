// Reading a value back from its RDB form (what follows the type byte in a DUMP payload or an RDB
// file): Redis 7.0's rdbLoadObject for every type Keyward has. Each value comes out in the
// encoding Redis would give it after loading, under the server's *-max-listpack-* and
// set-max-intset-entries settings:
//
// clang-format off
//   type                            read as                     becomes
//   0  STRING                       a string                    int / embstr / raw
//   1  LIST                         strings, one by one         a quicklist filled by
//                                                               list-max-listpack-size
//   10 LIST_ZIPLIST (<= 3.2)        a ziplist                   the same
//   14 LIST_QUICKLIST (<= 6.2)      ziplist nodes               one listpack node per ziplist
//   18 LIST_QUICKLIST_2             listpack and plain nodes    the nodes as they are
//   2  SET                          members                     intset if all integers and few
//                                                               enough, else hashtable
//   11 SET_INTSET                   an intset blob              intset, or hashtable past the
//                                                               limit
//   3  ZSET / 5 ZSET_2              member, score (text /       skiplist, then listpack if small
//                                   binary double)              enough (zsetConvert after loading)
//   12 ZSET_ZIPLIST (<= 6.2)        a ziplist                   listpack, or skiplist past the
//                                                               count
//   17 ZSET_LISTPACK                a listpack                  the same
//   4  HASH                         field, value                listpack until a limit, then table
//   9  HASH_ZIPMAP (<= 2.4)         a zipmap                    listpack, or table past a limit
//   13 HASH_ZIPLIST (<= 6.2)        a ziplist                   listpack, or table past the count
//   16 HASH_LISTPACK                a listpack                  the same
//   15 STREAM_LISTPACKS (<= 6.2)    listpack nodes, groups      the same (stream_decode.h);
//   19 STREAM_LISTPACKS_2           (+ 7.0's counters)          an empty stream is kept
// clang-format on
//
// As Redis does after loading, a listpack hash or sorted set converts only when it has too many
// entries, not when an entry is long (that would take a scan), and quicklist nodes are kept as
// they come whatever their fill.
//
// Everything is validated, always (Redis's sanitize-dump-payload yes, and more): truncated input,
// bad lengths, blobs that are not valid listpacks, ziplists, zipmaps or intsets, duplicate set
// members, hash fields or sorted-set members, odd pair counts, NaN scores, and empty values all
// give nullopt, never a read outside the payload (streams: see stream_decode.h). Module values
// (6, 7) and Redis 7.2's streams (21) are not Keyward types: nullopt too.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "server/core/settings.h"
#include "server/keyspace/value.h"
#include "server/persistence/rdb_codec.h"

namespace keyward {

// A decoded value: a string's bytes (strings live in the entry), or any other type's Value.
using DecodedValue = std::variant<std::string, std::unique_ptr<Value>>;

// Reads one value of RDB type `rdb_type` from `in`; the encoding thresholds come from `settings`.
// nullopt when the input is malformed (in is then left anywhere), or when it is a well-formed
// value with no elements: `empty` then says so (the whole value was read; a file's loader skips
// the key, as Redis 7.0 does, and RESTORE refuses it). Input after the value is not looked at (a
// RESTORE payload with bytes to spare before its footer is accepted, as by Redis).
std::optional<DecodedValue> DecodeValue(uint8_t rdb_type, rdb::Reader& in,
                                        const ServerSettings& settings, bool* empty = nullptr);

}  // namespace keyward
