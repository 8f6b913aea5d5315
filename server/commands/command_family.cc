// COMMAND: the command table as clients see it (COUNT, INFO, DOCS, LIST, GETKEYS, HELP).
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include "server/commands/families.h"
#include "server/commands/services.h"
#include "server/core/errors.h"
#include "server/core/strings.h"
#include "server/engine/command_keys.h"
#include "server/engine/command_meta.h"
#include "server/engine/context.h"
#include "server/engine/registry.h"

namespace keyward {

namespace {

void SendStringArray(ReplyBuilder& rb, const std::vector<std::string_view>& items, bool as_set) {
  if (as_set) {
    rb.StartSet(items.size());
  } else {
    rb.StartArray(items.size());
  }
  for (auto s : items) rb.SendSimple(s);
}

// Tips, then key specs, as Redis 7.0 writes them: tips in an array (an empty set when none); each
// key spec a map of notes (when any), flags (a set of simple strings), begin_search and find_keys;
// the list an array (an empty set when none). Tips are bulk strings.
// A map of integer fields: a key spec's search parameters.
void SendIntMap(ReplyBuilder& rb,
                std::initializer_list<std::pair<std::string_view, int64_t>> fields) {
  rb.StartMap(fields.size());
  for (const auto& [name, value] : fields) {
    rb.SendBulk(name);
    rb.SendLong(value);
  }
}

// The words of a space-separated list (tips, key spec flags).
std::vector<std::string_view> Words(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    size_t sp = s.find(' ');
    out.push_back(s.substr(0, sp));
    if (sp == std::string_view::npos) break;
    s.remove_prefix(sp + 1);
  }
  return out;
}

void SendTipsAndKeySpecs(ReplyBuilder& rb, const CommandMeta& meta) {
  std::vector<std::string_view> tips = Words(meta.tips);
  if (tips.empty()) {
    rb.StartSet(0);
  } else {
    rb.StartArray(tips.size());
    for (auto t : tips) rb.SendBulk(t);
  }
  if (meta.key_specs.empty()) {
    rb.StartSet(0);
    return;
  }
  rb.StartArray(meta.key_specs.size());
  for (const KeySpecMeta& spec : meta.key_specs) {
    rb.StartMap(spec.notes.empty() ? 3 : 4);
    if (!spec.notes.empty()) {
      rb.SendBulk("notes");
      rb.SendBulk(spec.notes);
    }
    rb.SendBulk("flags");
    std::vector<std::string_view> flags = Words(spec.flags);
    rb.StartSet(flags.size());
    for (auto f : flags) rb.SendSimple(f);
    rb.SendBulk("begin_search");
    rb.StartMap(2);
    rb.SendBulk("type");
    rb.SendBulk(spec.begin_type);
    rb.SendBulk("spec");
    if (spec.begin_type == "index") {
      SendIntMap(rb, {{"index", spec.index}});
    } else if (spec.begin_type == "keyword") {
      rb.StartMap(2);
      rb.SendBulk("keyword");
      rb.SendBulk(spec.keyword);
      rb.SendBulk("startfrom");
      rb.SendLong(spec.startfrom);
    } else {
      rb.StartMap(0);
    }
    rb.SendBulk("find_keys");
    rb.StartMap(2);
    rb.SendBulk("type");
    rb.SendBulk(spec.find_type);
    rb.SendBulk("spec");
    if (spec.find_type == "range") {
      SendIntMap(rb, {{"lastkey", spec.a}, {"keystep", spec.b}, {"limit", spec.c}});
    } else if (spec.find_type == "keynum") {
      SendIntMap(rb, {{"keynumidx", spec.a}, {"firstkey", spec.b}, {"keystep", spec.c}});
    } else {
      rb.StartMap(0);
    }
  }
}

// Redis 7.0's COMMAND INFO entry: name, arity, flags, first key, last key, step, ACL
// categories, tips, key specs, subcommands.
void SendCommandInfo(ReplyBuilder& rb, const CommandSpec& cmd) {
  rb.StartArray(10);
  rb.SendBulk(cmd.full_name());
  rb.SendLong(cmd.arity());
  SendStringArray(rb, FlagNames(cmd.flags()), true);
  rb.SendLong(cmd.first_key());
  rb.SendLong(cmd.last_key());
  rb.SendLong(cmd.step());
  SendStringArray(rb, AclCategoryNames(cmd.acl()), true);
  if (const CommandMeta* meta = MetaOf(cmd)) {
    SendTipsAndKeySpecs(rb, *meta);
  } else {
    // A command without metadata: no tips, and one key spec with no flags describing the legacy
    // first/last/step range, as Redis derives for commands without key specs.
    CommandMeta derived{cmd.full_name(), "", {}, 0, "", ""};
    if (cmd.first_key() > 0) {
      const int last = cmd.last_key() < 0 ? cmd.last_key() : cmd.last_key() - cmd.first_key();
      derived.key_specs.push_back(
          {"", "", "index", cmd.first_key(), "", 0, "range", last, cmd.step(), 0});
    }
    SendTipsAndKeySpecs(rb, derived);
  }
  if (cmd.subcommands().empty()) {
    rb.StartSet(0);  // likewise addReplySetLen(c, 0) for no subcommands
  } else {
    rb.StartArray(cmd.subcommands().size());
    for (const auto& sub : cmd.subcommands()) SendCommandInfo(rb, *sub);
  }
}

void SendCommandDoc(ReplyBuilder& rb, const CommandSpec& cmd) {
  const size_t subcommands = cmd.is_container() ? 1 : 0;
  const CommandMeta* meta = MetaOf(cmd);
  if (meta != nullptr && meta->doc_fields > 0) {
    // Redis's own entry (arguments and history included, which redis-cli's hints read); the
    // subcommands are Keyward's.
    rb.StartMap(static_cast<size_t>(meta->doc_fields) + subcommands);
    rb.Raw(rb.resp3() ? meta->doc_resp3 : meta->doc_resp2);
  } else {
    const CommandDoc& d = cmd.doc();
    rb.StartMap(4 + subcommands);
    rb.SendBulk("summary");
    rb.SendBulk(d.summary);
    rb.SendBulk("since");
    rb.SendBulk(d.since);
    rb.SendBulk("group");
    rb.SendBulk(d.group);
    rb.SendBulk("complexity");
    rb.SendBulk(d.complexity);
  }
  if (cmd.is_container()) {
    rb.SendBulk("subcommands");
    rb.StartMap(cmd.subcommands().size());
    for (const auto& sub : cmd.subcommands()) {
      rb.SendBulk(sub->full_name());
      SendCommandDoc(rb, *sub);
    }
  }
}

void CmdCommand(CmdArgs args, CommandContext& ctx) {
  const auto& all = ctx.services().registry.all();
  ctx.rb().StartArray(all.size());
  for (const CommandSpec* cmd : all) SendCommandInfo(ctx.rb(), *cmd);
}

void CmdCommandCount(CmdArgs args, CommandContext& ctx) {
  ctx.rb().SendLong(static_cast<int64_t>(ctx.services().registry.size()));
}

// Resolves "get" or "config|get" to a spec.
const CommandSpec* Lookup(const CommandRegistry& registry, std::string_view name) {
  size_t bar = name.find('|');
  const CommandSpec* cmd = registry.Find(name.substr(0, bar));
  if (cmd == nullptr || bar == std::string_view::npos) return cmd;
  return cmd->FindSubcommand(name.substr(bar + 1));
}

void CmdCommandInfo(CmdArgs args, CommandContext& ctx) {
  const auto& registry = ctx.services().registry;
  if (args.size() == 2) return CmdCommand(args, ctx);
  ctx.rb().StartArray(args.size() - 2);
  for (size_t j = 2; j < args.size(); j++) {
    const CommandSpec* cmd = Lookup(registry, args[j]);
    if (cmd == nullptr) {
      ctx.rb().SendNull();
    } else {
      SendCommandInfo(ctx.rb(), *cmd);
    }
  }
}

void CmdCommandDocs(CmdArgs args, CommandContext& ctx) {
  const auto& registry = ctx.services().registry;
  std::vector<const CommandSpec*> cmds;
  if (args.size() == 2) {
    cmds = registry.all();
  } else {
    for (size_t j = 2; j < args.size(); j++) {
      if (const CommandSpec* cmd = Lookup(registry, args[j])) cmds.push_back(cmd);
    }
  }
  ctx.rb().StartMap(cmds.size());
  for (const CommandSpec* cmd : cmds) {
    ctx.rb().SendBulk(cmd->full_name());
    SendCommandDoc(ctx.rb(), *cmd);
  }
}

// COMMAND LIST [FILTERBY MODULE name | ACLCAT cat | PATTERN pattern]
void CmdCommandList(CmdArgs args, CommandContext& ctx) {
  std::string_view aclcat, pattern;
  if (args.size() == 5 && EqualsIgnoreCase(args[2], "FILTERBY")) {
    if (EqualsIgnoreCase(args[3], "ACLCAT")) {
      aclcat = args[4];
    } else if (EqualsIgnoreCase(args[3], "PATTERN")) {
      pattern = args[4];
    } else if (EqualsIgnoreCase(args[3], "MODULE")) {
      return ctx.rb().SendEmptyArray();  // no modules
    } else {
      return ctx.rb().SendError(errors::kSyntax);
    }
  } else if (args.size() != 2) {
    return ctx.rb().SendError(errors::kSyntax);
  }
  std::vector<std::string> names;
  auto consider = [&](const CommandSpec& cmd) {
    if (!pattern.empty() && !GlobMatch(pattern, cmd.full_name(), true)) return;
    if (!aclcat.empty()) {
      bool found = false;
      for (auto c : AclCategoryNames(cmd.acl())) found |= EqualsIgnoreCase(c.substr(1), aclcat);
      if (!found) return;
    }
    names.push_back(cmd.full_name());
  };
  for (const CommandSpec* cmd : ctx.services().registry.all()) {
    consider(*cmd);
    for (const auto& sub : cmd->subcommands()) consider(*sub);
  }
  ctx.rb().StartArray(names.size());
  for (const auto& n : names) ctx.rb().SendBulk(n);
}

void CmdCommandGetKeys(CmdArgs args, CommandContext& ctx) {
  CmdArgs target = args.subspan(2);
  auto found = FindKeys(ctx.services().registry, target);
  if (auto* error = std::get_if<std::string_view>(&found)) return ctx.rb().SendError(*error);
  const auto& keys = std::get<std::vector<FoundKey>>(found);
  ctx.rb().StartArray(keys.size());
  for (const FoundKey& k : keys) ctx.rb().SendBulk(target[k.pos]);
}

// COMMAND GETKEYSANDFLAGS: each key with its flags, as status strings.
void CmdCommandGetKeysAndFlags(CmdArgs args, CommandContext& ctx) {
  CmdArgs target = args.subspan(2);
  auto found = FindKeys(ctx.services().registry, target);
  if (auto* error = std::get_if<std::string_view>(&found)) return ctx.rb().SendError(*error);
  const auto& keys = std::get<std::vector<FoundKey>>(found);
  ReplyBuilder& rb = ctx.rb();
  rb.StartArray(keys.size());
  for (const FoundKey& k : keys) {
    rb.StartArray(2);
    rb.SendBulk(target[k.pos]);
    const std::vector<std::string_view> flags = Words(k.flags);
    rb.StartArray(flags.size());
    for (std::string_view f : flags) rb.SendSimple(f);
  }
}

void CmdCommandHelp(CmdArgs args, CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "(no subcommand)",
      "    Return details about all Redis commands.",
      "COUNT",
      "    Return the total number of commands in this Redis server.",
      "LIST",
      "    Return a list of all commands in this Redis server.",
      "INFO [<command-name> ...]",
      "    Return details about multiple Redis commands.",
      "    If no command names are given, documentation details for all",
      "    commands are returned.",
      "DOCS [<command-name> ...]",
      "    Return documentation details about multiple Redis commands.",
      "    If no command names are given, documentation details for all",
      "    commands are returned.",
      "GETKEYS <full-command>",
      "    Return the keys from a full Redis command.",
      "GETKEYSANDFLAGS <full-command>",
      "    Return the keys and the access flags from a full Redis command.",
  };
  ctx.rb().SendHelp("COMMAND", kLines);
}

}  // namespace

void RegisterIntrospectionFamily(CommandRegistry& r) {
  constexpr uint32_t kFlags = CO::kLoading | CO::kStale;
  constexpr uint64_t kConn = Acl::kConnection;
  // COMMAND with no subcommand lists everything; it is a container that also runs alone.
  CommandSpec command{"command",
                      -1,
                      kFlags,
                      0,
                      0,
                      0,
                      kConn,
                      CmdCommand,
                      {"Get array of Redis command details", "2.8.13", "server",
                       "O(N) where N is the total number of Redis commands", ""}};
  command
      .AddSubcommand({"count",
                      2,
                      kFlags,
                      0,
                      0,
                      0,
                      kConn,
                      CmdCommandCount,
                      {"Get total number of Redis commands", "2.8.13", "server", "O(1)", ""}})
      .AddSubcommand({"info",
                      -2,
                      kFlags,
                      0,
                      0,
                      0,
                      kConn,
                      CmdCommandInfo,
                      {"Get array of specific Redis command details, or all when no argument "
                       "is given.",
                       "2.8.13", "server", "O(N) where N is the number of commands to look up",
                       "[command-name [command-name ...]]"}})
      .AddSubcommand({"docs",
                      -2,
                      kFlags,
                      0,
                      0,
                      0,
                      kConn,
                      CmdCommandDocs,
                      {"Get array of specific Redis command documentation", "7.0.0", "server",
                       "O(N) where N is the number of commands to look up",
                       "[command-name [command-name ...]]"}})
      .AddSubcommand({"list",
                      -2,
                      kFlags,
                      0,
                      0,
                      0,
                      kConn,
                      CmdCommandList,
                      {"Get an array of Redis command names", "7.0.0", "server",
                       "O(N) where N is the total number of Redis commands",
                       "[FILTERBY MODULE module-name|ACLCAT category|PATTERN pattern]"}})
      .AddSubcommand(
          {"getkeys",
           -4,
           kFlags,
           0,
           0,
           0,
           kConn,
           CmdCommandGetKeys,
           {"Extract keys given a full Redis command", "2.8.13", "server",
            "O(N) where N is the number of arguments to the command", "command [arg ...]"}})
      .AddSubcommand(
          {"getkeysandflags",
           -4,
           kFlags,
           0,
           0,
           0,
           kConn,
           CmdCommandGetKeysAndFlags,
           {"Extract keys and access flags given a full Redis command", "7.0.0", "server",
            "O(N) where N is the number of arguments to the command", "command [arg ...]"}})
      .AddSubcommand(
          {"help",
           2,
           kFlags,
           0,
           0,
           0,
           kConn,
           CmdCommandHelp,
           {"Show helpful text about the different subcommands", "5.0.0", "server", "O(1)", ""}});
  r << std::move(command);
}

}  // namespace keyward
