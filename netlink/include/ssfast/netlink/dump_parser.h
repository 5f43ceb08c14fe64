// The pure sock_diag dump parser: one received datagram in, counts or table rows out. No
// syscalls; replayable on recorded dumps.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>

#include "ssfast/core/error.h"
#include "ssfast/core/socket_table.h"
#include "ssfast/core/state_counts.h"
#include "ssfast/core/summary.h"

namespace ssfast::netlink {

/// One datagram as recvmsg returned it, with the sender's netlink port id (0 is the kernel).
struct datagram {
  std::span<const std::byte> bytes;
  std::uint32_t sender_portid = 0;
};

/// What a reply must carry to be trusted: our port id, our sequence number, the request's
/// message type (SOCK_DIAG_BY_FAMILY for both inet_diag and unix_diag dumps).
struct reply_filter {
  std::uint32_t portid = 0;
  std::uint32_t seq = 0;
  std::uint16_t msg_type = 20;  // SOCK_DIAG_BY_FAMILY
};

/// The outcome of one datagram. On error the dump must be abandoned; counts may be partial.
struct parse_status {
  std::error_code error;
  bool done = false;          ///< NLMSG_DONE seen (with a zero errno)
  std::uint32_t sockets = 0;  ///< socket messages consumed from this datagram
};

/// inet_diag (TCP, UDP): adds each socket's state byte to by_family[0] (IPv4) or [1] (IPv6),
/// reading two bytes of each message, building no row. noexcept, no allocation.
parse_status count_inet(const datagram& d, const reply_filter& f,
                        std::array<state_counts, 2>& by_family) noexcept;

/// As count_inet, and also adds each socket's partition key (bytecode.h partition_key, by
/// key >> 8) to `keys`: four more bytes read per message. For choosing the next split points.
parse_status count_inet_keys(const datagram& d, const reply_filter& f,
                             std::array<state_counts, 2>& by_family,
                             std::array<std::uint64_t, 256>& keys,
                             std::uint16_t ephemeral_low) noexcept;

/// inet_diag (TCP, UDP): appends one row per socket; `protocol` (IPPROTO_TCP/UDP) is recorded
/// in each row since the message does not carry it. Allocates as the table grows; reports
/// std::errc::not_enough_memory rather than throwing.
parse_status rows_inet(const datagram& d, const reply_filter& f, std::uint8_t protocol,
                       socket_table& out) noexcept;

/// unix_diag: counts sockets by type and state. noexcept, no allocation.
parse_status count_unix(const datagram& d, const reply_filter& f, unix_counts& out) noexcept;

/// unix_diag: appends one row per socket, with name, peer inode, queues and uid when the
/// request asked for them (UDIAG_SHOW_NAME | PEER | RQLEN | UID). Allocates as rows_inet.
parse_status rows_unix(const datagram& d, const reply_filter& f, socket_table& out) noexcept;

}  // namespace ssfast::netlink
