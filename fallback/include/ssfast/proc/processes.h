// SPDX-License-Identifier: Apache-2.0
// Which processes hold which sockets: one scan of /proc/[pid]/fd, shared by every lookup.
#pragma once

#include <boost/container/flat_map.hpp>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace ssfast::proc {

/// One descriptor that refers to a socket.
struct socket_owner {
  std::uint32_t pid = 0;
  std::int32_t fd = -1;
  std::uint32_t tid = 0;  ///< the thread whose table was read (a scan per thread); 0 otherwise
};

/// Socket inode -> owners, built by one scan. Lookups are O(1) (open addressing) and allocate
/// nothing. Not thread-safe while scanning; const lookups are.
class process_index {
 public:
  /// Scans <proc_root>/[0-9]*/fd on `threads` threads: readlinkat() of each symlink entry
  /// (d_type, no stat), "socket:[N]" kept; then /proc/PID/comm of each owner. Processes that
  /// exit meanwhile are skipped; a process whose fd directory cannot be opened (EACCES without
  /// privilege) is counted in unreadable(). Allocates the index. Errors: <proc_root> itself
  /// cannot be read.
  /// With `per_thread` (ss -T), every thread's /proc/PID/task/TID/fd is read instead, each
  /// socket it finds one owner with its tid (threads sharing a table list it each, as ss does).
  std::error_code scan(const std::string& proc_root, unsigned threads, bool per_thread = false);

  /// Every (pid, fd) holding `inode`, by pid then fd (per thread: by pid, tid descending as ss
  /// lists them, then fd); empty for inode 0 or an unknown one.
  std::span<const socket_owner> owners(std::uint64_t inode) const noexcept;
  /// The command name of `pid` or of a thread's tid (from /proc/ID/comm), or empty if it was
  /// not readable.
  std::string_view comm(std::uint32_t pid) const noexcept;

  std::size_t processes() const noexcept { return processes_; }
  std::size_t unreadable() const noexcept { return unreadable_; }
  std::size_t socket_fds() const noexcept { return entries_.size(); }

 private:
  void build_index();
  void read_comms(int root);
  struct entry {
    std::uint64_t inode;
    socket_owner owner;
  };
  struct slot {
    std::uint64_t inode = 0;  // 0: empty (socket inodes are never 0)
    std::uint32_t begin = 0, count = 0;
  };
  struct comm_ref {
    std::uint32_t offset, length;  // in comm_text_
  };

  std::vector<entry> entries_;  // sorted by inode, then pid, fd
  std::vector<socket_owner> owners_;
  std::vector<slot> table_;
  // pid -> its name: a sorted vector (filled in pid order, so each insert is an append),
  // one allocation, binary search; Boost.Container's flat_map is exactly that.
  boost::container::flat_map<std::uint32_t, comm_ref> comms_;
  std::string comm_text_;
  std::size_t processes_ = 0, unreadable_ = 0;
};

}  // namespace ssfast::proc
