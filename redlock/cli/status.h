// `keyward status NAME`: what each server says about the lock (holder, lease, fencing counter,
// waiters), and whether a majority is reachable.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace keyward::cli {

inline constexpr int kStatusNoQuorum = 69;

// Prints one line per server and a summary; 0 when a majority answered, else kStatusNoQuorum.
int PrintStatus(const std::vector<std::string>& servers, const std::string& name,
                std::chrono::milliseconds timeout);

}  // namespace keyward::cli
