// The AOF's own records: commands in RESP multibulk form, as Redis 7.0's rewriteAppendOnlyFileRio
// writes a dataset (a base file without the RDB preamble) and feedAppendOnlyFile the stream.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "server/storage/snapshot.h"

namespace keyward {

class FunctionEngine;
class LockManager;

namespace aof {

// Redis's AOF_REWRITE_ITEMS_PER_CMD: a big collection is rebuilt by commands of this many items.
constexpr size_t kItemsPerCommand = 64;

// The "#TS:<unix seconds>\r\n" annotation (aof-timestamp-enabled).
void AppendTimestamp(std::string& out, int64_t unix_secs);
// The commands that recreate the function libraries and Keyward's fencing state: the start of a
// base file of commands. The floors go in an annotation line ("#keyward-fence-floor:<floor>
// <seen-floor>"), which Redis skips as it skips "#TS:", so a file without fencing records stays
// loadable by Redis; each record is a LOCK.RECORD command (Keyward only).
std::string DatasetPreamble(const FunctionEngine& functions, const LockManager& locks);
constexpr std::string_view kFenceFloorAnnotation = "#keyward-fence-floor:";

}  // namespace aof

// A snapshot written as commands: SELECT, then per key the commands that rebuild it (SET, RPUSH,
// SADD, ZADD, HMSET in batches of kItemsPerCommand) and PEXPIREAT for its TTL.
class AofSnapshotFormat : public SnapshotFormat {
 public:
  void BeginDb(std::string& out, int db, uint64_t keys, uint64_t expires) override;
  void Select(std::string& out, int db) override;
  void AppendEntry(std::string& out, const Entry& e) override;
  void End(std::string& out) override {}
};

}  // namespace keyward
