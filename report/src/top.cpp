// `top`: counts per key, largest first, as `sort | uniq -c | sort -nr` shows them.
#include "ssfast/core/kernel_abi.h"
#include "ssfast/report/top.h"

#include <algorithm>
#include <string>

#include "ssfast/core/addresses.h"
#include "ssfast/core/tcp_state.h"

namespace ssfast {
namespace {

using abi::af_inet;
using abi::af_inet6;

struct address_key {
  std::uint8_t family;
  address_bytes addr;
  friend bool operator<(const address_key& a, const address_key& b) {
    return a.family != b.family ? a.family < b.family : a.addr < b.addr;
  }
  friend bool operator==(const address_key&, const address_key&) = default;
};

// An IPv4-mapped IPv6 address groups with its IPv4 address.
address_key fold(std::uint8_t family, const address_bytes& a) {
  if (family == af_inet6 && is_v4_mapped(a)) {
    address_bytes v4{};
    std::copy(a.begin() + 12, a.end(), v4.begin());
    return {af_inet, v4};
  }
  return {family, a};
}

template <class Key, class Format>
std::vector<top_entry> rank(std::vector<Key>& keys, std::size_t n, Format&& format) {
  std::sort(keys.begin(), keys.end());
  struct run {
    std::size_t key;  // index of its first key: runs are in key order
    std::uint64_t count;
  };
  std::vector<run> runs;
  for (std::size_t i = 0; i < keys.size();) {
    std::size_t j = i;
    while (j < keys.size() && keys[j] == keys[i]) ++j;
    runs.push_back({i, j - i});
    i = j;
  }
  keep_largest(runs, n);
  std::vector<top_entry> out;
  out.reserve(runs.size());
  for (const run& r : runs) out.push_back({format(keys[r.key]), r.count});
  return out;
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

std::vector<top_entry> top_counts(const socket_table& t, top_key key, std::size_t n,
                                  const owner_lookup* owners) {
  switch (key) {
    case top_key::raddr:
    case top_key::laddr: {
      std::vector<address_key> keys;
      keys.reserve(t.size());
      const bool remote = key == top_key::raddr;
      for (std::size_t i = 0; i < t.size(); ++i) {
        const std::uint8_t f = t.family()[i];
        if (f != af_inet && f != af_inet6) continue;  // UNIX sockets have no address
        keys.push_back(fold(f, remote ? t.peer_addr()[i] : t.local_addr()[i]));
      }
      return rank(keys, n, [](const address_key& k) {
        std::string s;
        append_address(s, k.family, k.addr);
        return s;
      });
    }
    case top_key::lport:
    case top_key::rport: {
      std::vector<std::uint16_t> keys;
      keys.reserve(t.size());
      for (std::size_t i = 0; i < t.size(); ++i) {
        const std::uint8_t f = t.family()[i];
        if (f != af_inet && f != af_inet6) continue;
        keys.push_back(key == top_key::lport ? t.local_port()[i] : t.peer_port()[i]);
      }
      return rank(keys, n, [](std::uint16_t p) { return std::to_string(p); });
    }
    case top_key::state: {
      std::vector<std::uint8_t> keys;
      keys.reserve(t.size());
      for (std::size_t i = 0; i < t.size(); ++i) keys.push_back(netstat_fold(t.state()[i]));
      return rank(keys, n, [](std::uint8_t s) {
        const std::string_view name = netstat_name(s);
        return name.empty() ? "STATE_" + std::to_string(s) : std::string(name);
      });
    }
    case top_key::process: {
      // (pid, comm) per holder; "-" for sockets nobody could be found holding.
      std::vector<std::pair<std::uint32_t, std::string_view>> keys;
      std::vector<process_ref> scratch;
      for (std::size_t i = 0; i < t.size(); ++i) {
        const auto held = owners != nullptr ? owners->owners(t.inode()[i], scratch)
                                            : std::span<const process_ref>{};
        if (held.empty()) keys.push_back({0, {}});
        std::uint32_t last = 0;
        for (const process_ref& p : held) {
          if (p.pid == last) continue;  // several fds of one process: one socket
          last = p.pid;
          keys.push_back({p.pid, p.comm});
        }
      }
      return rank(keys, n, [](const std::pair<std::uint32_t, std::string_view>& k) {
        if (k.first == 0) return std::string("-");
        return std::to_string(k.first) + "/" + std::string(k.second);
      });
    }
  }
  return {};
}

}  // namespace ssfast
