// Reading a stream back from its RDB form (rdbLoadObject for RDB_TYPE_STREAM_LISTPACKS, 15,
// written by Redis 5.0-6.2, and RDB_TYPE_STREAM_LISTPACKS_2, 19, by 7.0).
//
// Everything is checked, as Redis's deep sanitisation does and more, so that no payload can
// make the stream code read outside a node or loop: every node is a valid listpack in the
// stream layout (master entry, entries with the right element counts, lp-counts that agree,
// every count within the node's size), node keys are 16 bytes and increasing, live entries'
// IDs increase across the whole stream and do not pass the last ID (deleted entries may: XSETID
// can move the last ID back below them), the length matches the live entries, and every pending
// entry belongs to exactly one consumer of its group. nullopt otherwise.
#pragma once

#include <cstdint>
#include <memory>

#include "server/keyspace/stream_value.h"
#include "server/persistence/rdb_codec.h"

namespace keyward {

// `rdb_type` is 15 or 19.
std::unique_ptr<StreamValue> DecodeStream(uint8_t rdb_type, rdb::Reader& in);

}  // namespace keyward
