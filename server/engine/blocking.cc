#include "server/engine/blocking.h"

#include <algorithm>

#include "server/core/errors.h"
#include "server/engine/client.h"
#include "server/engine/client_registry.h"
#include "server/engine/context.h"
#include "server/engine/executor.h"

namespace keyward {

std::string BlockingRegistry::QueueKey(int db, std::string_view key) {
  // The database's digits end at the first ':', so keys containing ':' stay unambiguous.
  std::string q = std::to_string(db);
  q += ':';
  q.append(key);
  return q;
}

void BlockingRegistry::Block(Client& c, BlockRequest request) {
  const uint64_t id = c.id();
  if (serving_ == id && id != 0) {
    continuation_ = std::move(request);  // once the served wait is gone (Serve)
    return;
  }
  Waiter w{id,
           request.condition,
           request.db,
           std::move(request.keys),
           request.handler,
           request.command != nullptr ? request.command : request.handler->command(),
           std::move(request.state)};
  if (w.condition == WaitCondition::kKeys) {
    for (const std::string& key : w.keys) {
      const std::string qkey = QueueKey(w.db, key);
      auto [it, created] = queues_.try_emplace(qkey);
      if (created) {
        it->second.db = w.db;
        it->second.key = key;
      }
      it->second.clients.push_back(id);
    }
  } else {
    condition_waiters_[static_cast<size_t>(w.condition)].push_back(id);
  }
  if (request.deadline_ms >= 0) {
    w.timer =
        timers_.Schedule(request.deadline_ms, [this, id] { End(id, UnblockReason::kTimeout); });
  }
  waiters_.emplace(id, std::move(w));
  c.flags |= Client::kBlocked;
  c.transport()->SetReading(false);
}

size_t BlockingRegistry::timed_waiters() const {
  size_t n = 0;
  for (const auto& [id, w] : waiters_) n += w.timer != Timers::kNone ? 1 : 0;
  return n;
}

size_t BlockingRegistry::waiters(int db, std::string_view key) const {
  auto it = queues_.find(QueueKey(db, key));
  return it == queues_.end() ? 0 : it->second.clients.size();
}

WaitState* BlockingRegistry::state_of(uint64_t client_id) const {
  auto it = waiters_.find(client_id);
  return it == waiters_.end() ? nullptr : it->second.state.get();
}

void BlockingRegistry::SignalKeyReady(int db, std::string_view key) {
  if (queues_.empty()) return;
  std::string qkey = QueueKey(db, key);
  if (!queues_.count(qkey) || ready_set_.count(qkey)) return;
  ready_set_.insert(qkey);
  ready_.push_back(std::move(qkey));
}

void BlockingRegistry::SignalDatabaseReady(int db) {
  for (const auto& [qkey, q] : queues_) {
    if (q.db == db && ready_set_.insert(qkey).second) ready_.push_back(qkey);
  }
}

void BlockingRegistry::SignalCondition(WaitCondition condition) {
  if (condition_waiters_[static_cast<size_t>(condition)].empty()) return;
  if (std::find(ready_conditions_.begin(), ready_conditions_.end(), condition) ==
      ready_conditions_.end()) {
    ready_conditions_.push_back(condition);
  }
}

void BlockingRegistry::ServeReady() {
  // Not in the middle of something: a script past busy-reply-threshold lets other clients in
  // while it runs, and a waiter served then would act inside the script (and its unit). What is
  // ready stays ready until the script is done.
  if (!executor_->MayServeBlocked()) return;
  // Serving can make more keys ready (a lookup expires a key, a served pop empties a list):
  // loop until quiet.
  while (has_ready()) {
    std::vector<std::string> keys;
    keys.swap(ready_);
    ready_set_.clear();
    std::vector<WaitCondition> conditions;
    conditions.swap(ready_conditions_);
    // Clients are resumed once every ready queue is settled: resuming one runs what it sent
    // meanwhile, which may wait on one of these very keys again.
    std::vector<uint64_t> answered;
    for (const std::string& qkey : keys) ServeKey(qkey, &answered);
    for (WaitCondition condition : conditions) ServeCondition(condition, &answered);
    Resume(answered);
  }
}

void BlockingRegistry::ServeKey(const std::string& qkey, std::vector<uint64_t>* answered) {
  size_t passed = 0;  // waiters passed over, still queued
  // Families whose first waiter here could not be served: first come, first served holds within
  // a family, so the ones of that family behind it wait too; other families' waiters are still
  // offered the key (a LOCK waiter behind a BLPOP on an absent key gets the released lock).
  std::vector<const BlockHandler*> held;
  while (true) {
    auto qit = queues_.find(qkey);
    if (qit == queues_.end() || qit->second.clients.size() <= passed) return;
    const uint64_t id = qit->second.clients[passed];
    const std::string key = qit->second.key;
    Waiter& w = waiters_.at(id);
    Client* c = clients_.Find(id);
    if (c == nullptr) {
      Remove(id);
      continue;
    }
    if (std::find(held.begin(), held.end(), w.handler) != held.end()) {
      passed++;
      continue;
    }
    bool pass_over = false;
    if (!Serve(id, *c, key, &pass_over)) {
      // The waiter keeps its place; unless the key holds a type it does not wait for, so do the
      // waiters of its family behind it.
      if (!pass_over) held.push_back(w.handler);
      passed++;
      continue;
    }
    answered->push_back(id);
  }
}

bool BlockingRegistry::Serve(uint64_t id, Client& c, std::string_view key, bool* pass_over) {
  Waiter& w = waiters_.at(id);
  // Serving replies to the client and may touch the keyspace; the registry only through a
  // continuation (Block for this client), kept until `w` is gone.
  serving_ = id;
  const bool served = executor_->ServeBlocked(c, *w.command, [&](CommandContext& ctx) {
    if (w.handler->TryServe(ctx, w.state.get(), key)) return true;
    if (pass_over != nullptr) *pass_over = w.handler->PassesOver(ctx, w.state.get(), key);
    return false;
  });
  serving_ = 0;
  std::optional<BlockRequest> next = std::move(continuation_);
  continuation_.reset();
  if (!served) return false;
  Remove(id);
  if (next) Block(c, std::move(*next));
  return true;
}

void BlockingRegistry::ServeCondition(WaitCondition condition, std::vector<uint64_t>* answered) {
  // Each waiter on its own: one that cannot be served does not hold up the others.
  const std::vector<uint64_t> ids = condition_waiters_[static_cast<size_t>(condition)];
  for (uint64_t id : ids) {
    auto it = waiters_.find(id);
    if (it == waiters_.end()) continue;
    Client* c = clients_.Find(id);
    if (c == nullptr) {
      Remove(id);
      continue;
    }
    if (!Serve(id, *c, std::string_view(), nullptr)) continue;
    answered->push_back(id);
  }
}

BlockingRegistry::Waiter BlockingRegistry::Remove(uint64_t client_id) {
  auto it = waiters_.find(client_id);
  if (it == waiters_.end())
    return Waiter{client_id, WaitCondition::kKeys, 0, {}, nullptr, nullptr, nullptr};
  Waiter w = std::move(it->second);
  waiters_.erase(it);
  timers_.Cancel(w.timer);
  if (w.condition != WaitCondition::kKeys) {
    auto& list = condition_waiters_[static_cast<size_t>(w.condition)];
    list.erase(std::remove(list.begin(), list.end(), client_id), list.end());
    return w;
  }
  for (const std::string& key : w.keys) {
    auto qit = queues_.find(QueueKey(w.db, key));
    if (qit == queues_.end()) continue;
    auto& ids = qit->second.clients;
    // Served waiters leave from the front: no scan of the queue then.
    if (!ids.empty() && ids.front() == client_id) {
      ids.pop_front();
    } else {
      ids.erase(std::remove(ids.begin(), ids.end(), client_id), ids.end());
    }
    if (ids.empty()) {
      queues_.erase(qit);
      if (w.handler != nullptr) w.handler->OnQueueEmpty(w.db, key);
    }
  }
  return w;
}

void BlockingRegistry::Resume(const std::vector<uint64_t>& answered) {
  for (uint64_t id : answered) {
    Client* c = clients_.Find(id);
    if (c == nullptr || waiters_.count(id)) continue;  // gone, or blocked again meanwhile
    c->flags &= ~Client::kBlocked;
    c->transport()->SetReading(true);  // what the client sent meanwhile runs now
  }
}

void BlockingRegistry::End(uint64_t client_id, UnblockReason reason) {
  if (!waiters_.count(client_id)) return;
  Waiter w = Remove(client_id);
  // The one that left may have been the head the others were queued behind.
  for (const std::string& key : w.keys) SignalKeyReady(w.db, key);
  Client* c = clients_.Find(client_id);
  if (c == nullptr) return;
  executor_->ReplyDeferred(*c, [&] {
    if (reason == UnblockReason::kError) {
      c->rb().SendError(errors::kUnblocked);
    } else {
      w.handler->OnTimeout(*c, w.state.get());
    }
  });
  Resume({client_id});
}

bool BlockingRegistry::Unblock(uint64_t client_id, UnblockReason reason) {
  if (!waiters_.count(client_id)) return false;
  End(client_id, reason);
  return true;
}

void BlockingRegistry::UnblockAll(std::string_view error) {
  std::vector<uint64_t> ids;
  for (const auto& [id, w] : waiters_) ids.push_back(id);
  for (uint64_t id : ids) {
    Waiter w = Remove(id);
    Client* c = clients_.Find(id);
    if (c == nullptr) continue;
    executor_->ReplyDeferred(*c, [&] { c->rb().SendError(error); });
    clients_.Close(*c, /*after_reply=*/true);
  }
}

void BlockingRegistry::ClientClosed(Client& c) {
  if (!waiters_.count(c.id())) return;
  Waiter w = Remove(c.id());
  for (const std::string& key : w.keys) SignalKeyReady(w.db, key);
}

}  // namespace keyward
