#include "linear_checker.h"

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

namespace keyward::jepsen {

namespace {

constexpr int64_t kInfinity = INT64_MAX;  // an info operation's completion
constexpr size_t kWitnessOps = 8;         // operations taken effect last, in a witness

// The register's values of one key, numbered: 0 is null (the initial value), the integers seen
// from 1, so that a search state is an integer.
class Values {
 public:
  int32_t Id(std::optional<int64_t> v) {
    if (!v) return 0;
    auto [it, fresh] = ids_.emplace(*v, static_cast<int32_t>(values_.size() + 1));
    if (fresh) values_.push_back(*v);
    return it->second;
  }
  nlohmann::json Json(int32_t id) const {
    return id == 0 ? nlohmann::json(nullptr) : nlohmann::json(values_[id - 1]);
  }

 private:
  std::map<int64_t, int32_t> ids_;
  std::vector<int64_t> values_;
};

// An operation on one register as the search sees it.
struct RegOp {
  enum Kind { kRead, kWrite, kCas } kind = kRead;
  int32_t a = 0, b = 0;  // read: the value returned; write: the value; cas: from, to
  bool info = false;     // may or may not have happened: completes at infinity
  int64_t call_ns = 0, return_ns = 0;
  const Op* invoke = nullptr;
  const Op* completion = nullptr;  // null: never completed
};

// The register after `op` takes effect in `state`, or -1 where the search does not take it:
// a read returning another value, a cas whose compare fails, and an info operation that would
// not change the register (it might as well have happened last, which is as if never).
int32_t Step(const RegOp& op, int32_t state) {
  int32_t after = -1;
  switch (op.kind) {
    case RegOp::kRead:
      after = op.a == state ? state : -1;
      break;
    case RegOp::kWrite:
      after = op.a;
      break;
    case RegOp::kCas:
      after = op.a == state ? op.b : -1;
      break;
  }
  return op.info && after == state ? -1 : after;
}

// A field of an operation's value: nullopt if it is not an integer or null (absent: null, as a
// cas's from may be).
std::optional<std::optional<int64_t>> Field(const nlohmann::json& v, const char* name) {
  if (!v.contains(name) || v[name].is_null()) return std::optional<int64_t>();
  if (!v[name].is_number_integer()) return std::nullopt;
  return std::optional<int64_t>(v[name].get<int64_t>());
}

nlohmann::json Describe(const RegOp& op) {
  const Op* shown =
      op.completion != nullptr && op.completion->type == OpType::kOk ? op.completion : op.invoke;
  return {{"index", op.invoke->index},
          {"process", op.invoke->process},
          {"f", op.invoke->f},
          {"type", op.completion != nullptr ? nlohmann::json(OpTypeName(op.completion->type))
                                            : nlohmann::json(nullptr)},
          {"value", shown->value}};
}

// The visited states of one key's search: a bitset of the operations taken effect and the
// register's value. Entries live in one flat array (`words_` bitset words, then the value), found
// through an open-addressing table of entry numbers.
class StateCache {
 public:
  explicit StateCache(size_t words) : words_(words), slots_(1 << 10, 0) {}

  // True if (`bits`, `state`) had not been visited (it is now).
  bool Insert(const std::vector<uint64_t>& bits, int32_t state) {
    if ((count_ + 1) * 2 > slots_.size()) Grow();
    const size_t mask = slots_.size() - 1;
    for (size_t i = Hash(bits.data(), state) & mask;; i = (i + 1) & mask) {
      if (slots_[i] == 0) {
        arena_.insert(arena_.end(), bits.begin(), bits.end());
        arena_.push_back(static_cast<uint64_t>(state));
        slots_[i] = static_cast<uint32_t>(++count_);
        return true;
      }
      const uint64_t* e = Entry(slots_[i] - 1);
      if (e[words_] == static_cast<uint64_t>(state) && std::equal(bits.begin(), bits.end(), e)) {
        return false;
      }
    }
  }
  int64_t size() const { return static_cast<int64_t>(count_); }

 private:
  const uint64_t* Entry(size_t n) const { return arena_.data() + n * (words_ + 1); }
  uint64_t Hash(const uint64_t* bits, int32_t state) const {
    uint64_t h = static_cast<uint64_t>(state) * 0x9E3779B97F4A7C15ull;
    for (size_t w = 0; w < words_; ++w) {
      h = (h ^ bits[w]) * 0xBF58476D1CE4E5B9ull;
      h ^= h >> 31;
    }
    h ^= h >> 33;  // the low bits pick the slot: mix the high ones in
    return h * 0xFF51AFD7ED558CCDull ^ (h >> 29);
  }
  void Grow() {
    std::vector<uint32_t> slots(slots_.size() * 2, 0);
    const size_t mask = slots.size() - 1;
    for (size_t n = 0; n < count_; ++n) {
      const uint64_t* e = Entry(n);
      size_t i = Hash(e, static_cast<int32_t>(e[words_])) & mask;
      while (slots[i] != 0) i = (i + 1) & mask;
      slots[i] = static_cast<uint32_t>(n + 1);
    }
    slots_ = std::move(slots);
  }

  size_t words_;
  size_t count_ = 0;
  std::vector<uint64_t> arena_;
  std::vector<uint32_t> slots_;  // 0: empty; else the entry's number + 1
};

enum class Verdict { kLinearizable, kNotLinearizable, kUnknown };

struct KeyResult {
  Verdict verdict = Verdict::kLinearizable;
  int64_t states = 0;
  nlohmann::json witness;
};

// Wing & Gong's search with Lowe's memoisation over one key's operations (Porcupine's
// checkSingle). The history is a doubly linked list of call and return events in time order
// (calls before returns at equal times); taking an operation's effect ("lift") unlinks its call
// and return. The search tries each call before the first return: one whose step is allowed and
// leads to an unvisited state is taken (pushed on the stack) and the scan restarts at the head.
// Reaching a return means that operation had to have taken effect by then: the search
// backtracks, undoing the last operation taken and trying the calls after it. Every acknowledged
// operation taken: linearizable (the info ones left happen last, or never). Nothing to undo: not.
//
// Three reductions keep the states few; each keeps the search exact, as argued where it is made:
// reads first (Run), info operations only where observed (Take), identical info operations in
// the order of their calls (the constructor).
class KeySearch {
 public:
  KeySearch(const std::vector<RegOp>& ops, const Values& values, int64_t max_states)
      : ops_(ops),
        values_(values),
        max_states_(max_states),
        bits_((ops.size() + 63) / 64, 0),
        cache_(bits_.size()) {
    const int n = static_cast<int>(ops.size());
    struct Event {
      int64_t time;
      bool call;
      int op;
    };
    std::vector<Event> events;
    for (int i = 0; i < n; ++i) {
      events.push_back({ops[i].call_ns, true, i});
      events.push_back(
          {ops[i].info ? kInfinity : std::max(ops[i].return_ns, ops[i].call_ns), false, i});
      if (!ops[i].info) remaining_++;
    }
    std::sort(events.begin(), events.end(), [](const Event& x, const Event& y) {
      if (x.time != y.time) return x.time < y.time;
      if (x.call != y.call) return x.call;
      return x.op < y.op;
    });
    const int size = 2 * n + 1;
    for (int e = 0; e < size; ++e) {
      prev_.push_back(e - 1);
      next_.push_back(e + 1 < size ? e + 1 : kNone);
    }
    match_.assign(size, kNone);
    op_of_.assign(size, kNone);
    twin_.assign(n, kNone);
    std::vector<int> call_of(n);
    // Identical info operations (the same write, the same cas) are interchangeable: in a
    // linearization, the one called first can take the earliest place any of them has (its call
    // is no later; none has a return), and the results stay the same. So they are taken in the
    // order of their calls, and k of them give k + 1 states, not 2^k.
    std::map<std::pair<int32_t, int32_t>, int> last_twin[3];
    for (int e = 1; e < size; ++e) {
      const Event& ev = events[e - 1];
      const RegOp& op = ops[ev.op];
      op_of_[e] = ev.op;
      if (!ev.call) {
        match_[call_of[ev.op]] = e;
        continue;
      }
      call_of[ev.op] = e;
      if (!op.info) continue;
      auto [it, fresh] = last_twin[op.kind].try_emplace({op.a, op.b}, ev.op);
      if (!fresh) twin_[ev.op] = std::exchange(it->second, ev.op);
    }
  }

  KeyResult Run() {
    KeyResult result;
    bool fresh = true;  // a state just reached
    // While an acknowledged operation is left, the list holds its return, before the info ones'
    // (at infinity): each scan ends at a return.
    while (remaining_ > 0) {
      std::optional<bool> took;
      if (fresh) {
        // A read that may return the register now is taken first, nothing else tried: if any
        // order goes on from here, so does the one with that read moved first (it changes
        // nothing, and every operation not taken completed after its call, or the scan would
        // not have reached the call). This removes the interleavings of reads, most states.
        fresh = false;
        entry_ = next_[0];
        int read = next_[0];
        while (IsCall(read) && (OpAt(read).kind != RegOp::kRead || OpAt(read).a != state_)) {
          read = next_[read];
        }
        if (IsCall(read)) {
          took = Take(read, state_, true);
          if (!took) break;  // out of budget
          if (*took) {
            fresh = true;
          } else if (!Backtrack()) {
            result.verdict = Verdict::kNotLinearizable;
            break;
          }
          continue;
        }
      }
      if (IsCall(entry_)) {  // try to take its effect now
        const RegOp& op = OpAt(entry_);
        const int32_t after = Step(op, state_);
        const int twin = twin_[op_of_[entry_]];
        // With a value owed, no write may come next (a read or cas that may is observing it).
        if (after >= 0 && (!owed_ || op.kind != RegOp::kWrite) && (twin == kNone || Taken(twin))) {
          took = Take(entry_, after, false);
          if (!took) break;
          if (*took) {
            fresh = true;
            continue;
          }
        }
        entry_ = next_[entry_];
        continue;
      }
      // A return whose operation has not taken effect: stuck.
      if (!owed_) RecordStuck();
      if (!Backtrack()) {
        result.verdict = Verdict::kNotLinearizable;
        break;
      }
    }
    // Out of budget: left before every acknowledged operation was taken, not for want of one.
    if (remaining_ > 0 && result.verdict == Verdict::kLinearizable) {
      result.verdict = Verdict::kUnknown;
    }
    result.states = cache_.size();
    result.witness = witness_;
    return result;
  }

 private:
  static constexpr int kNone = -1;
  struct Frame {
    int call;
    int32_t state;  // the register before the call took effect
    bool owed;      // owed_ before
    bool forced;    // a read taken first, no alternative tried
  };

  bool IsCall(int e) const { return match_[e] != kNone; }
  const RegOp& OpAt(int e) const { return ops_[op_of_[e]]; }
  bool Taken(int op) const { return (bits_[op / 64] >> (op % 64)) & 1; }
  void Flip(int op) { bits_[op / 64] ^= uint64_t{1} << (op % 64); }

  void Lift(int call) {
    next_[prev_[call]] = next_[call];
    prev_[next_[call]] = prev_[call];  // a call is always followed by its return
    const int ret = match_[call];
    next_[prev_[ret]] = next_[ret];
    if (next_[ret] != kNone) prev_[next_[ret]] = prev_[ret];
  }
  void Unlift(int call) {
    const int ret = match_[call];
    next_[prev_[ret]] = ret;
    if (next_[ret] != kNone) prev_[next_[ret]] = ret;
    next_[prev_[call]] = call;
    prev_[next_[call]] = call;
  }

  // Takes the effect of `call`'s operation, the register becoming `after`, unless that state was
  // visited (and so led nowhere) before: false. nullopt: out of budget.
  //
  // An info operation is taken only if the operation taken next observes its value (a read
  // returning it, or a cas expecting it): `owed_`. In a linearization where the next one does
  // not (a write, or nothing), the info operation can move to the very end (it has no return to
  // keep it earlier) and the results stay the same. The state says whether a value is owed.
  std::optional<bool> Take(int call, int32_t after, bool forced) {
    const int op = op_of_[call];
    const bool info = ops_[op].info;
    Flip(op);
    if (!cache_.Insert(bits_, after * 2 + (info ? 1 : 0))) {
      Flip(op);
      return false;
    }
    if (cache_.size() > max_states_) return std::nullopt;
    stack_.push_back({call, state_, owed_, forced});
    state_ = after;
    owed_ = info;
    if (!info) remaining_--;
    Lift(call);
    return true;
  }

  // Undoes the last operation taken and goes on with the calls after it. A read taken first was
  // the only way on from its state (Run), so that state is undone too. False: nothing to undo.
  bool Backtrack() {
    while (!stack_.empty()) {
      const Frame top = stack_.back();
      stack_.pop_back();
      state_ = top.state;
      owed_ = top.owed;
      Flip(op_of_[top.call]);
      if (!OpAt(top.call).info) remaining_++;
      Unlift(top.call);
      if (!top.forced) {
        entry_ = next_[top.call];
        return true;
      }
    }
    return false;
  }

  // At a return whose operation has not taken effect: the witness, if the deepest yet.
  void RecordStuck() {
    if (static_cast<int64_t>(stack_.size()) <= deepest_) return;
    deepest_ = static_cast<int64_t>(stack_.size());
    nlohmann::json last = nlohmann::json::array(), tried = nlohmann::json::array();
    for (size_t i = stack_.size() - std::min(stack_.size(), kWitnessOps); i < stack_.size(); ++i) {
      last.push_back(Describe(OpAt(stack_[i].call)));
    }
    for (int e = next_[0]; e != entry_; e = next_[e]) {
      if (IsCall(e)) tried.push_back(Describe(OpAt(e)));
    }
    witness_ = {{"last_linearized", std::move(last)},
                {"state", values_.Json(state_)},
                {"completed", Describe(OpAt(entry_))},
                {"unlinearizable", std::move(tried)}};
  }

  const std::vector<RegOp>& ops_;
  const Values& values_;
  const int64_t max_states_;
  // The event list: entry 0 is the head, then the events; match_: a call's return (kNone for a
  // return); twin_: the identical info operation called just before (kNone: none).
  std::vector<int> prev_, next_, match_, op_of_, twin_;
  std::vector<uint64_t> bits_;  // the operations taken
  StateCache cache_;
  std::vector<Frame> stack_;
  int32_t state_ = 0;
  bool owed_ = false;      // the last operation taken was an info one: its value must be observed
  int64_t remaining_ = 0;  // acknowledged operations not taken
  int entry_ = kNone;      // the scan's position
  int64_t deepest_ = -1;   // the stack's size at the witness
  nlohmann::json witness_;
};

bool IsRegisterOp(const Op& op) {
  return op.process != kNemesis && (op.f == "read" || op.f == "write" || op.f == "cas");
}

// The operation `invoke` (completed by `completion`, or never) as the search sees it; nullopt if
// it cannot have had an effect or tells nothing (failed; an info read), or is malformed.
std::optional<RegOp> ToRegOp(const Op* invoke, const Op* completion, Values& values) {
  const OpType outcome = completion != nullptr ? completion->type : OpType::kInfo;
  RegOp r{.info = outcome != OpType::kOk,
          .call_ns = invoke->time_ns,
          .return_ns = completion != nullptr ? completion->time_ns : kInfinity,
          .invoke = invoke,
          .completion = completion};
  const bool read = invoke->f == "read", write = invoke->f == "write";
  if (outcome == OpType::kFail || (read && r.info)) return std::nullopt;
  const nlohmann::json& v = read ? completion->value : invoke->value;
  auto a = Field(v, read || write ? "value" : "from"), b = Field(v, "to");
  if (!v.is_object() || !a || (write && !*a) || (!read && !write && (!b || !*b))) {
    return std::nullopt;
  }
  r.kind = read ? RegOp::kRead : write ? RegOp::kWrite : RegOp::kCas;
  r.a = values.Id(*a);
  if (r.kind == RegOp::kCas) r.b = values.Id(*b);
  return r;
}

}  // namespace

LinearCheck CheckLinearizable(const std::vector<Op>& ops, int64_t max_states_per_key) {
  LinearCheck check;
  // Pair invocations with completions: the next register operation of the same process.
  std::map<int, const Op*> outstanding;
  std::vector<std::pair<const Op*, const Op*>> pairs;  // (invoke, completion or null)
  for (const Op& op : ops) {
    if (!IsRegisterOp(op)) continue;
    auto it = outstanding.find(op.process);
    if (op.type == OpType::kInvoke) {
      if (it != outstanding.end()) pairs.emplace_back(it->second, nullptr);  // never completed
      outstanding[op.process] = &op;
    } else if (it != outstanding.end()) {
      pairs.emplace_back(it->second, &op);
      outstanding.erase(it);
    }
  }
  for (const auto& [process, invoke] : outstanding) pairs.emplace_back(invoke, nullptr);
  std::sort(pairs.begin(), pairs.end());  // by invocation: the history's order

  // Split per key: each register is checked alone (P-compositionality).
  struct Key {
    Values values;
    std::vector<RegOp> ops;
  };
  std::map<std::string, Key> keys;
  for (const auto& [invoke, completion] : pairs) {
    const nlohmann::json& v = invoke->value;
    if (!v.is_object() || !v.contains("key") || !v["key"].is_string()) continue;
    // A read answered with no "value" is another workload's (the set's final read: "elements").
    if (completion != nullptr && completion->type == OpType::kOk && invoke->f == "read" &&
        !(completion->value.is_object() && completion->value.contains("value"))) {
      continue;
    }
    Key& key = keys[v["key"].get<std::string>()];
    check.operations++;
    if (auto r = ToRegOp(invoke, completion, key.values)) key.ops.push_back(*r);
  }
  check.keys = static_cast<int64_t>(keys.size());

  bool invalid = false;
  for (auto& [name, key] : keys) {
    KeyResult r = KeySearch(key.ops, key.values, max_states_per_key).Run();
    check.states += r.states;
    if (r.verdict == Verdict::kNotLinearizable) {
      invalid = true;
      nlohmann::json anomaly = {{"key", name}};
      anomaly.update(r.witness);
      check.anomalies.push_back(std::move(anomaly));
    } else if (r.verdict == Verdict::kUnknown) {
      check.unknown_keys.push_back(name);
    }
  }
  check.valid = invalid ? "false" : check.unknown_keys.empty() ? "true" : "unknown";
  return check;
}

nlohmann::json LinearCheck::ToJson() const {
  return {
      {"valid", valid == "unknown" ? nlohmann::json("unknown") : nlohmann::json(valid == "true")},
      {"keys", keys},
      {"operations", operations},
      {"states", states},
      {"anomalies", anomalies},
      {"unknown_keys", unknown_keys}};
}

}  // namespace keyward::jepsen
