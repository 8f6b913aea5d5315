#include "server/engine/registry.h"

#include <cctype>
#include <stdexcept>

namespace keyward {

CommandRegistry& CommandRegistry::operator<<(CommandSpec spec) {
  std::string name = spec.name();
  auto owned = std::make_unique<CommandSpec>(std::move(spec));
  owned->FixParents();
  order_.push_back(owned.get());
  if (!by_name_.emplace(name, std::move(owned)).second) {
    throw std::logic_error("command registered twice: " + name);
  }
  return *this;
}

const CommandSpec* CommandRegistry::Find(std::string_view name) const {
  // Command names are short: lower-case into a stack buffer to avoid an allocation per call.
  char buf[32] = {};
  if (name.size() > sizeof(buf)) return nullptr;
  for (size_t i = 0; i < name.size(); i++) {
    const char c = name[i];
    buf[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
  }
  auto it = by_name_.find(std::string_view(buf, name.size()));
  return it == by_name_.end() ? nullptr : it->second.get();
}

const CommandSpec* CommandRegistry::FindFor(CmdArgs args) const {
  const CommandSpec* cmd = Find(args[0]);
  if (cmd != nullptr && cmd->is_container() && args.size() > 1) cmd = cmd->FindSubcommand(args[1]);
  return cmd;
}

}  // namespace keyward
