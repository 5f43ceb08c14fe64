// SPDX-License-Identifier: Apache-2.0
// The flat socket table: one column per field (structure of arrays), filled by a source.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <system_error>
#include <vector>

#include "ssfast/core/export.h"
#include "ssfast/core/state_counts.h"

namespace ssfast {

/// An address as the kernel stores it, in network byte order: IPv4 in the first 4 bytes.
using address_bytes = std::array<std::uint8_t, 16>;

/// One socket, as a source hands it to socket_table::append. Values are host order except the
/// address bytes. Fields a source does not know stay zero.
///
/// Raw sockets are AF_INET/AF_INET6 rows of protocol IPPROTO_RAW whose local port is the IP
/// protocol they take (as inet_diag and /proc/net/raw report it). AF_PACKET rows carry the
/// protocol they take (an ethertype, host order) as local_port and their interface as ifindex.
/// AF_NETLINK rows carry the netlink protocol as protocol and their port ids in the address
/// columns (netlink_ends_of).
struct socket_row {
  std::uint8_t family = 0;     ///< AF_INET, AF_INET6, AF_UNIX, AF_PACKET, AF_NETLINK
  std::uint16_t protocol = 0;  ///< IPPROTO_TCP, UDP, RAW, MPTCP (262); 0 for AF_UNIX
  std::uint8_t sock_type = 0;  ///< SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET
  std::uint8_t state = 0;      ///< the kernel's TCP_* byte
  address_bytes local_addr{};
  address_bytes peer_addr{};
  std::uint16_t local_port = 0;
  std::uint16_t peer_port = 0;
  std::uint32_t recv_q = 0;  ///< LISTEN: current accept queue
  std::uint32_t send_q = 0;  ///< LISTEN: backlog (netlink only)
  std::uint32_t uid = 0;
  std::uint32_t ifindex = 0;     ///< bound device, 0 for none
  std::uint64_t inode = 0;       ///< 0 for request sockets and TIME_WAIT minisockets
  std::uint64_t cookie = 0;      ///< the kernel's socket cookie; survives into TIME_WAIT
  std::uint64_t peer_inode = 0;  ///< AF_UNIX: the peer's inode
  std::string_view path;         ///< AF_UNIX: bound name ('@' first for the abstract namespace)
  /// The socket's netlink attributes as the kernel sent them (the nlattr stream after the
  /// inet_diag_msg or unix_diag_msg), kept only by a table asked to (keep_attributes): what
  /// ss's -e, -m, -i and --tos print. Empty from /proc.
  std::span<const std::uint8_t> attributes;
  std::uint8_t timer = 0;        ///< TCP: 0 none, 1 retransmit, 2 keepalive, 3 TIME_WAIT, 4 probe
  std::uint8_t retrans = 0;      ///< TCP: retransmits (or probes) so far
  std::uint32_t expires_ms = 0;  ///< TCP: time left on the timer
  /// Packets the socket dropped (SK_MEMINFO_DROPS: a listener's SYN and ACK drops, which
  /// tcp_listendrop() counts with ListenDrops); only when the query asked for socket memory.
  std::uint32_t drops = 0;
  bool dual_stack = false;  ///< an IPv6 socket that also takes IPv4 (IPV6_V6ONLY off), as
                            ///< netlink reports for LISTEN and CLOSE sockets; without that
                            ///< report (other states, destroy events) true, as ss assumes
};

/// An AF_NETLINK socket's ends (netlink_diag_msg, /proc/net/netlink): its port id, and when
/// connected (NETLINK_CONNECTED) the peer's port id and group. Port ids are the kernel's u32;
/// ss prints them as int (an autobound id is negative).
struct netlink_ends {
  std::uint32_t portid = 0;
  std::uint32_t dst_portid = 0;
  std::uint32_t dst_group = 0;
  bool connected = false;
};

/// The ends an AF_NETLINK row keeps in its address columns.
SSFAST_API netlink_ends netlink_ends_of(const socket_row& r) noexcept;
/// Stores `e` in an AF_NETLINK row's address columns.
SSFAST_API void set_netlink_ends(socket_row& r, const netlink_ends& e) noexcept;

/// The table's plain columns, one per socket_row field of the same name (the state column,
/// padded, and the UNIX path, kept in an arena, are handled apart). X(type, name) is applied
/// to each: the columns, their spans and every whole-row operation are generated from this
/// one list, so a new field is one line here and one in socket_row.
#define SSFAST_SOCKET_COLUMNS(X) \
  X(std::uint8_t, family)        \
  X(std::uint16_t, protocol)     \
  X(std::uint8_t, sock_type)     \
  X(address_bytes, local_addr)   \
  X(address_bytes, peer_addr)    \
  X(std::uint16_t, local_port)   \
  X(std::uint16_t, peer_port)    \
  X(std::uint32_t, recv_q)       \
  X(std::uint32_t, send_q)       \
  X(std::uint32_t, uid)          \
  X(std::uint32_t, ifindex)      \
  X(std::uint64_t, inode)        \
  X(std::uint64_t, cookie)       \
  X(std::uint64_t, peer_inode)   \
  X(std::uint8_t, timer)         \
  X(std::uint8_t, retrans)       \
  X(std::uint32_t, expires_ms)   \
  X(std::uint32_t, drops)        \
  X(std::uint8_t, dual_stack) /* 0 or 1: a byte, as std::vector<bool> has no span */

/// Sockets as parallel columns. append() amortizes allocation; clear() keeps capacity, so a
/// table reused across snapshots stops allocating once it has seen the largest one. The state
/// column is padded with 0xFF to a multiple of 64 bytes so histogram kernels never need a scalar
/// tail. Not thread-safe.
class SSFAST_API socket_table {
 public:
  static constexpr std::size_t state_padding = 64;
  static constexpr std::uint8_t state_pad_byte = 0xFF;

  std::size_t size() const noexcept { return family_.size(); }
  bool empty() const noexcept { return family_.empty(); }
  /// Drops all rows; keeps the memory.
  void clear() noexcept;
  /// Whether append() keeps each row's `attributes` (copied into the table's arena, beside
  /// the UNIX path); off by default, when rows come back with none.
  void keep_attributes(bool keep) noexcept { keep_attributes_ = keep; }
  bool keeps_attributes() const noexcept { return keep_attributes_; }
  /// Reserves room for n rows in every column. May allocate; throws std::bad_alloc.
  void reserve(std::size_t n);
  /// Appends one row (copying the UNIX path, and the attributes when kept, into the table's
  /// arena). May allocate; throws
  /// std::bad_alloc, and then the table is as it was (every column makes room first, then
  /// the row is written).
  void append(const socket_row& r);
  /// Row i gathered back from the columns; `path` points into the table until it changes.
  socket_row row(std::size_t i) const noexcept;
  /// Keeps the rows for which keep(row(i)) is true, in order; the others are dropped in place.
  /// No allocation.
  template <class Keep>
  void retain(Keep&& keep) {
    std::size_t j = 0;
    for (std::size_t i = 0; i < size(); ++i)
      if (keep(row(i))) move_row(i, j++);
    truncate(j);
  }

  // One read-only span per column, all of size(): family(), protocol(), ..., dual_stack().
#define SSFAST_COLUMN_SPAN(type, name) \
  std::span<const type> name() const noexcept { return {name##_.data(), size()}; }
  SSFAST_SOCKET_COLUMNS(SSFAST_COLUMN_SPAN)
#undef SSFAST_COLUMN_SPAN
  std::span<const std::uint8_t> state() const noexcept { return {state_.data(), size()}; }
  /// The state column including its 0xFF padding: size is a multiple of state_padding.
  std::span<const std::uint8_t> state_padded() const noexcept {
    return {state_.data(), state_.size()};
  }
  std::string_view path(std::size_t i) const noexcept;
  std::span<const std::uint8_t> attributes(std::size_t i) const noexcept;

  /// Histogram of the state column (whole padded column, no tail). No allocation.
  state_counts count_states() const noexcept;

 private:
  void move_row(std::size_t from, std::size_t to) noexcept;  // to <= from
  void truncate(std::size_t n) noexcept;
  void make_room(std::size_t rows, std::size_t arena_bytes);  // capacities only; may throw
  std::size_t rows_with_room() const noexcept;  // rows every column (state padded) can hold
  // Capacity grows only in make_room() and reserve(), doubling: a 500k-socket snapshot
  // reallocates each column ~13 times. std::vector, so the installed header needs no Boost.
  template <class T>
  using column = std::vector<T>;

#define SSFAST_COLUMN_MEMBER(type, name) column<type> name##_;
  SSFAST_SOCKET_COLUMNS(SSFAST_COLUMN_MEMBER)
#undef SSFAST_COLUMN_MEMBER
  column<std::uint8_t> state_;  // padded: see state_padded()
  // rows_with_room() as of the last make_room() or reserve(). A copy's columns have only the
  // capacity their size needs, so a copy starts from 0; a move keeps the buffers and the hint.
  struct room_hint {
    std::size_t rows = 0;
    room_hint() = default;
    room_hint(const room_hint&) noexcept {}
    room_hint& operator=(const room_hint&) noexcept {
      rows = 0;
      return *this;
    }
    room_hint(room_hint&& o) noexcept : rows(o.rows) {}
    room_hint& operator=(room_hint&& o) noexcept {
      rows = o.rows;
      return *this;
    }
  } room_;
  // Row i's path is path_chars_[path_off_[i], + path_len_[i]); its attributes follow it,
  // attr_len_[i] bytes.
  column<std::uint32_t> path_off_;
  column<std::uint16_t> path_len_;
  column<std::uint32_t> attr_len_;
  column<char> path_chars_;
  bool keep_attributes_ = false;
};

/// Receives a listing's rows a batch at a time, as a source parses them (over netlink one
/// datagram's worth, a few hundred rows): what lets a listing of any size, or a grouping of
/// it, run in memory that does not grow with the socket count. The batch is cleared and
/// reused once the call returns. An error stops the listing, which returns it.
class row_sink {
 public:
  virtual std::error_code on_rows(const socket_table& batch) noexcept = 0;

 protected:
  ~row_sink() = default;
};

}  // namespace ssfast
