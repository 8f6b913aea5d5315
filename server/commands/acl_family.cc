// ACL: SETUSER, GETUSER, DELUSER, LIST, USERS, CAT, WHOAMI, LOG, SAVE, LOAD, DRYRUN, GENPASS,
// HELP (Redis 7.0's aclCommand). The users and the checks are server/acl/'s.
#include <openssl/rand.h>

#include "server/acl/access_control.h"
#include "server/commands/families.h"
#include "server/commands/services.h"
#include "server/core/errors.h"
#include "server/core/strings.h"
#include "server/engine/context.h"
#include "server/engine/registry.h"

namespace keyward {

namespace {

acl::AccessControl& Acl(CommandContext& ctx) { return ctx.services().acl; }

void CmdAclSetUser(CmdArgs args, CommandContext& ctx) {
  const std::string_view name = args[2];
  if (acl::HasSpaces(name)) return ctx.rb().SendError(errors::kAclUsernameSpaces);
  std::vector<std::string_view> rules(args.begin() + 3, args.end());
  size_t open_at = 0;
  auto merged = acl::MergeSelectorArguments(rules, &open_at);
  if (!merged) return ctx.rb().SendError(errors::AclUnmatchedParenthesis(rules[open_at]));
  if (auto error = Acl(ctx).SetUser(name, *merged, &ctx.client())) {
    return ctx.rb().SendError(*error);
  }
  ctx.rb().SendOk();
}

void CmdAclDelUser(CmdArgs args, CommandContext& ctx) {
  std::vector<std::string_view> names(args.begin() + 2, args.end());
  for (std::string_view name : names) {
    if (name == "default") return ctx.rb().SendError(errors::kAclDefaultUserUndeletable);
  }
  ctx.rb().SendLong(static_cast<int64_t>(Acl(ctx).DeleteUsers(names, &ctx.client())));
}

// A selector's commands, keys and channels (GETUSER shows the root selector's at the top level).
void SendSelector(ReplyBuilder& rb, const acl::Selector& s, const CommandRegistry& commands) {
  rb.SendBulk("commands");
  rb.SendBulk(s.DescribeCommands(commands));
  rb.SendBulk("keys");
  rb.SendBulk(s.DescribeKeys());
  rb.SendBulk("channels");
  rb.SendBulk(s.DescribeChannels());
}

void CmdAclGetUser(CmdArgs args, CommandContext& ctx) {
  const acl::User* user = Acl(ctx).Find(args[2]);
  if (user == nullptr) return ctx.rb().SendNull();
  const CommandRegistry& commands = Acl(ctx).commands();
  ReplyBuilder& rb = ctx.rb();
  rb.StartMap(6);
  rb.SendBulk("flags");
  const std::vector<std::string_view> flags = user->FlagNames();
  rb.StartSet(flags.size());
  for (std::string_view f : flags) rb.SendBulk(f);
  rb.SendBulk("passwords");
  rb.StartArray(user->passwords().size());
  for (const std::string& p : user->passwords()) rb.SendBulk(p);
  SendSelector(rb, user->root(), commands);
  rb.SendBulk("selectors");
  rb.StartArray(user->selectors().size() - 1);
  for (size_t i = 1; i < user->selectors().size(); i++) {
    rb.StartMap(3);
    SendSelector(rb, user->selectors()[i], commands);
  }
}

void SendUsers(CommandContext& ctx, bool names_only) {
  const auto& users = Acl(ctx).users();
  ctx.rb().StartArray(users.size());
  for (const auto& [name, user] : users) {
    if (names_only) {
      ctx.rb().SendBulk(name);
    } else {
      ctx.rb().SendBulk("user " + name + " " + user->Describe(Acl(ctx).commands()));
    }
  }
}

void CmdAclList(CmdArgs, CommandContext& ctx) { SendUsers(ctx, false); }
void CmdAclUsers(CmdArgs, CommandContext& ctx) { SendUsers(ctx, true); }

void CmdAclWhoAmI(CmdArgs, CommandContext& ctx) {
  const acl::User* user = ctx.client().user;
  if (user == nullptr) return ctx.rb().SendNull();
  ctx.rb().SendBulk(user->name());
}

void CmdAclCat(CmdArgs args, CommandContext& ctx) {
  ReplyBuilder& rb = ctx.rb();
  if (args.size() > 3) return rb.SendError(errors::SubcommandSyntax("acl", args[1]));
  if (args.size() == 2) {
    const auto categories = AclCategories();
    rb.StartArray(categories.size());
    for (const AclCategory& c : categories) rb.SendBulk(c.name);
    return;
  }
  const uint64_t category = AclCategoryByName(args[2]);
  if (category == 0) return rb.SendError(errors::AclUnknownCategory(args[2]));
  std::vector<const CommandSpec*> found;
  for (const CommandSpec* cmd : Acl(ctx).commands().all()) {
    if (cmd->acl() & category) found.push_back(cmd);
    for (const auto& sub : cmd->subcommands()) {
      if (sub->acl() & category) found.push_back(sub.get());
    }
  }
  rb.StartArray(found.size());
  for (const CommandSpec* cmd : found) rb.SendBulk(cmd->full_name());
}

void CmdAclGenPass(CmdArgs args, CommandContext& ctx) {
  if (args.size() > 3) return ctx.rb().SendError(errors::SubcommandSyntax("acl", args[1]));
  int64_t bits = 256;
  if (args.size() == 3 && !ParseInt64(args[2], &bits)) {
    return ctx.rb().SendError(errors::kNotInteger);
  }
  constexpr int64_t kMaxBits = 4096;
  if (bits <= 0 || bits > kMaxBits) return ctx.rb().SendError(errors::kAclGenpassBits);
  const size_t chars = static_cast<size_t>((bits + 3) / 4);
  unsigned char random[kMaxBits / 8];
  if (RAND_bytes(random, static_cast<int>((chars + 1) / 2)) != 1) {
    return ctx.rb().SendError("ERR could not read random bytes");
  }
  const std::string hex =
      HexLower(std::string_view(reinterpret_cast<const char*>(random), (chars + 1) / 2));
  ctx.rb().SendBulk(std::string_view(hex).substr(0, chars));
}

void CmdAclLog(CmdArgs args, CommandContext& ctx) {
  if (args.size() > 3) return ctx.rb().SendError(errors::SubcommandSyntax("acl", args[1]));
  acl::AclLog& log = Acl(ctx).log();
  int64_t count = 10;
  if (args.size() == 3) {
    if (EqualsIgnoreCase(args[2], "reset")) {
      log.Reset();
      return ctx.rb().SendOk();
    }
    if (!ParseInt64(args[2], &count)) return ctx.rb().SendError(errors::kNotInteger);
    if (count < 0) count = 0;
  }
  const auto& entries = log.entries();
  const size_t n = std::min(entries.size(), static_cast<size_t>(count));
  ReplyBuilder& rb = ctx.rb();
  const int64_t now = ctx.services().clock.NowMs();
  rb.StartArray(n);
  for (size_t i = 0; i < n; i++) {
    const acl::LogEntry& e = entries[i];
    rb.StartMap(7);
    rb.SendBulk("count");
    rb.SendLong(static_cast<int64_t>(e.count));
    rb.SendBulk("reason");
    rb.SendBulk(acl::ReasonName(e.reason));
    rb.SendBulk("context");
    rb.SendBulk(acl::ContextName(e.context));
    rb.SendBulk("object");
    rb.SendBulk(e.object);
    rb.SendBulk("username");
    rb.SendBulk(e.username);
    rb.SendBulk("age-seconds");
    rb.SendDouble(static_cast<double>(now - e.ctime_ms) / 1000);
    rb.SendBulk("client-info");
    rb.SendBulk(e.client_info);
  }
}

void CmdAclLoad(CmdArgs, CommandContext& ctx) {
  if (ctx.settings().acl_file.empty()) return ctx.rb().SendError(errors::kAclNoFile);
  if (auto errors = Acl(ctx).LoadFile(&ctx.client())) return ctx.rb().SendError("ERR " + *errors);
  ctx.rb().SendOk();
}

void CmdAclSave(CmdArgs, CommandContext& ctx) {
  if (ctx.settings().acl_file.empty()) return ctx.rb().SendError(errors::kAclNoFile);
  if (!Acl(ctx).SaveFile()) return ctx.rb().SendError(errors::kAclSaveFailed);
  ctx.rb().SendOk();
}

void CmdAclDryRun(CmdArgs args, CommandContext& ctx) {
  const acl::User* user = Acl(ctx).Find(args[2]);
  if (user == nullptr) return ctx.rb().SendError(errors::AclUserNotFound(args[2]));
  CmdArgs target = args.subspan(3);
  const CommandRegistry& commands = Acl(ctx).commands();
  // Redis's lookupCommand: a container's subcommand when one is given, else the command.
  const CommandSpec* cmd = commands.FindFor(target);
  if (cmd == nullptr) return ctx.rb().SendError(errors::AclCommandNotFound(target[0]));
  if (!cmd->ArityOk(target.size())) return ctx.rb().SendError(errors::WrongArgs(cmd->full_name()));
  size_t pos = 0;
  switch (user->Check(*cmd, target, commands, &pos)) {
    case acl::Denial::kNone:
      return ctx.rb().SendOk();
    case acl::Denial::kCommand:
      return ctx.rb().SendBulk("This user has no permissions to run the '" + cmd->full_name() +
                               "' command");
    case acl::Denial::kKey:
      return ctx.rb().SendBulk("This user has no permissions to access the '" +
                               std::string(target[pos]) + "' key");
    default:
      return ctx.rb().SendBulk("This user has no permissions to access the '" +
                               std::string(target[pos]) + "' channel");
  }
}

void CmdAclHelp(CmdArgs, CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "CAT [<category>]",
      "    List all commands that belong to <category>, or all command categories",
      "    when no category is specified.",
      "DELUSER <username> [<username> ...]",
      "    Delete a list of users.",
      "DRYRUN <username> <command> [<arg> ...]",
      "    Returns whether the user can execute the given command without executing the command.",
      "GETUSER <username>",
      "    Get the user's details.",
      "GENPASS [<bits>]",
      "    Generate a secure 256-bit user password. The optional `bits` argument can",
      "    be used to specify a different size.",
      "LIST",
      "    Show users details in config file format.",
      "LOAD",
      "    Reload users from the ACL file.",
      "LOG [<count> | RESET]",
      "    Show the ACL log entries.",
      "SAVE",
      "    Save the current config to the ACL file.",
      "SETUSER <username> <attribute> [<attribute> ...]",
      "    Create or modify a user with the specified attributes.",
      "USERS",
      "    List all the registered usernames.",
      "WHOAMI",
      "    Return the current connection username.",
  };
  ctx.rb().SendHelp("ACL", kLines);
}

}  // namespace

void RegisterAclFamily(CommandRegistry& r) {
  constexpr uint32_t kLS = CO::kNoScript | CO::kLoading | CO::kStale;
  constexpr uint32_t kAdmin = CO::kAdmin | kLS;
  CommandSpec acl{"acl",
                  -2,
                  0,
                  0,
                  0,
                  0,
                  0,
                  nullptr,
                  {"A container for Access List Control commands", "6.0.0", "server",
                   "Depends on subcommand.", ""}};
  struct Sub {
    std::string_view name;
    int arity;
    uint32_t flags;
    Handler handler;
    std::string_view summary;
  };
  const Sub subs[] = {
      {"cat", -2, kLS, CmdAclCat, "List the ACL categories or the commands inside a category"},
      {"deluser", -3, kAdmin, CmdAclDelUser, "Remove the specified ACL users"},
      {"dryrun", -4, kAdmin, CmdAclDryRun,
       "Returns whether the user can execute the given command without executing the command."},
      {"genpass", -2, kLS, CmdAclGenPass,
       "Generate a pseudorandom secure password to use for ACL users"},
      {"getuser", 3, kAdmin, CmdAclGetUser, "Get the rules for a specific ACL user"},
      {"help", 2, CO::kLoading | CO::kStale, CmdAclHelp,
       "Show helpful text about the different subcommands"},
      {"list", 2, kAdmin, CmdAclList, "List the current ACL rules in ACL config file format"},
      {"load", 2, kAdmin, CmdAclLoad, "Reload the ACLs from the configured ACL file"},
      {"log", -2, kAdmin, CmdAclLog, "List latest events denied because of ACLs in place"},
      {"save", 2, kAdmin, CmdAclSave, "Save the current ACL rules in the configured ACL file"},
      {"setuser", -3, kAdmin, CmdAclSetUser, "Modify or create the rules for a specific ACL user"},
      {"users", 2, kAdmin, CmdAclUsers, "List the username of all the configured ACL rules"},
      {"whoami", 2, kLS, CmdAclWhoAmI,
       "Return the name of the user associated to the current connection"},
  };
  for (const Sub& s : subs) {
    acl.AddSubcommand({s.name,
                       s.arity,
                       s.flags,
                       0,
                       0,
                       0,
                       0,
                       s.handler,
                       {s.summary, "6.0.0", "server", "O(1)", ""}});
  }
  r << std::move(acl);
}

}  // namespace keyward
