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
/// the exporter) on recorded samples, one record at a time, in order: each record's flags for
/// the table, and notes over all of them. Keeps per rule, not per record.
class SSFAST_API history_flagger {
 public:
  /// Judges `r` on its interval: the ids of the rules that fired, warning and worse, each
  /// once ("syn_flood! accept_queue_full", '!' critical), "" for none.
  std::string judge(const history_record& r);
  /// What judge() found on the last record, worst first.
  const std::vector<finding>& last_findings() const noexcept { return last_; }
  /// A rule not run on some record: its id, what it needs and why (as first seen), and on
  /// how many records; in the doctor's rule order.
  struct unjudged {
    rule_not_run rule;
    std::size_t records = 0;
  };
  std::vector<unjudged> not_run() const;
  /// The notes: each rule that fired (its worst severity, on how many samples, the first and
  /// last time, the last summary), or that none did; the rules not evaluated, grouped by why,
  /// on how many samples. Times as the table shows them (history_time).
  std::vector<std::string> notes(history_clock clock, bool dated) const;

 private:
  struct fired {
    severity worst = severity::warning;
    std::size_t samples = 0;
    std::int64_t first_ms = 0, last_ms = 0;
    std::string last_summary;
  };
  std::vector<std::pair<std::string, fired>> fired_;  // in the order first fired
  std::vector<unjudged> not_run_;                     // in the order first met
  std::vector<finding> last_;
  std::size_t records_ = 0;
};

}  // namespace ssfast
