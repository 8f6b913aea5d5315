// A job scheduler run as several replicas: they elect a leader, only the leader dispatches, and
// every job carries the leader's term, so a deposed leader's late dispatches are refused.
//
//   scheduler NODE JOBS [servers]    (servers default: $KEYWARD_SERVERS)
//
// Each replica campaigns for "scheduler" (blocking until elected), then dispatches JOBS jobs:
// job:<n> is written with LOCK.GUARD scheduler <term> SET ..., which refuses terms older than
// the newest one that dispatched. Then it resigns, and a waiting replica takes over at once with
// a higher term. A leader that loses its lease stops dispatching (the lease's stop_token).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "keyward/client/client.h"
#include "keyward/redlock/election.h"
#include "keyward/redlock/redlock.h"

using namespace std::chrono_literals;
namespace redlock = keyward::redlock;
namespace client = keyward::client;

namespace {

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

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: scheduler NODE JOBS [servers]\n");
    return 64;
  }
  const std::string node = argv[1];
  const int jobs = std::atoi(argv[2]);
  const char* env = std::getenv("KEYWARD_SERVERS");
  std::vector<std::string> servers =
      Split(argc > 3 ? argv[3] : (env != nullptr ? env : "redis://127.0.0.1:6379"));

  redlock::Redlock redlock(servers);
  redlock::ElectionOptions options;
  options.ttl = 3s;  // a crashed leader is replaced within about this long
  redlock::Election election(redlock.async(), "scheduler", options);
  auto store_options = client::OptionsFromUrl(servers[0]);
  if (!store_options) return 2;
  client::Client store(*store_options);

  // Blocks until this replica leads.
  redlock::Result<redlock::Leadership> leadership = redlock.Run(election.Campaign(node));
  if (!leadership) {
    std::fprintf(stderr, "%s: %s\n", node.c_str(), leadership.error().message().c_str());
    return 1;
  }
  const uint64_t term = leadership->term();
  std::printf("%s: leader, term %llu\n", node.c_str(), static_cast<unsigned long long>(term));
  std::stop_token lost = leadership->lease().stop_token();
  for (int n = 1; n <= jobs && !lost.stop_requested(); n++) {
    // Stamped with the term: the job queue refuses a deposed leader's dispatch.
    std::string job = "job:" + node + ":" + std::to_string(n);
    auto reply =
        store.Command("LOCK.GUARD", "scheduler", term, "SET", job, "term " + std::to_string(term));
    if (!reply || reply->is_error()) {
      std::printf("%s: dispatch of %s refused\n", node.c_str(), job.c_str());
      break;
    }
    std::printf("%s: dispatched %s (term %llu)\n", node.c_str(), job.c_str(),
                static_cast<unsigned long long>(term));
  }
  if (lost.stop_requested()) {
    std::printf("%s: leadership lost: %s\n", node.c_str(),
                leadership->lease().loss().message().c_str());
    return 1;
  }
  redlock.Run(leadership->Resign());
  std::printf("%s: resigned\n", node.c_str());
  return 0;
}
