#include "nemesis.h"

#include <signal.h>

#include <algorithm>
#include <random>
#include <thread>

namespace keyward::jepsen {

const std::vector<std::string>& KnownFaults() {
  static const std::vector<std::string> faults = {"kill",
                                                  "pause",
                                                  "restart-empty",
                                                  "partition",
                                                  "partition-halves",
                                                  "partition-ring",
                                                  "partition-bridge",
                                                  "loss",
                                                  "client-pause",
                                                  "client-kill",
                                                  "failover",
                                                  "clock"};
  return faults;
}

bool IsNetworkFault(const std::string& fault) {
  return fault.rfind("partition", 0) == 0 || fault == "loss" || fault == "failover";
}

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kStrobePeriod{100};

// A fault in force.
struct Active {
  std::string fault;
  nlohmann::json value;  // as recorded when it began
  Node* node = nullptr;  // kill, pause, restart-empty, loss
  int client_pid = 0;    // client-pause of a cli process: its stopped `keyward`
  Grudge grudge;         // partitions, failover
  Clock::time_point end;
  Clock::time_point promote_at;  // failover: when a replica is promoted
  bool promoted = false;
  std::string strobe;  // clock strobe: the offset it flips to and from ("": no strobe)
  bool strobe_off = false;
  Clock::time_point next_flip;
};

nlohmann::json GrudgeJson(const Grudge& grudge) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [to, froms] : grudge) {
    nlohmann::json from = nlohmann::json::array();
    for (int f : froms) from.push_back("n" + std::to_string(f + 1));
    j["n" + std::to_string(to + 1)] = from;
  }
  return j;
}

class Nemesis {
 public:
  Nemesis(const NemesisOptions& o, std::vector<std::unique_ptr<Node>>& nodes, ClientStalls& clients,
          Network& network, ReplicaSet* replicas, History& h)
      : o_(o),
        nodes_(nodes),
        clients_(clients),
        network_(network),
        replicas_(replicas),
        h_(h),
        rng_(o.seed) {}

  std::optional<std::string> Run(const std::atomic<bool>& stop) {
    const Clock::time_point start = Clock::now();
    Clock::time_point next = start + o_.interval;
    size_t step = 0;  // of o_.script
    while ((!o_.faults.empty() || !o_.script.empty()) && !stop.load()) {
      const Clock::time_point now = Clock::now();
      // A script's steps, each at its time, instead of drawn faults.
      while (step < o_.script.size() && now >= start + o_.script[step].at) {
        Begin(now, o_.script[step].fault, o_.script[step].node, o_.script[step].clock);
        step++;
      }
      for (Active& a : active_) {
        if (a.fault == "failover" && !a.promoted && now >= a.promote_at) Promote(a);
        if (!a.strobe.empty() && now >= a.next_flip) Strobe(a, now);
      }
      for (size_t i = 0; i < active_.size();) {
        if (active_[i].end <= now) {
          Heal(i);
          if (!o_.overlap) next = Clock::now() + o_.interval;
        } else {
          i++;
        }
      }
      if (o_.script.empty() && now >= next && (o_.overlap || active_.empty())) {
        if (!drawn_) drawn_ = Drawn{o_.faults[rng_() % o_.faults.size()], now};
        // A fault on a `keyward lock` process is meant for a holder: while none holds (between
        // two holders), it waits, up to an interval, for one.
        if (!WaitsForHolder(drawn_->fault) || now >= drawn_->at + o_.interval) {
          Begin(now, drawn_->fault, -1);
          drawn_.reset();
          next = now + o_.interval;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    // The final heal: no network fault, every node up.
    while (!active_.empty()) Heal(active_.size() - 1);
    network_.Heal();
    for (auto& n : nodes_) {
      if (n->paused()) n->Resume();
      if (!n->running()) Start(*n);
    }
    return error_;
  }

 private:
  void Fail(const std::string& e) {
    if (!error_) error_ = e;
  }
  void Start(Node& n) {
    if (auto e = n.Start()) return Fail(*e);
    if (replicas_ != nullptr) {
      if (auto e = replicas_->Rejoin(n.id() - 1)) Fail(*e);
    }
  }

  bool Held(const Node* n) const {
    return std::any_of(active_.begin(), active_.end(),
                       [&](const Active& a) { return a.node == n; });
  }

  // Failover, halfway: the replica Sentinel would choose (running, not paused, the furthest in
  // the stream) becomes the master; the other nodes the harness reaches follow it, the old master
  // does not (cut off).
  void Promote(Active& a) {
    a.promoted = true;
    const int old = a.node->id() - 1;
    // Only the nodes that answer: one killed or paused now follows the new master when it
    // comes back (Start, and the pause's heal).
    std::vector<int> reachable;
    for (auto& n : nodes_) {
      const int i = n->id() - 1;
      if (i != old && n->running() && !n->paused()) reachable.push_back(i);
    }
    const std::optional<int> best = replicas_->BestReplica(reachable);
    if (!best) return;
    const int chosen = *best;
    h_.Add(kNemesis, OpType::kInfo, "promote", {{"node", chosen + 1}, {"old", old + 1}});
    if (auto e = replicas_->Promote(chosen, reachable)) Fail(*e);
  }

  // A strobing clock flips between its offset and the real time.
  void Strobe(Active& a, Clock::time_point now) {
    a.strobe_off = !a.strobe_off;
    a.next_flip = now + kStrobePeriod;
    if (!a.node->SetClock(a.strobe_off ? "+0" : a.strobe)) {
      Fail("cannot set node " + std::to_string(a.node->id()) + "'s clock");
    }
  }

  // A node no node fault holds, or nullptr.
  Node* FreeNode() {
    std::vector<Node*> free;
    for (auto& n : nodes_) {
      if (!Held(n.get())) free.push_back(n.get());
    }
    if (free.empty()) return nullptr;
    return free[rng_() % free.size()];
  }

  // Whether `fault` stops or kills a `keyward lock` process while no such process holds the lock.
  bool WaitsForHolder(const std::string& fault) const {
    if (!o_.cli_clients || (fault != "client-pause" && fault != "client-kill")) return false;
    for (int p = 0; p < clients_.size(); p++) {
      if (clients_.Pid(p) > 0 && clients_.Holding(p)) return false;
    }
    return true;
  }

  // Begins `fault`; on node `target` (0-based; -1: one drawn) for the faults that take a node.
  // `clock`: the clock fault's offset ("": drawn).
  void Begin(Clock::time_point now, const std::string& fault, int target,
             const std::string& clock_offset = "") {
    if (o_.cli_clients && (fault == "client-pause" || fault == "client-kill")) {
      // A `keyward` running now, stopped (its child runs on, nobody renews) or killed: the
      // holder's when one holds the lock.
      std::vector<std::pair<int, int>> running, holding;  // process, pid
      for (int p = 0; p < clients_.size(); p++) {
        if (const int pid = clients_.Pid(p); pid > 0) {
          running.emplace_back(p, pid);
          if (clients_.Holding(p)) holding.emplace_back(p, pid);
        }
      }
      if (!holding.empty()) running = holding;
      if (running.empty()) return;
      const auto [process, pid] = running[rng_() % running.size()];
      if (fault == "client-kill") {
        h_.Add(kNemesis, OpType::kInfo, fault, {{"client", process}, {"pid", pid}});
        ::kill(pid, SIGKILL);
        return;
      }
      Active a;
      a.fault = fault;
      a.client_pid = pid;
      const int64_t ms = std::max<int64_t>(o_.duration.count(), 2 * o_.ttl.count());
      a.end = now + std::chrono::milliseconds(ms);
      a.value = {{"client", process}, {"pid", pid}, {"ms", ms}};
      h_.Add(kNemesis, OpType::kInfo, fault, a.value);
      ::kill(pid, SIGSTOP);
      active_.push_back(std::move(a));
      return;
    }
    if (fault == "client-pause") {
      const int process = static_cast<int>(rng_() % static_cast<uint64_t>(clients_.size()));
      const int64_t ms = std::max<int64_t>(o_.duration.count(), 2 * o_.ttl.count());
      h_.Add(kNemesis, OpType::kInfo, fault, {{"client", process}, {"ms", ms}});
      clients_.Request(process, ms);
      return;
    }
    Active a;
    a.fault = fault;
    a.end = now + o_.duration;
    if (fault == "failover") {
      // The master (when no other node fault holds it) against everyone else.
      const int m = replicas_->master_index();
      a.node = nodes_[static_cast<size_t>(m)].get();
      if (Held(a.node)) return;
      for (auto& n : nodes_) {
        const int i = n->id() - 1;
        if (i == m) continue;
        a.grudge[m].insert(i);
        a.grudge[i].insert(m);
      }
      a.promote_at = now + o_.duration / 2;
      a.value = {{"master", m + 1}, {"grudge", GrudgeJson(a.grudge)}};
      h_.Add(kNemesis, OpType::kInfo, fault, a.value);
      if (!network_.Partition(a.grudge)) Fail("iptables failed to partition");
    } else if (fault.rfind("partition", 0) == 0) {
      const std::string shape = fault == "partition" ? "one" : fault.substr(10);
      a.grudge = *PartitionShape(shape, static_cast<int>(nodes_.size()), rng_);
      if (fault == "partition" && target >= 0) {
        // That node, cut off from every other.
        a.grudge.clear();
        for (int i = 0; i < static_cast<int>(nodes_.size()); i++) {
          if (i == target) continue;
          a.grudge[target].insert(i);
          a.grudge[i].insert(target);
        }
      }
      a.value = {{"grudge", GrudgeJson(a.grudge)}};
      h_.Add(kNemesis, OpType::kInfo, fault, a.value);
      if (!network_.Partition(a.grudge)) Fail("iptables failed to partition");
    } else {
      a.node = target >= 0 ? nodes_[static_cast<size_t>(target)].get() : FreeNode();
      if (a.node == nullptr || (target >= 0 && Held(a.node))) return;  // already under a fault
      Node& node = *a.node;
      a.value = {{"node", node.id()}, {"port", node.port()}};
      if (fault == "loss") a.value["probability"] = o_.loss_probability;
      std::string clock;
      if (fault == "clock") {
        // A step of 1-5 s either way (as NTP's), the clock running twice or half as fast, or a
        // strobe: stepped 1-5 s ahead and back every 100 ms for the whole fault (Jepsen's bump,
        // rate and strobe).
        const uint64_t pick = rng_() % 7;
        clock = pick < 4 ? (pick % 2 == 0 ? "+" : "-") + std::to_string(1 + rng_() % 5)
                         : std::string(pick == 4 ? "+0 x2" : "+0 x0.5");
        if (pick == 6) {
          a.strobe = "+" + std::to_string(1 + rng_() % 5);
          clock = a.strobe;
          a.next_flip = now + kStrobePeriod;
          a.value["strobe_ms"] = kStrobePeriod.count();
        }
        if (!clock_offset.empty()) clock = clock_offset;
        a.value["clock"] = clock;
      }
      h_.Add(kNemesis, OpType::kInfo, fault, a.value);
      if (fault == "clock") {
        if (!node.SetClock(clock))
          Fail("cannot set node " + std::to_string(node.id()) + "'s clock");
      } else if (fault == "pause") {
        node.Pause();
      } else if (fault == "loss") {
        if (!network_.Loss(node.id() - 1, o_.loss_probability)) Fail("iptables failed (loss)");
      } else {
        node.Kill();
        if (fault == "restart-empty") node.Wipe();
      }
    }
    active_.push_back(std::move(a));
  }

  // Ends active_[i].
  void Heal(size_t i) {
    Active a = std::move(active_[i]);
    active_.erase(active_.begin() + static_cast<std::ptrdiff_t>(i));
    const char* healed = "start";
    if (a.client_pid > 0) {
      ::kill(a.client_pid, SIGCONT);
      healed = "resume";
    } else if (a.fault == "clock") {
      a.node->SetClock("+0");
      healed = "reset";
    } else if (a.fault == "pause") {
      a.node->Resume();
      healed = "resume";
      // The master may have changed while it was stopped (a no-op when it had not).
      if (replicas_ != nullptr) {
        if (auto e = replicas_->Rejoin(a.node->id() - 1)) Fail(*e);
      }
    } else if (IsNetworkFault(a.fault)) {
      // The chain holds every network fault: flushed, and those still in force put back.
      network_.Heal();
      for (const Active& other : active_) {
        if (!other.grudge.empty()) network_.Partition(other.grudge);
        if (other.fault == "loss") network_.Loss(other.node->id() - 1, o_.loss_probability);
      }
      healed = "heal";
      if (a.fault == "failover" && a.promoted) {
        // The orchestrator reaches the old master again: it becomes a replica of the new one.
        if (auto e = replicas_->Rejoin(a.node->id() - 1)) Fail(*e);
      }
    } else {
      Start(*a.node);
    }
    h_.Add(kNemesis, OpType::kInfo, healed, a.value);
  }

  const NemesisOptions& o_;
  std::vector<std::unique_ptr<Node>>& nodes_;
  ClientStalls& clients_;
  Network& network_;
  ReplicaSet* replicas_;
  History& h_;
  std::mt19937_64 rng_;
  std::vector<Active> active_;
  // A drawn fault not begun yet (one waiting for a holder) and when it was drawn.
  struct Drawn {
    std::string fault;
    Clock::time_point at;
  };
  std::optional<Drawn> drawn_;
  std::optional<std::string> error_;
};

}  // namespace

std::optional<std::string> RunNemesis(const NemesisOptions& options,
                                      std::vector<std::unique_ptr<Node>>& nodes,
                                      ClientStalls& clients, Network& network, ReplicaSet* replicas,
                                      History& history, const std::atomic<bool>& stop) {
  return Nemesis(options, nodes, clients, network, replicas, history).Run(stop);
}

}  // namespace keyward::jepsen
