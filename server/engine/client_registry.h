// The connected clients: admission (maxclients, protected mode), lookup by id, and closing, with
// the parts that hold per-client state (pub/sub, blocking, MONITOR, CLIENT PAUSE) told through
// close hooks. The registry knows nothing of commands or replies.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <unordered_map>
#include <vector>

#include "server/core/settings.h"
#include "server/engine/client.h"
#include "server/engine/stats.h"

namespace keyward {

// The ACL as the registry sees it (server/acl/ implements it): who a new connection is, and
// whether it starts authenticated.
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual const acl::User* default_user() const = 0;
  // The default user is on and needs no password: a connection starts authenticated.
  virtual bool default_user_open() const = 0;
  // The default user needs no password (protected mode refuses remote clients then).
  virtual bool default_user_nopass() const = 0;
};

class ClientRegistry {
 public:
  ClientRegistry(const ServerSettings& settings, ServerStats& stats)
      : settings_(settings), stats_(stats) {}

  // The client of a new connection. Refused (an error written and the connection closed after
  // it, as Redis does) over maxclients or by protected mode: it is then not registered and
  // comes back flagged kClosed.
  std::unique_ptr<Client> Accept(net::Transport& transport, int64_t now_ms);

  // The client of a connection the server opened itself (a replica's link to its master):
  // registered without admission checks, authenticated.
  std::unique_ptr<Client> Adopt(net::Transport& transport, int64_t now_ms);

  Client* Find(uint64_t id) const;
  const std::list<Client*>& all() const { return clients_; }
  size_t size() const { return clients_.size(); }

  // Closes the client now (its connection too), or once its pending output is written
  // (`after_reply`: QUIT, protocol errors, a CLIENT KILL of oneself). Idempotent.
  void Close(Client& c, bool after_reply = false);
  // Called for every client that closes, before it leaves the registry.
  void OnClose(std::function<void(Client&)> hook) { close_hooks_.push_back(std::move(hook)); }

  void set_authenticator(const Authenticator* auth) { auth_ = auth; }
  // Whether a client must authenticate before running commands (Redis's authRequired: once the
  // default user needs no password, a client that connected while it did may run commands).
  bool AuthRequired(const Client& c) const {
    return !c.authenticated && auth_ != nullptr && !auth_->default_user_open();
  }

 private:
  const ServerSettings& settings_;
  ServerStats& stats_;
  const Authenticator* auth_ = nullptr;
  uint64_t next_id_ = 1;
  std::list<Client*> clients_;
  std::unordered_map<uint64_t, Client*> by_id_;
  std::vector<std::function<void(Client&)>> close_hooks_;
};

}  // namespace keyward
