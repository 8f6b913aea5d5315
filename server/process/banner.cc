#include "server/process/banner.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <string>

namespace keyward {

void LogStartupBanner(const ServerSettings& s) {
  const bool show_logo = s.always_show_logo || (s.logfile.empty() && isatty(STDOUT_FILENO));
  if (!show_logo) {
    spdlog::info("Running mode=standalone, port={}.", s.port);
    return;
  }
  // Redis's logo layout: the facts a bug report needs beside the art.
  const std::string version = KEYWARD_VERSION;
  const std::string redis = KEYWARD_REDIS_VERSION;
  const std::string port = std::to_string(s.port);
  const std::string pid = std::to_string(getpid());
  spdlog::info(
      "\n"
      "      _  __                                   _ \n"
      "     | |/ /___ _   ___      ____ _ _ __ __| |    Keyward {} (Redis {} compatible) 64 bit\n"
      "     | ' // _ \\ | | \\ \\ /\\ / / _` | '__/ _` |\n"
      "     | . \\  __/ |_| |\\ V  V / (_| | | | (_| |    Running in standalone mode\n"
      "     |_|\\_\\___|\\__, | \\_/\\_/ \\__,_|_|  \\__,_|    Port: {}\n"
      "               |___/                               PID: {}\n",
      version, redis, port, pid);
}

}  // namespace keyward
