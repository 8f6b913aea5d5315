// A microservice that updates orders under a lock, and a store that refuses stale writers.
//
// Each update takes the lock orders:<id> (Redlock over the servers given), writes under the
// lock's fencing token with LOCK.GUARD, and releases. The second half shows why the token
// matters: a worker that stalls past its lease (a GC pause, a stopped VM) comes back believing it
// still holds the lock, and its write is refused because a newer holder has written since.
//
//   fenced_store redis://127.0.0.1:7000[,redis://...]    (default: $KEYWARD_SERVERS)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "keyward/client/client.h"
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

// The fenced write: the store (a Keyward server) keeps the highest token it accepted for the
// resource and refuses older ones. Returns the server's answer.
std::string GuardedSet(client::Client& store, const std::string& resource, uint64_t token,
                       const std::string& key, const std::string& value) {
  auto reply = store.Command("LOCK.GUARD", resource, token, "SET", key, value);
  if (!reply) return "error: " + reply.error().message();
  if (reply->is_error()) return std::string(*reply->as_error());
  return std::string(*reply->as_string());
}

// One request of the service: set an order's status under its lock.
bool UpdateOrder(redlock::Redlock& locks, client::Client& store, const std::string& order,
                 const std::string& status) {
  const std::string resource = "orders:" + order;
  redlock::AcquireOptions options;
  options.ttl = 5s;
  options.wait = 2s;  // queue behind another update of the same order, woken by its release
  redlock::Result<redlock::Lock> lock = locks.Acquire(resource, options);
  if (!lock) {
    std::printf("order %s: not updated: %s\n", order.c_str(), lock.error().message().c_str());
    return false;
  }
  redlock::LockGuard guard(locks, *lock);  // released when this scope ends
  auto token = lock->fencing_token();
  if (!token) {
    std::printf("order %s: %s\n", order.c_str(), token.error().message().c_str());
    return false;
  }
  std::string answer = GuardedSet(store, resource, *token, resource + ":status", status);
  std::printf("order %s -> %s (token %llu): %s\n", order.c_str(), status.c_str(),
              static_cast<unsigned long long>(*token), answer.c_str());
  return answer == "OK";
}

}  // namespace

int main(int argc, char** argv) {
  const char* env = std::getenv("KEYWARD_SERVERS");
  std::string list = argc > 1 ? argv[1] : (env != nullptr ? env : "redis://127.0.0.1:6379");
  std::vector<std::string> servers = Split(list);
  redlock::Redlock locks(servers);
  auto store_options = client::OptionsFromUrl(servers[0]);
  if (!store_options) return 2;
  client::Client store(*store_options);

  // Normal operation: each update under its own lock.
  if (!UpdateOrder(locks, store, "42", "packed")) return 1;
  if (!UpdateOrder(locks, store, "42", "shipped")) return 1;

  // A worker stalls past its lease. Its lock expires, another worker takes it with a higher
  // token and writes; the stalled one's late write is refused by the store.
  redlock::AcquireOptions short_lease;
  short_lease.ttl = 300ms;
  auto stalled = locks.Acquire("orders:7", short_lease);
  if (!stalled || !stalled->token) return 1;
  redlock::AcquireOptions waiting;
  waiting.ttl = 5s;
  waiting.wait = 5s;  // woken when the stalled worker's lease ends
  auto next = locks.Acquire("orders:7", waiting);
  if (!next || !next->token) return 1;
  std::printf("newer holder (token %llu): %s\n", static_cast<unsigned long long>(*next->token),
              GuardedSet(store, "orders:7", *next->token, "orders:7:status", "cancelled").c_str());
  std::printf("stalled holder (token %llu): %s\n", static_cast<unsigned long long>(*stalled->token),
              GuardedSet(store, "orders:7", *stalled->token, "orders:7:status", "shipped").c_str());
  locks.Release(*next);
  auto status = store.Command("GET", "orders:7:status");
  std::printf("orders:7:status = %s\n", status ? std::string(*status->as_string()).c_str() : "?");
  return 0;
}
