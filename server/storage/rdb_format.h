// The records of an RDB file that hold keys (Redis 7.0's rdbSaveKeyValuePair and rdbLoadObject
// framing): the magic, AUX fields, SELECTDB and RESIZEDB, and one key with its expiry and value.
// The primitives (lengths, strings, CRC64) are persistence/rdb_codec.h; the values' own formats
// are each type's Serialise (keyspace/value.h) and keyspace/value_decode.h.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "server/keyspace/entry.h"

namespace keyward::rdb {

// "REDIS0010".
void AppendMagic(std::string& out);
// An AUX field (Redis skips the ones it does not know, so Keyward adds its own).
void AppendAux(std::string& out, std::string_view key, std::string_view value);
void AppendSelectDb(std::string& out, int db);
// The sizes of the database's key table and expiry index: a hint for the loader's tables.
void AppendResizeDb(std::string& out, uint64_t keys, uint64_t expires);
// A function library (RDB_OPCODE_FUNCTION2 and its code).
void AppendFunction(std::string& out, std::string_view code);

// The value's type byte and its serialised form: what a DUMP payload holds before its footer.
void AppendValue(std::string& out, const Entry& e, bool compress);
// One key: its expiry (absolute ms) if it has one, then type, key and value.
void AppendEntry(std::string& out, const Entry& e, bool compress);
// The record up to its value: the expiry, the type byte and the key (the value follows, written
// at once by AppendEntry or a piece at a time by the value's writer).
void AppendEntryHeader(std::string& out, const Entry& e, bool compress);

}  // namespace keyward::rdb
