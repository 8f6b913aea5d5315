#include "server/process/system.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace keyward {

std::optional<std::string> OomScore::Apply(const ServerSettings& settings) {
  const auto mode = static_cast<OomScoreAdj>(settings.oom_score_adj);
  int value;
  if (mode != OomScoreAdj::kNo) {
    if (!adjusted_) {
      // The score before Keyward touched it, to add to (relative) and to restore (no).
      std::ifstream in("/proc/self/oom_score_adj");
      if (!(in >> base_)) {
        spdlog::warn("Unable to read oom_score_adj: {}", std::strerror(errno));
        return std::string("Failed to set current oom_score_adj. Check server logs.");
      }
      adjusted_ = true;
    }
    // The master's value: replicas and background children get theirs with replication and
    // persistence.
    value = static_cast<int>(settings.oom_score_adj_values[0]);
    if (mode == OomScoreAdj::kRelative) value += base_;
    value = std::clamp(value, -1000, 1000);
  } else if (adjusted_) {
    adjusted_ = false;
    value = base_;
  } else {
    return std::nullopt;
  }
  const std::string text = std::to_string(value) + "\n";
  const int fd = open("/proc/self/oom_score_adj", O_WRONLY);
  if (fd < 0 || write(fd, text.data(), text.size()) < 0) {
    spdlog::warn("Unable to write oom_score_adj: {}", std::strerror(errno));
    if (fd >= 0) close(fd);
    return std::string("Failed to set current oom_score_adj. Check server logs.");
  }
  close(fd);
  return std::nullopt;
}

void DisableTransparentHugePages(const ServerSettings& settings) {
  if (!settings.disable_thp) return;
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string modes;
  std::getline(in, modes);
  if (modes.find("[always]") == std::string::npos) return;
  if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) != 0) {
    spdlog::warn("Failed to disable transparent huge pages: {}", std::strerror(errno));
  }
}

}  // namespace keyward
