// The sentinel's configuration: `sentinel ...` lines read at start-up, the instances they
// create, and the state written back into the file (fsynced) on every change, so that a
// restarted sentinel keeps its id, its epochs and votes, and the replicas and sentinels it knew.
#include <arpa/inet.h>
#include <netdb.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "server/core/strings.h"
#include "server/sentinel/sentinel.h"

namespace keyward::sentinel {

namespace {

// Lines applied before the monitors (Redis's preMonitorCfgName).
bool IsPreMonitor(const std::string& name) {
  for (const char* n :
       {"announce-ip", "announce-port", "deny-scripts-reconfig", "sentinel-user", "sentinel-pass",
        "current-epoch", "myid", "resolve-hostnames", "announce-hostnames"}) {
    if (EqualsIgnoreCase(name, n)) return true;
  }
  return false;
}

}  // namespace

const char* FailoverStateName(FailoverState state) {
  switch (state) {
    case FailoverState::kNone:
      return "none";
    case FailoverState::kWaitStart:
      return "wait_start";
    case FailoverState::kSelectSlave:
      return "select_slave";
    case FailoverState::kSendSlaveofNoone:
      return "send_slaveof_noone";
    case FailoverState::kWaitPromotion:
      return "wait_promotion";
    case FailoverState::kReconfSlaves:
      return "reconf_slaves";
    case FailoverState::kUpdateConfig:
      return "update_config";
  }
  return "unknown";
}

int64_t LeadingInt(std::string_view s) { return std::strtoll(std::string(s).c_str(), nullptr, 10); }

uint64_t LeadingUint(std::string_view s) {
  return std::strtoull(std::string(s).c_str(), nullptr, 10);
}

bool SameAddr(const Addr& a, const Addr& b) {
  return a.port == b.port && EqualsIgnoreCase(a.ip, b.ip);
}

bool SameAddrOrHostname(const Addr& a, const Addr& b) {
  return a.port == b.port && (a.ip == b.ip || EqualsIgnoreCase(a.hostname, b.hostname));
}

void Sentinel::SetDownAfter(Instance& master, int64_t ms) {
  master.down_after_period = ms;
  for (auto* table : {&master.slaves, &master.sentinels}) {
    for (auto& [k, i] : *table) i->down_after_period = ms;
  }
}

Sentinel::Sentinel(Parts parts) : p_(parts) {
  previous_time_ = now();
  p_.settings.sentinel_rewrite = [this] { return RewriteLines(); };
}

Sentinel::~Sentinel() {
  p_.settings.sentinel_rewrite = nullptr;
  if (timer_ != Timers::kNone) p_.timers.Cancel(timer_);
}

std::optional<Addr> Sentinel::MakeAddr(const std::string& host, int port, bool accept_unresolved,
                                       int* error) const {
  if (port < 0 || port > 65535) {
    *error = EINVAL;
    return std::nullopt;
  }
  // A name with spaces, control characters or commas is no host name (it would also break the
  // config file's lines and the hello messages it is written into).
  if (host.empty() || std::any_of(host.begin(), host.end(), [](unsigned char c) {
        return c <= ' ' || c == ',' || c == '"' || c == '\'' || c == 0x7f;
      })) {
    *error = ENOENT;
    return std::nullopt;
  }
  Addr addr{host, "", port};
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (!globals_.resolve_hostnames) hints.ai_flags = AI_NUMERICHOST;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || res == nullptr) {
    spdlog::warn("Failed to resolve hostname '{}'", host);
    if (globals_.resolve_hostnames && accept_unresolved) return addr;
    *error = ENOENT;
    return std::nullopt;
  }
  char ip[INET6_ADDRSTRLEN] = {};
  if (res->ai_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr, ip, sizeof(ip));
  } else {
    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(res->ai_addr)->sin6_addr, ip, sizeof(ip));
  }
  freeaddrinfo(res);
  addr.ip = ip;
  return addr;
}

std::string Sentinel::AddrKey(const std::string& host, int port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

const std::string& Sentinel::Announce(const Addr& addr) const {
  return globals_.announce_hostnames ? addr.hostname : addr.ip;
}

const char* Sentinel::CreateError(int error, uint32_t role) {
  switch (error) {
    case EBUSY:
      if (role == kMaster) return "Duplicate master name.";
      if (role == kSlave) return "Duplicate hostname and port for replica.";
      return "Duplicate runid for sentinel.";
    case ENOENT:
      return "Can't resolve instance hostname.";
    case EINVAL:
      return "Invalid port number.";
    default:
      return "Unknown Error for creating instances.";
  }
}

std::shared_ptr<Instance> Sentinel::CreateInstance(const std::string& name, uint32_t flags,
                                                   const std::string& host, int port,
                                                   unsigned quorum, Instance* master, int* error) {
  auto addr = MakeAddr(host, port, /*accept_unresolved=*/true, error);
  if (!addr) return nullptr;
  const std::string key = (flags & kSlave) ? AddrKey(Announce(*addr), addr->port) : name;
  Instances& table = (flags & kMaster)  ? masters_
                     : (flags & kSlave) ? master->slaves
                                        : master->sentinels;
  if (table.count(key)) {
    *error = EBUSY;
    return nullptr;
  }
  const int64_t t = now();
  auto ri = std::make_shared<Instance>();
  ri->flags = flags;
  ri->name = key;
  ri->addr = *addr;
  ri->link = std::make_shared<InstanceLink>();
  // As if a PING was just sent: an instance never reached is timed out from now.
  ri->link->act_ping_time = t;
  ri->link->last_avail_time = t;
  ri->link->last_pong_time = t;
  ri->last_pub_time = t;
  ri->last_hello_time = t;
  ri->last_master_down_reply_time = t;
  ri->down_after_period =
      master != nullptr ? master->down_after_period : timing_.default_down_after;
  ri->quorum = quorum;
  ri->master = master;
  ri->failover_timeout = timing_.default_failover_timeout;
  ri->role_reported = flags & (kMaster | kSlave);
  ri->role_reported_time = t;
  ri->slave_conf_change_time = t;
  table[key] = ri;
  return ri;
}

Instance* Sentinel::FindMaster(std::string_view name) const {
  auto it = masters_.find(std::string(name));
  return it == masters_.end() ? nullptr : it->second.get();
}

std::optional<std::string> Sentinel::LoadConfig() {
  std::vector<const std::vector<std::string>*> order;
  for (int pass = 0; pass < 3; pass++) {
    for (const auto& argv : p_.settings.sentinel_lines) {
      const bool monitor = EqualsIgnoreCase(argv[0], "monitor");
      const int kind = monitor ? 1 : IsPreMonitor(argv[0]) ? 0 : 2;
      if (kind == pass) order.push_back(&argv);
    }
  }
  for (const auto* argv : order) {
    if (auto err = HandleConfigLine(*argv)) {
      std::string line = "sentinel";
      for (const auto& a : *argv) line += " " + a;
      return "\n*** FATAL CONFIG FILE ERROR (Keyward " KEYWARD_VERSION ") ***\n>>> '" + line +
             "'\n" + *err + "\n";
    }
  }
  p_.settings.sentinel_lines.clear();
  return std::nullopt;
}

std::optional<std::string> Sentinel::HandleConfigLine(const std::vector<std::string>& argv) {
  const size_t argc = argv.size();
  auto is = [&](const char* name, size_t n) {
    return EqualsIgnoreCase(argv[0], name) && argc == n;
  };
  auto master = [&]() -> Instance* { return FindMaster(argv[1]); };
  constexpr const char* kNoMaster = "No such master with specified name.";
  int error = 0;
  if (is("monitor", 5)) {
    const int64_t quorum = LeadingInt(argv[4]);
    if (quorum <= 0) return "Quorum must be 1 or greater.";
    if (!CreateInstance(argv[1], kMaster, argv[2], static_cast<int>(LeadingInt(argv[3])),
                        static_cast<unsigned>(quorum), nullptr, &error)) {
      return CreateError(error, kMaster);
    }
  } else if (is("down-after-milliseconds", 3)) {
    Instance* ri = master();
    if (!ri) return kNoMaster;
    SetDownAfter(*ri, LeadingInt(argv[2]));
    if (ri->down_after_period <= 0) return "negative or zero time parameter.";
  } else if (is("failover-timeout", 3)) {
    Instance* ri = master();
    if (!ri) return kNoMaster;
    ri->failover_timeout = LeadingInt(argv[2]);
    if (ri->failover_timeout <= 0) return "negative or zero time parameter.";
  } else if (is("parallel-syncs", 3)) {
    Instance* ri = master();
    if (!ri) return kNoMaster;
    ri->parallel_syncs = LeadingInt(argv[2]);
  } else if (is("notification-script", 3)) {
    Instance* ri = master();
    if (!ri) return kNoMaster;
    if (access(argv[2].c_str(), X_OK) == -1) {
      return "Notification script seems non existing or non executable.";
    }
    ri->notification_script = argv[2];
  } else if (is("client-reconfig-script", 3)) {
    Instance* ri = master();
    if (!ri) return kNoMaster;
    if (access(argv[2].c_str(), X_OK) == -1) {
      return "Client reconfiguration script seems non existing or non executable.";
    }
    ri->client_reconfig_script = argv[2];
  } else if (is("auth-pass", 3)) {
    Instance* ri = master();
    if (!ri) return kNoMaster;
    ri->auth_pass = argv[2];
  } else if (is("auth-user", 3)) {
    Instance* ri = master();
    if (!ri) return kNoMaster;
    ri->auth_user = argv[2];
  } else if (is("current-epoch", 2)) {
    current_epoch_ = std::max(current_epoch_, LeadingUint(argv[1]));
  } else if (is("myid", 2)) {
    if (argv[1].size() != 40) return "Malformed Sentinel id in myid option.";
    myid_ = argv[1];
  } else if (is("config-epoch", 3)) {
    Instance* ri = master();
    if (!ri) return kNoMaster;
    ri->config_epoch = LeadingUint(argv[2]);
    current_epoch_ = std::max(current_epoch_, ri->config_epoch);
  } else if (is("leader-epoch", 3)) {
    Instance* ri = master();
    if (!ri) return kNoMaster;
    ri->leader_epoch = LeadingUint(argv[2]);
  } else if ((EqualsIgnoreCase(argv[0], "known-slave") ||
              EqualsIgnoreCase(argv[0], "known-replica")) &&
             argc == 4) {
    Instance* ri = master();
    if (!ri) return kNoMaster;
    if (!CreateInstance("", kSlave, argv[2], static_cast<int>(LeadingInt(argv[3])), ri->quorum, ri,
                        &error)) {
      return CreateError(error, kSlave);
    }
  } else if (EqualsIgnoreCase(argv[0], "known-sentinel") && (argc == 4 || argc == 5)) {
    if (argc == 5) {  // the old form without a runid is ignored
      Instance* ri = master();
      if (!ri) return kNoMaster;
      auto si = CreateInstance(argv[4], kSentinel, argv[2], static_cast<int>(LeadingInt(argv[3])),
                               ri->quorum, ri, &error);
      if (!si) return CreateError(error, kSentinel);
      si->runid = argv[4];
      TryConnectionSharing(*si);
    }
  } else if (is("rename-command", 4)) {
    Instance* ri = master();
    if (!ri) return kNoMaster;
    if (!ri->renamed_commands.emplace(ToLower(argv[2]), argv[3]).second) {
      return "Same command renamed multiple times with rename-command.";
    }
  } else if (is("announce-ip", 2)) {
    if (!argv[1].empty()) globals_.announce_ip = argv[1];
  } else if (is("announce-port", 2)) {
    globals_.announce_port = LeadingInt(argv[1]);
  } else if (is("deny-scripts-reconfig", 2)) {
    auto v = ParseYesNo(argv[1]);
    if (!v) return "Please specify yes or no for the deny-scripts-reconfig options.";
    globals_.deny_scripts_reconfig = *v;
  } else if (is("sentinel-user", 2)) {
    if (!argv[1].empty()) globals_.sentinel_auth_user = argv[1];
  } else if (is("sentinel-pass", 2)) {
    if (!argv[1].empty()) globals_.sentinel_auth_pass = argv[1];
  } else if (is("resolve-hostnames", 2)) {
    auto v = ParseYesNo(argv[1]);
    if (!v) return "Please specify yes or no for the resolve-hostnames option.";
    globals_.resolve_hostnames = *v;
  } else if (is("announce-hostnames", 2)) {
    auto v = ParseYesNo(argv[1]);
    if (!v) return "Please specify yes or no for the announce-hostnames option.";
    globals_.announce_hostnames = *v;
  } else if (is("master-reboot-down-after-period", 3)) {
    Instance* ri = master();
    if (!ri) return kNoMaster;
    ri->master_reboot_down_after_period = LeadingInt(argv[2]);
    if (ri->master_reboot_down_after_period < 0) return "negative time parameter.";
  } else {
    return "Unrecognized sentinel configuration statement.";
  }
  return std::nullopt;
}

std::vector<std::string> Sentinel::RewriteLines() const {
  // With resolve-hostnames, an address is written as it was given (a name stays a name, even
  // when IPs are announced): Redis writes the resolved IP, which goes stale when a pod that
  // kept its name is rescheduled under a new IP.
  auto stored = [this](const Addr& a) -> const std::string& {
    return globals_.resolve_hostnames && !a.hostname.empty() ? a.hostname : Announce(a);
  };
  std::vector<std::string> out;
  out.push_back("sentinel myid " + myid_);
  if (!globals_.deny_scripts_reconfig) out.push_back("sentinel deny-scripts-reconfig no");
  if (globals_.resolve_hostnames) out.push_back("sentinel resolve-hostnames yes");
  if (globals_.announce_hostnames) out.push_back("sentinel announce-hostnames yes");
  for (const auto& [name, m] : masters_) {
    const Addr& maddr = CurrentMasterAddress(*m);
    out.push_back("sentinel monitor " + m->name + " " + stored(maddr) + " " +
                  std::to_string(maddr.port) + " " + std::to_string(m->quorum));
    if (m->down_after_period != timing_.default_down_after) {
      out.push_back("sentinel down-after-milliseconds " + m->name + " " +
                    std::to_string(m->down_after_period));
    }
    if (m->failover_timeout != timing_.default_failover_timeout) {
      out.push_back("sentinel failover-timeout " + m->name + " " +
                    std::to_string(m->failover_timeout));
    }
    if (m->parallel_syncs != 1) {
      out.push_back("sentinel parallel-syncs " + m->name + " " + std::to_string(m->parallel_syncs));
    }
    if (m->notification_script) {
      out.push_back("sentinel notification-script " + m->name + " " + *m->notification_script);
    }
    if (m->client_reconfig_script) {
      out.push_back("sentinel client-reconfig-script " + m->name + " " +
                    *m->client_reconfig_script);
    }
    if (m->auth_pass) out.push_back("sentinel auth-pass " + m->name + " " + *m->auth_pass);
    if (m->auth_user) out.push_back("sentinel auth-user " + m->name + " " + *m->auth_user);
    if (m->master_reboot_down_after_period != 0) {
      out.push_back("sentinel master-reboot-down-after-period " + m->name + " " +
                    std::to_string(m->master_reboot_down_after_period));
    }
    out.push_back("sentinel config-epoch " + m->name + " " + std::to_string(m->config_epoch));
    out.push_back("sentinel leader-epoch " + m->name + " " + std::to_string(m->leader_epoch));
    for (const auto& [k, r] : m->slaves) {
      // The replica already promoted (a failover in progress) is written as the old master.
      const Addr* a = &r->addr;
      if (SameAddr(*a, maddr)) a = &m->addr;
      out.push_back("sentinel known-replica " + m->name + " " + stored(*a) + " " +
                    std::to_string(a->port));
    }
    for (const auto& [k, s] : m->sentinels) {
      if (s->runid.empty()) continue;
      out.push_back("sentinel known-sentinel " + m->name + " " + stored(s->addr) + " " +
                    std::to_string(s->addr.port) + " " + s->runid);
    }
    for (const auto& [from, to] : m->renamed_commands) {
      out.push_back("sentinel rename-command " + m->name + " " + from + " " + to);
    }
  }
  out.push_back("sentinel current-epoch " + std::to_string(current_epoch_));
  if (globals_.announce_ip) out.push_back("sentinel announce-ip " + Repr(*globals_.announce_ip));
  if (globals_.announce_port) {
    out.push_back("sentinel announce-port " + std::to_string(globals_.announce_port));
  }
  if (globals_.sentinel_auth_user) {
    out.push_back("sentinel sentinel-user " + *globals_.sentinel_auth_user);
  }
  if (globals_.sentinel_auth_pass) {
    out.push_back("sentinel sentinel-pass " + *globals_.sentinel_auth_pass);
  }
  return out;
}

bool Sentinel::FlushConfig() {
  if (auto err = p_.config.Rewrite()) {
    spdlog::warn("WARNING: Sentinel was not able to save the new configuration on disk!!!: {}",
                 *err);
    return false;
  }
  spdlog::info("Sentinel new configuration saved on disk");
  return true;
}

std::optional<std::string> Sentinel::Monitor(const std::string& name, const std::string& host,
                                             int port, unsigned quorum) {
  int error = 0;
  auto ri = CreateInstance(name, kMaster, host, port, quorum, nullptr, &error);
  if (!ri) return std::string(CreateError(error, kMaster));
  return std::nullopt;
}

void Sentinel::Remove(const std::string& name) {
  auto it = masters_.find(name);
  if (it == masters_.end()) return;
  Event(EventLevel::kWarning, "-monitor", it->second.get(), "");
  masters_.erase(it);
}

int Sentinel::ResetMasters(std::string_view pattern) {
  int reset = 0;
  for (auto& [name, m] : masters_) {
    if (!GlobMatch(pattern, name)) continue;
    ResetMaster(*m, /*keep_sentinels=*/false, /*event=*/true);
    reset++;
  }
  return reset;
}

void Sentinel::DropInstanceConnections(Instance& master) {
  master.link->CloseAll();
  for (auto& [k, s] : master.slaves) s->link->CloseAll();
}

int Sentinel::DropSentinelConnections() {
  int dropped = 0;
  for (auto& [name, m] : masters_) {
    for (auto& [k, s] : m->sentinels) {
      if (s->link->disconnected) continue;
      s->link->CloseAll();
      dropped++;
    }
  }
  return dropped;
}

void Sentinel::Start() {
  if (myid_.empty()) {
    myid_ = RandomHex(p_.rng, 40);
    FlushConfig();
  }
  spdlog::warn("Sentinel ID is {}", myid_);
  for (auto& [name, m] : masters_) {
    Event(EventLevel::kWarning, "+monitor", m.get(), " quorum " + std::to_string(m->quorum));
  }
  previous_time_ = now();
  ScheduleTimer();
}

}  // namespace keyward::sentinel
