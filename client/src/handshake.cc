#include "keyward/client/handshake.h"

#include <string>
#include <string_view>

#include "keyward/client/request.h"

namespace keyward::client {
namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Errors meaning "these credentials were refused". "ERR invalid password" is what Redis < 6
// answers a wrong AUTH with; Redis 6+ says WRONGPASS. NOAUTH comes when the server needs a
// password and none was given.
bool IsAuthError(std::string_view text) {
  return StartsWith(text, "WRONGPASS") || StartsWith(text, "NOAUTH") ||
         StartsWith(text, "ERR invalid password");
}

// A server that does not speak RESP3: HELLO does not exist (Redis < 6, some proxies) or refuses
// protocol 3.
bool IsNoHello(std::string_view text) {
  return StartsWith(text, "ERR unknown command") || StartsWith(text, "NOPROTO");
}

}  // namespace

std::string_view Handshake::CommandName(Expect what) {
  switch (what) {
    case Expect::kHello:
      return "HELLO";
    case Expect::kAuth:
      return "AUTH";
    case Expect::kSetName:
      return "CLIENT SETNAME";
    case Expect::kSelect:
      return "SELECT";
  }
  return "?";
}

std::string Handshake::Start() {
  // A restart forgets everything but the configuration.
  pending_.clear();
  next_ = 0;
  protocol_ = 0;
  hello_.reset();
  error_.clear();
  server_error_.clear();
  error_detail_.clear();
  Request req;
  if (has_credentials()) {
    // HELLO's AUTH always takes a user; "default" is who a password-only AUTH authenticates.
    std::string_view user = config_.user.empty() ? std::string_view("default") : config_.user;
    if (config_.client_name.empty()) {
      req.Push("HELLO", 3, "AUTH", user, config_.password);
    } else {
      req.Push("HELLO", 3, "AUTH", user, config_.password, "SETNAME", config_.client_name);
    }
  } else if (!config_.client_name.empty()) {
    req.Push("HELLO", 3, "SETNAME", config_.client_name);
  } else {
    req.Push("HELLO", 3);
  }
  phase_ = Phase::kHello;
  pending_ = {Expect::kHello};
  return std::string(req.payload());
}

Handshake::Step Handshake::OnReply(const Reply& reply) {
  if (phase_ == Phase::kFailed) return {Action::kFailed, {}};
  if (next_ >= pending_.size()) {
    return Fail(ClientError::kProtocolError, "a reply arrived while none was awaited");
  }
  Expect what = pending_[next_++];
  if (what == Expect::kHello) return OnHelloReply(reply);
  return OnOkReply(what, reply);
}

Handshake::Step Handshake::OnHelloReply(const Reply& reply) {
  if (reply.is_error()) {
    std::string_view text = *reply.as_error();
    if (!IsNoHello(text)) return FailWithServerError(Expect::kHello, reply);
    // RESP2 fallback: everything HELLO would have done, pipelined in one write.
    protocol_ = 2;
    Request req;
    pending_.clear();
    next_ = 0;
    if (has_credentials()) {
      if (config_.user.empty() || config_.user == "default") {
        req.Push("AUTH", config_.password);
      } else {
        req.Push("AUTH", config_.user, config_.password);
      }
      pending_.push_back(Expect::kAuth);
    }
    if (!config_.client_name.empty()) {
      req.Push("CLIENT", "SETNAME", config_.client_name);
      pending_.push_back(Expect::kSetName);
    }
    if (config_.db != 0) {
      req.Push("SELECT", config_.db);
      pending_.push_back(Expect::kSelect);
    }
    if (req.empty()) {
      phase_ = Phase::kDone;
      return {Action::kDone, {}};
    }
    phase_ = Phase::kFallback;
    return {Action::kWrite, std::string(req.payload())};
  }

  auto map = reply.as_map();
  if (!map) {
    return Fail(ClientError::kWrongReplyType,
                "HELLO answered with " + std::string(ToString(reply.type())) + ", not a map");
  }
  ServerHello hello;
  auto text_field = [&map](std::string_view key, std::string& out) {
    if (const Reply* v = map->Find(key)) {
      if (auto s = v->as_string()) out = std::string(*s);
    }
  };
  text_field("server", hello.server);
  text_field("version", hello.version);
  text_field("mode", hello.mode);
  text_field("role", hello.role);
  if (const Reply* v = map->Find("id")) {
    if (auto id = v->as_integer()) hello.id = *id;
  }
  protocol_ = 3;
  if (const Reply* v = map->Find("proto")) {
    if (auto proto = v->as_integer(); proto && (*proto == 2 || *proto == 3)) {
      protocol_ = static_cast<int>(*proto);
    }
  }
  hello_ = std::move(hello);
  return Advance();
}

Handshake::Step Handshake::OnOkReply(Expect what, const Reply& reply) {
  if (reply.is_error()) return FailWithServerError(what, reply);
  auto text = reply.as_string();
  if (reply.type() != ReplyType::kSimpleString || !text || *text != "OK") {
    return Fail(ClientError::kWrongReplyType, std::string(CommandName(what)) + " answered with " +
                                                  std::string(ToString(reply.type())) +
                                                  ", not +OK");
  }
  return Advance();
}

Handshake::Step Handshake::Advance() {
  if (next_ < pending_.size()) return {Action::kWaitReply, {}};
  if (phase_ == Phase::kHello && config_.db != 0) {
    // HELLO has no db option; SELECT follows once HELLO is known to have worked.
    Request req;
    req.Push("SELECT", config_.db);
    phase_ = Phase::kAfterHello;
    pending_ = {Expect::kSelect};
    next_ = 0;
    return {Action::kWrite, std::string(req.payload())};
  }
  phase_ = Phase::kDone;
  return {Action::kDone, {}};
}

Handshake::Action Handshake::Drain(ReplyParser& parser, std::string* out) {
  while (true) {
    auto reply = parser.Next();
    if (!reply) return Fail(reply.error(), parser.error_detail()).action;
    if (!*reply) return Action::kWaitReply;
    Step step = OnReply(**reply);
    if (step.action == Action::kWrite) {
      *out += step.bytes;
    } else if (step.action != Action::kWaitReply) {
      return step.action;
    }
  }
}

Handshake::Step Handshake::Fail(std::error_code error, std::string detail) {
  phase_ = Phase::kFailed;
  error_ = error;
  error_detail_ = std::move(detail);
  return {Action::kFailed, {}};
}

Handshake::Step Handshake::FailWithServerError(Expect what, const Reply& reply) {
  server_error_ = std::string(*reply.as_error());
  ClientError error =
      IsAuthError(server_error_) ? ClientError::kAuthFailed : ClientError::kServerError;
  return Fail(error, std::string(CommandName(what)) + ": " + server_error_);
}

}  // namespace keyward::client
