// SPDX-License-Identifier: Apache-2.0
// The commands of the ssfast binary, one file each, and the few helpers they share: writing
// the output, one-line errors, the clock of --watch.
#pragma once

#include <time.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "options.h"
#include "ssfast/all_netns.h"
#include "ssfast/report/screen.h"
#include "ssfast/report/watch.h"
#include "ssfast/ssfast.h"

namespace ssfast::cli {

/// Writes "ssfast: MSG" and a newline to stderr; returns `code`.
int fail(int code, std::string_view msg);

/// Writes `s` to stdout and flushes; exit_failure (said on stderr) if it could not.
int write_out(std::string_view s);

/// "2026-11-29T21:22:07Z".
std::string utc_now();

/// CLOCK_MONOTONIC in seconds: what rates divide by is the time measured between two reads,
/// not the interval asked for (a stopped process, a slow report).
double monotonic_seconds();

/// Moves `deadline` (CLOCK_MONOTONIC) one interval on; one already past skips ahead to the
/// first deadline of the same grid after now, so missed reports are not made up in a burst.
void advance_deadline(timespec& deadline, double interval);

/// Nanoseconds from now (CLOCK_MONOTONIC) to `deadline`; 0 or less once it has passed.
long long ns_until(const timespec& deadline);

/// Waits until `deadline`, or less when `wake_fd` (>= 0) polls readable first.
void wait_until(const timespec& deadline, int wake_fd = -1);

/// Sleeps until `deadline` moved one interval on: reports do not drift by the time each takes.
/// Early when `wake_fd` (collector::exit_fd()) polls readable first: the caller's next call
/// says why.
void sleep_until(timespec& deadline, double interval, int wake_fd = -1);

/// The reports of a command that may --watch: one without --watch; with it, o.count (0: until
/// interrupted), each after sleeping until its absolute deadline, so reports do not drift.
///   for (report_clock clock(o); clock.next();) { ... clock.report() ... }
class report_clock {
 public:
  /// `wake_fd`: collector::exit_fd(), which ends a wait early (the next report then fails).
  explicit report_clock(const options& o, int wake_fd = -1);
  /// Waits for the next report's deadline (not before the first); false once all were made.
  bool next();
  std::uint64_t report() const noexcept { return report_; }

 private:
  double interval_;
  std::uint64_t reports_;  // 0: no end
  std::uint64_t report_ = 0;
  int wake_fd_;
  timespec deadline_{};
};

/// What --all-netns and top netns ask of count_all_netns: the scope, --threads, --netns-owner.
all_netns_options all_netns_options_of(const options& o);

/// count_all_netns for --all-netns and top netns, saying on stderr how many processes'
/// namespaces could not be seen; false (said) when /proc itself could not be read.
bool count_every_netns(const all_netns_options& ao, std::vector<netns_count>& ns);

/// The counters --watch shows rates of (watch_rate_counters), read once; all unset when the
/// counter files cannot be read.
watched_counters read_watched(collector& c);

/// Each watched counter's change per second between two read_watched() reads `seconds` apart;
/// unset where either read lacks it.
std::array<std::optional<double>, watch_rate_counters.size()> watch_rates(
    const watched_counters& before, const watched_counters& now, double seconds);

/// Says on stderr, one line per file, the malformed /proc lines the collector's last call left
/// out (collector::malformed_lines); nothing when there were none. The exit status is not
/// changed by them.
void say_malformed(const collector& c);

/// The filter as typed, its words joined by spaces: the label of a filtered report.
std::string filter_text(const options& o);

/// A listing's filter and query from the options; false with the error line.
bool build_query(const options& o, socket_filter& f, socket_query& q, std::string& err);

/// Scans /proc/*/fd for -p, saying on stderr what could not be read; false if nothing could.
bool scan_owners(const options& o, process_owners& owners);

/// A listing that failed: a filter too large for the kernel is the user's to shorten (exit 2);
/// anything else is a failure of the source (exit 1).
int list_failed(const collector& c, std::error_code ec);

// The commands that read sockets, each given the collector main opened for it.
int run_list(collector& c, const options& o);
int run_summary(collector& c, const options& o);
int run_top(collector& c, const options& o);
int run_counters(collector& c, const options& o);
int run_check(collector& c, const options& o);
int run_exporter(collector& c, const options& o);
int run_agent(collector& c, const options& o);
int run_doctor(collector& c, const options& o);
/// ssfast record: samples appended to the history's day files until stopped (or --count N).
int run_record(collector& c, const options& o);
/// ssfast history: the recorded samples of a time range, as a table, CSV or JSON Lines.
int run_history(const options& o);

/// The inode of the network namespace read: the one named (--netns, -N), else this
/// process's own; 0 when it cannot be said. It tells one namespace's recorded samples from
/// another's.
std::uint64_t netns_inode(const options& o);

/// What the terminal on stdout can show: its size (80x24 when it does not say), block
/// characters when the locale is UTF-8, colour unless NO_COLOR or TERM=dumb.
terminal_caps measure_terminal();

/// -s --watch and top KEY --watch on a terminal: the full-screen view (keys q, space, s, t;
/// resizes redrawn; the terminal given back on every way out). 128 + the signal if one ended it.
int run_watch_screen(collector& c, const options& o);

// The command that reads nothing.
int run_states(const options& o);

/// check: arms the plugin's hard timeout (SIGALRM answers UNKNOWN and exits 3).
void arm_check_timeout(double seconds);
/// check: prints "SSFAST UNKNOWN - WHY"; returns 3.
int check_unknown(std::string_view why);

}  // namespace ssfast::cli
