// SPDX-License-Identifier: Apache-2.0
// One sample for the history, taken through the collector (see ssfast/doctor/history.h).
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>

#include "ssfast/core/kernel_abi.h"
#include "ssfast/doctor/gather.h"
#include "ssfast/doctor/history.h"

namespace ssfast {
namespace {

// "0b8d1e2f-...": 32 hex digits and 4 dashes; else false.
bool parse_boot_id(std::string_view text, std::array<std::uint8_t, 16>& out) {
  std::size_t n = 0;
  int half = -1;
  for (const char ch : text) {
    if (ch == '-' || ch == '\n') continue;
    int v = -1;
    if (ch >= '0' && ch <= '9') v = ch - '0';
    if (ch >= 'a' && ch <= 'f') v = ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') v = ch - 'A' + 10;
    if (v < 0 || n >= 16) return false;
    if (half < 0) {
      half = v;
    } else {
      out[n++] = static_cast<std::uint8_t>(half << 4 | v);
      half = -1;
    }
  }
  return n == 16 && half < 0;
}

// The field of doctor_sysctls each name is, with how many numbers it holds.
struct sysctl_slot {
  const char* name;
  std::optional<std::int64_t> doctor_sysctls::*one;
};
constexpr sysctl_slot single_sysctls[] = {
    {"net.core.somaxconn", &doctor_sysctls::somaxconn},
    {"net.ipv4.tcp_fin_timeout", &doctor_sysctls::tcp_fin_timeout},
    {"net.ipv4.tcp_max_orphans", &doctor_sysctls::tcp_max_orphans},
    {"net.ipv4.tcp_max_syn_backlog", &doctor_sysctls::tcp_max_syn_backlog},
    {"net.ipv4.tcp_max_tw_buckets", &doctor_sysctls::tcp_max_tw_buckets},
    {"net.ipv4.tcp_synack_retries", &doctor_sysctls::tcp_synack_retries},
    {"net.ipv4.tcp_syncookies", &doctor_sysctls::tcp_syncookies},
    {"net.ipv4.tcp_tw_recycle", &doctor_sysctls::tcp_tw_recycle},
    {"net.ipv4.tcp_tw_reuse", &doctor_sysctls::tcp_tw_reuse},
};

template <std::size_t N>
std::string joined(const std::array<std::int64_t, N>& v) {
  std::string s;
  for (std::size_t i = 0; i < N; ++i) s += (i ? " " : "") + std::to_string(v[i]);
  return s;
}

template <std::size_t N>
std::optional<std::array<std::int64_t, N>> numbers(const std::string& text) {
  std::array<std::int64_t, N> v{};
  std::size_t got = 0;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    if (*p == ' ') {
      ++p;
      continue;
    }
    if (got == N) return std::nullopt;
    const auto r = std::from_chars(p, end, v[got]);
    if (r.ec != std::errc()) return std::nullopt;
    ++got;
    p = r.ptr;
  }
  if (got != N) return std::nullopt;
  return v;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> history_sysctls(const doctor_sysctls& s) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const sysctl_slot& x : single_sysctls)
    if (const auto& v = s.*x.one) out.emplace_back(x.name, std::to_string(*v));
  if (s.ip_local_port_range)
    out.emplace_back("net.ipv4.ip_local_port_range", joined(*s.ip_local_port_range));
  if (s.tcp_mem) out.emplace_back("net.ipv4.tcp_mem", joined(*s.tcp_mem));
  std::sort(out.begin(), out.end());
  return out;
}

doctor_sysctls doctor_sysctls_of(const std::vector<std::pair<std::string, std::string>>& kept) {
  doctor_sysctls s;
  for (const auto& [name, value] : kept) {
    for (const sysctl_slot& x : single_sysctls)
      if (name == x.name)
        if (const auto v = numbers<1>(value)) s.*x.one = (*v)[0];
    if (name == "net.ipv4.ip_local_port_range") s.ip_local_port_range = numbers<2>(value);
    if (name == "net.ipv4.tcp_mem") s.tcp_mem = numbers<3>(value);
  }
  return s;
}

std::error_code take_history_sample(collector& c, std::size_t max_listeners,
                                    const std::string& proc_root, history_sample& out) {
  const std::uint64_t netns = out.netns;
  out = history_sample{};
  out.netns = netns;
  out.source = static_cast<std::uint8_t>(c.source());
  out.time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  {
    std::ifstream f(proc_root + "/sys/kernel/random/boot_id");
    std::string line;
    if (std::getline(f, line) && !parse_boot_id(line, out.boot_id)) out.boot_id = {};
  }
  socket_summary sum;
  count_scope scope;
  scope.tcp = scope.udp = scope.unix_domain = true;
  // Derived when the gauges held still (exact then, and a quarter of a walk's cost on a busy
  // host), else walked: the recorder asks every interval for as long as it runs.
  if (auto ec = c.count(sum, scope, count_method::derived)) return ec;
  out.tcp = sum.tcp;
  for (std::size_t f = 0; f < 2; ++f) {
    out.udp[2 * f] = sum.udp[f][tcp_state::established];
    out.udp[2 * f + 1] = sum.udp[f][tcp_state::close];
  }
  out.unix_sockets = {
      sum.unix_domain.by_type[abi::sock_stream], sum.unix_domain.by_type[abi::sock_dgram],
      sum.unix_domain.by_type[abi::sock_seqpacket], sum.unix_domain.states[tcp_state::listen]};
  if (auto ec = c.read_counters(out.levels)) return ec;
  std::vector<std::pair<std::string, std::int64_t>> all;
  if (auto ec = c.read_all_counters(all)) return ec;
  for (const auto& [name, v] : all)
    for (const auto& [id, n] : counter_names)
      if (n == name) out.counters[static_cast<std::size_t>(id)] = v;
  doctor_sysctls s;
  std::map<std::string, std::string> unreadable;
  read_doctor_sysctls(c, s, unreadable);
  out.sysctls = history_sysctls(s);

  if (max_listeners == 0) return {};
  const bool half_open = sum.tcp_histogram().netstat_count(tcp_state::syn_recv) > 0;
  std::vector<listener_evidence> ls;
  if (auto ec = gather_listeners(c, nullptr, ls, half_open)) return ec;
  std::vector<history_listener> rows;
  for (const listener_evidence& l : ls) {
    history_listener h;
    // The address as the kernel gave it (gather keeps the bytes beside the text).
    if (l.family != AF_INET && l.family != AF_INET6) continue;
    h.family = l.family == AF_INET6 ? 6 : 4;
    h.address = l.local;
    h.port = l.port;
    auto it = std::find_if(rows.begin(), rows.end(), [&](const history_listener& r) {
      return r.family == h.family && r.address == h.address && r.port == h.port;
    });
    if (it == rows.end()) {
      // The request sockets are the address's, counted once for its SO_REUSEPORT siblings.
      if (half_open) h.syn_recv = static_cast<std::uint32_t>(l.syn_recv);
      rows.push_back(h);
      it = rows.end() - 1;
    }
    it->accept_queue += l.accept_queue;
    it->backlog += l.backlog;
  }
  // Fullest first: the accept queue's share of the backlog, then the half-open, then port.
  auto fill = [](const history_listener& l) {
    return static_cast<double>(l.accept_queue) / std::max<double>(l.backlog, 1);
  };
  std::sort(rows.begin(), rows.end(), [&](const history_listener& a, const history_listener& b) {
    if (fill(a) != fill(b)) return fill(a) > fill(b);
    if (a.syn_recv.value_or(0) != b.syn_recv.value_or(0))
      return a.syn_recv.value_or(0) > b.syn_recv.value_or(0);
    return a.port < b.port;
  });
  if (rows.size() > max_listeners) rows.resize(max_listeners);
  out.listeners = std::move(rows);
  return {};
}

}  // namespace ssfast
