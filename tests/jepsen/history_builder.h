// What the checkers' and the reports' tests build their hand-made histories on: operations pushed
// in any order, handed out in time order with their indices, as the harness records them. Each
// test's builder adds the operations of its workload.
#pragma once

#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "history.h"

namespace keyward::jepsen::testing {

class HistoryRecorder {
 public:
  // The operations in time order (as the history records them).
  std::vector<Op> ops() const {
    std::vector<Op> out = ops_;
    std::stable_sort(out.begin(), out.end(),
                     [](const Op& a, const Op& b) { return a.time_ns < b.time_ns; });
    for (size_t i = 0; i < out.size(); i++) out[i].index = static_cast<int64_t>(i);
    return out;
  }

 protected:
  void Push(int process, OpType type, const char* f, int64_t time_ns, nlohmann::json value) {
    Op op;
    op.process = process;
    op.type = type;
    op.f = f;
    op.time_ns = time_ns;
    op.value = std::move(value);
    ops_.push_back(std::move(op));
  }

 private:
  std::vector<Op> ops_;
};

}  // namespace keyward::jepsen::testing
