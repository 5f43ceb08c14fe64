// SPDX-License-Identifier: Apache-2.0
// The doctor's report: text for people, JSON for programs.

#include "rules.h"
#include "ssfast/report/json_writer.h"

namespace ssfast {
namespace {

using doctor_rules::fixed1;
using doctor_rules::num;
using doctor_rules::wrap;

// A filter as typed, for the report's first line: never a control byte.
std::string printable_text(std::string_view s) {
  std::string out;
  append_printable(out, s);
  return out;
}

}  // namespace

std::string to_text(const evidence_value& v) {
  switch (v.type) {
    case evidence_value::kind::count: return std::to_string(v.count);
    case evidence_value::kind::measure: {
      char buf[48];
      std::snprintf(buf, sizeof buf, "%.1f", v.measure);
      return buf + std::string(v.unit);
    }
    case evidence_value::kind::text: break;
  }
  return v.text;
}

void render_findings_text(const std::vector<finding>& f, const doctor_evidence& e,
                          std::string_view source, std::string& out, std::string_view filter) {
  std::size_t crit = 0, warn = 0;
  for (const finding& x : f) {
    crit += x.level == severity::critical;
    warn += x.level == severity::warning;
  }
  const std::string context =
      "(" + std::string(source) +
      (filter.empty() ? std::string() : ", matching " + printable_text(filter)) +
      ", sampled over " + fixed1(e.interval_s) + " s" +
      (e.kernel_release.empty() ? "" : ", kernel " + e.kernel_release) + ")";
  const std::vector<rule_not_run> skipped = rules_not_run(e);
  // Never a bare "no findings" when a check was skipped: say how many rules ran.
  const std::string ran =
      skipped.empty()
          ? std::string()
          : "in the " + num(static_cast<std::uint64_t>(doctor_rule_count() - skipped.size())) +
                " of " + num(static_cast<std::uint64_t>(doctor_rule_count())) + " rules that ran ";
  if (!skipped.empty() && skipped.size() >= doctor_rule_count()) {
    out += "ssfast doctor: nothing diagnosed " + context + ": no rule could run\n";
  } else if (f.empty()) {
    const state_counts tcp = e.sockets.tcp_histogram();
    out += "ssfast doctor: no findings " + ran + context + ": " + num(tcp.total()) +
           " TCP sockets, " + num(tcp.netstat_count(tcp_state::established)) + " established, " +
           num(tcp.netstat_count(tcp_state::time_wait)) + " time_wait, " +
           num(tcp.netstat_count(tcp_state::close_wait)) + " close_wait, " +
           num(tcp.netstat_count(tcp_state::syn_recv)) + " syn_recv\n";
  } else {
    out += "ssfast doctor: " + num(static_cast<std::uint64_t>(f.size())) +
           (f.size() == 1 ? " finding" : " findings") + ", " + num(std::uint64_t{crit}) +
           " critical, " + num(std::uint64_t{warn}) + (warn == 1 ? " warning " : " warnings ") +
           context + "\n";
  }
  if (!e.backlog_known)
    out +=
        "note: /proc does not show listen backlogs; accept-queue and SYN-queue fill are "
        "judged from the kernel's counters only\n";
  for (const rule_not_run& s : skipped) {
    std::string why;
    append_printable(why, s.why);
    out += "not run: " + s.id + " (needs " + s.needs + ": " + why + ")\n";
  }
  for (const finding& x : f) {
    std::string level(to_string(x.level));
    for (char& c : level) c = static_cast<char>(c - 'a' + 'A');
    // Summaries and evidence can name processes, whose names any user sets: escaped.
    std::string summary;
    append_printable(summary, x.summary);
    out += "\n" + level + " " + x.id + ": " + summary + "\n";
    std::string ev;
    for (const auto& [k, v] : x.evidence) {
      ev += (ev.empty() ? "" : ", ") + k + " ";
      append_printable(ev, to_text(v));
    }
    out += "  evidence  " + wrap(ev, 12, 100) + "\n";
    out += "  why       " + wrap(x.why, 12, 100) + "\n";
    for (std::size_t i = 0; i < x.advice.size(); ++i)
      out +=
          std::string(i == 0 ? "  do        " : "            ") + wrap(x.advice[i], 12, 100) + "\n";
  }
}

void render_findings_json(const std::vector<finding>& f, const doctor_evidence& e,
                          std::string_view source, std::string& out, std::string_view filter) {
  const std::vector<rule_not_run> skipped = rules_not_run(e);
  json_writer w(out);
  w.begin_object();
  w.key("source").value(source);
  if (!filter.empty()) w.key("filter").value(filter);
  w.key("interval_s").value(e.interval_s);
  w.key("kernel").value(e.kernel_release);
  w.key("exit_code").value(static_cast<std::int64_t>(doctor_exit_code(f, skipped)));
  w.key("findings").begin_array();
  for (const finding& x : f) {
    w.begin_object();
    w.key("id").value(x.id);
    w.key("severity").value(to_string(x.level));
    w.key("subject").value(x.subject);  // a listener, or "" for the namespace
    w.key("state");
    if (x.state)
      w.value(netstat_name(static_cast<std::uint8_t>(*x.state)));
    else
      w.null();
    w.key("summary").value(x.summary);
    w.key("evidence").begin_object();
    for (const auto& [k, v] : x.evidence) {
      w.key(k);
      if (v.type == evidence_value::kind::count)
        w.value(v.count);
      else if (v.type == evidence_value::kind::measure && v.unit.empty())
        w.value(v.measure);
      else
        w.value(to_text(v));
    }
    w.end_object();
    w.key("why").value(x.why);
    w.key("advice").begin_array();
    for (const std::string& a : x.advice) w.value(a);
    w.end_array();
    w.end_object();
  }
  w.end_array();
  w.key("not_run").begin_array();
  for (const rule_not_run& s : skipped)
    w.begin_object()
        .key("id")
        .value(s.id)
        .key("needs")
        .value(s.needs)
        .key("why")
        .value(s.why)
        .end_object();
  w.end_array();
  w.end_object();
  out.push_back('\n');
}

}  // namespace ssfast
