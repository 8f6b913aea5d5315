// The metrics endpoint's HTTP side: one request per connection (`GET /metrics`), answered and
// closed. Anything else gets the status it deserves (404, 405, 400, 431), never a hang: a
// request whose header does not end within 8 KB is refused.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "server/net/transport.h"

namespace keyward {

// A net::Session for one metrics connection; `render` builds the exposition when asked.
std::unique_ptr<net::Session> NewMetricsSession(net::Transport& transport,
                                                std::function<std::string()> render);

}  // namespace keyward
