// What a sentinel knows of each instance it watches (Redis's sentinelRedisInstance): a master it
// was told to monitor, the replicas its INFO lists, and the other sentinels monitoring it that
// announced themselves on the hello channel.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "server/sentinel/link.h"

namespace keyward::sentinel {

// Flags, as Redis numbers them (SRI_*).
enum Flag : uint32_t {
  kMaster = 1 << 0,
  kSlave = 1 << 1,
  kSentinel = 1 << 2,
  kSDown = 1 << 3,       // subjectively down: no valid reply for down-after-milliseconds
  kODown = 1 << 4,       // objectively down: `quorum` sentinels agree
  kMasterDown = 1 << 5,  // (a sentinel) says the master is down
  kFailoverInProgress = 1 << 6,
  kPromoted = 1 << 7,      // (a replica) chosen for promotion
  kReconfSent = 1 << 8,    // SLAVEOF <new master> sent
  kReconfInprog = 1 << 9,  // it replicates the new master, not yet in sync
  kReconfDone = 1 << 10,   // in sync with the new master
  kForceFailover = 1 << 11,
  kScriptKillSent = 1 << 12,
  kMasterReboot = 1 << 13,
};

enum class FailoverState {
  kNone = 0,
  kWaitStart,         // elected? (or forced)
  kSelectSlave,       // choose the replica to promote
  kSendSlaveofNoone,  // tell it to become a master
  kWaitPromotion,     // until its INFO says master
  kReconfSlaves,      // repoint the other replicas, parallel-syncs at a time
  kUpdateConfig,      // done: the master's address becomes the promoted replica's
};
const char* FailoverStateName(FailoverState state);

struct Addr {
  std::string hostname;  // as given (a name or an address)
  std::string ip;        // resolved
  int port = 0;
};

struct Instance : std::enable_shared_from_this<Instance> {
  uint32_t flags = 0;
  std::string name;   // a master's name; "ip:port" for a replica; the runid for a sentinel
  std::string runid;  // empty until INFO (or a hello) tells it
  uint64_t config_epoch = 0;
  Addr addr;
  std::shared_ptr<InstanceLink> link;
  int64_t last_pub_time = 0;
  int64_t last_hello_time = 0;
  int64_t last_master_down_reply_time = 0;
  int64_t s_down_since_time = 0;
  int64_t o_down_since_time = 0;
  int64_t down_after_period = 0;
  int64_t master_reboot_down_after_period = 0;
  int64_t master_reboot_since_time = 0;
  int64_t info_refresh = 0;                             // when INFO last answered; 0: never
  std::map<std::string, std::string> renamed_commands;  // lower-case name -> name to send

  uint32_t role_reported = 0;  // kMaster or kSlave, as INFO says
  int64_t role_reported_time = 0;
  int64_t slave_conf_change_time = 0;

  // Masters.
  std::map<std::string, std::shared_ptr<Instance>> sentinels;  // by runid
  std::map<std::string, std::shared_ptr<Instance>> slaves;     // by "ip:port"
  unsigned quorum = 0;
  int64_t parallel_syncs = 1;
  std::optional<std::string> auth_pass;
  std::optional<std::string> auth_user;

  // Replicas.
  int64_t master_link_down_time = 0;
  int64_t slave_priority = 100;
  int64_t replica_announced = 1;
  int64_t slave_reconf_sent_time = 0;
  Instance* master = nullptr;
  std::optional<std::string> slave_master_host;
  int64_t slave_master_port = 0;
  bool slave_master_link_up = false;
  uint64_t slave_repl_offset = 0;

  // Failover. For a master: the sentinel it voted for (leader, leader_epoch); for a sentinel:
  // the one it told us it voted for.
  std::optional<std::string> leader;
  uint64_t leader_epoch = 0;
  uint64_t failover_epoch = 0;
  FailoverState failover_state = FailoverState::kNone;
  int64_t failover_state_change_time = 0;
  int64_t failover_start_time = 0;
  int64_t failover_timeout = 0;
  int64_t failover_delay_logged = 0;
  Instance* promoted_slave = nullptr;
  std::optional<std::string> notification_script;
  std::optional<std::string> client_reconfig_script;
  std::optional<std::string> info;  // the last INFO reply

  bool is(uint32_t f) const { return (flags & f) != 0; }
  // The master whose settings apply (itself for a master).
  const Instance& owner() const { return master != nullptr ? *master : *this; }
};

}  // namespace keyward::sentinel
