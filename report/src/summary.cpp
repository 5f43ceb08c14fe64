// SPDX-License-Identifier: Apache-2.0
// Text and JSON renderings of the socket summary.
#include "ssfast/report/summary.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "counter_groups.h"
#include "ssfast/core/kernel_abi.h"
#include "ssfast/report/escape.h"
#include "ssfast/report/json_writer.h"

namespace ssfast {
namespace {

using report_detail::field_list;
using report_detail::for_each_counter_group;

// unix_counts::by_type is indexed by SOCK_* type.
using abi::sock_dgram;
using abi::sock_seqpacket;
using abi::sock_stream;

void append_uint(std::string& out, std::uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void append_field(std::string& out, std::string_view name, std::uint64_t v) {
  out += "  ";
  out += name;
  out.push_back(' ');
  append_uint(out, v);
}

// Histogram lines for one family set, folded the way netstat shows states.
struct state_line {
  std::uint8_t state;
  std::uint64_t count;
};

std::size_t histogram_lines(const state_counts& c, state_line (&lines)[state_slots]) {
  std::size_t n = 0;
  for (std::size_t s = 0; s < state_slots; ++s) {
    const auto st = static_cast<std::uint8_t>(s);
    if (netstat_fold(st) != st) continue;  // folded into another line
    const std::uint64_t count = c.netstat_count(static_cast<tcp_state>(st));
    if (count > 0) lines[n++] = {st, count};
  }
  // Largest first; equal counts in the kernel's state order.
  std::stable_sort(lines, lines + n,
                   [](const state_line& a, const state_line& b) { return a.count > b.count; });
  return n;
}

// Why an estimate that was asked for was not used; empty if it was, or was not asked for.
std::string_view estimate_not_used(const socket_summary& s) noexcept {
  using st = socket_summary::estimate_status;
  switch (s.estimate) {
    case st::inconsistent: return "CurrEstab is below the dumped CLOSE_WAIT";
    case st::counter_missing: return "/proc/net/snmp Tcp CurrEstab could not be read";
    case st::needs_netlink: return "the /proc source lists every socket anyway";
    case st::needs_both_families: return "CurrEstab counts IPv4 and IPv6 together";
    case st::not_requested:
    case st::estimated: break;
  }
  return {};
}

// Why a derived count walked; empty if it was taken, or was not asked for.
std::string_view derivation_not_taken(const socket_summary& s) noexcept {
  using st = socket_summary::derivation_status;
  switch (s.derivation) {
    case st::gauges_moved:
      return "CurrEstab or sockstat inuse changed during the dump (sockets changed state)";
    case st::disagreed:
      return "CurrEstab - CLOSE_WAIT and sockstat inuse - the other full sockets differ";
    case st::gauge_missing: return "/proc/net/snmp CurrEstab or sockstat inuse could not be read";
    case st::needs_both_families: return "CurrEstab counts IPv4 and IPv6 together";
    case st::needs_netlink: return "the /proc source lists every socket anyway";
    case st::backed_off:
      return "the last tries changed during their dumps (churn): walked without one this time";
    case st::not_requested:
    case st::taken: break;
  }
  return {};
}

void append_state_name(std::string& out, std::uint8_t s) {
  const std::string_view name = netstat_name(s);
  if (!name.empty()) {
    out += name;
  } else {  // a value no kernel we know uses: shown, never dropped
    out += "STATE_";
    append_uint(out, s);
  }
}

void json_states(json_writer& w, const state_counts& c) {
  w.key("states").begin_object();
  for (tcp_state s : netstat_states)
    w.key(netstat_name(static_cast<std::uint8_t>(s))).value(c.netstat_count(s));
  w.end_object();
  // Values outside netstat's eleven (none on kernels we know) are listed, never dropped.
  bool any = false;
  for (std::size_t s = 0; s < state_slots; ++s) {
    const auto st = static_cast<std::uint8_t>(s);
    if (!netstat_name(st).empty() || c[s] == 0) continue;
    if (!any) w.key("other_states").begin_object();
    any = true;
    char buf[4];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, s);
    w.key(std::string_view(buf, static_cast<std::size_t>(end - buf))).value(c[s]);
  }
  if (any) w.end_object();
}

// The TCP line of the totals, and why an estimate asked for was not used.
void tcp_totals_text(const socket_summary& s, std::string& out) {
  out += "TCP ";
  append_field(out, "total", s.tcp_histogram().total());
  if (s.estimate == socket_summary::estimate_status::estimated) {
    // Per-family ESTABLISHED is unknown: CurrEstab counts both families together.
    out += "  (ESTABLISHED estimated: CurrEstab ";
    out += std::to_string(s.curr_estab);
    out += " - CLOSE_WAIT ";
    append_uint(out, s.tcp_all()[tcp_state::close_wait]);
    out += ")";
  } else {
    if (s.scope.ipv4) append_field(out, "IPv4", s.tcp[0].total());
    if (s.scope.ipv6) append_field(out, "IPv6", s.tcp[1].total());
  }
  out.push_back('\n');
  if (const std::string_view why = estimate_not_used(s); !why.empty()) {
    out += "note: ESTABLISHED counted exactly, not estimated: ";
    out += why;
    if (s.estimate == socket_summary::estimate_status::inconsistent) {
      out += " (CurrEstab ";
      out += std::to_string(s.curr_estab);
      out += ", CLOSE_WAIT ";
      append_uint(out, s.tcp_all()[tcp_state::close_wait]);
      out += ")";
    }
    out.push_back('\n');
  }
}

// The counters section: one line per group the kernel printed, or why there is none.
void counters_text(const summary_report& r, std::string& out) {
  out += "\nKernel counters (/proc/net/sockstat, sockstat6, snmp; not socket counts)\n";
  if (r.counters == nullptr) {
    out += "unavailable: ";
    out += r.counters_error;
    out.push_back('\n');
    return;
  }
  for_each_counter_group(*r.counters, [&](std::string_view label, field_list fields) {
    std::string line;
    for (const auto& [name, v] : fields) {
      if (!v->has_value()) continue;
      line.push_back(' ');
      line += name;
      line.push_back(' ');
      line += std::to_string(**v);
    }
    if (line.empty()) return;
    out += label;
    out.push_back(':');
    out += line;
    out.push_back('\n');
  });
}

}  // namespace

void render_summary_text(const summary_report& r, std::string& out) {
  const socket_summary& s = r.sockets;
  const count_scope& sc = s.scope;

  if (sc.tcp) {
    state_line lines[state_slots];
    const std::size_t n = histogram_lines(s.tcp_histogram(), lines);
    for (std::size_t i = 0; i < n; ++i) {
      append_state_name(out, lines[i].state);
      out.push_back(' ');
      append_uint(out, lines[i].count);
      out.push_back('\n');
    }
  }
  // The STATE COUNT section always ends with a blank line, even with no line in it (no TCP
  // socket, or TCP not counted): a script reading states up to the first blank line never
  // takes the totals below for states.
  out.push_back('\n');

  out += "Sockets (source: ";
  out += to_string(r.source);
  if (!r.fallback_reason.empty()) {
    out += "; netlink unavailable: ";
    out += r.fallback_reason;
  }
  if (!r.filter.empty()) {
    out += "; only those matching: ";
    append_printable(out, r.filter);  // typed by a person, perhaps pasted: never a forged line
  }
  out += ")\n";
  if (s.repeats_dropped > 0) {
    out += "note: ";
    append_uint(out, s.repeats_dropped);
    out += " sockets the kernel's dump reported twice were counted once\n";
  }
  if (sc.tcp) tcp_totals_text(s, out);
  if (sc.udp) {
    const state_counts u = s.udp_all();
    out += "UDP ";
    append_field(out, "total", u.total());
    if (sc.ipv4) append_field(out, "IPv4", s.udp[0].total());
    if (sc.ipv6) append_field(out, "IPv6", s.udp[1].total());
    append_field(out, "connected", u[tcp_state::established]);
    out.push_back('\n');
  }
  if (sc.unix_domain) {
    const unix_counts& u = s.unix_domain;
    out += "UNIX";
    append_field(out, "total", u.total());
    append_field(out, "stream", u.by_type[sock_stream]);
    append_field(out, "dgram", u.by_type[sock_dgram]);
    append_field(out, "seqpacket", u.by_type[sock_seqpacket]);
    append_field(out, "listening", u.states[tcp_state::listen]);
    out.push_back('\n');
  }
  counters_text(r, out);
}

void write_summary_sockets(json_writer& w, const socket_summary& s) {
  const count_scope& sc = s.scope;
  auto family_object = [&](std::string_view name, const state_counts& c) {
    w.key(name).begin_object();
    w.key("total").value(c.total());
    json_states(w, c);
    w.end_object();
  };
  if (sc.tcp) {
    const state_counts all = s.tcp_histogram();
    const bool estimated = s.estimate == socket_summary::estimate_status::estimated;
    w.key("tcp").begin_object();
    w.key("total").value(all.total());
    json_states(w, all);
    // Estimated: ESTABLISHED per family is unknown, so the family objects are left out.
    if (sc.ipv4 && !estimated) family_object("ipv4", s.tcp[0]);
    if (sc.ipv6 && !estimated) family_object("ipv6", s.tcp[1]);
    w.end_object();
    if (estimated) {
      w.key("estimate").begin_object();
      w.key("established").value(s.established_estimate);
      w.key("curr_estab").value(s.curr_estab);
      w.key("close_wait").value(s.tcp_all()[tcp_state::close_wait]);
      w.end_object();
    } else if (const std::string_view why = estimate_not_used(s); !why.empty()) {
      w.key("estimate").begin_object();
      w.key("established").null();
      w.key("not_used").value(why);
      w.end_object();
    }
  }
  if (sc.udp) {
    const state_counts all = s.udp_all();
    w.key("udp").begin_object();
    w.key("total").value(all.total());
    w.key("connected").value(all[tcp_state::established]);
    w.key("unconnected").value(all[tcp_state::close]);
    if (sc.ipv4) w.key("ipv4").begin_object().key("total").value(s.udp[0].total()).end_object();
    if (sc.ipv6) w.key("ipv6").begin_object().key("total").value(s.udp[1].total()).end_object();
    w.end_object();
  }
  if (sc.unix_domain) {
    const unix_counts& u = s.unix_domain;
    w.key("unix").begin_object();
    w.key("total").value(u.total());
    w.key("stream").value(u.by_type[sock_stream]);
    w.key("dgram").value(u.by_type[sock_dgram]);
    w.key("seqpacket").value(u.by_type[sock_seqpacket]);
    w.key("listening").value(u.states[tcp_state::listen]);
    w.end_object();
  }
}

void render_summary_json(const summary_report& r, std::string& out) {
  const socket_summary& s = r.sockets;
  json_writer w(out);
  w.begin_object();
  w.key("source").value(to_string(r.source));
  if (!r.fallback_reason.empty()) w.key("fallback_reason").value(r.fallback_reason);
  if (!r.filter.empty()) w.key("filter").value(r.filter);
  if (r.source == source_kind::proc) {
    w.key("proc").begin_object();
    w.key("skipped_lines").value(s.skipped_lines);
    w.key("duplicate_rows").value(s.duplicate_rows);
    w.end_object();
  } else {
    // Sockets a resumed dump handed out twice (same cookie), counted once.
    w.key("netlink").begin_object();
    w.key("repeats_dropped").value(s.repeats_dropped);
    w.end_object();
  }
  if (s.scope.tcp) {
    w.key("method").value(s.method());
    if (const std::string_view why = derivation_not_taken(s); !why.empty())
      w.key("walked_because").value(why);
  }

  write_summary_sockets(w, s);

  w.key("counters");
  if (r.counters == nullptr) {
    w.null();
    w.key("counters_error").value(r.counters_error);
  } else {
    w.begin_object();
    for_each_counter_group(*r.counters, [&](std::string_view label, field_list fields) {
      bool open = false;
      for (const auto& [name, v] : fields) {
        if (!v->has_value()) continue;
        if (!open) w.key(label).begin_object();
        open = true;
        w.key(name).value(static_cast<std::int64_t>(**v));
      }
      if (open) w.end_object();
    });
    w.end_object();
  }
  w.end_object();
  out.push_back('\n');
}

void render_summary(const summary_data& d, summary_format format, std::string_view filter,
                    std::string& out) {
  const summary_report r{d.sockets,         d.source,
                         d.fallback_reason, d.counters ? &*d.counters : nullptr,
                         d.counters_error,  filter};
  switch (format) {
    case summary_format::json: render_summary_json(r, out); break;
    case summary_format::prometheus: render_summary_prometheus(r, d.every_counter, out); break;
    case summary_format::text: render_summary_text(r, out); break;
  }
}

void render_tcp_info_text(const tcp_info_by_state& t, std::string& out) {
  out += "\nTCP RTT (ms) and retransmissions, per state (tcp_info):\n";
  char line[160];
  std::snprintf(line, sizeof line, "%-12s %9s %9s %9s %9s %9s %13s %14s\n", "State", "Sockets",
                "RTT p50", "p90", "p99", "max", "Retransmits", "Retransmitting");
  out += line;
  for (std::size_t st = 0; st < t.states().size(); ++st) {
    const auto& f = t.states()[st];
    if (f.sockets == 0) continue;
    const std::string_view name = netstat_name(static_cast<std::uint8_t>(st));
    // No RTT sample (a listener, a connection not yet acknowledged): "-", not 0.
    char rtt[4][16] = {"-", "-", "-", "-"};
    if (f.rtt.total > 0) {
      const double v[4] = {
          static_cast<double>(f.rtt.quantile(0.5)), static_cast<double>(f.rtt.quantile(0.9)),
          static_cast<double>(f.rtt.quantile(0.99)), static_cast<double>(f.rtt_max_us)};
      for (int k = 0; k < 4; ++k) std::snprintf(rtt[k], sizeof rtt[k], "%.3f", v[k] / 1000.0);
    }
    std::snprintf(line, sizeof line, "%-12.*s %9llu %9s %9s %9s %9s %13llu %14llu\n",
                  static_cast<int>(name.size()), name.data(),
                  static_cast<unsigned long long>(f.sockets), rtt[0], rtt[1], rtt[2], rtt[3],
                  static_cast<unsigned long long>(f.total_retrans),
                  static_cast<unsigned long long>(f.retransmitting));
    out += line;
  }
}

void render_tcp_info_json(const tcp_info_by_state& t, std::string& out) {
  json_writer w(out);
  w.key("tcp_info").begin_object();
  for (std::size_t st = 0; st < t.states().size(); ++st) {
    const auto& f = t.states()[st];
    if (f.sockets == 0) continue;
    w.key(netstat_name(static_cast<std::uint8_t>(st))).begin_object();
    w.key("sockets").value(f.sockets);
    w.key("rtt_samples").value(f.rtt.total);
    auto us = [&](std::string_view k, std::uint64_t v) {
      w.key(k);
      if (f.rtt.total > 0) {
        w.value(v);
      } else {
        w.null();  // no RTT sample
      }
    };
    us("rtt_p50_us", f.rtt.quantile(0.5));
    us("rtt_p90_us", f.rtt.quantile(0.9));
    us("rtt_p99_us", f.rtt.quantile(0.99));
    us("rtt_max_us", f.rtt_max_us);
    w.key("total_retrans").value(f.total_retrans);
    w.key("retransmitting").value(f.retransmitting);
    w.end_object();
  }
  w.end_object();
}

}  // namespace ssfast
