// SPDX-License-Identifier: Apache-2.0
// The /proc source's I/O shell: streams /proc/net/{tcp,tcp6,udp,udp6,unix} under a proc root
// through the socket file parser.
#pragma once

#include <string_view>
#include <system_error>

#include "ssfast/core/socket_summary.h"
#include "ssfast/core/socket_table.h"
#include "ssfast/proc/counters.h"
#include "ssfast/proc/socket_files.h"

namespace ssfast::proc {

/// Counts or lists sockets from <root>/net/ files, one file per protocol and family asked for
/// (tcp6 and udp6 may be absent on a kernel without IPv6: no file, no sockets). Reuses the
/// reader's buffer: no allocation once warm when counting. Errors: a file that cannot be opened
/// or read (errno), a file that is not a socket table (errc::parse_error); `failed` names it.
/// Malformed lines and repeated rows are not errors: they are left out and reported in
/// `stats`.
std::error_code count_sockets(file_reader& files, const count_scope& scope, socket_summary& out,
                              file_stats& stats, std::string_view& failed) noexcept;

std::error_code snapshot_sockets(file_reader& files, const count_scope& scope, socket_table& out,
                                 file_stats& stats, std::string_view& failed) noexcept;

}  // namespace ssfast::proc
