// SPDX-License-Identifier: Apache-2.0
// The probe API: a service's listeners from the listening hash alone, ESTABLISHED only when a
// rule needs it, judged by core's one rule.
#include "service_probe.h"

#include <algorithm>
#include <new>
#include <string>
#include <string_view>

#include "ssfast/core/tcp_state.h"
#include "ssfast/ssfast.h"

namespace ssfast::detail {
namespace {

std::int64_t steady_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Makes `f` select the sockets whose local port is one of `ports` (sorted, no repeats):
// rebuilt only when the set differs from the last one.
void select_ports(service_memo::port_filter& f, const std::vector<std::uint16_t>& ports) {
  if (f.filter && f.ports == ports) return;
  std::vector<std::string> text;
  std::vector<std::string_view> words;
  text.reserve(ports.size());
  for (const std::uint16_t p : ports) text.push_back(":" + std::to_string(p));
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i > 0) words.push_back("or");
    words.insert(words.end(), {"sport", "=", text[i]});
  }
  f.filter = std::move(parse_filter(words).filter);
  f.ports = ports;
}

// Adds each batch's sockets to the states whose port they have.
struct service_sink final : row_sink {
  std::span<service_state> states;
  explicit service_sink(std::span<service_state> s) : states(s) {}
  std::error_code on_rows(const socket_table& batch) noexcept override {
    for (std::size_t i = 0; i < batch.size(); ++i)
      for (service_state& s : states) add_service_socket(s, batch, i);
    return {};
  }
};

}  // namespace

std::error_code measure_services(collector& c, service_memo& m,
                                 std::span<const service_probe> probes,
                                 std::span<service_state> out) noexcept {
  if (out.size() < probes.size()) return std::make_error_code(std::errc::invalid_argument);
  for (const service_probe& p : probes)
    if (p.port == 0) return std::make_error_code(std::errc::invalid_argument);
  if (probes.empty()) return {};
  const std::span<service_state> states = out.first(probes.size());
  for (std::size_t i = 0; i < probes.size(); ++i) begin_service(states[i], probes[i].port);
  try {
    // Ports are few (a probe asks for one, an agent for a handful): small sorted vectors,
    // reused.
    std::vector<std::uint16_t>& all = m.all;
    std::vector<std::uint16_t>& walked = m.walked;
    all.clear();
    walked.clear();
    for (const service_probe& p : probes) {
      all.push_back(p.port);
      if (needs_established(p.rules)) walked.push_back(p.port);
    }
    for (auto* v : {&all, &walked}) {
      std::sort(v->begin(), v->end());
      v->erase(std::unique(v->begin(), v->end()), v->end());
    }
    select_ports(m.listening, all);
    if (!walked.empty()) select_ports(m.established, walked);
    if (!m.listening.filter || (!walked.empty() && !m.established.filter))
      return make_error_code(errc::bad_filter);

    socket_query q;
    q.scope = {};
    q.scope.tcp = true;
    q.scope.udp = q.scope.unix_domain = false;
    q.states = 1u << static_cast<unsigned>(tcp_state::listen);
    q.filter = &*m.listening.filter;
    service_sink sink(states);
    if (auto ec = c.list(q, sink)) return ec;
    if (!walked.empty()) {
      // Only the ESTABLISHED sockets of the ports whose rules count them reach the sink; the
      // listeners were all counted above.
      q.states = 1u << static_cast<unsigned>(tcp_state::established);
      q.filter = &*m.established.filter;
      if (auto ec = c.list(q, sink)) return ec;
    }
  } catch (const std::bad_alloc&) {
    return std::make_error_code(std::errc::not_enough_memory);
  }
  const std::int64_t now = steady_ns();
  for (std::size_t i = 0; i < probes.size(); ++i) {
    service_rules r = probes[i].rules;
    r.backlog_known = r.backlog_known && c.source() == source_kind::netlink;
    states[i].established_counted = needs_established(r);
    if (!states[i].established_counted) states[i].established = 0;
    states[i].measured_at_ns = now;
    judge_service(states[i], r);
  }
  return {};
}

std::error_code measure_service_within(collector& c, service_memo& m, std::uint16_t port,
                                       const service_rules& rules, service_state& out,
                                       std::chrono::nanoseconds max_age) noexcept {
  const bool walked = needs_established(rules);
  service_memo::entry* hit = nullptr;
  for (service_memo::entry& e : m.recent)
    if (e.port == port && e.port != 0 && e.established == walked) hit = &e;
  if (hit != nullptr && max_age.count() > 0 &&
      steady_ns() - hit->state.measured_at_ns <= max_age.count()) {
    out = hit->state;
    service_rules r = rules;
    r.backlog_known = r.backlog_known && c.source() == source_kind::netlink;
    judge_service(out, r);
    return {};
  }
  const service_probe probe{port, rules};
  if (auto ec = measure_services(c, m, {&probe, 1}, {&out, 1})) return ec;
  if (hit == nullptr) {
    hit = &m.recent[m.next];
    m.next = (m.next + 1) % m.recent.size();
  }
  *hit = {port, walked, out};
  return {};
}

}  // namespace ssfast::detail
