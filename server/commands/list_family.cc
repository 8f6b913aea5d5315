// List commands: LPUSH ... LMPOP and the blocking BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP.
// Semantics, replies, error texts, notifications and propagation follow Redis 7.0 (t_list.c,
// blocked.c): arguments are checked in Redis's order (some before the key lookup, some after),
// an emptied list is deleted with a "del" event, and a blocking command that is served or finds
// data propagates as its non-blocking form.
#include <memory>
#include <string>
#include <vector>

#include "server/commands/args.h"
#include "server/commands/families.h"
#include "server/commands/services.h"
#include "server/core/errors.h"
#include "server/core/notify.h"
#include "server/core/strings.h"
#include "server/engine/context.h"
#include "server/engine/registry.h"
#include "server/keyspace/list_value.h"

namespace keyward {

namespace {

ListValue* AsList(Entry* e) { return e->value_as<ListValue>(); }

// The key's list, nullptr when absent; false (WRONGTYPE sent) when it holds another type.
bool LookupList(CommandContext& ctx, std::string_view key, LookupMode mode, ListValue** out) {
  Entry* e = ctx.db().Find(key, mode);
  *out = nullptr;
  if (e == nullptr) return true;
  if (e->type() != ObjType::kList) {
    ctx.rb().SendError(errors::kWrongType);
    return false;
  }
  *out = AsList(e);
  return true;
}

ListValue* CreateList(CommandContext& ctx, Database& db, std::string_view key) {
  auto value = std::make_unique<ListValue>(static_cast<int>(ctx.settings().list_max_listpack_size),
                                           &ctx.settings().list_packed_threshold);
  Entry* e = Entry::NewValue(key, std::move(value));
  db.Add(e);
  return AsList(e);
}

void SendElement(ReplyBuilder& rb, const LpElement& e) {
  if (e.is_int) {
    char buf[21];
    rb.SendBulk(e.View(buf));
  } else {
    rb.SendBulk(e.str);
  }
}

// After `count` elements were popped from an end (listElementsRemoved): the event, the key
// deleted when empty, waiters and the dirty counter.
void ElementsRemoved(CommandContext& ctx, Database& db, std::string_view key, ListValue* list,
                     bool front, size_t count) {
  ctx.Notify(notify::kList, front ? "lpop" : "rpop", key, db);
  if (list->empty()) {
    db.Delete(key);
    ctx.Notify(notify::kGeneric, "del", key, db);
  }
  ctx.KeyModified(db, key);
  ctx.AddDirty(count);
}

// addListRangeReply: start/end inclusive, negative from the end, reversed when `reverse`.
void SendRange(ReplyBuilder& rb, const ListValue* list, int64_t start, int64_t end, bool reverse) {
  const int64_t llen = static_cast<int64_t>(list->size());
  if (start < 0) start += llen;
  if (end < 0) end += llen;
  if (start < 0) start = 0;
  if (start > end || start >= llen) return rb.SendEmptyArray();
  if (end >= llen) end = llen - 1;
  int64_t n = end - start + 1;
  rb.StartArray(static_cast<size_t>(n));
  ListValue::Pos p = list->At(reverse ? end : start);
  while (n-- > 0) {
    SendElement(rb, list->Get(p));
    p = reverse ? list->Prev(p) : list->Next(p);
  }
}

// Pops up to `count` elements from one end with an array reply (LPOP/RPOP with a count, the
// LMPOP family): the reply, then the removal.
size_t PopRange(CommandContext& ctx, ListValue* list, bool front, int64_t count) {
  const int64_t llen = static_cast<int64_t>(list->size());
  const int64_t n = count > llen ? llen : count;
  SendRange(ctx.rb(), list, front ? 0 : -n, front ? n - 1 : -1, !front);
  list->EraseRange(front ? 0 : static_cast<size_t>(llen - n), static_cast<size_t>(n));
  return static_cast<size_t>(n);
}

// listPopRangeAndReplyWithKey: [key, [elements...]], propagated as [LR]POP key n.
void PopRangeWithKey(CommandContext& ctx, Database& db, std::string_view key, ListValue* list,
                     bool front, int64_t count) {
  ctx.rb().StartArray(2);
  ctx.rb().SendBulk(key);
  size_t n = PopRange(ctx, list, front, count);
  ctx.Propagate({front ? "LPOP" : "RPOP", key, FormatInt64(static_cast<int64_t>(n))});
  ElementsRemoved(ctx, db, key, list, front, n);
}

bool ParseWhere(CommandContext& ctx, std::string_view arg, bool* front) {
  if (EqualsIgnoreCase(arg, "left")) {
    *front = true;
  } else if (EqualsIgnoreCase(arg, "right")) {
    *front = false;
  } else {
    ctx.rb().SendError(errors::kSyntax);
    return false;
  }
  return true;
}

// --- Pushes -----------------------------------------------------------------------------------

void Push(CmdArgs args, CommandContext& ctx, bool front, bool only_existing) {
  Database& db = ctx.db();
  ListValue* list;
  if (!LookupList(ctx, args[1], LookupMode::kWrite, &list)) return;
  if (list == nullptr) {
    if (only_existing) return ctx.rb().SendLong(0);
    list = CreateList(ctx, db, args[1]);
  }
  for (size_t i = 2; i < args.size(); i++) list->Push(args[i], front);
  ctx.AddDirty(args.size() - 2);
  ctx.rb().SendLong(static_cast<int64_t>(list->size()));
  ctx.KeyModified(db, args[1]);
  ctx.Notify(notify::kList, front ? "lpush" : "rpush", args[1], db);
}

void CmdLPush(CmdArgs args, CommandContext& ctx) { Push(args, ctx, true, false); }
void CmdRPush(CmdArgs args, CommandContext& ctx) { Push(args, ctx, false, false); }
void CmdLPushX(CmdArgs args, CommandContext& ctx) { Push(args, ctx, true, true); }
void CmdRPushX(CmdArgs args, CommandContext& ctx) { Push(args, ctx, false, true); }

// LINSERT key BEFORE|AFTER pivot element
void CmdLInsert(CmdArgs args, CommandContext& ctx) {
  bool after;
  if (EqualsIgnoreCase(args[2], "after")) {
    after = true;
  } else if (EqualsIgnoreCase(args[2], "before")) {
    after = false;
  } else {
    return ctx.rb().SendError(errors::kSyntax);
  }
  Database& db = ctx.db();
  ListValue* list;
  if (!LookupList(ctx, args[1], LookupMode::kWrite, &list)) return;
  if (list == nullptr) return ctx.rb().SendLong(0);
  for (ListValue::Pos p = list->Begin(); p.valid(); p = list->Next(p)) {
    if (!list->Get(p).Equals(args[3])) continue;
    list->InsertAt(p, args[4], after);
    ctx.KeyModified(db, args[1]);
    ctx.Notify(notify::kList, "linsert", args[1], db);
    ctx.AddDirty();
    return ctx.rb().SendLong(static_cast<int64_t>(list->size()));
  }
  ctx.rb().SendLong(-1);
}

// --- Reads ------------------------------------------------------------------------------------

void CmdLLen(CmdArgs args, CommandContext& ctx) {
  ListValue* list;
  if (!LookupList(ctx, args[1], LookupMode::kRead, &list)) return;
  ctx.rb().SendLong(list == nullptr ? 0 : static_cast<int64_t>(list->size()));
}

// LINDEX key index: the key is looked up before the index is parsed.
void CmdLIndex(CmdArgs args, CommandContext& ctx) {
  ListValue* list;
  if (!LookupList(ctx, args[1], LookupMode::kRead, &list)) return;
  if (list == nullptr) return ctx.rb().SendNull();
  int64_t index;
  if (!GetLong(ctx, args[2], &index)) return;
  ListValue::Pos p = list->At(index);
  if (!p.valid()) return ctx.rb().SendNull();
  SendElement(ctx.rb(), list->Get(p));
}

// LRANGE key start stop
void CmdLRange(CmdArgs args, CommandContext& ctx) {
  int64_t start, end;
  if (!GetLong(ctx, args[2], &start) || !GetLong(ctx, args[3], &end)) return;
  ListValue* list;
  if (!LookupList(ctx, args[1], LookupMode::kRead, &list)) return;
  if (list == nullptr) return ctx.rb().SendEmptyArray();
  SendRange(ctx.rb(), list, start, end, false);
}

// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
void CmdLPos(CmdArgs args, CommandContext& ctx) {
  int64_t rank = 1, count = -1, maxlen = 0;  // count -1: not given
  for (size_t j = 3; j < args.size(); j++) {
    const bool more = j + 1 < args.size();
    if (EqualsIgnoreCase(args[j], "rank") && more) {
      if (!GetLong(ctx, args[++j], &rank)) return;
      if (rank == 0) {
        return ctx.rb().SendError(
            "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
            "or use negative to start from the end of the list");
      }
    } else if (EqualsIgnoreCase(args[j], "count") && more) {
      if (!GetPositiveLong(ctx, args[++j], &count, "COUNT can't be negative")) return;
    } else if (EqualsIgnoreCase(args[j], "maxlen") && more) {
      if (!GetPositiveLong(ctx, args[++j], &maxlen, "MAXLEN can't be negative")) return;
    } else {
      return ctx.rb().SendError(errors::kSyntax);
    }
  }
  const bool forward = rank > 0;
  // Redis negates with C's wrap-around: RANK -2^63 stays negative, so every match qualifies and
  // a COUNT is never reached (matches - rank + 1 wraps negative too).
  if (rank < 0) rank = static_cast<int64_t>(0 - static_cast<uint64_t>(rank));
  ListValue* list = nullptr;
  Entry* e = ctx.db().Find(args[1], LookupMode::kRead);
  if (e == nullptr) return count != -1 ? ctx.rb().SendEmptyArray() : ctx.rb().SendNull();
  if (e->type() != ObjType::kList) return ctx.rb().SendError(errors::kWrongType);
  list = AsList(e);
  const int64_t llen = static_cast<int64_t>(list->size());
  std::vector<int64_t> found;
  int64_t matches = 0, index = 0;
  for (ListValue::Pos p = forward ? list->Begin() : list->End();
       p.valid() && (maxlen == 0 || index < maxlen);
       p = forward ? list->Next(p) : list->Prev(p), index++) {
    if (!list->Get(p).Equals(args[2])) continue;
    matches++;
    if (matches < rank) continue;
    found.push_back(forward ? index : llen - index - 1);
    const int64_t taken =
        static_cast<int64_t>(static_cast<uint64_t>(matches) - static_cast<uint64_t>(rank) + 1);
    if (count == -1 || (count != 0 && taken >= count)) break;
  }
  if (count == -1) {
    return found.empty() ? ctx.rb().SendNull() : ctx.rb().SendLong(found[0]);
  }
  ctx.rb().StartArray(found.size());
  for (int64_t i : found) ctx.rb().SendLong(i);
}

// --- Changes in place -------------------------------------------------------------------------

// LSET key index element
void CmdLSet(CmdArgs args, CommandContext& ctx) {
  Database& db = ctx.db();
  Entry* e = db.Find(args[1], LookupMode::kWrite);
  if (e == nullptr) return ctx.rb().SendError(errors::kNoSuchKey);
  if (e->type() != ObjType::kList) return ctx.rb().SendError(errors::kWrongType);
  int64_t index;
  if (!GetLong(ctx, args[2], &index)) return;
  ListValue* list = AsList(e);
  ListValue::Pos p = list->At(index);
  if (!p.valid()) return ctx.rb().SendError("ERR index out of range");
  list->Set(p, args[3]);
  ctx.rb().SendOk();
  ctx.KeyModified(db, args[1]);
  ctx.Notify(notify::kList, "lset", args[1], db);
  ctx.AddDirty();
}

// LTRIM key start stop
void CmdLTrim(CmdArgs args, CommandContext& ctx) {
  int64_t start, end;
  if (!GetLong(ctx, args[2], &start) || !GetLong(ctx, args[3], &end)) return;
  Database& db = ctx.db();
  ListValue* list;
  if (!LookupList(ctx, args[1], LookupMode::kWrite, &list)) return;
  if (list == nullptr) return ctx.rb().SendOk();
  const int64_t llen = static_cast<int64_t>(list->size());
  if (start < 0) start += llen;
  if (end < 0) end += llen;
  if (start < 0) start = 0;
  int64_t ltrim, rtrim;
  if (start > end || start >= llen) {
    ltrim = llen;
    rtrim = 0;
  } else {
    if (end >= llen) end = llen - 1;
    ltrim = start;
    rtrim = llen - end - 1;
  }
  list->EraseRange(0, static_cast<size_t>(ltrim));
  list->EraseRange(list->size() - static_cast<size_t>(rtrim), static_cast<size_t>(rtrim));
  ctx.Notify(notify::kList, "ltrim", args[1], db);
  if (list->empty()) {
    db.Delete(args[1]);
    ctx.Notify(notify::kGeneric, "del", args[1], db);
  }
  ctx.KeyModified(db, args[1]);
  ctx.AddDirty(static_cast<uint64_t>(ltrim + rtrim));
  ctx.rb().SendOk();
}

// LREM key count element
void CmdLRem(CmdArgs args, CommandContext& ctx) {
  int64_t toremove;
  if (!GetLong(ctx, args[2], &toremove)) return;
  Database& db = ctx.db();
  ListValue* list;
  if (!LookupList(ctx, args[1], LookupMode::kWrite, &list)) return;
  if (list == nullptr) return ctx.rb().SendLong(0);
  const bool backward = toremove < 0;
  // -INT64_MIN does not fit; any count beyond the list's length removes every match.
  const uint64_t limit =
      backward ? 0 - static_cast<uint64_t>(toremove) : static_cast<uint64_t>(toremove);
  const auto removed = static_cast<int64_t>(list->RemoveEqual(
      args[3], limit > list->size() ? list->size() : static_cast<size_t>(limit), backward));
  ctx.AddDirty(static_cast<uint64_t>(removed));
  if (removed != 0) {
    ctx.KeyModified(db, args[1]);
    ctx.Notify(notify::kList, "lrem", args[1], db);
  }
  if (list->empty()) {
    db.Delete(args[1]);
    ctx.Notify(notify::kGeneric, "del", args[1], db);
  }
  ctx.rb().SendLong(removed);
}

// --- Pops -------------------------------------------------------------------------------------

// LPOP/RPOP key [count]
void Pop(CmdArgs args, CommandContext& ctx, bool front) {
  if (args.size() > 3) return ctx.rb().SendError(errors::WrongArgs(ctx.cmd().full_name()));
  const bool has_count = args.size() == 3;
  int64_t count = 0;
  if (has_count && !GetPositiveLong(ctx, args[2], &count)) return;
  Database& db = ctx.db();
  ListValue* list;
  if (!LookupList(ctx, args[1], LookupMode::kWrite, &list)) return;
  if (list == nullptr) return has_count ? ctx.rb().SendNullArray() : ctx.rb().SendNull();
  if (has_count && count == 0) return ctx.rb().SendEmptyArray();
  if (!has_count) {
    ctx.rb().SendBulk(list->Pop(front));
    return ElementsRemoved(ctx, db, args[1], list, front, 1);
  }
  size_t n = PopRange(ctx, list, front, count);
  ElementsRemoved(ctx, db, args[1], list, front, n);
}

void CmdLPop(CmdArgs args, CommandContext& ctx) { Pop(args, ctx, true); }
void CmdRPop(CmdArgs args, CommandContext& ctx) { Pop(args, ctx, false); }

// What LMOVE and its relatives do once the source is known to hold elements: pop, push onto the
// destination (created if needed), reply with the element (lmoveGenericCommand and
// serveClientBlockedOnList's BLMOVE branch). False (WRONGTYPE sent) when the destination holds
// another type.
bool MoveElement(CommandContext& ctx, Database& db, std::string_view src, ListValue* list,
                 std::string_view dst, bool from_front, bool to_front) {
  Entry* d = db.Find(dst, LookupMode::kWrite);
  if (d != nullptr && d->type() != ObjType::kList) {
    ctx.rb().SendError(errors::kWrongType);
    return false;
  }
  std::string value = list->Pop(from_front);
  ListValue* target = d != nullptr ? AsList(d) : CreateList(ctx, db, dst);
  ctx.KeyModified(db, dst);
  target->Push(value, to_front);
  ctx.Notify(notify::kList, to_front ? "lpush" : "rpush", dst, db);
  ctx.rb().SendBulk(value);
  ctx.Notify(notify::kList, from_front ? "lpop" : "rpop", src, db);
  // `list` may be `target` (same key): it is empty only if both are.
  if (list->empty()) {
    db.Delete(src);
    ctx.Notify(notify::kGeneric, "del", src, db);
  }
  ctx.KeyModified(db, src);
  return true;
}

std::string_view WhereName(bool front) { return front ? "LEFT" : "RIGHT"; }

// LMOVE's body for a source that exists. LMOVE and RPOPLPUSH propagate as received; their
// blocking forms as RPOPLPUSH or LMOVE (`rpoplpush` picks which), as Redis rewrites them.
void MoveAndPropagate(CommandContext& ctx, std::string_view src, std::string_view dst,
                      ListValue* list, bool from_front, bool to_front, bool rpoplpush,
                      bool as_received) {
  Database& db = ctx.db();
  if (!MoveElement(ctx, db, src, list, dst, from_front, to_front)) return;
  ctx.AddDirty();
  if (as_received) return;
  if (rpoplpush) {
    ctx.Propagate({"RPOPLPUSH", src, dst});
  } else {
    ctx.Propagate({"LMOVE", src, dst, WhereName(from_front), WhereName(to_front)});
  }
}

void MoveCommand(CmdArgs args, CommandContext& ctx, bool from_front, bool to_front,
                 bool rpoplpush) {
  ListValue* list;
  if (!LookupList(ctx, args[1], LookupMode::kWrite, &list)) return;
  if (list == nullptr) return ctx.rb().SendNull();
  MoveAndPropagate(ctx, args[1], args[2], list, from_front, to_front, rpoplpush,
                   /*as_received=*/true);
}

// LMOVE source destination LEFT|RIGHT LEFT|RIGHT
void CmdLMove(CmdArgs args, CommandContext& ctx) {
  bool from_front, to_front;
  if (!ParseWhere(ctx, args[3], &from_front) || !ParseWhere(ctx, args[4], &to_front)) return;
  MoveCommand(args, ctx, from_front, to_front, false);
}

// RPOPLPUSH source destination
void CmdRPopLPush(CmdArgs args, CommandContext& ctx) { MoveCommand(args, ctx, false, true, true); }

// The first key of `keys` holding a non-empty list: pops from it as LMPOP does. False when none
// (nothing sent) or on WRONGTYPE (sent; *error set).
bool TryMPop(CommandContext& ctx, CmdArgs keys, bool front, int64_t count, bool* error) {
  Database& db = ctx.db();
  *error = false;
  for (std::string_view key : keys) {
    ListValue* list;
    if (!LookupList(ctx, key, LookupMode::kWrite, &list)) {
      *error = true;
      return false;
    }
    if (list == nullptr) continue;
    PopRangeWithKey(ctx, db, key, list, front, count);
    return true;
  }
  return false;
}

// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
void CmdLMPop(CmdArgs args, CommandContext& ctx) {
  MPopArgs m;
  if (!GetMPopArgs(ctx, args, 1, "left", "right", &m)) return;
  bool error;
  if (!TryMPop(ctx, m.keys, !m.second_end, m.count, &error) && !error) ctx.rb().SendNullArray();
}

// --- Blocking ---------------------------------------------------------------------------------

struct ListWait : WaitState {
  bool front = true;        // pop from the head
  int64_t count = -1;       // BLMPOP: up to count elements; -1: BLPOP/BRPOP's single one
  bool move = false;        // BLMOVE / BRPOPLPUSH
  bool to_front = true;     // where the moved element goes
  bool rpoplpush = false;   // propagate as RPOPLPUSH rather than LMOVE
  std::string destination;  // for a move
};

// Serves the clients blocked on lists (serveClientBlockedOnList).
class ListBlockHandler : public BlockHandler {
 public:
  bool TryServe(CommandContext& ctx, WaitState* state, std::string_view key) override {
    auto& w = *static_cast<ListWait*>(state);
    Database& db = ctx.db();
    Entry* e = db.Find(key, LookupMode::kWrite);
    // Absent, or replaced by another type (then passed over): Redis 7.0 keeps such waiters
    // waiting.
    if (e == nullptr || e->type() != ObjType::kList) return false;
    ListValue* list = AsList(e);
    if (w.move) {
      if (!MoveElement(ctx, db, key, list, w.destination, w.front, w.to_front)) return true;
      if (w.rpoplpush) {
        ctx.Propagate({"RPOPLPUSH", key, w.destination});
      } else {
        ctx.Propagate({"LMOVE", key, w.destination, WhereName(w.front), WhereName(w.to_front)});
      }
      return true;
    }
    if (w.count > 0) {
      ctx.rb().StartArray(2);
      ctx.rb().SendBulk(key);
      size_t n = PopRange(ctx, list, w.front, w.count);
      ctx.Propagate({w.front ? "LPOP" : "RPOP", key, FormatInt64(static_cast<int64_t>(n))});
      // listPopRangeAndReplyWithKey counts the pops, unlike the single-element branch below.
      ElementsRemoved(ctx, db, key, list, w.front, n);
      return true;
    }
    ctx.Propagate({w.front ? "LPOP" : "RPOP", key});
    std::string value = list->Pop(w.front);
    ctx.rb().StartArray(2);
    ctx.rb().SendBulk(key);
    ctx.rb().SendBulk(value);
    ServedRemoval(ctx, db, key, list, w.front);
    return true;
  }

  bool PassesOver(CommandContext& ctx, WaitState*, std::string_view key) override {
    Entry* e = ctx.db().Find(key, LookupMode::kNoTouch);
    return e != nullptr && e->type() != ObjType::kList;
  }

  void OnTimeout(Client& c, WaitState*) override {
    // Every list wait, BLMOVE's included, times out with a null array
    // (replyToBlockedClientTimedOut).
    c.rb().SendNullArray();
  }

 private:
  // The pop's event and the deletion of an emptied list; no signal (the push that woke the
  // waiter signalled) and no dirty count, as in Redis.
  static void ServedRemoval(CommandContext& ctx, Database& db, std::string_view key,
                            ListValue* list, bool front) {
    ctx.Notify(notify::kList, front ? "lpop" : "rpop", key, db);
    if (list->empty()) {
      db.Delete(key);
      ctx.Notify(notify::kGeneric, "del", key, db);
    }
  }
};

ListBlockHandler& Handler() {
  static ListBlockHandler handler;  // stateless: one serves every server in the process
  return handler;
}

void BlockOnKeys(CommandContext& ctx, CmdArgs keys, int64_t deadline_ms,
                 std::unique_ptr<ListWait> wait) {
  BlockRequest request;
  request.db = ctx.client().db;
  for (std::string_view key : keys) request.keys.emplace_back(key);
  request.deadline_ms = deadline_ms;
  request.handler = &Handler();
  request.command = &ctx.cmd();
  request.state = std::move(wait);
  ctx.services().blocking.Block(ctx.client(), std::move(request));
}

// BLPOP/BRPOP key [key ...] timeout
void BlockingPop(CmdArgs args, CommandContext& ctx, bool front) {
  int64_t deadline;
  if (!GetBlockTimeout(ctx, args.back(), &deadline)) return;
  CmdArgs keys = args.subspan(1, args.size() - 2);
  Database& db = ctx.db();
  for (std::string_view key : keys) {
    ListValue* list;
    if (!LookupList(ctx, key, LookupMode::kWrite, &list)) return;
    if (list == nullptr) continue;
    std::string value = list->Pop(front);
    ctx.rb().StartArray(2);
    ctx.rb().SendBulk(key);
    ctx.rb().SendBulk(value);
    ElementsRemoved(ctx, db, key, list, front, 1);
    ctx.Propagate({front ? "LPOP" : "RPOP", key});
    return;
  }
  if (!ctx.may_block()) return ctx.rb().SendNullArray();
  auto wait = std::make_unique<ListWait>();
  wait->front = front;
  BlockOnKeys(ctx, keys, deadline, std::move(wait));
}

void CmdBLPop(CmdArgs args, CommandContext& ctx) { BlockingPop(args, ctx, true); }
void CmdBRPop(CmdArgs args, CommandContext& ctx) { BlockingPop(args, ctx, false); }

void BlockingMove(CmdArgs args, CommandContext& ctx, bool from_front, bool to_front,
                  int64_t deadline, bool rpoplpush) {
  ListValue* list;
  if (!LookupList(ctx, args[1], LookupMode::kWrite, &list)) return;
  if (list != nullptr) {
    return MoveAndPropagate(ctx, args[1], args[2], list, from_front, to_front, rpoplpush,
                            /*as_received=*/false);
  }
  if (!ctx.may_block()) return ctx.rb().SendNull();
  auto wait = std::make_unique<ListWait>();
  wait->move = true;
  wait->front = from_front;
  wait->to_front = to_front;
  wait->rpoplpush = rpoplpush;
  wait->destination = std::string(args[2]);
  BlockOnKeys(ctx, args.subspan(1, 1), deadline, std::move(wait));
}

// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
void CmdBLMove(CmdArgs args, CommandContext& ctx) {
  bool from_front, to_front;
  int64_t deadline;
  if (!ParseWhere(ctx, args[3], &from_front) || !ParseWhere(ctx, args[4], &to_front) ||
      !GetBlockTimeout(ctx, args[5], &deadline)) {
    return;
  }
  BlockingMove(args, ctx, from_front, to_front, deadline, false);
}

// BRPOPLPUSH source destination timeout
void CmdBRPopLPush(CmdArgs args, CommandContext& ctx) {
  int64_t deadline;
  if (!GetBlockTimeout(ctx, args[3], &deadline)) return;
  BlockingMove(args, ctx, false, true, deadline, true);
}

// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
void CmdBLMPop(CmdArgs args, CommandContext& ctx) {
  MPopArgs m;
  if (!GetMPopArgs(ctx, args, 2, "left", "right", &m)) return;
  int64_t deadline;
  if (!GetBlockTimeout(ctx, args[1], &deadline)) return;
  bool error;
  if (TryMPop(ctx, m.keys, !m.second_end, m.count, &error) || error) return;
  if (!ctx.may_block()) return ctx.rb().SendNullArray();
  auto wait = std::make_unique<ListWait>();
  wait->front = !m.second_end;
  wait->count = m.count;
  BlockOnKeys(ctx, m.keys, deadline, std::move(wait));
}

}  // namespace

void RegisterListFamily(CommandRegistry& r) {
  constexpr uint32_t kW = CO::kWrite;
  constexpr uint32_t kWD = CO::kWrite | CO::kDenyOom;
  constexpr uint32_t kRO = CO::kReadOnly;
  constexpr uint32_t kF = CO::kFast;
  constexpr uint32_t kB = CO::kBlocking;
  constexpr uint64_t kL = Acl::kList;
  // clang-format off
  r << CommandSpec{"lpush", -3, kWD | kF, 1, 1, 1, kL, CmdLPush,
                   {"Prepend one or multiple elements to a list", "1.0.0", "list",
                    "O(1) for each element added, so O(N) to add N elements when the command is "
                    "called with multiple arguments.", "key element [element ...]"}}
    << CommandSpec{"rpush", -3, kWD | kF, 1, 1, 1, kL, CmdRPush,
                   {"Append one or multiple elements to a list", "1.0.0", "list",
                    "O(1) for each element added, so O(N) to add N elements when the command is "
                    "called with multiple arguments.", "key element [element ...]"}}
    << CommandSpec{"lpushx", -3, kWD | kF, 1, 1, 1, kL, CmdLPushX,
                   {"Prepend an element to a list, only if the list exists", "2.2.0", "list",
                    "O(1) for each element added, so O(N) to add N elements when the command is "
                    "called with multiple arguments.", "key element [element ...]"}}
    << CommandSpec{"rpushx", -3, kWD | kF, 1, 1, 1, kL, CmdRPushX,
                   {"Append an element to a list, only if the list exists", "2.2.0", "list",
                    "O(1) for each element added, so O(N) to add N elements when the command is "
                    "called with multiple arguments.", "key element [element ...]"}}
    << CommandSpec{"linsert", 5, kWD, 1, 1, 1, kL, CmdLInsert,
                   {"Insert an element before or after another element in a list", "2.2.0",
                    "list",
                    "O(N) where N is the number of elements to traverse before seeing the value "
                    "pivot. This means that inserting somewhere on the left end on the list "
                    "(head) can be considered O(1) and inserting somewhere on the right end "
                    "(tail) is O(N).", "key BEFORE|AFTER pivot element"}}
    << CommandSpec{"llen", 2, kRO | kF, 1, 1, 1, kL, CmdLLen,
                   {"Get the length of a list", "1.0.0", "list", "O(1)", "key"}}
    << CommandSpec{"lindex", 3, kRO, 1, 1, 1, kL, CmdLIndex,
                   {"Get an element from a list by its index", "1.0.0", "list",
                    "O(N) where N is the number of elements to traverse to get to the element "
                    "at index. This makes asking for the first or the last element of the list "
                    "O(1).", "key index"}}
    << CommandSpec{"lrange", 4, kRO, 1, 1, 1, kL, CmdLRange,
                   {"Get a range of elements from a list", "1.0.0", "list",
                    "O(S+N) where S is the distance of start offset from HEAD for small lists, "
                    "from nearest end (HEAD or TAIL) for large lists; and N is the number of "
                    "elements in the specified range.", "key start stop"}}
    << CommandSpec{"lpos", -3, kRO, 1, 1, 1, kL, CmdLPos,
                   {"Return the index of matching elements on a list", "6.0.6", "list",
                    "O(N) where N is the number of elements in the list, for the average case. "
                    "When searching for elements near the head or the tail of the list, or when "
                    "the MAXLEN option is provided, the command may run in constant time.",
                    "key element [RANK rank] [COUNT num-matches] [MAXLEN len]"}}
    << CommandSpec{"lset", 4, kWD, 1, 1, 1, kL, CmdLSet,
                   {"Set the value of an element in a list by its index", "1.0.0", "list",
                    "O(N) where N is the length of the list. Setting either the first or the "
                    "last element of the list is O(1).", "key index element"}}
    << CommandSpec{"ltrim", 4, kW, 1, 1, 1, kL, CmdLTrim,
                   {"Trim a list to the specified range", "1.0.0", "list",
                    "O(N) where N is the number of elements to be removed by the operation.",
                    "key start stop"}}
    << CommandSpec{"lrem", 4, kW, 1, 1, 1, kL, CmdLRem,
                   {"Remove elements from a list", "1.0.0", "list",
                    "O(N+M) where N is the length of the list and M is the number of elements "
                    "removed.", "key count element"}}
    << CommandSpec{"lpop", -2, kW | kF, 1, 1, 1, kL, CmdLPop,
                   {"Remove and get the first elements in a list", "1.0.0", "list",
                    "O(N) where N is the number of elements returned", "key [count]"}}
    << CommandSpec{"rpop", -2, kW | kF, 1, 1, 1, kL, CmdRPop,
                   {"Remove and get the last elements in a list", "1.0.0", "list",
                    "O(N) where N is the number of elements returned", "key [count]"}}
    << CommandSpec{"lmove", 5, kWD, 1, 2, 1, kL, CmdLMove,
                   {"Pop an element from a list, push it to another list and return it",
                    "6.2.0", "list", "O(1)",
                    "source destination LEFT|RIGHT LEFT|RIGHT"}}
    << CommandSpec{"rpoplpush", 3, kWD, 1, 2, 1, kL, CmdRPopLPush,
                   {"Remove the last element in a list, prepend it to another list and return "
                    "it", "1.2.0", "list", "O(1)", "source destination"}}
    << CommandSpec{"lmpop", -4, kW | CO::kMovableKeys, 0, 0, 0, kL, CmdLMPop,
                   {"Pop elements from a list", "7.0.0", "list",
                    "O(N+M) where N is the number of provided keys and M is the number of "
                    "elements returned.", "numkeys key [key ...] LEFT|RIGHT [COUNT count]"}}
    << CommandSpec{"blpop", -3, kW | kB | CO::kNoScript, 1, -2, 1, kL, CmdBLPop,
                   {"Remove and get the first element in a list, or block until one is "
                    "available", "2.0.0", "list", "O(N) where N is the number of provided keys.",
                    "key [key ...] timeout"}}
    << CommandSpec{"brpop", -3, kW | kB | CO::kNoScript, 1, -2, 1, kL, CmdBRPop,
                   {"Remove and get the last element in a list, or block until one is "
                    "available", "2.0.0", "list", "O(N) where N is the number of provided keys.",
                    "key [key ...] timeout"}}
    << CommandSpec{"blmove", 6, kWD | kB | CO::kNoScript, 1, 2, 1, kL, CmdBLMove,
                   {"Pop an element from a list, push it to another list and return it; or "
                    "block until one is available", "6.2.0", "list", "O(1)",
                    "source destination LEFT|RIGHT LEFT|RIGHT timeout"}}
    << CommandSpec{"brpoplpush", 4, kWD | kB | CO::kNoScript, 1, 2, 1, kL, CmdBRPopLPush,
                   {"Pop an element from a list, push it to another list and return it; or "
                    "block until one is available", "2.2.0", "list", "O(1)",
                    "source destination timeout"}}
    << CommandSpec{"blmpop", -5, kW | kB | CO::kMovableKeys, 0, 0, 0, kL, CmdBLMPop,
                   {"Pop elements from a list, or block until one is available", "7.0.0", "list",
                    "O(N+M) where N is the number of provided keys and M is the number of "
                    "elements returned.",
                    "timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]"}};
  // clang-format on
}

}  // namespace keyward
