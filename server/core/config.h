// Configuration with Redis's syntax and semantics: redis.conf files (with `include` and quoted
// values), `--option value` command-line overrides, and CONFIG GET / SET / REWRITE.
//
// The Config engine knows option *types* (bool, integer, memory, enum, string, custom); which
// options exist and what they control is declared by the server (server/server_config.cc), each
// bound to a field of ServerSettings.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace keyward {

class Config {
 public:
  enum Flags : uint32_t {
    kImmutable = 1 << 0,  // only at start-up
    kSensitive = 1 << 1,  // value hidden from logs
    kMultiArg = 1 << 2,   // takes several arguments in a config file (bind, save, ...)
    kProtected = 1 << 3,  // refused by CONFIG SET unless enable-protected-configs allows it
    kHidden = 1 << 4,     // not matched by CONFIG GET patterns, only by its exact name
    kBare = 1 << 5,       // may be given with no value (`--sentinel`)
    // Applied (AddApply) even when set to its current value: a file to read again (a renewed
    // certificate at the same path).
    kVolatile = 1 << 6,
  };

  struct Option {
    std::string name;
    std::string alias;
    uint32_t flags = 0;
    // Parses and applies the value. On failure returns the reason (Redis's wording).
    std::function<std::optional<std::string>(const std::vector<std::string>& values)> set;
    std::function<std::string()> get;
    std::string default_value;  // as get() renders it
  };

  void Add(Option option);

  // Typed helpers. `on_change` runs after a successful set (e.g. re-bind on a port change); it
  // may refuse with a reason, in which case the previous value is restored.
  using Hook = std::function<std::optional<std::string>()>;
  void AddBool(std::string name, bool* target, bool def, uint32_t flags = 0, Hook on_change = {});
  void AddInt(std::string name, int64_t* target, int64_t min, int64_t max, int64_t def,
              uint32_t flags = 0, Hook on_change = {});
  void AddMemory(std::string name, int64_t* target, int64_t min, int64_t max, int64_t def,
                 uint32_t flags = 0, Hook on_change = {});
  void AddEnum(std::string name, int* target, std::vector<std::string> names, int def,
               uint32_t flags = 0, Hook on_change = {});
  // Names with their values, in the order errors list them; several names may share a value.
  void AddEnumValues(std::string name, int* target, std::vector<std::pair<std::string, int>> values,
                     int def, uint32_t flags = 0, Hook on_change = {});
  void AddString(std::string name, std::string* target, std::string def, uint32_t flags = 0,
                 Hook on_change = {});
  // An option Keyward recognises but only supports with these values (e.g. appendonly no until
  // persistence lands): anything else is refused with a clear reason.
  void AddFixed(std::string name, std::vector<std::string> accepted, std::string reason);
  void AddAlias(std::string alias, std::string name);
  // Applies the options `names` together once a CONFIG SET has set all of them (Redis's apply
  // functions: a certificate and its key set in one CONFIG SET are loaded as a pair). Run once
  // per CONFIG SET that changed one of the options (or set a kVolatile one); a refusal
  // restores every value the CONFIG SET changed and applies the restored values again.
  void AddApply(const std::vector<std::string>& names, Hook apply);
  // CONFIG REWRITE writes the option `name` as the lines `lines` returns (whole lines: the
  // sentinel's state), in place of every line of it the file had.
  void SetRewriteLines(const std::string& name, std::function<std::vector<std::string>()> lines);

  // Start-up: a redis.conf text. Throws ConfigError with Redis's fatal-error report.
  void LoadText(std::string_view text, const std::string& origin);
  // Whether a config file or the command line is being read (an option given several times
  // there accumulates, as `save`; CONFIG SET replaces).
  bool reading_file() const { return reading_file_ > 0; }
  void LoadFile(const std::string& path);
  // Start-up: `keyward-server [file] [--opt value ...]`, as redis-server parses its arguments.
  void LoadArgs(int argc, char** argv);

  // CONFIG GET: every option matching one of the glob patterns, as (name, value) pairs.
  std::vector<std::pair<std::string, std::string>> Get(
      const std::vector<std::string>& patterns) const;
  // CONFIG SET: pairs applied atomically. Returns Redis's full error text on failure. Protected
  // options are refused unless `allow_protected` (enable-protected-configs, decided by the caller
  // who knows the client).
  std::optional<std::string> Set(const std::vector<std::pair<std::string, std::string>>& pairs,
                                 bool allow_protected = false);
  // CONFIG REWRITE. Returns an error text on failure.
  std::optional<std::string> Rewrite();

  const std::string& config_file() const { return config_file_; }
  std::optional<std::string> GetValue(std::string_view name) const;

 private:
  Option* Find(std::string_view name);
  const Option* Find(std::string_view name) const;
  void ApplyLine(const std::vector<std::string>& argv, int line_no, const std::string& line,
                 const std::string& origin);

  std::vector<Option> options_;
  std::map<std::string, size_t, std::less<>> index_;  // lower-case name or alias -> option
  std::map<size_t, std::function<std::vector<std::string>()>> rewrite_lines_;  // by index
  std::vector<Hook> applies_;
  std::map<size_t, size_t> apply_of_;  // option index -> its apply in applies_
  std::string config_file_;            // absolute path, for REWRITE
  int reading_file_ = 0;               // LoadText nesting (include)
};

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// "1gb" -> 1073741824, as Redis's memtoull. nullopt when not a memory value.
std::optional<int64_t> ParseMemory(std::string_view s);

}  // namespace keyward
