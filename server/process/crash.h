// What happens when the server crashes (crash-log-enabled, crash-memcheck-enabled), as Redis: on
// SIGSEGV, SIGBUS, SIGFPE, SIGILL or SIGABRT a bug report goes to the log (the signal, the stack
// trace) and, with crash-memcheck-enabled, a fast test of the process's memory; then the signal
// takes its course (the previous handler, the default action, a core dump).
#pragma once

#include "server/core/settings.h"

namespace keyward {

// Installs the handlers when crash-log-enabled is on and removes them when it is off; reads the
// log file and crash-memcheck-enabled from `settings` now (call it again after a change).
void SetUpCrashReport(const ServerSettings& settings);

}  // namespace keyward
