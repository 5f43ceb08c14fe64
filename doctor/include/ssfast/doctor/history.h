// SPDX-License-Identifier: Apache-2.0
// Samples for the history (`ssfast record`, core/history.h): what one sample holds, taken
// through the collector, and the doctor's sysctls as the records keep them.
#pragma once

#include <cstddef>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "ssfast/core/history.h"
#include "ssfast/doctor/doctor.h"
#include "ssfast/ssfast.h"

namespace ssfast {

/// One sample of `c`'s namespace into `out` (its `netns` is the caller's to set: the
/// collector does not know its namespace's inode): the time (UTC), the boot id (read from
/// `proc_root`/sys/kernel/random/boot_id; zero when unreadable), TCP by state and family,
/// UDP connected or not, UNIX by type, the kernel's counters and sockstat levels, the sysctls
/// the doctor reads, and the `max_listeners` fullest listeners (accept queue over backlog,
/// then half-open; SO_REUSEPORT siblings of an address summed). Costs one count, a counter
/// read, the sysctls, and one listing of LISTEN sockets (the listening hash only); only when
/// the count saw SYN_RECV does the listing take the request sockets too (a walk of the
/// established hash, few messages), so each listener's half-open count is known then and
/// left empty otherwise (none to know). Errors: the collector's. Allocates.
SSFAST_API std::error_code take_history_sample(collector& c, std::size_t max_listeners,
                                               const std::string& proc_root, history_sample& out);

/// The doctor's sysctls as a record keeps them, by name and in name order:
/// ("net.ipv4.tcp_mem", "381969 509294 763938"); an unread one is left out.
SSFAST_API std::vector<std::pair<std::string, std::string>> history_sysctls(
    const doctor_sysctls& s);

/// The reverse: what a record's sysctls say of the doctor's (a name it does not know, or a
/// value that is not its numbers, is left empty).
SSFAST_API doctor_sysctls
doctor_sysctls_of(const std::vector<std::pair<std::string, std::string>>& kept);

}  // namespace ssfast
