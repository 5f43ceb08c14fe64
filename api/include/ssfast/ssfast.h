// ssfast: the library an embedder links. A collector opened once counts and lists the sockets
// of its network namespace many times, over netlink sock_diag.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "ssfast/core/error.h"
#include "ssfast/core/socket_table.h"
#include "ssfast/core/state_counts.h"
#include "ssfast/core/summary.h"
#include "ssfast/core/tcp_state.h"

namespace ssfast {

/// Which source answered.
enum class source_kind : std::uint8_t { netlink, proc };

/// "netlink" or "proc".
std::string_view to_string(source_kind s) noexcept;

/// The library's version, "MAJOR.MINOR.PATCH".
std::string_view version() noexcept;

struct collector_options {
  /// Where /proc is mounted; the kernel counters are read from <proc_root>/net/.
  std::string proc_root = "/proc";
  /// Longest wait for one netlink datagram before a dump fails with ETIMEDOUT.
  std::chrono::milliseconds netlink_timeout{10000};
};

/// Counts and lists sockets. Owns one sock_diag socket, one 32 KiB receive buffer and one file
/// buffer, reused by every call; answers for the network namespace of the thread that opened
/// it. Movable; not thread-safe (use one collector per thread).
class collector {
 public:
  /// Opens the sock_diag socket and allocates the buffers. Needs no privilege. Errors: the
  /// socket()/bind() errno (EPROTONOSUPPORT without sock_diag, EACCES/EPERM under a policy).
  static result<collector> open(const collector_options& options = {}) noexcept;

  collector(collector&&) noexcept;
  collector& operator=(collector&&) noexcept;
  ~collector();

  /// Counts sockets per state, protocol and family over `scope`: one netlink dump per protocol
  /// and family asked for (TCP and UDP per family, UNIX once), no extensions, reading only each
  /// message's family and state bytes. Request sockets (SYN_RECV) and TIME_WAIT minisockets
  /// count. No allocation once open; one sendto and ~n/300 recvmsg calls per dump. On error
  /// `out` is incomplete and error_context() names the dump that failed.
  std::error_code count(socket_summary& out, const count_scope& scope = {}) noexcept;

  /// Replaces `out`'s rows with every socket in `scope`, one row per netlink message. Allocates
  /// only as `out` grows past its capacity. Errors as count(), plus ENOMEM.
  std::error_code snapshot(socket_table& out, const count_scope& scope = {}) noexcept;

  /// Reads the kernel's counters (/proc/net/sockstat, sockstat6, snmp). Errors: the errno of a
  /// file that cannot be read, errc::parse_error for one that cannot be parsed; see
  /// error_context(). No allocation once warm.
  std::error_code read_counters(kernel_counters& out) noexcept;

  /// The source that answers count() and snapshot().
  source_kind source() const noexcept;

  /// What the last failed call was doing ("TCP/IPv6 dump", "net/snmp", ...); empty after
  /// success. Static storage.
  std::string_view error_context() const noexcept;

 private:
  struct impl;
  explicit collector(std::unique_ptr<impl> p) noexcept;
  std::unique_ptr<impl> impl_;
};

}  // namespace ssfast
