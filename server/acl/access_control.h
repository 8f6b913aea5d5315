// The ACL: the users, the default user every connection starts as, authentication, the
// permission check the gatekeeper asks before every command, the ACL LOG, and the ACL file
// (Redis 7.0's acl.c). Command handlers (commands/acl_family.cc) reach it through Services.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/acl/acl_log.h"
#include "server/acl/user.h"
#include "server/core/clock.h"
#include "server/core/settings.h"
#include "server/engine/client_registry.h"
#include "server/engine/gatekeeper.h"
#include "server/engine/registry.h"

namespace keyward::acl {

class AccessControl : public Authenticator {
 public:
  AccessControl(const CommandRegistry& commands, const ServerSettings& settings,
                ClientRegistry& clients, Clock& clock);

  // CLIENT INFO's line for a client (ACL LOG shows it); set by the server's wiring.
  void set_client_info(std::function<std::string(const Client&)> info) {
    client_info_ = std::move(info);
  }

  // Authenticator.
  const User* default_user() const override { return default_user_; }
  bool default_user_open() const override {
    return default_user_->nopass() && default_user_->enabled();
  }
  bool default_user_nopass() const override { return default_user_->nopass(); }

  RuleContext context() const;
  User* Find(std::string_view name) const;
  const std::map<std::string, std::unique_ptr<User>, std::less<>>& users() const { return users_; }
  const CommandRegistry& commands() const { return commands_; }

  // ACL SETUSER: every rule applies, or none does (the error names the rule refused). Clients
  // of the user subscribed to channels it may no longer use are disconnected.
  std::optional<std::string> SetUser(std::string_view name, const std::vector<std::string>& rules,
                                     const Client* current);
  // ACL DELUSER: the users removed (their clients disconnected; `current` after its reply).
  size_t DeleteUsers(const std::vector<std::string_view>& names, const Client* current);

  // AUTH and HELLO AUTH: true when the pair opens the user, which `c` then runs as; a failure
  // is logged (ACL LOG reason "auth", object `command` as the client typed it).
  bool Authenticate(Client& c, std::string_view username, std::string_view password,
                    std::string_view command);

  // The gatekeeper's check: nullopt when `origin`'s user may run `cmd` with `args`, else the
  // error for a caller of `kind` (NOPERM for a client, a script's or EXEC's own wording). A
  // refusal is logged.
  std::optional<std::string> Check(CallerKind kind, const Client& origin, const CommandSpec& cmd,
                                   CmdArgs args);
  // SORT's BY and GET: the client's user may read every key with this command.
  bool CanReadAnyKey(const Client& c, const CommandSpec& cmd, CmdArgs args) const;

  // requirepass: the default user's only password (empty: nopass).
  void SetDefaultPassword(const std::string& password);

  // Start-up: the `user` lines of the config file, then the ACL file. An error is fatal: the
  // text to log before exiting.
  std::optional<std::string> LoadAtStartup();
  // ACL LOAD: all users from the ACL file, or none (the errors found, on one line).
  std::optional<std::string> LoadFile(const Client* current);
  // ACL SAVE: false (and a log line) when the file could not be written.
  bool SaveFile() const;
  // The users as `user` lines (ACL SAVE, CONFIG REWRITE).
  std::vector<std::string> UserLines() const;

  AclLog& log() { return log_; }

 private:
  void KillClientsOf(const User* user, const Client* current);
  void KillSubscribersIfNeeded(const User& updated, const User& original, const Client* current);
  void Log(Denial reason, LogContext context, std::string object, const std::string& username,
           const Client& c);
  static std::unique_ptr<User> NewDefaultUser(const RuleContext& ctx);

  const CommandRegistry& commands_;
  const ServerSettings& settings_;
  ClientRegistry& clients_;
  Clock& clock_;
  std::map<std::string, std::unique_ptr<User>, std::less<>> users_;
  User* default_user_ = nullptr;
  AclLog log_;
  std::function<std::string(const Client&)> client_info_;
};

// A `user` line of the config file checked for syntax (unknown commands are let through: they
// are checked when the users load): nullopt, or Redis's error for the line.
std::optional<std::string> CheckUserLine(const std::vector<std::string>& values,
                                         const std::vector<std::vector<std::string>>& earlier);

}  // namespace keyward::acl
