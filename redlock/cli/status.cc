#include "status.h"

#include <cstdio>
#include <string>

#include "keyward/client/client.h"

namespace keyward::cli {

namespace {

// One instance's view of the lock: LOCK.INFO on Keyward, GET + PTTL on Redis.
struct InstanceView {
  std::string error;  // unreachable, or an unexpected reply
  bool keyward = false;
  std::optional<std::string> owner;
  int64_t pttl = -2;
  std::optional<int64_t> counter;       // F(R)
  std::optional<int64_t> holder_token;  // the holder's token, where this server counted it
  std::optional<int64_t> waiters;
  // Started without its fencing counters, guards its restarts and is not caught up yet: it counts
  // no token (LOCK.CATCHUP says it is not counting, or RESTARTING during its restart delay).
  bool unsettled = false;
};

InstanceView Inspect(const std::string& url, const std::string& name,
                     std::chrono::milliseconds timeout) {
  InstanceView view;
  auto options = client::OptionsFromUrl(url);
  if (!options) {
    view.error = "bad URL: " + options.error().message();
    return view;
  }
  options->connection.connect_timeout = timeout;
  options->connection.command_timeout = timeout;
  client::Client c(*options);
  auto info = c.Command("LOCK.INFO", name);
  if (!info) {
    view.error = info.error().message();
    return view;
  }
  auto text = [](const client::Reply& r) -> std::optional<std::string> {
    auto s = r.as_string();
    return s ? std::optional<std::string>(std::string(*s)) : std::nullopt;
  };
  auto map = info->as_map();
  if (!info->is_error() && map) {
    view.keyward = true;
    if (const client::Reply* owner = map->Find("owner"); owner && !owner->is_null()) {
      view.owner = text(*owner);
    }
    auto number = [&](std::string_view key) -> std::optional<int64_t> {
      const client::Reply* r = map->Find(key);
      if (r == nullptr) return std::nullopt;
      auto v = r->as_integer();
      return v ? std::optional<int64_t>(*v) : std::nullopt;
    };
    view.pttl = number("pttl").value_or(-2);
    view.counter = number("token");
    view.holder_token = number("holder_token");
    view.waiters = number("waiters");
    if (auto state = c.Command("LOCK.CATCHUP"); state) {
      auto elements = state->as_array();
      if (auto error = state->as_error()) {
        view.unsettled = error->starts_with("RESTARTING");
      } else if (elements && elements->size() >= 5) {
        auto counting = (*elements)[4].as_integer();
        view.unsettled = counting && *counting == 0;
      }
    }
    return view;
  }
  // Plain Redis: the same key, without counters or waiters.
  client::Request request;
  request.Push("GET", name);
  request.Push("PTTL", name);
  auto replies = c.Exec(std::move(request));
  if (!replies) {
    view.error = replies.error().message();
    return view;
  }
  if (!(*replies)[0].is_null()) view.owner = text((*replies)[0]);
  auto pttl = (*replies)[1].as_integer();
  view.pttl = pttl ? *pttl : -2;
  return view;
}

}  // namespace

int PrintStatus(const std::vector<std::string>& servers, const std::string& name,
                std::chrono::milliseconds timeout) {
  int reachable = 0;
  int held = 0;
  std::vector<std::string> unsettled;
  std::printf("%-32s %-8s %-42s %10s %18s %18s %8s\n", "server", "backend", "owner", "pttl_ms",
              "holder_token", "counter", "waiters");
  for (const std::string& url : servers) {
    InstanceView v = Inspect(url, name, timeout);
    if (!v.error.empty()) {
      std::printf("%-32s unreachable: %s\n", url.c_str(), v.error.c_str());
      continue;
    }
    reachable++;
    if (v.owner) held++;
    if (v.unsettled) unsettled.push_back(url);
    auto text = [](const std::optional<int64_t>& n) { return n ? std::to_string(*n) : "-"; };
    std::printf("%-32s %-8s %-42s %10lld %18s %18s %8s\n", url.c_str(),
                v.keyward ? "keyward" : "redis", v.owner ? v.owner->c_str() : "-",
                static_cast<long long>(v.pttl), text(v.holder_token).c_str(),
                text(v.counter).c_str(), text(v.waiters).c_str());
  }
  const int majority = static_cast<int>(servers.size()) / 2 + 1;
  std::printf("%s: held on %d of %zu servers (majority %d), %d reachable\n", name.c_str(), held,
              servers.size(), majority, reachable);
  // (With one server the library takes the lock and its token in one step, which counts from the
  // boot floor: nothing to catch up with.)
  if (servers.size() == 1) unsettled.clear();
  for (const std::string& url : unsettled) {
    std::printf(
        "%s started without its fencing counters and counts no token until a client "
        "catches it up (docs/coordination.md)\n",
        url.c_str());
  }
  return reachable >= majority ? 0 : kStatusNoQuorum;
}

}  // namespace keyward::cli
