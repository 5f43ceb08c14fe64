// SPDX-License-Identifier: Apache-2.0
// The socket summary in the Prometheus text exposition format (0.0.4).
#include <string>
#include <string_view>

#include "counter_groups.h"
#include "prometheus_text.h"
#include "ssfast/core/counter_ids.h"
#include "ssfast/core/kernel_abi.h"
#include "ssfast/core/tcp_state.h"
#include "ssfast/report/exporter.h"
#include "ssfast/report/summary.h"

namespace ssfast {
namespace {

using report_detail::field_list;
using report_detail::for_each_counter_group;
using report_detail::metric_header;
using report_detail::sample;

// unix_counts::by_type is indexed by SOCK_* type.
using abi::sock_dgram;
using abi::sock_seqpacket;
using abi::sock_stream;

// "ListenOverflows" -> "listen_overflows", "TCPTimeouts" -> "tcp_timeouts".
std::string snake(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool upper = c >= 'A' && c <= 'Z';
    if (upper && i > 0) {
      const bool prev_lower = s[i - 1] >= 'a' && s[i - 1] <= 'z';
      const bool next_lower = i + 1 < s.size() && s[i + 1] >= 'a' && s[i + 1] <= 'z';
      const bool prev_upper = s[i - 1] >= 'A' && s[i - 1] <= 'Z';
      if (prev_lower || (prev_upper && next_lower)) out.push_back('_');
    }
    out.push_back(upper ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return out;
}

// The kernel counters the exporter carries, all monotonic: what the watch mode's rates show
// and the few that explain them.
constexpr counter_id exported_counters[] = {
    counter_id::tcp_active_opens,    counter_id::tcp_passive_opens,
    counter_id::tcp_attempt_fails,   counter_id::tcp_estab_resets,
    counter_id::tcp_in_segs,         counter_id::tcp_out_segs,
    counter_id::tcp_retrans_segs,    counter_id::tcp_in_errs,
    counter_id::tcp_out_rsts,        counter_id::listen_overflows,
    counter_id::listen_drops,        counter_id::tcp_timeouts,
    counter_id::syncookies_sent,     counter_id::syncookies_recv,
    counter_id::syncookies_failed,   counter_id::tcp_abort_on_timeout,
    counter_id::tcp_abort_on_memory, counter_id::timewait_killed};

}  // namespace

void render_summary_prometheus(const summary_report& r,
                               std::span<const std::pair<std::string, std::int64_t>> kernel,
                               std::string& out) {
  const socket_summary& s = r.sockets;
  const count_scope& sc = s.scope;
  const bool estimated = s.estimate == socket_summary::estimate_status::estimated;
  const char* families[2] = {"ipv4", "ipv6"};
  std::string labels;
  auto lower = [](std::string_view n) {
    std::string l(n);
    for (char& c : l) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    return l;
  };
  if (sc.tcp) {
    metric_header(out, "ssfast_tcp_sockets", "gauge",
                  "TCP sockets by address family and state (netstat's state names).");
    for (std::size_t f = 0; f < 2; ++f) {
      if (f == 0 ? !sc.ipv4 : !sc.ipv6) continue;
      for (tcp_state st : netstat_states) {
        if (estimated && st == tcp_state::established) continue;  // not per family
        labels = "family=\"" + std::string(families[f]) + "\",state=\"" +
                 lower(netstat_name(static_cast<std::uint8_t>(st))) + "\"";
        sample(out, "ssfast_tcp_sockets", labels,
               static_cast<std::int64_t>(s.tcp[f].netstat_count(st)));
      }
      // A state value netstat has no name for (a newer kernel's): shown, not dropped.
      std::uint64_t named = 0;
      for (tcp_state st : netstat_states) named += s.tcp[f].netstat_count(st);
      if (const std::uint64_t other = s.tcp[f].total() - named; other != 0)
        sample(out, "ssfast_tcp_sockets",
               "family=\"" + std::string(families[f]) + "\",state=\"other\"",
               static_cast<std::int64_t>(other));
    }
    if (estimated) {
      metric_header(out, "ssfast_tcp_established_estimate", "gauge",
                    "ESTABLISHED TCP sockets, both families, estimated as /proc/net/snmp "
                    "CurrEstab minus the dumped CLOSE_WAIT.");
      sample(out, "ssfast_tcp_established_estimate", "",
             static_cast<std::int64_t>(s.established_estimate));
    }
  }
  if (sc.udp) {
    metric_header(out, "ssfast_udp_sockets", "gauge",
                  "UDP sockets by address family and whether they are connected.");
    for (std::size_t f = 0; f < 2; ++f) {
      if (f == 0 ? !sc.ipv4 : !sc.ipv6) continue;
      for (bool connected : {true, false}) {
        labels = "family=\"" + std::string(families[f]) + "\",connected=\"" +
                 (connected ? "true" : "false") + "\"";
        sample(out, "ssfast_udp_sockets", labels,
               static_cast<std::int64_t>(
                   s.udp[f][connected ? tcp_state::established : tcp_state::close]));
      }
    }
  }
  if (sc.unix_domain) {
    metric_header(out, "ssfast_unix_sockets", "gauge", "UNIX sockets by type.");
    for (auto [type, i] :
         {std::pair{"stream", sock_stream}, {"dgram", sock_dgram}, {"seqpacket", sock_seqpacket}})
      sample(out, "ssfast_unix_sockets", "type=\"" + std::string(type) + "\"",
             static_cast<std::int64_t>(s.unix_domain.by_type[i]));
  }
  if (sc.tcp) {
    metric_header(out, "ssfast_tcp_count_method_info", "gauge",
                  "How ESTABLISHED was counted: 1 for derived (from CurrEstab and sockstat inuse, "
                  "cross-checked), walk (a message per socket) or estimate.");
    sample(out, "ssfast_tcp_count_method_info", "method=\"" + std::string(s.method()) + "\"", 1);
  }
  metric_header(out, "ssfast_source_info", "gauge",
                "The source that answered: 1 for netlink sock_diag or the /proc/net files.");
  sample(out, "ssfast_source_info", "source=\"" + std::string(to_string(r.source)) + "\"", 1);
  if (r.counters != nullptr) {
    metric_header(out, "ssfast_sockstat", "gauge",
                  "The kernel's socket counters from /proc/net/sockstat and sockstat6 (mem in "
                  "pages); not socket counts of the histogram.");
    for_each_counter_group(*r.counters, [&](std::string_view group, field_list fields) {
      if (group == "Tcp") return;
      for (const auto& [name, v] : fields) {
        if (!v->has_value()) continue;
        sample(out, "ssfast_sockstat",
               "protocol=\"" + std::string(group) + "\",counter=\"" + std::string(name) + "\"",
               **v);
      }
    });
    if (r.counters->tcp_curr_estab) {
      metric_header(out, "ssfast_tcp_curr_estab", "gauge",
                    "/proc/net/snmp Tcp CurrEstab: ESTABLISHED plus CLOSE_WAIT (RFC 1213).");
      sample(out, "ssfast_tcp_curr_estab", "", *r.counters->tcp_curr_estab);
    }
  }
  for (const counter_id id : exported_counters) {
    const std::string_view want = counter_name(id);
    for (const auto& [name, v] : kernel) {
      if (name != want) continue;
      const std::size_t dot = name.find('.');
      const std::string metric = "ssfast_" + snake(std::string_view(name).substr(0, dot)) + "_" +
                                 snake(std::string_view(name).substr(dot + 1)) + "_total";
      const bool snmp = name.starts_with("Tcp.");
      metric_header(out, metric, "counter",
                    std::string(snmp ? "/proc/net/snmp " : "/proc/net/netstat ") + name + ".");
      sample(out, metric, "", v);
    }
  }
}

void render_exporter_prometheus(const exporter_counts& c, std::string& out) {
  metric_header(out, "ssfast_scrape_duration_seconds", "gauge",
                "How long this scrape took to collect.");
  report_detail::sample_fixed(out, "ssfast_scrape_duration_seconds", {}, c.scrape_seconds, 6);
  metric_header(out, "ssfast_exporter_scrapes_total", "counter",
                "Scrapes this exporter has answered.");
  sample(out, "ssfast_exporter_scrapes_total", {}, static_cast<std::int64_t>(c.scrapes));
  metric_header(out, "ssfast_exporter_scrape_errors_total", "counter",
                "Scrapes that failed to collect.");
  sample(out, "ssfast_exporter_scrape_errors_total", {}, static_cast<std::int64_t>(c.errors));
  metric_header(out, "ssfast_exporter_collections_total", "counter",
                "Collections made; scrapes waiting together share one.");
  sample(out, "ssfast_exporter_collections_total", {}, static_cast<std::int64_t>(c.collections));
}

void render_listeners_prometheus(std::span<const listener_series> l, std::size_t max,
                                 std::string& out) {
  using report_detail::label;
  const std::size_t n = std::min(l.size(), max);
  auto labels = [&](const listener_series& x) {
    std::string s;
    label(s, "family", x.family);
    label(s, "address", x.address);
    label(s, "port", std::to_string(x.port));
    return s;
  };
  struct column {
    std::string_view name, type, help;
    std::uint64_t listener_series::*field;
  };
  static constexpr column columns[] = {
      {"ssfast_listener_accept_queue", "gauge",
       "Connections waiting for accept() on the listener (its Recv-Q).",
       &listener_series::accept_queue},
      {"ssfast_listener_backlog", "gauge",
       "The listener's backlog: min(listen() backlog, somaxconn) taken at listen().",
       &listener_series::backlog},
      {"ssfast_listener_syn_recv", "gauge",
       "Half-open connections (request sockets) in the listener's SYN queue.",
       &listener_series::syn_recv},
      {"ssfast_listener_syn_limit", "gauge",
       "The SYN queue's limit as the kernel applies it (tcp_conn_request()).",
       &listener_series::syn_limit},
      {"ssfast_listener_drops_total", "counter",
       "Packets the listener dropped (SK_MEMINFO_DROPS: SYNs and ACKs it refused).",
       &listener_series::drops},
  };
  for (const column& c : columns) {
    metric_header(out, c.name, c.type, c.help);
    for (std::size_t i = 0; i < n; ++i)
      sample(out, c.name, labels(l[i]), static_cast<std::int64_t>(l[i].*c.field));
  }
  metric_header(out, "ssfast_listeners_omitted", "gauge",
                "Listeners left out of the ssfast_listener_* series (--max-listeners).");
  sample(out, "ssfast_listeners_omitted", {}, static_cast<std::int64_t>(l.size() - n));
}

void render_findings_prometheus(std::span<const finding_series> f, bool judged, std::string& out) {
  using report_detail::label;
  metric_header(out, "ssfast_finding", "gauge",
                "1 for each finding of the doctor's rules over the last interval.");
  for (const finding_series& x : f) {
    std::string s;
    label(s, "id", x.id);
    label(s, "severity", x.severity);
    label(s, "subject", x.subject);
    sample(out, "ssfast_finding", s, 1);
  }
  metric_header(out, "ssfast_findings_judged", "gauge",
                "1 once an interval was judged (from the second collection on).");
  sample(out, "ssfast_findings_judged", {}, judged ? 1 : 0);
}

void render_rules_prometheus(std::span<const rule_series> r, std::string& out) {
  if (r.empty()) return;
  using report_detail::label;
  metric_header(out, "ssfast_rule_evaluated", "gauge",
                "1 when the doctor's rule ran over the last interval; 0 when an input it needs "
                "could not be read (ssfast doctor says which), so its findings cannot appear.");
  for (const rule_series& x : r) {
    std::string s;
    label(s, "id", x.id);
    sample(out, "ssfast_rule_evaluated", s, x.evaluated ? 1 : 0);
  }
}

}  // namespace ssfast
