#include "server/engine/registry.h"

#include <cctype>
#include <stdexcept>

#include "server/engine/command_meta.h"

namespace keyward {

CommandRegistry& CommandRegistry::operator<<(CommandSpec spec) {
  std::string name = spec.name();
  auto owned = std::make_unique<CommandSpec>(std::move(spec));
  owned->FixParents();
  AssignIds(*owned);
  order_.push_back(owned.get());
  if (!by_name_.emplace(name, std::move(owned)).second) {
    throw std::logic_error("command registered twice: " + name);
  }
  return *this;
}

void CommandRegistry::AssignIds(CommandSpec& spec) {
  spec.set_id(next_id_++);
  if (spec.meta() == nullptr) spec.set_meta(FindCommandMeta(spec.full_name()));
  for (const auto& sub : spec.subcommands()) {
    sub->set_id(next_id_++);
    if (sub->meta() == nullptr) sub->set_meta(FindCommandMeta(sub->full_name()));
  }
  // ACL bitmaps hold 1023 commands (their last bit means "commands added later"): a command
  // past that could not be denied.
  if (next_id_ >= kMaxCommandIds) throw std::logic_error("too many commands for the ACL bitmap");
}

void CommandRegistry::Retain(std::initializer_list<std::string_view> names) {
  std::vector<const CommandSpec*> kept;
  for (const CommandSpec* spec : order_) {
    bool keep = false;
    for (std::string_view n : names) keep = keep || spec->name() == n;
    if (keep) {
      kept.push_back(spec);
    } else {
      by_name_.erase(spec->name());
    }
  }
  order_ = std::move(kept);
}

void CommandRegistry::Replace(CommandSpec spec) {
  auto it = by_name_.find(spec.name());
  if (it == by_name_.end()) throw std::logic_error("no command to replace: " + spec.name());
  auto owned = std::make_unique<CommandSpec>(std::move(spec));
  owned->FixParents();
  AssignIds(*owned);
  for (auto& p : order_) {
    if (p == it->second.get()) p = owned.get();
  }
  it->second = std::move(owned);
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
