#include "server/acl/user.h"

#include <openssl/sha.h>

#include <algorithm>

#include "server/core/strings.h"

namespace keyward::acl {

std::string HashPassword(std::string_view password) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(password.data()), password.size(), digest);
  return HexLower(std::string_view(reinterpret_cast<const char*>(digest), SHA256_DIGEST_LENGTH));
}

namespace {

bool IsPasswordHash(std::string_view s) {
  if (s.size() != 2 * SHA256_DIGEST_LENGTH) return false;
  for (char c : s) {
    if ((c < 'a' || c > 'f') && (c < '0' || c > '9')) return false;
  }
  return true;
}

// Compares two hashes of equal length in a time that does not depend on where they differ.
bool SameHash(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned diff = 0;
  for (size_t i = 0; i < a.size(); i++) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

User::User(std::string name, const RuleContext& ctx) : name_(std::move(name)) {
  selectors_.emplace_back(Selector::kRoot, ctx);
}

void User::CopyRulesFrom(const User& other) {
  flags_ = other.flags_;
  passwords_ = other.passwords_;
  selectors_ = other.selectors_;
}

RuleError User::Apply(std::string_view op, const RuleContext& ctx) {
  if (op.empty()) return RuleError::kNone;
  if (EqualsIgnoreCase(op, "on")) {
    flags_ = (flags_ | kEnabled) & ~kDisabled;
  } else if (EqualsIgnoreCase(op, "off")) {
    flags_ = (flags_ | kDisabled) & ~kEnabled;
  } else if (EqualsIgnoreCase(op, "skip-sanitize-payload")) {
    flags_ = (flags_ | kSkipSanitizePayload) & ~kSanitizePayload;
  } else if (EqualsIgnoreCase(op, "sanitize-payload")) {
    flags_ = (flags_ | kSanitizePayload) & ~kSkipSanitizePayload;
  } else if (EqualsIgnoreCase(op, "nopass")) {
    flags_ |= kNoPass;
    passwords_.clear();
  } else if (EqualsIgnoreCase(op, "resetpass")) {
    flags_ &= ~kNoPass;
    passwords_.clear();
  } else if (op[0] == '>' || op[0] == '#' || op[0] == '<' || op[0] == '!') {
    // A password in clear (>, <) or as its hash (#, !), to add (>, #) or remove (<, !).
    std::string hash;
    if (op[0] == '>' || op[0] == '<') {
      hash = HashPassword(op.substr(1));
    } else {
      if (!IsPasswordHash(op.substr(1))) return RuleError::kBadHash;
      hash = std::string(op.substr(1));
    }
    auto it = std::find(passwords_.begin(), passwords_.end(), hash);
    if (op[0] == '>' || op[0] == '#') {
      if (it == passwords_.end()) passwords_.push_back(std::move(hash));
      flags_ &= ~kNoPass;
    } else {
      if (it == passwords_.end()) return RuleError::kNoSuchPassword;
      passwords_.erase(it);
    }
  } else if (op[0] == '(' && op.back() == ')') {
    Selector selector(0, ctx);
    std::vector<std::string> rules;
    if (!SplitArgs(op.substr(1, op.size() - 2), &rules)) rules.clear();
    for (const std::string& rule : rules) {
      if (RuleError e = selector.Apply(rule, ctx); e != RuleError::kNone) return e;
    }
    selectors_.push_back(std::move(selector));
  } else if (EqualsIgnoreCase(op, "clearselectors")) {
    selectors_.erase(selectors_.begin() + 1, selectors_.end());
  } else if (EqualsIgnoreCase(op, "reset")) {
    for (std::string_view rule : {"resetpass", "resetkeys", "resetchannels"}) Apply(rule, ctx);
    if (ctx.all_channels_by_default) Apply("allchannels", ctx);
    for (std::string_view rule : {"off", "sanitize-payload", "clearselectors", "-@all"}) {
      Apply(rule, ctx);
    }
  } else {
    return selectors_.front().Apply(op, ctx);
  }
  return RuleError::kNone;
}

bool User::Accepts(std::string_view password) const {
  if (flags_ & kDisabled) return false;
  if (flags_ & kNoPass) return true;
  const std::string hash = HashPassword(password);
  bool match = false;
  for (const std::string& p : passwords_) match |= SameHash(hash, p);
  return match;
}

Denial User::Check(const CommandSpec& cmd, CmdArgs args, const CommandRegistry& commands,
                   size_t* pos) const {
  // Redis reports the worst denial among the selectors (a channel over a key over a command),
  // and among equal ones the last argument.
  Denial relevant = Denial::kCommand;
  size_t last = 0;
  KeyCache cache;
  for (const Selector& s : selectors_) {
    size_t at = 0;
    const Denial d = s.Check(cmd, args, commands, cache, &at);
    if (d == Denial::kNone) return Denial::kNone;
    if (d > relevant || (d == relevant && at > last)) {
      relevant = d;
      last = at;
    }
  }
  *pos = last;
  return relevant;
}

bool User::AllowsCommandOnAnyKey(const CommandSpec& cmd, CmdArgs args,
                                 const CommandRegistry& commands, uint8_t access) const {
  KeyCache cache;
  for (const Selector& s : selectors_) {
    size_t at = 0;
    if (s.Check(cmd, args, commands, cache, &at) == Denial::kNone && s.AllowsAnyKey(access)) {
      return true;
    }
  }
  return false;
}

bool User::AllowsChannel(std::string_view channel, bool is_pattern) const {
  for (const Selector& s : selectors_) {
    if (s.AllowsChannel(channel, is_pattern)) return true;
  }
  return false;
}

std::vector<std::string_view> User::FlagNames() const {
  static constexpr std::pair<uint32_t, std::string_view> kNames[] = {
      {kEnabled, "on"},
      {kDisabled, "off"},
      {kNoPass, "nopass"},
      {kSkipSanitizePayload, "skip-sanitize-payload"},
      {kSanitizePayload, "sanitize-payload"},
  };
  std::vector<std::string_view> out;
  for (auto [bit, name] : kNames) {
    if (flags_ & bit) out.push_back(name);
  }
  return out;
}

std::string User::Describe(const CommandRegistry& commands) const {
  std::string out;
  for (std::string_view flag : FlagNames()) {
    out += flag;
    out += ' ';
  }
  for (const std::string& p : passwords_) out += "#" + p + " ";
  for (const Selector& s : selectors_) {
    if (s.is_root()) {
      out += s.Describe(commands);
    } else {
      out += " (" + s.Describe(commands) + ")";
    }
  }
  return out;
}

std::optional<std::vector<std::string>> MergeSelectorArguments(
    const std::vector<std::string_view>& args, size_t* open_at) {
  std::vector<std::string> merged;
  std::optional<size_t> open;
  std::string selector;
  for (size_t j = 0; j < args.size(); j++) {
    const std::string_view op = args[j];
    if (!op.empty() && op[0] == '(' && op.back() != ')') {
      selector = std::string(op);
      open = j;
      continue;
    }
    if (open) {
      selector += ' ';
      selector += op;
      if (!op.empty() && op.back() == ')') {
        open.reset();
        merged.push_back(std::move(selector));
        selector.clear();
      }
      continue;
    }
    merged.emplace_back(op);
  }
  if (open) {
    if (open_at != nullptr) *open_at = *open;
    return std::nullopt;
  }
  return merged;
}

}  // namespace keyward::acl
