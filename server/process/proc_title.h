// The process title (set-proc-title, proc-title-template): what `ps` and /proc/<pid>/cmdline show,
// rewritten in place over the process's original argv and environment strings, as Redis's
// setproctitle does. Variables of the template: {title} (the name the server was started as),
// {listen-addr}, {server-mode}, {port}, {tls-port}, {unixsocket}, {config-file}.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace keyward {

struct ServerSettings;

struct ProcTitleVars {
  std::string title;        // argv[0] as given
  std::string config_file;  // absolute path, or empty
  const ServerSettings* settings = nullptr;
};

// The template expanded and trimmed of spaces; nullopt when it has an unknown variable or an
// unbalanced brace, or expands to nothing (Redis's validateProcTitleTemplate).
std::optional<std::string> ExpandProcTitle(std::string_view tmpl, const ProcTitleVars& vars);

class ProcTitle {
 public:
  // Takes over the memory of argv and environ (the environment is copied first, so getenv keeps
  // working). argv must not be used afterwards.
  void Init(int argc, char** argv);
  // Writes `title` over the original command line (truncated to the space there is).
  void Set(const std::string& title);

 private:
  char* base_ = nullptr;
  size_t size_ = 0;
};

}  // namespace keyward
