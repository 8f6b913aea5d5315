#include "server/engine/command_keys.h"

#include <optional>

#include "server/core/errors.h"
#include "server/core/strings.h"
#include "server/engine/command_meta.h"

namespace keyward {

namespace {

constexpr std::string_view kReadAccess = "RO access";
constexpr std::string_view kOverwrite = "OW update";
constexpr std::string_view kReadWrite = "RW access update";

// The keys of the few commands whose key flags depend on their arguments, or whose keys their
// specs cannot find, as Redis's getkeys procedures decide them (setGetKeys, bitfieldGetKeys,
// sortGetKeys), into `keys`. False (nothing written) for every other command.
bool KeysByCommandRule(const CommandSpec& cmd, CmdArgs args, std::vector<FoundKey>* keys) {
  const std::string& name = cmd.full_name();
  if (name[0] != 's' && name[0] != 'b') return false;  // (a quick no for every other command)
  if (name == "set") {
    std::string_view flags = kOverwrite;
    for (size_t i = 3; i < args.size(); i++) {
      if (EqualsIgnoreCase(args[i], "get")) flags = kReadWrite;
    }
    keys->push_back({1, flags});
    return true;
  }
  if (name == "bitfield") {
    bool readonly = true;
    for (size_t i = 2; i < args.size() && readonly; i++) {
      const size_t rest = args.size() - i - 1;
      if (EqualsIgnoreCase(args[i], "get") && rest >= 2) {
        i += 2;
      } else if (EqualsIgnoreCase(args[i], "overflow") && rest >= 1) {
        i += 1;
      } else {
        readonly = false;  // SET, INCRBY, or a syntax error: assume a write, as Redis does
      }
    }
    keys->push_back({1, readonly ? kReadAccess : kReadWrite});
    return true;
  }
  if (name == "sort" || name == "sort_ro") {
    // The BY and GET patterns name keys only the sorted data can tell; the last STORE wins.
    keys->push_back({1, kReadAccess});
    std::optional<size_t> store;
    for (size_t i = 2; i < args.size(); i++) {
      if (EqualsIgnoreCase(args[i], "limit")) {
        i += 2;
      } else if (EqualsIgnoreCase(args[i], "get") || EqualsIgnoreCase(args[i], "by")) {
        i += 1;
      } else if (EqualsIgnoreCase(args[i], "store") && i + 1 < args.size()) {
        store = i + 1;
      }
    }
    if (store) keys->push_back({*store, kOverwrite});
    return true;
  }
  return false;
}

}  // namespace

std::variant<std::vector<FoundKey>, std::string_view> FindKeys(const CommandRegistry& registry,
                                                               CmdArgs target) {
  const CommandSpec* cmd = registry.FindFor(target);
  if (cmd == nullptr) return errors::kInvalidCommand;
  if (!cmd->ArityOk(target.size())) return errors::kInvalidCommandArgs;
  const CommandMeta* meta = MetaOf(*cmd);
  if (cmd->full_name() == "lock.guard") {
    // The resource, then the keys of the guarded command (its arguments start at 3). A guard
    // cannot guard a guard (the gatekeeper refuses it): its resource alone, so that a line of
    // nested guards costs nothing to look at.
    std::vector<FoundKey> keys{{1, meta->key_specs[0].flags}};
    const CommandSpec* inner_cmd = registry.FindFor(target.subspan(3));
    if (inner_cmd == nullptr || inner_cmd->full_name() == "lock.guard") return keys;
    if (auto inner = FindKeys(registry, target.subspan(3));
        std::holds_alternative<std::vector<FoundKey>>(inner)) {
      for (const FoundKey& k : std::get<std::vector<FoundKey>>(inner)) {
        keys.push_back({k.pos + 3, k.flags});
      }
    }
    return keys;
  }
  // A command with key specs may find none in these arguments (an empty list); one without
  // any is an error.
  if (meta != nullptr && meta->key_specs.empty()) return errors::kNoKeyArguments;
  std::vector<FoundKey> keys;
  if (KeysByCommandRule(*cmd, target, &keys)) return keys;
  if (meta != nullptr) {
    if (auto refs = KeyRefsFromSpecs(*meta, target)) {
      for (const KeyRef& ref : *refs) keys.push_back({ref.pos, ref.spec->flags});
      return keys;
    }
  }
  for (size_t pos : cmd->KeyPositions(target)) keys.push_back({pos, ""});
  if (meta == nullptr && keys.empty()) return errors::kNoKeyArguments;
  return keys;
}

void AclKeys(const CommandRegistry& registry, const CommandSpec& command, CmdArgs target,
             std::vector<FoundKey>* out) {
  out->clear();
  std::vector<FoundKey>& keys = *out;
  const CommandSpec* cmd = &command;
  if (!cmd->ArityOk(target.size())) return;
  const CommandMeta* meta = MetaOf(*cmd);
  if (meta != nullptr && meta->key_specs.empty()) return;  // no keys at all (PING, INFO, ...)
  if (meta == nullptr || (cmd->full_name()[0] == 'l' && cmd->full_name() == "lock.guard")) {
    auto found = FindKeys(registry, target);
    if (auto* found_keys = std::get_if<std::vector<FoundKey>>(&found))
      keys = std::move(*found_keys);
    for (FoundKey& k : keys) k.access = KeyAccessOf(k.flags);
    return;
  }
  if (KeysByCommandRule(*cmd, target, &keys)) {
    for (FoundKey& k : keys) k.access = KeyAccessOf(k.flags);
    return;
  }
  const int argc = static_cast<int>(target.size());
  for (const KeySpecMeta& spec : meta->key_specs) {
    const uint8_t access = KeyAccessOf(spec.flags);
    if (access & kNotAKey) continue;
    int first = 0;
    if (spec.begin_type == "index") {
      first = spec.index;
    } else if (spec.begin_type == "keyword") {
      const bool forwards = spec.startfrom > 0;
      const int start = forwards ? spec.startfrom : argc + spec.startfrom;
      const int end = forwards ? argc - 1 : 1;
      for (int i = start; i != end; i = start <= end ? i + 1 : i - 1) {
        if (i >= argc || i < 1) break;
        if (EqualsIgnoreCase(target[static_cast<size_t>(i)], spec.keyword)) {
          first = i + 1;
          break;
        }
      }
      if (first == 0) continue;  // keyword absent: no keys from this spec
    } else {
      return keys.clear();
    }
    int last, step;
    if (spec.find_type == "range") {
      step = spec.b;
      if (spec.a >= 0) {
        last = first + spec.a;
      } else if (spec.c == 0) {
        last = argc + spec.a;
      } else {
        last = first + ((argc - first) / spec.c + spec.a);
      }
    } else if (spec.find_type == "keynum") {
      step = spec.c;
      const int at = first + spec.a;
      int64_t n;
      if (at >= argc || !ParseInt64(target[static_cast<size_t>(at)], &n) || n < 0)
        return keys.clear();
      first += spec.b;
      if (n > argc) return keys.clear();  // more keys than arguments: out of bounds
      last = first + static_cast<int>(n) - 1;
    } else {
      return keys.clear();
    }
    // Out of bounds (a keynum of 0 included): Redis then falls back on the command's own key
    // finder, which finds none in such a command line.
    if (last >= argc || last < first || first >= argc) return keys.clear();
    for (int i = first; i <= last; i += step > 0 ? step : 1) {
      keys.push_back(FoundKey{static_cast<size_t>(i), spec.flags, access});
    }
    if (access & kIncompleteKeys) return keys.clear();
  }
}

uint8_t KeyAccessOf(std::string_view flags) {
  // Words are told apart by their first letter and length (the ACL reads these on every command
  // of a restricted user): access, insert, delete, update, not_key, incomplete; the others (RW,
  // RO, OW, RM, variable_flags) ask nothing.
  uint8_t access = 0;
  size_t start = 0;
  while (start < flags.size()) {
    size_t end = start;
    while (end < flags.size() && flags[end] != ' ') end++;
    const size_t len = end - start;
    switch (flags[start]) {
      case 'a':
        if (len == 6) access |= kKeyRead;  // access
        break;
      case 'i':
        if (len == 6) access |= kKeyWrite;         // insert
        if (len == 10) access |= kIncompleteKeys;  // incomplete
        break;
      case 'd':
      case 'u':
        if (len == 6) access |= kKeyWrite;  // delete, update
        break;
      case 'n':
        if (len == 7) access |= kNotAKey;  // not_key
        break;
      default:
        break;
    }
    start = end + 1;
  }
  return access;
}

namespace {

// Redis's commands_with_channels, for the publishing and subscribing ones.
struct ChannelRule {
  std::string_view command;
  bool pattern;
  bool all;  // every argument from the first on; else only the first
};
constexpr ChannelRule kChannelRules[] = {
    {"publish", false, false},   {"spublish", false, false}, {"subscribe", false, true},
    {"ssubscribe", false, true}, {"psubscribe", true, true},
};

const ChannelRule* ChannelRuleOf(const CommandSpec& cmd) {
  for (const ChannelRule& rule : kChannelRules) {
    if (cmd.full_name() == rule.command) return &rule;
  }
  return nullptr;
}

}  // namespace

std::vector<FoundChannel> FindChannels(const CommandSpec& cmd, CmdArgs args) {
  std::vector<FoundChannel> channels;
  const ChannelRule* rule = ChannelRuleOf(cmd);
  if (rule == nullptr) return channels;
  const size_t last = rule->all ? args.size() : std::min<size_t>(args.size(), 2);
  for (size_t i = 1; i < last; i++) channels.push_back({i, rule->pattern});
  return channels;
}

}  // namespace keyward
