// SPDX-License-Identifier: Apache-2.0
// Socket listings in ss's columns or as JSON Lines.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

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

/// Writes a listing as its rows arrive: the row_sink to hand collector::list() for a listing
/// of any size. JSON Lines are written row by row. Text columns are measured over blocks of
/// `block_rows` rows (the header with the first) and only ever widen, as ss measures its
/// columns over each 5 MiB of buffered fields: a listing shorter than a block comes out
/// exactly as render_listing_text() draws it, a longer one keeps its columns aligned within
/// each block. Holds one block's cells and up to ~64 KiB of text, whatever the socket count.
/// Errors: what `write` returns (which stops the listing), ENOMEM.
/// ss's columns for people, or JSON Lines (one object per socket) for machines.
enum class listing_format : std::uint8_t { columns, json_lines };

class SSFAST_API listing_writer final : public row_sink {
 public:
  /// Called with each piece of output, in order.
  using write_fn = std::function<std::error_code(std::string_view)>;
  static constexpr std::size_t default_block_rows = 4096;

  listing_writer(const listing_style& s, listing_format f, write_fn write,
                 std::size_t block_rows = default_block_rows);
  listing_writer(const listing_writer&) = delete;
  listing_writer& operator=(const listing_writer&) = delete;
  ~listing_writer();

  std::error_code on_rows(const socket_table& batch) noexcept override;
  /// Writes what is still held: the last block (the header alone if there was no row).
  std::error_code finish() noexcept;

  /// Whether listeners' Send-Q is their backlog (listing_style::backlog_known), for a caller
  /// that learns which source answered only as the first rows arrive.
  void set_backlog_known(bool known) noexcept { style_.backlog_known = known; }

  /// Rows written so far, and whether one was a TCP listener.
  std::uint64_t rows() const noexcept { return rows_; }
  bool tcp_listener_seen() const noexcept { return tcp_listener_; }

 private:
  static constexpr std::size_t columns = 6;  // netid, state, recv-q, send-q, local, peer
  static constexpr std::size_t write_size = 64 * 1024;
  void add_row(const socket_row& r);
  void json_row(const socket_row& r);
  void line(const std::array<std::string_view, columns>& cell, std::string_view tail);
  std::error_code flush_block();
  std::error_code drain();

  listing_style style_;
  bool json_;
  write_fn write_;
  std::size_t block_rows_;
  std::array<std::size_t, columns> width_{};
  std::string cells_;                // the block's cells, back to back
  std::vector<std::uint32_t> ends_;  // per row: the end of each cell, then of the tail
  std::string out_;                  // text not yet written
  std::string addr_;
  std::vector<process_ref> scratch_;
  std::uint64_t rows_ = 0;
  bool tcp_listener_ = false;
  bool header_written_ = false;
};

}  // namespace ssfast
