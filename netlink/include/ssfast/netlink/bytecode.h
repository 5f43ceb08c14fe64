// SPDX-License-Identifier: Apache-2.0
// INET_DIAG bytecode that restricts a dump to one slice of the port space, so several dumps
// run at once each report every socket exactly once between them. Pure: no syscalls.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "ssfast/core/socket_table.h"

namespace ssfast::netlink {

/// A socket's partition key: the ephemeral side of its ports. For a socket whose local port is
/// at least `ephemeral_low` (a client, usually) it is the local port; otherwise (listeners,
/// the server side of connections) the remote port, which is 0 for listeners. Keys spread
/// over the ephemeral range whichever side of the connection the host is on.
constexpr std::uint16_t partition_key(std::uint16_t sport, std::uint16_t dport,
                                      std::uint16_t ephemeral_low) noexcept {
  return sport >= ephemeral_low ? sport : dport;
}

/// Largest program compile_key_range writes.
inline constexpr std::size_t max_bytecode_size = 64;

/// Writes a program accepting exactly the sockets with lo <= partition_key(sport, dport,
/// ephemeral_low) <= hi; returns its size (at most 52 bytes, fewer when bounds are open), or 0
/// if `out` is too small or lo > hi. The program passes the kernel's inet_diag_bc_audit (every
/// "no" target lies on the "yes" chain; an OR of two terms goes through a JMP, as iproute2
/// compiles it). `ephemeral_low` must be >= 1.
std::size_t compile_key_range(std::uint16_t lo, std::uint16_t hi, std::uint16_t ephemeral_low,
                              std::span<std::byte> out) noexcept;

/// A socket as inet_diag_bc_run sees it.
struct bytecode_entry {
  std::uint8_t family = 2;  ///< AF_INET or AF_INET6
  address_bytes saddr{}, daddr{};
  std::uint16_t sport = 0, dport = 0;
  std::uint32_t ifindex = 0;  ///< sk_bound_dev_if
  std::uint32_t mark = 0;     ///< sk_mark (a request's ir_mark, a timewait's tw_mark)
  std::uint64_t cgroup = 0;   ///< a full socket's cgroup v2 id; 0 for the others
  bool port_locked = true;    ///< SOCK_BINDPORT_LOCK in sk_userlocks (false: autobound)
};

/// Runs `program` on `e` as the kernel's inet_diag_bc_run does: port comparisons, S_COND and
/// D_COND (with the IPv4-mapped rule), DEV_COND, MARK_COND, CGROUP_COND, AUTO, JMP and NOP;
/// any other code rejects. For tests and for checking compiled programs.
bool run_bytecode(std::span<const std::byte> program, const bytecode_entry& e) noexcept;

/// run_bytecode for an IPv4 socket known only by its ports.
inline bool run_bytecode(std::span<const std::byte> program, std::uint16_t sport,
                         std::uint16_t dport) noexcept {
  bytecode_entry e;
  e.sport = sport;
  e.dport = dport;
  return run_bytecode(program, e);
}

/// The kernel's inet_diag_bc_audit rules for the codes ssfast emits (port comparisons, host,
/// device, mark and cgroup conditions, AUTO, JMP, NOP): true if the kernel would accept
/// `program` from a caller with CAP_NET_ADMIN (MARK_COND needs it: -EPERM otherwise).
bool audit_bytecode(std::span<const std::byte> program) noexcept;

/// Splits the key space into `parts` (1..max_partitions) contiguous ranges with about equal
/// weight under `histogram` (counts of keys by key >> 8, from an earlier snapshot); with no
/// weight at all, splits [ephemeral_low, ephemeral_high] evenly. first[i] is partition i's
/// lowest key; partition i ends at first[i+1]-1, the last at 65535; first[0] is 0.
inline constexpr std::size_t max_partitions = 16;
using key_histogram = std::array<std::uint64_t, 256>;
void split_key_space(const key_histogram& histogram, std::size_t parts, std::uint16_t ephemeral_low,
                     std::uint16_t ephemeral_high,
                     std::array<std::uint16_t, max_partitions>& first) noexcept;

}  // namespace ssfast::netlink
