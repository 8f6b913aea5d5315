// The sentinel's timer and what it watches with: links kept connected, PING / INFO / hello sent
// on their periods, INFO replies read (replicas discovered, roles and offsets), hello messages
// from the other sentinels (who they are, which epoch, which master configuration), and the
// down states (SDOWN alone, ODOWN when `quorum` sentinels agree).
#include <spdlog/spdlog.h>

#include <algorithm>

#include "server/core/strings.h"
#include "server/sentinel/sentinel.h"

namespace keyward::sentinel {

namespace {

const char* TypeName(const Instance& ri) {
  if (ri.is(kMaster)) return "master";
  if (ri.is(kSlave)) return "slave";
  if (ri.is(kSentinel)) return "sentinel";
  return "unknown";
}

// Redis's SENTINEL_MAX_PENDING_COMMANDS per owner of a link: a link that does not answer does
// not get an unbounded queue of non-critical commands.
bool Saturated(const InstanceLink& link, const Instance& ri) {
  return link.pending_commands >= 100 * static_cast<int>(ri.link.use_count());
}

bool IsRunId(std::string_view s) {
  return s.size() == 40 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
         });
}

}  // namespace

void Sentinel::Event(EventLevel level, const std::string& type, const Instance* ri,
                     const std::string& msg, bool with_instance) {
  std::string text;
  if (with_instance && ri != nullptr) {
    text = std::string(TypeName(*ri)) + " " + ri->name + " " + Announce(ri->addr) + " " +
           std::to_string(ri->addr.port);
    if (!ri->is(kMaster) && ri->master != nullptr) {
      const Instance& m = *ri->master;
      text += " @ " + m.name + " " + Announce(m.addr) + " " + std::to_string(m.addr.port);
    }
  }
  text += msg;
  switch (level) {
    case EventLevel::kDebug:
      spdlog::trace("{} {}", type, text);
      break;
    case EventLevel::kVerbose:
      spdlog::debug("{} {}", type, text);
      break;
    case EventLevel::kNotice:
      spdlog::info("{} {}", type, text);
      break;
    case EventLevel::kWarning:
      spdlog::warn("{} {}", type, text);
      break;
  }
  if (level != EventLevel::kDebug) p_.pubsub.Publish(PubSubKind::kChannel, type, text);
  if (level == EventLevel::kWarning && ri != nullptr) {
    const Instance* m = ri->is(kMaster) ? ri : ri->master;
    if (m != nullptr && m->notification_script) {
      ScheduleScript({*m->notification_script, type, text});
    }
  }
}

const Addr& Sentinel::CurrentMasterAddress(const Instance& master) const {
  if (master.is(kFailoverInProgress) && master.promoted_slave != nullptr &&
      master.failover_state >= FailoverState::kReconfSlaves) {
    return master.promoted_slave->addr;
  }
  return master.addr;
}

// --- The timer ---

void Sentinel::ScheduleTimer() {
  // Redis runs its sentinel timer at `hz`, drawn again after every run between 10 and 19, so
  // that sentinels started together do not keep asking for votes at the same moments.
  const int64_t hz = 10 + Rand(10);
  timer_ = p_.timers.Schedule(now() + 1000 / hz, [this] {
    timer_ = Timers::kNone;
    Timer();
    ScheduleTimer();
  });
}

void Sentinel::Timer() {
  CheckTiltCondition();
  HandleInstances(masters_);
  RunPendingScripts();
  CollectTerminatedScripts();
  KillTimedoutScripts();
}

void Sentinel::CheckTiltCondition() {
  const int64_t t = now();
  const int64_t delta = t - previous_time_;
  if (delta < 0 || delta > timing_.tilt_trigger) {
    tilt_ = true;
    tilt_start_time_ = t;
    Event(EventLevel::kWarning, "+tilt", nullptr, "#tilt mode entered");
  }
  previous_time_ = now();
}

void Sentinel::HandleInstances(Instances& instances) {
  Instance* switch_to_promoted = nullptr;
  for (auto& [key, ri] : instances) {
    HandleInstance(*ri);
    if (ri->is(kMaster)) {
      HandleInstances(ri->slaves);
      HandleInstances(ri->sentinels);
      if (ri->failover_state == FailoverState::kUpdateConfig) switch_to_promoted = ri.get();
    }
  }
  if (switch_to_promoted != nullptr) FailoverSwitchToPromotedSlave(*switch_to_promoted);
}

void Sentinel::HandleInstance(Instance& ri) {
  // Monitoring, for every kind of instance.
  ReconnectInstance(ri);
  SendPeriodicCommands(ri);
  // Acting, not in TILT mode (the clock or the process jumped: every timeout is suspect).
  if (tilt_) {
    if (now() - tilt_start_time_ < timing_.tilt_period) return;
    tilt_ = false;
    Event(EventLevel::kWarning, "-tilt", nullptr, "#tilt mode exited");
  }
  CheckSubjectivelyDown(ri);
  if (ri.is(kMaster)) {
    CheckObjectivelyDown(ri);
    if (StartFailoverIfNeeded(ri)) AskMasterStateToOtherSentinels(ri, /*forced=*/true);
    FailoverStateMachine(ri);
    AskMasterStateToOtherSentinels(ri, /*forced=*/false);
  }
}

// --- Links ---

std::string Sentinel::MapCommand(const Instance& ri, const std::string& command) const {
  const Instance& owner = ri.owner();
  auto it = owner.renamed_commands.find(ToLower(command));
  return it == owner.renamed_commands.end() ? command : it->second;
}

void Sentinel::Send(Instance& ri, std::vector<std::string> argv,
                    std::function<void(Instance&, const Reply&)> done) {
  std::shared_ptr<Connection> cc = ri.link->cc;
  if (!cc) return;
  argv[0] = MapCommand(ri, argv[0]);
  ri.link->pending_commands++;
  std::weak_ptr<Instance> instance = ri.weak_from_this();
  std::weak_ptr<InstanceLink> link = ri.link;
  cc->Send(argv, [instance, link, done = std::move(done)](const Reply& reply) {
    if (auto l = link.lock()) l->pending_commands--;
    if (!done) return;
    if (auto i = instance.lock()) done(*i, reply);
  });
}

void Sentinel::SendAuthIfNeeded(Instance& ri, Connection& c) {
  std::optional<std::string> pass, user;
  if (ri.is(kMaster | kSlave)) {
    pass = ri.owner().auth_pass;
    user = ri.owner().auth_user;
  } else if (globals_.sentinel_auth_pass) {
    pass = globals_.sentinel_auth_pass;
    user = globals_.sentinel_auth_user;
  } else if (!p_.settings.requirepass.empty()) {
    // Older configurations: requirepass is used both ways between sentinels.
    pass = p_.settings.requirepass;
  }
  if (!pass) return;
  std::vector<std::string> argv = {MapCommand(ri, "AUTH")};
  if (user) argv.push_back(*user);
  argv.push_back(*pass);
  // Only the commands connection counts pending replies: a subscribed connection's replies go
  // to the message handler, and a count there would never come down.
  if (&c != ri.link->cc.get()) return c.Send(argv, nullptr);
  ri.link->pending_commands++;
  std::weak_ptr<InstanceLink> link = ri.link;
  c.Send(argv, [link](const Reply&) {
    if (auto l = link.lock()) l->pending_commands--;
  });
}

void Sentinel::ReconnectInstance(Instance& ri) {
  InstanceLink& link = *ri.link;
  if (!link.disconnected) return;
  if (ri.addr.port == 0) return;  // an address found invalid
  const int64_t t = now();
  if (t - link.last_reconn_time < timing_.ping_period) return;
  link.last_reconn_time = t;
  // Opens the connection kept in `slot` (cc or pc); it empties the slot when it closes.
  auto open = [&](std::shared_ptr<Connection> InstanceLink::*slot, bool pubsub) {
    auto conn = std::make_shared<Connection>(pubsub);
    link.*slot = conn;
    std::weak_ptr<InstanceLink> weak = ri.link;
    Connection* raw = conn.get();
    conn->Open(p_.state.host, ri.addr.ip, ri.addr.port, p_.settings.bind_source_addr,
               [weak, raw, slot] {
                 auto l = weak.lock();
                 if (l && ((*l).*slot).get() == raw) {
                   ((*l).*slot).reset();
                   l->disconnected = true;
                 }
               });
    // Failed at once (no host): nothing to set up.
    if (link.*slot != conn) return std::shared_ptr<Connection>();
    SendAuthIfNeeded(ri, *conn);
    return conn;
  };
  const std::string name = "sentinel-" + myid_.substr(0, 8);
  if (!link.cc) {
    // The instance may have moved (a rescheduled pod): its hostname is resolved again.
    if (globals_.resolve_hostnames) {
      int error = 0;
      if (auto addr = MakeAddr(ri.addr.hostname, ri.addr.port, false, &error)) ri.addr = *addr;
    }
    link.pending_commands = 0;
    link.cc_conn_time = t;
    if (open(&InstanceLink::cc, /*pubsub=*/false)) {
      Send(ri, {"CLIENT", "SETNAME", name + "-cmd"}, nullptr);
      SendPing(ri);  // at once on a new connection
    }
  }
  if (ri.is(kMaster | kSlave) && !link.pc) {
    link.pc_conn_time = t;
    if (auto pc = open(&InstanceLink::pc, /*pubsub=*/true)) {
      pc->Send({MapCommand(ri, "CLIENT"), "SETNAME", name + "-pubsub"}, nullptr);
      std::weak_ptr<Instance> instance = ri.weak_from_this();
      pc->OnMessage([this, instance](const Reply& reply) {
        if (auto i = instance.lock()) ReceiveHello(*i, reply);
      });
      pc->Send({MapCommand(ri, "SUBSCRIBE"), kHelloChannel}, nullptr);
    }
  }
  // Connected again once it has both connections (a sentinel needs only the commands one).
  if (link.cc && (ri.is(kSentinel) || link.pc)) link.disconnected = false;
}

bool Sentinel::SendPing(Instance& ri) {
  if (!ri.link->cc) return false;
  Send(ri, {"PING"}, [this](Instance& i, const Reply& r) {
    InstanceLink& link = *i.link;
    const int64_t t = now();
    if (r.type() == client::ReplyType::kSimpleString || r.is_error()) {
      std::string_view s = r.is_error() ? *r.as_error() : *r.as_string();
      if (s.starts_with("PONG") || s.starts_with("LOADING") || s.starts_with("MASTERDOWN")) {
        link.last_avail_time = t;
        link.act_ping_time = 0;  // the pong came
        if (i.is(kMasterReboot) && s.starts_with("PONG")) i.flags &= ~kMasterReboot;
      } else if (s.starts_with("BUSY") && i.is(kSDown) && !i.is(kScriptKillSent)) {
        // Down because of a busy script: ask it to stop.
        Send(i, {"SCRIPT", "KILL"}, nullptr);
        i.flags |= kScriptKillSent;
      }
    }
    link.last_pong_time = t;
  });
  ri.link->last_ping_time = now();
  // The time of the oldest PING still unanswered: what down-after is measured from.
  if (ri.link->act_ping_time == 0) ri.link->act_ping_time = ri.link->last_ping_time;
  return true;
}

bool Sentinel::SendHello(Instance& ri) {
  if (ri.link->disconnected || !ri.link->cc) return false;
  Instance& master = ri.is(kMaster) ? ri : *ri.master;
  const Addr& maddr = CurrentMasterAddress(master);
  std::string ip;
  if (globals_.announce_ip) {
    ip = *globals_.announce_ip;
  } else {
    // The address this sentinel has on the connection, as the other side sees it.
    std::string local = ri.link->cc->local_address();
    const size_t colon = local.rfind(':');
    if (local.empty() || colon == std::string::npos) return false;
    ip = local.substr(0, colon);
    if (ip.size() > 2 && ip.front() == '[') ip = ip.substr(1, ip.size() - 2);
  }
  // Over TLS, peers reach this sentinel on its TLS port.
  int64_t port = p_.settings.port;
  if (globals_.announce_port) {
    port = globals_.announce_port;
  } else if (p_.settings.tls_replication && p_.settings.tls_port != 0) {
    port = p_.settings.tls_port;
  }
  const std::string payload = ip + "," + std::to_string(port) + "," + myid_ + "," +
                              std::to_string(current_epoch_) + "," + master.name + "," +
                              Announce(maddr) + "," + std::to_string(maddr.port) + "," +
                              std::to_string(master.config_epoch);
  Send(ri, {"PUBLISH", kHelloChannel, payload}, [this](Instance& i, const Reply& r) {
    // Only a hello that went out counts; otherwise it is tried again at the next tick.
    if (!r.is_error()) i.last_pub_time = now();
  });
  return true;
}

void Sentinel::SendPeriodicCommands(Instance& ri) {
  InstanceLink& link = *ri.link;
  if (link.disconnected) return;
  // Not critical: a link that does not answer does not get an unbounded queue.
  if (Saturated(link, ri)) return;
  const int64_t t = now();
  // A replica of a master in trouble (or one that lost its master) is watched every second.
  int64_t info_period = timing_.info_period;
  if (ri.is(kSlave) &&
      (ri.master->is(kODown | kFailoverInProgress) || ri.master_link_down_time != 0)) {
    info_period = 1000;
  }
  // While a failover this sentinel leads waits for a replica's promotion or resynchronisation,
  // it reads the replicas' INFO at every tick instead of every second: the failover's steps
  // are seen (and clients told) up to a second sooner each (Keyward's faster failover).
  if (ri.is(kSlave) && ri.master->is(kFailoverInProgress) &&
      ri.master->failover_state >= FailoverState::kWaitPromotion) {
    info_period = kFailoverInfoPeriod;
  }
  const int64_t ping_period = std::min(ri.down_after_period, timing_.ping_period);
  if (!ri.is(kSentinel) && (ri.info_refresh == 0 || t - ri.info_refresh > info_period)) {
    Send(ri, {"INFO"}, [this](Instance& i, const Reply& r) {
      if (auto s = r.as_string()) RefreshInstanceInfo(i, std::string(*s));
    });
  }
  if (t - link.last_pong_time > ping_period && t - link.last_ping_time > ping_period / 2) {
    SendPing(ri);
  }
  if (t - ri.last_pub_time > timing_.publish_period) SendHello(ri);
}

// --- INFO ---

bool Sentinel::MasterLooksSane(const Instance& master) const {
  return master.is(kMaster) && master.role_reported == kMaster && !master.is(kSDown | kODown) &&
         now() - master.info_refresh < timing_.info_period * 2;
}

bool Sentinel::NoDownFor(const Instance& ri, int64_t ms) const {
  const int64_t most_recent = std::max(ri.s_down_since_time, ri.o_down_since_time);
  return most_recent == 0 || now() - most_recent > ms;
}

bool Sentinel::AddrEqualsHostname(const Addr& a, const std::string& hostname) const {
  int error = 0;
  auto resolved = MakeAddr(hostname, a.port, false, &error);
  return resolved && EqualsIgnoreCase(a.ip, resolved->ip);
}

Instance* Sentinel::LookupSlave(Instance& master, const std::string& ip, int port) {
  int error = 0;
  auto addr = MakeAddr(ip, port, false, &error);
  if (!addr) return nullptr;
  auto it = master.slaves.find(AddrKey(Announce(*addr), addr->port));
  return it == master.slaves.end() ? nullptr : it->second.get();
}

void Sentinel::RefreshInstanceInfo(Instance& ri, const std::string& info) {
  ri.info = info;
  ri.master_link_down_time = 0;  // reset unless the INFO says otherwise
  uint32_t role = 0;
  const int64_t t = now();
  for (std::string_view l : Split(info, "\r\n")) {
    if (l.size() >= 47 && l.starts_with("run_id:")) {
      std::string runid(l.substr(7, 40));
      if (ri.runid.empty()) {
        ri.runid = runid;
      } else if (ri.runid != runid) {
        Event(EventLevel::kNotice, "+reboot", &ri, "");
        if (ri.is(kMaster) && ri.master_reboot_down_after_period != 0) {
          ri.flags |= kMasterReboot;
          ri.master_reboot_since_time = t;
        }
        ri.runid = runid;
      }
    }
    // slave0:ip=127.0.0.1,port=9999,... (or the old slave0:<ip>,<port>,<state>)
    if (ri.is(kMaster) && l.size() >= 7 && l.starts_with("slave") && std::isdigit(l[5])) {
      std::string_view ip, port;
      if (l.find("ip=") == std::string_view::npos) {
        const size_t colon = l.find(':');
        if (colon == std::string_view::npos) continue;
        auto parts = Split(l.substr(colon + 1), ",");
        if (parts.size() < 3) continue;
        ip = parts[0];
        port = parts[1];
      } else {
        ip = l.substr(l.find("ip=") + 3);
        ip = ip.substr(0, ip.find(','));
        const size_t p = l.find("port=");
        if (p == std::string_view::npos) continue;
        port = l.substr(p + 5);
        port = port.substr(0, port.find(','));
      }
      const int slave_port = static_cast<int>(LeadingInt(port));
      if (LookupSlave(ri, std::string(ip), slave_port) == nullptr) {
        int error = 0;
        if (auto slave =
                CreateInstance("", kSlave, std::string(ip), slave_port, ri.quorum, &ri, &error)) {
          Event(EventLevel::kNotice, "+slave", slave.get(), "");
          FlushConfig();
        }
      }
    }
    if (l.size() >= 32 && l.starts_with("master_link_down_since_seconds")) {
      ri.master_link_down_time = LeadingInt(l.substr(31)) * 1000;
    }
    if (l.starts_with("role:master")) {
      role = kMaster;
    } else if (l.starts_with("role:slave")) {
      role = kSlave;
    }
    if (role == kSlave) {
      if (l.starts_with("master_host:")) {
        std::string host(l.substr(12));
        if (!ri.slave_master_host || !EqualsIgnoreCase(host, *ri.slave_master_host)) {
          ri.slave_master_host = host;
          ri.slave_conf_change_time = t;
        }
      }
      if (l.starts_with("master_port:")) {
        const int64_t port = LeadingInt(l.substr(12));
        if (ri.slave_master_port != port) {
          ri.slave_master_port = port;
          ri.slave_conf_change_time = t;
        }
      }
      if (l.starts_with("master_link_status:")) {
        ri.slave_master_link_up = EqualsIgnoreCase(l.substr(19), "up");
      }
      if (l.starts_with("slave_priority:")) ri.slave_priority = LeadingInt(l.substr(15));
      if (l.starts_with("slave_repl_offset:")) {
        ri.slave_repl_offset = static_cast<uint64_t>(LeadingInt(l.substr(18)));
      }
      if (l.starts_with("replica_announced:")) ri.replica_announced = LeadingInt(l.substr(18));
    }
  }
  ri.info_refresh = t;

  // --- Acting on it (mostly not in TILT mode) ---
  if (role != ri.role_reported) {
    ri.role_reported_time = t;
    ri.role_reported = role;
    if (role == kSlave) ri.slave_conf_change_time = t;
    Event(EventLevel::kVerbose,
          (ri.flags & (kMaster | kSlave)) == role ? "+role-change" : "-role-change", &ri,
          std::string(" new reported role is ") + (role == kMaster ? "master" : "slave"));
  }
  if (tilt_) return;
  // A master claiming to be a replica: nothing to do, it counts as unreachable and is failed
  // over in time (CheckSubjectivelyDown).

  // A replica turned master.
  if (ri.is(kSlave) && role == kMaster) {
    Instance& master = *ri.master;
    if (ri.is(kPromoted) && master.is(kFailoverInProgress) &&
        master.failover_state == FailoverState::kWaitPromotion) {
      // Our promotion took: the master's configuration takes the epoch of the election won,
      // which makes the other sentinels follow (their epoch is older).
      master.config_epoch = master.failover_epoch;
      master.failover_state = FailoverState::kReconfSlaves;
      master.failover_state_change_time = t;
      FlushConfig();
      Event(EventLevel::kWarning, "+promoted-slave", &ri, "");
      if (simfailure_flags_ & kSimFailureCrashAfterPromotion) SimFailureCrash();
      Event(EventLevel::kWarning, "+failover-state-reconf-slaves", &master, "");
      CallClientReconfScript(master, /*leader=*/true, master.addr, ri.addr);
      ForceHelloUpdateForMaster(master);
    } else {
      // Someone else's doing: turn it back into a replica, after a while (the leader of a
      // newer configuration may still tell us about it).
      const int64_t wait_time = timing_.publish_period * 4;
      if (!ri.is(kPromoted) && MasterLooksSane(master) && NoDownFor(ri, wait_time) &&
          t - ri.role_reported_time > wait_time) {
        if (SendSlaveOf(ri, &master.addr, /*with_info=*/false)) {
          Event(EventLevel::kNotice, "+convert-to-slave", &ri, "");
        }
      }
    }
  }

  // A replica replicating another address than its master's.
  if (ri.is(kSlave) && role == kSlave &&
      (ri.slave_master_port != ri.master->addr.port || !ri.slave_master_host ||
       !AddrEqualsHostname(ri.master->addr, *ri.slave_master_host))) {
    const int64_t wait_time = ri.master->failover_timeout;
    if (MasterLooksSane(*ri.master) && NoDownFor(ri, wait_time) &&
        t - ri.slave_conf_change_time > wait_time) {
      if (SendSlaveOf(ri, &ri.master->addr, /*with_info=*/false)) {
        Event(EventLevel::kNotice, "+fix-slave-config", &ri, "");
      }
    }
  }

  // A replica being reconfigured by a failover: SENT -> INPROG -> DONE.
  if (ri.is(kSlave) && role == kSlave && ri.is(kReconfSent | kReconfInprog)) {
    Instance* promoted = ri.master->promoted_slave;
    if (ri.is(kReconfSent) && promoted != nullptr && ri.slave_master_host &&
        AddrEqualsHostname(promoted->addr, *ri.slave_master_host) &&
        ri.slave_master_port == promoted->addr.port) {
      ri.flags &= ~kReconfSent;
      ri.flags |= kReconfInprog;
      Event(EventLevel::kNotice, "+slave-reconf-inprog", &ri, "");
    }
    if (ri.is(kReconfInprog) && ri.slave_master_link_up) {
      ri.flags &= ~kReconfInprog;
      ri.flags |= kReconfDone;
      Event(EventLevel::kNotice, "+slave-reconf-done", &ri, "");
    }
  }
}

// --- Hello messages ---

void Sentinel::ReceiveHello(Instance& ri, const Reply& reply) {
  // Any message (our own hellos come back too) shows the pub/sub link is alive.
  ri.link->pc_last_activity = now();
  auto elements = reply.as_array();
  if (!elements || elements->size() != 3) return;
  auto kind = (*elements)[0].as_string();
  auto payload = (*elements)[2].as_string();
  if (!kind || !payload || !(*elements)[1].as_string() || *kind != "message") return;
  if (payload->find(myid_) != std::string_view::npos) return;  // our own
  ProcessHello(*payload);
}

Instance* Sentinel::FindSentinelByAddrAndRunid(Instance& master, const std::string* ip, int port,
                                               const std::string* runid) {
  std::optional<Addr> addr;
  if (ip != nullptr) {
    int error = 0;
    addr = MakeAddr(*ip, port, true, &error);
    if (!addr) return nullptr;
  }
  for (auto& [k, s] : master.sentinels) {
    if (runid != nullptr && s->runid.empty()) continue;
    if ((runid == nullptr || s->runid == *runid) && (!addr || SameAddrOrHostname(s->addr, *addr))) {
      return s.get();
    }
  }
  return nullptr;
}

int Sentinel::RemoveMatchingSentinelFromMaster(Instance& master, const std::string& runid) {
  int removed = 0;
  for (auto it = master.sentinels.begin(); it != master.sentinels.end();) {
    if (it->second->runid == runid) {
      it = master.sentinels.erase(it);
      removed++;
    } else {
      ++it;
    }
  }
  return removed;
}

bool Sentinel::TryConnectionSharing(Instance& ri) {
  if (ri.runid.empty() || ri.link.use_count() > 1) return false;
  for (auto& [name, m] : masters_) {
    if (m.get() == ri.master) continue;
    Instance* match = FindSentinelByAddrAndRunid(*m, nullptr, 0, &ri.runid);
    if (match == nullptr || match == &ri) continue;
    ri.link = match->link;
    return true;
  }
  return false;
}

int Sentinel::UpdateSentinelAddressInAllMasters(Instance& ri) {
  int reconfigured = 0;
  for (auto& [name, m] : masters_) {
    Instance* match = FindSentinelByAddrAndRunid(*m, nullptr, 0, &ri.runid);
    if (match == nullptr) continue;
    match->link->CloseAll();
    if (match == &ri) continue;
    match->addr = ri.addr;
    reconfigured++;
  }
  if (reconfigured) {
    Event(EventLevel::kNotice, "+sentinel-address-update", &ri,
          " " + std::to_string(reconfigured) + " additional matching instances");
  }
  return reconfigured;
}

void Sentinel::ProcessHello(std::string_view hello) {
  // ip,port,runid,current_epoch,master_name,master_ip,master_port,master_config_epoch
  auto token = Split(hello, ",");
  if (token.size() != 8) return;
  Instance* master = FindMaster(token[4]);
  if (master == nullptr) return;  // not a master we monitor
  const std::string ip(token[0]), runid(token[2]), master_ip(token[5]);
  const int port = static_cast<int>(LeadingInt(token[1]));
  const int master_port = static_cast<int>(LeadingInt(token[6]));
  const int64_t epoch_value = LeadingInt(token[3]);
  const int64_t config_epoch_value = LeadingInt(token[7]);
  // A sentinel's id is 40 hex characters and epochs are not negative: anything else is not a
  // hello a sentinel sent (it would end up in the config file, or wrap the epoch).
  if (!IsRunId(runid) || epoch_value < 0 || config_epoch_value < 0) return;
  const uint64_t epoch = static_cast<uint64_t>(epoch_value);
  const uint64_t master_config_epoch = static_cast<uint64_t>(config_epoch_value);

  Instance* si = FindSentinelByAddrAndRunid(*master, &ip, port, &runid);
  if (si == nullptr) {
    // A new sentinel, or one that moved: the old entries of its runid go.
    const int removed = RemoveMatchingSentinelFromMaster(*master, runid);
    if (removed) {
      Event(EventLevel::kNotice, "+sentinel-address-switch", master,
            " ip " + ip + " port " + std::to_string(port) + " for " + runid);
    } else if (Instance* other = FindSentinelByAddrAndRunid(*master, &ip, port, nullptr)) {
      // Another runid at this address: that sentinel is gone (restarted with a new id).
      Event(EventLevel::kNotice, "+sentinel-invalid-addr", other, "");
      const std::string obsolete = other->runid;
      for (auto& [name, m] : masters_) RemoveMatchingSentinelFromMaster(*m, obsolete);
    }
    int error = 0;
    auto created = CreateInstance(runid, kSentinel, ip, port, master->quorum, master, &error);
    if (created) {
      si = created.get();
      if (!removed) Event(EventLevel::kNotice, "+sentinel", si, "");
      si->runid = runid;
      TryConnectionSharing(*si);
      if (removed) UpdateSentinelAddressInAllMasters(*si);
      FlushConfig();
    }
  }
  if (epoch > current_epoch_) {
    current_epoch_ = epoch;
    FlushConfig();
    Event(EventLevel::kWarning, "+new-epoch", master, std::to_string(current_epoch_), false);
  }
  // A newer configuration of the master: follow it.
  if (si != nullptr && master->config_epoch < master_config_epoch) {
    master->config_epoch = master_config_epoch;
    if (master_port != master->addr.port || !AddrEqualsHostname(master->addr, master_ip)) {
      Event(EventLevel::kWarning, "+config-update-from", si, "");
      Event(EventLevel::kWarning, "+switch-master", master,
            master->name + " " + Announce(master->addr) + " " + std::to_string(master->addr.port) +
                " " + master_ip + " " + std::to_string(master_port),
            false);
      const Addr old_addr = master->addr;
      ResetMasterAndChangeAddress(*master, master_ip, master_port);
      CallClientReconfScript(*master, /*leader=*/false, old_addr, master->addr);
    }
  }
  if (si != nullptr) si->last_hello_time = now();
}

void Sentinel::ForceHelloUpdateForMaster(Instance& master) {
  const int64_t back = timing_.publish_period + 1;
  auto force = [back](Instance& i) {
    if (i.last_pub_time >= back) i.last_pub_time -= back;
  };
  force(master);
  for (auto& [k, s] : master.sentinels) force(*s);
  for (auto& [k, s] : master.slaves) force(*s);
}

// --- Down states ---

void Sentinel::CheckSubjectivelyDown(Instance& ri) {
  InstanceLink& link = *ri.link;
  const int64_t t = now();
  int64_t elapsed = 0;
  if (link.act_ping_time) {
    elapsed = t - link.act_ping_time;
  } else if (link.disconnected) {
    elapsed = t - link.last_avail_time;
  }
  // A commands connection that looks stuck (a PING pending for half the period, no reply of
  // any kind) is reconnected, if it is not new.
  if (link.cc && t - link.cc_conn_time > timing_.min_link_reconnect_period &&
      link.act_ping_time != 0 && t - link.act_ping_time > ri.down_after_period / 2 &&
      t - link.last_pong_time > ri.down_after_period / 2) {
    link.CloseCommands();
  }
  // A pub/sub connection silent for three hello periods too.
  if (link.pc && t - link.pc_conn_time > timing_.min_link_reconnect_period &&
      t - link.pc_last_activity > timing_.publish_period * 3) {
    link.ClosePubSub();
  }
  const bool down = elapsed > ri.down_after_period ||
                    (ri.is(kMaster) && ri.role_reported == kSlave &&
                     t - ri.role_reported_time > ri.down_after_period + timing_.info_period * 2) ||
                    (ri.is(kMasterReboot) &&
                     t - ri.master_reboot_since_time > ri.master_reboot_down_after_period);
  if (down) {
    if (!ri.is(kSDown)) {
      Event(EventLevel::kWarning, "+sdown", &ri, "");
      ri.s_down_since_time = t;
      ri.flags |= kSDown;
    }
  } else if (ri.is(kSDown)) {
    Event(EventLevel::kWarning, "-sdown", &ri, "");
    ri.flags &= ~(kSDown | kScriptKillSent);
  }
}

void Sentinel::CheckObjectivelyDown(Instance& master) {
  unsigned quorum = 0;
  bool odown = false;
  if (master.is(kSDown)) {
    quorum = 1;  // this sentinel
    for (auto& [k, s] : master.sentinels) {
      if (s->is(kMasterDown)) quorum++;
    }
    odown = quorum >= master.quorum;
  }
  if (odown) {
    if (!master.is(kODown)) {
      Event(EventLevel::kWarning, "+odown", &master,
            " #quorum " + std::to_string(quorum) + "/" + std::to_string(master.quorum));
      master.flags |= kODown;
      master.o_down_since_time = now();
    }
  } else if (master.is(kODown)) {
    Event(EventLevel::kWarning, "-odown", &master, "");
    master.flags &= ~kODown;
  }
}

void Sentinel::AskMasterStateToOtherSentinels(Instance& master, bool forced) {
  const int64_t t = now();
  for (auto& [k, s] : master.sentinels) {
    Instance& ri = *s;
    // An answer too old is forgotten.
    if (t - ri.last_master_down_reply_time > timing_.ask_period * 5) {
      ri.flags &= ~kMasterDown;
      ri.leader.reset();
    }
    if (!master.is(kSDown)) continue;
    if (ri.link->disconnected) continue;
    // Redis asks every ask-period. Keyward asks again at every tick while the answer it has
    // is not yet the one it needs (the peer did not see the master down yet, in the first
    // seconds of SDOWN, or has not answered this failover's vote request): agreement is
    // reached as soon as it exists instead of up to a second later. The question itself
    // changes nothing on the peer.
    // Only while it can matter: the first seconds of SDOWN, or a failover asking for votes.
    const bool early = t - master.s_down_since_time < timing_.ask_period * 10;
    const bool answer_pending =
        (early && !ri.is(kMasterDown)) ||
        (master.failover_state > FailoverState::kNone && ri.leader_epoch != current_epoch_);
    const int64_t period =
        answer_pending ? std::min(timing_.ask_period, kFailoverInfoPeriod) : timing_.ask_period;
    if (!forced && t - ri.last_master_down_reply_time < period) continue;
    if (Saturated(*ri.link, ri)) continue;
    // Asking for a vote too once a failover has started.
    Send(ri,
         {"SENTINEL", "is-master-down-by-addr", Announce(master.addr),
          std::to_string(master.addr.port), std::to_string(current_epoch_),
          master.failover_state > FailoverState::kNone ? myid_ : "*"},
         [this](Instance& i, const Reply& r) {
           auto el = r.as_array();
           if (!el || el->size() != 3 || (*el)[0].type() != client::ReplyType::kInteger ||
               !(*el)[1].as_string() || (*el)[2].type() != client::ReplyType::kInteger) {
             return;  // any other answer: the flag times out
           }
           i.last_master_down_reply_time = now();
           if (*(*el)[0].as_integer() == 1) {
             i.flags |= kMasterDown;
           } else {
             i.flags &= ~kMasterDown;
           }
           std::string leader(*(*el)[1].as_string());
           if (leader != "*") {
             const int64_t leader_epoch = *(*el)[2].as_integer();
             if (static_cast<int64_t>(i.leader_epoch) != leader_epoch) {
               spdlog::warn("{} voted for {} {}", i.name, leader, leader_epoch);
             }
             i.leader = leader;
             i.leader_epoch = static_cast<uint64_t>(leader_epoch);
           }
         });
  }
}

// --- Resets ---

void Sentinel::ResetMaster(Instance& master, bool keep_sentinels, bool event) {
  master.slaves.clear();
  if (!keep_sentinels) master.sentinels.clear();
  master.link->CloseAll();
  master.flags &= kMaster;
  master.leader.reset();
  master.failover_state = FailoverState::kNone;
  master.failover_state_change_time = 0;
  master.failover_start_time = 0;  // may fail over again at once
  master.promoted_slave = nullptr;
  master.runid.clear();
  master.slave_master_host.reset();
  const int64_t t = now();
  master.link->act_ping_time = t;
  master.link->last_ping_time = 0;
  master.link->last_avail_time = t;
  master.link->last_pong_time = t;
  master.role_reported_time = t;
  master.role_reported = kMaster;
  if (event) Event(EventLevel::kWarning, "+reset-master", &master, "");
}

bool Sentinel::ResetMasterAndChangeAddress(Instance& master, const std::string& host, int port) {
  int error = 0;
  auto new_addr = MakeAddr(host, port, false, &error);
  if (!new_addr) return false;
  // The replicas stay (but the one becoming the master); the old master becomes one.
  std::vector<Addr> slaves;
  for (auto& [k, s] : master.slaves) {
    if (SameAddr(s->addr, *new_addr)) continue;
    slaves.push_back(s->addr);
  }
  if (!SameAddr(master.addr, *new_addr)) {
    slaves.push_back(master.addr);
  }
  ResetMaster(master, /*keep_sentinels=*/true, /*event=*/false);
  master.addr = *new_addr;
  master.o_down_since_time = 0;
  master.s_down_since_time = 0;
  for (const Addr& a : slaves) {
    if (auto slave =
            CreateInstance("", kSlave, a.hostname, a.port, master.quorum, &master, &error)) {
      Event(EventLevel::kNotice, "+slave", slave.get(), "");
    }
  }
  FlushConfig();
  return true;
}

// --- What the SENTINEL command asks ---

Sentinel::DownReply Sentinel::IsMasterDownByAddr(const std::string& ip, int port,
                                                 uint64_t req_epoch, const std::string& runid) {
  DownReply out;
  Instance* ri = nullptr;
  int error = 0;
  if (auto addr = MakeAddr(ip, port, true, &error)) {
    for (auto& [name, m] : masters_) {
      if (SameAddrOrHostname(m->addr, *addr)) {
        ri = m.get();
        break;
      }
    }
  }
  // In TILT mode the answer is always "not down".
  if (!tilt_ && ri != nullptr && ri->is(kSDown) && ri->is(kMaster)) out.down = true;
  if (ri != nullptr && ri->is(kMaster) && runid != "*") {
    uint64_t leader_epoch = 0;
    if (auto leader = VoteLeader(*ri, req_epoch, runid, &leader_epoch)) out.leader = *leader;
    out.leader_epoch = leader_epoch;
  }
  return out;
}

Sentinel::Quorum Sentinel::CheckQuorum(const Instance& master) const {
  Quorum q;
  q.usable = 1;  // this one
  const int voters = static_cast<int>(master.sentinels.size()) + 1;
  for (const auto& [k, s] : master.sentinels) {
    if (!s->is(kSDown | kODown)) q.usable++;
  }
  q.quorum_ok = q.usable >= static_cast<int>(master.quorum);
  q.majority_ok = q.usable >= voters / 2 + 1;
  return q;
}

}  // namespace keyward::sentinel
