// SPDX-License-Identifier: Apache-2.0
// The diagnosis: which rules can run on the evidence, running them, and the exit status.
#include <algorithm>
#include <array>
#include <iterator>

#include "rules.h"

namespace ssfast {
namespace {

using namespace doctor_rules;

// What each rule reads that may be missing: a sysctl ("net.ipv4.tcp_mem"), a counter
// ("TcpExt.ListenOverflows": both samples for a change, "TCP.orphan": the last), or what only
// a listing of sockets by identity gives (a doctor_evidence member: "close_wait_persisting"),
// which a gathering always has and a recorded sample does not (its absence is said in
// `unreadable`). The counts by state every rule may use are not listed: without them there is
// no diagnosis at all. Optional inputs (for advice, or a second signal) are not listed either:
// a rule runs without them.
struct rule {
  std::string_view id;
  void (*run)(const doctor_evidence&, std::vector<finding>&);
  std::array<std::string_view, 3> needs;
};

constexpr rule rules[] = {
    {"time_wait_buckets", time_wait_buckets, {"net.ipv4.tcp_max_tw_buckets"}},
    {"ephemeral_ports", ephemeral_ports, {"net.ipv4.ip_local_port_range", "ephemeral_groups"}},
    {"syn_flood", syn_flood, {counter_name(counter_id::syncookies_sent)}},
    {"accept_queue_full", accept_queue_full, {counter_name(counter_id::listen_overflows)}},
    {"close_wait_leak", close_wait_leak, {"close_wait_persisting"}},
    {"fin_wait2_orphans", fin_wait2, {"fin_wait2_orphaned"}},
    {"orphans_limit",
     orphans_limit,
     {"net.ipv4.tcp_max_orphans", counter_name(counter_id::sockstat_tcp_orphan)}},
    {"tcp_memory", tcp_memory, {"net.ipv4.tcp_mem", counter_name(counter_id::sockstat_tcp_mem)}},
    {"retransmits",
     retransmits,
     {counter_name(counter_id::tcp_out_segs), counter_name(counter_id::tcp_retrans_segs)}},
    {"tw_recycle", tw_recycle, {}},  // absent since Linux 4.12: nothing to miss
};

// Whether `e` has the input `need`; else why not.
bool have(const doctor_evidence& e, std::string_view need, std::string& why) {
  if (need.starts_with("net.")) {
    const doctor_sysctls& s = e.sysctls;
    bool present = false;
    if (need == "net.ipv4.tcp_max_tw_buckets") present = s.tcp_max_tw_buckets.has_value();
    if (need == "net.ipv4.ip_local_port_range") present = s.ip_local_port_range.has_value();
    if (need == "net.ipv4.tcp_max_orphans") present = s.tcp_max_orphans.has_value();
    if (need == "net.ipv4.tcp_mem") present = s.tcp_mem.has_value();
    if (present) return true;
    const auto it = e.unreadable.find(std::string(need));
    why = it != e.unreadable.end() ? it->second : "could not be read";
    return false;
  }
  // A listing's result: there unless said missing.
  if (need.find('.') == std::string_view::npos) {
    const auto it = e.unreadable.find(std::string(need));
    if (it == e.unreadable.end()) return true;
    why = it->second;
    return false;
  }
  // A counter: a change needs both samples (Tcp., TcpExt.); a level the last (TCP.).
  const std::string name(need);
  const bool level = need.starts_with("TCP.");
  if (e.counters_after.count(name) > 0 && (level || e.counters_before.count(name) > 0)) return true;
  const auto it = e.unreadable.find("counters");
  why = it != e.unreadable.end() ? it->second : "not among this kernel's counters";
  return false;
}

}  // namespace

std::string_view to_string(severity s) noexcept {
  switch (s) {
    case severity::info: return "info";
    case severity::warning: return "warning";
    case severity::critical: return "critical";
  }
  return "info";
}

std::vector<rule_not_run> rules_not_run(const doctor_evidence& e) {
  std::vector<rule_not_run> out;
  for (const rule& r : rules) {
    for (std::string_view need : r.needs) {
      if (need.empty()) break;
      std::string why;
      if (!have(e, need, why)) {
        out.push_back({std::string(r.id), std::string(need), why});
        break;
      }
    }
  }
  return out;
}

std::size_t doctor_rule_count() noexcept { return std::size(rules); }

std::string_view doctor_rule_id(std::size_t i) noexcept {
  return i < std::size(rules) ? rules[i].id : std::string_view();
}

std::vector<finding> diagnose(const doctor_evidence& e) {
  std::vector<finding> f;
  const std::vector<rule_not_run> skipped = rules_not_run(e);
  for (const rule& r : rules) {
    const bool runs = std::none_of(skipped.begin(), skipped.end(),
                                   [&](const rule_not_run& s) { return s.id == r.id; });
    if (runs) r.run(e, f);
  }
  std::stable_sort(f.begin(), f.end(),
                   [](const finding& a, const finding& b) { return a.level > b.level; });
  return f;
}

int doctor_exit_code(const std::vector<finding>& f,
                     const std::vector<rule_not_run>& not_run) noexcept {
  if (!not_run.empty() && not_run.size() >= std::size(rules)) return 3;  // nothing diagnosed
  int code = 0;
  for (const finding& x : f) {
    if (x.level == severity::critical) return 2;
    if (x.level == severity::warning) code = 1;
  }
  return code;
}

}  // namespace ssfast
