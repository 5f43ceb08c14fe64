// SPDX-License-Identifier: Apache-2.0
// The kernel's socket counters from /proc/net/sockstat, sockstat6 and snmp: a pure parser of
// each file's text and a reader under a configurable proc root.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "ssfast/core/socket_summary.h"

namespace ssfast::proc {

/// Called once per counter as (group, name, value), e.g. ("TCP", "inuse", 5) or
/// ("Tcp", "CurrEstab", 76).
using counter_visitor = void (*)(void* ctx, std::string_view group, std::string_view name,
                                 std::int64_t value);

/// sockstat form: `GROUP: name value name value ...` per line (sockstat, sockstat6). No
/// allocation. Errors: errc::parse_error on a line without ':' or a name without a number.
std::error_code parse_sockstat(std::string_view text, counter_visitor visit, void* ctx) noexcept;

/// snmp form: a line of names `GROUP: n1 n2 ...` followed by a line of values `GROUP: v1 v2 ...`
/// (snmp, netstat). No allocation. Errors: errc::parse_error when a value line does not match
/// its name line (group or column count).
std::error_code parse_snmp(std::string_view text, counter_visitor visit, void* ctx) noexcept;

/// snmp6 form: `NameValue` lines such as `Ip6InReceives 12` (snmp6); reported with the group
/// split off (Ip6, Icmp6, Udp6, UdpLite6, ...): ("Ip6", "InReceives", 12). No allocation.
/// Errors: errc::parse_error on a line that is not a name and a number.
std::error_code parse_snmp6(std::string_view text, counter_visitor visit, void* ctx) noexcept;

/// Fills the fields of `out` that `group`/`name` names; ignores any other counter.
void assign_counter(kernel_counters& out, std::string_view group, std::string_view name,
                    std::int64_t value) noexcept;

/// Reads whole small files under a proc root ("/proc" by default) into one reused buffer.
/// Allocates only when a file is larger than any before. Not thread-safe.
/// The most file_reader::read takes: counter and sysctl files are a few KiB.
inline constexpr std::size_t max_counter_file = std::size_t{1} << 20;

class file_reader {
 public:
  explicit file_reader(std::string proc_root = "/proc");
  /// Reads `<root>/<relative>` (e.g. "net/sockstat"); the view is valid until the next read.
  /// Only a regular file (errc::not_a_regular_file), of at most max_counter_file bytes
  /// (EFBIG). Errors: the open()/read() errno.
  std::error_code read(std::string_view relative, std::string_view& text) noexcept;

  /// Receives the bytes of each read() of a streamed file.
  using chunk_fn = std::error_code (*)(void* ctx, std::string_view bytes) noexcept;
  /// Streams `<root>/<relative>` to `fn`, one call per read() of up to 64 KiB (seq_file files
  /// give about a page per read), uncapped (socket tables grow with the host). Only a regular
  /// file. Stops at the first error `fn` returns. Errors: the open()/read() errno, or fn's.
  std::error_code stream(std::string_view relative, chunk_fn fn, void* ctx) noexcept;
  const std::string& root() const noexcept { return root_; }

 private:
  std::error_code open_file(std::string_view relative, int& fd) noexcept;

  std::string root_;
  std::string path_;
  std::vector<char> buf_;
};

/// Reads net/sockstat, net/sockstat6 and net/snmp under the reader's root into `out` (cleared
/// first). sockstat6 is absent on kernels without IPv6 and is then skipped. Errors: the first
/// file that cannot be read or parsed, with `failed` set to its relative path.
std::error_code read_kernel_counters(file_reader& files, kernel_counters& out,
                                     std::string_view& failed) noexcept;

/// A counter with its full name, "Tcp.ActiveOpens", "TcpExt.ListenDrops", "TCP.inuse".
struct named_counter {
  std::string name;
  std::int64_t value = 0;
};

/// Reads every counter of net/snmp, net/netstat, net/snmp6, net/sockstat and net/sockstat6
/// under the reader's root, in that order (snmp6 and sockstat6 skipped when absent). Allocates
/// the names. Errors: as read_kernel_counters, with `failed` set.
std::error_code read_all_counters(file_reader& files, std::vector<named_counter>& out,
                                  std::string_view& failed);

}  // namespace ssfast::proc
