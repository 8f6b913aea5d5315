#include "server/commands/args.h"

#include <climits>
#include <cmath>
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
  if (!GetLong(ctx, s, out, msg)) return false;
  if (*out >= 0) return true;
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

bool GetBlockTimeout(CommandContext& ctx, std::string_view s, int64_t* deadline_ms) {
  long double seconds;
  if (!ParseLongDouble(s, &seconds)) {
    ctx.rb().SendError("ERR timeout is not a float or out of range");
    return false;
  }
  // Redis converts with (long long)(ftval * 1000.0); out of range (inf included) that gives
  // LLONG_MIN on x86-64, hence "timeout is negative".
  long double ms = seconds * 1000.0L;
  int64_t tval = std::isfinite(ms) && ms < 9223372036854775807.0L && ms > -9223372036854775807.0L
                     ? static_cast<int64_t>(ms)
                     : LLONG_MIN;
  if (tval < 0) {
    ctx.rb().SendError(errors::kTimeoutNegative);
    return false;
  }
  if (tval == 0) {
    *deadline_ms = -1;
    return true;
  }
  if (tval > LLONG_MAX - ctx.now_ms()) {
    ctx.rb().SendError("ERR timeout is out of range");
    return false;
  }
  *deadline_ms = ctx.now_ms() + tval;
  return true;
}

}  // namespace keyward
