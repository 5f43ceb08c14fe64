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
#include "ssfast/core/names.h"
#include "ssfast/core/owners.h"
#include "ssfast/core/socket_table.h"

namespace ssfast {

struct listing_style {
  bool header = true;  ///< the column header line (ss -H turns it off)
  bool netid = true;   ///< the Netid column (ss shows it when several protocols are listed)
  bool state = true;   ///< the State column (ss hides it when only one state is selected)
  /// -e: uid, ino, sk, fwmark, cgroup, v6only and the shutdown marker (<->, -->, <--, ---);
  /// for UNIX sockets the marker, the bound file's ino:/dev: and a listener's pending peers.
  bool extended = false;
  bool timers = false;    ///< -o (and -e): timer:(name,expires,retransmits); with -i, ts sack...
  bool memory = false;    ///< -m: skmem:(r,rb,t,tb,f,w,o,bl,d)
  bool tcp_info = false;  ///< -i: tcp_info as ss prints it
  bool tos = false;       ///< --tos: tos, tclass, class_id
  bool cgroup = false;    ///< --cgroup: cgroup:PATH
  bool inet_sockopt = false;  ///< --inet-sockopt: inet-sockopt: (flags...)
  bool bpf = false;           ///< -b: a packet socket's classic BPF filter
  bool oneline = false;       ///< -O: -m and -i on the socket's line, not a second one ("\n\t")
  bool numeric = true;        ///< -n: ports as numbers, rates in bits/s without k, M, G
  bool resolve = false;       ///< -r: host names for addresses (names->host)
  /// A terminal's width: ss spreads the columns over it. 0 for a pipe or a file, where ss
  /// writes its compact form (each column as wide as its widest cell).
  unsigned screen_width = 0;
  /// Whether a listener's Send-Q is its backlog (netlink). /proc shows 0 there, so from /proc
  /// accept-queue-full is unknown: null in JSON.
  bool backlog_known = true;
  const owner_lookup* owners = nullptr;  ///< -p: users:(...)
  name_lookup* names = nullptr;          ///< services (unless numeric), cgroup paths
};

/// A listener whose accept queue (Recv-Q) is past its backlog (Send-Q): the kernel drops the
/// next connection (sk_acceptq_is_full is ack_backlog > max_ack_backlog). JSON listings say
/// accept_queue_full for every listener; text shows Recv-Q and Send-Q, as ss does.
SSFAST_API bool accept_queue_full(const socket_row& r) noexcept;

/// "tcp", "udp", "raw", "u_str", "u_dgr", "u_seq", "p_raw", "p_dgr", "nl" (ss's Netid).
SSFAST_API std::string_view netid(const socket_row& r) noexcept;

/// ss's state names: ESTAB, SYN-SENT, ..., UNCONN for CLOSE, LISTEN.
SSFAST_API std::string_view ss_state_name(std::uint8_t state) noexcept;

/// Appends the table as ss 6.1 prints it: Netid (when asked) State Recv-Q Send-Q, the local and
/// peer "Address:" right-aligned and "Port" left-aligned, Process (the header whether or not
/// -p is given; the column holds users, timers and details), each column as wide as its widest
/// cell, or spread over screen_width. Addresses numeric, IPv6 in brackets, port 0 as '*'.
/// Allocates for the output.
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
  /// Writes the rows held so far now, as ss -E renders each event: widths measured over what
  /// was seen (they only widen), the header with the first rows, the last row's Process cell
  /// unmeasured. Nothing without rows.
  std::error_code flush() noexcept;

  /// Whether listeners' Send-Q is their backlog (listing_style::backlog_known), for a caller
  /// that learns which source answered only as the first rows arrive.
  void set_backlog_known(bool known) noexcept { style_.backlog_known = known; }

  /// Rows written so far, and whether one was a TCP listener.
  std::uint64_t rows() const noexcept { return rows_; }
  bool tcp_listener_seen() const noexcept { return tcp_listener_; }

 private:
  // ss's columns: netid, state, recv-q, send-q, local address, port, peer address, port,
  // process (its last, always empty column is left out).
  static constexpr std::size_t columns = 9;
  static constexpr std::size_t write_size = 64 * 1024;
  void add_row(const socket_row& r);
  void json_row(const socket_row& r);
  void measure(std::size_t column, std::size_t length) noexcept;
  void compute_widths() noexcept;
  void line(const std::array<std::string_view, columns>& cell);
  std::error_code flush_block(bool last);
  std::error_code drain();

  listing_style style_;
  bool json_;
  write_fn write_;
  std::size_t block_rows_;
  std::array<std::size_t, columns> max_len_{};  // the longest cell so far, the header's too
  // The last row's Process cell, measured only when another row follows it or a block is
  // drawn before the end: ss never measures the field it is writing when the listing ends
  // (render() without field_flush), so its last row's details do not widen the column.
  std::size_t unmeasured_ = 0;
  std::array<std::size_t, columns> width_{};    // as ss's render_calc_width sets them
  std::array<std::string, columns> row_cells_;  // one row's cells, as they are made
  std::string cells_;                           // the block's cells, back to back
  std::vector<std::uint32_t> ends_;             // per row: the end of each cell
  std::string out_;                             // text not yet written
  std::string addr_;
  std::vector<process_ref> scratch_;
  std::uint64_t rows_ = 0;
  bool tcp_listener_ = false;
  bool header_written_ = false;
};

}  // namespace ssfast
