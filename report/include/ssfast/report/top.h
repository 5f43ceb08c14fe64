// SPDX-License-Identifier: Apache-2.0
// `top` aggregation: counts per remote address, port, state or process, the shape of
// `sort | uniq -c | sort -nr`.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "ssfast/core/export.h"
#include "ssfast/core/owners.h"
#include "ssfast/core/socket_table.h"

namespace ssfast {

/// What `top` groups by.
enum class top_key : std::uint8_t { raddr, laddr, lport, rport, state, process };

/// Parses "raddr", "laddr", "lport", "rport", "state", "process".
SSFAST_API bool parse_top_key(std::string_view s, top_key& out) noexcept;

struct top_entry {
  std::string key;
  std::uint64_t count = 0;
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

/// Counts sockets per key as a listing hands them over (the row_sink for collector::list):
/// memory grows with the number of distinct keys, never with the number of sockets (ports and
/// states are fixed arrays; addresses and processes hash tables of the keys seen). Keys and
/// order as top_counts(). Not thread-safe.
class SSFAST_API top_counter final : public row_sink {
 public:
  top_counter(top_key key, const owner_lookup* owners);
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

/// Counts the table's sockets per key, largest first (equal counts in key order), at most `n`
/// entries (0: all). IPv4-mapped IPv6 addresses count with their IPv4 address. For process,
/// a socket counts once for each process holding it, and sockets with no known owner under
/// "-" (as netstat -p prints them); keys read "pid/comm" as in netstat. Allocates.
SSFAST_API std::vector<top_entry> top_counts(const socket_table& t, top_key key, std::size_t n,
                                             const owner_lookup* owners);

}  // namespace ssfast
