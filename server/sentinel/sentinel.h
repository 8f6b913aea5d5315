// Sentinel mode (`keyward-sentinel`, `keyward-server --sentinel`): monitoring and automatic
// failover speaking Redis Sentinel 7.0's protocol, so redis-sentinel peers, redis-py's and
// ioredis' Sentinel clients and redis-cli work with it unchanged.
//
// The work is Redis's sentinel.c, split by job:
//   link.cc      the connections to instances (commands and pub/sub), asynchronous
//   config.cc    `sentinel ...` configuration lines, and their rewrite on every state change
//   monitor.cc   the timer: reconnecting, PING / INFO / hello, INFO parsing, hello messages,
//                SDOWN and ODOWN, asking the other sentinels
//   failover.cc  leader election (one vote per epoch, persisted) and the failover state
//                machine, one function per state
//   scripts.cc   notification-script and client-reconfig-script, queued and retried
// Every event is logged and published on the channel of its name (`+sdown`, `+switch-master`).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "server/core/clock.h"
#include "server/core/config.h"
#include "server/core/settings.h"
#include "server/engine/server_state.h"
#include "server/engine/timers.h"
#include "server/pubsub/pubsub.h"
#include "server/sentinel/instance.h"

namespace keyward::sentinel {

// The periods SENTINEL DEBUG shows and sets (milliseconds).
struct Timing {
  int64_t info_period = 10000;
  int64_t ping_period = 1000;
  int64_t ask_period = 1000;
  int64_t publish_period = 2000;
  int64_t default_down_after = 30000;
  int64_t default_failover_timeout = 180000;
  int64_t tilt_trigger = 2000;
  int64_t tilt_period = 30000;
  int64_t slave_reconf_timeout = 10000;
  int64_t min_link_reconnect_period = 15000;
  int64_t election_timeout = 10000;
  int64_t script_max_runtime = 60000;
  int64_t script_retry_delay = 30000;
};

inline constexpr char kHelloChannel[] = "__sentinel__:hello";

// Redis's atoi / strtoull on config lines, INFO fields and hello tokens: the leading number,
// 0 when there is none.
int64_t LeadingInt(std::string_view s);
uint64_t LeadingUint(std::string_view s);
// Two addresses are the same instance: same port, same IP (or, for addresses not resolved,
// the same host name, as sentinelAddrOrHostnameEqual).
bool SameAddr(const Addr& a, const Addr& b);
bool SameAddrOrHostname(const Addr& a, const Addr& b);
// How often a leader reads its replicas' INFO during a failover, and asks its peers again while
// their answer is not yet the one it needs (Redis: every second for both).
inline constexpr int64_t kFailoverInfoPeriod = 100;
inline constexpr int kSimFailureCrashAfterElection = 1 << 0;
inline constexpr int kSimFailureCrashAfterPromotion = 1 << 1;

// A queued notification or reconfiguration script.
struct ScriptJob {
  std::vector<std::string> argv;
  bool running = false;
  int retry_num = 0;
  int64_t start_time = 0;  // running: when it started; else not before this (0: at once)
  int pid = 0;
};

// Log levels of events: debug ones are only logged, the others published too; warning ones also
// run the master's notification script.
enum class EventLevel { kDebug, kVerbose, kNotice, kWarning };

class Sentinel {
 public:
  struct Parts {
    ServerSettings& settings;
    Config& config;
    Clock& clock;
    PubSub& pubsub;
    Timers& timers;
    ServerState& state;
    std::mt19937_64& rng;
  };
  // Masters by name, a master's replicas by "ip:port", its sentinels by runid.
  using Instances = std::map<std::string, std::shared_ptr<Instance>>;

  explicit Sentinel(Parts parts);
  ~Sentinel();

  // Start-up: applies the configuration's `sentinel` lines (settings.sentinel_lines), the
  // global ones first, then the monitors, then the rest (Redis's order, so a line may come
  // before its monitor). Returns Redis's fatal-error report on a bad line.
  std::optional<std::string> LoadConfig();
  // The loop runs: a myid is chosen (and saved) if the file had none, every master gets its
  // +monitor event, and the timer starts.
  void Start();

  // --- What the SENTINEL command reads and does (config.cc, monitor.cc, failover.cc) ---
  const std::string& myid() const { return myid_; }
  uint64_t current_epoch() const { return current_epoch_; }
  const Instances& masters() const { return masters_; }
  Instance* FindMaster(std::string_view name) const;
  Timing& timing() { return timing_; }
  bool tilt() const { return tilt_; }
  int64_t tilt_start_time() const { return tilt_start_time_; }
  int running_scripts() const { return running_scripts_; }
  const std::vector<ScriptJob>& scripts() const { return scripts_queue_; }
  int simfailure_flags() const { return simfailure_flags_; }
  void set_simfailure_flags(int flags) { simfailure_flags_ = flags; }
  int64_t now() const { return p_.clock.NowMs(); }

  // SENTINEL MONITOR: nullopt or Redis's error text.
  std::optional<std::string> Monitor(const std::string& name, const std::string& host, int port,
                                     unsigned quorum);
  void Remove(const std::string& name);
  int ResetMasters(std::string_view pattern);
  // SENTINEL FAILOVER: nullopt or the error ("-INPROG ...", "-NOGOODSLAVE ...").
  std::optional<std::string> ForceFailover(Instance& master);
  // SENTINEL IS-MASTER-DOWN-BY-ADDR: [down, leader or "*", leader epoch].
  struct DownReply {
    bool down = false;
    std::string leader = "*";
    uint64_t leader_epoch = 0;
  };
  DownReply IsMasterDownByAddr(const std::string& ip, int port, uint64_t req_epoch,
                               const std::string& runid);
  // SENTINEL CKQUORUM: usable sentinels (this one included) and whether the quorum and the
  // majority can be reached.
  struct Quorum {
    int usable = 0;
    bool quorum_ok = true;
    bool majority_ok = true;
  };
  Quorum CheckQuorum(const Instance& master) const;
  // PUBLISH __sentinel__:hello <message> sent to this sentinel by another one.
  void ProcessHello(std::string_view hello);
  // down-after-milliseconds of a master, and of its replicas and sentinels with it.
  void SetDownAfter(Instance& master, int64_t ms);
  // SENTINEL SET's changes to a master's links: its connections (and its replicas') reconnect.
  void DropInstanceConnections(Instance& master);
  // SENTINEL CONFIG SET sentinel-user / sentinel-pass: every sentinel link reconnects.
  int DropSentinelConnections();
  // Saves the state in the configuration file (fsynced). False when that failed (logged).
  bool FlushConfig();
  void Event(EventLevel level, const std::string& type, const Instance* ri, const std::string& msg,
             bool with_instance = true);
  // Where clients should find the master now: the promoted replica's address once the
  // failover reached the replicas' reconfiguration.
  const Addr& CurrentMasterAddress(const Instance& master) const;
  // The address as announced: the hostname with announce-hostnames, else the ip.
  const std::string& Announce(const Addr& addr) const;

  // Global settings (`sentinel <name> <value>` lines and SENTINEL CONFIG SET).
  struct Globals {
    std::optional<std::string> announce_ip;
    int64_t announce_port = 0;
    bool deny_scripts_reconfig = true;
    std::optional<std::string> sentinel_auth_user;
    std::optional<std::string> sentinel_auth_pass;
    bool resolve_hostnames = false;
    bool announce_hostnames = false;
  };
  Globals& globals() { return globals_; }

  // Resolves `host` (an IP only, unless resolve-hostnames). Errors: EINVAL for a bad port,
  // ENOENT for a name that cannot be resolved (unless accepted unresolved).
  std::optional<Addr> MakeAddr(const std::string& host, int port, bool accept_unresolved,
                               int* error) const;
  static std::string AddrKey(const std::string& host, int port);

 private:
  // config.cc
  std::optional<std::string> HandleConfigLine(const std::vector<std::string>& argv);
  std::vector<std::string> RewriteLines() const;
  // Creates an instance in its table. nullptr with `error` set (EBUSY, EINVAL, ENOENT).
  std::shared_ptr<Instance> CreateInstance(const std::string& name, uint32_t flags,
                                           const std::string& host, int port, unsigned quorum,
                                           Instance* master, int* error);
  static const char* CreateError(int error, uint32_t role);

  // monitor.cc
  void Timer();
  void ScheduleTimer();
  void CheckTiltCondition();
  void HandleInstances(Instances& instances);
  void HandleInstance(Instance& ri);
  void ReconnectInstance(Instance& ri);
  void SendAuthIfNeeded(Instance& ri, Connection& c);
  void SendPeriodicCommands(Instance& ri);
  bool SendPing(Instance& ri);
  bool SendHello(Instance& ri);
  void Send(Instance& ri, std::vector<std::string> argv,
            std::function<void(Instance&, const Reply&)> done);
  std::string MapCommand(const Instance& ri, const std::string& command) const;
  void RefreshInstanceInfo(Instance& ri, const std::string& info);
  void ReceiveHello(Instance& ri, const Reply& reply);
  void CheckSubjectivelyDown(Instance& ri);
  void CheckObjectivelyDown(Instance& master);
  void AskMasterStateToOtherSentinels(Instance& master, bool forced);
  void ForceHelloUpdateForMaster(Instance& master);
  bool TryConnectionSharing(Instance& ri);
  int UpdateSentinelAddressInAllMasters(Instance& ri);
  int RemoveMatchingSentinelFromMaster(Instance& master, const std::string& runid);
  Instance* FindSentinelByAddrAndRunid(Instance& master, const std::string* ip, int port,
                                       const std::string* runid);
  Instance* LookupSlave(Instance& master, const std::string& ip, int port);
  bool MasterLooksSane(const Instance& master) const;
  bool NoDownFor(const Instance& ri, int64_t ms) const;
  bool AddrEqualsHostname(const Addr& a, const std::string& hostname) const;
  void ResetMaster(Instance& master, bool keep_sentinels, bool event);
  bool ResetMasterAndChangeAddress(Instance& master, const std::string& host, int port);

  // failover.cc
  std::optional<std::string> VoteLeader(Instance& master, uint64_t req_epoch,
                                        const std::string& req_runid, uint64_t* leader_epoch);
  std::optional<std::string> GetLeader(Instance& master, uint64_t epoch);
  // MULTI, SLAVEOF, CONFIG REWRITE, CLIENT KILLs, EXEC; `with_info`: INFO behind it.
  bool SendSlaveOf(Instance& ri, const Addr* addr, bool with_info);
  void StartFailover(Instance& master);
  bool StartFailoverIfNeeded(Instance& master);

 public:
  Instance* SelectSlave(Instance& master);

 private:
  void FailoverStateMachine(Instance& master);
  void FailoverWaitStart(Instance& master);
  void FailoverSelectSlave(Instance& master);
  void FailoverSendSlaveOfNoOne(Instance& master);
  void FailoverWaitPromotion(Instance& master);
  void FailoverReconfNextSlave(Instance& master);
  void FailoverDetectEnd(Instance& master);
  void FailoverSwitchToPromotedSlave(Instance& master);
  void AbortFailover(Instance& master);
  void SimFailureCrash();

  // scripts.cc
  void ScheduleScript(std::vector<std::string> argv);
  void CallClientReconfScript(Instance& master, bool leader, const Addr& from, const Addr& to);
  void RunPendingScripts();
  void CollectTerminatedScripts();
  void KillTimedoutScripts();

  int64_t Rand(int64_t below) { return static_cast<int64_t>(p_.rng() % below); }

  Parts p_;
  Timing timing_;
  Globals globals_;
  std::string myid_;
  uint64_t current_epoch_ = 0;
  Instances masters_;
  bool tilt_ = false;
  int64_t tilt_start_time_ = 0;
  int64_t previous_time_ = 0;
  int running_scripts_ = 0;
  std::vector<ScriptJob> scripts_queue_;
  int simfailure_flags_ = 0;
  Timers::Id timer_ = Timers::kNone;
};

}  // namespace keyward::sentinel
