// keyward: the command line of Keyward's coordination library.
//
//   keyward lock NAME [--ttl MS] [--wait MS] -- CMD ARGS...   run CMD while holding the lock
//   keyward elect NAME --value V -- CMD ARGS...                run CMD while leader
//   keyward observe NAME                                       print every leader change
//   keyward status NAME                                        what each server says
//
// Servers come from --servers redis://a,redis://b,... or KEYWARD_SERVERS (default
// redis://127.0.0.1:6379). Exit codes are in child.h and docs/cli.md.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "child.h"
#include "keyward/redlock/election.h"
#include "keyward/redlock/redlock.h"
#include "status.h"

namespace {

using keyward::redlock::Error;
using keyward::redlock::LockError;
using Millis = std::chrono::milliseconds;
namespace cli = keyward::cli;

struct Common {
  std::string servers;
  int64_t ttl_ms = 10000;
  int64_t wait_ms = -1;  // -1: do not wait; 0: wait forever
  int64_t grace_ms = 5000;
  int64_t timeout_ms = 50;
  std::string source_address;  // "": the kernel chooses
  std::vector<std::string> command;
};

// Comma-separated URLs. A piece without a scheme continues the URL before it: the sentinels of a
// redis+sentinel:// group are comma-separated too (redis+sentinel://h1:26379,h2:26379/mymaster).
std::vector<std::string> SplitServers(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    if (comma > start) {
      std::string piece = list.substr(start, comma - start);
      if (piece.find("://") == std::string::npos && !out.empty()) {
        out.back() += "," + piece;
      } else {
        out.push_back(std::move(piece));
      }
    }
    start = comma + 1;
  }
  return out;
}

std::vector<std::string> Servers(const Common& c) {
  if (!c.servers.empty()) return SplitServers(c.servers);
  if (const char* env = std::getenv("KEYWARD_SERVERS"); env != nullptr && *env != '\0') {
    return SplitServers(env);
  }
  return {"redis://127.0.0.1:6379"};
}

keyward::redlock::RedlockOptions RedlockOptionsOf(const Common& c) {
  keyward::redlock::RedlockOptions options;
  options.instance_timeout = Millis(c.timeout_ms);
  if (!c.source_address.empty()) {
    options.configure = [address = c.source_address](keyward::client::ClientOptions& o) {
      o.connection.source_address = address;
    };
  }
  return options;
}

// Why a lock or leadership could not be had, as an exit code.
int ExitCodeOf(const Error& e) {
  if (e == LockError::kHeldByOther || e == LockError::kTimedOut) return cli::kExitNotAcquired;
  if (e == LockError::kNoQuorum) return cli::kExitUnavailable;
  if (e == LockError::kInvalidArgument) return cli::kExitUsage;
  return 1;
}

int Fail(const char* what, const Error& e) {
  std::fprintf(stderr, "keyward: %s: %s\n", what, e.message().c_str());
  return ExitCodeOf(e);
}

// Runs the child with `env` until it exits, `child.RequestStop()` (the loss callback) ends it,
// or the lease was not renewed a grace period before its validity ends. The grace period is at
// most half the TTL: a healthy lease always has more validity left than that (it renews every
// third of the TTL).
int RunChild(cli::Child& child, const Common& c,
             const std::vector<std::pair<std::string, std::string>>& env,
             const keyward::redlock::Lease& lease, bool* stopped) {
  const cli::Child::ValidUntil valid_until = [&lease] { return lease.valid_until(); };
  if (std::error_code ec = child.Start(c.command, env, valid_until)) {
    std::fprintf(stderr, "keyward: cannot run %s: %s\n", c.command[0].c_str(),
                 ec.message().c_str());
    if (child.pid() < 0) return cli::kExitCannotExecute;
  }
  const Millis grace = std::min(Millis(c.grace_ms), Millis(c.ttl_ms / 2));
  return child.Wait(grace, stopped, valid_until);
}

int LockCommand(const std::string& name, const Common& c) {
  cli::Child child;
  keyward::redlock::Redlock redlock(Servers(c), RedlockOptionsOf(c));
  keyward::redlock::AcquireOptions acquire;
  acquire.ttl = Millis(c.ttl_ms);
  acquire.retry_count = 0;
  if (c.wait_ms >= 0) {
    acquire.wait = c.wait_ms == 0 ? keyward::redlock::kWaitForever : Millis(c.wait_ms);
  }
  keyward::redlock::LeaseOptions lease_options;
  lease_options.on_lost = [&child, name](const Error& e) {
    std::fprintf(stderr, "keyward: lease on %s lost: %s; stopping the command\n", name.c_str(),
                 e.message().c_str());
    child.RequestStop();
  };
  auto lease = redlock.AcquireLease(name, acquire, std::move(lease_options));
  if (!lease) return Fail(("could not acquire " + name).c_str(), lease.error());
  std::vector<std::pair<std::string, std::string>> env = {{"KEYWARD_LOCK_RESOURCE", name},
                                                          {"KEYWARD_LOCK_OWNER", lease->owner()}};
  if (auto token = lease->fencing_token()) {
    env.emplace_back("KEYWARD_FENCING_TOKEN", std::to_string(*token));
  } else {
    std::fprintf(stderr, "keyward: %s: no fencing token (%s)\n", name.c_str(),
                 token.error().message().c_str());
  }
  bool stopped = false;
  int code = RunChild(child, c, env, *lease, &stopped);
  if (stopped) return cli::kExitLeaseLost;
  if (Error e = redlock.Release(*lease); e && e != LockError::kNotHeld) {
    std::fprintf(stderr, "keyward: releasing %s: %s\n", name.c_str(), e.message().c_str());
  }
  return code;
}

int ElectCommand(const std::string& name, const std::string& value, const Common& c) {
  cli::Child child;
  keyward::redlock::Redlock redlock(Servers(c), RedlockOptionsOf(c));
  keyward::redlock::ElectionOptions options;
  options.ttl = Millis(c.ttl_ms);
  options.on_lost = [&child, name](const Error& e) {
    std::fprintf(stderr, "keyward: leadership of %s lost: %s; stopping the command\n", name.c_str(),
                 e.message().c_str());
    child.RequestStop();
  };
  keyward::redlock::Election election(redlock.async(), name, options);
  Millis wait = c.wait_ms > 0 ? Millis(c.wait_ms) : keyward::redlock::kWaitForever;
  auto leadership = redlock.Run(election.Campaign(value, wait));
  if (!leadership) return Fail(("could not become leader of " + name).c_str(), leadership.error());
  const std::string term = std::to_string(leadership->term());
  std::vector<std::pair<std::string, std::string>> env = {
      {"KEYWARD_ELECTION", name}, {"KEYWARD_TERM", term}, {"KEYWARD_FENCING_TOKEN", term}};
  bool stopped = false;
  int code = RunChild(child, c, env, leadership->lease(), &stopped);
  if (stopped) return cli::kExitLeaseLost;
  if (Error e = redlock.Run(leadership->Resign()); e && e != LockError::kNotHeld) {
    std::fprintf(stderr, "keyward: resigning %s: %s\n", name.c_str(), e.message().c_str());
  }
  return code;
}

int ObserveCommand(const std::string& name, const Common& c, bool once) {
  keyward::redlock::Redlock redlock(Servers(c), RedlockOptionsOf(c));
  keyward::redlock::Election election(redlock.async(), name);
  keyward::redlock::Observer observer = election.Observe();
  while (true) {
    auto leader = redlock.Run(observer.Next());
    if (!leader) {
      std::fprintf(stderr, "keyward: observing %s: %s\n", name.c_str(),
                   leader.error().message().c_str());
      if (once) return ExitCodeOf(leader.error());
      continue;
    }
    if (!leader->has_value()) {
      std::printf("none\n");
    } else {
      const auto& l = **leader;
      std::printf("term=%llu value=%s owner=%s\n", static_cast<unsigned long long>(l.term),
                  l.value ? l.value->c_str() : "-", l.owner.c_str());
    }
    std::fflush(stdout);
    if (once) return 0;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "keyward: locks, fencing tokens and leader election over Keyward (or Redis) servers"};
  app.require_subcommand(1);
  Common c;
  auto add_servers = [&](CLI::App* sub) {
    sub->add_option("--servers", c.servers,
                    "Comma-separated server URLs (redis://[:password@]host:port[/db], "
                    "rediss://, unix://, redis+sentinel://host:port[,host:port...]/master-name "
                    "for a sentinel-managed group); default $KEYWARD_SERVERS or "
                    "redis://127.0.0.1:6379");
    sub->add_option("--timeout", c.timeout_ms, "Per-server request timeout in ms")
        ->capture_default_str();
    sub->add_option("--source-addr", c.source_address,
                    "Local address the connections to the servers come from (as Redis's "
                    "bind-source-addr)");
  };
  std::string name, value;
  bool once = false;

  CLI::App* lock = app.add_subcommand("lock", "Run a command while holding a lock");
  lock->add_option("name", name, "The lock (resource) name")->required();
  lock->add_option("--ttl", c.ttl_ms, "Lease in ms, renewed every third of it")
      ->capture_default_str();
  lock->add_option("--wait", c.wait_ms,
                   "Wait up to this many ms for the lock (0: forever); default: fail at once");
  lock->add_option("--grace", c.grace_ms,
                   "Ms between SIGTERM and SIGKILL when the lease is lost or not renewed in "
                   "time (at most half the TTL)")
      ->capture_default_str();
  lock->add_option("command", c.command, "The command and its arguments, after --")->required();
  add_servers(lock);

  CLI::App* elect =
      app.add_subcommand("elect", "Campaign for leadership, run a command while leader");
  elect->add_option("name", name, "The election name")->required();
  elect->add_option("--value", value, "The value to advertise (address, id)")->required();
  elect->add_option("--ttl", c.ttl_ms, "Leader's lease in ms")->capture_default_str();
  elect->add_option("--wait", c.wait_ms, "Give up campaigning after this many ms (default: never)");
  elect
      ->add_option("--grace", c.grace_ms,
                   "Ms between SIGTERM and SIGKILL when leadership is lost or not renewed in "
                   "time (at most half the TTL)")
      ->capture_default_str();
  elect->add_option("command", c.command, "The command and its arguments, after --")->required();
  add_servers(elect);

  CLI::App* observe = app.add_subcommand("observe", "Print the leader, then every change");
  observe->add_option("name", name, "The election name")->required();
  observe->add_flag("--once", once, "Print the current leader and exit");
  add_servers(observe);

  CLI::App* status = app.add_subcommand("status", "Show what each server says about a lock");
  status->add_option("name", name, "The lock (resource) or election name")->required();
  add_servers(status);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : cli::kExitUsage;
  }
  try {
    if (lock->parsed() || elect->parsed()) {
      // Before any thread exists (the Redlock's): signals for the child reach the signalfd.
      if (std::error_code ec = cli::Child::PrepareSignals()) {
        std::fprintf(stderr, "keyward: %s\n", ec.message().c_str());
        return 1;
      }
      return lock->parsed() ? LockCommand(name, c) : ElectCommand(name, value, c);
    }
    if (observe->parsed()) return ObserveCommand(name, c, once);
    return cli::PrintStatus(Servers(c), name, Millis(std::max<int64_t>(c.timeout_ms, 1000)));
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "keyward: %s\n", e.what());
    return cli::kExitUsage;
  }
}
