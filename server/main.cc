// keyward-server [config-file] [--option value ...], like redis-server.
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>

#include "server/core/clock.h"
#include "server/core/config.h"
#include "server/metrics/exposition.h"
#include "server/metrics/http_session.h"
#include "server/net/event_loop.h"
#include "server/process/banner.h"
#include "server/process/crash.h"
#include "server/process/daemon.h"
#include "server/process/proc_title.h"
#include "server/process/system.h"
#include "server/server.h"

namespace {

using keyward::LogLevel;

void Usage() {
  std::fprintf(stderr,
               "Usage: ./keyward-server [/path/to/redis.conf] [options] [-]\n"
               "       ./keyward-server - (read config from stdin)\n"
               "       ./keyward-server -v or --version\n"
               "       ./keyward-server -h or --help\n\n"
               "Examples:\n"
               "       ./keyward-server (run the server with default config)\n"
               "       ./keyward-server /etc/redis/6379.conf\n"
               "       ./keyward-server --port 7777\n"
               "       ./keyward-server /etc/myredis.conf --loglevel verbose -\n"
               "       ./keyward-server /etc/myredis.conf --loglevel verbose\n");
}

// Redis marks levels with one character: '.' debug, '-' verbose, '*' notice, '#' warning.
// spdlog's trace/debug/info/warn stand for Redis's debug/verbose/notice/warning.
class RedisLevelFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    char mark = '#';
    switch (msg.level) {
      case spdlog::level::trace:
        mark = '.';
        break;
      case spdlog::level::debug:
        mark = '-';
        break;
      case spdlog::level::info:
        mark = '*';
        break;
      default:
        break;
    }
    dest.push_back(mark);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<RedisLevelFlag>();
  }
};

// Redis's role letter: 'M' for a master, 'S' for a replica (read as each line is written).
class RoleFlag : public spdlog::custom_flag_formatter {
 public:
  static inline const keyward::ServerState* state = nullptr;
  void format(const spdlog::details::log_msg&, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    dest.push_back(state != nullptr && state->replica ? 'S' : 'M');
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<RoleFlag>();
  }
};

void SetupLogging(const keyward::ServerSettings& s) {
  std::shared_ptr<spdlog::logger> logger;
  if (s.logfile.empty()) {
    logger = spdlog::stdout_logger_mt("keyward");
  } else {
    logger = spdlog::basic_logger_mt("keyward", s.logfile);
  }
  // Redis's log line: "<pid>:M 21 Nov 2026 05:24:29.123 * message"
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<RedisLevelFlag>('*');
  formatter->add_flag<RoleFlag>('@').set_pattern(std::to_string(getpid()) +
                                                 ":%@ %d %b %Y %H:%M:%S.%e %* %v");
  logger->set_formatter(std::move(formatter));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  keyward::ApplyLogLevel(s);
}

// The host side of the server: shutdown requests and deferred tasks go to the event loop.
class Host : public keyward::ServerHost {
 public:
  Host(keyward::net::EventLoop& loop, keyward::Server& server) : loop_(loop), server_(server) {}
  void RequestShutdown() override {
    loop_.Post([this] { loop_.Stop(); });
  }
  void Post(std::function<void()> task) override { loop_.Post(std::move(task)); }
  void ProcessEventsWhileBusy() override { loop_.PollOnce(); }
  void HoldOutput() override { loop_.HoldOutput(); }
  void ReleaseOutput() override { loop_.ReleaseOutput(); }
  std::function<void()> Connect(const std::string& host, int port, const std::string& source,
                                keyward::net::SessionFactory factory,
                                std::function<void(const std::string&)> failed) override {
    // tls-replication: the links a server makes (to its master; a sentinel's to every
    // instance) are TLS.
    return loop_.ConnectTcp(host, port, source, server_.settings().tls_replication,
                            std::move(factory), std::move(failed));
  }
  void ArmTimer(int64_t delay_us) override {
    loop_.SetAlarm(std::chrono::microseconds(std::max<int64_t>(delay_us, 0)),
                   [this] { server_.RunTimers(); });
  }

 private:
  keyward::net::EventLoop& loop_;
  keyward::Server& server_;
};

keyward::net::TlsConfig TlsConfigOf(const keyward::ServerSettings& s) {
  keyward::net::TlsConfig c;
  c.cert_file = s.tls_cert_file;
  c.key_file = s.tls_key_file;
  c.key_file_pass = s.tls_key_file_pass;
  c.client_cert_file = s.tls_client_cert_file;
  c.client_key_file = s.tls_client_key_file;
  c.client_key_file_pass = s.tls_client_key_file_pass;
  c.dh_params_file = s.tls_dh_params_file;
  c.ca_cert_file = s.tls_ca_cert_file;
  c.ca_cert_dir = s.tls_ca_cert_dir;
  c.protocols = s.tls_protocols;
  c.ciphers = s.tls_ciphers;
  c.ciphersuites = s.tls_ciphersuites;
  c.prefer_server_ciphers = s.tls_prefer_server_ciphers;
  c.session_caching = s.tls_session_caching;
  c.session_cache_size = s.tls_session_cache_size;
  c.session_cache_timeout = s.tls_session_cache_timeout;
  c.needs_ca = s.tls_auth_clients != static_cast<int>(keyward::net::TlsAuthClients::kNo) ||
               s.tls_replication || s.tls_cluster;
  return c;
}

bool TlsWanted(const keyward::ServerSettings& s) {
  return s.tls_port != 0 || s.tls_replication || s.tls_cluster;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2) {
    std::string_view a = argv[1];
    if (a == "-v" || a == "--version") {
      std::printf("Keyward server v=" KEYWARD_VERSION " redis_version=" KEYWARD_REDIS_VERSION
                  " bits=64\n");
      return 0;
    }
    if (a == "-h" || a == "--help") {
      Usage();
      return 0;
    }
  }
  keyward::Config config;
  keyward::ServerSettings settings;
  // Sentinel mode: a binary named keyward-sentinel, or --sentinel anywhere (as redis-server).
  {
    const char* slash = std::strrchr(argv[0], '/');
    const char* exec_name = slash != nullptr ? slash + 1 : argv[0];
    settings.sentinel_mode = std::strstr(exec_name, "keyward-sentinel") != nullptr;
    for (int j = 1; j < argc; j++) {
      if (std::strcmp(argv[j], "--sentinel") == 0) settings.sentinel_mode = true;
    }
  }
  keyward::Server::DeclareOptions(config, settings);
  try {
    config.LoadArgs(argc, argv);
  } catch (const keyward::ConfigError& e) {
    std::fputs(e.what(), stderr);
    return 1;
  }
  // The process title is written over argv and the environment strings: take them over now
  // (the configuration has been read from argv).
  const std::string title = argv[0];
  keyward::ProcTitle proc_title;
  if (settings.set_proc_title) proc_title.Init(argc, argv);

  // Like redis-server's sanity check after loading the configuration: a log file that cannot be
  // opened is a fatal configuration error (spdlog would otherwise create missing directories,
  // or throw and abort the process on, say, a directory).
  if (!settings.logfile.empty()) {
    FILE* probe = std::fopen(settings.logfile.c_str(), "a");
    if (probe == nullptr) {
      std::fprintf(stderr,
                   "\n*** FATAL CONFIG FILE ERROR (Keyward " KEYWARD_VERSION
                   ") ***\n"
                   "Can't open the log file: %s\n",
                   std::strerror(errno));
      return 1;
    }
    std::fclose(probe);
  }
  try {
    SetupLogging(settings);
  } catch (const spdlog::spdlog_ex& e) {
    std::fprintf(stderr, "Can't set up logging: %s\n", e.what());
    return 1;
  }

  // Daemonized only when no supervisor runs the server (Redis's rule), before any thread starts.
  keyward::Supervision supervision(static_cast<keyward::Supervised>(settings.supervised));
  const bool background = settings.daemonize && supervision.mode() == keyward::Supervised::kNo;
  if (background) keyward::Daemonize();
  if (background && settings.pidfile.empty()) settings.pidfile = "/var/run/redis.pid";

  keyward::SetUpCrashReport(settings);
  settings.on_crash_log_change = [&settings] { keyward::SetUpCrashReport(settings); };
  keyward::DisableTransparentHugePages(settings);
  keyward::OomScore oom_score;
  if (auto err = oom_score.Apply(settings)) spdlog::warn("{}", *err);
  settings.on_oom_score_change = [&] { return oom_score.Apply(settings); };

  keyward::SystemTimeSource time_source;
  keyward::SlewedClock clock(&time_source);
  keyward::net::EventLoop loop;
  keyward::Server server(&clock, &config, &settings);
  RoleFlag::state = &server.state();
  // The config file's users, then the ACL file, once the command table exists (Redis's
  // ACLLoadUsersAtStartup): an error stops the start.
  if (auto error = server.acl().LoadAtStartup()) {
    spdlog::warn("{}", *error);
    return 1;
  }
  keyward::sentinel::Sentinel* sentinel = server.sentinel();
  if (sentinel != nullptr) {
    // A sentinel keeps its state in its configuration file: it must have one it can write.
    if (config.config_file().empty()) {
      spdlog::warn("Sentinel needs config file on disk to save state. Exiting...");
      return 1;
    }
    if (access(config.config_file().c_str(), W_OK) == -1) {
      spdlog::warn("Sentinel config file {} is not writable: {}. Exiting...", config.config_file(),
                   std::strerror(errno));
      return 1;
    }
    if (auto error = sentinel->LoadConfig()) {
      std::fputs(error->c_str(), stderr);
      return 1;
    }
  }
  Host host(loop, server);
  server.set_host(&host);

  using keyward::net::ListenerKind;
  auto factory = [&server](keyward::net::Transport& t) { return server.NewSession(t); };
  keyward::net::ListenOptions options{static_cast<int>(settings.tcp_backlog),
                                      static_cast<int>(settings.tcp_keepalive)};
  // TLS: the contexts before any listener (Redis refuses to start without them when TLS is on).
  loop.tls().set_auth_clients(
      [&settings] { return static_cast<keyward::net::TlsAuthClients>(settings.tls_auth_clients); });
  if (TlsWanted(settings) && loop.tls().Configure(TlsConfigOf(settings))) {
    spdlog::warn("Failed to configure TLS. Check logs for more info.");
    return 1;
  }
  settings.on_tls_change = [&]() -> std::optional<std::string> {
    if (TlsWanted(settings) && loop.tls().Configure(TlsConfigOf(settings))) {
      return std::string("Unable to update TLS configuration. Check server logs.");
    }
    return std::nullopt;
  };
  // Listens on every bind address; false if a mandatory one failed.
  auto listen_tcp = [&](int64_t port, ListenerKind kind,
                        const keyward::net::SessionFactory& sessions = {}) {
    if (port == 0) return true;
    keyward::net::ListenOptions listen = options;
    listen.kind = kind;
    listen.tls = kind == ListenerKind::kTls;
    for (const std::string& raw : settings.bind) {
      // A leading '-' marks an address whose bind failure is not fatal (Redis 7).
      bool optional = !raw.empty() && raw[0] == '-';
      std::string host_addr = optional ? raw.substr(1) : raw;
      auto ec = loop.ListenTcp(host_addr, static_cast<int>(port), listen,
                               sessions ? sessions : keyward::net::SessionFactory(factory));
      if (ec && !optional) {
        spdlog::warn("Warning: Could not create server TCP listening socket {}:{}: {}", host_addr,
                     port, ec.message());
        return false;
      }
    }
    return true;
  };
  if (!listen_tcp(settings.port, ListenerKind::kPlain)) {
    spdlog::error("Failed listening on port {} (TCP), aborting.", settings.port);
    return 1;
  }
  if (!listen_tcp(settings.tls_port, ListenerKind::kTls)) {
    spdlog::error("Failed listening on port {} (TLS), aborting.", settings.tls_port);
    return 1;
  }
  bool listening = settings.port != 0 || settings.tls_port != 0;
  // CONFIG SET port / tls-port: listen on the new port, or go back to the old one if that fails.
  auto relisten = [&](ListenerKind kind, int64_t* port, int64_t* listening_port) {
    return [&, kind, port, listening_port]() -> std::optional<std::string> {
      if (kind == ListenerKind::kTls && *port != 0 && !loop.tls().configured() &&
          loop.tls().Configure(TlsConfigOf(settings))) {
        return std::string("Unable to update TLS configuration. Check server logs.");
      }
      loop.CloseTcpListeners(kind);
      if (listen_tcp(*port, kind)) {
        *listening_port = *port;
        return std::nullopt;
      }
      loop.CloseTcpListeners(kind);
      listen_tcp(*listening_port, kind);
      return std::string("Unable to listen on this port. Check server logs.");
    };
  };
  int64_t listening_port = settings.port;
  int64_t listening_tls_port = settings.tls_port;
  settings.on_port_change = relisten(ListenerKind::kPlain, &settings.port, &listening_port);
  settings.on_tls_port_change =
      relisten(ListenerKind::kTls, &settings.tls_port, &listening_tls_port);
  // The metrics endpoint, on the same addresses.
  if (settings.metrics_port != 0) {
    auto metrics_factory = [&server](keyward::net::Transport& t) {
      return keyward::NewMetricsSession(
          t, [&server] { return keyward::RenderMetrics(server.services()); });
    };
    if (!listen_tcp(settings.metrics_port, ListenerKind::kMetrics, metrics_factory)) {
      spdlog::error("Failed listening on metrics port {} (TCP), aborting.", settings.metrics_port);
      return 1;
    }
  }
  if (!settings.unixsocket.empty()) {
    auto ec = loop.ListenUnix(settings.unixsocket, static_cast<int>(settings.unixsocketperm),
                              options, factory);
    if (ec) {
      spdlog::error("Failed opening Unix socket {}: {}", settings.unixsocket, ec.message());
      return 1;
    }
    listening = true;
  }
  if (!listening) {
    spdlog::error("Configured to not listen anywhere, exiting.");
    return 1;
  }
  // Listening: the pid file says the server is up (Redis writes it after its listeners too).
  if (!settings.pidfile.empty()) keyward::WritePidFile(settings.pidfile);
  // The process title, once the listeners are known (CONFIG SET proc-title-template redoes it).
  auto update_title = [&]() -> std::optional<std::string> {
    if (!settings.set_proc_title) return std::nullopt;
    auto expanded =
        keyward::ExpandProcTitle(settings.proc_title_template,
                                 keyward::ProcTitleVars{title, config.config_file(), &settings});
    if (!expanded) return std::string("template format is invalid or contains unknown variables");
    proc_title.Set(*expanded);
    return std::nullopt;
  };
  update_title();
  settings.on_proc_title_change = update_title;

  // The dataset on disk, if any (clients connecting meanwhile get -LOADING): the AOF when it is
  // on (the RDB file is then ignored, as Redis does), else the RDB file. The AOF's manifest is
  // read either way.
  // A sentinel has no dataset.
  if (sentinel == nullptr) {
    if (auto error = server.aof().StartUp()) {
      spdlog::error("{}", *error);
      return 1;
    }
  }
  if (sentinel == nullptr && !settings.appendonly) {
    if (auto error = server.rdb().LoadAtStartup()) {
      spdlog::error("{}", *error);
      spdlog::error("Fatal error loading the DB, check server logs. Exiting.");
      return 1;
    }
  }

  loop.OnSignals([&](int signo) {
    const char* name = signo == SIGINT ? "SIGINT" : "SIGTERM";
    spdlog::warn("Received {} scheduling shutdown...", name);
    // The AOF synced, then the final snapshot (with save points); if either cannot be done the
    // server stays up, as Redis.
    if (!server.aof().PrepareForShutdown(/*force=*/false) ||
        !server.rdb().SaveOnShutdown(/*save=*/false, /*nosave=*/false)) {
      spdlog::warn(
          "{} received but errors trying to shut down the server, check the logs for "
          "more information",
          name);
      return;
    }
    loop.Stop();
  });
  // The cron runs at `hz`, read after every tick so CONFIG SET hz takes effect at the next one
  // (Redis's serverCron returns 1000/hz). The loop wakes for it `hz` times a second, no more.
  auto cron_period = [&settings] {
    return std::chrono::microseconds(1000000 / std::max<int64_t>(settings.hz, 1));
  };
  loop.Every(cron_period(), [&] {
    server.RunCron();
    return cron_period();
  });

  spdlog::info("Keyward {} (Redis {} compatible) started, pid={}, port={}", KEYWARD_VERSION,
               KEYWARD_REDIS_VERSION, getpid(), settings.port);
  keyward::LogStartupBanner(settings);
  spdlog::info("Ready to accept connections");
  // replicaof in the configuration: connect to the master once the loop runs.
  if (sentinel != nullptr) {
    loop.Post([sentinel] { sentinel->Start(); });
  } else {
    loop.Post([&server] { server.replication().Start(); });
  }
  supervision.Ready();
  loop.Run();

  spdlog::warn("User requested shutdown...");
  supervision.Stopping();
  loop.CloseListeners();
  if (!settings.pidfile.empty()) unlink(settings.pidfile.c_str());
  server.keyspace().lazy_freer().Drain();
  spdlog::warn("Keyward is now ready to exit, bye bye...");
  spdlog::shutdown();
  return 0;
}
