#include "server/engine/client_registry.h"

#include "server/core/errors.h"

namespace keyward {

std::unique_ptr<Client> ClientRegistry::Accept(net::Transport& transport, int64_t now_ms) {
  auto client = std::make_unique<Client>(next_id_++, &transport, now_ms);
  Client* c = client.get();
  stats_.total_connections_received++;
  if (transport.is_unix()) c->flags |= Client::kUnixSocket;
  c->user = auth_ != nullptr ? auth_->default_user() : nullptr;
  c->authenticated = auth_ == nullptr || auth_->default_user_open();
  c->parser().set_authenticated(c->authenticated);
  c->parser().set_limits(ParserLimits{.max_bulk_len = settings_.proto_max_bulk_len});

  // Redis accepts the connection, then refuses it with an error and closes it.
  if (clients_.size() >= static_cast<size_t>(settings_.maxclients)) {
    stats_.rejected_connections++;
    transport.output().append("-").append(errors::kMaxClients).append("\r\n");
    transport.CloseAfterFlush();
    c->flags |= Client::kClosed;
    return client;
  }
  // Protected mode: without a password for the default user, only 127.0.0.1, ::1 and unix
  // socket clients (Redis 7.0: whatever the bind).
  const bool nopass = auth_ == nullptr || auth_->default_user_nopass();
  if (settings_.protected_mode && nopass && !transport.is_loopback() && !transport.is_unix()) {
    transport.output().append(errors::kProtectedMode);
    transport.CloseAfterFlush();
    c->flags |= Client::kClosed;
    return client;
  }
  clients_.push_back(c);
  by_id_[c->id()] = c;
  return client;
}

std::unique_ptr<Client> ClientRegistry::Adopt(net::Transport& transport, int64_t now_ms) {
  auto client = std::make_unique<Client>(next_id_++, &transport, now_ms);
  Client* c = client.get();
  c->authenticated = true;
  c->parser().set_authenticated(true);
  c->parser().set_limits(ParserLimits{.max_bulk_len = settings_.proto_max_bulk_len});
  clients_.push_back(c);
  by_id_[c->id()] = c;
  return client;
}

Client* ClientRegistry::Find(uint64_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

void ClientRegistry::Close(Client& c, bool after_reply) {
  if (after_reply) {
    c.flags |= Client::kCloseAfterReply;
    c.transport()->CloseAfterFlush();
    return;
  }
  if (c.has(Client::kClosed) && !by_id_.count(c.id())) return;
  c.flags |= Client::kClosed;
  for (auto& hook : close_hooks_) hook(c);
  clients_.remove(&c);
  by_id_.erase(c.id());
  c.transport()->Close();
}

}  // namespace keyward
