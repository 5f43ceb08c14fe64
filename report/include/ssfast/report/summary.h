// SPDX-License-Identifier: Apache-2.0
// Renderers for the socket summary: text for people and awk, JSON for machines.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "ssfast/core/export.h"
#include "ssfast/core/grouping.h"
#include "ssfast/core/socket_summary.h"
#include "ssfast/report/json_writer.h"
#include "ssfast/ssfast.h"

namespace ssfast {

/// Everything `ssfast -s` reports, by reference.
struct summary_report {
  const socket_summary& sockets;
  source_kind source;                ///< which source answered
  std::string_view fallback_reason;  ///< why not netlink, when it fell back; else empty
  const kernel_counters* counters;   ///< null when the counters could not be read
  std::string_view counters_error;   ///< why, when counters is null
  /// The filter the sockets were selected by, as given ("sport = :443"); empty: every socket.
  /// Said in the text's Sockets line and as JSON "filter": the counts are not the host's.
  std::string_view filter = {};
};

/// Appends the text report: first one `STATE COUNT` line per TCP state with sockets, largest
/// first, in netstat's names (the shape of `netstat -ant | awk '{++S[$NF]} END ...'`), and a
/// blank line that ends that section even when it has no line (so the output may begin with
/// one); then totals per protocol and family; then the kernel counters, labelled.
/// Allocates only to grow `out`.
SSFAST_API void render_summary_text(const summary_report& r, std::string& out);

/// Appends the report as one JSON object and a newline. Keys: source, tcp{total, states (all
/// eleven netstat names, zeros included), ipv4, ipv6}, udp{total, ...}, unix{total, ...},
/// counters (null when unreadable, with counters_error); with the /proc source, proc
/// {skipped_lines, duplicate_rows}, with netlink, netlink{repeats_dropped}; after a fallback,
/// fallback_reason; with TCP, method ("derived": ESTABLISHED from the kernel's gauges, see
/// count_method::derived; "walk": every socket's message; "estimate") and, when a derivation was
/// asked for but the sockets were walked, walked_because; with --estimate, estimate
/// {established, curr_estab, close_wait} (or {established: null, not_used}) and no per-family
/// TCP objects when estimated. Allocates only to grow `out`.
SSFAST_API void render_summary_json(const summary_report& r, std::string& out);

/// Appends the report in Prometheus text exposition format (0.0.4), every series with HELP
/// and TYPE: ssfast_tcp_sockets{family,state} (all eleven states, zeros included, and
/// state="other" for values netstat has no name for when there are any; with an estimate,
/// ssfast_tcp_established_estimate instead of per-family ESTABLISHED),
/// ssfast_udp_sockets{family,connected}, ssfast_unix_sockets{type},
/// ssfast_tcp_count_method_info{method} with TCP, ssfast_source_info{source},
/// the sockstat counters as ssfast_sockstat{protocol,counter}, ssfast_tcp_curr_estab, and from
/// `kernel` (name/value pairs such as ("Tcp.ActiveOpens", 12), may be empty) the TCP counters
/// people watch, as ssfast_<group>_<field>_total counters in snake case. Allocates for `out`.
SSFAST_API void render_summary_prometheus(
    const summary_report& r, std::span<const std::pair<std::string, std::int64_t>> kernel,
    std::string& out);

/// Writes the "tcp" (and "estimate"), "udp" and "unix" members of -s's JSON object for what
/// `s.scope` counted, into an object `w` has open: the same keys wherever sockets are reported
/// (one namespace or each of many).
SSFAST_API void write_summary_sockets(json_writer& w, const socket_summary& s);

enum class summary_format { text, json, prometheus };

/// Appends `d` (collect_summary's) in `format`: what `ssfast -s`, its --textfile and the
/// exporter's /metrics write. `filter`: the text of the query it was counted by, or empty.
/// Allocates for `out`.
SSFAST_API void render_summary(const summary_data& d, summary_format format,
                               std::string_view filter, std::string& out);

/// `-s -i`'s section: per TCP state with tcp_info, the sockets, the RTT's p50, p90, p99 (from
/// the log histogram) and max (exact) in ms, retransmissions over the sockets' lives and the
/// sockets retransmitting now. Text: a titled table after the summary's text; JSON: the
/// member "tcp_info": {STATE: {sockets, rtt_samples, rtt_p50_us, rtt_p90_us, rtt_p99_us,
/// rtt_max_us (null without a sample; "-" in text), total_retrans, retransmitting}}, to be
/// spliced into the summary's object.
SSFAST_API void render_tcp_info_text(const tcp_info_by_state& t, std::string& out);
SSFAST_API void render_tcp_info_json(const tcp_info_by_state& t, std::string& out);

}  // namespace ssfast
