#include "server/coordination/lock_manager.h"

#include <algorithm>
#include <climits>

#include "server/commands/context.h"
#include "server/core/notify.h"
#include "server/core/strings.h"
#include "server/server.h"

namespace keyward {

namespace {

// Tokens start above every token an earlier life of this instance can have handed out: the boot
// time in milliseconds times 1024 (a resource would need more than a million acquisitions a
// second, sustained since that earlier start, to reach it). It needs the wall clock not to go back
// across a restart; durable counters (persistence) will remove that assumption. Tokens stay below
// 2^53, so JavaScript and Lua numbers hold them exactly.
int64_t BootFloor(int64_t now_ms) { return now_ms * 1024; }

}  // namespace

void SendAcquireOutcome(ReplyBuilder& rb, const AcquireOutcome& outcome) {
  rb.StartArray(3);
  rb.SendLong(outcome.granted ? 1 : 0);
  rb.SendLong(outcome.token);
  rb.SendLong(outcome.pttl);
}

LockManager::LockManager(Server& server)
    : server_(server), fences_(BootFloor(server.start_time_ms())) {}

std::string LockManager::QueueKey(int db, std::string_view resource) {
  std::string key = std::to_string(db);
  key += ':';
  key.append(resource);
  return key;
}

bool LockManager::AnySubscribers() const {
  const PubSub& pubsub = server_.pubsub();
  return pubsub.Count(PubSubKind::kChannel) != 0 || pubsub.Count(PubSubKind::kPattern) != 0;
}

void LockManager::PublishEvent(int db, std::string_view resource, std::string_view event) {
  if (!AnySubscribers()) return;
  PubSub& pubsub = server_.pubsub();
  std::string channel = "__lock@";
  channel += std::to_string(db);
  channel += "__:";
  channel.append(resource);
  pubsub.Publish(PubSubKind::kChannel, channel, event);
}

int64_t LockManager::RestartDelayLeft() const {
  int64_t end = server_.start_time_ms() + server_.settings().lock_restart_delay;
  return std::max<int64_t>(0, end - server_.now_ms());
}

Result<std::optional<std::string_view>> LockManager::Holder(Database& db, std::string_view resource,
                                                            int64_t* pttl) {
  Entry* e = db.Find(resource);
  if (e == nullptr) return std::optional<std::string_view>();
  if (e->type() != ObjType::kString) return OpStatus::kWrongType;
  if (pttl != nullptr)
    *pttl = e->has_expire() ? std::max<int64_t>(0, e->expire_ms() - db.now_ms()) : -1;
  return std::optional<std::string_view>(e->string_value());
}

Result<AcquireOutcome> LockManager::Acquire(CommandContext& ctx, const AcquireRequest& req) {
  Database& db = ctx.db();
  const int64_t now = ctx.now_ms();
  if (req.ttl_ms > INT64_MAX - now) return OpStatus::kOutOfRange;
  const int64_t deadline = now + req.ttl_ms;
  Entry* e = db.Find(req.resource);
  if (e != nullptr && e->type() != ObjType::kString) return OpStatus::kWrongType;
  AcquireOutcome out;
  if (e != nullptr && e->string_value() != req.owner) {
    out.token = fences_.CounterOf(req.resource);
    out.pttl = e->has_expire() ? std::max<int64_t>(0, e->expire_ms() - now) : -1;
    return out;
  }
  if (e == nullptr) {
    // An instance that restarted without its data stays out of every quorum for one maximum TTL
    // (Redlock's delayed restart): it cannot know which locks it granted before.
    if (int64_t left = RestartDelayLeft(); left > 0) {
      out.token = fences_.CounterOf(req.resource);
      out.pttl = left;
      out.restarting = true;
      return out;
    }
    db.Add(Entry::NewString(req.resource, req.owner, deadline));
    ctx.Notify(notify::kString, "set", req.resource, db);
    PublishEvent(db.index(), req.resource, "acquired");
    ctx.Propagate(
        {"SET", std::string(req.resource), std::string(req.owner), "PXAT", FormatInt64(deadline)});
  } else {
    db.SetExpire(e, deadline);  // re-entrant: the lease restarts
    ctx.Propagate({"PEXPIREAT", std::string(req.resource), FormatInt64(deadline)});
  }
  ctx.KeyModified(db, req.resource);
  ctx.Notify(notify::kGeneric, "expire", req.resource, db);
  ctx.AddDirty();
  FenceRecord& rec = fences_.Get(req.resource);
  if (req.fence && !(rec.fenced_owner == req.owner && e != nullptr)) {
    rec.counter++;
    rec.fenced_owner = std::string(req.owner);
    rec.fenced_token = rec.counter;
  }
  out.granted = true;
  out.token = rec.counter;
  out.pttl = req.ttl_ms;
  return out;
}

bool LockManager::Release(CommandContext& ctx, std::string_view resource, std::string_view owner) {
  Database& db = ctx.db();
  Entry* e = db.Find(resource);
  if (e == nullptr || e->type() != ObjType::kString || e->string_value() != owner) return false;
  db.Delete(resource);  // the keyspace reports the removal: waiters are served after the command
  ctx.KeyModified(db, resource);
  ctx.Notify(notify::kGeneric, "del", resource, db);
  ctx.AddDirty();
  ctx.Propagate({"DEL", std::string(resource)});
  return true;
}

Result<bool> LockManager::Extend(CommandContext& ctx, std::string_view resource,
                                 std::string_view owner, int64_t ttl_ms) {
  Database& db = ctx.db();
  const int64_t now = ctx.now_ms();
  if (ttl_ms > INT64_MAX - now) return OpStatus::kOutOfRange;
  Entry* e = db.Find(resource);
  if (e == nullptr || e->type() != ObjType::kString || e->string_value() != owner) return false;
  db.SetExpire(e, now + ttl_ms);
  ctx.KeyModified(db, resource);
  ctx.Notify(notify::kGeneric, "expire", resource, db);
  ctx.AddDirty();
  ctx.Propagate({"PEXPIREAT", std::string(resource), FormatInt64(now + ttl_ms)});
  return true;
}

bool LockManager::Fence(CommandContext& ctx, std::string_view resource, std::string_view owner,
                        int64_t token) {
  Entry* e = ctx.db().Find(resource);
  const bool held = e != nullptr && e->type() == ObjType::kString && e->string_value() == owner;
  FenceRecord& rec = fences_.Get(resource);
  ctx.AddDirty();
  // Counted at most once per token: a retried FENCE of the same acquisition is counted again,
  // any other owner's is not.
  if (held && (rec.counter < token || (rec.counter == token && rec.fenced_owner == owner))) {
    rec.counter = token;
    rec.fenced_owner = std::string(owner);
    rec.fenced_token = token;
    return true;
  }
  rec.counter = std::max(rec.counter, token);
  return false;
}

// ---------------------------------------------------------------------------------------------
// Waiting

void LockManager::Block(CommandContext& ctx, const AcquireRequest& req, bool take,
                        int64_t timeout_ms) {
  Client& c = ctx.client();
  const int64_t now = ctx.now_ms();
  const std::string key = QueueKey(c.db, req.resource);
  auto [it, created] = queues_.try_emplace(key);
  Queue& q = it->second;
  if (created) {
    q.db = c.db;
    q.resource = std::string(req.resource);
    q.check = timers_.end();
  }
  int64_t deadline = timeout_ms > 0 ? now + timeout_ms : -1;
  q.waiters.push_back(
      Waiter{c.id(), std::string(req.owner), req.ttl_ms, req.fence, take, deadline});
  Blocked& b = blocked_[c.id()];
  b.queue = key;
  b.timeout = timers_.end();
  if (deadline >= 0) {
    b.timeout = timers_.emplace(deadline, Timer{c.id(), key});
    server_.ScheduleTimer(deadline);
  }
  c.flags |= Client::kBlocked;
  c.transport()->SetReading(false);
  // Wake at the holder's deadline (or the end of the restart delay), not by polling.
  int64_t pttl = -1;
  Database& db = ctx.db();
  if (Entry* e = db.Find(req.resource); e != nullptr && e->has_expire()) {
    pttl = e->expire_ms() - now;
  } else if (e == nullptr) {
    pttl = RestartDelayLeft();
  }
  if (pttl >= 0) ScheduleCheck(q, key, now + pttl);
}

void LockManager::ScheduleCheck(Queue& queue, const std::string& key, int64_t at_ms) {
  if (queue.check != timers_.end()) {
    if (queue.check->first <= at_ms) return;
    timers_.erase(queue.check);
  }
  queue.check = timers_.emplace(at_ms, Timer{0, key});
  server_.ScheduleTimer(at_ms);
}

void LockManager::EraseQueue(std::unordered_map<std::string, Queue>::iterator it) {
  if (it->second.check != timers_.end()) timers_.erase(it->second.check);
  queues_.erase(it);
}

void LockManager::Forget(uint64_t client_id) {
  auto it = blocked_.find(client_id);
  if (it == blocked_.end()) return;
  if (it->second.timeout != timers_.end()) timers_.erase(it->second.timeout);
  blocked_.erase(it);
}

size_t LockManager::waiters(int db, std::string_view resource) const {
  auto it = queues_.find(QueueKey(db, resource));
  return it == queues_.end() ? 0 : it->second.waiters.size();
}

void LockManager::KeyRemoved(int db, std::string_view key) {
  // A lock key that goes away, however (release, DEL, expiry, RENAME): observers hear of it.
  // Checked in this order because every deletion in the server passes here.
  if (AnySubscribers() && fences_.Peek(key) != nullptr) PublishEvent(db, key, "released");
  if (queues_.empty()) return;
  std::string qkey = QueueKey(db, key);
  if (queues_.count(qkey)) ready_.push_back(std::move(qkey));
}

void LockManager::DatabaseReset(int db) {
  for (const auto& [key, q] : queues_) {
    if (q.db == db) ready_.push_back(key);
  }
}

void LockManager::ClientClosed(Client& c) {
  auto it = blocked_.find(c.id());
  if (it == blocked_.end()) return;
  const std::string key = it->second.queue;
  auto q = queues_.find(key);
  if (q != queues_.end()) {
    auto& w = q->second.waiters;
    w.erase(
        std::remove_if(w.begin(), w.end(), [&](const Waiter& x) { return x.client_id == c.id(); }),
        w.end());
    // The one that left may have been the head that a free lock was waiting for.
    ready_.push_back(key);
  }
  Forget(c.id());
}

void LockManager::ServeReady() {
  // Serving can remove keys (lazy expiry) and so make more queues ready: loop until quiet.
  while (!ready_.empty()) {
    std::vector<std::string> ready;
    ready.swap(ready_);
    std::sort(ready.begin(), ready.end());
    ready.erase(std::unique(ready.begin(), ready.end()), ready.end());
    for (const std::string& key : ready) Serve(key);
  }
}

void LockManager::Serve(const std::string& key) {
  auto qit = queues_.find(key);
  if (qit == queues_.end()) return;
  Queue& q = qit->second;
  const CommandSpec* acquire = server_.registry().Find("lock.acquire");
  // Clients are unblocked once the queue is settled: resuming one runs its buffered commands,
  // which may wait on this very queue again.
  std::vector<std::pair<uint64_t, size_t>> answered;  // client id, reply offset
  while (!q.waiters.empty()) {
    Waiter& w = q.waiters.front();
    Client* c = server_.FindClient(w.client_id);
    if (c == nullptr) {
      q.waiters.pop_front();
      continue;
    }
    CommandContext ctx(server_, *c, *acquire);
    const size_t before = c->transport()->output().size();
    if (w.take) {
      Result<AcquireOutcome> out =
          Acquire(ctx, AcquireRequest{q.resource, w.owner, w.ttl_ms, w.fence});
      if (out && !out->granted) {
        // Still held (or the restart delay): wait for the removal or the deadline.
        if (out->pttl >= 0) ScheduleCheck(q, key, server_.now_ms() + out->pttl);
        break;
      }
      if (out) {
        SendAcquireOutcome(c->rb(), *out);
      } else {
        ctx.SendStatus(out.status());  // the key became another type meanwhile
      }
      server_.CommitEffects(*c, ctx);
    } else {
      int64_t pttl = -1;
      Result<std::optional<std::string_view>> holder = Holder(ctx.db(), q.resource, &pttl);
      if (holder && holder->has_value()) {
        if (pttl >= 0) ScheduleCheck(q, key, server_.now_ms() + pttl);
        break;
      }
      c->rb().SendLong(1);
    }
    Forget(w.client_id);
    q.waiters.pop_front();
    answered.emplace_back(c->id(), before);
  }
  if (q.waiters.empty()) EraseQueue(qit);
  for (auto [id, before] : answered) {
    if (Client* c = server_.FindClient(id)) Unblock(*c, before);
  }
}

void LockManager::Unblock(Client& c, size_t before) {
  c.flags &= ~Client::kBlocked;
  server_.FinishBlockedReply(c, before);
  c.transport()->SetReading(true);  // what the client sent meanwhile runs now
}

int64_t LockManager::next_deadline() const {
  return timers_.empty() ? INT64_MAX : timers_.begin()->first;
}

int64_t LockManager::RunTimers(int64_t now_ms) {
  while (!timers_.empty() && timers_.begin()->first <= now_ms) {
    Timer t = std::move(timers_.begin()->second);
    // The owner of the entry forgets it first, so nothing erases it twice.
    if (t.client_id != 0) {
      if (auto b = blocked_.find(t.client_id); b != blocked_.end()) {
        b->second.timeout = timers_.end();
      }
    } else if (auto q = queues_.find(t.queue); q != queues_.end()) {
      q->second.check = timers_.end();
    }
    timers_.erase(timers_.begin());
    if (t.client_id != 0) {
      Timeout(t.queue, t.client_id);
    } else if (queues_.count(t.queue)) {
      // The lock's deadline: looking the key up expires it, and its removal readies the queue;
      // a lock extended meanwhile gets a new check at its new deadline.
      ready_.push_back(t.queue);
    }
  }
  ServeReady();
  return next_deadline();
}

bool LockManager::UnblockClient(uint64_t client_id, bool error) {
  auto b = blocked_.find(client_id);
  if (b == blocked_.end()) return false;
  const std::string key = b->second.queue;
  Timeout(key, client_id,
          error ? std::string_view("UNBLOCKED client unblocked via CLIENT UNBLOCK")
                : std::string_view());
  return true;
}

void LockManager::Timeout(const std::string& key, uint64_t client_id,
                          std::string_view error_reply) {
  auto b = blocked_.find(client_id);
  if (b == blocked_.end() || b->second.queue != key) return;
  auto qit = queues_.find(key);
  if (qit == queues_.end()) return;
  Queue& q = qit->second;
  auto w = std::find_if(q.waiters.begin(), q.waiters.end(),
                        [&](const Waiter& x) { return x.client_id == client_id; });
  if (w == q.waiters.end()) return;
  Client* c = server_.FindClient(client_id);
  const bool take = w->take;
  const std::string resource = q.resource;  // the queue may be erased below
  q.waiters.erase(w);
  Forget(client_id);
  if (q.waiters.empty()) EraseQueue(qit);
  if (c == nullptr) return;
  const size_t before = c->transport()->output().size();
  if (!error_reply.empty()) {
    c->rb().SendError(error_reply);
  } else if (take) {
    AcquireOutcome out;
    out.token = fences_.CounterOf(resource);
    int64_t pttl = -1;
    Result<std::optional<std::string_view>> holder =
        Holder(server_.keyspace().db(c->db), resource, &pttl);
    out.pttl = holder && holder->has_value() ? pttl : -2;
    SendAcquireOutcome(c->rb(), out);
  } else {
    c->rb().SendLong(0);
  }
  Unblock(*c, before);
}

void LockManager::Trim(size_t max_records) {
  if (fences_.size() <= max_records) return;
  fences_.Trim(max_records, [this](std::string_view resource) {
    // Held in any database: keep its fenced owner.
    for (int i = 0; i < server_.keyspace().db_count(); i++) {
      if (server_.keyspace().db(i).Find(resource, LookupMode::kNoTouch) != nullptr) return true;
    }
    return false;
  });
}

}  // namespace keyward
