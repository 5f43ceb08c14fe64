// SPDX-License-Identifier: Apache-2.0
// Grouping sockets: counts per key (an address, an endpoint, a flow, a port, a state, a
// process) in memory that follows the groups, and the "largest first" order of `sort | uniq -c
// | sort -nr`. What `top`, the doctor's evidence and the live view count by.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "ssfast/core/addresses.h"
#include "ssfast/core/export.h"
#include "ssfast/core/kernel_abi.h"
#include "ssfast/core/owners.h"
#include "ssfast/core/socket_table.h"

namespace ssfast {

/// A fixed-size group key of raw bytes (a family, addresses, ports, in that order), so the
/// groups are keyed by integers, never by a string per socket; compared bytewise, so equal
/// counts rank in (family, address, port) order.
template <std::size_t N>
using group_key = std::array<std::uint8_t, N>;

/// family | address (17 bytes); family | address | port (19); family | local | peer | port (35).
using address_group = group_key<17>;
using endpoint_group = group_key<19>;
using flow_group = group_key<35>;

/// Hashes a group key eight bytes at a time: the words folded by rotate and xor, then one
/// multiply (Fibonacci hashing) mixes them, the high half folded into the low. A few cycles a
/// socket.
struct group_key_hash {
  template <std::size_t N>
  std::size_t operator()(const group_key<N>& k) const noexcept {
    std::uint64_t h = 0;
    std::size_t at = 0;
    for (; at + 8 <= N; at += 8) {
      std::uint64_t w;
      std::memcpy(&w, k.data() + at, 8);
      h = (h << 29 | h >> 35) ^ w;
    }
    std::uint64_t tail = 0;
    std::memcpy(&tail, k.data() + at, N - at);
    h = ((h << 29 | h >> 35) ^ tail) * 0x9E3779B97F4A7C15ull;
    return static_cast<std::size_t>(h ^ h >> 32);
  }
};

/// Sockets per group key: grows with the groups, not the sockets.
template <std::size_t N>
using group_counts = std::unordered_map<group_key<N>, std::uint64_t, group_key_hash>;

/// Writes `a` (16 bytes) or `port` (2, network order) into `k` at `at`; returns the offset
/// after it. Chained: put(k, put(k, 1, addr), port).
template <std::size_t N>
std::size_t put(group_key<N>& k, std::size_t at, const address_bytes& a) noexcept {
  std::memcpy(k.data() + at, a.data(), a.size());
  return at + a.size();
}
template <std::size_t N>
std::size_t put(group_key<N>& k, std::size_t at, std::uint16_t port) noexcept {
  k[at] = static_cast<std::uint8_t>(port >> 8);
  k[at + 1] = static_cast<std::uint8_t>(port & 0xFF);
  return at + 2;
}

/// The address or port put() wrote at `p`.
inline address_bytes address_at(const std::uint8_t* p) noexcept {
  address_bytes a;
  std::memcpy(a.data(), p, a.size());
  return a;
}
inline std::uint16_t port_at(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}

/// An address as `top raddr` keys it: an IPv4-mapped IPv6 address (a v4 client of a dual-stack
/// socket) as its IPv4 address, which is also how a filter names it. No allocation.
inline address_group address_key(std::uint8_t family, const address_bytes& a) noexcept {
  address_group k{};
  if (family == abi::af_inet6 && is_v4_mapped(a)) {
    k[0] = abi::af_inet;
    std::copy(a.begin() + 12, a.end(), k.begin() + 1);
  } else {
    k[0] = family;
    put(k, 1, a);
  }
  return k;
}

/// What `top` groups by.
enum class top_key : std::uint8_t { raddr, laddr, lport, rport, state, process };

/// Parses "raddr", "laddr", "lport", "rport", "state", "process".
SSFAST_API bool parse_top_key(std::string_view s, top_key& out) noexcept;

/// What `top` ranks the keys by: their sockets (the default), or a per-socket figure summed
/// over each key's sockets (tcp_info's retransmissions and bytes, the queues), or the RTT's
/// distribution over them. The tcp_info ones need a query that asks for it (tcp_info) and
/// count only the sockets that carry it (full TCP sockets: not TIME_WAIT, SYN_RECV or UDP).
enum class top_metric : std::uint8_t {
  sockets,
  retrans,         ///< sum of tcpi_total_retrans: retransmissions over the sockets' lives
  retrans_out,     ///< sum of tcpi_retrans: segments out for retransmission now
  rtt,             ///< median and p99 of tcpi_rtt over the sockets with an RTT sample
  bytes_acked,     ///< sum of tcpi_bytes_acked
  bytes_received,  ///< sum of tcpi_bytes_received
  send_q,          ///< sum of Send-Q (data not yet acknowledged; listeners left out)
  recv_q,          ///< sum of Recv-Q (a listener's: its accept queue)
};

/// Parses "sockets", "retrans", "retrans_out", "rtt", "bytes_acked", "bytes_received",
/// "send_q", "recv_q".
SSFAST_API bool parse_top_metric(std::string_view s, top_metric& out) noexcept;
/// Whether a metric reads tcp_info (socket_query::show.tcp_info).
constexpr bool needs_tcp_info(top_metric m) noexcept {
  return m == top_metric::retrans || m == top_metric::retrans_out || m == top_metric::rtt ||
         m == top_metric::bytes_acked || m == top_metric::bytes_received;
}

/// RTTs in a fixed log-bucket histogram: four buckets per power of two of microseconds (each
/// within 19% of the next), 128 buckets from 1 us to past an hour; 512 bytes.
struct rtt_histogram {
  static constexpr std::size_t buckets = 128;
  std::array<std::uint32_t, buckets> count{};
  std::uint64_t total = 0;
  static std::size_t bucket_of(std::uint32_t us) noexcept;
  /// The geometric middle of a bucket's range, in microseconds.
  static std::uint64_t value_of(std::size_t bucket) noexcept;
  void add(std::uint32_t us) noexcept;
  /// The q-quantile (0 < q <= 1) as its bucket's value: the smallest bucket holding at least
  /// ceil(q * total) samples. 0 when empty.
  std::uint64_t quantile(double q) const noexcept;
};

struct top_entry {
  std::string key;
  std::uint64_t count = 0;    ///< what the entries are ranked by: sockets, a sum, the RTT p50
  std::uint64_t sockets = 0;  ///< the sockets behind it (for sockets: count)
  std::uint64_t p99 = 0;      ///< rtt: the 99th percentile (us)
};

/// Keeps the `n` largest of `entries` (0: all), largest first and equal counts in key order:
/// the order of every "most" list (top, the doctor's evidence). Entry has `count` and a `key`
/// ordered by <. O(m log n); no allocation.
template <class Entry>
void keep_largest(std::vector<Entry>& entries, std::size_t n) {
  const std::size_t keep = n == 0 ? entries.size() : std::min(n, entries.size());
  std::partial_sort(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(keep),
                    entries.end(), [](const Entry& a, const Entry& b) {
                      return a.count != b.count ? a.count > b.count : a.key < b.key;
                    });
  entries.resize(keep);
}

/// Counts sockets per top_key as a listing hands them over (the row_sink for collector::list):
/// memory grows with the number of distinct keys, never with the number of sockets (ports and
/// states are fixed arrays; addresses and processes hash tables of the keys seen). Keys and
/// order as top_counts(). Not thread-safe.
class SSFAST_API top_counter final : public row_sink {
 public:
  top_counter(top_key key, const owner_lookup* owners, top_metric metric = top_metric::sockets);
  top_counter(const top_counter&) = delete;
  top_counter& operator=(const top_counter&) = delete;
  ~top_counter();
  /// Adds the batch's sockets. Errors: ENOMEM.
  std::error_code on_rows(const socket_table& batch) noexcept override;
  /// The `n` largest groups so far (0: all), largest first, equal counts in key order.
  /// Allocates.
  std::vector<top_entry> entries(std::size_t n) const;
  /// Forgets every group (for the next report of --watch); keeps the memory.
  void clear() noexcept;

 private:
  struct state;
  std::unique_ptr<state> s_;
};

/// `-s -i`: per TCP state, the sockets that carry tcp_info, their RTT distribution and their
/// retransmissions (tcpi_total_retrans summed, and the sockets with segments out for
/// retransmission now). The row_sink for a listing that asks for tcp_info. Memory: one
/// histogram per state. Not thread-safe.
class SSFAST_API tcp_info_by_state final : public row_sink {
 public:
  struct state_figures {
    std::uint64_t sockets = 0;         ///< with tcp_info
    rtt_histogram rtt;                 ///< of those with an RTT sample
    std::uint64_t total_retrans = 0;   ///< sum of tcpi_total_retrans
    std::uint64_t retransmitting = 0;  ///< sockets with tcpi_retrans > 0
    std::uint32_t rtt_max_us = 0;      ///< the largest RTT, exactly
  };
  std::error_code on_rows(const socket_table& batch) noexcept override;
  /// By kernel state byte (netstat_fold'ed); states with no socket have sockets == 0.
  const std::array<state_figures, 16>& states() const noexcept { return states_; }

 private:
  std::array<state_figures, 16> states_{};
};

/// Counts the table's sockets per key, largest first (equal counts in key order), at most `n`
/// entries (0: all). IPv4-mapped IPv6 addresses count with their IPv4 address. For process,
/// a socket counts once for each process holding it, and sockets with no known owner under
/// "-" (as netstat -p prints them); keys read "pid/comm" as in netstat. Allocates.
SSFAST_API std::vector<top_entry> top_counts(const socket_table& t, top_key key, std::size_t n,
                                             const owner_lookup* owners,
                                             top_metric metric = top_metric::sockets);

}  // namespace ssfast
