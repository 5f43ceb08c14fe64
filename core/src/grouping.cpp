// SPDX-License-Identifier: Apache-2.0
// Counting sockets per key for `top`, largest first, as `sort | uniq -c | sort -nr` shows them.
#include "ssfast/core/grouping.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

#include "ssfast/core/addresses.h"
#include "ssfast/core/kernel_abi.h"
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
  for (const group<Key>& g : groups) out.push_back({format(g.key), g.count});
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

bool parse_top_key(std::string_view s, top_key& out) noexcept {
  static constexpr std::pair<std::string_view, top_key> keys[] = {
      {"raddr", top_key::raddr}, {"laddr", top_key::laddr}, {"lport", top_key::lport},
      {"rport", top_key::rport}, {"state", top_key::state}, {"process", top_key::process}};
  for (const auto& [name, k] : keys)
    if (s == name) return out = k, true;
  return false;
}

struct top_counter::state {
  top_key key;
  const owner_lookup* owners;
  std::array<std::uint64_t, 65536> ports{};
  std::array<std::uint64_t, 256> states{};
  group_counts<17> addresses;
  // pid -> (comm, sockets); pid 0 is "-", sockets no process could be found holding.
  std::unordered_map<std::uint32_t, std::pair<std::string, std::uint64_t>> processes;
  std::vector<process_ref> scratch;

  void add(const socket_table& t) {
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

top_counter::top_counter(top_key key, const owner_lookup* owners) : s_(std::make_unique<state>()) {
  s_->key = key;
  s_->owners = owners;
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
}

std::vector<top_entry> top_counter::entries(std::size_t n) const {
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

std::vector<top_entry> top_counts(const socket_table& t, top_key key, std::size_t n,
                                  const owner_lookup* owners) {
  top_counter c(key, owners);
  if (c.on_rows(t)) throw std::bad_alloc();
  return c.entries(n);
}

}  // namespace ssfast
