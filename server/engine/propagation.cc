#include "server/engine/propagation.h"

#include <algorithm>

#include "server/core/resp.h"

namespace keyward {

namespace {

size_t DecimalDigits(size_t n) {
  size_t d = 1;
  while (n >= 10) {
    n /= 10;
    d++;
  }
  return d;
}

}  // namespace

void Propagation::AddConsumer(PropagationConsumer* consumer) {
  consumers_.push_back(consumer);
  // A new consumer knows nothing of the database selected before it joined.
  ForceSelect();
}

void Propagation::RemoveConsumer(PropagationConsumer* consumer) {
  consumers_.erase(std::remove(consumers_.begin(), consumers_.end(), consumer), consumers_.end());
}

void Propagation::Add(int db, Argv argv) {
  if (!active()) return;
  if (depth_ == 0) return Emit(db, argv);
  if (pending_.empty()) {
    for (PropagationConsumer* c : consumers_) c->OnPending();
  }
  pending_.push_back(Pending{db, std::move(argv)});
}

void Propagation::AddForReplicas(Argv argv) {
  if (!active()) return;
  if (depth_ == 0) return Emit(-1, argv, /*replicas_only=*/true);
  if (pending_.empty()) {
    for (PropagationConsumer* c : consumers_) c->OnPending();
  }
  pending_.push_back(Pending{-1, std::move(argv), true});
}

void Propagation::Add(int db, std::initializer_list<std::string_view> argv) {
  if (!active()) return;
  Add(db, Argv(argv.begin(), argv.end()));
}

void Propagation::Delete(int db, std::string_view key, bool lazy) {
  Add(db, {lazy ? "UNLINK" : "DEL", key});
}

void Propagation::EndUnit() {
  if (--depth_ > 0) return;
  // One command is atomic by itself: a transaction or a script that wrote once propagates that
  // command alone, as Redis 7.0 does.
  if (pending_.empty()) return;
  const bool wrap = pending_.size() > 1;
  // What every consumer gets is wrapped when it is more than one command; replicas, which also
  // get the replicas-only commands, when the whole unit is. (Replicas-only commands have no
  // database, so the SELECTs are the same for everyone.)
  size_t for_everyone = 0;
  for (const Pending& p : pending_) for_everyone += !p.replicas_only;
  const bool wrap_replicas_only = for_everyone <= 1;
  std::vector<Pending> unit;
  unit.swap(pending_);
  // MULTI goes to the first command's database (so the SELECT comes first), as in Redis.
  if (wrap) {
    int first_db = -1;
    for (const Pending& p : unit) {
      if (p.db >= 0) {
        first_db = p.db;
        break;
      }
    }
    Emit(first_db, {"MULTI"}, wrap_replicas_only);
  }
  for (const Pending& p : unit) Emit(p.db, p.argv, p.replicas_only);
  if (wrap) Emit(-1, {"EXEC"}, wrap_replicas_only);
}

void Propagation::Emit(int db, const Argv& argv, bool replicas_only) {
  // Commands of no database (Keyward's coordination state) need no SELECT.
  if (db >= 0 && db != selected_db_) {
    selected_db_ = db;
    Deliver({"SELECT", std::to_string(db)});
  }
  Deliver(argv, replicas_only);
}

void Propagation::Deliver(const Argv& argv, bool replicas_only) {
  offset_ += EncodedSize(argv);
  for (PropagationConsumer* c : consumers_) {
    if (!replicas_only || c->replica()) c->OnCommand(argv);
  }
}

size_t EncodedSize(const Argv& argv) {
  // *<n>\r\n then $<len>\r\n<bytes>\r\n per argument.
  size_t n = 3 + DecimalDigits(argv.size());
  for (const std::string& a : argv) n += 5 + DecimalDigits(a.size()) + a.size();
  return n;
}

std::string EncodeCommand(const Argv& argv) {
  std::string out;
  out.reserve(EncodedSize(argv));
  AppendArrayHeader(out, argv.size());
  for (const std::string& a : argv) AppendBulk(out, a);
  return out;
}

}  // namespace keyward
