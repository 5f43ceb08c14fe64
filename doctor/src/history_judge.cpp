// SPDX-License-Identifier: Apache-2.0
// The doctor's rules on recorded samples: a record as evidence, each record judged, and the
// judgement as the history table's flags and notes (see ssfast/doctor/history.h).
#include <algorithm>

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
    x.family = l.family == 6 ? 10 : 2;  // AF_INET6, AF_INET
    x.local = l.address;
    x.address = endpoint_text(x.family, a, l.port);
    x.port = l.port;
    x.accept_queue = l.accept_queue;
    x.backlog = l.backlog;
    x.syn_recv = l.syn_recv.value_or(0);  // not measured: there was no SYN_RECV to measure
    x.syn_backlog = l.backlog;            // the siblings' backlogs, summed when recorded
    e.listeners.push_back(std::move(x));
  }
  return e;
}

std::string history_flagger::judge(const history_record& r) {
  ++records_;
  const doctor_evidence e = history_evidence(r);
  last_.clear();
  for (finding& f : diagnose(e))
    if (f.level >= severity::warning) last_.push_back(std::move(f));
  for (rule_not_run& n : rules_not_run(e)) {
    auto u = std::find_if(not_run_.begin(), not_run_.end(),
                          [&](const unjudged& x) { return x.rule.id == n.id; });
    if (u == not_run_.end()) {
      not_run_.push_back({std::move(n), 0});
      u = not_run_.end() - 1;
    }
    ++u->records;
  }
  std::string flags;
  std::vector<std::pair<std::string_view, severity>> ids;  // one per rule, its worst
  for (const finding& f : last_) {
    auto it = std::find_if(ids.begin(), ids.end(), [&](const auto& x) { return x.first == f.id; });
    if (it == ids.end())
      ids.emplace_back(f.id, f.level);
    else
      it->second = std::max(it->second, f.level);
  }
  for (const auto& [id, level] : ids) {
    auto x =
        std::find_if(fired_.begin(), fired_.end(), [&](const auto& y) { return y.first == id; });
    if (x == fired_.end()) {
      fired_.emplace_back(std::string(id), fired{});
      x = fired_.end() - 1;
      x->second.first_ms = r.sample.time_ms;
    }
    x->second.worst = std::max(x->second.worst, level);
    ++x->second.samples;
    x->second.last_ms = r.sample.time_ms;
    for (const finding& f : last_)
      if (f.id == id) {
        x->second.last_summary = f.summary;  // the worst of this rule's (they are sorted)
        break;
      }
    if (!flags.empty()) flags += ' ';
    flags += id;
    if (level == severity::critical) flags += '!';
  }
  return flags;
}

std::vector<history_flagger::unjudged> history_flagger::not_run() const {
  auto place = [](const unjudged& u) {
    for (std::size_t i = 0; i < doctor_rule_count(); ++i)
      if (doctor_rule_id(i) == u.rule.id) return i;
    return doctor_rule_count();
  };
  std::vector<unjudged> out = not_run_;
  std::stable_sort(out.begin(), out.end(),
                   [&](const unjudged& a, const unjudged& b) { return place(a) < place(b); });
  return out;
}

std::vector<std::string> history_flagger::notes(history_clock clock, bool dated) const {
  std::vector<std::string> out;
  if (fired_.empty()) {
    out.push_back("Flags: none of the doctor's rules fired on these samples.");
  } else {
    out.push_back("Flags, the doctor's rules on each sample's interval (! critical):");
    for (const auto& [id, f] : fired_) {
      std::string line = "  " + id + " (" + std::string(to_string(f.worst)) +
                         "): " + std::to_string(f.samples) +
                         (f.samples == 1 ? " sample, " : " samples, ");
      line += history_time(f.first_ms, clock, dated);
      if (f.last_ms != f.first_ms) line += " to " + history_time(f.last_ms, clock, dated);
      line += "; last: " + f.last_summary;
      out.push_back(std::move(line));
    }
  }
  // The rules not evaluated, grouped by why and on how many samples.
  const std::vector<unjudged> all = not_run();
  std::vector<std::pair<std::string, std::vector<const unjudged*>>> groups;
  for (const unjudged& u : all) {
    const std::string key = u.rule.why + "|" + std::to_string(u.records);
    auto g =
        std::find_if(groups.begin(), groups.end(), [&](const auto& x) { return x.first == key; });
    if (g == groups.end()) {
      groups.emplace_back(key, std::vector<const unjudged*>{});
      g = groups.end() - 1;
    }
    g->second.push_back(&u);
  }
  for (const auto& [key, us] : groups) {
    std::string line = "Not evaluated";
    if (us.front()->records < records_)
      line += " on " + std::to_string(us.front()->records) + " of " + std::to_string(records_) +
              " samples";
    line += ": ";
    for (std::size_t k = 0; k < us.size(); ++k) {
      if (k) line += ", ";
      line += us[k]->rule.id + " (" + us[k]->rule.needs + ")";
    }
    line += ": " + us.front()->rule.why + ".";
    out.push_back(std::move(line));
  }
  return out;
}

}  // namespace ssfast
