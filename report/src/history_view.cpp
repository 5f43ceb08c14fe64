// SPDX-License-Identifier: Apache-2.0
// Recorded samples as a table, CSV or JSON Lines (see ssfast/report/history_view.h).
#include "ssfast/report/history_view.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <vector>

#include "ssfast/core/addresses.h"
#include "ssfast/core/kernel_abi.h"
#include "ssfast/report/escape.h"
#include "ssfast/report/json_writer.h"
#include "ssfast/report/screen.h"
#include "ssfast/report/summary.h"

namespace ssfast {
namespace {

// A state's column: netstat's name, shortened where it is long (sar's columns are narrow).
std::string column_of(tcp_state st) {
  std::string n(netstat_name(static_cast<std::uint8_t>(st)));
  if (n == "ESTABLISHED") return "ESTAB";
  return n;
}

std::uint64_t state_total(const history_sample& s, tcp_state st) {
  return s.tcp[0].netstat_count(st) + s.tcp[1].netstat_count(st);
}

std::uint64_t udp_total(const history_sample& s) {
  return s.udp[0] + s.udp[1] + s.udp[2] + s.udp[3];
}

std::uint64_t unix_total(const history_sample& s) {
  return s.unix_sockets[0] + s.unix_sockets[1] + s.unix_sockets[2];
}

tm broken_down(std::int64_t time_ms, history_clock clock) {
  const time_t secs = static_cast<time_t>(time_ms / 1000);
  tm t{};
  if (clock == history_clock::utc)
    gmtime_r(&secs, &t);
  else
    localtime_r(&secs, &t);
  return t;
}

// The numbers of one line: states, UDP, UNIX, then the rates (NaN: not known).
void values_of(const history_record& r, std::span<const tcp_state> states, std::vector<double>& v) {
  v.clear();
  for (tcp_state st : states) v.push_back(static_cast<double>(state_total(r.sample, st)));
  v.push_back(static_cast<double>(udp_total(r.sample)));
  v.push_back(static_cast<double>(unix_total(r.sample)));
  for (const history_rate_column& c : history_rates) {
    const auto rate = history_rate(r, c.id);
    v.push_back(rate ? *rate : std::numeric_limits<double>::quiet_NaN());
  }
}

std::vector<std::string> columns_of(std::span<const tcp_state> states) {
  std::vector<std::string> c;
  for (tcp_state st : states) c.push_back(column_of(st));
  c.emplace_back("UDP");
  c.emplace_back("UNIX");
  for (const history_rate_column& r : history_rates) c.emplace_back(r.column);
  return c;
}

void cell(std::string& out, double v, std::size_t width, bool rate) {
  char buf[48];
  if (v != v)
    std::snprintf(buf, sizeof buf, " %*s", static_cast<int>(width), "-");
  else if (rate)
    std::snprintf(buf, sizeof buf, " %*.2f", static_cast<int>(width), v);
  else
    std::snprintf(buf, sizeof buf, " %*.0f", static_cast<int>(width), v);
  out += buf;
}

}  // namespace

std::optional<double> history_rate(const history_record& r, counter_id id) noexcept {
  const auto i = static_cast<std::size_t>(id);
  if (r.delta_ms <= 0 || !r.delta[i] || r.reset[i]) return std::nullopt;
  return static_cast<double>(*r.delta[i]) * 1000.0 / static_cast<double>(r.delta_ms);
}

std::string iso_utc(std::int64_t time_ms) {
  const tm t = broken_down(time_ms, history_clock::utc);
  char buf[64];  // room for any int a tm holds
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", t.tm_year + 1900, t.tm_mon + 1,
                t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec);
  return buf;
}

std::string history_time(std::int64_t time_ms, history_clock clock, bool dated) {
  const tm t = broken_down(time_ms, clock);
  char buf[64];  // room for any int a tm holds
  if (dated)
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", t.tm_year + 1900, t.tm_mon + 1,
                  t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec);
  else
    std::snprintf(buf, sizeof buf, "%02d:%02d:%02d", t.tm_hour, t.tm_min, t.tm_sec);
  return buf;
}

bool history_spans_days(std::int64_t first_ms, std::int64_t last_ms, history_clock clock) {
  const tm a = broken_down(first_ms, clock), b = broken_down(last_ms, clock);
  return a.tm_year != b.tm_year || a.tm_yday != b.tm_yday;
}

history_text_writer::history_text_writer(std::span<const tcp_state> states, history_clock clock,
                                         bool dated, bool flags, unsigned sparkline_width,
                                         bool utf8, std::string& out)
    : states_(states.begin(), states.end()),
      cols_(columns_of(states)),
      clock_(clock),
      dated_(dated),
      flags_(flags),
      sparkline_width_(sparkline_width),
      utf8_(utf8),
      out_(out) {
  rates_from_ = states_.size() + 2;
  width_.resize(cols_.size());
  for (std::size_t i = 0; i < cols_.size(); ++i)
    width_[i] = std::max<std::size_t>(cols_[i].size(), 7);
  lo_.assign(cols_.size(), std::numeric_limits<double>::infinity());
  hi_.assign(cols_.size(), -std::numeric_limits<double>::infinity());
  sum_.assign(cols_.size(), 0);
  n_.assign(cols_.size(), 0);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%-*s", static_cast<int>(dated_ ? 19 : 8),
                clock_ == history_clock::utc ? "UTC" : "TIME");
  out_ += buf;
  for (std::size_t i = 0; i < cols_.size(); ++i) {
    std::snprintf(buf, sizeof buf, " %*s", static_cast<int>(width_[i]), cols_[i].c_str());
    out_ += buf;
  }
  if (flags_) out_ += "  FLAGS";
  out_.push_back('\n');
}

void history_text_writer::row(const history_record& r, std::string_view flag) {
  out_ += history_time(r.sample.time_ms, clock_, dated_);
  values_of(r, states_, v_);
  for (std::size_t i = 0; i < v_.size(); ++i) {
    cell(out_, v_[i], width_[i], i >= rates_from_);
    if (v_[i] != v_[i]) continue;
    lo_[i] = std::min(lo_[i], v_[i]);
    hi_[i] = std::max(hi_[i], v_[i]);
    sum_[i] += v_[i];
    ++n_[i];
  }
  if (flags_ && !flag.empty()) {
    out_ += "  ";
    append_printable(out_, flag);
  }
  out_.push_back('\n');
  if (sparkline_width_ > 0) kept_.insert(kept_.end(), v_.begin(), v_.end());
  ++rows_;
}

void history_text_writer::finish(std::span<const std::string> notes) {
  if (rows_ == 0) return;
  char buf[64];
  // sar's closing lines: the least, the mean and the most of each column over the range.
  for (const char* what : {"Min", "Average", "Max"}) {
    std::snprintf(buf, sizeof buf, "%-*s", static_cast<int>(dated_ ? 19 : 8), what);
    out_ += buf;
    for (std::size_t i = 0; i < cols_.size(); ++i) {
      const double nan = std::numeric_limits<double>::quiet_NaN();
      const double v = n_[i] == 0                        ? nan
                       : std::string_view(what) == "Min" ? lo_[i]
                       : std::string_view(what) == "Max" ? hi_[i]
                                                         : sum_[i] / static_cast<double>(n_[i]);
      const bool fraction = i >= rates_from_ || std::string_view(what) == "Average";
      cell(out_, v, width_[i], fraction);
    }
    out_.push_back('\n');
  }
  if (sparkline_width_ > 0) {
    // Each mark the most of its share of the rows: a one-sample spike still shows.
    const std::size_t label = 10, range = 24, n = rows_, stride = cols_.size();
    const std::size_t marks = std::clamp<std::size_t>(
        sparkline_width_ > label + range + 2 ? sparkline_width_ - label - range - 2 : 0,
        std::min<std::size_t>(10, n), n);
    out_ += "\nOldest to newest";
    if (marks < n)
      out_ += ", each mark the most of " + std::to_string((n + marks - 1) / marks) + " samples";
    out_ += ":\n";
    for (std::size_t i = 0; i < cols_.size(); ++i) {
      if (n_[i] == 0) continue;
      const bool rate = i >= rates_from_;
      series s(marks);
      for (std::size_t m = 0; m < marks; ++m) {
        double top = 0;
        for (std::size_t row = m * n / marks; row < (m + 1) * n / marks; ++row) {
          const double x = kept_[row * stride + i];
          if (x == x) top = std::max(top, x);
        }
        s.push(static_cast<std::uint64_t>(std::llround(rate ? top * 100 : top)));
      }
      std::snprintf(buf, sizeof buf, "%-*s ", static_cast<int>(label), cols_[i].c_str());
      out_ += buf;
      out_ += sparkline(s, marks, utf8_);
      std::snprintf(buf, sizeof buf, rate ? "  %.2f to %.2f" : "  %.0f to %.0f", lo_[i], hi_[i]);
      out_ += buf;
      out_.push_back('\n');
    }
  }
  if (!notes.empty()) out_.push_back('\n');
  for (const std::string& note : notes) {
    append_printable(out_, note);
    out_.push_back('\n');
  }
}

void render_history_text(std::span<const history_record> rows, std::span<const tcp_state> states,
                         history_clock clock, std::string& out, const history_extras* extras) {
  const bool flags = extras != nullptr && extras->flags.size() == rows.size() && !rows.empty();
  const bool dated = !rows.empty() && history_spans_days(rows.front().sample.time_ms,
                                                         rows.back().sample.time_ms, clock);
  history_text_writer w(states, clock, dated, flags, extras != nullptr ? extras->width : 0,
                        extras == nullptr || extras->utf8, out);
  for (std::size_t i = 0; i < rows.size(); ++i)
    w.row(rows[i], flags ? std::string_view(extras->flags[i]) : std::string_view());
  if (extras != nullptr)
    w.finish(extras->notes);
  else
    w.finish();
}

void history_csv_header(std::span<const tcp_state> states, std::string& out) {
  out += "time";
  for (const std::string& c : columns_of(states)) out += "," + c;
  out += "\r\n";
}

void history_csv_row(const history_record& r, std::span<const tcp_state> states, std::string& out) {
  thread_local std::vector<double> v;
  const std::size_t rates_from = states.size() + 2;
  char buf[48];
  out += iso_utc(r.sample.time_ms);
  values_of(r, states, v);
  for (std::size_t i = 0; i < v.size(); ++i) {
    out.push_back(',');
    if (v[i] != v[i]) continue;
    std::snprintf(buf, sizeof buf, i >= rates_from ? "%.3f" : "%.0f", v[i]);
    out += buf;
  }
  out += "\r\n";
}

void render_history_csv(std::span<const history_record> rows, std::span<const tcp_state> states,
                        std::string& out) {
  history_csv_header(states, out);
  for (const history_record& r : rows) history_csv_row(r, states, out);
}

void render_history_json(const history_record& r, std::string& out) {
  const history_sample& s = r.sample;
  const socket_summary sum = history_summary(s);
  json_writer w(out);
  w.begin_object();
  w.key("time").value(iso_utc(s.time_ms));
  w.key("interval_s");
  if (r.delta_ms > 0)
    w.fixed(static_cast<double>(r.delta_ms) / 1000.0, 3);
  else
    w.null();
  w.key("source").value(s.source == 1 ? "proc" : "netlink");
  write_summary_sockets(w, sum);
  w.key("counters").begin_object();
  std::string_view group;
  for (const kernel_counter_field& f : kernel_counter_fields) {
    const auto& v = s.levels.*f.field;
    if (!v) continue;
    if (f.group != group) {
      if (!group.empty()) w.end_object();
      group = f.group;
      w.key(group).begin_object();
    }
    w.key(f.name).value(static_cast<std::int64_t>(*v));
  }
  if (!group.empty()) w.end_object();
  w.end_object();
  w.key("rates").begin_object();
  for (const history_rate_column& c : history_rates) {
    w.key(counter_name(c.id));
    if (const auto rate = history_rate(r, c.id))
      w.fixed(*rate, 3);
    else
      w.null();
  }
  w.end_object();
  w.key("listeners").begin_array();
  for (const history_listener& l : s.listeners) {
    // AF_INET6 (10) or AF_INET (2), as ss writes an endpoint.
    w.begin_object().key("address").value(endpoint_text(l.family == 6 ? 10 : 2, l.address, l.port));
    w.key("accept_queue").value(std::uint64_t{l.accept_queue});
    w.key("backlog").value(std::uint64_t{l.backlog});
    w.key("syn_recv");
    if (l.syn_recv)
      w.value(std::uint64_t{*l.syn_recv});
    else
      w.null();
    w.end_object();
  }
  w.end_array();
  w.end_object();
  out.push_back('\n');
}

}  // namespace ssfast
