// Argument parsing that replies as Redis does (object.c, timeout.c): the getLongFromObjectOrReply
// family and blocking timeouts. Each returns false after sending the error; a `msg` given
// replaces Redis's generic text, as the C functions' msg argument does.
#pragma once

#include <cstdint>
#include <string_view>

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

}  // namespace keyward
