#include "server/metrics/http_session.h"

#include <string_view>

namespace keyward {

namespace {

constexpr size_t kMaxHeader = 8192;

class MetricsSession : public net::Session {
 public:
  MetricsSession(net::Transport& transport, std::function<std::string()> render)
      : transport_(transport), render_(std::move(render)) {}

  size_t OnInput(std::string_view input) override {
    if (answered_) return input.size();
    const size_t end = input.find("\r\n\r\n");
    if (end == std::string_view::npos) {
      if (input.size() > kMaxHeader) Respond(431, "Request Header Fields Too Large", "", false);
      return 0;  // the rest of the header is still coming
    }
    const std::string_view line = input.substr(0, input.find("\r\n"));
    const size_t sp1 = line.find(' ');
    const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || line.substr(sp2 + 1, 5) != "HTTP/") {
      Respond(400, "Bad Request", "", false);
      return input.size();
    }
    const std::string_view method = line.substr(0, sp1);
    std::string_view path = line.substr(sp1 + 1, sp2 - sp1 - 1);
    path = path.substr(0, path.find('?'));
    const bool head = method == "HEAD";
    if (method != "GET" && !head) {
      Respond(405, "Method Not Allowed", "", false);
    } else if (path != "/metrics") {
      Respond(404, "Not Found", "", head);
    } else {
      Respond(200, "OK", render_(), head);
    }
    return input.size();
  }
  void OnClosed() override {}

 private:
  void Respond(int status, std::string_view reason, const std::string& body, bool head) {
    answered_ = true;
    std::string& out = transport_.output();
    out += "HTTP/1.1 " + std::to_string(status) + " ";
    out += reason;
    out += "\r\nContent-Type: ";
    out += status == 200 ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain";
    out += "\r\nContent-Length: " + std::to_string(body.size());
    out += "\r\nConnection: close\r\n\r\n";
    if (!head) out += body;
    transport_.CloseAfterFlush();
  }

  net::Transport& transport_;
  std::function<std::string()> render_;
  bool answered_ = false;
};

}  // namespace

std::unique_ptr<net::Session> NewMetricsSession(net::Transport& transport,
                                                std::function<std::string()> render) {
  return std::make_unique<MetricsSession>(transport, std::move(render));
}

}  // namespace keyward
