#include "server/acl/selector.h"

#include <spdlog/spdlog.h>

#include <climits>

#include "server/core/strings.h"

namespace keyward::acl {

std::string_view RuleErrorText(RuleError e) {
  switch (e) {
    case RuleError::kUnknownName:
      return "Unknown command or category name in ACL";
    case RuleError::kSyntax:
      return "Syntax error";
    case RuleError::kKeyAfterAll:
      return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does "
             "not have any effect. Try 'resetkeys' to start with an empty list of patterns";
    case RuleError::kChannelAfterAll:
      return "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and "
             "does not have any effect. Try 'resetchannels' to start with an empty list of "
             "channels";
    case RuleError::kNoSuchPassword:
      return "The password you are trying to remove from the user does not exist";
    case RuleError::kBadHash:
      return "The password hash must be exactly 64 characters and contain only lowercase "
             "hexadecimal characters";
    case RuleError::kDuplicateUser:
      return "Duplicate user found. A user can only be defined once in config files";
    case RuleError::kFirstArgOfSubcommand:
      return "Allowing first-arg of a subcommand is not supported";
    case RuleError::kNone:
      break;
  }
  return "Wrong format";
}

bool HasSpaces(std::string_view s) {
  for (char c : s) {
    if (c == '\0' || c == ' ' || (c >= '\t' && c <= '\r')) return true;
  }
  return false;
}

namespace {

// Redis's lookupCommandBySdsLogic: "name" or "container|sub", case-insensitive.
const CommandSpec* Lookup(const CommandRegistry& commands, std::string_view name) {
  const size_t bar = name.find('|');
  if (bar == std::string_view::npos) return commands.Find(name);
  const std::string_view sub = name.substr(bar + 1);
  if (sub.find('|') != std::string_view::npos) return nullptr;
  const CommandSpec* base = commands.Find(name.substr(0, bar));
  if (base == nullptr || !base->is_container()) return nullptr;
  return base->FindSubcommand(sub);
}

// Calls `fn` for every command of the table, each container followed by its subcommands.
template <typename Fn>
void ForEachCommand(const CommandRegistry& commands, Fn&& fn) {
  for (const CommandSpec* cmd : commands.all()) {
    fn(*cmd);
    for (const auto& sub : cmd->subcommands()) fn(*sub);
  }
}

}  // namespace

KeyCache::KeyCache()
    : keys([]() -> std::vector<FoundKey>& {
        // Commands are checked one at a time on the server's thread.
        thread_local std::vector<FoundKey> buffer;
        return buffer;
      }()) {}

Selector::Selector(uint32_t flags, const RuleContext& ctx)
    : flags_(flags | (ctx.all_channels_by_default ? uint32_t{kAllChannels} : uint32_t{0})) {}

RuleError Selector::Apply(std::string_view op, const RuleContext& ctx) {
  if (EqualsIgnoreCase(op, "allkeys") || op == "~*") {
    flags_ |= kAllKeys;
    keys_.clear();
  } else if (EqualsIgnoreCase(op, "resetkeys")) {
    flags_ &= ~kAllKeys;
    keys_.clear();
  } else if (EqualsIgnoreCase(op, "allchannels") || op == "&*") {
    flags_ |= kAllChannels;
    channels_.clear();
  } else if (EqualsIgnoreCase(op, "resetchannels")) {
    flags_ &= ~kAllChannels;
    channels_.clear();
  } else if (EqualsIgnoreCase(op, "allcommands") || EqualsIgnoreCase(op, "+@all")) {
    allowed_.set();
    flags_ |= kAllCommands;
    first_args_.clear();
  } else if (EqualsIgnoreCase(op, "nocommands") || EqualsIgnoreCase(op, "-@all")) {
    allowed_.reset();
    flags_ &= ~kAllCommands;
    first_args_.clear();
  } else if (!op.empty() && (op[0] == '~' || op[0] == '%')) {
    return ApplyKeyPattern(op);
  } else if (!op.empty() && op[0] == '&') {
    if (flags_ & kAllChannels) return RuleError::kChannelAfterAll;
    const std::string_view pattern = op.substr(1);
    if (HasSpaces(pattern)) return RuleError::kSyntax;
    bool known = false;
    for (const std::string& ch : channels_) known = known || ch == pattern;
    if (!known) channels_.emplace_back(pattern);
    flags_ &= ~kAllChannels;
  } else if (!op.empty() && (op[0] == '+' || op[0] == '-')) {
    return ApplyCommandRule(op, ctx);
  } else {
    return RuleError::kSyntax;
  }
  return RuleError::kNone;
}

RuleError Selector::ApplyKeyPattern(std::string_view op) {
  if (flags_ & kAllKeys) return RuleError::kKeyAfterAll;
  uint8_t access = 0;
  size_t offset = 1;
  if (op[0] == '%') {
    for (; offset < op.size(); offset++) {
      const char c = op[offset];
      if ((c == 'R' || c == 'r') && !(access & kKeyRead)) {
        access |= kKeyRead;
      } else if ((c == 'W' || c == 'w') && !(access & kKeyWrite)) {
        access |= kKeyWrite;
      } else if (c == '~') {
        offset++;
        break;
      } else {
        return RuleError::kSyntax;
      }
    }
    // "%~pattern" grants nothing (7.0.15 refuses it rather than listing a broken rule).
    if (access == 0) return RuleError::kSyntax;
  } else {
    access = kKeyRead | kKeyWrite;
  }
  const std::string_view pattern = op.substr(std::min(offset, op.size()));
  if (HasSpaces(pattern)) return RuleError::kSyntax;
  bool known = false;
  for (KeyPattern& p : keys_) {
    if (p.pattern == pattern) {
      p.access |= access;
      known = true;
    }
  }
  if (!known) keys_.emplace_back(access, pattern);
  flags_ &= ~kAllKeys;
  return RuleError::kNone;
}

RuleError Selector::ApplyCommandRule(std::string_view op, const RuleContext& ctx) {
  const bool allow = op[0] == '+';
  if (op.size() > 1 && op[1] == '@') {
    const uint64_t category = AclCategoryByName(op.substr(2));
    if (category == 0 || ctx.commands == nullptr) return RuleError::kUnknownName;
    SetCategory(*ctx.commands, category, allow);
    return RuleError::kNone;
  }
  const std::string_view name = op.substr(1);
  const size_t bar = name.rfind('|');
  if (ctx.commands == nullptr) {
    // Syntax only (a config file being read): "+get|" is an error whatever the command.
    if (allow && bar != std::string_view::npos && bar + 1 == name.size()) {
      return RuleError::kSyntax;
    }
    return RuleError::kUnknownName;
  }
  if (!allow || bar == std::string_view::npos) {
    const CommandSpec* cmd = Lookup(*ctx.commands, name);
    if (cmd == nullptr) return RuleError::kUnknownName;
    SetCommand(*cmd, allow);
    return RuleError::kNone;
  }
  const CommandSpec* cmd = Lookup(*ctx.commands, name.substr(0, bar));
  const std::string_view arg = name.substr(bar + 1);
  if (cmd == nullptr) return RuleError::kUnknownName;
  if (cmd->parent() != nullptr) return RuleError::kFirstArgOfSubcommand;
  if (arg.empty()) return RuleError::kSyntax;
  if (cmd->is_container()) {
    const CommandSpec* sub = cmd->FindSubcommand(arg);
    if (sub == nullptr) return RuleError::kUnknownName;
    SetCommand(*sub, true);
    return RuleError::kNone;
  }
  // +select|0: the command with this first argument only (Redis warns it may go away).
  spdlog::warn(
      "Deprecation warning: Allowing a first arg of an otherwise blocked command is a misuse of "
      "ACL and may get disabled in the future (offender: {})",
      op);
  std::vector<std::string>& args = first_args_[cmd->id()];
  for (const std::string& known : args) {
    if (EqualsIgnoreCase(known, arg)) return RuleError::kNone;
  }
  args.emplace_back(arg);
  return RuleError::kNone;
}

void Selector::SetBit(uint32_t id, bool allow) {
  if (id >= kCommandBits - 1) return;
  if (allow) {
    allowed_.set(id);
  } else {
    allowed_.reset(id);
    flags_ &= ~kAllCommands;
  }
}

void Selector::SetCommand(const CommandSpec& cmd, bool allow) {
  SetBit(cmd.id(), allow);
  first_args_.erase(cmd.id());
  for (const auto& sub : cmd.subcommands()) SetBit(sub->id(), allow);
}

void Selector::SetCategory(const CommandRegistry& commands, uint64_t category, bool allow) {
  ForEachCommand(commands, [&](const CommandSpec& cmd) {
    if (cmd.acl() & category) SetCommand(cmd, allow);
  });
}

Denial Selector::Check(const CommandSpec& cmd, CmdArgs args, const CommandRegistry& commands,
                       KeyCache& cache, size_t* pos) const {
  if (!(flags_ & kAllCommands) && !cmd.has(CO::kNoAuth) && !Allowed(cmd.id())) {
    // Refused, unless allowed with this first argument.
    auto it = first_args_.find(cmd.id());
    const size_t at = cmd.parent() != nullptr ? 2 : 1;
    if (it == first_args_.end() || args.size() <= at) return Denial::kCommand;
    bool match = false;
    for (const std::string& arg : it->second) match = match || EqualsIgnoreCase(args[at], arg);
    if (!match) return Denial::kCommand;
  }
  if (!(flags_ & kAllKeys)) {
    if (!cache.found) {
      AclKeys(commands, cmd, args, &cache.keys);
      cache.found = true;
    }
    for (const FoundKey& k : cache.keys) {
      if (k.access & kNotAKey) continue;
      if (!AllowsKey(args[k.pos], k.access & (kKeyRead | kKeyWrite))) {
        *pos = k.pos;
        return Denial::kKey;
      }
    }
  }
  if (!(flags_ & kAllChannels)) {
    for (const FoundChannel& ch : FindChannels(cmd, args)) {
      if (!AllowsChannel(args[ch.pos], ch.pattern)) {
        *pos = ch.pos;
        return Denial::kChannel;
      }
    }
  }
  return Denial::kNone;
}

Selector::KeyPattern::KeyPattern(uint8_t a, std::string_view p)
    : access(a), pattern(p), literal_prefix(p.find_first_of("*?[\\")) {
  if (literal_prefix == std::string_view::npos) literal_prefix = p.size();
  prefix_star = literal_prefix + 1 == p.size() && p.back() == '*';
}

bool Selector::KeyPattern::Matches(std::string_view key) const {
  // Compared by hand: these are a few bytes, and this runs for every pattern of every key.
  if (key.size() < literal_prefix) return false;
  for (size_t i = 0; i < literal_prefix; i++) {
    if (key[i] != pattern[i]) return false;
  }
  if (prefix_star) return true;
  return GlobMatch(pattern, key);
}

bool Selector::AllowsKey(std::string_view key, uint8_t access) const {
  if (flags_ & kAllKeys) return true;
  for (const KeyPattern& p : keys_) {
    if ((p.access & access) != access) continue;
    if (p.Matches(key)) return true;
  }
  return false;
}

bool Selector::AllowsChannel(std::string_view channel, bool is_pattern) const {
  if (flags_ & kAllChannels) return true;
  for (const std::string& p : channels_) {
    // A PSUBSCRIBE pattern must be one of the allowed patterns literally; a channel matches them.
    if (is_pattern ? p == channel : GlobMatch(p, channel)) return true;
  }
  return false;
}

bool Selector::AllowsAnyKey(uint8_t access) const {
  if (flags_ & kAllKeys) return true;
  for (const KeyPattern& p : keys_) {
    if ((p.access & access) == access && p.pattern == "*") return true;
  }
  return false;
}

std::string Selector::DescribeKeyPattern(const KeyPattern& p) const {
  const std::string_view prefix = p.access == (kKeyRead | kKeyWrite) ? "~"
                                  : p.access == kKeyRead             ? "%R~"
                                                                     : "%W~";
  return std::string(prefix) + p.pattern;
}

std::string Selector::DescribeKeys() const {
  if (flags_ & kAllKeys) return "~*";
  std::string out;
  for (const KeyPattern& p : keys_) {
    if (!out.empty()) out += ' ';
    out += DescribeKeyPattern(p);
  }
  return out;
}

std::string Selector::DescribeChannels() const {
  if (flags_ & kAllChannels) return "&*";
  std::string out;
  for (const std::string& ch : channels_) {
    if (!out.empty()) out += ' ';
    out += '&';
    out += ch;
  }
  return out;
}

std::string Selector::Describe(const CommandRegistry& commands) const {
  std::string out;
  if (flags_ & kAllKeys) {
    out += "~* ";
  } else {
    for (const KeyPattern& p : keys_) out += DescribeKeyPattern(p) + " ";
  }
  if (flags_ & kAllChannels) {
    out += "&* ";
  } else {
    out += "resetchannels ";
    for (const std::string& ch : channels_) out += "&" + ch + " ";
  }
  return out + DescribeCommands(commands);
}

// Redis's ACLDescribeSelectorCommandRules: start from +@all or -@all, add (or remove) the
// category that best fits what is left, again and again, then single commands for the rest; a
// scratch selector replays the rules as they are written, and must end with the same bitmap.
// (Redis walks its command table in hash order, so single commands come in an order that changes
// from one run to the next; here they come in table order.)
std::string Selector::DescribeCommands(const CommandRegistry& commands) const {
  const RuleContext none;
  std::string rules;
  Selector replay(0, none);
  const bool additive = !allowed_[kCommandBits - 1];
  if (additive) {
    rules = "-@all ";
  } else {
    rules = "+@all ";
    replay.allowed_.set();
  }
  Selector left(0, none);
  left.allowed_ = allowed_;
  const auto categories = AclCategories();
  std::vector<bool> applied(categories.size());
  while (true) {
    int best = -1;
    uint64_t min_diff = INT_MAX, max_same = 0;
    // Redis's categories first; Keyward's own (@coordination) only when none of those fits, so
    // that rules written with Redis's categories are described as Redis describes them.
    for (size_t j = 0; j < categories.size(); j++) {
      if (applied[j]) continue;
      if (categories[j].bit == Acl::kCoordination && best >= 0) continue;
      uint64_t on = 0, off = 0;
      ForEachCommand(commands, [&](const CommandSpec& cmd) {
        if (!(cmd.acl() & categories[j].bit)) return;
        if (left.Allowed(cmd.id())) {
          on++;
        } else {
          off++;
        }
      });
      const uint64_t diff = additive ? off : on;
      const uint64_t same = additive ? on : off;
      if (same > diff && (diff < min_diff || (diff == min_diff && same > max_same))) {
        best = static_cast<int>(j);
        min_diff = diff;
        max_same = same;
      }
    }
    if (best < 0) break;
    replay.SetCategory(commands, categories[best].bit, additive);
    left.SetCategory(commands, categories[best].bit, !additive);
    rules += additive ? "+@" : "-@";
    rules += categories[best].name;
    rules += ' ';
    applied[best] = true;
  }
  ForEachCommand(commands, [&](const CommandSpec& cmd) {
    const bool mine = Allowed(cmd.id());
    if (mine != replay.Allowed(cmd.id())) {
      rules += mine ? '+' : '-';
      rules += cmd.full_name();
      rules += ' ';
      replay.SetCommand(cmd, mine);
    }
    if (mine) return;
    if (auto it = first_args_.find(cmd.id()); it != first_args_.end()) {
      for (const std::string& arg : it->second) rules += "+" + cmd.full_name() + "|" + arg + " ";
    }
  });
  rules.pop_back();
  if (replay.allowed_ != allowed_) {
    spdlog::critical("CRITICAL ERROR: User ACLs don't match final bitmap: '{}'", rules);
  }
  return rules;
}

}  // namespace keyward::acl
