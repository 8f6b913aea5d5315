#include "keyward/redlock/errors.h"

namespace keyward::redlock {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "keyward.redlock"; }

  std::string message(int value) const override {
    switch (static_cast<LockError>(value)) {
      case LockError::kHeldByOther:
        return "held by another owner";
      case LockError::kNoQuorum:
        return "no quorum reachable";
      case LockError::kTimedOut:
        return "timed out";
      case LockError::kLeaseLost:
        return "lease lost";
      case LockError::kFencingUnavailable:
        return "fencing unavailable";
      case LockError::kNotHeld:
        return "lock not held";
      case LockError::kCancelled:
        return "cancelled";
      case LockError::kInvalidArgument:
        return "invalid argument";
      case LockError::kClosed:
        return "redlock closed";
    }
    return "unknown lock error";
  }
};

}  // namespace

const std::error_category& LockCategory() {
  static const Category category;
  return category;
}

std::error_code make_error_code(LockError e) { return {static_cast<int>(e), LockCategory()}; }

std::string Error::message() const {
  if (!code) return "success";
  std::string out = code.message();
  if (!detail.empty()) out += ": " + detail;
  if (holder_ttl)
    out += " (the holder's lease ends in " + std::to_string(holder_ttl->count()) + " ms)";
  return out;
}

}  // namespace keyward::redlock
