// Socket listings in ss's columns or as JSON Lines.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ssfast/core/export.h"
#include "ssfast/core/owners.h"
#include "ssfast/core/socket_table.h"

namespace ssfast {

struct listing_style {
  bool header = true;     ///< the column header line (ss -H turns it off)
  bool netid = true;      ///< the Netid column (ss shows it when several protocols are listed)
  bool state = true;      ///< the State column (ss hides it when only one state is selected)
  bool extended = false;  ///< -e: uid, inode, socket cookie
  bool timers = false;    ///< -o: timer:(name,expires,retransmits)
  /// Whether a listener's Send-Q is its backlog (netlink). /proc shows 0 there, so from /proc
  /// accept-queue-full is unknown: not printed in text, null in JSON.
  bool backlog_known = true;
  const owner_lookup* owners = nullptr;  ///< -p: the Process column
};

/// A listener whose accept queue (Recv-Q) is past its backlog (Send-Q): the kernel drops the
/// next connection (sk_acceptq_is_full is ack_backlog > max_ack_backlog). Listings flag it
/// "accept-queue-full" (text) and accept_queue_full (JSON, every listener).
SSFAST_API bool accept_queue_full(const socket_row& r) noexcept;

/// "tcp", "udp", "u_str", "u_dgr", "u_seq" (ss's Netid), from a row.
SSFAST_API std::string_view netid(const socket_row& r) noexcept;

/// ss's state names: ESTAB, SYN-SENT, ..., UNCONN for CLOSE, LISTEN.
SSFAST_API std::string_view ss_state_name(std::uint8_t state) noexcept;

/// Appends the table as ss prints it: State Recv-Q Send-Q Local Address:Port Peer Address:Port
/// Process (Netid first when asked), columns as wide as their widest cell. Addresses are
/// numeric, IPv6 in brackets, a port 0 peer as '*'. Allocates for the output.
SSFAST_API void render_listing_text(const socket_table& t, const listing_style& s,
                                    std::string& out);

/// Appends one JSON object per socket, one per line: proto, family, state (netstat's names),
/// local_addr, local_port, peer_addr, peer_port, recv_q, send_q, inode, uid (and for UNIX
/// sockets path and peer_inode; for listeners accept_queue_full, null when the backlog is
/// unknown; with timers, timer; with owners, process: [{pid, comm, fd}]).
SSFAST_API void render_listing_json(const socket_table& t, const listing_style& s,
                                    std::string& out);

}  // namespace ssfast
