// The start-up banner: Keyward's logo with the version, mode, port and PID when always-show-logo
// is on (or the log is an interactive terminal), otherwise one "Running mode=..." line, as Redis.
#pragma once

#include "server/core/settings.h"

namespace keyward {

void LogStartupBanner(const ServerSettings& settings);

}  // namespace keyward
