#include "server/core/config.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstring>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "server/core/errors.h"
#include "server/core/strings.h"

namespace keyward {

namespace {

// CONFIG SET's split of a multi-argument value (Redis's sdssplitlen on " "): every single space
// separates, so doubled or leading spaces make empty arguments; an empty value is one empty
// argument here (the options' setters read {""} as "none").
std::vector<std::string> SplitOnSpaces(const std::string& value) {
  if (value.empty()) return {""};
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t space = value.find(' ', start);
    out.push_back(
        value.substr(start, space == std::string::npos ? std::string::npos : space - start));
    if (space == std::string::npos) break;
    start = space + 1;
  }
  return out;
}

// A value as it can be written back to a config file: bare when SplitArgs reads it back
// unchanged, else quoted like redis-server's sdscatrepr.
std::string Quote(std::string_view s) {
  bool plain = !s.empty();
  for (char c : s) {
    if (c == ' ' || c == '"' || c == '\'' || c == '\\' ||
        !std::isprint(static_cast<unsigned char>(c)))
      plain = false;
  }
  return plain ? std::string(s) : Repr(s);
}

std::string Join(const std::vector<std::string>& values) {
  std::string out;
  for (size_t i = 0; i < values.size(); i++) {
    if (i) out += ' ';
    out += values[i];
  }
  return out;
}

}  // namespace

std::optional<int64_t> ParseMemory(std::string_view s) {
  struct Unit {
    std::string_view suffix;
    int64_t mul;
  };
  static constexpr Unit kUnits[] = {{"kb", 1024}, {"mb", 1024 * 1024}, {"gb", 1024LL * 1024 * 1024},
                                    {"k", 1000},  {"m", 1000 * 1000},  {"g", 1000LL * 1000 * 1000},
                                    {"b", 1}};
  std::string lower = ToLower(s);
  int64_t mul = 1;
  std::string_view digits = lower;
  for (const auto& u : kUnits) {
    if (digits.size() > u.suffix.size() && digits.ends_with(u.suffix)) {
      mul = u.mul;
      digits.remove_suffix(u.suffix.size());
      break;
    }
  }
  int64_t v;
  if (!ParseInt64(digits, &v)) return std::nullopt;
  if (v != 0 && (v > INT64_MAX / mul || v < INT64_MIN / mul)) return std::nullopt;
  return v * mul;
}

void Config::Add(Option option) {
  index_[ToLower(option.name)] = options_.size();
  if (!option.alias.empty()) index_[ToLower(option.alias)] = options_.size();
  options_.push_back(std::move(option));
}

void Config::SetRewriteLines(const std::string& name,
                             std::function<std::vector<std::string>()> lines) {
  rewrite_lines_[index_.at(name)] = std::move(lines);
}

void Config::AddApply(const std::vector<std::string>& names, Hook apply) {
  for (const std::string& name : names) apply_of_[index_.at(name)] = applies_.size();
  applies_.push_back(std::move(apply));
}

void Config::AddAlias(std::string alias, std::string name) {
  size_t i = index_.at(name);
  options_[i].alias = alias;
  index_[ToLower(alias)] = i;
}

Config::Option* Config::Find(std::string_view name) {
  auto it = index_.find(ToLower(name));
  return it == index_.end() ? nullptr : &options_[it->second];
}

const Config::Option* Config::Find(std::string_view name) const {
  auto it = index_.find(ToLower(name));
  return it == index_.end() ? nullptr : &options_[it->second];
}

namespace {

// fsync of a file or a directory.
bool SyncPath(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

// Wraps a typed parse-and-store in the restore-on-refusal logic shared by all typed options.
template <typename T>
std::function<std::optional<std::string>(const std::vector<std::string>&)> Setter(
    T* target, std::function<std::optional<std::string>(const std::string&, T*)> parse,
    Config::Hook on_change) {
  return [=](const std::vector<std::string>& values) -> std::optional<std::string> {
    if (values.size() != 1) return std::string("wrong number of arguments");
    T parsed;
    if (auto err = parse(values[0], &parsed)) return err;
    T previous = *target;
    *target = parsed;
    if (on_change) {
      if (auto err = on_change()) {
        *target = previous;
        return err;
      }
    }
    return std::nullopt;
  };
}

std::string RangeError(int64_t min, int64_t max) {
  return "argument must be between " + FormatInt64(min) + " and " + FormatInt64(max) + " inclusive";
}

}  // namespace

void Config::AddBool(std::string name, bool* target, bool def, uint32_t flags, Hook on_change) {
  *target = def;
  Add({name, "", flags,
       Setter<bool>(
           target,
           [](const std::string& v, bool* out) -> std::optional<std::string> {
             auto yes = ParseYesNo(v);
             if (!yes) return "argument must be 'yes' or 'no'";
             *out = *yes;
             return std::nullopt;
           },
           on_change),
       [target] { return std::string(*target ? "yes" : "no"); }, def ? "yes" : "no"});
}

void Config::AddInt(std::string name, int64_t* target, int64_t min, int64_t max, int64_t def,
                    uint32_t flags, Hook on_change) {
  *target = def;
  Add({name, "", flags,
       Setter<int64_t>(
           target,
           [=](const std::string& v, int64_t* out) -> std::optional<std::string> {
             if (!ParseInt64(v, out)) return "argument couldn't be parsed into an integer";
             if (*out < min || *out > max) return RangeError(min, max);
             return std::nullopt;
           },
           on_change),
       [target] { return FormatInt64(*target); }, FormatInt64(def)});
}

void Config::AddMemory(std::string name, int64_t* target, int64_t min, int64_t max, int64_t def,
                       uint32_t flags, Hook on_change) {
  *target = def;
  Add({name, "", flags,
       Setter<int64_t>(
           target,
           [=](const std::string& v, int64_t* out) -> std::optional<std::string> {
             auto m = ParseMemory(v);
             // Redis parses unsigned memory options with memtoull: no sign.
             if (!m || (min >= 0 && !v.empty() && v[0] == '-')) {
               return "argument must be a memory value";
             }
             *out = *m;
             if (*out < min || *out > max) return RangeError(min, max);
             return std::nullopt;
           },
           on_change),
       [target] { return FormatInt64(*target); }, FormatInt64(def)});
}

void Config::AddEnum(std::string name, int* target, std::vector<std::string> names, int def,
                     uint32_t flags, Hook on_change) {
  std::vector<std::pair<std::string, int>> values;
  for (size_t i = 0; i < names.size(); i++) values.emplace_back(names[i], static_cast<int>(i));
  AddEnumValues(std::move(name), target, std::move(values), def, flags, std::move(on_change));
}

void Config::AddEnumValues(std::string name, int* target,
                           std::vector<std::pair<std::string, int>> values, int def, uint32_t flags,
                           Hook on_change) {
  *target = def;
  // CONFIG GET shows the first name of a value (oom-score-adj: "yes" rather than "relative").
  auto name_of = [values](int v) {
    for (const auto& [n, value] : values) {
      if (value == v) return n;
    }
    return std::string();
  };
  Add({name, "", flags,
       Setter<int>(
           target,
           [values](const std::string& v, int* out) -> std::optional<std::string> {
             for (const auto& [n, value] : values) {
               if (EqualsIgnoreCase(v, n)) {
                 *out = value;
                 return std::nullopt;
               }
             }
             std::string list;
             for (size_t i = 0; i < values.size(); i++) list += (i ? ", " : "") + values[i].first;
             return "argument(s) must be one of the following: " + list;
           },
           on_change),
       [target, name_of] { return name_of(*target); }, name_of(def)});
}

void Config::AddString(std::string name, std::string* target, std::string def, uint32_t flags,
                       Hook on_change) {
  *target = def;
  Add({name, "", flags,
       Setter<std::string>(
           target,
           [](const std::string& v, std::string* out) -> std::optional<std::string> {
             *out = v;
             return std::nullopt;
           },
           on_change),
       [target] { return *target; }, def});
}

void Config::AddFixed(std::string name, std::vector<std::string> accepted, std::string reason) {
  std::string def = accepted.front();
  Add({name, "", kMultiArg,
       [accepted, reason](const std::vector<std::string>& values) -> std::optional<std::string> {
         std::string v = Join(values);
         for (const auto& a : accepted) {
           if (EqualsIgnoreCase(v, a)) return std::nullopt;
         }
         return reason;
       },
       [def] { return def; }, def});
}

std::optional<std::string> Config::GetValue(std::string_view name) const {
  const Option* o = Find(name);
  if (o == nullptr) return std::nullopt;
  return o->get();
}

void Config::ApplyLine(const std::vector<std::string>& argv, int line_no, const std::string& line,
                       const std::string& origin) {
  auto fail = [&](const std::string& why) {
    throw ConfigError("\n*** FATAL CONFIG FILE ERROR (Keyward " KEYWARD_VERSION ") ***\n" +
                      std::string("Reading the configuration file, at line ") +
                      FormatInt64(line_no) + "\n>>> '" + line + "'\n" + why + "\n");
  };
  if (EqualsIgnoreCase(argv[0], "include") && argv.size() == 2) {
    LoadFile(argv[1]);
    return;
  }
  Option* o = Find(argv[0]);
  if (o == nullptr) fail("Bad directive or wrong number of arguments");
  if ((argv.size() < 2 && !(o->flags & kBare)) || (!(o->flags & kMultiArg) && argv.size() > 2)) {
    fail("wrong number of arguments");
  }
  std::vector<std::string> values(argv.begin() + 1, argv.end());
  // A multi-argument option given one non-empty argument ("--bind '127.0.0.1 ::1'") has it split
  // like a line, as Redis does (an empty one stays: save "").
  if ((o->flags & kMultiArg) && values.size() == 1 && !values[0].empty()) {
    std::vector<std::string> split;
    if (SplitArgs(values[0], &split) && !split.empty()) values = std::move(split);
  }
  if (auto err = o->set(values)) fail(*err);
}

void Config::LoadText(std::string_view text, const std::string& origin) {
  struct Reading {
    int& depth;
    explicit Reading(int& d) : depth(d) { depth++; }
    ~Reading() { depth--; }
  } reading(reading_file_);
  std::istringstream in{std::string(text)};
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    line_no++;
    std::string_view trimmed = line;
    while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front())))
      trimmed.remove_prefix(1);
    while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back())))
      trimmed.remove_suffix(1);
    if (trimmed.empty() || trimmed[0] == '#') continue;
    std::vector<std::string> argv;
    if (!SplitArgs(trimmed, &argv)) {
      throw ConfigError("\n*** FATAL CONFIG FILE ERROR (Keyward " KEYWARD_VERSION ") ***\n" +
                        std::string("Reading the configuration file, at line ") +
                        FormatInt64(line_no) + "\n>>> '" + std::string(trimmed) +
                        "'\nUnbalanced quotes in configuration line\n");
    }
    if (argv.empty()) continue;
    ApplyLine(argv, line_no, std::string(trimmed), origin);
  }
}

void Config::LoadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    throw ConfigError("Fatal error, can't open config file '" + path +
                      "': " + std::strerror(errno));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  LoadText(ss.str(), path);
}

void Config::LoadArgs(int argc, char** argv) {
  int j = 1;
  std::string text;
  // The first argument, when it does not start with "--", is the config file ("-" is stdin).
  if (argc > 1 && std::string_view(argv[1]).substr(0, 2) != "--") {
    std::string path = argv[1];
    j = 2;
    if (path == "-") {
      std::stringstream ss;
      ss << std::cin.rdbuf();
      text += ss.str();
    } else {
      char resolved[PATH_MAX];
      config_file_ = realpath(path.c_str(), resolved) ? resolved : path;
      std::ifstream in(path);
      if (!in) {
        throw ConfigError("Fatal error, can't open config file '" + path +
                          "': " + std::strerror(errno));
      }
      std::stringstream ss;
      ss << in.rdbuf();
      text += ss.str();
    }
  }
  // "--port 7000 --save ''" becomes the lines "port 7000" and "save ''", as in redis-server.
  std::string options;
  // Whether the last option got a value: until it has one, an argument starting with "--" is
  // its value (`--requirepass --secret`), as redis-server 7.0 reads its arguments.
  bool have_value = true;
  for (; j < argc; j++) {
    std::string_view arg = argv[j];
    if (have_value && arg.size() > 2 && arg.substr(0, 2) == "--") {
      if (!options.empty()) options += "\n";
      options += std::string(arg.substr(2)) + " ";
      std::vector<std::string> parts;
      have_value = SplitArgs(arg, &parts) && parts.size() > 1;  // "--port 7000" in one argument
      // A bare `--save`, last or followed by another option, means save "" (redis-server
      // 7.0.1+ keeps scripts that build an empty save list working).
      if (!have_value && EqualsIgnoreCase(arg, "--save") &&
          (j + 1 == argc || std::string_view(argv[j + 1]).substr(0, 2) == "--")) {
        options += "\"\"";
        have_value = true;
      }
      // `--sentinel` is a mode, not an option: it takes no value (redis-server 7.0.1+).
      if (!have_value && EqualsIgnoreCase(arg, "--sentinel")) have_value = true;
    } else {
      options += Repr(arg) + " ";
      have_value = true;
    }
  }
  // Like redis-server, the options become lines after the file's text and a newline, so an
  // error in `--port abc` is reported as line 2 of `port "abc"`.
  LoadText(text + "\n" + options, config_file_);
}

std::vector<std::pair<std::string, std::string>> Config::Get(
    const std::vector<std::string>& patterns) const {
  std::vector<std::pair<std::string, std::string>> out;
  std::set<std::string> seen;
  for (const auto& o : options_) {
    for (const std::string* name : {&o.name, &o.alias}) {
      if (name->empty() || seen.count(*name)) continue;
      for (const auto& p : patterns) {
        // Names and aliases both match, by glob or exactly, as Redis 7.0 lists both
        // (`CONFIG GET *-max-*` has hash-max-listpack-entries and hash-max-ziplist-entries).
        // A hidden option (a testing knob) is listed only when asked for by its name.
        bool exact = EqualsIgnoreCase(p, *name);
        if (exact || (!(o.flags & kHidden) && GlobMatch(p, *name, true))) {
          out.emplace_back(exact ? p : *name, o.get());
          seen.insert(*name);
          break;
        }
      }
    }
  }
  return out;
}

std::optional<std::string> Config::Set(
    const std::vector<std::pair<std::string, std::string>>& pairs, bool allow_protected) {
  std::set<const Option*> seen;
  for (const auto& [name, value] : pairs) {
    const Option* o = Find(name);
    if (o == nullptr) {
      return errors::UnknownConfigOption(name);
    }
    if (o->flags & kImmutable) {
      return errors::ConfigSetFailed(name, errors::kConfigImmutable);
    }
    if ((o->flags & kProtected) && !allow_protected) {
      return errors::ConfigSetFailed(name, errors::kConfigProtected);
    }
    if (!seen.insert(o).second) {
      return errors::ConfigSetFailed(name, errors::kConfigDuplicate);
    }
  }
  // Set in order; on a failure, restore what was already set (all or nothing).
  auto values_of = [](const Option& o, const std::string& value) {
    return (o.flags & kMultiArg) ? SplitOnSpaces(value) : std::vector<std::string>{value};
  };
  std::vector<std::pair<Option*, std::string>> applied;
  auto restore = [&] {
    for (auto it = applied.rbegin(); it != applied.rend(); ++it) {
      it->first->set(values_of(*it->first, it->second));
    }
  };
  std::vector<std::pair<size_t, std::string>> applies;  // (apply, the option that asked first)
  for (const auto& [name, value] : pairs) {
    Option* o = Find(name);
    std::string previous = o->get();
    if (auto err = o->set(values_of(*o, value))) {
      restore();
      return errors::ConfigSetFailed(name, *err);
    }
    const bool changed = o->get() != previous;
    applied.emplace_back(o, previous);
    if (!changed && !(o->flags & kVolatile)) continue;
    if (auto it = apply_of_.find(static_cast<size_t>(o - options_.data())); it != apply_of_.end()) {
      const size_t apply = it->second;
      if (std::none_of(applies.begin(), applies.end(),
                       [apply](const auto& a) { return a.first == apply; })) {
        applies.emplace_back(apply, name);
      }
    }
  }
  for (const auto& [apply, name] : applies) {
    if (auto err = applies_[apply]()) {
      spdlog::warn(
          "Failed applying new configuration. Possibly related to new {} setting. Restoring "
          "previous settings.",
          name);
      restore();
      for (const auto& [again, unused] : applies) {
        if (applies_[again]()) spdlog::warn("Failed applying restored failed CONFIG SET command.");
      }
      return errors::ConfigSetFailed(name, *err);
    }
  }
  return std::nullopt;
}

std::optional<std::string> Config::Rewrite() {
  if (config_file_.empty()) return std::string(errors::kNoConfigFile);
  // Keep the file's lines; replace each option's first line with its current value, drop its
  // other lines, and append options that differ from their default and were not in the file.
  std::ifstream in(config_file_);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  std::set<const Option*> written;
  std::vector<std::string> out;
  auto render = [](const Option& o) {
    std::string v = o.get();
    if (o.flags & kMultiArg) return o.name + " " + (v.empty() ? "\"\"" : v);
    return o.name + " " + Quote(v);
  };
  for (const auto& l : lines) {
    std::vector<std::string> argv;
    if (l.empty() || l[0] == '#' || !SplitArgs(l, &argv) || argv.empty()) {
      out.push_back(l);
      continue;
    }
    const Option* o = Find(argv[0]);
    if (o == nullptr) {
      out.push_back(l);
      continue;
    }
    if (!written.insert(o).second) continue;
    if (auto it = rewrite_lines_.find(static_cast<size_t>(o - options_.data()));
        it != rewrite_lines_.end()) {
      for (auto& rendered : it->second()) out.push_back(std::move(rendered));
    } else {
      out.push_back(render(*o));
    }
  }
  bool header = false;
  for (const auto& o : options_) {
    if (written.count(&o)) continue;
    std::vector<std::string> rendered;
    if (auto it = rewrite_lines_.find(static_cast<size_t>(&o - options_.data()));
        it != rewrite_lines_.end()) {
      rendered = it->second();
    } else if (o.get() != o.default_value) {
      rendered.push_back(render(o));
    }
    if (rendered.empty()) continue;
    if (!header) {
      out.push_back("# Generated by CONFIG REWRITE");
      header = true;
    }
    for (auto& r : rendered) out.push_back(std::move(r));
  }
  std::string tmp = config_file_ + ".tmp-" + std::to_string(getpid());
  {
    std::ofstream f(tmp, std::ios::trunc);
    for (const auto& l : out) f << l << "\n";
    f.flush();
    if (!f) return errors::ConfigRewriteFailed(std::strerror(errno));
  }
  // On disk before it replaces the old file, and the rename on disk before we return: a
  // sentinel's vote or epoch must survive a crash right after it is given (Redis fsyncs too).
  if (!SyncPath(tmp)) return errors::ConfigRewriteFailed(std::strerror(errno));
  if (std::rename(tmp.c_str(), config_file_.c_str()) != 0) {
    return errors::ConfigRewriteFailed(std::strerror(errno));
  }
  const size_t slash = config_file_.rfind('/');
  SyncPath(slash == std::string::npos ? "." : config_file_.substr(0, std::max<size_t>(slash, 1)));
  return std::nullopt;
}

}  // namespace keyward
