// `top` aggregation: counts per remote address, port, state or process, the shape of
// `sort | uniq -c | sort -nr`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
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

/// Counts the table's sockets per key, largest first (equal counts in key order), at most `n`
/// entries (0: all). IPv4-mapped IPv6 addresses count with their IPv4 address. For process,
/// a socket counts once for each process holding it, and sockets with no known owner under
/// "-" (as netstat -p prints them); keys read "pid/comm" as in netstat. Allocates.
SSFAST_API std::vector<top_entry> top_counts(const socket_table& t, top_key key, std::size_t n,
                                             const owner_lookup* owners);

}  // namespace ssfast
