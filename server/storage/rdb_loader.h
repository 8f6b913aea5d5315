// Loading an RDB file into the keyspace (Redis 7.0's rdbLoadRio): every opcode Redis 7.0 writes
// and every value type it can load (keyspace/value_decode.h), from RDB version 1 to 10, so
// Redis's own files, 6.2's ziplist-era ones included, load as they would into Redis.
//
// The file is checked as it is read: a bad signature, an unknown version or opcode, a short
// read, a malformed value, a duplicate key, a database number past `databases` or (with
// rdbchecksum) a wrong checksum stop the load with Redis's message; what was loaded until then
// stays in the keyspace (the server then refuses to start, as Redis exits).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "server/core/settings.h"
#include "server/keyspace/keyspace.h"
#include "server/persistence/rdb_codec.h"

namespace keyward {

struct RdbLoadHandlers {
  // A function library's code; the error text when it cannot be loaded.
  std::function<std::optional<std::string>(std::string_view code)> function;
  // Every AUX field, Redis's and Keyward's own.
  std::function<void(std::string_view key, std::string_view value)> aux;
  // Called every `progress_interval` bytes with the bytes read so far (Redis serves clients
  // -LOADING from here).
  std::function<void(size_t loaded_bytes)> progress;
  size_t progress_interval = 2 * 1024 * 1024;
};

struct RdbLoadOptions {
  bool verify_checksum = true;  // rdbchecksum
  // A master drops keys whose deadline has passed (a replica keeps them for the master's DEL).
  bool drop_expired = true;
  // DEBUG RELOAD MERGE: a key already in memory is replaced by the file's (else a duplicate is
  // an error).
  bool allow_duplicates = false;
  // key-load-delay: the loader sleeps this long (microseconds) after each key, read at each key
  // so that CONFIG SET during the load takes effect (tests that need a long load).
  const int64_t* key_delay_us = nullptr;
};

struct RdbLoadResult {
  std::optional<std::string> error;  // nullopt: loaded
  int version = 0;
  uint64_t keys_loaded = 0;
  uint64_t keys_expired = 0;
  uint64_t empty_keys_skipped = 0;
  size_t bytes_used = 0;  // up to the end of the checksum (an AOF's commands may follow)
  // From the AUX fields, when present.
  std::string redis_ver;
  int64_t ctime = -1;
  int64_t used_mem = -1;
};

RdbLoadResult LoadRdb(std::string_view data, Keyspace& keyspace, const ServerSettings& settings,
                      const RdbLoadOptions& options, const RdbLoadHandlers& handlers);
// The same from a reader (a stream pulled from the master's socket, diskless load); `in` is
// left just past the checksum.
RdbLoadResult LoadRdb(rdb::Reader& in, Keyspace& keyspace, const ServerSettings& settings,
                      const RdbLoadOptions& options, const RdbLoadHandlers& handlers);

}  // namespace keyward
