// redis+sentinel://: what a client asks a sentinel, and how it reads the answers. Sans-I/O, shared
// by the asynchronous and the synchronous client. Private to the client library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "keyward/client/config.h"
#include "keyward/client/reply.h"

namespace keyward::client::detail {

// SENTINEL GET-MASTER-ADDR-BY-NAME <name>, encoded.
std::string MasterAddrQuery(const std::string& master_name);
// The master's address from the sentinel's reply; nothing when the sentinel does not know the
// name (a null reply) or the reply is not an address.
std::optional<std::pair<std::string, uint16_t>> MasterAddrFrom(const Reply& reply);
// ROLE, encoded, and whether its reply says "master".
inline constexpr std::string_view kRoleRequest = "*1\r\n$4\r\nROLE\r\n";
bool RoleIsMaster(const Reply& reply);
// The sentinel at `i` answered: it is asked first from now on.
void PreferSentinel(ConnectionConfig& config, size_t i);
// The configuration of the connection to sentinel `i` (no credentials, no db, no TLS), and of
// the connection to the master found at `addr`.
ConnectionConfig SentinelConnection(const ConnectionConfig& config, size_t i);
ConnectionConfig MasterConnection(const ConnectionConfig& config,
                                  const std::pair<std::string, uint16_t>& addr);

}  // namespace keyward::client::detail
