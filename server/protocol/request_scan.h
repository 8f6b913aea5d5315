// A look ahead over pipelined requests: the second argument (the first key of most commands) of
// each complete multibulk request at the front of a buffer, without parsing them for real. The
// session prefetches those keys' buckets and entries before it runs the batch, so that the cache
// misses of sixteen lookups overlap instead of following one another.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

namespace keyward {

// Fills `out` with the second argument of each complete "*<n>\r\n$<len>\r\n..." request at the
// start of `input` (requests with one argument give none); stops at the first request that is
// incomplete, inline or malformed (the parser proper reports those), or when `out` is full.
// Returns how many it filled; *scanned is set to the bytes of the requests looked at.
size_t PeekSecondArgs(std::string_view input, std::span<std::string_view> out, size_t* scanned);

}  // namespace keyward
