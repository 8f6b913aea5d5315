// Results of keyspace operations. Op* functions return an OpStatus or a Result<T>; only the Cmd*
// layer turns a status into a client-visible error (see errors.h).
#pragma once

#include <cassert>
#include <utility>
#include <variant>

namespace keyward {

enum class OpStatus {
  kOk,
  kKeyNotFound,
  kKeyExists,
  kWrongType,
  kNotAnInteger,   // the stored value is not an integer
  kNotAFloat,      // the stored value is not a valid float
  kOutOfRange,     // an argument or the result is out of the allowed range
  kOverflow,       // increment or decrement would overflow
  kNanOrInfinity,  // a float operation produced NaN or infinity
  kTooLarge,       // the result would exceed proto-max-bulk-len / 512MB
  kSyntaxError,
  kSkipped,  // a conditional operation (NX/XX/GT/LT) did nothing
};

// A value or the reason there is none.
template <typename T>
class Result {
 public:
  Result(T value) : data_(std::move(value)) {}  // NOLINT: implicit by design
  Result(OpStatus status) : data_(status) { assert(status != OpStatus::kOk); }  // NOLINT

  bool ok() const { return std::holds_alternative<T>(data_); }
  explicit operator bool() const { return ok(); }
  OpStatus status() const { return ok() ? OpStatus::kOk : std::get<OpStatus>(data_); }
  T& value() { return std::get<T>(data_); }
  const T& value() const { return std::get<T>(data_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, OpStatus> data_;
};

}  // namespace keyward
