// SPDX-License-Identifier: Apache-2.0
// Samples for the history (`ssfast record`, core/history.h): what one sample holds, taken
// through the collector, the doctor's sysctls as the records keep them, and the doctor's
// rules judged on recorded samples (`ssfast history` on a terminal).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "ssfast/core/history.h"
#include "ssfast/doctor/doctor.h"
#include "ssfast/report/history_view.h"
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

/// The doctor's evidence as a record keeps it, over the interval since the recorder's
/// previous sample: the counts, the counters (before = after less the change; a counter that
/// was reset has no before), the sysctls, the fullest listeners (SO_REUSEPORT siblings summed
/// into one, as recorded). What a record does not keep is said in `unreadable`, so
/// rules_not_run() names the rules that cannot be judged on it: what only a listing by socket
/// identity gives (ephemeral_groups, close_wait_persisting, fin_wait2_orphaned) always, the
/// counters' changes on a run's first record, the sysctls before a keyframe. Allocates.
SSFAST_API doctor_evidence history_evidence(const history_record& r);

/// The doctor's rules (diagnose(), the same rules as `ssfast doctor`, the live view, check and
/// the exporter) on each record.
struct history_judgement {
  std::vector<std::vector<finding>> findings;  ///< per record: warning and worse
  struct unjudged {
    rule_not_run rule;        ///< as first seen
    std::size_t records = 0;  ///< on how many records it could not run
  };
  std::vector<unjudged> not_run;  ///< in the doctor's rule order
};
SSFAST_API history_judgement judge_history(std::span<const history_record> rows);

/// The judgement for the table (report/history_view.h): per row the ids of the rules that
/// fired ("syn_flood! accept_queue_full", '!' critical), and notes: each rule that fired (its
/// severity, on how many samples, the first and last time, the last summary), or that none
/// did; the rules not evaluated, grouped by why, on how many samples.
SSFAST_API void history_flags(const history_judgement& j, std::span<const history_record> rows,
                              history_clock clock, history_extras& out);

}  // namespace ssfast
