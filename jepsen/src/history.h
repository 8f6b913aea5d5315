// A test's history, as Jepsen records one: every operation a process invoked and how it
// completed (ok, fail: it did not happen, info: unknown whether it happened), plus what the
// nemesis did, each with the time it happened (nanoseconds since the test began, one monotonic
// clock for everything). Saved one operation a line (JSON), so a run can be checked again later
// (`keyward-jepsen check`).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keyward::jepsen {

enum class OpType { kInvoke, kOk, kFail, kInfo };
const char* OpTypeName(OpType type);
std::optional<OpType> ParseOpType(std::string_view name);

// The nemesis's process number.
inline constexpr int kNemesis = -1;

struct Op {
  int64_t index = 0;
  int process = 0;
  OpType type = OpType::kInvoke;
  std::string f;  // "acquire", "release", "write", "kill", "pause", ...
  nlohmann::json value;
  int64_t time_ns = 0;
};

nlohmann::json ToJson(const Op& op);
// nullopt when `j` is not an operation.
std::optional<Op> OpFromJson(const nlohmann::json& j);

class History {
 public:
  using Clock = std::chrono::steady_clock;
  explicit History(Clock::time_point start = Clock::now()) : start_(start) {}

  // Nanoseconds since the test began.
  int64_t Now() const { return ToNs(Clock::now()); }
  int64_t ToNs(Clock::time_point t) const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t - start_).count();
  }
  // Appends `op` stamped now (thread-safe); returns it with its index and time.
  Op Add(int process, OpType type, std::string f, nlohmann::json value = nullptr);
  std::vector<Op> ops() const;

 private:
  Clock::time_point start_;
  mutable std::mutex mu_;
  std::vector<Op> ops_;
};

// One operation a line. The error text, or nullopt.
std::optional<std::string> SaveHistory(const std::vector<Op>& ops, const std::string& path);
std::optional<std::vector<Op>> LoadHistory(const std::string& path, std::string* error);

}  // namespace keyward::jepsen
