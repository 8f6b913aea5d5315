// The server object: owns the configuration, the clock, the keyspace, the command table and the
// connected clients, and runs each command through the gatekeeper. It reaches the network only
// through net::Transport / net::Session, so tests run it in-process with no socket.
#pragma once

#include <climits>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "server/commands/command.h"
#include "server/commands/registry.h"
#include "server/core/client.h"
#include "server/core/clock.h"
#include "server/core/config.h"
#include "server/core/settings.h"
#include "server/keyspace/keyspace.h"
#include "server/net/transport.h"
#include "server/pubsub/pubsub.h"

namespace keyward {

class CommandContext;
class FunctionEngine;
class LockManager;
class LuaEngine;

// Sets the process's log level from `loglevel` (start-up and CONFIG SET).
void ApplyLogLevel(const ServerSettings& settings);

struct ServerStats {
  uint64_t total_connections_received = 0;
  uint64_t total_commands_processed = 0;
  uint64_t rejected_connections = 0;
  uint64_t total_net_input_bytes = 0;
  uint64_t total_net_output_bytes = 0;
  uint64_t total_error_replies = 0;
  uint64_t unexpected_error_replies = 0;
  uint64_t client_query_buffer_limit_disconnections = 0;
  uint64_t dirty = 0;  // changes since start (persistence will reset it on save)
  std::map<std::string, uint64_t> error_stats;  // "ERR" -> count
  // Instantaneous ops/sec: samples taken by the cron.
  static constexpr int kSamples = 16;
  int64_t ops_samples[kSamples] = {};
  int sample_idx = 0;
  int64_t last_sample_ms = 0;
  uint64_t last_sample_ops = 0;
};

struct SlowLogEntry {
  uint64_t id;
  int64_t time_sec;
  int64_t duration_us;
  std::vector<std::string> args;
  std::string peer;
  std::string client_name;
};

// Receives every command the server propagates (AOF and replication, in later issues; tests).
class PropagationSink {
 public:
  virtual ~PropagationSink() = default;
  virtual void OnPropagate(int db, const std::vector<std::string>& args) = 0;
};

// What the server asks of its host process (main.cc): shut down, sleep without serving.
class ServerHost {
 public:
  virtual ~ServerHost() = default;
  virtual void RequestShutdown() = 0;
  // Defer a task to the next event loop iteration.
  virtual void Post(std::function<void()> task) = 0;
  // Serves other connections' ready input once, without blocking, while a script runs past
  // busy-reply-threshold (Redis's processEventsWhileBlocked). Timers do not run.
  virtual void ProcessEventsWhileBusy() {}
  // Asks for Server::RunTimers() after `delay_us` microseconds; a later request replaces an
  // earlier one (the server always asks for its earliest deadline).
  virtual void ArmTimer(int64_t delay_us) {}
};

// A script running past busy-reply-threshold, as the gatekeeper and SCRIPT/FUNCTION KILL see it.
struct BusyScript {
  Client* runner = nullptr;     // its client: the only one not served meanwhile
  bool function = false;        // FCALL (FUNCTION KILL) rather than EVAL (SCRIPT KILL)
  const bool* wrote = nullptr;  // has run a write command: it cannot be killed
  bool* kill = nullptr;         // set by SCRIPT KILL / FUNCTION KILL / SHUTDOWN
  std::string name;             // the function's name (FUNCTION STATS)
  std::vector<std::string> command;
  int64_t start_ms = 0;
};

class Server : public KeyspaceListener {
 public:
  Server(Clock* clock, Config* config, ServerSettings* settings);
  ~Server() override;

  // Declares every option of redis.conf that Keyward understands (server_config.cc).
  static void DeclareOptions(Config& config, ServerSettings& settings);

  Clock& clock() { return *clock_; }
  Config& config() { return *config_; }
  ServerSettings& settings() { return *settings_; }
  Keyspace& keyspace() { return *keyspace_; }
  const CommandRegistry& registry() const { return registry_; }
  ServerStats& stats() { return stats_; }
  void set_host(ServerHost* host) { host_ = host; }
  ServerHost* host() { return host_; }
  std::mt19937_64& rng() { return rng_; }
  const std::string& run_id() const { return run_id_; }
  int64_t start_time_ms() const { return start_time_ms_; }
  int64_t now_ms() const { return keyspace_->now_ms(); }

  // Connections.
  std::unique_ptr<net::Session> NewSession(net::Transport& transport);
  Client* FindClient(uint64_t id);
  const std::list<Client*>& clients() const { return clients_; }
  size_t client_count() const { return clients_.size(); }
  void CloseClient(Client& c, bool after_reply);

  // Processes the commands in `input`; returns the bytes consumed (used by the session).
  size_t ProcessInput(Client& c, std::string_view input);
  // The gatekeeper and the call: lookup, arity, auth, pause, execute, statistics, propagation.
  void Dispatch(Client& c, CmdArgs args);

  // CLIENT PAUSE / UNPAUSE.
  void Pause(int64_t until_ms, bool writes_only);
  void Unpause();
  bool paused_for(const CommandSpec& cmd) const;

  // MONITOR feed and the slow log.
  void AddMonitor(Client& c);
  void RemoveMonitor(Client& c);
  std::deque<SlowLogEntry>& slowlog() { return slowlog_; }
  void ResetSlowlog() { slowlog_.clear(); }

  void AddPropagationSink(PropagationSink* sink) { sinks_.push_back(sink); }
  void RemovePropagationSink(PropagationSink* sink);

  // Runs one command for a script (redis.call): Redis's script checks (unknown command, arity,
  // noscript, writes in read-only scripts) give the returned error text; otherwise the reply,
  // in the script's protocol, lands in `out`, and what the command would propagate is added to
  // `outer` (the EVAL's context) unless `replicate` is off.
  std::optional<std::string> CallFromScript(CommandContext& outer, Client& script_client,
                                            CmdArgs args, bool read_only, int resp, bool replicate,
                                            std::string* out, bool* is_write = nullptr);
  // Runs `cmd` inside another command (a script's redis.call, LOCK.GUARD): its reply goes to
  // `c`'s output, it counts in the command statistics, and its dirty count and what it would
  // propagate are added to `outer` (unless `replicate` is off). True when it replied an error.
  bool CallNested(CommandContext& outer, Client& c, const CommandSpec& cmd, CmdArgs args,
                  bool replicate);
  LuaEngine& lua();
  FunctionEngine& functions();
  // The script past busy-reply-threshold, if any (set and cleared by the scripting engines).
  BusyScript* busy_script() { return busy_ ? &*busy_ : nullptr; }
  void set_busy_script(std::optional<BusyScript> busy) { busy_ = busy; }
  // SHUTDOWN was requested: a running script is stopped at its next check.
  bool shutting_down() const { return shutting_down_; }
  void set_shutting_down() { shutting_down_ = true; }

  // Native locks: fencing records and waiters (server/coordination).
  LockManager& locks() { return *locks_; }
  // A command's effects outside its reply: the dirty count and propagation (what the command
  // collected, else `args` as received when it wrote). Call and the lock waiters use it.
  void CommitEffects(Client& c, CommandContext& ctx, CmdArgs args = {});
  // The reply of a blocked client written from output offset `before` on: CLIENT REPLY modes,
  // output limits, and a flush once the current batch is done.
  void FinishBlockedReply(Client& c, size_t before);
  // Timers in server time (unix ms): the host is asked to call RunTimers() by then.
  void ScheduleTimer(int64_t at_ms);
  void RunTimers();

  // Pub/sub and keyspace notifications (notify-keyspace-events decides what is published).
  PubSub& pubsub() { return pubsub_; }
  const PubSub& pubsub() const { return pubsub_; }
  void NotifyKeyspaceEvent(uint32_t type_class, std::string_view event, std::string_view key,
                           int db);

  // Output to a client other than the one running the command (pub/sub messages, MONITOR):
  // appended unless the client is closing, checked against its output buffer limit, and
  // flushed once the current batch of work is done.
  void SendToOther(Client& c, std::string_view bytes);
  // Closes clients over their output buffer limit and flushes the others that received output;
  // runs after each batch of input and each cron tick.
  void ProcessDeferred();
  // WATCH and client tracking hook (later issues).
  void SignalModifiedKey(Database& db, std::string_view key) {}

  // Periodic work at `hz`: active expiry, rehashing, client timeouts, statistics.
  void Cron();
  // Takes a new command-time snapshot of the clock.
  void UpdateTime() { keyspace_->set_now_ms(clock_->NowMs()); }

  // Debug switches (DEBUG SET-ACTIVE-EXPIRE).
  bool active_expire_enabled = true;
  uint64_t next_slowlog_id = 0;

  // KeyspaceListener
  void OnExpired(Database& db, std::string_view key) override;
  void OnKeyAdded(Database& db, std::string_view key) override;
  void OnKeyMiss(Database& db, std::string_view key) override;
  void OnKeyRemoved(Database& db, std::string_view key) override;
  void OnDatabaseReset(Database& db) override;

  // Resets INFO statistics (CONFIG RESETSTAT).
  void ResetStats();

 private:
  void RegisterCommands();
  void Call(Client& c, const CommandSpec& cmd, CmdArgs args);
  // After a command's reply (or refusal) was built from `before` on: CLIENT REPLY modes and the
  // output byte count.
  void FinishReply(Client& c, size_t before);
  // Counts the error reply written at output offset `at` (total and per code).
  void CountErrorReply(Client& c, size_t at);
  void FeedMonitors(Client& c, const CommandSpec& cmd, CmdArgs args);
  void AddSlowlog(Client& c, const CommandSpec& cmd, CmdArgs args, int64_t duration_us);
  bool RejectCommand(Client& c, const CommandSpec* cmd, CmdArgs args);
  bool AuthRequired(const Client& c) const;
  void ResumePaused();
  // client-output-buffer-limit: false (and the client is scheduled for closing) when over.
  bool CheckOutputLimit(Client& c);
  void ScheduleFlush(Client& c);

  Clock* clock_;
  Config* config_;
  ServerSettings* settings_;
  std::unique_ptr<Keyspace> keyspace_;
  CommandRegistry registry_;
  ServerStats stats_;
  ServerHost* host_ = nullptr;
  std::mt19937_64 rng_;
  std::string run_id_;
  int64_t start_time_ms_;

  uint64_t next_client_id_ = 1;
  std::list<Client*> clients_;
  std::unordered_map<uint64_t, Client*> clients_by_id_;
  std::vector<Client*> monitors_;
  std::deque<SlowLogEntry> slowlog_;
  std::vector<PropagationSink*> sinks_;
  PubSub pubsub_;
  std::unique_ptr<LuaEngine> lua_;             // created on first use
  std::unique_ptr<FunctionEngine> functions_;  // created on first use
  std::optional<BusyScript> busy_;
  std::unique_ptr<LockManager> locks_;
  int64_t timer_armed_ms_ = INT64_MAX;  // the deadline the host was last asked to wake us at
  bool shutting_down_ = false;
  std::vector<uint64_t> pending_flush_;  // clients that received output from others
  std::vector<uint64_t> close_asap_;     // clients over their output buffer limit
  bool deferred_posted_ = false;

  int64_t pause_until_ms_ = 0;
  bool pause_writes_only_ = false;
  std::vector<uint64_t> paused_clients_;
};

}  // namespace keyward
