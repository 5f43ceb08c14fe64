// SPDX-License-Identifier: Apache-2.0
// The pure sock_diag dump parser: one received datagram in, counts or table rows out. No
// syscalls; replayable on recorded dumps.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>

#include "ssfast/core/error.h"
#include "ssfast/core/socket_summary.h"
#include "ssfast/core/socket_table.h"
#include "ssfast/core/state_counts.h"

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
  std::uint32_t repeats = 0;  ///< of those, sockets a repeat_guard recognized and left out
};

/// Recognizes a socket that one dump reports a second time. inet_diag resumes a dump by hash
/// bucket and position: at each datagram boundary (cb->args) and, inside a bucket, after every
/// batch of 16 sockets (SKARR_SZ, net/ipv4/inet_diag.c inet_diag_dump_icsk), when the walk
/// restarts the chain and skips as many sockets as it had already sent. A socket inserted at
/// the chain's head meanwhile (a new connection, a TIME_WAIT minisocket replacing its socket)
/// shifts the chain, so the sockets just before the resume point come again, in order, at the
/// start of the next batch. unix_diag and udp resume the same way (by slot and count). The
/// socket cookie identifies a socket for its whole life, TIME_WAIT included, and is never 0
/// (sock_gen_cookie), so a cookie equal to one of the last `window` of the dump is a repeat:
/// up to `window` insertions into one chain between two batches are caught. Sockets removed
/// ahead of a resume point are skipped, which nothing can undo. One guard per dump; no
/// allocation; the check is `window` compares per socket.
class repeat_guard {
 public:
  static constexpr std::size_t window = 16;
  /// Whether `cookie` is among the last `window` cookies seen (then it is counted as
  /// dropped); if not, it is remembered. A cookie of 0 (a recorded or constructed dump without
  /// cookies) is never a repeat.
  bool repeated(std::uint64_t cookie) noexcept {
    if (cookie == 0) return false;
    bool hit = false;
    for (const std::uint64_t c : recent_) hit |= c == cookie;  // branch-free: vectorizes
    if (hit) {
      ++dropped_;
      return true;
    }
    recent_[next_++ % window] = cookie;
    return false;
  }
  /// Sockets recognized as repeats since construction.
  std::uint64_t dropped() const noexcept { return dropped_; }

 private:
  std::array<std::uint64_t, window> recent_{};
  std::size_t next_ = 0;
  std::uint64_t dropped_ = 0;
};

/// inet_diag (TCP, UDP): adds each socket's state byte to by_family[0] (IPv4) or [1] (IPv6),
/// reading two bytes of each message, building no row. noexcept, no allocation.
/// With `repeats`, a socket it recognizes is consumed but not counted.
parse_status count_inet(const datagram& d, const reply_filter& f,
                        std::array<state_counts, 2>& by_family,
                        repeat_guard* repeats = nullptr) noexcept;

/// What sockstat's `inuse` leaves out of a TCP dump, per family (0 IPv4, 1 IPv6): the
/// minisockets, which are hashed but are not full sockets.
struct minisocket_counts {
  std::array<std::uint64_t, 2> timewait{};  ///< TIME_WAIT and FIN_WAIT2 timewait substates
  std::array<std::uint64_t, 2> request{};   ///< SYN_RECV as the dump reports it
  friend bool operator==(const minisocket_counts&, const minisocket_counts&) = default;
};

/// As count_inet, and also tells minisockets apart, reading one more byte of each message:
/// a TIME_WAIT minisocket is the only socket reported with idiag_timer 3, whatever the
/// tw_substate it reports as its state (inet_twsk_diag_fill(); inet_sk_diag_fill() gives a
/// full socket 0, 1, 2 or 4), and every SYN_RECV is taken for a request socket
/// (inet_req_diag_fill(); a full socket in SYN_RECV, a Fast Open child before its ACK, is
/// counted as one too, which a caller comparing with sockstat sees as a mismatch).
parse_status count_inet_minisockets(const datagram& d, const reply_filter& f,
                                    std::array<state_counts, 2>& by_family,
                                    minisocket_counts& minisockets,
                                    repeat_guard* repeats = nullptr) noexcept;

/// As count_inet, and also adds each socket's partition key (bytecode.h partition_key, by
/// key >> 8) to `keys`: four more bytes read per message. For choosing the next split points.
parse_status count_inet_keys(const datagram& d, const reply_filter& f,
                             std::array<state_counts, 2>& by_family,
                             std::array<std::uint64_t, 256>& keys, std::uint16_t ephemeral_low,
                             repeat_guard* repeats = nullptr) noexcept;

/// inet_diag (TCP, UDP): appends one row per socket; `protocol` (IPPROTO_TCP/UDP) is recorded
/// in each row since a dump's message does not carry it; 0 takes each message's
/// INET_DIAG_PROTOCOL, which destroy events carry (a message without it is bad_message). Allocates
/// as the table grows; reports std::errc::not_enough_memory rather than throwing.
parse_status rows_inet(const datagram& d, const reply_filter& f, std::uint16_t protocol,
                       socket_table& out, repeat_guard* repeats = nullptr) noexcept;

/// unix_diag: counts sockets by type and state. noexcept, no allocation.
parse_status count_unix(const datagram& d, const reply_filter& f, unix_counts& out,
                        repeat_guard* repeats = nullptr) noexcept;

/// unix_diag: appends one row per socket, with name, peer inode, queues and uid when the
/// request asked for them (UDIAG_SHOW_NAME | PEER | RQLEN | UID). Allocates as rows_inet.
parse_status rows_unix(const datagram& d, const reply_filter& f, socket_table& out,
                       repeat_guard* repeats = nullptr) noexcept;

/// Any sock_diag dump: its messages checked (sender, port id, sequence, type, NLMSG_DONE and
/// its errno) and counted, none read. For a probe of a table ssfast does not list.
parse_status skip_sockets(const datagram& d, const reply_filter& f) noexcept;

/// packet_diag: appends one row per packet socket (see socket_row: the bound protocol as
/// local_port, the interface as ifindex, Recv-Q from PACKET_DIAG_MEMINFO), state TCP_CLOSE.
/// The request must ask for INFO, UID and MEMINFO (packet_show_rows). Allocates as rows_inet.
parse_status rows_packet(const datagram& d, const reply_filter& f, socket_table& out,
                         repeat_guard* repeats = nullptr) noexcept;

/// netlink_diag: appends one row per netlink socket (protocol, port ids via set_netlink_ends,
/// queues from NETLINK_DIAG_MEMINFO), state TCP_CLOSE. Allocates as rows_inet.
parse_status rows_netlink(const datagram& d, const reply_filter& f, socket_table& out,
                          repeat_guard* repeats = nullptr) noexcept;

}  // namespace ssfast::netlink
