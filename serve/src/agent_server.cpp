// SPDX-License-Identifier: Apache-2.0
// The agent's handlers: agent-check lines and HTTP readiness answers from the latest
// measurement.
#include "ssfast/serve/agent_server.h"

#include <algorithm>

#include "ssfast/serve/http.h"

namespace ssfast::serve {
namespace {

constexpr std::string_view text = "text/plain; charset=utf-8";

// The service an answer is about and how old its measurement is; null state: nothing usable.
struct looked_up {
  std::shared_ptr<const service_measurement> m;  // keeps `state` alive
  const service_state* state = nullptr;
  bool known_port = false;  // the port is one of the monitor's services
  std::int64_t age_ms = 0;
};

looked_up look_up(const service_monitor& mon, std::uint16_t port) {
  looked_up r;
  for (const service_probe& p : mon.options().services) r.known_port |= p.port == port;
  if (!r.known_port) return r;
  r.m = mon.latest();
  const std::int64_t now = service_monitor::now_ns();
  if (!r.m || !mon.usable(*r.m, now)) return r;
  r.state = r.m->find(port);
  r.age_ms = std::max<std::int64_t>(0, (now - r.m->measured_at_ns) / 1000000);
  return r;
}

}  // namespace

agent_check_handler::agent_check_handler(const service_monitor& m) : m_(m) {}

void agent_check_handler::reply(std::string_view sent, answer& out) {
  out.close_after = true;
  const auto& services = m_.options().services;
  std::uint16_t port = 0;
  if (services.size() == 1) {
    port = services.front().port;  // whatever agent-send says: there is one service
  } else if (const auto named = agent_send_port(sent)) {
    port = *named;
  }
  const looked_up l = look_up(m_, port);
  if (!l.known_port) {
    out.head = agent_reply_unnamed(sent);
  } else if (l.state == nullptr) {
    out.head = agent_reply_unknown();
  } else {
    out.head = agent_reply(*l.state, l.age_ms);
  }
}

// HAProxy connects, sends its agent-send string if configured, reads one line.
void agent_check_handler::on_open(answer& out) {
  if (m_.options().services.size() == 1) reply({}, out);
}

std::size_t agent_check_handler::on_input(std::string_view in, answer& out) {
  if (m_.options().services.size() == 1) return in.size();  // answered at open: discarded
  const std::size_t nl = in.find('\n');
  if (nl == std::string_view::npos && in.size() < max_agent_send) return 0;
  const std::size_t used =
      std::min(nl == std::string_view::npos ? in.size() : nl + 1, max_agent_send);
  reply(in.substr(0, used), out);
  return in.size();  // one answer per connection: the rest is not read
}

double agent_check_handler::quiet_after() const noexcept {
  return m_.options().services.size() == 1 ? 0 : 0.2;
}

bool agent_check_handler::on_quiet(std::string_view in, answer& out) {
  reply(in.substr(0, std::min(in.size(), max_agent_send)), out);
  return true;
}

std::string agent_check_handler::too_large() { return {}; }
std::string agent_check_handler::busy() { return {}; }

readiness_handler::readiness_handler(const service_monitor& m) : m_(m) {}

void readiness_handler::on_open(answer&) {}

std::size_t readiness_handler::on_input(std::string_view in, answer& out) {
  http_request r;
  const http_begin b =
      begin_http_answer(in, r, out.head, out.close_after, "Cache-Control: no-store\r\n");
  if (!b.route) return b.used;
  const bool head = r.method == "HEAD";
  const response_options plain{.keep_alive = r.keep_alive,
                               .head_only = head,
                               .extra_headers = "Cache-Control: no-store\r\n"};
  const ready_target t = parse_ready_target(r.target);
  const auto& services = m_.options().services;
  std::uint16_t port = t.port;
  if (t.kind == ready_target::one_service && services.size() == 1) port = services.front().port;
  const looked_up l = t.kind == ready_target::none ? looked_up{} : look_up(m_, port);
  if (!l.known_port) {
    std::string ports;
    for (const service_probe& p : services)
      ports += (ports.empty() ? "" : ", ") + std::to_string(p.port);
    http_response(out.head, 404, text,
                  std::string("ssfast: not found; readiness is at /ready/PORT for port") +
                      (services.size() == 1 ? " " : "s ") + ports +
                      (services.size() == 1 ? ", or /ready\n" : "\n"),
                  plain);
    return r.size;
  }
  const readiness a = l.state ? readiness_of(*l.state, t.drain_as_404) : readiness_unknown();
  std::string headers = "Cache-Control: no-store\r\n";
  if (l.state) headers += "X-Ssfast-Age-Ms: " + std::to_string(l.age_ms) + "\r\n";
  if (a.degraded) headers += "x-envoy-degraded: drain\r\n";
  http_response(out.head, a.status, text, a.body,
                {.keep_alive = r.keep_alive, .head_only = head, .extra_headers = headers});
  return r.size;
}

std::string readiness_handler::too_large() { return http_too_large(); }

std::string readiness_handler::busy() {
  return http_busy("down: too many connections\n", "Cache-Control: no-store\r\n");
}

}  // namespace ssfast::serve
