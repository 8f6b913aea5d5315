// An ACL user: whether it is on, its passwords (SHA-256 hex), and its selectors (the root one
// first). Rules are applied one at a time, as ACL SETUSER and `user` lines give them (Redis
// 7.0's ACLSetUser).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/acl/selector.h"

namespace keyward::acl {

// The SHA-256 of a password, in lower-case hex, as ACL GETUSER shows it.
std::string HashPassword(std::string_view password);

class User {
 public:
  enum Flags : uint32_t {
    kEnabled = 1 << 0,
    kDisabled = 1 << 1,
    kNoPass = 1 << 2,
    kSkipSanitizePayload = 1 << 3,
    kSanitizePayload = 1 << 4,
  };

  User(std::string name, const RuleContext& ctx);

  const std::string& name() const { return name_; }
  uint32_t flags() const { return flags_; }
  bool enabled() const { return !(flags_ & kDisabled); }
  bool nopass() const { return flags_ & kNoPass; }
  const std::vector<std::string>& passwords() const { return passwords_; }
  const std::vector<Selector>& selectors() const { return selectors_; }
  const Selector& root() const { return selectors_.front(); }

  // One rule. An empty rule does nothing.
  RuleError Apply(std::string_view op, const RuleContext& ctx);
  // Everything but the name (ACL SETUSER applies to a copy, then copies it in).
  void CopyRulesFrom(const User& other);

  // Whether `password` opens this user (on, and nopass or one of its passwords).
  bool Accepts(std::string_view password) const;

  // Whether the user may run `cmd` with `args`: kNone, or why not (the argument refused in
  // `*pos`, for a key or channel).
  Denial Check(const CommandSpec& cmd, CmdArgs args, const CommandRegistry& commands,
               size_t* pos) const;
  // Whether some selector allows the command and `access` to every key (SORT BY/GET).
  bool AllowsCommandOnAnyKey(const CommandSpec& cmd, CmdArgs args, const CommandRegistry& commands,
                             uint8_t access) const;
  bool AllowsChannel(std::string_view channel, bool is_pattern) const;

  // ACL LIST's description: "on nopass ~* &* +@all".
  std::string Describe(const CommandRegistry& commands) const;
  // The names of the user's flags, in Redis's order (ACL GETUSER).
  std::vector<std::string_view> FlagNames() const;

 private:
  std::string name_;
  uint32_t flags_ = kDisabled;
  std::vector<std::string> passwords_;
  std::vector<Selector> selectors_;
};

// ACL SETUSER's and `user` lines' arguments with a selector spread over several of them merged
// into one ("(~x" "+get)" -> "(~x +get)"). nullopt when a parenthesis is left open, with the
// index of the argument that opened it in `*open_at`.
std::optional<std::vector<std::string>> MergeSelectorArguments(
    const std::vector<std::string_view>& args, size_t* open_at);

}  // namespace keyward::acl
