// SPDX-License-Identifier: Apache-2.0
// Writing one report of `-s --watch` on a pipe: a line of counts, changes and rates per report,
// or a JSON object per line.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
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
};

/// Appends "TIME ESTABLISHED=N(+D) ... Tcp.ActiveOpens/s=R ..." and a newline: every netstat
/// state with its change when TCP was counted (else UDP= and UNIX= totals), then each rate with
/// one decimal ("-" when unknown). Allocates only to grow `out`.
SSFAST_API void render_watch_line(const watch_report& r, std::string& out);

/// Appends {"time", "interval_s", "elapsed_s", "source", ["tcp": {STATE: {"count", "change"}}],
/// ["udp"], ["unix"], "rates_per_s": {NAME: rate or null}} and a newline; what was not counted
/// is left out, never reported as 0. Allocates only to grow `out`.
SSFAST_API void render_watch_json(const watch_report& r, std::string& out);

}  // namespace ssfast
