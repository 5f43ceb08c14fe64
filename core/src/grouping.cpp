// SPDX-License-Identifier: Apache-2.0
// Counting sockets per key for `top`, largest first, as `sort | uniq -c | sort -nr` shows them.
#include "ssfast/core/grouping.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

#include "ssfast/core/addresses.h"
#include "ssfast/core/kernel_abi.h"
#include "ssfast/core/socket_attributes.h"
#include "ssfast/core/tcp_state.h"

namespace ssfast {
namespace {

using abi::af_inet;
using abi::af_inet6;

// A group: its key (compared in its own order, as `sort | uniq -c` would sort) and count.
template <class Key>
struct group {
  Key key;
  std::uint64_t count;
};

// The n largest groups, formatted.
template <class Key, class Format>
std::vector<top_entry> rank(std::vector<group<Key>>& groups, std::size_t n, Format&& format) {
  keep_largest(groups, n);
  std::vector<top_entry> out;
  out.reserve(groups.size());
  for (const group<Key>& g : groups) out.push_back({format(g.key), g.count, g.count, 0});
  return out;
}

// Groups of a fixed array indexed by key (ports, states): the non-zero ones.
template <class Key, std::size_t N>
std::vector<group<Key>> nonzero(const std::array<std::uint64_t, N>& counts) {
  std::vector<group<Key>> g;
  for (std::size_t k = 0; k < N; ++k)
    if (counts[k] != 0) g.push_back({static_cast<Key>(k), counts[k]});
  return g;
}

}  // namespace

bool parse_top_metric(std::string_view s, top_metric& out) noexcept {
  static constexpr std::pair<std::string_view, top_metric> metrics[] = {
      {"sockets", top_metric::sockets},         {"retrans", top_metric::retrans},
      {"retrans_out", top_metric::retrans_out}, {"rtt", top_metric::rtt},
      {"bytes_acked", top_metric::bytes_acked}, {"bytes_received", top_metric::bytes_received},
      {"send_q", top_metric::send_q},           {"recv_q", top_metric::recv_q}};
  for (const auto& [name, m] : metrics)
    if (s == name) return out = m, true;
  return false;
}

std::size_t rtt_histogram::bucket_of(std::uint32_t us) noexcept {
  if (us < 4) return us;                                                // 0..3 exactly
  const unsigned msb = 31u - static_cast<unsigned>(__builtin_clz(us));  // >= 2
  const std::uint32_t sub = (us >> (msb - 2)) & 3u;                     // next two bits
  return std::min<std::size_t>(buckets - 1, 4 * (msb - 1) + sub);
}

std::uint64_t rtt_histogram::value_of(std::size_t b) noexcept {
  if (b < 4) return b;
  const unsigned msb = static_cast<unsigned>(b / 4) + 1, sub = static_cast<unsigned>(b % 4);
  // The bucket holds [(4 + sub) << (msb - 2), (5 + sub) << (msb - 2)): its middle.
  const std::uint64_t low = std::uint64_t{4u + sub} << (msb - 2);
  return low + (std::uint64_t{1} << (msb - 2)) / 2;
}

void rtt_histogram::add(std::uint32_t us) noexcept {
  ++count[bucket_of(us)];
  ++total;
}

std::uint64_t rtt_histogram::quantile(double q) const noexcept {
  if (total == 0) return 0;
  const auto want = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total)));
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < buckets; ++b) {
    seen += count[b];
    if (seen >= std::max<std::uint64_t>(want, 1)) return value_of(b);
  }
  return value_of(buckets - 1);
}

bool parse_top_key(std::string_view s, top_key& out) noexcept {
  static constexpr std::pair<std::string_view, top_key> keys[] = {
      {"raddr", top_key::raddr}, {"laddr", top_key::laddr}, {"lport", top_key::lport},
      {"rport", top_key::rport}, {"state", top_key::state}, {"process", top_key::process}};
  for (const auto& [name, k] : keys)
    if (s == name) return out = k, true;
  return false;
}

// One key's figure under a metric: a sum, or the RTT histogram, and its sockets.
struct metric_acc {
  std::uint64_t sum = 0;
  std::uint64_t sockets = 0;
  std::unique_ptr<rtt_histogram> rtt;
};

struct top_counter::state {
  top_key key;
  const owner_lookup* owners;
  top_metric metric = top_metric::sockets;
  // Under a metric every key is an address_group: an address as address_key() writes it, a
  // port or a state after a 0 byte, a pid (big-endian, 0 for "-") after a 0 byte.
  std::unordered_map<address_group, metric_acc, group_key_hash> metrics;
  std::unordered_map<std::uint32_t, std::string> comms;
  std::array<std::uint64_t, 65536> ports{};
  std::array<std::uint64_t, 256> states{};
  group_counts<17> addresses;
  // pid -> (comm, sockets); pid 0 is "-", sockets no process could be found holding.
  std::unordered_map<std::uint32_t, std::pair<std::string, std::uint64_t>> processes;
  std::vector<process_ref> scratch;

  // What one socket adds under the metric, or nothing (false).
  bool figure(const socket_row& r, std::uint64_t& v) const {
    const bool inet = r.family == af_inet || r.family == af_inet6;
    switch (metric) {
      case top_metric::sockets: v = 1; return true;
      case top_metric::send_q:
        v = r.send_q;  // a listener's Send-Q is its backlog, not data
        return r.state != static_cast<std::uint8_t>(tcp_state::listen);
      case top_metric::recv_q: v = r.recv_q; return true;
      default: break;
    }
    if (!inet) return false;
    const tcp_facts f = tcp_facts_of(decode_attributes(r));
    if (!f.present) return false;
    switch (metric) {
      case top_metric::retrans: v = f.total_retrans; return true;
      case top_metric::retrans_out: v = f.retrans; return true;
      case top_metric::rtt: v = f.rtt_us; return f.rtt_us != 0;  // 0: no RTT sample yet
      case top_metric::bytes_acked: v = f.bytes_acked; return true;
      case top_metric::bytes_received: v = f.bytes_received; return true;
      default: return false;
    }
  }

  void credit(const address_group& k, std::uint64_t v) {
    metric_acc& a = metrics[k];
    ++a.sockets;
    if (metric == top_metric::rtt) {
      if (!a.rtt) a.rtt = std::make_unique<rtt_histogram>();
      a.rtt->add(static_cast<std::uint32_t>(v));
    } else {
      a.sum += v;
    }
  }

  void add_metric(const socket_table& t) {
    for (std::size_t i = 0; i < t.size(); ++i) {
      const socket_row r = t.row(i);
      std::uint64_t v = 0;
      if (!figure(r, v)) continue;
      const bool inet = r.family == af_inet || r.family == af_inet6;
      address_group k{};
      switch (key) {
        case top_key::raddr:
        case top_key::laddr:
          if (!inet) continue;  // UNIX sockets have no address
          k = address_key(r.family, key == top_key::raddr ? r.peer_addr : r.local_addr);
          break;
        case top_key::lport:
        case top_key::rport:
          if (!inet) continue;
          put(k, 1, key == top_key::lport ? r.local_port : r.peer_port);
          break;
        case top_key::state: k[1] = netstat_fold(r.state); break;
        case top_key::process: {
          const auto held =
              owners != nullptr ? owners->owners(r.inode, scratch) : std::span<const process_ref>{};
          if (held.empty()) credit(k, v);  // pid 0: "-"
          std::uint32_t last = 0;
          for (const process_ref& p : held) {
            if (p.pid == last) continue;  // several fds of one process: one socket
            last = p.pid;
            for (int b = 0; b < 4; ++b)
              k[1 + static_cast<std::size_t>(b)] = static_cast<std::uint8_t>(p.pid >> (24 - 8 * b));
            comms.try_emplace(p.pid, p.comm);
            credit(k, v);
          }
          continue;
        }
      }
      credit(k, v);
    }
  }

  std::string key_text(const address_group& k) const {
    switch (key) {
      case top_key::raddr:
      case top_key::laddr: {
        std::string s;
        append_address(s, k[0], address_at(&k[1]));
        return s;
      }
      case top_key::lport:
      case top_key::rport: return std::to_string(port_at(&k[1]));
      case top_key::state: {
        const std::string_view name = netstat_name(k[1]);
        return name.empty() ? "STATE_" + std::to_string(k[1]) : std::string(name);
      }
      case top_key::process: {
        const std::uint32_t pid =
            std::uint32_t{k[1]} << 24 | std::uint32_t{k[2]} << 16 | std::uint32_t{k[3]} << 8 | k[4];
        if (pid == 0) return "-";
        const auto it = comms.find(pid);
        return std::to_string(pid) + "/" + (it == comms.end() ? std::string() : it->second);
      }
    }
    return {};
  }

  void add(const socket_table& t) {
    if (metric != top_metric::sockets) return add_metric(t);
    switch (key) {
      case top_key::raddr:
      case top_key::laddr: {
        const bool remote = key == top_key::raddr;
        for (std::size_t i = 0; i < t.size(); ++i) {
          const std::uint8_t f = t.family()[i];
          if (f != af_inet && f != af_inet6) continue;  // UNIX sockets have no address
          ++addresses[address_key(f, remote ? t.peer_addr()[i] : t.local_addr()[i])];
        }
        return;
      }
      case top_key::lport:
      case top_key::rport: {
        const auto port = key == top_key::lport ? t.local_port() : t.peer_port();
        for (std::size_t i = 0; i < t.size(); ++i) {
          const std::uint8_t f = t.family()[i];
          if (f == af_inet || f == af_inet6) ++ports[port[i]];
        }
        return;
      }
      case top_key::state:
        for (std::size_t i = 0; i < t.size(); ++i) ++states[netstat_fold(t.state()[i])];
        return;
      case top_key::process:
        for (std::size_t i = 0; i < t.size(); ++i) {
          const auto held = owners != nullptr ? owners->owners(t.inode()[i], scratch)
                                              : std::span<const process_ref>{};
          if (held.empty()) ++processes[0].second;
          std::uint32_t last = 0;
          for (const process_ref& p : held) {
            if (p.pid == last) continue;  // several fds of one process: one socket
            last = p.pid;
            auto& [comm, count] = processes[p.pid];
            if (count++ == 0) comm = p.comm;
          }
        }
        return;
    }
  }
};

top_counter::top_counter(top_key key, const owner_lookup* owners, top_metric metric)
    : s_(std::make_unique<state>()) {
  s_->key = key;
  s_->owners = owners;
  s_->metric = metric;
}

top_counter::~top_counter() = default;

std::error_code top_counter::on_rows(const socket_table& batch) noexcept {
  try {
    s_->add(batch);
    return {};
  } catch (const std::bad_alloc&) {
    return std::make_error_code(std::errc::not_enough_memory);
  }
}

void top_counter::clear() noexcept {
  s_->ports.fill(0);
  s_->states.fill(0);
  s_->addresses.clear();
  s_->processes.clear();
  s_->metrics.clear();
  s_->comms.clear();
}

std::vector<top_entry> top_counter::entries(std::size_t n) const {
  if (s_->metric != top_metric::sockets) {
    // Ranked by the figure (the RTT's median; then its p99), then key order.
    struct ranked {
      address_group key;
      std::uint64_t count, p99, sockets;
    };
    std::vector<ranked> g;
    g.reserve(s_->metrics.size());
    for (const auto& [k, a] : s_->metrics) {
      if (a.rtt) {
        g.push_back({k, a.rtt->quantile(0.5), a.rtt->quantile(0.99), a.sockets});
      } else {
        g.push_back({k, a.sum, 0, a.sockets});
      }
    }
    const std::size_t keep = n == 0 ? g.size() : std::min(n, g.size());
    std::partial_sort(g.begin(), g.begin() + static_cast<std::ptrdiff_t>(keep), g.end(),
                      [](const ranked& a, const ranked& b) {
                        if (a.count != b.count) return a.count > b.count;
                        if (a.p99 != b.p99) return a.p99 > b.p99;
                        return a.key < b.key;
                      });
    g.resize(keep);
    std::vector<top_entry> out;
    out.reserve(g.size());
    for (const ranked& r : g) out.push_back({s_->key_text(r.key), r.count, r.sockets, r.p99});
    return out;
  }
  switch (s_->key) {
    case top_key::raddr:
    case top_key::laddr: {
      std::vector<group<address_group>> g;
      g.reserve(s_->addresses.size());
      for (const auto& [k, count] : s_->addresses) g.push_back({k, count});
      return rank(g, n, [](const address_group& k) {
        std::string s;
        append_address(s, k[0], address_at(&k[1]));
        return s;
      });
    }
    case top_key::lport:
    case top_key::rport: {
      auto g = nonzero<std::uint16_t>(s_->ports);
      return rank(g, n, [](std::uint16_t p) { return std::to_string(p); });
    }
    case top_key::state: {
      auto g = nonzero<std::uint8_t>(s_->states);
      return rank(g, n, [](std::uint8_t st) {
        const std::string_view name = netstat_name(st);
        return name.empty() ? "STATE_" + std::to_string(st) : std::string(name);
      });
    }
    case top_key::process: {
      // Ordered by (pid, comm) on ties, as the pid/comm keys sort.
      std::vector<group<std::pair<std::uint32_t, std::string_view>>> g;
      for (const auto& [pid, v] : s_->processes) g.push_back({{pid, v.first}, v.second});
      return rank(g, n, [](const std::pair<std::uint32_t, std::string_view>& k) {
        if (k.first == 0) return std::string("-");
        return std::to_string(k.first) + "/" + std::string(k.second);
      });
    }
  }
  return {};
}

std::error_code tcp_info_by_state::on_rows(const socket_table& batch) noexcept {
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (batch.protocol()[i] != abi::ipproto_tcp) continue;
    const socket_row r = batch.row(i);
    const tcp_facts f = tcp_facts_of(decode_attributes(r));
    if (!f.present) continue;
    state_figures& s = states_[netstat_fold(r.state) & 15u];
    ++s.sockets;
    if (f.rtt_us != 0) {
      s.rtt.add(f.rtt_us);
      s.rtt_max_us = std::max(s.rtt_max_us, f.rtt_us);
    }
    s.total_retrans += f.total_retrans;
    s.retransmitting += f.retrans > 0;
  }
  return {};
}

std::vector<top_entry> top_counts(const socket_table& t, top_key key, std::size_t n,
                                  const owner_lookup* owners, top_metric metric) {
  top_counter c(key, owners, metric);
  if (c.on_rows(t)) throw std::bad_alloc();
  return c.entries(n);
}

}  // namespace ssfast
