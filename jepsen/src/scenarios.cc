#include "scenarios.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

#include "cli_workload.h"
#include "election_workload.h"
#include "history.h"
#include "keyward/redlock/election.h"
#include "keyward/redlock/redlock.h"
#include "lock_workload.h"
#include "network.h"
#include "nodes.h"

extern char** environ;

namespace keyward::jepsen {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr int kActor = 900;  // the scenario's own records ("expect")
const std::string kResource = "jepsen-lock";

// The scenario's nodes: fresh keyward-servers on their own loopback addresses, with their data
// (AOF, appendfsync always) across a kill.
struct Cluster {
  Network network;
  NodeOptions options;
  std::vector<std::unique_ptr<Node>> nodes;

  Cluster(int n, const fs::path& dir, const std::string& server) : network(n) {
    options.binary = server;
    for (int i = 0; i < n; i++) {
      nodes.push_back(std::make_unique<Node>(
          i + 1, network.NodeAddress(i), (dir / ("n" + std::to_string(i + 1))).string(), options));
    }
  }
  std::optional<std::string> Start() {
    for (auto& n : nodes) {
      if (auto e = n->Start()) return e;
    }
    return std::nullopt;
  }
  Node& operator[](int i) { return *nodes[static_cast<size_t>(i)]; }
  LockWorkloadOptions Options(int ttl_ms) const {
    LockWorkloadOptions o;
    for (const auto& n : nodes) o.urls.push_back(n->url());
    o.ttl = std::chrono::milliseconds(ttl_ms);
    o.resource = kResource;
    o.concurrency = 3;
    return o;
  }
};

void Expect(History& h, bool ok, const std::string& what, nlohmann::json detail = nullptr) {
  nlohmann::json v = {{"what", what}};
  if (!detail.is_null()) v["detail"] = std::move(detail);
  h.Add(kActor, ok ? OpType::kOk : OpType::kFail, "expect", v);
}

void Fault(History& h, const std::string& f, nlohmann::json v) {
  h.Add(kNemesis, OpType::kInfo, f, std::move(v));
}

// Polls `done` every 10 ms until it holds (true) or `limit` passed (false).
bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

std::optional<std::string> Save(const History& h, const fs::path& dir) {
  return SaveHistory(h.ops(), (dir / "history.jsonl").string());
}

// An acquisition by `process` through `r`, recorded as the lock workloads record one.
std::optional<redlock::Lock> Acquire(redlock::Redlock& r, History& h, int process,
                                     const redlock::AcquireOptions& ao,
                                     const std::string& resource = kResource) {
  h.Add(process, OpType::kInvoke, "acquire", {{"resource", resource}});
  redlock::Result<redlock::Lock> lock = r.Acquire(resource, ao);
  if (!lock) {
    h.Add(process, OpType::kFail, "acquire",
          {{"resource", resource}, {"error", lock.error().message()}});
    return std::nullopt;
  }
  nlohmann::json got = {{"resource", resource}, {"valid_until", h.ToNs(lock->valid_until)}};
  if (lock->token) got["token"] = *lock->token;
  h.Add(process, OpType::kOk, "acquire", got);
  return *lock;
}

void Release(redlock::Redlock& r, History& h, int* process, const redlock::Lock& lock) {
  h.Add(*process, OpType::kInvoke, "release", {{"resource", lock.resource}});
  redlock::Error e = r.Release(lock);
  RecordRelease(h, process, 10, lock.resource,
                e ? std::optional<std::string>(e.message()) : std::nullopt);
}

// A write of `token` to the fenced store by `process`: whether it was accepted.
bool StoreWrite(Store& store, History& h, int process, uint64_t token) {
  h.Add(process, OpType::kInvoke, "write", {{"resource", kResource}, {"token", token}});
  const bool accepted = store.Write(kResource, token);
  h.Add(process, OpType::kOk, "write",
        {{"resource", kResource}, {"token", token}, {"accepted", accepted}});
  return accepted;
}

redlock::AcquireOptions Fenced(int ttl_ms) {
  redlock::AcquireOptions ao;
  ao.ttl = std::chrono::milliseconds(ttl_ms);
  ao.retry_count = 0;
  ao.require_fencing = true;
  return ao;
}

// A candidate of the election on kResource: client process `index`'s Redlock and Election.
struct Candidate {
  redlock::Redlock redlock;
  redlock::Election election;
  Candidate(const LockWorkloadOptions& o, int index)
      : redlock(o.urls, ProcessRedlockOptions(o, index)),
        election(redlock.async(), kResource, Options(o)) {}
  static redlock::ElectionOptions Options(const LockWorkloadOptions& o) {
    redlock::ElectionOptions eo;
    eo.ttl = o.ttl;
    return eo;
  }
  redlock::Result<redlock::Leadership> Campaign(History& h, int process, const std::string& value,
                                                std::chrono::milliseconds wait) {
    return RecordedCampaign(redlock, election, h, process, kResource, value, wait);
  }
};

// --- the choreographies ---

// A queued waiter (one instance: the server's FIFO hand-off) stopped while the lock is handed to
// it, resumed after its lease ran out and a third client took the lock.
std::optional<std::string> WaiterPausedAtHandoff(const fs::path& dir, const ScenarioPaths& p) {
  Cluster c(1, dir, p.server);
  if (auto e = c.Start()) return e;
  History h;
  const LockWorkloadOptions o = c.Options(1000);
  ClientStalls clients(o.concurrency);
  CliClients cli(o, p.keyward, p.self, (dir / "cli.log").string(), h, clients);
  if (auto e = cli.Start()) return e;
  // The free lock, taken with a wait so that a slow first answer (a loaded machine, over the
  // 100 ms per-server timeout) is retried rather than failing the scenario.
  const CliAttempt a = cli.Launch(0, 0, 20000, 1500, false);
  if (!WaitUntil([&] { return cli.Holding(a); }, 30s)) return "the first client got no lock";
  const CliAttempt b = cli.Launch(1, 1, 20000, 1500, false);
  if (!WaitUntil([&] { return InfoField(c[0], "clients", "blocked_clients") == "1"; }, 30s)) {
    return "the waiter did not queue";
  }
  ::kill(b.pid, SIGSTOP);
  Fault(h, "client-pause", {{"client", 1}, {"pid", b.pid}});
  cli.Finish(a);  // its child ends: released, and handed to the stopped waiter
  // The handed-off lease runs out on the server: nobody renews it.
  const bool expired = WaitUntil([&] { return Admin(c[0], {"EXISTS", kResource}) == "0"; }, 30s);
  Expect(h, expired, "the lease handed to the stopped waiter runs out");
  const CliAttempt third = cli.Launch(2, 2, 20000, 1500, false);
  Expect(h, WaitUntil([&] { return cli.Holding(third); }, 30s),
         "a third client takes the lock once that lease ran out");
  ::kill(b.pid, SIGCONT);
  Fault(h, "resume", {{"client", 1}, {"pid", b.pid}});
  cli.Finish(third);
  cli.Finish(b);
  cli.FinalCheck(1000);
  return Save(h, dir);
}

// A holder re-enters its lock (its own owner) while 2 of 3 instances answer later than the
// per-instance timeout: the re-entry fails, and the lock it already held must stay held.
std::optional<std::string> ReentrySlowMajority(const fs::path& dir, const ScenarioPaths& p) {
  Cluster c(3, dir, p.server);
  if (auto e = c.Start()) return e;
  History h;
  const LockWorkloadOptions o = c.Options(4000);
  redlock::Redlock ra(o.urls, ProcessRedlockOptions(o, 0));
  redlock::Redlock rb(o.urls, ProcessRedlockOptions(o, 1));
  const redlock::AcquireOptions ao = Fenced(4000);
  std::optional<redlock::Lock> a = Acquire(ra, h, 0, ao);
  if (!a) return "the first acquisition failed";
  c[1].Pause();
  c[2].Pause();
  Fault(h, "pause", {{"nodes", {2, 3}}});
  redlock::AcquireOptions again = ao;
  again.owner = a->owner;
  h.Add(0, OpType::kInvoke, "reenter", {{"resource", kResource}});
  redlock::Result<redlock::Lock> re = ra.Acquire(kResource, again);
  h.Add(0, re ? OpType::kOk : OpType::kFail, "reenter",
        {{"resource", kResource}, {"error", re ? "" : re.error().message()}});
  Expect(h, !re, "the re-entry fails: 2 of 3 instances answer after the per-instance timeout");
  if (re) a = *re;
  c[1].Resume();
  c[2].Resume();
  Fault(h, "resume", {{"nodes", {2, 3}}});
  // The paused instances ran what queued up meanwhile; give them a round trip.
  Admin(c[1], {"PING"});
  Admin(c[2], {"PING"});
  const std::string holder = Admin(c[0], {"GET", kResource});
  Expect(h, holder == a->owner, "the first instance still holds the lock for its owner",
         {{"holder", holder}});
  // Nobody else gets it while its lease runs (the checker's lease-overlap otherwise).
  int bp = 1;
  while (std::chrono::steady_clock::now() < a->valid_until - 300ms) {
    if (std::optional<redlock::Lock> b = Acquire(rb, h, bp, ao)) Release(rb, h, &bp, *b);
    std::this_thread::sleep_for(50ms);
  }
  int ap = 0;
  Release(ra, h, &ap, *a);
  std::optional<redlock::Lock> b = Acquire(rb, h, bp, ao);
  Expect(h, b.has_value(), "after the release another client gets the lock");
  if (b) Release(rb, h, &bp, *b);
  return Save(h, dir);
}

// The lock deleted (DEL on one instance, FLUSHALL on another) behind its holder's back while
// another client takes it, writes and releases it: fencing keeps the holder's stale write out.
std::optional<std::string> LockDeletedOnMajority(const fs::path& dir, const ScenarioPaths& p) {
  Cluster c(3, dir, p.server);
  if (auto e = c.Start()) return e;
  History h;
  Store store(/*fenced=*/true);
  const LockWorkloadOptions o = c.Options(3000);
  redlock::Redlock ra(o.urls, ProcessRedlockOptions(o, 0));
  redlock::Redlock rb(o.urls, ProcessRedlockOptions(o, 1));
  const redlock::AcquireOptions ao = Fenced(3000);
  std::atomic<bool> lost{false};
  redlock::LeaseOptions lo;
  lo.on_lost = [&lost](const redlock::Error&) { lost = true; };
  h.Add(0, OpType::kInvoke, "acquire", {{"resource", kResource}});
  redlock::Result<redlock::Lease> lease = ra.AcquireLease(kResource, ao, std::move(lo));
  if (!lease) return "the first acquisition failed: " + lease.error().message();
  const uint64_t ta = *lease->fencing_token();
  h.Add(0, OpType::kOk, "acquire",
        {{"resource", kResource}, {"token", ta}, {"valid_until", h.ToNs(lease->valid_until())}});
  Admin(c[0], {"DEL", kResource});
  Fault(h, "delete", {{"node", 1}, {"command", "DEL"}});
  Admin(c[1], {"FLUSHALL"});
  Fault(h, "delete", {{"node", 2}, {"command", "FLUSHALL"}});
  int bp = 1;
  std::optional<redlock::Lock> b = Acquire(rb, h, bp, ao);
  Expect(h, b.has_value(), "another client takes the lock on the two instances that lost it");
  if (b) {
    Expect(h, StoreWrite(store, h, bp, *b->token), "its write is accepted");
    Expect(h, WaitUntil([&] { return lost.load(); }, 6s),
           "the first holder's lease reports the loss at its next renewal");
    Release(rb, h, &bp, *b);
  }
  Expect(h, !StoreWrite(store, h, 0, ta), "the first holder's stale write is refused");
  h.Add(0, OpType::kInvoke, "release",
        {{"resource", kResource}, {"valid_until", h.ToNs(lease->valid_until())}});
  ra.Release(*lease);
  h.Add(0, OpType::kOk, "release", {{"resource", kResource}});
  return Save(h, dir);
}

// Every instance restarted in turn (SIGKILL, restart with its data) while one leader holds:
// it keeps its leadership, a challenger campaigning all along never wins meanwhile, and takes
// over once the leader resigns.
std::optional<std::string> RollingRestartLeadership(const fs::path& dir, const ScenarioPaths& p) {
  Cluster c(3, dir, p.server);
  if (auto e = c.Start()) return e;
  History h;
  const LockWorkloadOptions o = c.Options(1500);
  Candidate leader(o, 0);
  redlock::Result<redlock::Leadership> lead = leader.Campaign(h, 0, "leader", 10s);
  if (!lead) return "no leader: " + lead.error().message();
  std::atomic<bool> stop{false}, won{false};
  std::thread challenger([&] {
    Candidate challenger(o, 1);
    int process = 1;
    while (!stop.load()) {
      redlock::Result<redlock::Leadership> l = challenger.Campaign(h, process, "challenger", 300ms);
      if (!l) continue;
      won = true;
      RecordedResign(challenger.redlock, *l, h, &process, 10, kResource);
    }
  });
  std::optional<std::string> error;
  for (int i = 0; i < 3 && !error; i++) {
    Fault(h, "kill", {{"node", i + 1}});
    c[i].Kill();
    error = c[i].Start();
    Fault(h, "start", {{"node", i + 1}});
    // Two renewals with the instance back before the next one goes.
    const int renewals = lead->lease().renewals();
    WaitUntil([&] { return lead->lease().renewals() >= renewals + 2 || lead->lease().lost(); },
              10s);
  }
  Expect(h, !lead->lease().lost(),
         "the leader kept its lease through the rolling restart of every instance");
  Expect(h, !won.load(), "the challenger did not win while the leader held");
  int lp = 0;
  RecordedResign(leader.redlock, *lead, h, &lp, 10, kResource);
  Expect(h, WaitUntil([&] { return won.load(); }, 10s),
         "once the leader resigned, the challenger won");
  stop = true;
  challenger.join();
  if (error) return error;
  return Save(h, dir);
}

// Tokens out of range (near 2^53, 2^63, 2^64, negative, not numbers) and tokens of another
// resource sent to LOCK.GUARD and LOCK.FENCE: each refused, nothing moved, the holder's own writes
// unaffected; and a counter at its maximum refuses to issue rather than wrap.
std::optional<std::string> ForeignTokens(const fs::path& dir, const ScenarioPaths& p) {
  Cluster c(1, dir, p.server);
  if (auto e = c.Start()) return e;
  History h;
  const LockWorkloadOptions o = c.Options(20000);
  redlock::Redlock r(o.urls, ProcessRedlockOptions(o, 0));
  const redlock::AcquireOptions ao = Fenced(20000);
  std::optional<redlock::Lock> y = Acquire(r, h, 0, ao, "scenario-y");
  if (!y) return "no lock on scenario-y";
  const uint64_t ty = *y->token;
  // Another resource's counter moved past this one's.
  std::optional<uint64_t> tx;
  int xp = 1;
  for (int i = 0; i < 3; i++) {
    if (std::optional<redlock::Lock> x = Acquire(r, h, xp, ao, "scenario-x")) {
      tx = x->token;
      Release(r, h, &xp, *x);
    }
  }
  if (!tx) return "no lock on scenario-x";
  Node& n = c[0];
  auto guard = [&](const std::string& token, const std::string& value) {
    return Admin(n, {"LOCK.GUARD", "scenario-y", token, "SET", "scenario-y:data", value});
  };
  Expect(h, guard(std::to_string(ty), "1") == "OK", "the holder's guarded write");
  for (const char* bad : {"0", "-1", "9007199254740992", "9223372036854775807",
                          "9223372036854775808", "18446744073709551615"}) {
    const std::string g = guard(bad, "bad"),
                      f = Admin(n, {"LOCK.FENCE", "scenario-y", y->owner, bad});
    Expect(h, g.rfind("error: ERR fencing token is out of range", 0) == 0,
           std::string("LOCK.GUARD refuses token ") + bad, {{"reply", g}});
    Expect(h, f.rfind("error: ERR fencing token is out of range", 0) == 0,
           std::string("LOCK.FENCE refuses token ") + bad, {{"reply", f}});
  }
  for (const char* junk : {"", "18446744073709551616", "1e3", "0x10", "abc"}) {
    const std::string g = guard(junk, "bad");
    Expect(h, g.rfind("error: ", 0) == 0, std::string("LOCK.GUARD refuses '") + junk + "'",
           {{"reply", g}});
  }
  if (*tx > ty) {
    const std::string g = guard(std::to_string(*tx), "bad");
    Expect(h, g.rfind("error: NOTISSUED", 0) == 0,
           "another resource's token above this one's counter is refused as never issued here",
           {{"reply", g}});
  }
  const std::string older = guard(std::to_string(ty - 1), "bad");
  Expect(h, older.rfind("error: FENCED", 0) == 0, "a token below the guard's mark is FENCED",
         {{"reply", older}});
  const std::string seen =
      Admin(n, {"EVAL", "return redis.call('LOCK.INFO', KEYS[1])[10]", "1", "scenario-y"});
  Expect(h, seen == std::to_string(ty), "no refused token moved the guard's mark",
         {{"seen", seen}});
  Expect(h, guard(std::to_string(ty), "2") == "OK", "the holder still writes");
  Expect(h, Admin(n, {"GET", "scenario-y:data"}) == "2", "no refused write reached the data");
  // A counter at the maximum (2^53 - 1): the next fenced acquisition fails, never wraps.
  Expect(h, Admin(n, {"LOCK.RECORD", "scenario-z", "9007199254740991", "0", "", "0"}) == "OK",
         "the counter is set to its maximum");
  h.Add(2, OpType::kInvoke, "acquire", {{"resource", "scenario-z"}});
  redlock::Result<redlock::Lock> z = r.Acquire("scenario-z", ao);
  h.Add(2, z ? OpType::kOk : OpType::kFail, "acquire",
        z ? nlohmann::json{{"resource", "scenario-z"}, {"token", z->token.value_or(0)}}
          : nlohmann::json{{"resource", "scenario-z"}, {"error", z.error().message()}});
  Expect(h, !z && z.error().message().find("reached its maximum") != std::string::npos,
         "a fenced acquisition of a counter at its maximum fails instead of wrapping",
         {{"error", z ? "" : z.error().message()}});
  int yp = 0;
  Release(r, h, &yp, *y);
  return Save(h, dir);
}

// `keyward observe` while a majority refuses connections (killed): it prints nothing (errors
// go to stderr), and once they are back it prints what the election says.
std::optional<std::string> ObserveMajorityDown(const fs::path& dir, const ScenarioPaths& p) {
  Cluster c(3, dir, p.server);
  if (auto e = c.Start()) return e;
  History h;
  const LockWorkloadOptions o = c.Options(1500);
  Candidate first(o, 0);
  redlock::Result<redlock::Leadership> lead = first.Campaign(h, 0, "first", 10s);
  if (!lead) return "no leader: " + lead.error().message();
  const uint64_t term1 = lead->term();
  const std::string owner1 = lead->lease().owner();

  // keyward observe, its stdout read line by line.
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return "pipe failed";
  std::string servers;
  for (const std::string& u : o.urls) servers += (servers.empty() ? "" : ",") + u;
  std::vector<std::string> argv = {p.keyward, "observe",   kResource, "--servers",
                                   servers,   "--timeout", "100"};
  std::vector<char*> cargv;
  for (std::string& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_adddup2(&files, out[1], 1);
  posix_spawn_file_actions_addopen(&files, 2, (dir / "observe.log").c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  pid_t observer = -1;
  const int rc = ::posix_spawn(&observer, cargv[0], &files, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&files);
  ::close(out[1]);
  if (rc != 0) {
    ::close(out[0]);
    return "cannot run " + p.keyward;
  }
  std::mutex mu;
  std::vector<std::string> lines;
  std::thread reader([&] {
    FILE* f = ::fdopen(out[0], "r");
    char buf[1024];
    while (f != nullptr && std::fgets(buf, sizeof(buf), f) != nullptr) {
      std::string line(buf);
      while (!line.empty() && line.back() == '\n') line.pop_back();
      nlohmann::json v = {{"line", line}};
      if (line.rfind("term=", 0) == 0) v["term"] = std::stoull(line.substr(5));
      h.Add(800, OpType::kOk, "observe", v);
      std::lock_guard<std::mutex> lock(mu);
      lines.push_back(line);
    }
    if (f != nullptr) std::fclose(f);
  });
  auto printed = [&](const std::function<bool(const std::string&)>& match, size_t from) {
    std::lock_guard<std::mutex> lock(mu);
    for (size_t i = from; i < lines.size(); i++) {
      if (match(lines[i])) return true;
    }
    return false;
  };
  auto count = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return lines.size();
  };
  const std::string term1_line = "term=" + std::to_string(term1) + " ";
  Expect(h,
         WaitUntil(
             [&] {
               return printed([&](const std::string& l) { return l.rfind(term1_line, 0) == 0; }, 0);
             },
             30s),
         "observe prints the leader");
  const size_t before = count();
  Fault(h, "kill", {{"nodes", {2, 3}}});
  c[1].Kill();
  c[2].Kill();
  Expect(h, WaitUntil([&] { return lead->lease().lost(); }, 10s),
         "the leader's lease is lost once a majority is gone");
  int lp = 0;
  RecordedResign(first.redlock, *lead, h, &lp, 10, kResource);
  // The one instance left saw the leader's key expire: still no majority to say so.
  std::this_thread::sleep_for(o.ttl);
  Expect(h, count() == before, "observe printed nothing while a majority refused connections");
  std::optional<std::string> error;
  for (int i : {1, 2}) {
    if (auto e = c[i].Start(); e && !error) error = e;
  }
  Fault(h, "start", {{"nodes", {2, 3}}});
  Expect(
      h,
      WaitUntil([&] { return printed([](const std::string& l) { return l == "none"; }, before); },
                30s),
      "once they are back, observe prints that there is no leader");
  Candidate second(o, 1);
  redlock::Result<redlock::Leadership> next = second.Campaign(h, 1, "second", 10s);
  std::map<uint64_t, std::string> owners = {{term1, owner1}};  // the election's leaders
  if (next) {
    owners[next->term()] = next->lease().owner();
    const std::string line = "term=" + std::to_string(next->term()) + " ";
    Expect(h,
           WaitUntil(
               [&] {
                 return printed([&](const std::string& l) { return l.rfind(line, 0) == 0; },
                                before);
               },
               30s),
           "observe prints the next leader");
    int np = 1;
    RecordedResign(second.redlock, *next, h, &np, 10, kResource);
  } else {
    Expect(h, false, "a second leader is elected once the instances are back");
  }
  ::kill(observer, SIGTERM);
  ::waitpid(observer, nullptr, 0);
  reader.join();
  // Every line observe printed is a leader the election had: its term with that term's owner,
  // terms never going back.
  uint64_t last = 0;
  bool real = true;
  for (const std::string& l : lines) {
    if (l.rfind("term=", 0) != 0) continue;
    const uint64_t t = std::stoull(l.substr(5));
    const size_t at = l.find(" owner=");
    const std::string owner = at == std::string::npos ? "" : l.substr(at + 7);
    real = real && t >= last && owners.count(t) && owners[t] == owner;
    last = t;
  }
  Expect(h, real, "observe printed only leaders the election had (term and owner), in order",
         {{"lines", lines}});
  if (error) return error;
  return Save(h, dir);
}

std::vector<Scenario> Build() {
  std::vector<Scenario> all;
  all.push_back({"waiter-paused-at-handoff",
                 "one instance; a queued `keyward lock --wait` stopped (SIGSTOP) while the lock "
                 "is handed to it, resumed after that lease ran out and a third client took the "
                 "lock",
                 "",
                 {},
                 std::nullopt,
                 WaiterPausedAtHandoff});
  all.push_back({"reentry-slow-majority",
                 "3 instances; a holder re-enters its lock while 2 of them are stopped longer "
                 "than the per-instance timeout; another client tries all along",
                 "",
                 {},
                 std::nullopt,
                 ReentrySlowMajority});
  Scenario::Preset skew;
  skew.workload = "fenced-lock";
  skew.time_limit_s = 12;
  skew.duration_ms = 3000;
  for (int round = 0; round < 2; round++) {
    const auto at = std::chrono::milliseconds(1000 + round * 5000);
    skew.script.push_back({at, "clock", 0, round == 0 ? "+3" : "+0 x2"});
    skew.script.push_back({at + 500ms, "restart-empty", 1, ""});
    skew.script.push_back({at + 1000ms, "partition", 2, ""});
  }
  all.push_back({"skew-restart-partition",
                 "fenced-lock on 3 instances; twice: n1's wall clock stepped +3 s (then running "
                 "twice as fast), n2 restarted empty, n3 cut off, all at once",
                 "",
                 {},
                 skew,
                 nullptr});
  all.push_back({"lock-deleted-on-majority",
                 "3 instances; the holder's lock deleted behind its back (DEL on n1, FLUSHALL "
                 "on n2) while another client takes it, writes to the fenced store and releases "
                 "it",
                 "only the lock's clients change its key (docs/coordination.md: `DEL` breaks a "
                 "lock): two leases overlap, fencing keeps the stale holder out",
                 {"lease-overlap"},
                 std::nullopt,
                 LockDeletedOnMajority});
  all.push_back({"rolling-restart-leadership",
                 "3 instances; each killed and restarted with its data in turn during one "
                 "leadership, a challenger campaigning all along",
                 "",
                 {},
                 std::nullopt,
                 RollingRestartLeadership});
  Scenario::Preset cli;
  cli.workload = "cli";
  cli.nemesis = "client-pause,client-kill,partition";
  all.push_back({"cli-lease-loss",
                 "the cli workload: `keyward lock` running a process tree, its keyward stopped "
                 "past the lease, SIGKILLed, cut off by partitions",
                 "",
                 {},
                 cli,
                 nullptr});
  all.push_back({"foreign-tokens",
                 "one instance; tokens near 2^53, 2^63 and 2^64, negative, malformed, and "
                 "another resource's sent to LOCK.GUARD and LOCK.FENCE; a counter at its maximum",
                 "",
                 {},
                 std::nullopt,
                 ForeignTokens});
  all.push_back({"observe-majority-down",
                 "3 instances; `keyward observe` while 2 are killed (connections refused), then "
                 "back with a new leader",
                 "",
                 {},
                 std::nullopt,
                 ObserveMajorityDown});
  return all;
}

}  // namespace

const std::vector<Scenario>& Scenarios() {
  static const std::vector<Scenario> all = Build();
  return all;
}

const Scenario* FindScenario(const std::string& name) {
  for (const Scenario& s : Scenarios()) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

nlohmann::json ScenarioFields(const Scenario& s) {
  return {{"scenario", s.name},
          {"what", s.what},
          {"assumption", s.assumption},
          {"explained", s.explained}};
}

}  // namespace keyward::jepsen
