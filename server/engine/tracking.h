// Client-side caching (Redis 7.0's tracking.c): which clients may hold which keys, and the
// invalidation messages they get when those keys change.
//
// Two modes, per client (CLIENT TRACKING ON ...):
// - default: the keys of every read-only command a tracking client runs are remembered (the
//   tracking table: key -> client ids, keys of all databases alike). When such a key changes,
//   each client that read it gets one invalidation and is forgotten for that key until it reads
//   it again. OPTIN remembers only after CLIENT CACHING YES, OPTOUT skips after CLIENT CACHING
//   NO (for the next command, or the whole transaction).
// - BCAST: nothing is remembered; every change to a key under one of the client's prefixes
//   ("" for all) is collected, and the collected keys go out as one message per prefix when the
//   batch of input being processed ends (Redis's beforeSleep).
// Messages are RESP3 pushes (`>2 invalidate [keys]`), or with REDIRECT, go to another client:
// as a push if it speaks RESP3, as a `__redis__:invalidate` message if it is a RESP2 subscriber.
// NOLOOP skips the client's own changes. A flush invalidates everything at once (a null key
// list). An invalidation meant for the client whose command caused it is sent after that
// command's reply (after the whole EXEC), never inside it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "server/engine/command.h"

namespace keyward {

class Client;
class ClientRegistry;
class ReplyOutput;

struct TrackingOptions {
  uint64_t redirect = 0;
  bool bcast = false;
  bool optin = false;
  bool optout = false;
  bool noloop = false;
  std::vector<std::string> prefixes;
};

class Tracking {
 public:
  Tracking(ClientRegistry& clients, ReplyOutput& output) : clients_(clients), output_(output) {}
  Tracking(const Tracking&) = delete;
  Tracking& operator=(const Tracking&) = delete;

  // CLIENT TRACKING ON: the error text when the options conflict with each other or with the
  // client's current mode (Redis's checks, in its order), else tracking is on.
  std::optional<std::string> Enable(Client& c, const TrackingOptions& options);
  // CLIENT TRACKING OFF (and the client's close, RESET).
  void Disable(Client& c);
  // CLIENT GETREDIR: -1 when not tracking, 0 when not redirecting.
  int64_t Redirect(const Client& c) const;
  // The client's BCAST prefixes, in order (CLIENT TRACKINGINFO).
  std::vector<std::string> Prefixes(const Client& c) const;

  // After a read-only command of `c` (a tracking client not in BCAST mode): remembers its keys.
  void RememberKeys(Client& c, const CommandSpec& cmd, CmdArgs args);
  // The network client whose command is running (Redis's current_client): NOLOOP skips its own
  // changes, and invalidations for it wait until its reply is written. Null between commands.
  void set_current(Client* c) { current_ = c; }
  // The key changed (Redis's signalModifiedKey, and expiry): invalidates it for every client that
  // may cache it, and collects it for BCAST prefixes.
  void InvalidateKey(std::string_view key) {
    if (tracking_clients_ != 0 || !table_.empty()) Invalidate(key, /*bcast=*/true);
  }
  // FLUSHDB / FLUSHALL: every tracking client invalidates everything; the table is emptied.
  void InvalidateAllOnFlush();
  // The current client's command is done (its reply written): the invalidations it caused for
  // itself go out now, and CLIENT CACHING's one-command window closes (unless in MULTI or the
  // command was a CLIENT one).
  void AfterCommand(Client& c, const CommandSpec* cmd);
  // The batch of input ends: BCAST messages go out.
  void BroadcastPending();
  // tracking-table-max-keys: forgets (and invalidates) keys until the table is under the limit,
  // with an effort that grows while it stays over (Redis's trackingLimitUsedSlots). Before each
  // command.
  void LimitTable(uint64_t max_keys);

  // INFO: tracking_clients, tracking_total_keys, tracking_total_items, tracking_total_prefixes.
  uint64_t clients() const { return tracking_clients_; }
  uint64_t total_keys() const { return table_.size(); }
  uint64_t total_items() const { return total_items_; }
  uint64_t total_prefixes() const { return prefixes_.size(); }

 private:
  struct ClientState {
    uint64_t redirect = 0;
    std::set<std::string> prefixes;
  };
  struct Broadcast {
    std::map<std::string, Client*> keys;  // changed since the last message -> who changed it
    std::set<Client*> clients;
  };

  void Invalidate(std::string_view key, bool bcast);
  // Sends `keys` (a RESP array or null, already encoded) to the tracking client `c`, or to the
  // client it redirects to.
  void Send(Client& c, std::string_view keys);
  static std::string EncodeKeys(const std::vector<std::string_view>& keys);

  ClientRegistry& clients_;
  ReplyOutput& output_;
  uint64_t tracking_clients_ = 0;
  std::unordered_map<const Client*, ClientState> states_;
  std::unordered_map<std::string, std::vector<uint64_t>> table_;  // key -> client ids
  uint64_t total_items_ = 0;
  std::map<std::string, Broadcast> prefixes_;
  bool broadcast_pending_ = false;
  // Invalidations for the client whose command caused them, sent after its reply: a key, or
  // nullopt for "everything" (a flush).
  std::vector<std::optional<std::string>> pending_;
  Client* current_ = nullptr;
  unsigned limit_rounds_ = 0;
};

}  // namespace keyward
