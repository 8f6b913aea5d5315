// The operating system's settings for the server process: its OOM-killer score (oom-score-adj,
// oom-score-adj-values) and transparent huge pages (disable-thp).
#pragma once

#include <optional>
#include <string>

#include "server/core/settings.h"

namespace keyward {

// Applies oom-score-adj: with relative (yes) the master's value is added to the score the process
// had when Keyward first took control of it; with absolute it replaces it; with no, the original
// score comes back. Returns Redis's error text when /proc/self/oom_score_adj cannot be written.
class OomScore {
 public:
  std::optional<std::string> Apply(const ServerSettings& settings);

 private:
  bool adjusted_ = false;
  int base_ = 0;
};

// disable-thp: transparent huge pages off for this process when the kernel has them on "always"
// (fork's copy-on-write would otherwise copy 2 MB pages), as Redis does.
void DisableTransparentHugePages(const ServerSettings& settings);

}  // namespace keyward
