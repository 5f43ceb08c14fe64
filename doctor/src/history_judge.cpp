// SPDX-License-Identifier: Apache-2.0
// The doctor's rules on recorded samples: a record as evidence, each record judged, and the
// judgement as the history table's flags and notes (see ssfast/doctor/history.h).
#include <algorithm>
#include <map>

#include "ssfast/core/addresses.h"
#include "ssfast/doctor/history.h"

namespace ssfast {
namespace {

// Why a rule that reads sockets by identity cannot be judged on a record.
constexpr const char* not_listed = "not recorded (a sample keeps counts, not sockets)";

}  // namespace

doctor_evidence history_evidence(const history_record& r) {
  const history_sample& s = r.sample;
  doctor_evidence e;
  e.interval_s = r.delta_ms > 0 ? static_cast<double>(r.delta_ms) / 1000.0 : 1;
  e.sockets = history_summary(s);
  for (std::size_t i = 0; i < history_counter_count; ++i) {
    if (!s.counters[i]) continue;
    const std::string name(counter_names[i].second);
    e.counters_after[name] = *s.counters[i];
    std::int64_t before = 0;  // a damaged or forged file may hold any numbers
    if (r.delta[i] && !r.reset[i] && !__builtin_sub_overflow(*s.counters[i], *r.delta[i], &before))
      e.counters_before[name] = before;
  }
  if (r.delta_ms <= 0)
    e.unreadable["counters"] = "a run's first sample (no change to judge)";
  else
    e.unreadable["counters"] = "not recorded";
  if (r.sysctls_known) e.sysctls = doctor_sysctls_of(s.sysctls);
  for (const char* name : {"net.ipv4.tcp_max_tw_buckets", "net.ipv4.ip_local_port_range",
                           "net.ipv4.tcp_max_orphans", "net.ipv4.tcp_mem"})
    e.unreadable[name] = r.sysctls_known ? "not recorded (not readable where recorded)"
                                         : "not recorded before the run's first keyframe";
  for (const char* name : {"ephemeral_groups", "close_wait_persisting", "fin_wait2_orphaned"})
    e.unreadable[name] = not_listed;
  e.backlog_known = s.source != 1;  // /proc's Send-Q of a listener is not its backlog
  for (const history_listener& l : s.listeners) {
    listener_evidence x;
    address_bytes a{};
    std::copy(l.address.begin(), l.address.end(), a.begin());
    // AF_INET6 (10) or AF_INET (2), as ss writes an endpoint.
    x.address = endpoint_text(l.family == 6 ? 10 : 2, a, l.port);
    x.port = l.port;
    x.accept_queue = l.accept_queue;
    x.backlog = l.backlog;
    x.syn_recv = l.syn_recv.value_or(0);  // not measured: there was no SYN_RECV to measure
    x.syn_backlog = l.backlog;            // the siblings' backlogs, summed when recorded
    e.listeners.push_back(std::move(x));
  }
  return e;
}

history_judgement judge_history(std::span<const history_record> rows) {
  history_judgement j;
  j.findings.resize(rows.size());
  std::map<std::string, std::size_t> index;  // rule id -> its place in not_run
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const doctor_evidence e = history_evidence(rows[i]);
    for (finding& f : diagnose(e))
      if (f.level >= severity::warning) j.findings[i].push_back(std::move(f));
    for (rule_not_run& r : rules_not_run(e)) {
      const auto [it, added] = index.emplace(r.id, j.not_run.size());
      if (added) j.not_run.push_back({std::move(r), 0});
      ++j.not_run[it->second].records;
    }
  }
  // The doctor's own order of rules.
  auto place = [](const history_judgement::unjudged& u) {
    for (std::size_t i = 0; i < doctor_rule_count(); ++i)
      if (doctor_rule_id(i) == u.rule.id) return i;
    return doctor_rule_count();
  };
  std::stable_sort(j.not_run.begin(), j.not_run.end(),
                   [&](const auto& a, const auto& b) { return place(a) < place(b); });
  return j;
}

void history_flags(const history_judgement& j, std::span<const history_record> rows,
                   history_clock clock, history_extras& out) {
  out.flags.assign(rows.size(), std::string());
  struct fired {
    severity worst = severity::warning;
    std::size_t samples = 0;
    std::int64_t first_ms = 0, last_ms = 0;
    std::string last_summary;
  };
  std::vector<std::pair<std::string, fired>> by_rule;  // in the order first fired
  const bool dated =
      !rows.empty() && history_time(rows.front().sample.time_ms, clock, true).substr(0, 10) !=
                           history_time(rows.back().sample.time_ms, clock, true).substr(0, 10);
  for (std::size_t i = 0; i < rows.size() && i < j.findings.size(); ++i) {
    std::vector<std::pair<std::string, severity>> ids;  // one per rule, its worst
    for (const finding& f : j.findings[i]) {
      auto it =
          std::find_if(ids.begin(), ids.end(), [&](const auto& x) { return x.first == f.id; });
      if (it == ids.end())
        ids.emplace_back(f.id, f.level);
      else
        it->second = std::max(it->second, f.level);
      auto r = std::find_if(by_rule.begin(), by_rule.end(),
                            [&](const auto& x) { return x.first == f.id; });
      if (r == by_rule.end()) {
        by_rule.emplace_back(f.id, fired{});
        r = by_rule.end() - 1;
        r->second.first_ms = rows[i].sample.time_ms;
      }
      r->second.worst = std::max(r->second.worst, f.level);
      r->second.last_summary = f.summary;
      if (r->second.last_ms != rows[i].sample.time_ms || r->second.samples == 0)
        ++r->second.samples;
      r->second.last_ms = rows[i].sample.time_ms;
    }
    for (const auto& [id, level] : ids) {
      if (!out.flags[i].empty()) out.flags[i] += ' ';
      out.flags[i] += id;
      if (level == severity::critical) out.flags[i] += '!';
    }
  }
  out.notes.clear();
  if (by_rule.empty()) {
    out.notes.push_back("Flags: none of the doctor's rules fired on these samples.");
  } else {
    out.notes.push_back("Flags, the doctor's rules on each sample's interval (! critical):");
    for (const auto& [id, f] : by_rule) {
      std::string line = "  " + id + " (" + std::string(to_string(f.worst)) +
                         "): " + std::to_string(f.samples) +
                         (f.samples == 1 ? " sample, " : " samples, ");
      line += history_time(f.first_ms, clock, dated);
      if (f.last_ms != f.first_ms) line += " to " + history_time(f.last_ms, clock, dated);
      line += "; last: " + f.last_summary;
      out.notes.push_back(std::move(line));
    }
  }
  // The rules not evaluated, grouped by why.
  std::vector<std::pair<std::string, std::vector<const history_judgement::unjudged*>>> groups;
  for (const auto& u : j.not_run) {
    const std::string key = u.rule.why + "|" + std::to_string(u.records);
    auto g =
        std::find_if(groups.begin(), groups.end(), [&](const auto& x) { return x.first == key; });
    if (g == groups.end()) {
      groups.emplace_back(key, std::vector<const history_judgement::unjudged*>{});
      g = groups.end() - 1;
    }
    g->second.push_back(&u);
  }
  for (const auto& [key, us] : groups) {
    std::string line = "Not evaluated";
    if (us.front()->records < rows.size())
      line += " on " + std::to_string(us.front()->records) + " of " + std::to_string(rows.size()) +
              " samples";
    line += ": ";
    for (std::size_t k = 0; k < us.size(); ++k) {
      if (k) line += ", ";
      line += us[k]->rule.id + " (" + us[k]->rule.needs + ")";
    }
    line += ": " + us.front()->rule.why + ".";
    out.notes.push_back(std::move(line));
  }
}

}  // namespace ssfast
