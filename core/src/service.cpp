// SPDX-License-Identifier: Apache-2.0
// A service probe's measurement and verdict.
#include "ssfast/core/service.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <span>

#include "ssfast/core/addresses.h"
#include "ssfast/core/tcp_state.h"

namespace ssfast {
namespace {

// A listener's fill: its queue over its own backlog; a queue on a backlog of 0 (listen(fd, 0))
// is as full as can be.
double fill(const service_listener& l) noexcept {
  if (l.backlog > 0) return static_cast<double>(l.accept_queue) / l.backlog;
  return l.accept_queue > 0 ? 1e18 : 0;
}

// Writes into the reason field, cutting what does not fit.
struct reason_writer {
  std::array<char, 128>& out;
  std::size_t n = 0;
  reason_writer& operator<<(std::string_view s) noexcept {
    const std::size_t take = std::min(s.size(), out.size() - 1 - n);
    std::copy_n(s.data(), take, out.data() + n);
    n += take;
    out[n] = '\0';
    return *this;
  }
  reason_writer& operator<<(std::uint64_t v) noexcept {
    char buf[24];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return *this << std::string_view(buf, static_cast<std::size_t>(end - buf));
  }
};

}  // namespace

std::string_view to_string(service_verdict v) noexcept {
  switch (v) {
    case service_verdict::ready: return "ready";
    case service_verdict::drain: return "drain";
    case service_verdict::down: return "down";
  }
  return "down";
}

void begin_service(service_state& s, std::uint16_t port) noexcept {
  s = service_state{};
  s.port = port;
}

void add_service_socket(service_state& s, const socket_table& t, std::size_t i) noexcept {
  if (t.protocol()[i] != 6 || t.local_port()[i] != s.port) return;
  const std::uint8_t state = t.state()[i];
  if (state == static_cast<std::uint8_t>(tcp_state::listen)) {
    const service_listener l{t.family()[i], t.local_addr()[i], t.recv_q()[i], t.send_q()[i]};
    if (s.listeners++ == 0 || fill(l) > fill(s.fullest)) s.fullest = l;
  } else if (state == static_cast<std::uint8_t>(tcp_state::established)) {
    ++s.established;
  }
}

void measure_service(const socket_table& t, std::uint16_t port, service_state& s) noexcept {
  begin_service(s, port);
  for (std::size_t i = 0; i < t.size(); ++i) add_service_socket(s, t, i);
  s.established_counted = true;
}

void judge_service(service_state& s, const service_rules& r) noexcept {
  s.backlog_known = r.backlog_known;
  s.reason = {};
  s.weight = 0;
  reason_writer why{s.reason};
  if (s.listeners == 0) {
    s.verdict = service_verdict::down;
    why << "no listener on port " << std::uint64_t{s.port};
    return;
  }
  const service_listener& q = s.fullest;
  if (r.backlog_known && q.accept_queue > 0 &&
      static_cast<double>(q.accept_queue) >= r.drain_queue * static_cast<double>(q.backlog)) {
    s.verdict = service_verdict::drain;
    std::array<char, 48> endpoint{};
    format_endpoint(endpoint, q.family, q.address, s.port);
    why << "accept queue of " << std::string_view(endpoint.data()) << ": "
        << std::uint64_t{q.accept_queue} << " of backlog " << std::uint64_t{q.backlog};
    return;
  }
  const bool limited = r.max_established != 0 && s.established_counted;
  if (limited && s.established >= r.max_established) {
    s.verdict = service_verdict::drain;
    why << "ESTABLISHED " << s.established << " of max-established " << r.max_established;
    return;
  }
  s.verdict = service_verdict::ready;
  long weight = 100;
  if (limited) {
    const double free_share =
        1.0 - static_cast<double>(s.established) / static_cast<double>(r.max_established);
    weight = std::clamp(std::lround(std::ceil(100.0 * free_share)), 1L, 100L);
  }
  s.weight = static_cast<std::uint8_t>(weight);
}

}  // namespace ssfast
