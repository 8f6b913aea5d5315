// Errors of the lock library: a std::error_code in its own category (LockError) that says what
// kind of failure it was, plus the details a caller acts on: why, in words, and the holder's
// remaining lease when another owner holds the resource.
//
//   auto lock = co_await redlock.Acquire("orders:42", options);
//   if (!lock) {
//     if (lock.error().code == LockError::kHeldByOther) retry_after(*lock.error().holder_ttl);
//     log(lock.error().message());  // "held by another owner: 2 of 3 instances refused ..."
//   }
//
// Client-level errors (a connection refused, a reply that did not parse) never reach the caller
// bare: they are folded into kNoQuorum with the instances' errors in the detail, because what the
// caller needs to know is that not enough instances answered, not which socket failed.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <variant>

namespace keyward::redlock {

enum class LockError {
  // Values start at 1: a zero error_code means success.
  kHeldByOther = 1,     // another owner holds the resource where a majority was needed
  kNoQuorum,            // fewer than a majority of instances answered (down, unreachable, slow)
  kTimedOut,            // the wait ended, or the validity ran out before the lock was granted
  kLeaseLost,           // a held lock can no longer be guaranteed (see Lease)
  kFencingUnavailable,  // an instance is plain Redis: no fencing tokens (the lock still works)
  kNotHeld,             // release/extend of a lock this owner no longer holds on a majority
  kCancelled,           // the caller cancelled the operation (asio cancellation)
  kInvalidArgument,     // a zero TTL, an empty resource name, no instances ...
  kClosed,              // the Redlock was closed (destroyed) while the operation ran
};

const std::error_category& LockCategory();
std::error_code make_error_code(LockError e);

// A failure: the kind (code), why (detail), and the holder's remaining lease where an instance
// reported it (kHeldByOther). Empty (no code) means success, as with std::error_code, so that
// `if (auto error = co_await redlock.Release(lock))` reads naturally.
struct Error {
  Error() = default;
  Error(LockError e, std::string why = {},  // NOLINT: implicit from the enum by design
        std::optional<std::chrono::milliseconds> holder = std::nullopt)
      : code(make_error_code(e)), detail(std::move(why)), holder_ttl(holder) {}

  std::error_code code;
  std::string detail;
  // kHeldByOther: how long until enough of the holder's leases end for a majority to be free
  // (from the instances' PTTL answers; absent when unknown or when the holder has no TTL).
  std::optional<std::chrono::milliseconds> holder_ttl;

  explicit operator bool() const { return static_cast<bool>(code); }
  bool operator==(LockError e) const { return code == make_error_code(e); }
  // "held by another owner: 2 of 3 instances refused (lease ends in 840 ms)".
  std::string message() const;
};

// A value or the Error saying why there is none.
template <typename T>
class Result {
 public:
  Result(T value) : data_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : data_(std::move(error)) {}  // NOLINT
  Result(LockError e, std::string why = {})         // NOLINT
      : data_(Error(e, std::move(why))) {}

  bool has_value() const { return data_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  // Precondition: !has_value() (an empty Error otherwise).
  const Error& error() const {
    static const Error kNone;
    return has_value() ? kNone : std::get<1>(data_);
  }

  // Precondition: has_value(); misuse throws std::bad_variant_access.
  T& value() { return std::get<0>(data_); }
  const T& value() const { return std::get<0>(data_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Error> data_;
};

}  // namespace keyward::redlock

template <>
struct std::is_error_code_enum<keyward::redlock::LockError> : std::true_type {};
