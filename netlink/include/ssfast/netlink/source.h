// SPDX-License-Identifier: Apache-2.0
// The netlink source: sock_diag dumps planned for a count, a snapshot or a filtered listing.
// Owns the dump plans: TCP in one walk for both families (with its retry per family where the
// kernel lacks TCPDIAG_GETSOCK), parallel dumps over port slices, and the dump that the
// estimate and the derived count share.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

#include "ssfast/core/filter.h"
#include "ssfast/core/socket_summary.h"
#include "ssfast/core/socket_table.h"
#include "ssfast/netlink/sock_diag.h"

namespace ssfast::netlink {

/// What a dump was for, as errors name it: each TCP or UDP dump by family, TCP's single walk
/// of both families, UNIX, and compiling a query's filter.
enum class dump_step : std::uint8_t {
  none,
  filter,
  tcp_both,
  tcp_ipv4,
  tcp_ipv6,
  udp_ipv4,
  udp_ipv6,
  unix_domain,
  raw_ipv4,
  raw_ipv6,
  packet,
  netlink,
  mptcp_ipv4,
  mptcp_ipv6,
};

/// "TCP dump", "TCP/IPv4 dump", "UNIX dump", "filter", ...; empty for none. Static storage.
std::string_view to_string(dump_step s) noexcept;

/// What only another source knows, asked for while planning: the netlink source reads no file.
class count_hints {
 public:
  /// About how many TCP sockets the table holds (sockstat), if known: whether to split.
  virtual std::optional<std::uint64_t> expected_tcp_sockets() noexcept = 0;
  /// The kernel's Tcp CurrEstab (net/snmp), if known: what --estimate derives ESTABLISHED from.
  virtual std::optional<std::int64_t> curr_estab() noexcept = 0;
  /// CurrEstab and sockstat's inuse per family, read now: what a derived count checks itself
  /// against, before and after its dump.
  virtual tcp_gauges gauges() noexcept = 0;

 protected:
  ~count_hints() = default;
};

struct source_options {
  std::chrono::milliseconds timeout = std::chrono::seconds(10);  ///< per datagram
  unsigned partitions = 1;  ///< parallel TCP dumps a count may use (1..max_partitions)
  bool adaptive = true;     ///< split only tables of parallel_min_sockets or more
  std::uint16_t ephemeral_low = 32768, ephemeral_high = 60999;  ///< places the split points
  int fail_dumps_with = 0;  ///< test builds: every dump fails with this errno
  bool hang_dumps = false;  ///< test builds: every dump blocks forever
};

/// Dumps through one sock_diag socket, and for a split count through one more per partition
/// (opened by the first count that splits, on the calling thread, so every socket answers for
/// the same namespace), each on a thread of its own. No allocation per dump once warm. Not
/// thread-safe. Errors: the socket's; context() names the dump that failed.
class source {
 public:
  /// Below this many TCP sockets one dump beats several: every partition walks the whole
  /// established hash (inet_diag_dump_icsk visits each of tcp_ehash_entries buckets, 262144
  /// on a 24 GiB host, about 0.3 ms of CPU even when empty) to save the ~0.8 us per socket of
  /// messages it does not build; and a small host's scrape should not wake a second core.
  static constexpr std::uint64_t parallel_min_sockets = 8192;

  /// Takes the socket the caller opened (in the namespace it answers for). Allocates room for
  /// the partitions' sockets.
  source(sock_diag_socket first, const source_options& o);
  source(const source&) = delete;
  source& operator=(const source&) = delete;
  ~source();

  /// Counts `scope` into `out` (which the caller has reset). `hints` answers what /proc knows.
  std::error_code count(socket_summary& out, const count_scope& scope, count_method method,
                        count_hints& hints) noexcept;
  /// Counts the sockets `q` selects into `out` (which the caller has reset): states and
  /// expression as kernel bytecode, one dump per table, state bytes read. Errors as list().
  std::error_code count(socket_summary& out, const socket_query& q) noexcept;
  /// Appends every socket of `scope` to `out`.
  std::error_code snapshot(socket_table& out, const count_scope& scope) noexcept;
  /// Hands the sockets `q` selects to `sink` one datagram's rows at a time: states and
  /// expression as kernel bytecode (UNIX sockets filtered here). Holds one batch of rows per
  /// dump, so memory does not grow with the socket count. TCP without an expression, in a
  /// table worth splitting (as count() decides, `hints` answering what /proc knows), is dumped
  /// over the parallel port slices: the sink is then called from the partitions' threads, one
  /// call at a time (under a lock), the slices' datagrams interleaved. Errors also
  /// errc::filter_too_large, ENOMEM, and whatever the sink returned (which stops that dump).
  std::error_code list(row_sink& sink, const socket_query& q, count_hints& hints) noexcept;
  /// Sockets the last snapshot() or list() left out because its dump reported them twice
  /// (see repeat_guard); count() reports its own in socket_summary::repeats_dropped.
  std::uint64_t repeats() const noexcept;

  /// Parallel dumps a count may use now.
  unsigned threads() const noexcept;
  /// The dump the last failed call was making; dump_step::none after success.
  dump_step context() const noexcept { return context_; }

 private:
  struct state;
  std::unique_ptr<state> s_;
  dump_step context_ = dump_step::none;
};

}  // namespace ssfast::netlink
