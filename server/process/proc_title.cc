#include "server/process/proc_title.h"

#include <cstdlib>
#include <cstring>
#include <vector>

#include "server/core/settings.h"

extern char** environ;

namespace keyward {

namespace {

std::optional<std::string> Variable(std::string_view name, const ProcTitleVars& v) {
  const ServerSettings& s = *v.settings;
  if (name == "title") return v.title;
  if (name == "listen-addr") {
    if (s.port != 0 || s.tls_port != 0) {
      std::string addr = s.bind.empty() ? "*" : s.bind.front();
      if (!addr.empty() && addr[0] == '-') addr.erase(0, 1);  // an optional address
      return addr + ":" + std::to_string(s.port != 0 ? s.port : s.tls_port);
    }
    return "unixsocket:" + s.unixsocket;
  }
  // "[cluster]" in cluster mode (none here), "[sentinel]" in sentinel mode.
  if (name == "server-mode") return std::string(s.sentinel_mode ? "[sentinel]" : "");
  if (name == "port") return std::to_string(s.port);
  if (name == "tls-port") return std::to_string(s.tls_port);
  if (name == "unixsocket") return s.unixsocket;
  if (name == "config-file") return v.config_file;
  return std::nullopt;
}

}  // namespace

std::optional<std::string> ExpandProcTitle(std::string_view tmpl, const ProcTitleVars& vars) {
  std::string out;
  size_t i = 0;
  while (i < tmpl.size()) {
    const char c = tmpl[i];
    if (c == '}') return std::nullopt;
    if (c != '{') {
      out += c;
      i++;
      continue;
    }
    const size_t end = tmpl.find('}', i);
    if (end == std::string_view::npos) return std::nullopt;
    auto value = Variable(tmpl.substr(i + 1, end - i - 1), vars);
    if (!value) return std::nullopt;
    out += *value;
    i = end + 1;
  }
  const size_t first = out.find_first_not_of(' ');
  if (first == std::string::npos) return std::nullopt;
  out = out.substr(first, out.find_last_not_of(' ') - first + 1);
  return out;
}

void ProcTitle::Init(int argc, char** argv) {
  if (argc == 0 || argv[0] == nullptr) return;
  // The strings of argv and environ lie end to end: the title may use all of them.
  char* end = argv[0] + std::strlen(argv[0]) + 1;
  for (int i = 1; i < argc; i++) {
    if (argv[i] == end) end = argv[i] + std::strlen(argv[i]) + 1;
  }
  size_t env_count = 0;
  while (environ[env_count] != nullptr) env_count++;
  for (size_t i = 0; i < env_count; i++) {
    if (environ[i] == end) end = environ[i] + std::strlen(environ[i]) + 1;
  }
  // A private copy of the environment, so overwriting the original strings breaks nothing.
  char** env = static_cast<char**>(std::calloc(env_count + 1, sizeof(char*)));
  if (env == nullptr) return;
  for (size_t i = 0; i < env_count; i++) {
    env[i] = strdup(environ[i]);
    if (env[i] == nullptr) {  // out of memory at start: keep the original title and environment
      for (size_t j = 0; j < i; j++) std::free(env[j]);
      std::free(env);
      return;
    }
  }
  environ = env;
  base_ = argv[0];
  size_ = static_cast<size_t>(end - argv[0]);
}

void ProcTitle::Set(const std::string& title) {
  if (base_ == nullptr || size_ < 2) return;
  const size_t n = std::min(title.size(), size_ - 1);
  std::memcpy(base_, title.data(), n);
  // The rest is cleared: /proc/<pid>/cmdline ends at the title. The short name (comm, what
  // pidof and pgrep -x read) stays the executable's, as with Redis.
  std::memset(base_ + n, 0, size_ - n);
}

}  // namespace keyward
