// The one command table: dispatch, COMMAND, and later scripting, ACL and cluster all read it.
// Families add their rows through a Register<Family>(CommandRegistry&) function that the server
// calls explicitly; there is no static self-registration.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "server/engine/command.h"

namespace keyward {

class CommandRegistry {
 public:
  CommandRegistry& operator<<(CommandSpec spec);
  // A mode with a command table of its own (a sentinel) keeps only these commands...
  void Retain(std::initializer_list<std::string_view> names);
  // ...and serves some of them with handlers of its own (the spec of the same name is replaced).
  void Replace(CommandSpec spec);
  // Case-insensitive lookup; nullptr when unknown.
  const CommandSpec* Find(std::string_view name) const;
  // The command a full command line runs: its subcommand for a container given one (nullptr
  // when that subcommand is unknown), else the command itself. Scripts, LOCK.GUARD and COMMAND
  // GETKEYS resolve commands this way; the dispatcher has its own errors for containers.
  const CommandSpec* FindFor(CmdArgs args) const;
  size_t size() const { return order_.size(); }
  // Every top-level command, in registration order.
  const std::vector<const CommandSpec*>& all() const { return order_; }
  // Ids stay below this (ACL selectors keep one bit per command, and one for +@all).
  static constexpr uint32_t kMaxCommandIds = 1023;
  // One past the highest CommandSpec::id() given (subcommands included).
  uint32_t id_limit() const { return next_id_; }

 private:
  // Looked up by std::string_view without building a std::string (redis.call looks up every
  // command it runs).
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::unique_ptr<CommandSpec>, NameHash, std::equal_to<>> by_name_;
  std::vector<const CommandSpec*> order_;
  uint32_t next_id_ = 0;
  void AssignIds(CommandSpec& spec);
};

}  // namespace keyward
