#include "lock_checker.h"

#include <algorithm>
#include <map>
#include <set>

namespace keyward::jepsen {

namespace {

// A field of an operation's value (hand-edited or foreign histories may lack it).
std::string Str(const nlohmann::json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}
int64_t Int(const nlohmann::json& j, const char* key, int64_t fallback) {
  return j.is_object() && j.contains(key) && j[key].is_number_integer() ? j[key].get<int64_t>()
                                                                        : fallback;
}
std::optional<uint64_t> Token(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("token") || !j["token"].is_number_integer()) return {};
  if (j["token"].is_number_unsigned()) return j["token"].get<uint64_t>();
  const int64_t v = j["token"].get<int64_t>();
  if (v < 0) return {};
  return static_cast<uint64_t>(v);
}

nlohmann::json Describe(const Holding& h) {
  nlohmann::json j;
  j["process"] = h.process;
  j["resource"] = h.resource;
  j["invoke"] = h.invoke_ns;
  j["ok"] = h.ok_ns;
  j["release"] = h.release_ns == INT64_MAX ? nlohmann::json(nullptr) : nlohmann::json(h.release_ns);
  j["valid_until"] = h.valid_until_ns;
  j["token"] = h.token ? nlohmann::json(*h.token) : nlohmann::json(nullptr);
  return j;
}

void Add(LockCheck& check, std::string kind, nlohmann::json detail) {
  check.valid = false;
  check.anomalies.push_back(Anomaly{std::move(kind), std::move(detail)});
}

// Mutual exclusion on one resource's holdings (sorted by ok).
void CheckExclusion(const std::vector<const Holding*>& hs, LockCheck& check) {
  // A sweep: the holdings whose lease (and hold) began earlier, the one ending last kept.
  const Holding* last_lease = nullptr;
  const Holding* last_hold = nullptr;
  for (const Holding* h : hs) {
    if (last_lease != nullptr && last_lease->lease_end() > h->ok_ns) {
      Add(check, "lease-overlap", {{"first", Describe(*last_lease)}, {"second", Describe(*h)}});
    } else if (last_hold != nullptr && last_hold->release_ns > h->ok_ns) {
      check.overruns++;
    }
    if (last_lease == nullptr || h->lease_end() > last_lease->lease_end()) last_lease = h;
    if (last_hold == nullptr || h->release_ns > last_hold->release_ns) last_hold = h;
  }
}

// Tokens of one resource: present, unique, in real-time order.
void CheckTokens(const std::vector<const Holding*>& by_ok, LockCheck& check) {
  std::map<uint64_t, const Holding*> seen;
  for (const Holding* h : by_ok) {
    if (!h->token) {
      Add(check, "missing-token", Describe(*h));
      return;
    }
    auto [it, fresh] = seen.emplace(*h->token, h);
    if (!fresh) {
      Add(check, "duplicate-token", {{"first", Describe(*it->second)}, {"second", Describe(*h)}});
    }
  }
  // For each holding b (by invocation), the highest token of holdings that completed before b
  // was invoked must be below b's.
  std::vector<const Holding*> by_invoke = by_ok;
  std::sort(by_invoke.begin(), by_invoke.end(),
            [](const Holding* a, const Holding* b) { return a->invoke_ns < b->invoke_ns; });
  size_t done = 0;
  const Holding* highest = nullptr;
  for (const Holding* b : by_invoke) {
    while (done < by_ok.size() && by_ok[done]->ok_ns < b->invoke_ns) {
      if (highest == nullptr || *by_ok[done]->token > *highest->token) highest = by_ok[done];
      done++;
    }
    if (highest != nullptr && *highest->token >= *b->token) {
      Add(check, "token-order", {{"earlier", Describe(*highest)}, {"later", Describe(*b)}});
    }
  }
}

}  // namespace

std::vector<Holding> Holdings(const std::vector<Op>& ops) {
  std::vector<Holding> out;
  std::map<int, int64_t> invoked;  // process -> its pending acquire's invocation
  std::map<int, size_t> holding;   // process -> its open holding in `out`
  for (const Op& op : ops) {
    if (op.process == kNemesis) continue;
    if (op.f == "acquire") {
      if (op.type == OpType::kInvoke) {
        invoked[op.process] = op.time_ns;
      } else if (op.type == OpType::kOk && invoked.count(op.process)) {
        Holding h;
        h.process = op.process;
        h.resource = Str(op.value, "resource");
        h.invoke_ns = invoked[op.process];
        h.ok_ns = op.time_ns;
        h.valid_until_ns = Int(op.value, "valid_until", op.time_ns);
        h.token = Token(op.value);
        holding[op.process] = out.size();
        out.push_back(std::move(h));
        invoked.erase(op.process);
      } else {
        invoked.erase(op.process);
      }
    } else if (op.f == "release" && op.type == OpType::kInvoke) {
      auto it = holding.find(op.process);
      if (it != holding.end()) {
        out[it->second].release_ns = op.time_ns;
        // A lease renewed meanwhile (an election's) ran at least until its latest validity.
        out[it->second].valid_until_ns =
            std::max(out[it->second].valid_until_ns,
                     Int(op.value, "valid_until", out[it->second].valid_until_ns));
        holding.erase(it);
      }
    }
  }
  return out;
}

LockCheck CheckLocks(const std::vector<Op>& ops, bool fenced) {
  LockCheck check;
  for (const Op& op : ops) {
    if (op.f == "acquire" && op.type == OpType::kInvoke) check.attempts++;
  }
  std::vector<Holding> holdings = Holdings(ops);
  check.acquisitions = static_cast<int64_t>(holdings.size());
  std::map<std::string, std::vector<const Holding*>> by_resource;
  for (const Holding& h : holdings) by_resource[h.resource].push_back(&h);
  for (auto& [resource, hs] : by_resource) {
    std::sort(hs.begin(), hs.end(),
              [](const Holding* a, const Holding* b) { return a->ok_ns < b->ok_ns; });
    CheckExclusion(hs, check);
    if (fenced) CheckTokens(hs, check);
  }

  // The cli workload's process trees: one found alive when another acquisition's child began (or
  // after every `keyward` had exited) outlived its lock.
  for (const Op& op : ops) {
    if (op.type == OpType::kInvoke || !op.value.is_object() || !op.value.contains("outlived")) {
      continue;
    }
    const nlohmann::json& outlived = op.value["outlived"];
    if (outlived.is_array() && !outlived.empty()) {
      Add(check, "child-outlived", {{"at", ToJson(op)}, {"alive", outlived}});
    }
  }

  // The fenced store's writes, in the order it handled them (their completions).
  std::map<std::string, uint64_t> highest_accepted;
  std::map<std::string, int> last_writer;  // the process whose write set the highest
  std::map<int, int64_t> write_invoked;
  for (const Op& op : ops) {
    if (op.f != "write") continue;
    if (op.type == OpType::kInvoke) {
      write_invoked[op.process] = op.time_ns;
      continue;
    }
    if (op.type != OpType::kOk) continue;
    const bool accepted =
        op.value.is_object() && op.value.contains("accepted") && op.value["accepted"] == true;
    (accepted ? check.writes_accepted : check.writes_refused)++;
    if (!accepted) continue;
    const std::string resource = Str(op.value, "resource");
    const std::optional<uint64_t> written = fenced ? Token(op.value) : std::nullopt;
    if (written) {
      const uint64_t token = *written;
      auto it = highest_accepted.find(resource);
      // A holder may write again under its own token (a leader's jobs); anyone else needs more.
      if (it != highest_accepted.end() &&
          (token < it->second || (token == it->second && last_writer[resource] != op.process))) {
        Add(check, "store-token-regression",
            {{"accepted", token}, {"after", it->second}, {"write", ToJson(op)}});
      }
      if (it == highest_accepted.end() || token > it->second) highest_accepted[resource] = token;
      last_writer[resource] = op.process;
    }
    // Without fencing, the lock alone protects the store: a write that began after its
    // writer's lease ended, while a later holding of the resource had begun, is an update the
    // lock let through outside it. (With fencing the store itself refuses what is stale.)
    if (fenced) continue;
    const int64_t began = write_invoked.count(op.process) ? write_invoked[op.process] : op.time_ns;
    const Holding* own = nullptr;
    for (const Holding& h : holdings) {
      if (h.process == op.process && h.resource == resource && h.ok_ns <= began &&
          began <= h.release_ns) {
        own = &h;
      }
    }
    if (own == nullptr || began < own->lease_end()) continue;
    for (const Holding& h : holdings) {
      if (&h != own && h.resource == resource && h.ok_ns > own->ok_ns && h.ok_ns < op.time_ns) {
        Add(check, "write-outside-lease",
            {{"write", ToJson(op)}, {"writer", Describe(*own)}, {"newer", Describe(h)}});
        break;
      }
    }
  }
  return check;
}

nlohmann::json LockCheck::ToJson() const {
  nlohmann::json j;
  j["valid"] = valid;
  j["attempts"] = attempts;
  j["acquisitions"] = acquisitions;
  j["lease_overruns"] = overruns;
  j["writes_accepted"] = writes_accepted;
  j["writes_refused"] = writes_refused;
  nlohmann::json list = nlohmann::json::array();
  for (const Anomaly& a : anomalies) list.push_back({{"kind", a.kind}, {"detail", a.detail}});
  j["anomalies"] = list;
  return j;
}

}  // namespace keyward::jepsen
