// What a script or function declares about itself, and the command flags that follow from it.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace keyward {

// The flags a script or function declares ("#!lua flags=no-writes,allow-oom", or a function's
// flags={...}).
struct ScriptFlags {
  bool declared = false;  // a shebang (or a function: always); without one, EVAL's old rules
  bool no_writes = false;
  bool allow_oom = false;
  bool allow_stale = false;
};

// The command flags an EVAL or FCALL runs with once its script's flags are known (Redis's
// scriptFlagsToCmdFlags): a script that declares flags is a write (and deny-oom) unless it says
// no-writes (or allow-oom), stale only with allow-stale, and never "may replicate": its flags say
// whether it writes. Without declared flags the command's own flags stand.
uint32_t ScriptCommandFlags(uint32_t cmd_flags, const ScriptFlags& script);

class CommandContext;
// On a replica whose link is down with replica-serve-stale-data off, why the script may not
// run (-MASTERDOWN; a script that declares allow-stale may).
std::optional<std::string_view> StaleRefusal(CommandContext& ctx, const ScriptFlags& script);

}  // namespace keyward
