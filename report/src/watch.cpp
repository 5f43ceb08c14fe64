// SPDX-License-Identifier: Apache-2.0
// One report of `-s --watch` on a pipe, as a line or as JSON.
#include "ssfast/report/watch.h"

#include <cstdio>

#include "ssfast/core/tcp_state.h"
#include "ssfast/report/json_writer.h"

namespace ssfast {
namespace {

std::int64_t change(const watch_report& r, tcp_state s) {
  return static_cast<std::int64_t>(r.after.netstat_count(s) - r.before.netstat_count(s));
}

bool flagged(const watch_report& r, tcp_state s) {
  for (const watch_finding& f : r.findings)
    if (f.state == static_cast<std::uint8_t>(s)) return true;
  return false;
}

std::string signed_text(std::int64_t d) {
  std::string t = std::to_string(d);
  if (d >= 0) t.insert(t.begin(), '+');  // not "+" + t: GCC 12's -Wrestrict false positive
  return t;
}

}  // namespace

void render_watch_json(const watch_report& r, std::string& out) {
  json_writer j(out);
  j.begin_object();
  j.key("time").value(r.time);
  j.key("interval_s").value(r.interval_s);
  j.key("elapsed_s").value(r.elapsed_s);
  j.key("source").value(r.source);
  if (r.scope.tcp) {
    j.key("tcp").begin_object();
    for (tcp_state s : netstat_states) {
      j.key(netstat_name(static_cast<std::uint8_t>(s))).begin_object();
      j.key("count").value(r.after.netstat_count(s));
      j.key("change").value(change(r, s));
      if (r.judged) j.key("flagged").value(flagged(r, s));
      j.end_object();
    }
    j.end_object();
  }
  if (r.scope.udp) j.key("udp").value(r.now.udp_all().total());
  if (r.scope.unix_domain) j.key("unix").value(r.now.unix_domain.total());
  j.key("rates_per_s").begin_object();
  for (std::size_t i = 0; i < watch_rate_counters.size(); ++i) {
    j.key(counter_name(watch_rate_counters[i]));
    if (r.rates[i])
      j.fixed(*r.rates[i], 2);
    else
      j.null();
  }
  j.end_object();
  if (r.judged) {
    j.key("findings").begin_array();
    for (const watch_finding& f : r.findings) {
      j.begin_object();
      j.key("id").value(f.id);
      j.key("severity").value(f.severity);
      j.key("subject").value(f.subject);
      j.key("state");
      if (f.state != 0)
        j.value(netstat_name(f.state));
      else
        j.null();
      j.key("summary").value(f.summary);
      j.end_object();
    }
    j.end_array();
  }
  j.end_object();
  out.push_back('\n');
}

void render_watch_line(const watch_report& r, std::string& out) {
  char num[64];
  out += r.time;
  for (tcp_state s : netstat_states) {
    if (!r.scope.tcp) break;
    out.push_back(' ');
    out += netstat_name(static_cast<std::uint8_t>(s));
    out.push_back('=');
    out += std::to_string(r.after.netstat_count(s));
    out.push_back('(');
    out += signed_text(change(r, s));
    out.push_back(')');
    if (r.judged && flagged(r, s)) out.push_back('!');
  }
  // Without TCP (-u, -x) the line carries the totals that were counted instead.
  if (!r.scope.tcp && r.scope.udp) out += " UDP=" + std::to_string(r.now.udp_all().total());
  if (!r.scope.tcp && r.scope.unix_domain)
    out += " UNIX=" + std::to_string(r.now.unix_domain.total());
  for (std::size_t i = 0; i < watch_rate_counters.size(); ++i) {
    const std::string name(counter_name(watch_rate_counters[i]));
    const auto& rate = r.rates[i];
    std::snprintf(num, sizeof num, " %s/s=%.1f", name.c_str(), rate ? *rate : 0.0);
    out += rate ? num : " " + name + "/s=-";
  }
  if (r.judged && !r.findings.empty()) {
    out += " findings=";
    bool first = true;
    for (const watch_finding& f : r.findings) {
      if (!first) out.push_back(',');
      first = false;
      out += f.id;
      out.push_back('/');
      out += f.severity;
      if (!f.subject.empty()) {
        out.push_back('/');
        // A subject is an address and port; kept one field whatever it holds.
        for (char ch : f.subject) out.push_back(ch == ' ' || ch == ',' || ch < 0x21 ? '_' : ch);
      }
    }
  }
  out.push_back('\n');
}

}  // namespace ssfast
