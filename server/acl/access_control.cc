#include "server/acl/access_control.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "server/core/errors.h"
#include "server/core/strings.h"

namespace keyward::acl {

namespace {

std::string Trim(std::string_view s, std::string_view chars) {
  const size_t first = s.find_first_not_of(chars);
  if (first == std::string_view::npos) return {};
  const size_t last = s.find_last_not_of(chars);
  return std::string(s.substr(first, last - first + 1));
}

std::vector<std::string_view> Views(const std::vector<std::string>& v, size_t from) {
  std::vector<std::string_view> out;
  for (size_t i = from; i < v.size(); i++) out.emplace_back(v[i]);
  return out;
}

// Redis's getAclErrorMessage, for scripts.
std::string_view ScriptDenial(Denial d) {
  switch (d) {
    case Denial::kCommand:
      return "can't run this command or subcommand";
    case Denial::kKey:
      return "can't access at least one of the keys mentioned in the command arguments";
    case Denial::kChannel:
      return "can't publish to the channel mentioned in the command";
    default:
      return "lacking the permissions for the command";
  }
}

// EXEC's reason when the rules changed after the command was queued.
std::string_view ExecDenial(Denial d) {
  switch (d) {
    case Denial::kCommand:
      return "no permission to execute the command or subcommand";
    case Denial::kKey:
      return "no permission to touch the specified keys";
    case Denial::kChannel:
      return "no permission to access one of the channels used as arguments";
    default:
      return "no permission";
  }
}

}  // namespace

AccessControl::AccessControl(const CommandRegistry& commands, const ServerSettings& settings,
                             ClientRegistry& clients, Clock& clock)
    : commands_(commands), settings_(settings), clients_(clients), clock_(clock) {
  auto user = NewDefaultUser(context());
  default_user_ = user.get();
  users_.emplace("default", std::move(user));
}

std::unique_ptr<User> AccessControl::NewDefaultUser(const RuleContext& ctx) {
  auto user = std::make_unique<User>("default", ctx);
  for (std::string_view rule : {"+@all", "~*", "&*", "on", "nopass"}) user->Apply(rule, ctx);
  return user;
}

RuleContext AccessControl::context() const {
  return RuleContext{&commands_, settings_.acl_pubsub_default != 0};
}

User* AccessControl::Find(std::string_view name) const {
  auto it = users_.find(name);
  return it == users_.end() ? nullptr : it->second.get();
}

std::optional<std::string> AccessControl::SetUser(std::string_view name,
                                                  const std::vector<std::string>& rules,
                                                  const Client* current) {
  const RuleContext ctx = context();
  User staged{std::string(name), ctx};
  User* existing = Find(name);
  if (existing != nullptr) staged.CopyRulesFrom(*existing);
  for (const std::string& rule : rules) {
    if (RuleError e = staged.Apply(rule, ctx); e != RuleError::kNone) {
      return errors::AclSetUserRule(rule, RuleErrorText(e));
    }
  }
  if (existing != nullptr) {
    KillSubscribersIfNeeded(staged, *existing, current);
  } else {
    existing = users_.emplace(std::string(name), std::make_unique<User>(std::string(name), ctx))
                   .first->second.get();
  }
  existing->CopyRulesFrom(staged);
  return std::nullopt;
}

size_t AccessControl::DeleteUsers(const std::vector<std::string_view>& names,
                                  const Client* current) {
  size_t deleted = 0;
  for (std::string_view name : names) {
    auto it = users_.find(name);
    if (it == users_.end()) continue;
    std::unique_ptr<User> gone = std::move(it->second);
    users_.erase(it);
    KillClientsOf(gone.get(), current);
    deleted++;
  }
  return deleted;
}

void AccessControl::KillClientsOf(const User* user, const Client* current) {
  std::vector<Client*> victims;
  for (Client* c : clients_.all()) {
    if (c->user == user) victims.push_back(c);
  }
  for (Client* c : victims) {
    // Back to the default user, unauthenticated, before it goes: nothing may run as a user
    // that no longer exists.
    c->user = default_user_;
    c->authenticated = false;
    clients_.Close(*c, c == current);
  }
}

void AccessControl::KillSubscribersIfNeeded(const User& updated, const User& original,
                                            const Client* current) {
  // Redis's ACLKillPubsubClientsIfNeeded: nothing to do when a selector allows every channel,
  // or when every channel pattern the user had is still there.
  std::vector<std::string> upcoming;
  for (const Selector& s : updated.selectors()) {
    if (s.flags() & Selector::kAllChannels) return;
    upcoming.insert(upcoming.end(), s.channels().begin(), s.channels().end());
  }
  bool superset = true;
  for (const Selector& s : original.selectors()) {
    for (const std::string& ch : s.channels()) {
      superset = superset && std::find(upcoming.begin(), upcoming.end(), ch) != upcoming.end();
    }
  }
  if (superset) return;
  auto allowed = [&](std::string_view channel, bool pattern) {
    for (const std::string& p : upcoming) {
      if (pattern ? p == channel : GlobMatch(p, channel)) return true;
    }
    return false;
  };
  std::vector<Client*> victims;
  for (Client* c : clients_.all()) {
    if (c->user != &original || c->type() != Client::Type::kPubSub) continue;
    bool kill = false;
    for (const std::string& p : c->subscriptions.patterns) kill = kill || !allowed(p, true);
    for (const std::string& ch : c->subscriptions.channels) kill = kill || !allowed(ch, false);
    for (const std::string& ch : c->subscriptions.shard_channels) {
      kill = kill || !allowed(ch, false);
    }
    if (kill) victims.push_back(c);
  }
  for (Client* c : victims) clients_.Close(*c, c == current);
}

bool AccessControl::Authenticate(Client& c, std::string_view username, std::string_view password,
                                 std::string_view command) {
  const User* user = Find(username);
  if (user != nullptr && user->Accepts(password)) {
    c.user = user;
    c.authenticated = true;
    return true;
  }
  Log(Denial::kAuth, c.has(Client::kMulti) ? LogContext::kMulti : LogContext::kToplevel,
      std::string(command), std::string(username), c);
  return false;
}

std::optional<std::string> AccessControl::Check(CallerKind kind, const Client& origin,
                                                const CommandSpec& cmd, CmdArgs args) {
  const User* user = origin.user;
  if (user == nullptr) return std::nullopt;  // the master link, the AOF: they may run anything
  size_t pos = 0;
  // A client whose user was deleted (or replaced by ACL LOAD) is back to the default user,
  // unauthenticated, until it is closed: what it still runs (the rest of its EXEC) gets no more
  // rights than a new connection would (Redis would run it as the default user).
  const bool unauthenticated =
      !origin.authenticated && !default_user_open() && !cmd.has(CO::kNoAuth);
  const Denial denial =
      unauthenticated ? Denial::kCommand : user->Check(cmd, args, commands_, &pos);
  if (denial == Denial::kNone) return std::nullopt;
  LogContext context = origin.has(Client::kMulti) ? LogContext::kMulti : LogContext::kToplevel;
  if (kind == CallerKind::kScript) context = LogContext::kLua;
  if (kind == CallerKind::kExec) context = LogContext::kMulti;
  Log(denial, context, denial == Denial::kCommand ? cmd.full_name() : std::string(args[pos]),
      user->name(), origin);
  if (kind == CallerKind::kScript) {
    return std::string(errors::kScriptAclPrefix) + std::string(ScriptDenial(denial));
  }
  if (kind == CallerKind::kExec) {
    return std::string(errors::kExecAclPrefix) + std::string(ExecDenial(denial));
  }
  switch (denial) {
    case Denial::kCommand:
      return errors::NoPermCommand(cmd.full_name());
    case Denial::kKey:
      return std::string(errors::kNoPermKey);
    default:
      return std::string(errors::kNoPermChannel);
  }
}

bool AccessControl::CanReadAnyKey(const Client& c, const CommandSpec& cmd, CmdArgs args) const {
  return c.user == nullptr || c.user->AllowsCommandOnAnyKey(cmd, args, commands_, kKeyRead);
}

void AccessControl::Log(Denial reason, LogContext context, std::string object,
                        const std::string& username, const Client& c) {
  LogEntry entry;
  entry.reason = reason;
  entry.context = context;
  entry.object = std::move(object);
  entry.username = username;
  entry.ctime_ms = clock_.NowMs();
  if (client_info_) entry.client_info = client_info_(c);
  log_.Add(std::move(entry), settings_.acllog_max_len);
}

void AccessControl::SetDefaultPassword(const std::string& password) {
  const RuleContext ctx = context();
  default_user_->Apply("resetpass", ctx);
  if (password.empty()) {
    default_user_->Apply("nopass", ctx);
  } else {
    default_user_->Apply(">" + password, ctx);
  }
}

std::optional<std::string> AccessControl::LoadAtStartup() {
  if (!settings_.acl_file.empty() && !settings_.acl_user_lines.empty()) {
    return std::string(
        "Configuring Redis with users defined in redis.conf and at the same setting an ACL file "
        "path is invalid. This setup is very likely to lead to configuration errors and security "
        "holes, please define either an ACL file or declare users directly in your redis.conf, "
        "but not both.");
  }
  const RuleContext ctx = context();
  for (const std::vector<std::string>& line : settings_.acl_user_lines) {
    // line: user <name> <rules...> (selectors already merged by the config reader)
    const std::string& name = line[1];
    if (HasSpaces(name)) {
      spdlog::warn("Spaces not allowed in ACL usernames");
      return std::string("Critical error while loading ACLs. Exiting.");
    }
    User* user = Find(name);
    if (user == nullptr) {
      user = users_.emplace(name, std::make_unique<User>(name, ctx)).first->second.get();
    } else {
      user->Apply("reset", ctx);  // only "default" can be here twice
    }
    for (size_t j = 2; j < line.size(); j++) {
      if (RuleError e = user->Apply(line[j], ctx); e != RuleError::kNone) {
        spdlog::warn("Error loading ACL rule '{}' for the user named '{}': {}", line[j], name,
                     RuleErrorText(e));
        return std::string("Critical error while loading ACLs. Exiting.");
      }
    }
    if (!user->enabled()) {
      spdlog::info(
          "The user '{}' is disabled (there is no 'on' modifier in the user description). Make "
          "sure this is not a configuration error.",
          name);
    }
  }
  if (!settings_.acl_file.empty()) {
    if (auto errors = LoadFile(nullptr)) {
      return "Aborting Redis startup because of ACL errors: " + *errors;
    }
  }
  return std::nullopt;
}

std::optional<std::string> AccessControl::LoadFile(const Client* current) {
  const std::string& filename = settings_.acl_file;
  std::ifstream in(filename, std::ios::binary);
  if (!in) {
    return "Error loading ACLs, opening file '" + filename + "': " + std::strerror(errno);
  }
  std::stringstream text;
  text << in.rdbuf();
  const std::string all = text.str();

  const RuleContext ctx = context();
  std::map<std::string, std::unique_ptr<User>, std::less<>> loaded;
  std::string errors;
  const std::vector<std::string_view> lines = Split(all, "\n");
  for (size_t i = 0; i < lines.size(); i++) {
    const size_t linenum = i + 1;
    const std::string line = Trim(lines[i], " \t\r\n");
    if (line.empty()) continue;
    // Single spaces separate (Redis's sdssplitlen: two spaces make an empty argument).
    const std::vector<std::string_view> argv = Split(line, " ");
    const std::string name(argv.size() >= 2 ? argv[1] : "");
    if (argv[0] != "user" || argv.size() < 2) {
      errors += filename + ":" + std::to_string(linenum) +
                " should start with user keyword followed by the username. ";
      continue;
    }
    if (HasSpaces(name)) {
      errors += "'" + filename + ":" + std::to_string(linenum) + ": username '" + name +
                "' contains invalid characters. ";
      continue;
    }
    if (loaded.count(name) != 0) {
      errors +=
          "WARNING: Duplicate user '" + name + "' found on line " + std::to_string(linenum) + ". ";
      continue;
    }
    User* user = loaded.emplace(name, std::make_unique<User>(name, ctx)).first->second.get();
    auto merged = MergeSelectorArguments({argv.begin() + 2, argv.end()}, nullptr);
    if (!merged) {
      errors += filename + ":" + std::to_string(linenum) +
                ": Unmatched parenthesis in selector definition.";
      continue;
    }
    bool syntax_error = false;
    for (const std::string& raw : *merged) {
      const std::string rule = Trim(raw, "\t\r\n");
      const RuleError e = user->Apply(rule, ctx);
      if (e == RuleError::kNone) continue;
      if (e == RuleError::kUnknownName) {
        errors += filename + ":" + std::to_string(linenum) + ": Error in applying operation '" +
                  rule + "': " + std::string(RuleErrorText(e)) + ". ";
      } else if (!syntax_error) {
        // Only the first other error: it may be why later rules fail.
        errors +=
            filename + ":" + std::to_string(linenum) + ": " + std::string(RuleErrorText(e)) + ". ";
        syntax_error = true;
      }
    }
  }
  if (!errors.empty()) {
    return errors +
           "WARNING: ACL errors detected, no change to the previously active ACL rules was "
           "performed";
  }
  // The default user object stays (clients and the registry point at it): the file's rules are
  // copied into it. Every other user is replaced, and its clients disconnected.
  auto it = loaded.find("default");
  std::unique_ptr<User> new_default =
      it != loaded.end() ? std::move(it->second) : NewDefaultUser(ctx);
  if (it != loaded.end()) loaded.erase(it);
  default_user_->CopyRulesFrom(*new_default);
  auto old = std::move(users_);
  users_ = std::move(loaded);
  users_.emplace("default", std::move(old.at("default")));
  old.erase("default");
  for (auto& [name, user] : old) KillClientsOf(user.get(), current);
  return std::nullopt;
}

std::vector<std::string> AccessControl::UserLines() const {
  std::vector<std::string> lines;
  for (const auto& [name, user] : users_) {
    lines.push_back("user " + name + " " + user->Describe(commands_));
  }
  return lines;
}

bool AccessControl::SaveFile() const {
  std::string text;
  for (const std::string& line : UserLines()) text += line + "\n";
  const std::string& filename = settings_.acl_file;
  const std::string tmp =
      filename + ".tmp-" + std::to_string(getpid()) + "-" + std::to_string(clock_.NowMs());
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd == -1) {
    spdlog::warn("Opening temp ACL file for ACL SAVE: {}", std::strerror(errno));
    return false;
  }
  const ssize_t written = write(fd, text.data(), text.size());
  if (written != static_cast<ssize_t>(text.size())) {
    spdlog::warn("Writing ACL file for ACL SAVE: {}", std::strerror(errno));
    close(fd);
    unlink(tmp.c_str());
    return false;
  }
  // Durable before it replaces the old file: a crash leaves the old rules or the new ones.
  if (fsync(fd) == -1) {
    spdlog::warn("Writing ACL file for ACL SAVE: {}", std::strerror(errno));
    close(fd);
    unlink(tmp.c_str());
    return false;
  }
  close(fd);
  if (rename(tmp.c_str(), filename.c_str()) == -1) {
    spdlog::warn("Renaming ACL file for ACL SAVE: {}", std::strerror(errno));
    unlink(tmp.c_str());
    return false;
  }
  return true;
}

std::optional<std::string> CheckUserLine(const std::vector<std::string>& values,
                                         const std::vector<std::vector<std::string>>& earlier) {
  // Redis names the argument of the line (`user` being the first) at the index of the rule that
  // failed among the rules: "user alice on badrule" reports 'alice'. Kept, for identical errors.
  std::vector<std::string> argv{"user"};
  argv.insert(argv.end(), values.begin(), values.end());
  auto error = [&](size_t index, RuleError e) {
    return "Error in user declaration '" + argv[std::min(index, argv.size() - 1)] +
           "': " + std::string(RuleErrorText(e));
  };
  for (const auto& line : earlier) {
    if (line.size() >= 2 && line[1] == values[0]) return error(1, RuleError::kDuplicateUser);
  }
  const RuleContext syntax_only;
  User probe(values[0], syntax_only);
  size_t open_at = 0;
  auto merged = MergeSelectorArguments(Views(argv, 2), &open_at);
  if (!merged) return error(open_at, RuleError::kSyntax);
  for (size_t j = 0; j < merged->size(); j++) {
    const RuleError e = probe.Apply((*merged)[j], syntax_only);
    if (e != RuleError::kNone && e != RuleError::kUnknownName) return error(j, e);
  }
  return std::nullopt;
}

}  // namespace keyward::acl
