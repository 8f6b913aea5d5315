// Leader election and the failover, as Redis Sentinel 7.0 runs them.
//
// A sentinel that sees its master ODOWN starts a failover in a new epoch and asks the others for
// their vote (IS-MASTER-DOWN-BY-ADDR with its runid). Each sentinel votes once per epoch, first
// come, and writes the vote to its configuration file before answering. The leader needs the
// votes of a majority of the sentinels it knows and at least `quorum`. It then runs the failover
// one state at a time; the others follow from its hello messages (a newer config epoch).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>

#include "server/core/strings.h"
#include "server/sentinel/sentinel.h"

namespace keyward::sentinel {

std::optional<std::string> Sentinel::VoteLeader(Instance& master, uint64_t req_epoch,
                                                const std::string& req_runid,
                                                uint64_t* leader_epoch) {
  if (req_epoch > current_epoch_) {
    current_epoch_ = req_epoch;
    FlushConfig();
    Event(EventLevel::kWarning, "+new-epoch", &master, std::to_string(current_epoch_), false);
  }
  if (master.leader_epoch < req_epoch && current_epoch_ <= req_epoch) {
    master.leader = req_runid;
    master.leader_epoch = current_epoch_;
    FlushConfig();
    Event(EventLevel::kWarning, "+vote-for-leader", &master,
          *master.leader + " " + std::to_string(master.leader_epoch), false);
    // Voting for another: this sentinel waits before trying a failover of its own.
    if (!EqualsIgnoreCase(*master.leader, myid_)) {
      master.failover_start_time = now() + Rand(1000);
    }
  }
  *leader_epoch = master.leader_epoch;
  return master.leader;
}

std::optional<std::string> Sentinel::GetLeader(Instance& master, uint64_t epoch) {
  std::map<std::string, uint64_t> counters;
  const unsigned voters = static_cast<unsigned>(master.sentinels.size()) + 1;
  for (auto& [k, s] : master.sentinels) {
    if (s->leader && s->leader_epoch == current_epoch_) counters[*s->leader]++;
  }
  std::optional<std::string> winner;
  uint64_t max_votes = 0;
  for (auto& [runid, votes] : counters) {
    if (votes > max_votes) {
      max_votes = votes;
      winner = runid;
    }
  }
  // This sentinel's own vote: for the most voted one, or for itself when nobody has votes.
  uint64_t leader_epoch = 0;
  std::optional<std::string> myvote =
      VoteLeader(master, epoch, winner ? *winner : myid_, &leader_epoch);
  if (myvote && leader_epoch == epoch) {
    const uint64_t votes = ++counters[*myvote];
    if (votes > max_votes) {
      max_votes = votes;
      winner = myvote;
    }
  }
  const unsigned voters_quorum = voters / 2 + 1;
  if (winner && (max_votes < voters_quorum || max_votes < master.quorum)) winner.reset();
  return winner;
}

bool Sentinel::SendSlaveOf(Instance& ri, const Addr* addr, bool with_info) {
  if (!ri.link->cc) return false;
  const std::string host = addr != nullptr ? Announce(*addr) : "NO";
  const std::string port = addr != nullptr ? std::to_string(addr->port) : "ONE";
  // One transaction: the new role, the configuration rewritten (when it has a file), and every
  // normal and pub/sub client disconnected so that they ask again where the master is.
  Send(ri, {"MULTI"}, nullptr);
  Send(ri, {"SLAVEOF", host, port}, nullptr);
  Send(ri, {"CONFIG", "REWRITE"}, nullptr);
  Send(ri, {"CLIENT", "KILL", "TYPE", "normal"}, nullptr);
  Send(ri, {"CLIENT", "KILL", "TYPE", "pubsub"}, nullptr);
  Send(ri, {"EXEC"}, nullptr);
  // In a failover, the INFO right behind it shows the outcome (role, master) at once, not at
  // the next INFO period. Not for a corrective SLAVEOF (+convert-to-slave, +fix-slave-config):
  // an INFO that did not change (a refused SLAVEOF) would send the next one at once, in a loop.
  if (with_info) {
    Send(ri, {"INFO"}, [this](Instance& i, const Reply& r) {
      if (auto s = r.as_string()) RefreshInstanceInfo(i, std::string(*s));
    });
  }
  return true;
}

void Sentinel::StartFailover(Instance& master) {
  master.failover_state = FailoverState::kWaitStart;
  master.flags |= kFailoverInProgress;
  master.failover_epoch = ++current_epoch_;
  Event(EventLevel::kWarning, "+new-epoch", &master, std::to_string(current_epoch_), false);
  Event(EventLevel::kWarning, "+try-failover", &master, "");
  master.failover_start_time = now() + Rand(1000);
  master.failover_state_change_time = now();
}

bool Sentinel::StartFailoverIfNeeded(Instance& master) {
  if (!master.is(kODown)) return false;
  if (master.is(kFailoverInProgress)) return false;
  // A failover was tried too recently (twice the failover timeout).
  if (now() - master.failover_start_time < master.failover_timeout * 2) {
    if (master.failover_delay_logged != master.failover_start_time) {
      const time_t clock = (master.failover_start_time + master.failover_timeout * 2) / 1000;
      char buf[26];
      ctime_r(&clock, buf);
      buf[24] = '\0';
      master.failover_delay_logged = master.failover_start_time;
      spdlog::warn("Next failover delay: I will not start a failover before {}", buf);
    }
    return false;
  }
  StartFailover(master);
  return true;
}

Instance* Sentinel::SelectSlave(Instance& master) {
  const int64_t t = now();
  int64_t max_master_down_time = master.down_after_period * 10;
  if (master.is(kSDown)) max_master_down_time += t - master.s_down_since_time;
  std::vector<Instance*> candidates;
  for (auto& [k, s] : master.slaves) {
    Instance& slave = *s;
    if (slave.is(kSDown | kODown)) continue;
    if (slave.link->disconnected) continue;
    if (t - slave.link->last_avail_time > timing_.ping_period * 5) continue;
    if (slave.slave_priority == 0) continue;
    // With the master down its replicas' INFO comes every second; otherwise at the usual period.
    const int64_t info_validity =
        master.is(kSDown) ? timing_.ping_period * 5 : timing_.info_period * 3;
    if (t - slave.info_refresh > info_validity) continue;
    if (slave.master_link_down_time > max_master_down_time) continue;
    candidates.push_back(&slave);
  }
  if (candidates.empty()) return nullptr;
  // Lowest priority, then most data (replication offset), then the smallest runid (unknown last).
  return *std::min_element(candidates.begin(), candidates.end(), [](Instance* a, Instance* b) {
    if (a->slave_priority != b->slave_priority) return a->slave_priority < b->slave_priority;
    if (a->slave_repl_offset != b->slave_repl_offset) {
      return a->slave_repl_offset > b->slave_repl_offset;
    }
    if (a->runid.empty() || b->runid.empty()) return !a->runid.empty() && b->runid.empty();
    return ToLower(a->runid) < ToLower(b->runid);
  });
}

std::optional<std::string> Sentinel::ForceFailover(Instance& master) {
  if (master.is(kFailoverInProgress)) return std::string("-INPROG Failover already in progress");
  if (SelectSlave(master) == nullptr) {
    return std::string("-NOGOODSLAVE No suitable replica to promote");
  }
  spdlog::warn("Executing user requested FAILOVER of '{}'", master.name);
  StartFailover(master);
  master.flags |= kForceFailover;
  return std::nullopt;
}

void Sentinel::SimFailureCrash() {
  spdlog::warn("Sentinel CRASH because of SENTINEL simulate-failure");
  std::exit(99);
}

// --- The state machine, one function per state ---

void Sentinel::FailoverStateMachine(Instance& master) {
  if (!master.is(kFailoverInProgress)) return;
  switch (master.failover_state) {
    case FailoverState::kWaitStart:
      FailoverWaitStart(master);
      break;
    case FailoverState::kSelectSlave:
      FailoverSelectSlave(master);
      break;
    case FailoverState::kSendSlaveofNoone:
      FailoverSendSlaveOfNoOne(master);
      break;
    case FailoverState::kWaitPromotion:
      FailoverWaitPromotion(master);
      break;
    case FailoverState::kReconfSlaves:
      FailoverReconfNextSlave(master);
      break;
    case FailoverState::kNone:
    case FailoverState::kUpdateConfig:
      break;
  }
}

void Sentinel::FailoverWaitStart(Instance& master) {
  std::optional<std::string> leader = GetLeader(master, master.failover_epoch);
  const bool is_leader = leader && EqualsIgnoreCase(*leader, myid_);
  if (!is_leader && !master.is(kForceFailover)) {
    // Not elected (yet): give up after the election timeout (at most the failover timeout).
    const int64_t election_timeout = std::min(timing_.election_timeout, master.failover_timeout);
    if (now() - master.failover_start_time > election_timeout) {
      Event(EventLevel::kWarning, "-failover-abort-not-elected", &master, "");
      AbortFailover(master);
    }
    return;
  }
  Event(EventLevel::kWarning, "+elected-leader", &master, "");
  if (simfailure_flags_ & kSimFailureCrashAfterElection) SimFailureCrash();
  master.failover_state = FailoverState::kSelectSlave;
  master.failover_state_change_time = now();
  Event(EventLevel::kWarning, "+failover-state-select-slave", &master, "");
}

void Sentinel::FailoverSelectSlave(Instance& master) {
  Instance* slave = SelectSlave(master);
  if (slave == nullptr) {
    Event(EventLevel::kWarning, "-failover-abort-no-good-slave", &master, "");
    AbortFailover(master);
    return;
  }
  Event(EventLevel::kWarning, "+selected-slave", slave, "");
  slave->flags |= kPromoted;
  master.promoted_slave = slave;
  master.failover_state = FailoverState::kSendSlaveofNoone;
  master.failover_state_change_time = now();
  Event(EventLevel::kNotice, "+failover-state-send-slaveof-noone", slave, "");
}

void Sentinel::FailoverSendSlaveOfNoOne(Instance& master) {
  Instance& promoted = *master.promoted_slave;
  // Not reachable: tried again at every tick until the failover timeout.
  if (promoted.link->disconnected) {
    if (now() - master.failover_state_change_time > master.failover_timeout) {
      Event(EventLevel::kWarning, "-failover-abort-slave-timeout", &master, "");
      AbortFailover(master);
    }
    return;
  }
  // Whether it worked is seen in its INFO (role:master), not in the replies.
  if (!SendSlaveOf(promoted, nullptr, /*with_info=*/true)) return;
  Event(EventLevel::kNotice, "+failover-state-wait-promotion", &promoted, "");
  master.failover_state = FailoverState::kWaitPromotion;
  master.failover_state_change_time = now();
}

void Sentinel::FailoverWaitPromotion(Instance& master) {
  // RefreshInstanceInfo moves on when the replica reports role:master; here only the timeout.
  if (now() - master.failover_state_change_time > master.failover_timeout) {
    Event(EventLevel::kWarning, "-failover-abort-slave-timeout", &master, "");
    AbortFailover(master);
  }
}

void Sentinel::FailoverDetectEnd(Instance& master) {
  const int64_t elapsed = now() - master.failover_state_change_time;
  // Not done while the promoted replica is unreachable.
  if (master.promoted_slave == nullptr || master.promoted_slave->is(kSDown)) return;
  int not_reconfigured = 0;
  for (auto& [k, s] : master.slaves) {
    if (s->is(kPromoted | kReconfDone)) continue;
    if (s->is(kSDown)) continue;
    not_reconfigured++;
  }
  bool timeout = false;
  if (elapsed > master.failover_timeout) {
    not_reconfigured = 0;
    timeout = true;
    Event(EventLevel::kWarning, "+failover-end-for-timeout", &master, "");
  }
  if (not_reconfigured == 0) {
    Event(EventLevel::kWarning, "+failover-end", &master, "");
    master.failover_state = FailoverState::kUpdateConfig;
    master.failover_state_change_time = now();
  }
  // On a timeout the replicas not yet told get a best-effort SLAVEOF.
  if (timeout) {
    for (auto& [k, s] : master.slaves) {
      if (s->is(kPromoted | kReconfDone | kReconfSent)) continue;
      if (s->link->disconnected) continue;
      if (SendSlaveOf(*s, &master.promoted_slave->addr, /*with_info=*/true)) {
        Event(EventLevel::kNotice, "+slave-reconf-sent-be", s.get(), "");
        s->flags |= kReconfSent;
      }
    }
  }
}

void Sentinel::FailoverReconfNextSlave(Instance& master) {
  int64_t in_progress = 0;
  for (auto& [k, s] : master.slaves) {
    if (s->is(kReconfSent | kReconfInprog)) in_progress++;
  }
  for (auto& [k, s] : master.slaves) {
    if (in_progress >= master.parallel_syncs) break;
    Instance& slave = *s;
    if (slave.is(kPromoted | kReconfDone)) continue;
    // Stuck after SLAVEOF for too long: counted as done (the sentinels fix it later).
    if (slave.is(kReconfSent) &&
        now() - slave.slave_reconf_sent_time > timing_.slave_reconf_timeout) {
      Event(EventLevel::kNotice, "-slave-reconf-sent-timeout", &slave, "");
      slave.flags &= ~kReconfSent;
      slave.flags |= kReconfDone;
    }
    if (slave.is(kReconfSent | kReconfInprog)) continue;
    if (slave.link->disconnected) continue;
    if (SendSlaveOf(slave, &master.promoted_slave->addr, /*with_info=*/true)) {
      slave.flags |= kReconfSent;
      slave.slave_reconf_sent_time = now();
      Event(EventLevel::kNotice, "+slave-reconf-sent", &slave, "");
      in_progress++;
    }
  }
  FailoverDetectEnd(master);
}

void Sentinel::FailoverSwitchToPromotedSlave(Instance& master) {
  const Instance& ref = master.promoted_slave != nullptr ? *master.promoted_slave : master;
  const Addr to = ref.addr;
  Event(EventLevel::kWarning, "+switch-master", &master,
        master.name + " " + Announce(master.addr) + " " + std::to_string(master.addr.port) + " " +
            Announce(to) + " " + std::to_string(to.port),
        false);
  ResetMasterAndChangeAddress(master, to.hostname, to.port);
}

void Sentinel::AbortFailover(Instance& master) {
  master.flags &= ~(kFailoverInProgress | kForceFailover);
  master.failover_state = FailoverState::kNone;
  master.failover_state_change_time = now();
  if (master.promoted_slave != nullptr) {
    master.promoted_slave->flags &= ~kPromoted;
    master.promoted_slave = nullptr;
  }
}

}  // namespace keyward::sentinel
