// The set checker (Jepsen's set): every element whose add was acknowledged (ok) must be in the
// final read ("lost" otherwise), and the final read holds nothing that was never added
// ("unexpected"). An add that failed or whose outcome is unknown may be there or not.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "history.h"

namespace keyward::jepsen {

struct SetCheck {
  bool valid = true;
  bool read = false;  // a final read was found (without one, nothing is known)
  int64_t attempted = 0, acknowledged = 0;
  std::vector<int64_t> lost, unexpected;
  nlohmann::json ToJson() const;
};

SetCheck CheckSet(const std::vector<Op>& ops);

}  // namespace keyward::jepsen
