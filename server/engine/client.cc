#include "server/engine/client.h"

namespace keyward {

Client::Client(uint64_t id, net::Transport* transport, int64_t now_ms)
    : created_ms(now_ms),
      last_interaction_ms(now_ms),
      id_(id),
      transport_(transport),
      rb_(&transport->output()) {}

}  // namespace keyward
