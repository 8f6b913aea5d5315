#include "server/engine/tracking.h"

#include <algorithm>

#include "server/core/resp.h"
#include "server/engine/client.h"
#include "server/engine/client_registry.h"
#include "server/engine/command_meta.h"
#include "server/engine/output.h"

namespace keyward {

namespace {

constexpr uint32_t kAllTrackingFlags =
    Client::kTracking | Client::kTrackingBcast | Client::kTrackingOptin | Client::kTrackingOptout |
    Client::kTrackingCaching | Client::kTrackingNoloop | Client::kTrackingBrokenRedir;

// Two prefixes overlap when one starts with the other: both would announce the same key.
bool Overlap(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  return a.substr(0, n) == b.substr(0, n);
}

// The "everything" key list of a flush: a null, in the tracking client's own protocol (Redis
// sends shared.null[c->resp] even when the message goes to a redirect target).
std::string_view NullKeys(const Client& c) { return c.resp > 2 ? "_\r\n" : "$-1\r\n"; }

}  // namespace

std::optional<std::string> Tracking::Enable(Client& c, const TrackingOptions& o) {
  if (!o.bcast && !o.prefixes.empty()) return "ERR PREFIX option requires BCAST mode to be enabled";
  if (c.has(Client::kTracking) && c.has(Client::kTrackingBcast) != o.bcast) {
    return "ERR You can't switch BCAST mode on/off before disabling tracking for this client, "
           "and then re-enabling it with a different mode.";
  }
  if (o.bcast && (o.optin || o.optout)) return "ERR OPTIN and OPTOUT are not compatible with BCAST";
  if (o.optin && o.optout) return "ERR You can't specify both OPTIN mode and OPTOUT mode";
  if ((o.optin && c.has(Client::kTrackingOptout)) || (o.optout && c.has(Client::kTrackingOptin))) {
    return "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, "
           "and then re-enabling it with a different mode.";
  }
  ClientState& state = states_[&c];
  if (o.bcast) {
    for (size_t i = 0; i < o.prefixes.size(); i++) {
      for (const std::string& existing : state.prefixes) {
        if (Overlap(existing, o.prefixes[i])) {
          return "ERR Prefix '" + o.prefixes[i] + "' overlaps with an existing prefix '" +
                 existing + "'. Prefixes for a single client must not overlap.";
        }
      }
      for (size_t j = i + 1; j < o.prefixes.size(); j++) {
        if (Overlap(o.prefixes[i], o.prefixes[j])) {
          return "ERR Prefix '" + o.prefixes[i] + "' overlaps with another provided prefix '" +
                 o.prefixes[j] + "'. Prefixes for a single client must not overlap.";
        }
      }
    }
  }
  if (!c.has(Client::kTracking)) tracking_clients_++;
  c.flags |= Client::kTracking;
  c.flags &= ~(Client::kTrackingBrokenRedir | Client::kTrackingBcast | Client::kTrackingOptin |
               Client::kTrackingOptout | Client::kTrackingNoloop);
  state.redirect = o.redirect;
  if (o.bcast) {
    c.flags |= Client::kTrackingBcast;
    // Prefixes accumulate across CLIENT TRACKING ON calls, as in Redis; none means all keys.
    auto add = [&](const std::string& prefix) {
      if (prefixes_[prefix].clients.insert(&c).second) state.prefixes.insert(prefix);
    };
    if (o.prefixes.empty()) add("");
    for (const std::string& prefix : o.prefixes) add(prefix);
  }
  if (o.optin) c.flags |= Client::kTrackingOptin;
  if (o.optout) c.flags |= Client::kTrackingOptout;
  if (o.noloop) c.flags |= Client::kTrackingNoloop;
  return std::nullopt;
}

void Tracking::Disable(Client& c) {
  auto it = states_.find(&c);
  if (it != states_.end()) {
    for (const std::string& prefix : it->second.prefixes) {
      auto found = prefixes_.find(prefix);
      if (found == prefixes_.end()) continue;
      found->second.clients.erase(&c);
      if (found->second.clients.empty()) prefixes_.erase(found);
    }
    states_.erase(it);
  }
  if (c.has(Client::kTracking)) tracking_clients_--;
  c.flags &= ~kAllTrackingFlags;
  // The client's ids stay in the table until the keys change (Redis removes them lazily: a
  // client that read a million keys should not cost a million removals when it leaves).
}

int64_t Tracking::Redirect(const Client& c) const {
  if (!c.has(Client::kTracking)) return -1;
  auto it = states_.find(&c);
  return it == states_.end() ? 0 : static_cast<int64_t>(it->second.redirect);
}

std::vector<std::string> Tracking::Prefixes(const Client& c) const {
  auto it = states_.find(&c);
  if (it == states_.end()) return {};
  return {it->second.prefixes.begin(), it->second.prefixes.end()};
}

void Tracking::RememberKeys(Client& c, const CommandSpec& cmd, CmdArgs args) {
  const bool caching = c.has(Client::kTrackingCaching);
  if ((c.has(Client::kTrackingOptin) && !caching) || (c.has(Client::kTrackingOptout) && caching)) {
    return;
  }
  // Shard channels are keys to COMMAND but nothing a client caches.
  if (cmd.has(CO::kPubSub)) return;
  for (size_t pos : KeysOf(cmd, args)) {
    std::vector<uint64_t>& ids = table_[std::string(args[pos])];
    if (std::find(ids.begin(), ids.end(), c.id()) == ids.end()) {
      ids.push_back(c.id());
      total_items_++;
    }
  }
}

void Tracking::Invalidate(std::string_view key, bool bcast) {
  if (bcast && !prefixes_.empty()) {
    for (auto& [prefix, b] : prefixes_) {
      if (key.starts_with(prefix)) {
        b.keys[std::string(key)] = current_;
        broadcast_pending_ = true;
      }
    }
    if (broadcast_pending_) output_.PostDeferred();
  }
  auto it = table_.find(std::string(key));
  if (it == table_.end()) return;
  // The entry goes: a client is remembered again only when it reads the key again.
  const std::vector<uint64_t> ids = std::move(it->second);
  table_.erase(it);
  total_items_ -= ids.size();
  for (uint64_t id : ids) {
    Client* target = clients_.Find(id);
    // A client that left tracking, or switched to BCAST, no longer wants these.
    if (target == nullptr || !target->has(Client::kTracking) ||
        target->has(Client::kTrackingBcast)) {
      continue;
    }
    if (target == current_) {
      if (!target->has(Client::kTrackingNoloop)) pending_.emplace_back(std::string(key));
      continue;
    }
    Send(*target, EncodeKeys({key}));
  }
}

void Tracking::InvalidateAllOnFlush() {
  if (tracking_clients_ != 0) {
    for (Client* c : clients_.all()) {
      if (!c->has(Client::kTracking)) continue;
      if (c == current_) {
        pending_.emplace_back(std::nullopt);
      } else {
        Send(*c, NullKeys(*c));
      }
    }
  }
  table_.clear();
  total_items_ = 0;
}

void Tracking::AfterCommand(Client& c, const CommandSpec* cmd) {
  if (!pending_.empty()) {
    std::vector<std::optional<std::string>> pending;
    pending.swap(pending_);
    for (const auto& key : pending) {
      if (c.closing()) break;
      Send(c, key ? EncodeKeys({*key}) : std::string(NullKeys(c)));
    }
  }
  if (c.has(Client::kTrackingCaching) && !c.has(Client::kMulti) &&
      (cmd == nullptr || !cmd->full_name().starts_with("client|"))) {
    c.flags &= ~Client::kTrackingCaching;
  }
}

void Tracking::BroadcastPending() {
  if (!broadcast_pending_) return;
  broadcast_pending_ = false;
  for (auto& [prefix, b] : prefixes_) {
    if (b.keys.empty()) continue;
    std::vector<std::string_view> all;
    for (const auto& [key, by] : b.keys) all.push_back(key);
    const std::string message = EncodeKeys(all);
    for (Client* c : b.clients) {
      if (!c->has(Client::kTrackingNoloop)) {
        Send(*c, message);
        continue;
      }
      // NOLOOP: without the keys this client changed last; nothing if that leaves none.
      std::vector<std::string_view> others;
      for (const auto& [key, by] : b.keys) {
        if (by != c) others.push_back(key);
      }
      if (!others.empty()) Send(*c, EncodeKeys(others));
    }
    b.keys.clear();
  }
}

void Tracking::LimitTable(uint64_t max_keys) {
  if (max_keys == 0 || table_.size() <= max_keys) {
    limit_rounds_ = 0;
    return;
  }
  // Each key forgotten is invalidated for its clients, as if it had changed (they would
  // otherwise never hear about it again).
  int effort = 100 * static_cast<int>(limit_rounds_ + 1);
  while (effort-- > 0 && !table_.empty()) {
    const std::string key = table_.begin()->first;
    Invalidate(key, /*bcast=*/false);
    if (table_.size() <= max_keys) {
      limit_rounds_ = 0;
      return;
    }
  }
  limit_rounds_++;
}

void Tracking::Send(Client& c, std::string_view keys) {
  Client* target = &c;
  bool redirected = false;
  auto it = states_.find(&c);
  if (it != states_.end() && it->second.redirect != 0) {
    target = clients_.Find(it->second.redirect);
    if (target == nullptr) {
      // The client it redirects to went away: tell the tracking client, if it can hear it.
      c.flags |= Client::kTrackingBrokenRedir;
      if (c.resp > 2) {
        output_.SendToOther(c, ">2\r\n$21\r\ntracking-redir-broken\r\n:" +
                                   std::to_string(it->second.redirect) + "\r\n");
      }
      return;
    }
    redirected = true;
  }
  std::string message;
  if (target->resp > 2) {
    message = ">2\r\n$10\r\ninvalidate\r\n";
  } else if (redirected && target->subscribed()) {
    // RESP2 has no pushes: a subscribed connection hears it as a message on a channel.
    message = "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n";
  } else {
    return;  // a RESP2 client tracking for itself cannot be told anything
  }
  message += keys;
  output_.SendToOther(*target, message);
}

std::string Tracking::EncodeKeys(const std::vector<std::string_view>& keys) {
  std::string out;
  AppendArrayHeader(out, keys.size());
  for (std::string_view key : keys) AppendBulk(out, key);
  return out;
}

}  // namespace keyward
