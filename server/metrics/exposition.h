// The Prometheus text exposition (format 0.0.4) of what the server knows about itself: every
// numeric INFO figure, per-database, per-replica, per-command and per-error figures with
// labels, and Keyward's own (lock acquisitions, waits and hand-off latency histograms, lease
// expiries, fencing records). Served by the metrics endpoint (metrics-port), see
// docs/operations.md.
//
// Hand-written rather than prometheus-cpp: Debian 12 does not package prometheus-cpp, and the
// text format is a few lines of code; the tests parse what this writes.
#pragma once

#include <string>

#include "server/commands/services.h"

namespace keyward {

std::string RenderMetrics(Services& s);

}  // namespace keyward
