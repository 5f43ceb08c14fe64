// SPDX-License-Identifier: Apache-2.0
// Nagios/Icinga plugin ranges and the check's verdict.
#include "ssfast/serve/check.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <tuple>

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
       {"tcp", "udp", "unix", "orphan", "tw", "tcp_inuse", "tcp_mem", "curr_estab"})
    if (m == name) return true;
  return false;
}

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
                       const std::vector<std::pair<std::string, double>>& metrics) {
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
                "SSFAST UNKNOWN - no metric '" + t.metric +
                    "' (established, syn_recv, time_wait, close_wait, ..., tcp, udp, unix, "
                    "orphan, tw, tcp_inuse, tcp_mem, curr_estab)"};
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
      why += t.metric + " " + format(v) + " (" + word + " range " + t.range.text + ")";
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

check_verdict check_sockets(collector& c, const count_scope& scope, count_method method,
                            const std::vector<threshold>& warn,
                            const std::vector<threshold>& crit) {
  socket_summary sockets;
  if (auto ec = c.count(sockets, scope, method))
    return {plugin_status::unknown, "SSFAST UNKNOWN - " + c.error_text(ec)};
  kernel_counters counters;
  const bool have_counters = !c.read_counters(counters);
  return evaluate(warn, crit, check_metrics(sockets, have_counters ? &counters : nullptr));
}

check_verdict check_sockets(collector& c, const socket_query& q, std::string_view filter,
                            const std::vector<threshold>& warn,
                            const std::vector<threshold>& crit) {
  // A threshold on a kernel counter (tw, orphan, ...): those are the namespace's, not the
  // matching sockets'. Said before any dump.
  for (const auto* list : {&warn, &crit})
    for (const threshold& t : *list)
      for (const auto& counter : counter_metrics)
        if (counter.first == t.metric)
          return {plugin_status::unknown,
                  "SSFAST UNKNOWN - " + t.metric +
                      " is a kernel counter of the whole namespace, not a count of the "
                      "sockets a filter selects"};
  socket_summary sockets;
  if (auto ec = c.count(sockets, q))
    return {plugin_status::unknown, "SSFAST UNKNOWN - " + c.error_text(ec)};
  check_verdict result = evaluate(warn, crit, check_metrics(sockets, nullptr));
  if (result.status == plugin_status::unknown) return result;
  // Said in the text part: the figures are the matching sockets', not the host's. A '|' would
  // start the perfdata and a newline end the plugin's first line: neither may come through.
  std::string label = " (matching ";
  for (char ch : filter) label.push_back(ch == '|' || ch == '\n' || ch == '\r' ? ' ' : ch);
  label.push_back(')');
  std::string& line = result.line;
  line.insert(std::min(line.find(" |"), line.size()), label);
  return result;
}

}  // namespace ssfast::serve
