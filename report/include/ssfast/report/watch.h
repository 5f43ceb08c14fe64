// SPDX-License-Identifier: Apache-2.0
// Writing one report of `-s --watch` on a pipe: a line of counts, changes and rates per report,
// or a JSON object per line.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ssfast/core/counter_ids.h"
#include "ssfast/core/export.h"
#include "ssfast/core/socket_summary.h"
#include "ssfast/core/state_counts.h"

namespace ssfast {

/// The counters whose per-second rates --watch shows (the line, JSON and the live view), as
/// /proc names them.
inline constexpr std::array<counter_id, 8> watch_rate_counters = {
    counter_id::tcp_active_opens, counter_id::tcp_passive_opens, counter_id::tcp_attempt_fails,
    counter_id::tcp_estab_resets, counter_id::tcp_retrans_segs,  counter_id::listen_overflows,
    counter_id::listen_drops,     counter_id::tcp_timeouts};

/// The watched counters' values at one read, in watch_rate_counters' order.
using watched_counters = std::array<std::optional<std::int64_t>, watch_rate_counters.size()>;

/// A finding of the doctor's rules on the interval a --watch report covers, as written.
struct watch_finding {
  std::string_view id;        ///< syn_flood, close_wait_leak, ...
  std::string_view severity;  ///< warning, critical
  std::string_view subject;   ///< a listener, or empty for the namespace
  std::uint8_t state = 0;     ///< the TCP state it is about (TCP_* value), 0 for none
  std::string_view summary;
};

/// Two consecutive reports of --watch, as the later one is written.
struct watch_report {
  std::string_view time;    ///< "2026-11-29T21:22:07Z"
  double interval_s = 0;    ///< asked for
  double elapsed_s = 0;     ///< measured between the two counter reads: what rates divide by
  std::string_view source;  ///< "netlink" or "proc"
  count_scope scope;        ///< what was asked for: what the report shows
  const socket_summary& now;
  state_counts before, after;  ///< TCP per state
  /// Per second, in watch_rate_counters' order; unset when either read lacks the counter.
  std::array<std::optional<double>, watch_rate_counters.size()> rates;
  /// Whether the doctor's rules judged the interval (not with --estimate, not without TCP),
  /// and what they found, worst first.
  bool judged = false;
  std::span<const watch_finding> findings;
};

/// Appends "TIME ESTABLISHED=N(+D) ... Tcp.ActiveOpens/s=R ..." and a newline: every netstat
/// state with its change when TCP was counted (else UDP= and UNIX= totals), a '!' after a
/// state a finding is about, then each rate with one decimal ("-" when unknown), then, when
/// judged and something was found, " findings=ID/SEVERITY[/SUBJECT],..." (no spaces: awk
/// fields stay fields). Allocates only to grow `out`.
SSFAST_API void render_watch_line(const watch_report& r, std::string& out);

/// Appends {"time", "interval_s", "elapsed_s", "source", ["tcp": {STATE: {"count", "change",
/// "flagged"}}], ["udp"], ["unix"], "rates_per_s": {NAME: rate or null}, ["findings": [{"id",
/// "severity", "subject", "state", "summary"}]]} and a newline; what was not counted or judged
/// is left out, never reported as 0 or empty. Allocates only to grow `out`.
SSFAST_API void render_watch_json(const watch_report& r, std::string& out);

}  // namespace ssfast
