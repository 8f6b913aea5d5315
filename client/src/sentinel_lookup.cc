#include "sentinel_lookup.h"

#include <algorithm>
#include <charconv>

namespace keyward::client::detail {

std::string MasterAddrQuery(const std::string& master_name) {
  std::string out = "*3\r\n$8\r\nSENTINEL\r\n$23\r\nGET-MASTER-ADDR-BY-NAME\r\n$";
  out += std::to_string(master_name.size());
  out += "\r\n";
  out += master_name;
  out += "\r\n";
  return out;
}

std::optional<std::pair<std::string, uint16_t>> MasterAddrFrom(const Reply& reply) {
  auto elements = reply.as_array();
  if (!elements || elements->size() != 2) return std::nullopt;
  auto host = (*elements)[0].as_string();
  auto port_text = (*elements)[1].as_string();
  if (!host || !port_text || host->empty()) return std::nullopt;
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text->data(), port_text->data() + port_text->size(), port);
  if (ec != std::errc() || end != port_text->data() + port_text->size() || port == 0 ||
      port > 65535) {
    return std::nullopt;
  }
  return std::make_pair(std::string(*host), static_cast<uint16_t>(port));
}

bool RoleIsMaster(const Reply& reply) {
  auto elements = reply.as_array();
  if (!elements || elements->empty()) return false;
  auto role = (*elements)[0].as_string();
  return role && *role == "master";
}

void PreferSentinel(ConnectionConfig& config, size_t i) {
  if (i == 0 || i >= config.sentinels.size()) return;
  std::rotate(config.sentinels.begin(), config.sentinels.begin() + static_cast<ptrdiff_t>(i),
              config.sentinels.begin() + static_cast<ptrdiff_t>(i) + 1);
}

ConnectionConfig SentinelConnection(const ConnectionConfig& config, size_t i) {
  ConnectionConfig out;
  out.host = config.sentinels[i].host;
  out.port = config.sentinels[i].port;
  out.source_address = config.source_address;
  out.tcp_keepalive = config.tcp_keepalive;
  out.connect_timeout = config.connect_timeout;
  return out;
}

ConnectionConfig MasterConnection(const ConnectionConfig& config,
                                  const std::pair<std::string, uint16_t>& addr) {
  ConnectionConfig out = config;
  out.host = addr.first;
  out.port = addr.second;
  return out;
}

}  // namespace keyward::client::detail
