// One ACL selector: which commands (and first arguments), keys and channels it allows. A user
// has a root selector and any number of others (`(...)` rules); a command runs when one of them
// allows it. Rules and descriptions are Redis 7.0's (acl.c: ACLSetSelector, ACLSelectorCheckCmd,
// ACLDescribeSelector).
#pragma once

#include <bitset>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/engine/command.h"
#include "server/engine/command_keys.h"
#include "server/engine/registry.h"

namespace keyward::acl {

// Why a rule was refused (Redis's errno values in ACLSetUser, worded by RuleErrorText).
enum class RuleError : uint8_t {
  kNone,
  kSyntax,                // EINVAL
  kUnknownName,           // ENOENT: no such command or category
  kKeyAfterAll,           // EEXIST
  kChannelAfterAll,       // EISDIR
  kNoSuchPassword,        // ENODEV
  kBadHash,               // EBADMSG
  kDuplicateUser,         // EALREADY
  kFirstArgOfSubcommand,  // ECHILD
};
std::string_view RuleErrorText(RuleError e);

// Whether `s` has a space or NUL: refused in user names, key and channel patterns, whose
// descriptions are space-separated (Redis's ACLStringHasSpaces).
bool HasSpaces(std::string_view s);

// Why a command was refused, ordered as Redis picks the one to report among selectors.
enum class Denial : uint8_t { kNone = 0, kCommand = 1, kKey = 2, kAuth = 3, kChannel = 4 };

// What rules are applied against: the command table (null while a config file is read: command
// rules are then checked for syntax only) and acl-pubsub-default.
struct RuleContext {
  const CommandRegistry* commands = nullptr;
  bool all_channels_by_default = false;
};

// The keys of the command being checked, found once for all the selectors of a user, into a
// buffer kept from one command to the next (no allocation per command).
struct KeyCache {
  KeyCache();
  bool found = false;
  std::vector<FoundKey>& keys;
};

class Selector {
 public:
  enum Flags : uint32_t {
    kRoot = 1 << 0,
    kAllKeys = 1 << 1,
    kAllChannels = 1 << 2,
    kAllCommands = 1 << 3,
  };
  // Command ids index a bitmap of this size; its last bit is never a command's: +@all sets it,
  // so that a description can start from +@all (commands added later are allowed) or -@all.
  static constexpr size_t kCommandBits = 1024;

  Selector(uint32_t flags, const RuleContext& ctx);

  // Applies one rule (`~pattern`, `+@category`, `-command|sub`, `allchannels`, ...).
  RuleError Apply(std::string_view op, const RuleContext& ctx);

  // Whether the selector allows `cmd` with `args` (keys and channels included); on a key or
  // channel denial `*pos` is the argument refused.
  Denial Check(const CommandSpec& cmd, CmdArgs args, const CommandRegistry& commands,
               KeyCache& cache, size_t* pos) const;
  bool AllowsKey(std::string_view key, uint8_t access) const;
  bool AllowsChannel(std::string_view channel, bool is_pattern) const;
  // Allowed `access` to every key (`~*`, `%R~*`, allkeys): SORT's BY and GET need it.
  bool AllowsAnyKey(uint8_t access) const;

  uint32_t flags() const { return flags_; }
  bool is_root() const { return flags_ & kRoot; }
  const std::vector<std::string>& channels() const { return channels_; }

  // ACL LIST's form: "~* &* +@all" (keys, channels, then the command rules).
  std::string Describe(const CommandRegistry& commands) const;
  // The command rules alone ("-@all +@read -get"), as ACL GETUSER shows them.
  std::string DescribeCommands(const CommandRegistry& commands) const;
  // ACL GETUSER's "keys" and "channels" fields.
  std::string DescribeKeys() const;
  std::string DescribeChannels() const;

 private:
  struct KeyPattern {
    KeyPattern(uint8_t access, std::string_view pattern);
    // Whether `key` matches: the literal prefix first (most patterns are "prefix:*", decided
    // without running the glob matcher), then the glob.
    bool Matches(std::string_view key) const;
    uint8_t access;  // KeyAccess bits; both: "~pattern"
    std::string pattern;
    size_t literal_prefix;  // chars before the first of * ? [ \\ (the whole pattern: a literal)
    bool prefix_star;       // the pattern is that prefix followed by a single '*'
  };
  using Bits = std::bitset<kCommandBits>;

  bool Allowed(uint32_t id) const { return id < kCommandBits - 1 && allowed_[id]; }
  void SetCommand(const CommandSpec& cmd, bool allow);
  void SetBit(uint32_t id, bool allow);
  void SetCategory(const CommandRegistry& commands, uint64_t category, bool allow);
  RuleError ApplyKeyPattern(std::string_view op);
  RuleError ApplyCommandRule(std::string_view op, const RuleContext& ctx);
  std::string DescribeKeyPattern(const KeyPattern& p) const;

  uint32_t flags_;
  Bits allowed_;
  // Allowed first arguments of otherwise refused commands (+select|0), by command id.
  std::map<uint32_t, std::vector<std::string>> first_args_;
  std::vector<KeyPattern> keys_;
  std::vector<std::string> channels_;
};

}  // namespace keyward::acl
