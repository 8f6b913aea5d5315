// incr-lock: the lock many applications build on one plain Redis server, as a counter-example.
// A process takes `SET resource owner NX PX ttl` on the first node, its token from `INCR
// resource:token`, its validity as ttl from its invocation; it releases with a compare-and-delete
// script. Nothing survives an empty restart of that server: neither the lock (a second holder
// while the first one's lease runs) nor the counter (tokens start again from 1, below those
// already handed out). `keyward-jepsen demo amnesia-token-regression` runs it under restart-empty
// and must exit 1; Keyward's own locks under the same fault stay valid.
#pragma once

#include <atomic>

#include "history.h"
#include "lock_workload.h"

namespace keyward::jepsen {

// `options.urls[0]` is the one node used.
void RunIncrLockWorkload(const LockWorkloadOptions& options, History& history, ClientStalls& stalls,
                         const std::atomic<bool>& stop);

}  // namespace keyward::jepsen
