// A durable job queue on a stream, with the work fenced.
//
// Producers XADD jobs to the stream `jobs`. Workers share the consumer group `workers`: each takes
// one job at a time with XREADGROUP (blocking while there is none), does it and acknowledges it
// with XACK. A job taken but not acknowledged stays in the group's pending list under the worker's
// name, so a worker that dies mid-job loses nothing: the reaper takes over jobs idle past a
// minimum with XAUTOCLAIM and does them. Every job is done at least once.
//
// Each job is for an account, a resource that workers share. The work runs under the account's
// lock (redlock/), and its result is appended to the account's ledger with the lock's fencing
// token (LOCK.GUARD), which refuses a token older than one it accepted. A worker that stalled past
// its lease while the reaper redid its job therefore cannot write after the reaper has.
//
//   stream_jobs produce --jobs N [--accounts A] [--name P]   add N jobs (job k: account k % A)
//   stream_jobs work --name W                                take jobs until a stop entry
//   stream_jobs reap [--min-idle-ms MS]                      reclaim jobs idle past MS and do them
//   stream_jobs stop --workers K                             add K stop entries: K workers exit
//   stream_jobs check [--jobs N]                             every job done, in token order
//
// Servers: --servers URL[,URL...] (default $KEYWARD_SERVERS) for the locks, the first of which
// also holds the ledgers; --port P is short for redis://127.0.0.1:P; --queue URL puts the stream
// elsewhere (default: the first server). --no-lock: the queue alone, without locks or fencing, so
// that it runs on a plain Redis 7 too.
//
// For tests and demos, `--pause-job N --pause-at taken|locked|written` stops a worker in the middle
// of its Nth job, prints "paused in job ...", and waits for a line on stdin: kill it there (a
// worker that died mid-job) or let it go on later (a worker that stalled past its lease).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "keyward/client/client.h"
#include "keyward/redlock/redlock.h"

using namespace std::chrono_literals;
namespace redlock = keyward::redlock;
namespace client = keyward::client;
using client::Reply;

namespace {

constexpr const char* kStream = "jobs";
constexpr const char* kGroup = "workers";

struct Options {
  std::string mode;
  std::vector<std::string> servers;  // the lock instances; the first also holds the ledgers
  std::string queue;                 // the stream's server; empty: servers[0]
  std::string name;                  // consumer (worker, reaper) or producer name
  int64_t jobs = -1;                 // produce: how many; check: how many expected (-1: any)
  int64_t accounts = 4;
  int64_t workers = 1;
  int64_t min_idle_ms = 60000;  // longer than any job takes, or live workers lose theirs
  int64_t lock_ttl_ms = 10000;
  int64_t block_ms = 5000;
  bool no_lock = false;
  int64_t pause_job = 0;  // 0: never
  std::string pause_at = "taken";
};

std::vector<std::string> Split(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    out.push_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

std::optional<Options> ParseOptions(int argc, char** argv) {
  if (argc < 2) return std::nullopt;
  Options options;
  options.mode = argv[1];
  if (options.mode != "produce" && options.mode != "work" && options.mode != "reap" &&
      options.mode != "stop" && options.mode != "check") {
    return std::nullopt;
  }
  const char* env = std::getenv("KEYWARD_SERVERS");
  options.servers = Split(env != nullptr ? env : "redis://127.0.0.1:6379");
  for (int i = 2; i < argc; i++) {
    const std::string flag = argv[i];
    if (flag == "--no-lock") {
      options.no_lock = true;
      continue;
    }
    if (i + 1 == argc) return std::nullopt;
    const std::string value = argv[++i];
    const int64_t number = std::atoll(value.c_str());
    if (flag == "--servers") {
      options.servers = Split(value);
    } else if (flag == "--port") {
      options.servers = {"redis://127.0.0.1:" + value};
    } else if (flag == "--queue") {
      options.queue = value;
    } else if (flag == "--name") {
      options.name = value;
    } else if (flag == "--jobs") {
      options.jobs = number;
    } else if (flag == "--accounts" && number > 0) {
      options.accounts = number;
    } else if (flag == "--workers") {
      options.workers = number;
    } else if (flag == "--min-idle-ms") {
      options.min_idle_ms = number;
    } else if (flag == "--lock-ttl-ms" && number > 0) {
      options.lock_ttl_ms = number;
    } else if (flag == "--block-ms" && number > 0) {
      options.block_ms = number;
    } else if (flag == "--pause-job") {
      options.pause_job = number;
    } else if (flag == "--pause-at" &&
               (value == "taken" || value == "locked" || value == "written")) {
      options.pause_at = value;
    } else {
      return std::nullopt;
    }
  }
  if (options.servers.empty()) return std::nullopt;
  if (options.queue.empty()) options.queue = options.servers[0];
  if (options.name.empty()) {
    options.name = options.mode == "produce" ? "producer"
                   : options.mode == "reap"  ? "reaper"
                                             : "worker-" + std::to_string(getpid());
  }
  return options;
}

// One entry of the stream, as XREADGROUP, XAUTOCLAIM and XRANGE return it: [id, [field, value,
// ...]], or [id, nil] for an entry still pending but deleted from the stream (trimmed).
struct Job {
  std::string id;
  std::string account;  // the resource the job touches
  bool stop = false;    // a stop entry: the worker that reads it exits
  bool deleted = false;
};

std::optional<Job> ParseEntry(const Reply& entry) {
  auto parts = entry.as_array();
  if (!parts || parts->size() != 2) return std::nullopt;
  auto id = (*parts)[0].as_string();
  if (!id) return std::nullopt;
  Job job;
  job.id = std::string(*id);
  if ((*parts)[1].is_null()) {
    job.deleted = true;
    return job;
  }
  auto fields = (*parts)[1].as_map();  // a flat array of field, value
  if (!fields) return std::nullopt;
  if (fields->Find("stop") != nullptr) {
    job.stop = true;
  } else if (const Reply* account = fields->Find("account"); account && account->as_string()) {
    job.account = std::string(*account->as_string());
  } else {
    return std::nullopt;
  }
  return job;
}

std::vector<Job> ParseEntries(const Reply& entries) {
  std::vector<Job> jobs;
  if (auto list = entries.as_array()) {
    for (const Reply& entry : *list) {
      if (auto job = ParseEntry(entry)) jobs.push_back(std::move(*job));
    }
  }
  return jobs;
}

// XREADGROUP of one stream: RESP3 answers {stream: entries}, RESP2 [[stream, entries]]; null when
// BLOCK timed out.
std::vector<Job> ReadEntries(const Reply& reply) {
  if (auto streams = reply.as_map(); streams && streams->size() == 1) {
    return ParseEntries(streams->value(0));
  }
  if (auto streams = reply.as_array(); streams && streams->size() == 1) {
    if (auto pair = (*streams)[0].as_array(); pair && pair->size() == 2) {
      return ParseEntries((*pair)[1]);
    }
  }
  return {};
}

// Why a command failed: the server's error reply, or the transport's error. Empty if it did not.
std::string Failure(const Reply& reply) {
  return reply.is_error() ? std::string(*reply.as_error()) : std::string();
}
std::string Failure(const client::Expected<Reply>& reply) {
  return reply ? Failure(*reply) : reply.error().message();
}

client::Client Connect(const std::string& url) {
  auto options = client::OptionsFromUrl(url);
  if (!options) {
    std::fprintf(stderr, "bad URL %s: %s\n", url.c_str(), options.error().message().c_str());
    std::exit(64);
  }
  return client::Client(*options);
}

// The group starts at the beginning of the stream (0), so jobs added before it existed are done
// too. Every mode that reads or writes the stream creates it; the later ones are told BUSYGROUP.
bool EnsureGroup(client::Client& queue) {
  auto reply = queue.Command("XGROUP", "CREATE", kStream, kGroup, 0, "MKSTREAM");
  std::string failure = Failure(reply);
  if (failure.empty() || failure.starts_with("BUSYGROUP")) return true;
  std::fprintf(stderr, "XGROUP CREATE: %s\n", failure.c_str());
  return false;
}

enum class Outcome {
  kDone,     // written: acknowledge it
  kRefused,  // the ledger refused the token: a newer holder has written since
  kFailed,   // not done (no lock, no answer): left pending for the reaper
};

class Processor {
 public:
  explicit Processor(const Options& options)
      : options_(options), queue_(Connect(options.queue)), store_(Connect(options.servers[0])) {
    if (!options.no_lock) locks_ = std::make_unique<redlock::Redlock>(options.servers);
  }

  const Options& options() const { return options_; }
  client::Client& queue() { return queue_; }
  client::Client& store() { return store_; }

  // Does one job: appends "<job id> <token> <consumer>" to the account's ledger, under the
  // account's lock and with its fencing token. `pause` is where this job stops for a test, or "".
  Outcome Do(const Job& job, const std::string& consumer, std::string_view pause) {
    Pause(pause == "taken", consumer, job, "taken, not started");
    const std::string resource = "account:" + job.account;
    const std::string ledger = "ledger:" + job.account;
    if (!locks_) {
      auto reply = store_.Command("RPUSH", ledger, job.id + " 0 " + consumer);
      if (std::string failure = Failure(reply); !failure.empty()) {
        std::printf("%s: job %s not done: %s\n", consumer.c_str(), job.id.c_str(), failure.c_str());
        return Outcome::kFailed;
      }
      Pause(pause == "written", consumer, job, "written, not acknowledged");
      return Outcome::kDone;
    }

    redlock::AcquireOptions options;
    options.ttl = std::chrono::milliseconds(options_.lock_ttl_ms);
    options.wait = 60s;  // queue behind the account's other jobs; a dead holder's lease ends
    options.require_fencing = true;
    redlock::Result<redlock::Lock> lock = locks_->Acquire(resource, options);
    if (!lock) {
      std::printf("%s: job %s not done: %s\n", consumer.c_str(), job.id.c_str(),
                  lock.error().message().c_str());
      return Outcome::kFailed;
    }
    {
      redlock::LockGuard guard(*locks_, *lock);  // released at the end of this scope
      const uint64_t token = *lock->token;
      Pause(pause == "locked", consumer, job,
            "holding " + resource + " with token " + std::to_string(token) + ", not written");
      // No check of the lock's validity here: the ledger decides, by the token. A holder that
      // stalled past its lease is refused once a newer holder has written.
      auto reply = store_.Command("LOCK.GUARD", resource, token, "RPUSH", ledger,
                                  job.id + " " + std::to_string(token) + " " + consumer);
      if (std::string failure = Failure(reply); !failure.empty()) {
        std::printf("%s: job %s not done: %s\n", consumer.c_str(), job.id.c_str(), failure.c_str());
        return failure.starts_with("FENCED") ? Outcome::kRefused : Outcome::kFailed;
      }
    }
    Pause(pause == "written", consumer, job, "written, not acknowledged");
    return Outcome::kDone;
  }

  bool Acknowledge(const Job& job, const std::string& consumer) {
    auto reply = queue_.Command("XACK", kStream, kGroup, job.id);
    if (std::string failure = Failure(reply); !failure.empty()) {
      // Done but still pending: it will be done again (at least once, not exactly once).
      std::printf("%s: XACK %s: %s\n", consumer.c_str(), job.id.c_str(), failure.c_str());
      return false;
    }
    return true;
  }

 private:
  // Stops in the middle of a job: prints where, then waits for a line on stdin (or its end).
  static void Pause(bool here, const std::string& consumer, const Job& job,
                    const std::string& where) {
    if (!here) return;
    std::printf("%s: paused in job %s (account %s): %s\n", consumer.c_str(), job.id.c_str(),
                job.account.c_str(), where.c_str());
    std::fflush(stdout);
    for (int c = std::getchar(); c != EOF && c != '\n'; c = std::getchar()) {
    }
  }

  const Options& options_;
  client::Client queue_;
  client::Client store_;
  std::unique_ptr<redlock::Redlock> locks_;  // null with --no-lock
};

int Produce(Processor& p) {
  const Options& options = p.options();
  if (options.jobs < 0 || !EnsureGroup(p.queue())) return 64;
  // In batches: one round trip per thousand jobs.
  for (int64_t first = 1; first <= options.jobs; first += 1000) {
    client::Request batch;
    for (int64_t k = first; k <= options.jobs && k < first + 1000; k++) {
      batch.Push("XADD", kStream, "*", "job", options.name + "/" + std::to_string(k), "account",
                 k % options.accounts);
    }
    auto replies = p.queue().Exec(std::move(batch));
    if (!replies) {
      std::fprintf(stderr, "XADD: %s\n", replies.error().message().c_str());
      return 1;
    }
    for (const Reply& reply : *replies) {
      if (reply.is_error()) {
        std::fprintf(stderr, "XADD: %s\n", std::string(*reply.as_error()).c_str());
        return 1;
      }
    }
  }
  std::printf("%s: added %lld jobs\n", options.name.c_str(), static_cast<long long>(options.jobs));
  return 0;
}

int Stop(Processor& p) {
  if (!EnsureGroup(p.queue())) return 1;
  client::Request stops;
  for (int64_t i = 0; i < p.options().workers; i++) stops.Push("XADD", kStream, "*", "stop", 1);
  auto replies = p.queue().Exec(std::move(stops));
  if (!replies) return 1;
  std::printf("stop entries added: %lld\n", static_cast<long long>(p.options().workers));
  return 0;
}

int Work(Processor& p) {
  const Options& options = p.options();
  const std::string& name = options.name;
  if (!EnsureGroup(p.queue())) return 1;
  // First the jobs this consumer took in an earlier life and did not acknowledge (a restart under
  // the same name): reading from an ID returns them, from "0" on. Then new jobs (">").
  std::string from = "0";
  int64_t taken = 0, done = 0, refused = 0, failed = 0;
  for (;;) {
    client::Request read;
    read.Push("XREADGROUP", "GROUP", kGroup, name, "COUNT", 1, "BLOCK", options.block_ms, "STREAMS",
              kStream, from);
    // The client's limit is only a guard against a server that stopped answering.
    auto replies =
        p.queue().Exec(std::move(read), std::chrono::milliseconds(options.block_ms) + 10s);
    std::string failure = replies ? Failure(replies->front()) : replies.error().message();
    if (!failure.empty()) {
      std::fprintf(stderr, "%s: XREADGROUP: %s\n", name.c_str(), failure.c_str());
      return 1;
    }
    std::vector<Job> jobs = ReadEntries(replies->front());
    if (jobs.empty()) {
      from = ">";  // our backlog is done; or null: BLOCK timed out, ask again
      continue;
    }
    const Job& job = jobs.front();
    if (from != ">") {
      from = job.id;  // the next one of the backlog, if any
      std::printf("%s: resuming job %s, taken before a restart\n", name.c_str(), job.id.c_str());
    }
    if (job.deleted) {
      p.Acknowledge(job, name);  // trimmed from the stream: nothing left to do
      continue;
    }
    if (job.stop) {
      p.Acknowledge(job, name);
      std::printf("%s: stopped: taken %lld, done %lld, refused %lld, failed %lld\n", name.c_str(),
                  static_cast<long long>(taken), static_cast<long long>(done),
                  static_cast<long long>(refused), static_cast<long long>(failed));
      return 0;
    }
    ++taken;
    switch (p.Do(job, name, taken == options.pause_job ? options.pause_at : "")) {
      case Outcome::kDone:
        if (p.Acknowledge(job, name)) ++done;
        break;
      case Outcome::kRefused:
        ++refused;  // not acknowledged: the job is someone else's by now, or the reaper's later
        break;
      case Outcome::kFailed:
        ++failed;
        break;
    }
  }
}

// One pass over the pending list: every job idle past --min-idle-ms is claimed by this consumer
// (XAUTOCLAIM moves it to us and restarts its idle time, so two reapers do not both take it) and
// done here. Run it periodically, with a minimum idle time longer than any job takes.
int Reap(Processor& p) {
  const Options& options = p.options();
  const std::string& name = options.name;
  if (!EnsureGroup(p.queue())) return 1;
  std::string cursor = "0-0";
  int64_t claimed = 0, done = 0, deleted = 0;
  do {
    auto reply = p.queue().Command("XAUTOCLAIM", kStream, kGroup, name, options.min_idle_ms, cursor,
                                   "COUNT", 100);
    if (std::string failure = Failure(reply); !failure.empty()) {
      std::fprintf(stderr, "%s: XAUTOCLAIM: %s\n", name.c_str(), failure.c_str());
      return 1;
    }
    // [next cursor, claimed entries, IDs that were pending but are gone from the stream (the
    // server dropped them from the pending list)].
    auto parts = reply->as_array();
    if (!parts || parts->size() < 2) return 1;
    cursor = std::string((*parts)[0].as_string().value());
    if (parts->size() > 2) {
      if (auto gone = (*parts)[2].as_array()) deleted += static_cast<int64_t>(gone->size());
    }
    for (const Job& job : ParseEntries((*parts)[1])) {
      if (job.stop) {  // its worker died before acknowledging it
        p.Acknowledge(job, name);
        continue;
      }
      ++claimed;
      std::printf("%s: reclaimed job %s (account %s)\n", name.c_str(), job.id.c_str(),
                  job.account.c_str());
      if (p.Do(job, name, "") == Outcome::kDone && p.Acknowledge(job, name)) ++done;
    }
  } while (cursor != "0-0");
  std::printf("%s: reclaimed %lld, done %lld, gone from the stream %lld (min idle %lld ms)\n",
              name.c_str(), static_cast<long long>(claimed), static_cast<long long>(done),
              static_cast<long long>(deleted), static_cast<long long>(options.min_idle_ms));
  return done == claimed ? 0 : 1;
}

// Reads every job of the stream and every account's ledger: each job must be in a ledger (done at
// least once), nothing pending, and each ledger's tokens never going down (the store never
// accepted a token older than one it had accepted).
int Check(Processor& p) {
  const Options& options = p.options();
  std::map<std::string, std::string> jobs;  // id -> account
  std::string start = "-";
  for (;;) {
    auto reply = p.queue().Command("XRANGE", kStream, start, "+", "COUNT", 1000);
    if (std::string failure = Failure(reply); !failure.empty()) {
      std::printf("check: FAILED: XRANGE: %s\n", failure.c_str());
      return 1;
    }
    std::vector<Job> page = ParseEntries(*reply);
    if (page.empty()) break;
    for (const Job& job : page) {
      if (!job.stop) jobs[job.id] = job.account;
    }
    start = "(" + page.back().id;  // exclusive: after the last one read
  }

  std::map<std::string, int> done;  // id -> times written to a ledger
  std::set<std::string> accounts;
  for (const auto& [id, account] : jobs) accounts.insert(account);
  int64_t writes = 0, fenced = 0, stale = 0;
  for (const std::string& account : accounts) {
    auto reply = p.store().Command("LRANGE", "ledger:" + account, 0, -1);
    if (std::string failure = Failure(reply); !failure.empty()) {
      std::printf("check: FAILED: LRANGE: %s\n", failure.c_str());
      return 1;
    }
    auto lines = reply->as_array();
    if (!lines) return 1;
    uint64_t highest = 0;
    for (const Reply& line : *lines) {
      std::istringstream fields{std::string(*line.as_string())};
      std::string id, worker;
      uint64_t token = 0;
      fields >> id >> token >> worker;
      ++done[id];
      ++writes;
      if (token == 0) continue;  // --no-lock
      ++fenced;
      if (token < highest) {
        ++stale;
        std::printf("check: ledger:%s accepted token %llu after %llu (job %s by %s)\n",
                    account.c_str(), static_cast<unsigned long long>(token),
                    static_cast<unsigned long long>(highest), id.c_str(), worker.c_str());
      }
      highest = std::max(highest, token);
    }
  }

  int64_t missing = 0;
  std::string twice;
  int64_t done_twice = 0;
  for (const auto& [id, account] : jobs) {
    auto it = done.find(id);
    if (it == done.end()) {
      if (++missing <= 10) {
        std::printf("check: job %s (account %s) not done\n", id.c_str(), account.c_str());
      }
    } else if (it->second > 1) {
      ++done_twice;
      twice += " " + id;
    }
  }
  auto pending = p.queue().Command("XPENDING", kStream, kGroup);
  if (std::string failure = Failure(pending); !failure.empty()) {
    std::printf("check: FAILED: XPENDING: %s\n", failure.c_str());
    return 1;
  }
  const int64_t pending_count = (*pending->as_array())[0].as_integer().value();

  const int64_t count = static_cast<int64_t>(jobs.size());
  if (!twice.empty()) twice = " (" + twice.substr(1) + ")";
  std::printf("jobs: %lld in the stream, %lld done, %lld missing, %lld done more than once%s\n",
              static_cast<long long>(count), static_cast<long long>(count - missing),
              static_cast<long long>(missing), static_cast<long long>(done_twice), twice.c_str());
  std::printf("pending: %lld\n", static_cast<long long>(pending_count));
  std::printf("ledgers: %lld writes on %zu accounts, %lld under a fencing token, %lld stale\n",
              static_cast<long long>(writes), accounts.size(), static_cast<long long>(fenced),
              static_cast<long long>(stale));
  const bool ok = (options.jobs < 0 || count == options.jobs) && missing == 0 &&
                  pending_count == 0 && stale == 0;
  if (options.jobs >= 0 && count != options.jobs) {
    std::printf("check: expected %lld jobs in the stream\n", static_cast<long long>(options.jobs));
  }
  std::printf("check: %s\n", ok ? "OK" : "FAILED");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<Options> options = ParseOptions(argc, argv);
  if (!options) {
    std::fprintf(stderr,
                 "usage: stream_jobs produce|work|reap|stop|check [--servers URL,...|--port P]\n"
                 "         [--queue URL] [--name NAME] [--jobs N] [--accounts A] [--workers K]\n"
                 "         [--min-idle-ms MS] [--lock-ttl-ms MS] [--block-ms MS] [--no-lock]\n"
                 "         [--pause-job N --pause-at taken|locked|written]\n");
    return 64;
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // a test reads the lines as they come
  Processor processor(*options);
  if (options->mode == "produce") return Produce(processor);
  if (options->mode == "work") return Work(processor);
  if (options->mode == "reap") return Reap(processor);
  if (options->mode == "stop") return Stop(processor);
  return Check(processor);
}
