#include "server/server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>

#include "server/commands/context.h"
#include "server/commands/families.h"
#include "server/coordination/lock_manager.h"
#include "server/core/errors.h"
#include "server/core/notify.h"
#include "server/core/strings.h"
#include "server/scripting/function_engine.h"
#include "server/scripting/lua_engine.h"

namespace keyward {

namespace {

// The per-connection Session: feeds input to the server and reports closure.
class ClientSession : public net::Session {
 public:
  ClientSession(Server& server, std::unique_ptr<Client> client)
      : server_(server), client_(std::move(client)) {}
  ~ClientSession() override = default;

  size_t OnInput(std::string_view input) override {
    size_t used = server_.ProcessInput(*client_, input);
    // Output this batch produced for other clients goes out now, in one write each.
    server_.ProcessDeferred();
    return used;
  }
  void OnClosed() override { server_.CloseClient(*client_, false); }
  size_t PendingCommandSize() const override { return client_->parser().bytes_hint(); }

 private:
  Server& server_;
  std::unique_ptr<Client> client_;
};

// The commands a RESP2 connection in subscribed mode may run (Redis's processCommand list).
bool AllowedWhileSubscribed(const CommandSpec& cmd) {
  static constexpr std::string_view kAllowed[] = {"subscribe",    "ssubscribe", "unsubscribe",
                                                  "sunsubscribe", "psubscribe", "punsubscribe",
                                                  "ping",         "quit",       "reset"};
  for (std::string_view name : kAllowed) {
    if (cmd.full_name() == name) return true;
  }
  return false;
}

std::string RandomHex(std::mt19937_64& rng, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(n, '0');
  for (auto& c : s) c = kHex[rng() & 15];
  return s;
}

}  // namespace

Server::Server(Clock* clock, Config* config, ServerSettings* settings)
    : clock_(clock),
      config_(config),
      settings_(settings),
      rng_(std::random_device{}()),
      pubsub_([this](Client& c, std::string_view bytes) { SendToOther(c, bytes); },
              [](const Client& c) { return c.resp; },
              [](Client& c) -> ClientSubscriptions& { return c.subscriptions; }) {
  keyspace_ = std::make_unique<Keyspace>(static_cast<int>(settings_->databases), rng_(), this);
  run_id_ = RandomHex(rng_, 40);
  UpdateTime();
  start_time_ms_ = keyspace_->now_ms();
  locks_ = std::make_unique<LockManager>(*this);
  RegisterCommands();
}

Server::~Server() = default;

FunctionEngine& Server::functions() {
  if (!functions_) functions_ = std::make_unique<FunctionEngine>(*this);
  return *functions_;
}

LuaEngine& Server::lua() {
  if (!lua_) lua_ = std::make_unique<LuaEngine>(*this);
  return *lua_;
}

void Server::RegisterCommands() {
  RegisterConnectionFamily(registry_);
  RegisterServerFamily(registry_);
  RegisterConfigFamily(registry_);
  RegisterClientFamily(registry_);
  RegisterIntrospectionFamily(registry_);
  RegisterGenericFamily(registry_);
  RegisterExpireFamily(registry_);
  RegisterStringFamily(registry_);
  RegisterBitopsFamily(registry_);
  RegisterPubSubFamily(registry_);
  RegisterScriptingFamily(registry_);
  RegisterFunctionFamily(registry_);
  RegisterLockFamily(registry_);
}

std::unique_ptr<net::Session> Server::NewSession(net::Transport& transport) {
  auto client = std::make_unique<Client>(next_client_id_++, &transport, now_ms());
  Client* c = client.get();
  stats_.total_connections_received++;
  if (transport.is_unix()) c->flags |= Client::kUnixSocket;
  c->authenticated = settings_->requirepass.empty();
  c->parser().set_authenticated(c->authenticated);
  c->parser().set_limits(ParserLimits{.max_bulk_len = settings_->proto_max_bulk_len});

  // Redis accepts the connection, then refuses it with an error and closes it.
  if (clients_.size() >= static_cast<size_t>(settings_->maxclients)) {
    stats_.rejected_connections++;
    transport.output().append("-").append(errors::kMaxClients).append("\r\n");
    transport.CloseAfterFlush();
    c->flags |= Client::kClosed;
    return std::make_unique<ClientSession>(*this, std::move(client));
  }
  // Protected mode: no password and no explicit bind means loopback clients only.
  if (settings_->protected_mode && settings_->requirepass.empty() && !transport.is_loopback() &&
      !transport.is_unix() && settings_->bind == std::vector<std::string>{"*", "-::*"}) {
    transport.output().append(errors::kProtectedMode);
    transport.CloseAfterFlush();
    c->flags |= Client::kClosed;
    return std::make_unique<ClientSession>(*this, std::move(client));
  }
  clients_.push_back(c);
  clients_by_id_[c->id()] = c;
  return std::make_unique<ClientSession>(*this, std::move(client));
}

Client* Server::FindClient(uint64_t id) {
  auto it = clients_by_id_.find(id);
  return it == clients_by_id_.end() ? nullptr : it->second;
}

void Server::CloseClient(Client& c, bool after_reply) {
  if (after_reply) {
    c.flags |= Client::kCloseAfterReply;
    c.transport()->CloseAfterFlush();
    return;
  }
  if (c.has(Client::kClosed) && !clients_by_id_.count(c.id())) return;
  c.flags |= Client::kClosed;
  pubsub_.UnsubscribeAll(c);
  locks_->ClientClosed(c);
  clients_.remove(&c);
  clients_by_id_.erase(c.id());
  monitors_.erase(std::remove(monitors_.begin(), monitors_.end(), &c), monitors_.end());
  paused_clients_.erase(std::remove(paused_clients_.begin(), paused_clients_.end(), c.id()),
                        paused_clients_.end());
  c.transport()->Close();
}

size_t Server::ProcessInput(Client& c, std::string_view input) {
  if (c.has(Client::kClosed) || c.has(Client::kCloseAfterReply)) return input.size();
  // Redis closes a client whose unprocessed input outgrows client-query-buffer-limit.
  auto over_limit = [&](size_t pending) {
    if (pending <= static_cast<size_t>(settings_->client_query_buffer_limit)) return false;
    spdlog::warn("Closing client that reached max query buffer length: id={} qbuf={}", c.id(),
                 pending);
    stats_.client_query_buffer_limit_disconnections++;
    CloseClient(c, false);
    return true;
  };
  c.query_buffer_peak = std::max(c.query_buffer_peak, input.size());
  // A client held by CLIENT PAUSE or waiting for a lock keeps sending: its commands wait in the
  // buffer, which is still bounded by the limit.
  if (c.has(Client::kPaused | Client::kBlocked)) {
    return over_limit(input.size()) ? input.size() : 0;
  }
  size_t consumed = 0;
  c.last_interaction_ms = now_ms();
  // Read the limits at every call, as Redis does: CONFIG SET proto-max-bulk-len applies to
  // connected clients too.
  c.parser().set_limits(ParserLimits{.max_bulk_len = settings_->proto_max_bulk_len});
  c.parser().set_authenticated(!AuthRequired(c));
  while (consumed < input.size()) {
    if (c.has(Client::kPaused)) break;
    RequestParser& parser = c.parser();
    auto status = parser.Parse(input.substr(consumed));
    if (status == RequestParser::Status::kNeedMore) {
      if (over_limit(input.size() - consumed)) return input.size();
      break;
    }
    if (status == RequestParser::Status::kError) {
      c.rb().SendError("ERR " + parser.error());
      spdlog::info("Protocol error ({}) from client: id={} addr={}", parser.error(), c.id(),
                   c.transport()->peer_address());
      CloseClient(c, true);
      return input.size();
    }
    size_t used = parser.consumed();
    if (status == RequestParser::Status::kOk) {
      Dispatch(c, parser.args());
      if (c.has(Client::kPaused)) {
        // The command was held back by CLIENT PAUSE: it stays in the buffer.
        break;
      }
      if (c.has(Client::kClosed)) return input.size();
      if (c.has(Client::kBlocked)) {
        // The command ran and waits for a lock; what follows it waits in the buffer.
        consumed += used;
        break;
      }
    }
    consumed += used;
    if (c.has(Client::kCloseAfterReply)) return input.size();
  }
  stats_.total_net_input_bytes += consumed;
  return consumed;
}

bool Server::paused_for(const CommandSpec& cmd) const {
  if (pause_until_ms_ == 0 || now_ms() >= pause_until_ms_) return false;
  if (!pause_writes_only_) return true;
  // CLIENT PAUSE WRITE holds writes and commands that may write (EVAL, PUBLISH, ...).
  return cmd.has(CO::kWrite) || cmd.has(CO::kMayReplicate);
}

bool Server::AuthRequired(const Client& c) const {
  // Redis's authRequired: once requirepass is cleared the default user is "nopass", and a client
  // that connected while a password was required may run commands without AUTH.
  return !c.authenticated && !settings_->requirepass.empty();
}

bool Server::RejectCommand(Client& c, const CommandSpec* cmd, CmdArgs args) {
  if (cmd == nullptr) {
    c.rb().SendError(errors::UnknownCommand(args[0], args.data() + 1, args.size() - 1));
    return true;
  }
  if (!cmd->ArityOk(args.size())) {
    c.rb().SendError(errors::WrongArgs(cmd->full_name()));
    return true;
  }
  if (AuthRequired(c) && !cmd->has(CO::kNoAuth)) {
    c.rb().SendError(errors::kNoAuth);
    return true;
  }
  return false;
}

void Server::Dispatch(Client& c, CmdArgs args) {
  UpdateTime();
  size_t before = c.transport()->output().size();
  const CommandSpec* cmd = registry_.Find(args[0]);
  // A container command dispatches on its subcommand; the subcommand has its own arity.
  if (cmd != nullptr && cmd->is_container() && !(args.size() == 1 && cmd->handler())) {
    if (args.size() == 1) {
      c.rb().SendError(errors::WrongArgs(cmd->full_name()));
      CountErrorReply(c, before);
      cmd->stats().rejected_calls++;
      return FinishReply(c, before);
    }
    const CommandSpec* sub = cmd->FindSubcommand(args[1]);
    if (sub == nullptr) {
      c.rb().SendError(errors::UnknownSubcommand(cmd->name(), args[1]));
      CountErrorReply(c, before);
      cmd->stats().rejected_calls++;
      return FinishReply(c, before);
    }
    cmd = sub;
  }
  if (RejectCommand(c, cmd, args)) {
    CountErrorReply(c, before);
    if (cmd != nullptr) cmd->stats().rejected_calls++;
    return FinishReply(c, before);
  }
  // While a script runs past busy-reply-threshold, other clients get BUSY, except for the few
  // commands that may run then (SCRIPT KILL, FUNCTION KILL, SHUTDOWN, AUTH, ...).
  if (busy_ && busy_->runner != &c && !cmd->has(CO::kAllowBusy)) {
    c.rb().Raw(busy_->function ? "-BUSY Redis is busy running a script. You can only call "
                                 "FUNCTION KILL or SHUTDOWN NOSAVE.\r\n"
                               : "-BUSY Redis is busy running a script. You can only call "
                                 "SCRIPT KILL or SHUTDOWN NOSAVE.\r\n");
    CountErrorReply(c, before);
    cmd->stats().rejected_calls++;
    return FinishReply(c, before);
  }
  // A RESP2 connection with a subscription is a message stream: only the pub/sub commands,
  // PING, QUIT and RESET make sense on it (RESP3 can interleave replies and pushes).
  if (c.resp == 2 && c.subscribed() && !AllowedWhileSubscribed(*cmd)) {
    c.rb().SendError(errors::NotAllowedWhileSubscribed(cmd->full_name()));
    CountErrorReply(c, before);
    cmd->stats().rejected_calls++;
    return FinishReply(c, before);
  }
  // CLIENT LIST shows the command as the client's current one from here on, held or not.
  c.last_command = cmd->full_name();
  if (!c.has(Client::kMonitor) && paused_for(*cmd)) {
    // Hold the client: the command stays in its buffer until the pause ends.
    c.flags |= Client::kPaused;
    c.transport()->SetReading(false);
    paused_clients_.push_back(c.id());
    return;
  }
  Call(c, *cmd, args);
}

std::optional<std::string> Server::CallFromScript(CommandContext& outer, Client& script_client,
                                                  CmdArgs args, bool read_only, int resp,
                                                  bool replicate, std::string* out,
                                                  bool* is_write) {
  // The script flavour of the gatekeeper, with the texts Redis gives a script.
  const CommandSpec* cmd = registry_.FindFor(args);
  if (cmd == nullptr) return std::string("ERR Unknown Redis command called from script");
  if (!cmd->ArityOk(args.size())) {
    return std::string("ERR Wrong number of args calling Redis command from script");
  }
  if (cmd->has(CO::kNoScript)) {
    return std::string("ERR This Redis command is not allowed from script");
  }
  // PUBLISH counts as a write here: Redis marks it may-replicate, which read-only scripts refuse.
  const bool publishes = cmd->full_name() == "publish" || cmd->full_name() == "spublish";
  if (read_only && (cmd->has(CO::kWrite) || cmd->has(CO::kMayReplicate) || publishes)) {
    return std::string("ERR Write commands are not allowed from read-only scripts.");
  }
  if (is_write != nullptr && cmd->has(CO::kWrite)) *is_write = true;
  script_client.set_resp(resp);
  std::string& output = script_client.transport()->output();
  output.clear();
  CallNested(outer, script_client, *cmd, args, replicate);
  out->swap(output);
  output.clear();
  return std::nullopt;
}

bool Server::CallNested(CommandContext& outer, Client& c, const CommandSpec& cmd, CmdArgs args,
                        bool replicate) {
  const std::string& output = c.transport()->output();
  const size_t before = output.size();
  CommandContext ctx(*this, c, cmd);
  int64_t start = clock_->MonotonicUs();
  cmd.handler()(args, ctx);
  cmd.stats().calls++;
  cmd.stats().usec += static_cast<uint64_t>(clock_->MonotonicUs() - start);
  stats_.total_commands_processed++;
  const bool failed = output.size() > before && output[before] == '-';
  if (failed) cmd.stats().failed_calls++;
  outer.AddDirty(ctx.dirty());
  // Collected only when someone receives propagation (AOF, replicas, tests): copying every
  // write's arguments for nobody was a tenth of a short script's cost.
  if (replicate && !sinks_.empty() && !ctx.propagation_prevented()) {
    if (!ctx.propagated().empty()) {
      for (const auto& p : ctx.propagated()) outer.Propagate(p);
    } else if (ctx.dirty() > 0) {
      outer.Propagate(std::vector<std::string>(args.begin(), args.end()));
    }
  }
  return failed;
}

void Server::CountErrorReply(Client& c, size_t at) {
  // INFO errorstats counts by the error's code: the first word after '-'.
  std::string_view err = std::string_view(c.transport()->output()).substr(at + 1);
  stats_.total_error_replies++;
  stats_.error_stats[std::string(err.substr(0, err.find_first_of(" \r")))]++;
}

void Server::FinishReply(Client& c, size_t before) {
  std::string& out = c.transport()->output();
  // CLIENT REPLY OFF/SKIP: the reply is dropped after it was built (statistics saw it). Like
  // Redis, this covers the gatekeeper's refusals too, and a refused command uses up a SKIP.
  switch (c.reply_mode) {
    case Client::ReplyMode::kOn:
      break;
    case Client::ReplyMode::kSkipNext:
      c.reply_mode = Client::ReplyMode::kSkip;
      break;
    case Client::ReplyMode::kSkip:
      out.resize(before);
      c.reply_mode = Client::ReplyMode::kOn;
      break;
    case Client::ReplyMode::kOff:
      out.resize(before);
      break;
  }
  stats_.total_net_output_bytes += out.size() - before;
  // A client's own replies count against its limit too (normal clients: none by default).
  if (out.size() > before) CheckOutputLimit(c);
}

void Server::Call(Client& c, const CommandSpec& cmd, CmdArgs args) {
  std::string& out = c.transport()->output();
  size_t before = out.size();
  CommandContext ctx(*this, c, cmd);
  int64_t start = clock_->MonotonicUs();
  cmd.handler()(args, ctx);
  int64_t duration = clock_->MonotonicUs() - start;

  // Monitors see the command after it ran, with the database it ran in (SELECT shows the new
  // one), as in Redis.
  if (!monitors_.empty() && !cmd.has(CO::kSkipMonitor) && !cmd.has(CO::kAdmin)) {
    FeedMonitors(c, cmd, args);
  }
  cmd.stats().calls++;
  cmd.stats().usec += static_cast<uint64_t>(duration);
  stats_.total_commands_processed++;
  c.commands_processed++;
  if (out.size() > before && out[before] == '-') {
    cmd.stats().failed_calls++;
    CountErrorReply(c, before);
  }
  if (!cmd.has(CO::kSkipSlowlog) && settings_->slowlog_log_slower_than >= 0 &&
      duration >= settings_->slowlog_log_slower_than) {
    AddSlowlog(c, cmd, args, duration);
  }
  CommitEffects(c, ctx, args);
  FinishReply(c, before);
  // A lock released or expired during the command goes to its next waiter now.
  if (locks_->has_ready()) locks_->ServeReady();
}

void Server::CommitEffects(Client& c, CommandContext& ctx, CmdArgs args) {
  stats_.dirty += ctx.dirty();
  if (ctx.propagation_prevented() || sinks_.empty()) return;
  if (!ctx.propagated().empty()) {
    for (const auto& p : ctx.propagated()) {
      for (auto* s : sinks_) s->OnPropagate(c.db, p);
    }
  } else if (ctx.dirty() > 0 && !ctx.propagates_only_collected() && !args.empty()) {
    std::vector<std::string> copy(args.begin(), args.end());
    for (auto* s : sinks_) s->OnPropagate(c.db, copy);
  }
}

void Server::FinishBlockedReply(Client& c, size_t before) {
  FinishReply(c, before);
  ScheduleFlush(c);
}

void Server::ScheduleTimer(int64_t at_ms) {
  if (at_ms >= timer_armed_ms_ || host_ == nullptr) return;
  timer_armed_ms_ = at_ms;
  host_->ArmTimer(std::max<int64_t>(0, at_ms - clock_->NowMs()) * 1000);
}

void Server::RunTimers() {
  timer_armed_ms_ = INT64_MAX;
  // Under a busy script nothing may change what it reads: the cron retries later.
  if (busy_) return;
  UpdateTime();
  int64_t next = locks_->RunTimers(now_ms());
  ProcessDeferred();
  if (next != INT64_MAX) ScheduleTimer(next);
}

namespace {

// Secrets never reach MONITOR or the slow log: AUTH's arguments, HELLO's AUTH user and
// password, and the value of CONFIG SET requirepass (Redis's redactClientCommandArgument).
bool IsRedacted(const CommandSpec& cmd, CmdArgs args, size_t i) {
  const std::string& name = cmd.full_name();
  if (name == "auth") return i >= 1;
  if (name == "hello") {
    for (size_t j = 2; j + 2 < args.size(); j++) {
      if (EqualsIgnoreCase(args[j], "AUTH")) return i == j + 1 || i == j + 2;
    }
  }
  if (name == "config|set") {
    return i >= 3 && i % 2 == 1 && EqualsIgnoreCase(args[i - 1], "requirepass");
  }
  return false;
}

constexpr std::string_view kRedacted = "(redacted)";

}  // namespace

void Server::FeedMonitors(Client& c, const CommandSpec& cmd, CmdArgs args) {
  // +1339518083.107412 [0 127.0.0.1:60866] "keys" "*"
  char head[96];
  int64_t us = clock_->NowUs();
  std::string peer =
      c.has(Client::kUnixSocket) ? "unix:" + settings_->unixsocket : c.transport()->peer_address();
  std::snprintf(head, sizeof(head), "+%lld.%06lld [%d ", static_cast<long long>(us / 1000000),
                static_cast<long long>(us % 1000000), c.db);
  std::string line = head + peer + "]";
  for (size_t i = 0; i < args.size(); i++) {
    line += " ";
    line += Repr(IsRedacted(cmd, args, i) ? kRedacted : args[i]);
  }
  line += "\r\n";
  // A client on its way out gets nothing more (Redis's prepareClientToWrite): a monitor that
  // sent QUIT sees +OK, not its own QUIT. SendToOther skips those.
  for (Client* m : monitors_) SendToOther(*m, line);
}

void Server::AddMonitor(Client& c) {
  if (std::find(monitors_.begin(), monitors_.end(), &c) == monitors_.end()) {
    monitors_.push_back(&c);
  }
  c.flags |= Client::kMonitor;
}

void Server::RemoveMonitor(Client& c) {
  monitors_.erase(std::remove(monitors_.begin(), monitors_.end(), &c), monitors_.end());
  c.flags &= ~Client::kMonitor;
}

void Server::AddSlowlog(Client& c, const CommandSpec& cmd, CmdArgs args, int64_t duration_us) {
  // Redis keeps at most 32 arguments of at most 128 bytes each.
  SlowLogEntry e;
  e.id = next_slowlog_id++;
  e.time_sec = now_ms() / 1000;
  e.duration_us = duration_us;
  size_t n = std::min<size_t>(args.size(), 32);
  for (size_t i = 0; i < n; i++) {
    if (i == 31 && args.size() > 32) {
      e.args.push_back("... (" + std::to_string(args.size() - 31) + " more arguments)");
      break;
    }
    if (IsRedacted(cmd, args, i)) {
      e.args.emplace_back(kRedacted);
    } else if (args[i].size() > 128) {
      e.args.push_back(std::string(args[i].substr(0, 128)) + "... (" +
                       std::to_string(args[i].size() - 128) + " more bytes)");
    } else {
      e.args.emplace_back(args[i]);
    }
  }
  e.peer = c.transport()->peer_address();
  e.client_name = c.name;
  slowlog_.push_front(std::move(e));
  while (slowlog_.size() > static_cast<size_t>(std::max<int64_t>(settings_->slowlog_max_len, 0))) {
    slowlog_.pop_back();
  }
}

void Server::Pause(int64_t until_ms, bool writes_only) {
  // A new pause never shortens an existing one, and ALL wins over WRITE (Redis's rules).
  if (pause_until_ms_ != 0 && now_ms() < pause_until_ms_) {
    pause_until_ms_ = std::max(pause_until_ms_, until_ms);
    pause_writes_only_ = pause_writes_only_ && writes_only;
  } else {
    pause_until_ms_ = until_ms;
    pause_writes_only_ = writes_only;
  }
}

void Server::Unpause() {
  pause_until_ms_ = 0;
  ResumePaused();
}

void Server::ResumePaused() {
  std::vector<uint64_t> ids;
  ids.swap(paused_clients_);
  for (uint64_t id : ids) {
    Client* c = FindClient(id);
    if (c == nullptr) continue;
    c->flags &= ~Client::kPaused;
    c->transport()->SetReading(true);  // re-processes the buffered command
  }
}

void Server::RemovePropagationSink(PropagationSink* sink) {
  sinks_.erase(std::remove(sinks_.begin(), sinks_.end(), sink), sinks_.end());
}

void Server::NotifyKeyspaceEvent(uint32_t type_class, std::string_view event, std::string_view key,
                                 int db) {
  // Redis's notifyKeyspaceEvent: nothing unless the event's class is enabled, then
  // __keyspace@<db>__:<key> carries the event and __keyevent@<db>__:<event> carries the key.
  const uint32_t enabled = settings_->notify_keyspace_events;
  if ((enabled & type_class) == 0) return;
  // Built by appending: g++ 12 at -O3 warns (-Wrestrict, a known false positive) on
  // "literal" + std::string here.
  auto channel_of = [db](std::string_view kind, std::string_view name) {
    std::string channel(kind);
    channel += '@';
    channel += std::to_string(db);
    channel += "__:";
    channel.append(name);
    return channel;
  };
  if (enabled & notify::kKeyspace) {
    std::string channel = channel_of("__keyspace", key);
    pubsub_.Publish(PubSubKind::kChannel, channel, event);
  }
  if (enabled & notify::kKeyevent) {
    std::string channel = channel_of("__keyevent", event);
    pubsub_.Publish(PubSubKind::kChannel, channel, key);
  }
}

void Server::SendToOther(Client& c, std::string_view bytes) {
  if (c.closing()) return;
  c.transport()->output().append(bytes);
  stats_.total_net_output_bytes += bytes.size();
  if (CheckOutputLimit(c)) ScheduleFlush(c);
}

bool Server::CheckOutputLimit(Client& c) {
  // The class decides the limit (Redis's getClientType): a client with a subscription is
  // pubsub, everyone else normal, MONITOR included; replicas arrive with replication.
  ClientClass cls = c.subscribed() ? ClientClass::kPubSub : ClientClass::kNormal;
  const OutputBufferLimit& limit = settings_->client_output_buffer_limit[static_cast<int>(cls)];
  if (limit.hard == 0 && limit.soft == 0) return true;
  // Redis counts only what overflows a client's fixed 16 KB reply buffer (PROTO_REPLY_CHUNK_BYTES)
  // against the limit, so a tiny limit still lets ordinary replies through.
  constexpr int64_t kStaticReplyBuffer = 16 * 1024;
  const int64_t used = std::max<int64_t>(
      0, static_cast<int64_t>(c.transport()->pending_output()) - kStaticReplyBuffer);
  bool over = limit.hard > 0 && used >= limit.hard;
  if (limit.soft > 0 && used >= limit.soft) {
    if (c.obuf_soft_limit_since_ms == 0) c.obuf_soft_limit_since_ms = now_ms();
    over = over || now_ms() - c.obuf_soft_limit_since_ms > limit.soft_seconds * 1000;
  } else {
    c.obuf_soft_limit_since_ms = 0;
  }
  if (!over) return true;
  // Closed once the current command (or fan-out) is over: closing now would unsubscribe it
  // from the very list a PUBLISH is walking.
  static constexpr const char* kClassNames[] = {"normal", "slave", "pubsub"};
  spdlog::warn(
      "Client id={} addr={} scheduled to be closed ASAP for overcoming of output buffer limits "
      "(class {}, {} bytes pending).",
      c.id(), c.transport()->peer_address(), kClassNames[static_cast<int>(cls)], used);
  c.flags |= Client::kCloseAsap;
  close_asap_.push_back(c.id());
  if (host_ != nullptr && !deferred_posted_) {
    deferred_posted_ = true;
    host_->Post([this] { ProcessDeferred(); });
  }
  return false;
}

void Server::ScheduleFlush(Client& c) {
  // Once per batch: a subscriber that receives 16 messages is flushed once.
  if (c.has(Client::kPendingFlush)) return;
  c.flags |= Client::kPendingFlush;
  pending_flush_.push_back(c.id());
  // Work done outside any client's input (the cron's expiry notifications) is flushed by a
  // posted task; work inside a client's input by the session after the batch.
  if (host_ != nullptr && !deferred_posted_) {
    deferred_posted_ = true;
    host_->Post([this] { ProcessDeferred(); });
  }
}

void Server::ProcessDeferred() {
  deferred_posted_ = false;
  std::vector<uint64_t> closing;
  closing.swap(close_asap_);
  for (uint64_t id : closing) {
    if (Client* c = FindClient(id)) CloseClient(*c, false);
  }
  std::vector<uint64_t> flush;
  flush.swap(pending_flush_);
  for (uint64_t id : flush) {
    // Flushing one client cannot close another, but may close itself (a write error); look
    // each one up again.
    if (Client* c = FindClient(id)) {
      c->flags &= ~Client::kPendingFlush;
      c->transport()->Flush();
    }
  }
}

void Server::OnKeyAdded(Database& db, std::string_view key) {
  NotifyKeyspaceEvent(notify::kNew, "new", key, db.index());
}

void Server::OnKeyMiss(Database& db, std::string_view key) {
  NotifyKeyspaceEvent(notify::kKeyMiss, "keymiss", key, db.index());
}

void Server::OnKeyRemoved(Database& db, std::string_view key) {
  locks_->KeyRemoved(db.index(), key);
}

void Server::OnDatabaseReset(Database& db) { locks_->DatabaseReset(db.index()); }

void Server::OnExpired(Database& db, std::string_view key) {
  NotifyKeyspaceEvent(notify::kExpired, "expired", key, db.index());
  // Redis propagates the deletion of an expired key as DEL so replicas and the AOF agree.
  if (!sinks_.empty()) {
    std::vector<std::string> del{"DEL", std::string(key)};
    for (auto* s : sinks_) s->OnPropagate(db.index(), del);
  }
}

void Server::Cron() {
  // Nothing of the cron runs under a busy script (expiring keys would change what it reads).
  if (busy_) return;
  UpdateTime();
  int64_t tick_us = 1000000 / std::max<int64_t>(settings_->hz, 1);
  // Active expiry: at most a quarter of the tick, like Redis's slow cycle (more with
  // active-expire-effort).
  if (active_expire_enabled) {
    int64_t budget = tick_us * (25 + 2 * (settings_->active_expire_effort - 1)) / 100;
    keyspace_->ActiveExpireCycle(budget, *clock_);
  }
  keyspace_->Cron(1000, *clock_);

  // Idle clients (timeout) and the end of a CLIENT PAUSE.
  if (settings_->timeout > 0) {
    int64_t limit = settings_->timeout * 1000;
    std::vector<Client*> idle;
    for (Client* c : clients_) {
      // Blocked clients are waiting on purpose (Redis exempts them from the idle timeout too).
      if (c->has(Client::kMonitor | Client::kPaused | Client::kBlocked)) continue;
      if (now_ms() - c->last_interaction_ms > limit) idle.push_back(c);
    }
    for (Client* c : idle) {
      spdlog::info("Closing idle client id={}", c->id());
      CloseClient(*c, false);
    }
  }
  if (pause_until_ms_ != 0 && now_ms() >= pause_until_ms_) Unpause();
  // Locks that expired above go to their waiters; timers the host missed run too.
  RunTimers();
  locks_->Trim(static_cast<size_t>(settings_->lock_max_records));
  // Expiry notifications sent above, and clients found over their output limits.
  ProcessDeferred();

  // Instantaneous ops/sec, sampled every 100 ms.
  if (now_ms() - stats_.last_sample_ms >= 100) {
    int64_t dt = now_ms() - stats_.last_sample_ms;
    uint64_t ops = stats_.total_commands_processed - stats_.last_sample_ops;
    stats_.ops_samples[stats_.sample_idx] = dt > 0 ? static_cast<int64_t>(ops * 1000 / dt) : 0;
    stats_.sample_idx = (stats_.sample_idx + 1) % ServerStats::kSamples;
    stats_.last_sample_ms = now_ms();
    stats_.last_sample_ops = stats_.total_commands_processed;
  }
}

void Server::ResetStats() {
  uint64_t dirty = stats_.dirty;
  stats_ = ServerStats{};
  stats_.dirty = dirty;
  keyspace_->stats() = KeyspaceStats{};
  for (const CommandSpec* cmd : registry_.all()) {
    cmd->stats() = CommandStats{};
    for (const auto& sub : cmd->subcommands()) sub->stats() = CommandStats{};
  }
}

}  // namespace keyward
