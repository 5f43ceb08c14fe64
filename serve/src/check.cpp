// SPDX-License-Identifier: Apache-2.0
// Nagios/Icinga plugin ranges and the check's verdict.
#include "ssfast/serve/check.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <span>
#include <thread>
#include <tuple>

#include "ssfast/core/counter_ids.h"
#include "ssfast/doctor/doctor.h"
#include "ssfast/doctor/gather.h"

namespace ssfast::serve {
namespace {

bool parse_number(std::string_view s, double& v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return !s.empty() && ec == std::errc{} && p == s.data() + s.size() && std::isfinite(v);
}

std::string format(double v) {
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(v));
    return std::string(buf, p);
  }
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, p);
}

}  // namespace

std::string parse_range(std::string_view s, plugin_range& r) {
  r = plugin_range{};
  r.text = std::string(s);
  if (s.starts_with('@')) {
    r.inside = true;
    s.remove_prefix(1);
  }
  const std::size_t colon = s.find(':');
  if (colon == std::string_view::npos) {  // "10": 0..10
    if (!parse_number(s, r.hi)) return "'" + r.text + "' is not a range";
    r.lo = 0;
    // "N" means 0..N: a negative N is an empty range that alerts on every count (which is
    // never negative). Nobody means that; they mean the limit N without the sign.
    if (r.hi < 0)
      return "'" + r.text + "' means 0.." + r.text +
             ", which every count is outside; for an "
             "alert above " +
             format(-r.hi) + " write " + format(-r.hi);
    return {};
  }
  const std::string_view a = s.substr(0, colon), b = s.substr(colon + 1);
  if (a == "~")
    r.lo_infinite = true;
  else if (a.empty())
    r.lo = 0;
  else if (!parse_number(a, r.lo))
    return "'" + r.text + "' is not a range";
  if (b.empty())
    r.hi_infinite = true;
  else if (!parse_number(b, r.hi))
    return "'" + r.text + "' is not a range";
  if (!r.lo_infinite && !r.hi_infinite && r.lo > r.hi)
    return "'" + r.text + "': the start is above the end";
  return {};
}

bool alerts(const plugin_range& r, double v) noexcept {
  const bool in = (r.lo_infinite || v >= r.lo) && (r.hi_infinite || v <= r.hi);
  return r.inside ? in : !in;
}

std::string parse_thresholds(std::string_view s, std::vector<threshold>& out) {
  while (!s.empty()) {
    const std::size_t comma = s.find(',');
    const std::string_view item = s.substr(0, comma);
    s.remove_prefix(comma == std::string_view::npos ? s.size() : comma + 1);
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0)
      return "'" + std::string(item) + "' is not METRIC=RANGE";
    threshold t;
    t.metric = std::string(item.substr(0, eq));
    for (const threshold& earlier : out)
      if (earlier.metric == t.metric)
        return t.metric + " is given twice; give each metric one range";
    if (auto err = parse_range(item.substr(eq + 1), t.range); !err.empty()) return err;
    out.push_back(std::move(t));
  }
  return {};
}

namespace {

// "ESTABLISHED" -> "established": the metric of a TCP state.
std::string metric_name(tcp_state st) {
  std::string name(netstat_name(static_cast<std::uint8_t>(st)));
  for (char& c : name) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return name;
}

// Every metric check_metrics can give, measured or not.
bool is_metric(std::string_view name) {
  for (tcp_state st : netstat_states)
    if (metric_name(st) == name) return true;
  for (std::string_view m :
       {"tcp", "udp", "unix", "orphan", "tw", "tcp_inuse", "tcp_mem", "curr_estab", "listen_queue",
        "syn_queue", "listen_overflows", "listen_drops", "syn_drops", "syncookies_sent"})
    if (m == name) return true;
  return false;
}

constexpr std::string_view metric_list =
    "established, syn_recv, time_wait, close_wait, ..., tcp, udp, unix, orphan, tw, tcp_inuse, "
    "tcp_mem, curr_estab, listen_queue, syn_queue, listen_overflows, listen_drops, syn_drops, "
    "syncookies_sent";

}  // namespace

namespace {

// The metrics that are kernel counters (of the whole namespace), and their fields.
constexpr std::pair<std::string_view, std::optional<std::int64_t> kernel_counters::*>
    counter_metrics[] = {{"orphan", &kernel_counters::tcp_orphan},
                         {"tw", &kernel_counters::tcp_tw},
                         {"tcp_inuse", &kernel_counters::tcp_inuse},
                         {"tcp_mem", &kernel_counters::tcp_mem},
                         {"curr_estab", &kernel_counters::tcp_curr_estab}};

}  // namespace

std::vector<std::pair<std::string, double>> check_metrics(const socket_summary& s,
                                                          const kernel_counters* k) {
  std::vector<std::pair<std::string, double>> m;
  // Only what was measured: with -x or -u there is no TCP figure, not a TCP figure of 0.
  if (s.scope.tcp) {
    const state_counts tcp = s.tcp_histogram();
    for (tcp_state st : netstat_states)
      m.emplace_back(metric_name(st), static_cast<double>(tcp.netstat_count(st)));
    m.emplace_back("tcp", static_cast<double>(tcp.total()));
  }
  if (s.scope.udp) m.emplace_back("udp", static_cast<double>(s.udp_all().total()));
  if (s.scope.unix_domain) m.emplace_back("unix", static_cast<double>(s.unix_domain.total()));
  if (k != nullptr)
    for (const auto& [name, field] : counter_metrics)
      if (const auto& v = k->*field) m.emplace_back(name, static_cast<double>(*v));
  return m;
}

check_verdict evaluate(const std::vector<threshold>& warn, const std::vector<threshold>& crit,
                       const std::vector<std::pair<std::string, double>>& metrics,
                       const std::vector<std::pair<std::string, std::string>>& subjects) {
  auto subject_of = [&](const std::string& name) -> std::string {
    for (const auto& [n, who] : subjects)
      if (n == name) return " on " + who;
    return {};
  };
  auto value_of = [&](const std::string& name) -> const double* {
    for (const auto& [n, v] : metrics)
      if (n == name) return &v;
    return nullptr;
  };
  for (const auto* list : {&warn, &crit})
    for (const threshold& t : *list)
      if (value_of(t.metric) == nullptr) {
        if (is_metric(t.metric))
          return {plugin_status::unknown,
                  "SSFAST UNKNOWN - " + t.metric +
                      " was not measured (its protocol is not counted with these flags, or "
                      "its counter file could not be read)"};
        return {plugin_status::unknown,
                "SSFAST UNKNOWN - no metric '" + t.metric + "' (" + std::string(metric_list) + ")"};
      }
  plugin_status status = plugin_status::ok;
  std::string why;
  struct level_of {
    const std::vector<threshold>* list;
    plugin_status level;
    const char* word;
  };
  for (const auto& [list, level, word] : {level_of{&crit, plugin_status::critical, "critical"},
                                          level_of{&warn, plugin_status::warning, "warning"}}) {
    for (const threshold& t : *list) {
      const double v = *value_of(t.metric);
      if (!alerts(t.range, v)) continue;
      status = std::max(status, level);
      if (!why.empty()) why += ", ";
      why += t.metric + " " + format(v) + subject_of(t.metric) + " (" + word + " range " +
             t.range.text + ")";
    }
  }
  static constexpr const char* words[] = {"OK", "WARNING", "CRITICAL"};
  std::string line = std::string("SSFAST ") + words[static_cast<int>(status)] + " - ";
  if (why.empty()) {
    const double* tcp = value_of("tcp");
    const double* est = value_of("established");
    const double* tw = value_of("time_wait");
    line += format(tcp ? *tcp : 0) + " TCP sockets, " + format(est ? *est : 0) + " established, " +
            format(tw ? *tw : 0) + " time_wait";
  } else {
    line += why;
  }
  // Perfdata: label=value;warn;crit;min for every metric (labels need no quotes).
  line += " |";
  for (const auto& [name, v] : metrics) {
    std::string w, c;
    for (const threshold& t : warn)
      if (t.metric == name) w = t.range.text;
    for (const threshold& t : crit)
      if (t.metric == name) c = t.range.text;
    line += " " + name + "=" + format(v) + ";" + w + ";" + c + ";0";
  }
  return {status, line};
}

namespace {

bool named(const std::vector<threshold>& warn, const std::vector<threshold>& crit,
           std::string_view metric) {
  for (const auto* list : {&warn, &crit})
    for (const threshold& t : *list)
      if (t.metric == metric) return true;
  return false;
}

using metric_list_t = std::vector<std::pair<std::string, double>>;
using subject_list_t = std::vector<std::pair<std::string, std::string>>;

// The namespace's rates a threshold may name: per second over the interval.
struct rate_metric {
  std::string_view name;
  counter_id id;
};
constexpr rate_metric namespace_rates[] = {{"listen_overflows", counter_id::listen_overflows},
                                           {"listen_drops", counter_id::listen_drops},
                                           {"syn_drops", counter_id::listen_drops},
                                           {"syncookies_sent", counter_id::syncookies_sent}};

// listen_queue and syn_queue: the fullest of the listeners `filter` selects (every one when
// null), judged with the doctor's own limits (syn_queue_limit_of). From /proc there are no
// backlogs: not measured. Returns an error text, or empty.
std::string add_listener_metrics(collector& c, const socket_query* filter, metric_list_t& m,
                                 subject_list_t& who) {
  if (c.source() != source_kind::netlink) return {};
  std::vector<listener_evidence> listeners;
  if (auto ec = gather_listeners(c, filter, listeners)) return c.error_text(ec);
  doctor_sysctls sysctls;
  std::map<std::string, std::string> unreadable;
  read_doctor_sysctls(c, sysctls, unreadable);
  double accept = 0, syn = 0;
  std::string accept_at, syn_at;
  for (const listener_evidence& l : listeners) {
    // sk_acceptq_is_full(): a queue over its backlog; a backlog of 0 is full with one waiting.
    const double fill = 100.0 * l.accept_queue / std::max<std::uint32_t>(l.backlog, 1);
    if (accept_at.empty() || fill > accept) {
      accept = fill;
      accept_at = l.address;
    }
    const syn_queue_limit lim = syn_queue_limit_of(l.syn_backlog, l.siblings, sysctls);
    const double half_open = lim.slots > 0
                                 ? 100.0 * static_cast<double>(std::min(l.syn_recv, lim.slots)) /
                                       static_cast<double>(lim.slots)
                                 : 0;
    if (syn_at.empty() || half_open > syn) {
      syn = half_open;
      syn_at = l.address;
    }
  }
  auto round1 = [](double v) { return std::round(v * 10) / 10; };
  m.emplace_back("listen_queue", round1(accept));
  m.emplace_back("syn_queue", round1(syn));
  if (!accept_at.empty()) who.emplace_back("listen_queue", accept_at);
  if (!syn_at.empty()) who.emplace_back("syn_queue", syn_at);
  return {};
}

double per_second(std::int64_t d, double seconds) {
  return std::round(static_cast<double>(std::max<std::int64_t>(0, d)) / seconds * 10) / 10;
}

// The rates a threshold names, over `interval_s`: the namespace's counters, or, for the
// listeners a filter selects, listen_drops as the sum of their own drop counters
// (SK_MEMINFO_DROPS). Returns an error text, or empty.
std::string add_rates(collector& c, const socket_query* filter, double interval_s,
                      const std::vector<threshold>& warn, const std::vector<threshold>& crit,
                      metric_list_t& m) {
  bool any = false;
  for (const rate_metric& r : namespace_rates) any |= named(warn, crit, r.name);
  if (!any) return {};
  const auto interval = std::chrono::duration<double>(interval_s);
  if (filter != nullptr) {
    std::vector<listener_evidence> before, after;
    if (auto ec = gather_listeners(c, filter, before)) return c.error_text(ec);
    const auto start = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(interval);
    if (auto ec = gather_listeners(c, filter, after)) return c.error_text(ec);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (c.source() != source_kind::netlink) return {};  // no drop counters in /proc
    std::int64_t drops = 0;
    for (const listener_evidence& l : after) drops += static_cast<std::int64_t>(l.drops);
    for (const listener_evidence& l : before) drops -= static_cast<std::int64_t>(l.drops);
    m.emplace_back("listen_drops", per_second(drops, seconds));
    return {};
  }
  std::vector<std::pair<std::string, std::int64_t>> a, b;
  if (auto ec = c.read_all_counters(a)) return c.error_text(ec);
  const auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(interval);
  if (auto ec = c.read_all_counters(b)) return c.error_text(ec);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // The rates' counters, and ListenOverflows for syn_drops, picked from each read.
  static_assert(std::size(namespace_rates) == 4, "one id below per rate");
  constexpr std::array<counter_id, std::size(namespace_rates) + 1> ids = {
      namespace_rates[0].id, namespace_rates[1].id, namespace_rates[2].id, namespace_rates[3].id,
      counter_id::listen_overflows};
  const auto was = pick_counters(std::span<const std::pair<std::string, std::int64_t>>(a), ids);
  const auto now = pick_counters(std::span<const std::pair<std::string, std::int64_t>>(b), ids);
  auto change = [&](std::size_t i) -> std::optional<std::int64_t> {
    if (!was[i] || !now[i]) return std::nullopt;
    return *now[i] - *was[i];
  };
  const auto overflows = change(ids.size() - 1);
  for (std::size_t i = 0; i < std::size(namespace_rates); ++i) {
    const rate_metric& r = namespace_rates[i];
    auto d = change(i);
    // ListenDrops counts every SYN dropped at a listener (tcp_listendrop()), the 3/4 drops of
    // tcp_syncookies=0 too, which TCPReqQFullDrop misses; ListenOverflows are the accept
    // queue's part.
    if (r.name == "syn_drops") d = d && overflows ? std::optional(*d - *overflows) : std::nullopt;
    if (d) m.emplace_back(std::string(r.name), per_second(*d, seconds));
  }
  return {};
}

}  // namespace

check_verdict check_sockets(collector& c, const count_scope& scope, count_method method,
                            const std::vector<threshold>& warn, const std::vector<threshold>& crit,
                            double interval_s) {
  socket_summary sockets;
  if (auto ec = c.count(sockets, scope, method))
    return {plugin_status::unknown, "SSFAST UNKNOWN - " + c.error_text(ec)};
  kernel_counters counters;
  const bool have_counters = !c.read_counters(counters);
  metric_list_t m = check_metrics(sockets, have_counters ? &counters : nullptr);
  subject_list_t who;
  std::string err;
  if (named(warn, crit, "listen_queue") || named(warn, crit, "syn_queue"))
    err = add_listener_metrics(c, nullptr, m, who);
  if (err.empty()) err = add_rates(c, nullptr, interval_s, warn, crit, m);
  if (!err.empty()) return {plugin_status::unknown, "SSFAST UNKNOWN - " + err};
  return evaluate(warn, crit, m, who);
}

check_verdict check_sockets(collector& c, const socket_query& q, std::string_view filter,
                            const std::vector<threshold>& warn, const std::vector<threshold>& crit,
                            double interval_s) {
  // A threshold on a kernel counter (tw, orphan, ...) or on a namespace's rate: those are the
  // namespace's, not the matching sockets'. Said before any dump.
  for (const auto* list : {&warn, &crit})
    for (const threshold& t : *list) {
      for (const auto& counter : counter_metrics)
        if (counter.first == t.metric)
          return {plugin_status::unknown,
                  "SSFAST UNKNOWN - " + t.metric +
                      " is a kernel counter of the whole namespace, not a count of the "
                      "sockets a filter selects"};
      for (const rate_metric& r : namespace_rates)
        if (r.name == t.metric && r.name != "listen_drops")
          return {plugin_status::unknown,
                  "SSFAST UNKNOWN - " + t.metric +
                      " is a rate of the whole namespace's counters, not of the listeners a "
                      "filter selects (listen_drops is theirs)"};
    }
  socket_summary sockets;
  if (auto ec = c.count(sockets, q))
    return {plugin_status::unknown, "SSFAST UNKNOWN - " + c.error_text(ec)};
  metric_list_t m = check_metrics(sockets, nullptr);
  subject_list_t who;
  std::string err;
  if (named(warn, crit, "listen_queue") || named(warn, crit, "syn_queue"))
    err = add_listener_metrics(c, &q, m, who);
  if (err.empty()) err = add_rates(c, &q, interval_s, warn, crit, m);
  if (!err.empty()) return {plugin_status::unknown, "SSFAST UNKNOWN - " + err};
  check_verdict result = evaluate(warn, crit, m, who);
  if (result.status == plugin_status::unknown) return result;
  // Said in the text part: the figures are the matching sockets', not the host's. A '|' would
  // start the perfdata and a newline end the plugin's first line: neither may come through,
  // and a filter's `|` and `||` mean "or", so they are written so.
  std::string label = " (matching ";
  for (std::size_t i = 0; i < filter.size(); ++i) {
    const char ch = filter[i];
    if (ch == '|') {
      if (i + 1 < filter.size() && filter[i + 1] == '|') ++i;
      label += "or";
    } else {
      label.push_back(ch == '\n' || ch == '\r' ? ' ' : ch);
    }
  }
  label.push_back(')');
  std::string& line = result.line;
  line.insert(std::min(line.find(" |"), line.size()), label);
  return result;
}

}  // namespace ssfast::serve
