// Argument parsing that replies as Redis does (object.c, timeout.c): the getLongFromObjectOrReply
// family and blocking timeouts. Each returns false after sending the error; a `msg` given
// replaces Redis's generic text, as the C functions' msg argument does.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace keyward {

class CommandContext;

// A strict integer (string2ll); "ERR value is not an integer or out of range" otherwise.
bool GetLong(CommandContext& ctx, std::string_view s, int64_t* out, std::string_view msg = {});
// As GetLong, and not negative: "ERR value is out of range, must be positive".
bool GetPositiveLong(CommandContext& ctx, std::string_view s, int64_t* out,
                     std::string_view msg = {});
// As GetLong, within [min, max]: "ERR value is out of range, value must between MIN and MAX".
bool GetRangeLong(CommandContext& ctx, std::string_view s, int64_t min, int64_t max, int64_t* out,
                  std::string_view msg = {});
// A blocking command's timeout in seconds (a float; 0 waits forever), as the server-time
// deadline in ms, or -1 for none.
bool GetBlockTimeout(CommandContext& ctx, std::string_view s, int64_t* deadline_ms);
// The same for a timeout in integer milliseconds (XREAD ... BLOCK).
bool GetBlockTimeoutMs(CommandContext& ctx, std::string_view s, int64_t* deadline_ms);

// The SCAN family's arguments (db.c), shared by HSCAN, SSCAN and ZSCAN.
//
// The cursor as parseScanCursorOrReply reads it (strtoul): a leading '+' or '-' (negation modulo
// 2^64), leading zeros and the empty string (0) are accepted; a leading space, trailing bytes
// and values past 2^64-1 give "ERR invalid cursor".
bool GetScanCursor(CommandContext& ctx, std::string_view s, uint64_t* cursor);

struct ScanOptions {
  int64_t count = 10;
  std::optional<std::string_view> pattern;  // unset when absent or "*" (which matches anything)
  std::optional<std::string_view> type;     // TYPE (SCAN only)

  // Whether an element passes MATCH.
  bool Matches(std::string_view element) const;
};

// scanGenericCommand's options, from args[first] on, each a name and a value: COUNT (an integer,
// "ERR syntax error" below 1), MATCH, and TYPE only when `allow_type` (SCAN; a key's SCAN gives
// "ERR syntax error"). A later option of the same name wins.
bool GetScanOptions(CommandContext& ctx, std::span<const std::string_view> args, size_t first,
                    bool allow_type, ScanOptions* out);

// LMPOP/BLMPOP's and ZMPOP/BZMPOP's arguments from numkeys on:
//   numkeys key [key ...] <end> [COUNT count]
// where <end> is `first_end` (LEFT, MIN) or `second_end` (RIGHT, MAX). Redis's errors: numkeys
// and COUNT below 1, too few keys, an unknown end or option, a repeated COUNT.
struct MPopArgs {
  std::span<const std::string_view> keys;
  bool second_end = false;  // RIGHT / MAX
  int64_t count = 1;
};
bool GetMPopArgs(CommandContext& ctx, std::span<const std::string_view> args, size_t numkeys_idx,
                 std::string_view first_end, std::string_view second_end, MPopArgs* out);

// HSCAN's and ZSCAN's step over a collection of pairs, and its reply. A compact encoding
// (`whole`: `step(0)` appends every pair to `items`) answers everything with cursor 0. A table is
// stepped (`step(cursor)` appends one bucket's pairs and returns the next cursor) until about
// COUNT pairs were collected (Redis doubles COUNT for pairs) or 20 x COUNT buckets visited.
// Pairs whose first element MATCH refuses are dropped; the reply is [cursor, [items...]].
void ReplyPairScan(CommandContext& ctx, const ScanOptions& opts, uint64_t cursor, bool whole,
                   std::vector<std::string>& items, const std::function<uint64_t(uint64_t)>& step);

}  // namespace keyward
