#include "set_checker.h"

#include <set>

namespace keyward::jepsen {

namespace {

std::optional<int64_t> Element(const nlohmann::json& v) {
  if (!v.is_object() || !v.contains("element") || !v["element"].is_number_integer()) return {};
  return v["element"].get<int64_t>();
}

}  // namespace

SetCheck CheckSet(const std::vector<Op>& ops) {
  SetCheck check;
  std::set<int64_t> attempted, acknowledged, final_read;
  for (const Op& op : ops) {
    if (op.f == "add") {
      const std::optional<int64_t> e = Element(op.value);
      if (!e) continue;
      if (op.type == OpType::kInvoke) attempted.insert(*e);
      if (op.type == OpType::kOk) acknowledged.insert(*e);
    } else if (op.f == "read" && op.type == OpType::kOk && op.value.is_object() &&
               op.value.contains("elements") && op.value["elements"].is_array()) {
      check.read = true;
      final_read.clear();
      for (const auto& e : op.value["elements"]) {
        if (e.is_number_integer()) final_read.insert(e.get<int64_t>());
      }
    }
  }
  check.attempted = static_cast<int64_t>(attempted.size());
  check.acknowledged = static_cast<int64_t>(acknowledged.size());
  for (int64_t e : acknowledged) {
    if (!final_read.count(e)) check.lost.push_back(e);
  }
  for (int64_t e : final_read) {
    if (!attempted.count(e)) check.unexpected.push_back(e);
  }
  check.valid = check.read && check.lost.empty() && check.unexpected.empty();
  return check;
}

nlohmann::json SetCheck::ToJson() const {
  return {{"valid", valid},
          {"final_read", read},
          {"attempted", attempted},
          {"acknowledged", acknowledged},
          {"lost", lost},
          {"lost_count", lost.size()},
          {"unexpected", unexpected}};
}

}  // namespace keyward::jepsen
