#include "keyward/client/pipeline.h"

#include <array>

namespace keyward::client::detail {

bool IsResp2PubSubMessage(const Reply& reply) {
  if (reply.type() != ReplyType::kArray) return false;
  auto elements = reply.as_array();
  if (!elements || elements->size() < 3) return false;
  auto kind = (*elements)[0].as_string();
  if (!kind) return false;
  // Redis sends these kinds in lower case, always.
  static constexpr std::array<std::string_view, 9> kKinds = {
      "message",    "pmessage",     "smessage",   "subscribe",   "unsubscribe",
      "psubscribe", "punsubscribe", "ssubscribe", "sunsubscribe"};
  for (std::string_view k : kKinds) {
    if (*kind == k) return true;
  }
  return false;
}

}  // namespace keyward::client::detail
