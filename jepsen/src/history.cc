#include "history.h"

#include <fstream>

namespace keyward::jepsen {

const char* OpTypeName(OpType type) {
  switch (type) {
    case OpType::kInvoke:
      return "invoke";
    case OpType::kOk:
      return "ok";
    case OpType::kFail:
      return "fail";
    case OpType::kInfo:
      return "info";
  }
  return "?";
}

std::optional<OpType> ParseOpType(std::string_view name) {
  for (OpType t : {OpType::kInvoke, OpType::kOk, OpType::kFail, OpType::kInfo}) {
    if (name == OpTypeName(t)) return t;
  }
  return std::nullopt;
}

nlohmann::json ToJson(const Op& op) {
  nlohmann::json j;
  j["index"] = op.index;
  j["time"] = op.time_ns;
  j["type"] = OpTypeName(op.type);
  j["process"] = op.process == kNemesis ? nlohmann::json("nemesis") : nlohmann::json(op.process);
  j["f"] = op.f;
  j["value"] = op.value;
  return j;
}

std::optional<Op> OpFromJson(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("type") || !j.contains("f") || !j.contains("time") ||
      !j.contains("process")) {
    return std::nullopt;
  }
  Op op;
  auto type = j["type"].is_string() ? ParseOpType(j["type"].get<std::string>()) : std::nullopt;
  if (!type || !j["f"].is_string() || !j["time"].is_number_integer()) return std::nullopt;
  op.type = *type;
  op.f = j["f"].get<std::string>();
  op.time_ns = j["time"].get<int64_t>();
  if (j["process"].is_string() && j["process"] == "nemesis") {
    op.process = kNemesis;
  } else if (j["process"].is_number_integer()) {
    op.process = j["process"].get<int>();
  } else {
    return std::nullopt;
  }
  op.index = j.contains("index") && j["index"].is_number_integer() ? j["index"].get<int64_t>() : 0;
  op.value = j.contains("value") ? j["value"] : nlohmann::json();
  return op;
}

Op History::Add(int process, OpType type, std::string f, nlohmann::json value) {
  Op op;
  op.process = process;
  op.type = type;
  op.f = std::move(f);
  op.value = std::move(value);
  std::lock_guard<std::mutex> lock(mu_);
  // Stamped under the lock: the history's order is its time order.
  op.time_ns = Now();
  op.index = static_cast<int64_t>(ops_.size());
  ops_.push_back(op);
  return op;
}

std::vector<Op> History::ops() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ops_;
}

std::optional<std::string> SaveHistory(const std::vector<Op>& ops, const std::string& path) {
  std::ofstream out(path, std::ios::trunc);
  if (!out) return "cannot write " + path;
  for (const Op& op : ops) out << ToJson(op).dump() << '\n';
  out.flush();
  if (!out) return "error writing " + path;
  return std::nullopt;
}

std::optional<std::vector<Op>> LoadHistory(const std::string& path, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read " + path;
    return std::nullopt;
  }
  std::vector<Op> ops;
  std::string line;
  int64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    auto op = OpFromJson(j);
    if (!op) {
      *error = path + ":" + std::to_string(n) + ": not an operation";
      return std::nullopt;
    }
    ops.push_back(std::move(*op));
  }
  return ops;
}

}  // namespace keyward::jepsen
