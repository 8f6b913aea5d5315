#include "server/commands/args.h"

#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <string>

#include "server/core/errors.h"
#include "server/core/strings.h"
#include "server/engine/context.h"

namespace keyward {

namespace {

void SendMsg(CommandContext& ctx, std::string_view msg, std::string_view fallback) {
  if (msg.empty()) return ctx.rb().SendError(fallback);
  std::string text = "ERR ";
  text.append(msg);
  ctx.rb().SendError(text);
}

}  // namespace

bool GetLong(CommandContext& ctx, std::string_view s, int64_t* out, std::string_view msg) {
  if (ParseInt64(s, out)) return true;
  SendMsg(ctx, msg, errors::kNotInteger);
  return false;
}

bool GetPositiveLong(CommandContext& ctx, std::string_view s, int64_t* out, std::string_view msg) {
  // getPositiveLongFromObjectOrReply: without a msg, a non-integer gets the "must be positive"
  // text too.
  if (ParseInt64(s, out) && *out >= 0) return true;
  SendMsg(ctx, msg, errors::kNegativeCount);
  return false;
}

bool GetRangeLong(CommandContext& ctx, std::string_view s, int64_t min, int64_t max, int64_t* out,
                  std::string_view msg) {
  if (!GetLong(ctx, s, out, msg)) return false;
  if (*out >= min && *out <= max) return true;
  SendMsg(ctx, msg,
          "ERR value is out of range, value must between " + std::to_string(min) + " and " +
              std::to_string(max));
  return false;
}

namespace {

// A timeout of `tval` ms from now as a deadline (-1: forever), after getTimeoutFromObjectOrReply's
// checks.
bool TimeoutDeadline(CommandContext& ctx, int64_t tval, int64_t* deadline_ms) {
  if (tval < 0) {
    ctx.rb().SendError(errors::kTimeoutNegative);
    return false;
  }
  if (tval == 0) {
    *deadline_ms = -1;
    return true;
  }
  // A deadline past the end of time waits forever.
  *deadline_ms = tval > LLONG_MAX - ctx.now_ms() ? -1 : ctx.now_ms() + tval;
  return true;
}

}  // namespace

bool GetBlockTimeout(CommandContext& ctx, std::string_view s, int64_t* deadline_ms) {
  long double seconds;
  if (!ParseLongDouble(s, &seconds)) {
    ctx.rb().SendError("ERR timeout is not a float or out of range");
    return false;
  }
  // Redis 7.0.15 rounds up to whole milliseconds (so 0.0001 waits 1 ms, -0.001 waits forever)
  // and converts with a cast that gives LLONG_MIN on x86-64 when out of range, inf included:
  // hence "timeout is negative" for huge values.
  long double ms = std::ceil(seconds * 1000.0L);
  int64_t tval = std::isfinite(ms) && ms < 9223372036854775807.0L && ms > -9223372036854775807.0L
                     ? static_cast<int64_t>(ms)
                     : LLONG_MIN;
  return TimeoutDeadline(ctx, tval, deadline_ms);
}

bool GetBlockTimeoutMs(CommandContext& ctx, std::string_view s, int64_t* deadline_ms) {
  int64_t tval;
  if (!ParseInt64(s, &tval)) {
    ctx.rb().SendError("ERR timeout is not an integer or out of range");
    return false;
  }
  return TimeoutDeadline(ctx, tval, deadline_ms);
}

bool GetScanCursor(CommandContext& ctx, std::string_view s, uint64_t* cursor) {
  bool ok = s.empty() || !std::isspace(static_cast<unsigned char>(s[0]));
  if (ok) {
    std::string buf(s);
    char* end;
    errno = 0;
    unsigned long long v = std::strtoull(buf.c_str(), &end, 10);
    ok = *end == '\0' && errno != ERANGE;
    *cursor = v;
  }
  if (!ok) ctx.rb().SendError(errors::kInvalidCursor);
  return ok;
}

bool ScanOptions::Matches(std::string_view element) const {
  return !pattern || GlobMatch(*pattern, element);
}

bool GetScanOptions(CommandContext& ctx, std::span<const std::string_view> args, size_t first,
                    bool allow_type, ScanOptions* out) {
  for (size_t i = first; i < args.size(); i += 2) {
    const bool has_value = args.size() - i >= 2;
    if (EqualsIgnoreCase(args[i], "count") && has_value) {
      if (!GetLong(ctx, args[i + 1], &out->count)) return false;
      if (out->count < 1) {
        ctx.rb().SendError(errors::kSyntax);
        return false;
      }
    } else if (EqualsIgnoreCase(args[i], "match") && has_value) {
      out->pattern = args[i + 1];
    } else if (EqualsIgnoreCase(args[i], "type") && allow_type && has_value) {
      out->type = args[i + 1];
    } else {
      ctx.rb().SendError(errors::kSyntax);
      return false;
    }
  }
  if (out->pattern == "*") out->pattern.reset();
  return true;
}

void ReplyPairScan(CommandContext& ctx, const ScanOptions& opts, uint64_t cursor, bool whole,
                   std::vector<std::string>& items, const std::function<uint64_t(uint64_t)>& step) {
  if (whole) {
    step(0);
    cursor = 0;
  } else {
    // count * 2 * 10 wraps for huge counts as Redis's long arithmetic does (no bound then).
    const uint64_t entries = static_cast<uint64_t>(opts.count) * 2;
    auto visits = static_cast<int64_t>(entries * 10);
    do {
      cursor = step(cursor);
    } while (cursor != 0 && visits-- != 0 && items.size() < entries);
  }
  size_t kept = 0;
  for (size_t i = 0; i + 1 < items.size(); i += 2) {
    if (!opts.Matches(items[i])) continue;
    if (kept != i) {
      items[kept] = std::move(items[i]);
      items[kept + 1] = std::move(items[i + 1]);
    }
    kept += 2;
  }
  ReplyBuilder& rb = ctx.rb();
  rb.StartArray(2);
  rb.SendBulk(std::to_string(cursor));
  rb.StartArray(kept);
  for (size_t i = 0; i < kept; i++) rb.SendBulk(items[i]);
}

bool GetMPopArgs(CommandContext& ctx, std::span<const std::string_view> args, size_t numkeys_idx,
                 std::string_view first_end, std::string_view second_end, MPopArgs* out) {
  int64_t numkeys;
  if (!GetRangeLong(ctx, args[numkeys_idx], 1, INT64_MAX, &numkeys,
                    "numkeys should be greater than 0")) {
    return false;
  }
  const size_t where_idx = numkeys_idx + static_cast<size_t>(numkeys) + 1;
  if (static_cast<uint64_t>(numkeys) >= args.size() || where_idx >= args.size()) {
    ctx.rb().SendError(errors::kSyntax);
    return false;
  }
  if (EqualsIgnoreCase(args[where_idx], first_end)) {
    out->second_end = false;
  } else if (EqualsIgnoreCase(args[where_idx], second_end)) {
    out->second_end = true;
  } else {
    ctx.rb().SendError(errors::kSyntax);
    return false;
  }
  int64_t count = -1;
  for (size_t j = where_idx + 1; j < args.size(); j++) {
    if (count == -1 && EqualsIgnoreCase(args[j], "count") && j + 1 < args.size()) {
      if (!GetRangeLong(ctx, args[++j], 1, INT64_MAX, &count, "count should be greater than 0")) {
        return false;
      }
    } else {
      ctx.rb().SendError(errors::kSyntax);
      return false;
    }
  }
  out->count = count == -1 ? 1 : count;
  out->keys = args.subspan(numkeys_idx + 1, static_cast<size_t>(numkeys));
  return true;
}

}  // namespace keyward
