// SPDX-License-Identifier: Apache-2.0
// `ssfast check`: Nagios/Icinga plugin thresholds over the socket summary, and the plugin's run.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ssfast/core/export.h"
#include "ssfast/core/socket_summary.h"
#include "ssfast/ssfast.h"

namespace ssfast::serve {

/// A plugin range (Nagios plugin guidelines): "10" alerts outside 0..10, "10:" below 10, "~:10"
/// above 10, "10:20" outside 10..20, "@10:20" inside 10..20.
struct plugin_range {
  double lo = 0, hi = 0;
  bool lo_infinite = false, hi_infinite = false;
  bool inside = false;  ///< '@': alert inside the range instead of outside
  std::string text;     ///< as given, for perfdata
};

/// Parses a range; an empty string on success, else why not.
SSFAST_API std::string parse_range(std::string_view s, plugin_range& out);

/// True if `v` should alert under `r`.
SSFAST_API bool alerts(const plugin_range& r, double v) noexcept;

struct threshold {
  std::string metric;
  plugin_range range;
};

/// Parses "metric=RANGE[,metric=RANGE...]" into `out`; an empty string on success.
SSFAST_API std::string parse_thresholds(std::string_view s, std::vector<threshold>& out);

/// The metrics a threshold may name, with their values: the TCP states (established,
/// syn_sent, syn_recv, fin_wait1, fin_wait2, time_wait, close, close_wait, last_ack, listen,
/// closing), totals (tcp, udp, unix) and kernel counters (orphan, tw, tcp_inuse, tcp_mem,
/// curr_estab) when readable.
SSFAST_API std::vector<std::pair<std::string, double>> check_metrics(const socket_summary& s,
                                                                     const kernel_counters* k);

/// A plugin's status, which is its exit code (Nagios plugin guidelines).
enum class plugin_status : int { ok = 0, warning = 1, critical = 2, unknown = 3 };

/// What a plugin run says: its status and the first line it prints (no newline).
struct check_verdict {
  plugin_status status = plugin_status::unknown;
  std::string line;
};

/// The verdict on `metrics`: `SSFAST OK|WARNING|CRITICAL - text | perfdata`. Every threshold's
/// metric must be among `metrics` (else UNKNOWN, naming it).
/// `subjects` names what a metric is about ("listen_queue" -> "127.0.0.1:80"): an alert on it
/// says "listen_queue 125 on 127.0.0.1:80 (critical range 90)".
SSFAST_API check_verdict
evaluate(const std::vector<threshold>& warn, const std::vector<threshold>& crit,
         const std::vector<std::pair<std::string, double>>& metrics,
         const std::vector<std::pair<std::string, std::string>>& subjects = {});

/// The whole plugin run: counts `scope` through `c`, reads the counters (missing counters
/// leave their metrics out) and evaluates. Listener metrics, measured only when a threshold
/// names one (they cost a listing of LISTEN and SYN_RECV, which walks the established hash):
/// listen_queue, the fullest listener's accept queue in percent of its backlog, and
/// syn_queue, the fullest SYN queue in percent of the limit the kernel applies to it (the
/// doctor's syn_queue_limit_of). Rates per second over `interval_s`, measured (and waited
/// for) only when a threshold names one: listen_overflows, listen_drops, syn_drops
/// (ListenDrops - ListenOverflows: every SYN dropped at a listener) and syncookies_sent.
/// A count that fails is UNKNOWN with collector::error_text() as the text. Allocates;
/// syscalls as collector::count.
SSFAST_API check_verdict check_sockets(collector& c, const count_scope& scope, count_method method,
                                       const std::vector<threshold>& warn,
                                       const std::vector<threshold>& crit, double interval_s = 1);

/// The plugin run for the sockets `q` selects (one service: "sport = :443"), counted with
/// the kernel applying the filter (collector::count with a query). Its metrics are the
/// matching sockets' states and totals; the kernel counters (orphan, tw, ...) are the whole
/// namespace's, so a threshold on one is UNKNOWN. The text part names `filter`.
/// listen_queue and syn_queue are the selected listeners', listen_drops the sum of their own
/// drop counters (SK_MEMINFO_DROPS); the namespace's other rates are UNKNOWN.
SSFAST_API check_verdict check_sockets(collector& c, const socket_query& q, std::string_view filter,
                                       const std::vector<threshold>& warn,
                                       const std::vector<threshold>& crit, double interval_s = 1);

}  // namespace ssfast::serve
