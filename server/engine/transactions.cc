#include "server/engine/transactions.h"

#include <algorithm>

#include "server/engine/client.h"
#include "server/keyspace/keyspace.h"

namespace keyward {

void Transactions::Begin(Client& c) { c.flags |= Client::kMulti; }

void Transactions::Queue(Client& c, const CommandSpec& cmd, uint32_t flags, CmdArgs args) {
  // An aborted transaction keeps no more commands (a pipelining client may not have read that
  // it failed), but they are still answered QUEUED, as in Redis.
  if (!c.has(Client::kDirtyCas | Client::kDirtyExec)) {
    ClientState& state = clients_[&c];
    state.commands.push_back(QueuedCommand{&cmd, Argv(args.begin(), args.end())});
    state.flags |= flags;
    state.inv_flags |= ~flags;
  }
  c.rb().SendSimple("QUEUED");
}

void Transactions::FlagError(Client& c) {
  if (c.has(Client::kMulti)) c.flags |= Client::kDirtyExec;
}

int64_t Transactions::QueuedCount(const Client& c) const {
  if (!c.has(Client::kMulti)) return -1;
  auto it = clients_.find(&c);
  if (it == clients_.end()) return 0;
  return static_cast<int64_t>(it->second.commands.size() + it->second.running);
}

uint32_t Transactions::ExecFlags(const Client& c, uint32_t exec_flags) const {
  if (!c.has(Client::kMulti)) return exec_flags;
  auto it = clients_.find(&c);
  if (it == clients_.end()) return exec_flags;
  const ClientState& state = it->second;
  uint32_t flags = exec_flags | (state.flags & (CO::kWrite | CO::kDenyOom | CO::kMayReplicate));
  flags &= ~(state.inv_flags & (CO::kLoading | CO::kStale));
  return flags;
}

std::vector<QueuedCommand> Transactions::TakeQueued(Client& c) {
  UnwatchAll(c);
  auto it = clients_.find(&c);
  if (it == clients_.end()) return {};
  std::vector<QueuedCommand> commands = std::move(it->second.commands);
  it->second.commands.clear();
  it->second.running = commands.size();
  it->second.flags = it->second.inv_flags = 0;
  return commands;
}

void Transactions::End(Client& c) {
  c.flags &= ~(Client::kMulti | Client::kDirtyCas | Client::kDirtyExec);
  UnwatchAll(c);
  clients_.erase(&c);
}

Transactions::Watchers& Transactions::WatchersOf(int db) {
  if (watchers_.size() <= static_cast<size_t>(db)) watchers_.resize(static_cast<size_t>(db) + 1);
  return watchers_[static_cast<size_t>(db)];
}

void Transactions::Watch(Client& c, int db, std::string_view key) {
  ClientState& state = clients_[&c];
  for (const WatchedKey& w : state.watched) {
    if (w.db == db && w.key == key) return;  // already watched
  }
  Database& d = keyspace_.db(db);
  const Entry* e = d.Peek(key);
  const bool expired = e != nullptr && d.IsExpired(e);
  state.watched.push_back(WatchedKey{db, std::string(key)});
  WatchersOf(db)[std::string(key)].push_back(Watcher{&c, expired});
  watched_++;
}

void Transactions::UnwatchAll(Client& c) {
  auto it = clients_.find(&c);
  if (it == clients_.end()) return;
  for (const WatchedKey& w : it->second.watched) {
    Watchers& watchers = WatchersOf(w.db);
    auto found = watchers.find(w.key);
    if (found == watchers.end()) continue;
    std::vector<Watcher>& list = found->second;
    list.erase(
        std::remove_if(list.begin(), list.end(), [&c](const Watcher& x) { return x.client == &c; }),
        list.end());
    if (list.empty()) watchers.erase(found);
    watched_--;
  }
  it->second.watched.clear();
  ForgetIfIdle(c);
}

void Transactions::ForgetIfIdle(const Client& c) {
  if (c.has(Client::kMulti)) return;
  auto it = clients_.find(&c);
  if (it != clients_.end() && it->second.watched.empty()) clients_.erase(it);
}

bool Transactions::WatchedKeyExpired(const Client& c) {
  auto it = clients_.find(&c);
  if (it == clients_.end()) return false;
  for (const WatchedKey& w : it->second.watched) {
    const Watchers& watchers = WatchersOf(w.db);
    auto found = watchers.find(w.key);
    bool expired_at_watch = false;
    for (const Watcher& x : found->second) {
      if (x.client == &c) expired_at_watch = x.expired;
    }
    if (expired_at_watch) continue;
    Database& db = keyspace_.db(w.db);
    const Entry* e = db.Peek(w.key);
    if (e != nullptr && db.IsExpired(e)) return true;
  }
  return false;
}

void Transactions::MarkDirty(Client& c) {
  c.flags |= Client::kDirtyCas;
  // Nothing can make the transaction succeed again: stop watching (and stop paying for it).
  UnwatchAll(c);
}

void Transactions::TouchWatched(Database& db, std::string_view key) {
  if (watchers_.size() <= static_cast<size_t>(db.index())) return;
  Watchers& watchers = watchers_[static_cast<size_t>(db.index())];
  if (watchers.empty()) return;
  auto found = watchers.find(std::string(key));
  if (found == watchers.end()) return;
  // Marking a client unwatches it, which edits this list: work on a copy.
  std::vector<Client*> dirty;
  for (Watcher& w : found->second) {
    if (w.expired) {
      // Watched while already expired: its deletion is no logical change; it now counts as
      // absent, so a later write to it does break the watch.
      if (db.Peek(key) == nullptr) w.expired = false;
      continue;
    }
    dirty.push_back(w.client);
  }
  for (Client* c : dirty) MarkDirty(*c);
}

void Transactions::TouchDatabase(Database& emptied, Database* replaced_with) {
  if (watched_ == 0 || watchers_.size() <= static_cast<size_t>(emptied.index())) return;
  Watchers& watchers = watchers_[static_cast<size_t>(emptied.index())];
  std::vector<Client*> dirty;
  for (auto& [key, list] : watchers) {
    const bool in_emptied = emptied.Peek(key) != nullptr;
    const Entry* replacement = replaced_with != nullptr ? replaced_with->Peek(key) : nullptr;
    if (!in_emptied && replacement == nullptr) continue;
    const bool replacement_expired =
        replacement != nullptr && replaced_with->IsExpired(replacement);
    for (Watcher& w : list) {
      if (w.expired) {
        // An expired key goes (no change), or is replaced by one that is expired too.
        if (replacement == nullptr) {
          w.expired = false;
          continue;
        }
        if (replacement_expired) continue;
      } else if (!in_emptied && replacement_expired) {
        // An absent key is replaced by an expired one: still absent.
        w.expired = true;
        continue;
      }
      dirty.push_back(w.client);
    }
  }
  for (Client* c : dirty) MarkDirty(*c);
}

void Transactions::Forget(Client& c) {
  UnwatchAll(c);
  clients_.erase(&c);
}

}  // namespace keyward
