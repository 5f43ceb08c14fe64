// SPDX-License-Identifier: Apache-2.0
// The doctor's rules, shared among its source files: the helpers that read evidence and word
// numbers, the thresholds the README lists, and one function per rule. Not installed.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ssfast/core/counter_ids.h"
#include "ssfast/core/tcp_state.h"
#include "ssfast/doctor/doctor.h"

namespace ssfast::doctor_rules {

inline std::string num(std::int64_t v) { return std::to_string(v); }
inline std::string num(std::uint64_t v) { return std::to_string(v); }

// "12.5" (one decimal), "0.3".
inline std::string fixed1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

inline std::string percent(double share) { return fixed1(100.0 * share) + "%"; }

// Evidence values: a measure keeps its number (rounded as the text shows it) and its unit.
inline evidence_value measure(double v, std::string_view unit) {
  evidence_value x;
  x.type = evidence_value::kind::measure;
  x.measure = std::round(v * 10) / 10;
  x.unit = unit;
  return x;
}
inline evidence_value share_of(double share) { return measure(100.0 * share, "%"); }

// The change of a counter over the interval; nullopt when either read lacks it.
inline std::optional<std::int64_t> delta(const doctor_evidence& e, counter_id id) {
  const std::string name(counter_name(id));
  const auto a = e.counters_before.find(name), b = e.counters_after.find(name);
  if (a == e.counters_before.end() || b == e.counters_after.end()) return std::nullopt;
  return b->second - a->second;
}

inline std::int64_t delta_or0(const doctor_evidence& e, counter_id id) {
  return std::max<std::int64_t>(0, delta(e, id).value_or(0));
}

inline std::string per_second(const doctor_evidence& e, std::int64_t d) {
  return fixed1(static_cast<double>(d) / (e.interval_s > 0 ? e.interval_s : 1)) + "/s";
}

inline evidence_value rate(const doctor_evidence& e, std::int64_t d) {
  return measure(static_cast<double>(d) / (e.interval_s > 0 ? e.interval_s : 1), "/s");
}

inline std::optional<std::int64_t> counter(const doctor_evidence& e, counter_id id) {
  const auto it = e.counters_after.find(std::string(counter_name(id)));
  if (it == e.counters_after.end()) return std::nullopt;
  return it->second;
}

// A kernel counter as evidence: `Name` its value (since the namespace was made; "unknown"
// when unread), `Name_delta` its change over the interval and `Name_per_s` that as a rate.
// Never the change under the counter's own name.
inline void counter_evidence(const doctor_evidence& e, counter_id id, finding& f) {
  const std::string_view full = counter_name(id);
  const std::string name(full.substr(full.find('.') + 1));
  const std::int64_t d = delta_or0(e, id);
  const auto it = e.counters_after.find(std::string(full));
  f.evidence.emplace_back(
      name, it == e.counters_after.end() ? evidence_value("unknown") : evidence_value(it->second));
  f.evidence.emplace_back(name + "_delta", evidence_value(d));
  f.evidence.emplace_back(name + "_per_s", rate(e, d));
}

inline std::string opt(const std::optional<std::int64_t>& v) {
  return v ? num(*v) : std::string("unknown");
}
inline evidence_value known(const std::optional<std::int64_t>& v) {
  return v ? evidence_value(*v) : evidence_value("unknown");
}

// "sysctl -w net.ipv4.tcp_syncookies=1   # now 0"
inline std::string sysctl_advice(std::string_view name, const std::string& suggested,
                                 const std::string& now, std::string_view why = {}) {
  std::string s = "sysctl -w " + std::string(name) + "=" + suggested + "   # now " + now;
  if (!why.empty()) {
    s += ": ";
    s += why;
  }
  return s;
}

inline std::string groups_text(const std::vector<keyed_count>& g, std::size_t n = 5) {
  std::string s;
  for (std::size_t i = 0; i < g.size() && i < n; ++i) {
    if (i) s += ", ";
    s += g[i].key + " (" + num(g[i].count) + ")";
  }
  return s;
}

inline std::uint64_t tcp_in(const doctor_evidence& e, tcp_state st) {
  return e.sockets.tcp_histogram().netstat_count(st);
}

// Thresholds, as the README lists them.
inline constexpr double tw_warn = 0.8, tw_crit = 0.95;
inline constexpr double ports_warn = 0.5, ports_crit = 0.9;
inline constexpr double synq_warn = 0.5, synq_crit = 0.9;
inline constexpr std::uint64_t synq_min = 8;  // a listen(fd, 1) with one half-open is not a flood
inline constexpr std::uint64_t syn_recv_without_backlog = 1024;
inline constexpr double cookies_unanswered_warn = 100;  // per second, with tcp_syncookies=2
inline constexpr double acceptq_warn = 0.9;
inline constexpr std::uint64_t close_wait_warn = 16, close_wait_crit = 1024;
inline constexpr std::uint64_t fin_wait2_warn = 256;
inline constexpr std::int64_t fin_timeout_suggested = 30;
inline constexpr double orphans_warn = 0.5, orphans_crit = 0.9;
inline constexpr double retrans_warn = 0.02, retrans_crit = 0.10;
inline constexpr std::int64_t retrans_min_segments = 100;

// `text` folded at `width` columns, continuation lines indented by `indent`.
inline std::string wrap(std::string_view text, std::size_t indent, std::size_t width) {
  std::string out, line;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view word = text.substr(pos, end - pos);
    if (!line.empty() && indent + line.size() + 1 + word.size() > width) {
      out += line + "\n" + std::string(indent, ' ');
      line.clear();
    }
    if (!line.empty()) line.push_back(' ');
    line += word;
    pos = end + 1;
  }
  return out + line;
}

// One function per rule: appends its finding to `out` when its evidence calls for one.
void time_wait_buckets(const doctor_evidence& e, std::vector<finding>& out);
void ephemeral_ports(const doctor_evidence& e, std::vector<finding>& out);
void syn_flood(const doctor_evidence& e, std::vector<finding>& out);
void accept_queue_full(const doctor_evidence& e, std::vector<finding>& out);
void close_wait_leak(const doctor_evidence& e, std::vector<finding>& out);
void fin_wait2(const doctor_evidence& e, std::vector<finding>& out);
void orphans_limit(const doctor_evidence& e, std::vector<finding>& out);
void tcp_memory(const doctor_evidence& e, std::vector<finding>& out);
void retransmits(const doctor_evidence& e, std::vector<finding>& out);
void tw_recycle(const doctor_evidence& e, std::vector<finding>& out);

}  // namespace ssfast::doctor_rules
