// SPDX-License-Identifier: Apache-2.0
// The agent's decision.
#include "ssfast/serve/agent.h"

#include <algorithm>
#include <cmath>

#include "ssfast/core/addresses.h"
#include "ssfast/core/tcp_state.h"

namespace ssfast::serve {

namespace {

// A listener's fill: its queue over its own backlog; a queue on a backlog of 0 (listen(fd, 0))
// is as full as can be.
double fill(const listener_queue& l) noexcept {
  if (l.backlog > 0) return static_cast<double>(l.accept_queue) / l.backlog;
  return l.accept_queue > 0 ? 1e18 : 0;
}

}  // namespace

service_state measure_service(const socket_table& t, std::uint16_t port) {
  service_state s;
  const auto proto = t.protocol();
  const auto state = t.state();
  const auto lport = t.local_port();
  const auto rq = t.recv_q();
  const auto sq = t.send_q();
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (proto[i] != 6 || lport[i] != port) continue;
    if (state[i] == static_cast<std::uint8_t>(tcp_state::listen)) {
      // inet_diag_msg for a listener: idiag_rqueue = sk_ack_backlog (waiting for accept),
      // idiag_wqueue = sk_max_ack_backlog (kernel tcp_diag.c, tcp_diag_get_info).
      ++s.listeners;
      listener_queue l{endpoint_text(t.family()[i], t.local_addr()[i], port), rq[i], sq[i]};
      if (!s.fullest || fill(l) > fill(*s.fullest)) s.fullest = std::move(l);
    } else if (state[i] == static_cast<std::uint8_t>(tcp_state::established)) {
      ++s.established;
    }
  }
  return s;
}

std::string agent_reply(const service_state& s, const agent_rules& r, std::uint16_t port) {
  if (s.listeners == 0) return "down #no listener on port " + std::to_string(port) + "\n";
  const listener_queue* q = s.fullest ? &*s.fullest : nullptr;
  if (r.backlog_known && q != nullptr && q->accept_queue > 0 &&
      static_cast<double>(q->accept_queue) >= r.drain_queue * static_cast<double>(q->backlog))
    return "up drain #accept queue of " + q->address + ": " + std::to_string(q->accept_queue) +
           " of backlog " + std::to_string(q->backlog) + "\n";
  if (r.max_established != 0 && s.established >= r.max_established) return "up drain\n";
  long weight = 100;
  if (r.max_established != 0) {
    const double free_share =
        1.0 - static_cast<double>(s.established) / static_cast<double>(r.max_established);
    weight = std::clamp(std::lround(std::ceil(100.0 * free_share)), 1L, 100L);
  }
  return "up ready " + std::to_string(weight) + "%\n";
}

}  // namespace ssfast::serve
