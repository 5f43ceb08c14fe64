// SPDX-License-Identifier: Apache-2.0
// The pure parser of /proc/net/{tcp,tcp6,udp,udp6,unix,raw,raw6,packet,netlink}: the bytes of each
// read() in, counts or table rows out. No syscalls, no allocation of its own, no sscanf.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <system_error>

#include "ssfast/core/socket_summary.h"
#include "ssfast/core/socket_table.h"
#include "ssfast/core/state_counts.h"

namespace ssfast::proc {

enum class socket_file : std::uint8_t {
  tcp,
  tcp6,
  udp,
  udp6,
  unix_domain,
  raw,  ///< listed only: udp's layout, the IP protocol in the local port column
  raw6,
  packet,   ///< listed only (net/packet/af_packet.c packet_seq_show)
  netlink,  ///< listed only (net/netlink/af_netlink.c netlink_seq_show)
};
inline constexpr std::size_t socket_file_count = 9;

/// The file's name under <proc root>/net/.
std::string_view file_name(socket_file f) noexcept;

/// What one file held.
struct file_stats {
  std::uint64_t rows = 0;        ///< sockets counted or appended
  std::uint64_t duplicates = 0;  ///< rows dropped as repeats across read() boundaries
  std::uint64_t skipped = 0;     ///< malformed lines left out (and so not counted)
  /// `skipped` by file, indexed by socket_file, where several files were read.
  std::array<std::uint64_t, socket_file_count> skipped_in{};

  file_stats& operator+=(const file_stats& o) noexcept {
    rows += o.rows;
    duplicates += o.duplicates;
    skipped += o.skipped;
    for (std::size_t i = 0; i < skipped_in.size(); ++i) skipped_in[i] += o.skipped_in[i];
    return *this;
  }
};

/// Parses one socket file, fed the bytes of each read() in order. seq_file restarts its walk at
/// every read() and may repeat the rows that ended the previous read when sockets come and go;
/// a row whose tuple and inode were among the previous read's last 8 rows is dropped when it
/// opens the next read (repeats come only from sockets inserted into the one hash bucket the
/// walk resumes in, between two reads). Lines may span reads. The first line must be the file's
/// header.
///
/// Counting checks every field a listing reads, so a malformed line is left out (and counted
/// in `skipped`) alike whether the file is counted or listed. Rows carry what /proc shows:
/// addresses, ports, state, queues, uid and inode for TCP and UDP (a listener's Send-Q is 0 here:
/// /proc does not show the backlog); type, state, inode and path for UNIX (state from the Flags and
/// St columns: TCP_LISTEN, TCP_ESTABLISHED or TCP_CLOSE, as sock_diag reports them).
class socket_file_parser {
 public:
  /// Counts a TCP or UDP file's sockets by state into `counts` (the file's family).
  socket_file_parser(socket_file f, state_counts& counts) noexcept;
  /// Counts /proc/net/unix by type and state.
  explicit socket_file_parser(unix_counts& counts) noexcept;
  /// Appends one row per socket (any file). Appending may allocate: see finish().
  socket_file_parser(socket_file f, socket_table& rows) noexcept;

  /// The bytes of one read(), in order. Errors: errc::parse_error if the header is not the
  /// file's; std::errc::not_enough_memory if a row could not be appended.
  std::error_code feed(std::string_view bytes) noexcept;
  /// End of file: a last line without its newline is counted as skipped.
  std::error_code finish() noexcept;
  const file_stats& stats() const noexcept { return stats_; }

 private:
  struct key {
    address_bytes local{}, peer{};
    std::uint16_t local_port = 0, peer_port = 0;
    std::uint64_t inode = 0;
    friend bool operator==(const key&, const key&) = default;
  };
  static constexpr std::size_t window = 8;
  static constexpr std::size_t max_line = 512;

  // Handles one complete line (without '\n'); `checking` means it opens a new read.
  std::error_code line(std::string_view l, bool& checking) noexcept;
  bool parse_key(std::string_view l, key& k) const noexcept;
  bool in_window(const key& k) const noexcept;
  void remember(const key& k) noexcept;

  socket_file file_;
  state_counts* counts_ = nullptr;
  unix_counts* unix_counts_ = nullptr;
  socket_table* rows_ = nullptr;
  file_stats stats_;
  bool header_done_ = false;
  bool carry_too_long_ = false;
  std::size_t carry_len_ = 0;
  std::array<char, max_line> carry_{};
  // Keys of the previous read's last rows, oldest overwritten first.
  std::array<key, window> window_{};
  std::size_t window_size_ = 0, window_next_ = 0;
  // Lines of the current read whose keys will form the next window (views into the feed).
  std::array<std::string_view, window> tail_{};
  std::size_t tail_size_ = 0, tail_next_ = 0;
};

}  // namespace ssfast::proc
