// The error codes Keyward's server sends beyond Redis's, and how their texts are built. The
// server writes them and the coordination library (redlock/) and the CLI recognise them, both
// from this one header (the INTERFACE target keyward_error_codes). Texts are given without the
// leading '-' and the trailing CRLF.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace keyward::codes {

// A guarded write (LOCK.GUARD) carried a token older than one the resource already accepted.
inline constexpr std::string_view kFenced = "FENCED";
// A guarded write (LOCK.GUARD) carried a token above the resource's counter: no acquisition
// fenced it here, so it was never issued (or this instance missed the FENCE that issued it).
inline constexpr std::string_view kNotIssued = "NOTISSUED";
// The instance is in its restart delay (lock-restart-delay): it may not count in a quorum yet.
// Not a refusal by a holder: clients count it as no answer.
inline constexpr std::string_view kRestarting = "RESTARTING";
// LOCK.FENCE on an instance that started without its fencing counters and has not been caught up
// with its peers since (LOCK.CATCHUP): nothing was counted, and clients catch it up. An error, so
// that a client that knows nothing of it counts it as no answer.
inline constexpr std::string_view kUnsettled = "UNSETTLED";
// CLIENT UNBLOCK ... ERROR ended a wait (Redis's code too).
inline constexpr std::string_view kUnblocked = "UNBLOCKED";

// Whether an error reply's text carries `code` (its first word).
inline bool HasCode(std::string_view error, std::string_view code) {
  return error.substr(0, code.size()) == code &&
         (error.size() == code.size() || error[code.size()] == ' ');
}

// "FENCED token 7 is older than 9 for 'orders:42'"
inline std::string FencedText(int64_t token, int64_t seen, std::string_view resource) {
  return std::string(kFenced) + " token " + std::to_string(token) + " is older than " +
         std::to_string(seen) + " for '" + std::string(resource) + "'";
}

// "NOTISSUED token 99 was never issued for 'orders:42' (its counter is 7)"
inline std::string NotIssuedText(int64_t token, int64_t counter, std::string_view resource) {
  return std::string(kNotIssued) + " token " + std::to_string(token) + " was never issued for '" +
         std::string(resource) + "' (its counter is " + std::to_string(counter) + ")";
}

// "RESTARTING lock acquisitions resume in 1500 ms (lock-restart-delay)"
inline std::string RestartingText(int64_t left_ms, const char* option = "lock-restart-delay") {
  return std::string(kRestarting) + " lock acquisitions resume in " + std::to_string(left_ms) +
         " ms (" + option + ")";
}

// "UNSETTLED this instance started without its fencing counters and counts no token until it
// is caught up (LOCK.CATCHUP)"
inline std::string UnsettledText() {
  return std::string(kUnsettled) +
         " this instance started without its fencing counters and counts no token until it is "
         "caught up (LOCK.CATCHUP)";
}

}  // namespace keyward::codes
