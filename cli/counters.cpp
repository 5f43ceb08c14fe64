// SPDX-License-Identifier: Apache-2.0
// ssfast counters: the kernel's protocol counters by name, or their change over an interval.
#include <algorithm>
#include <cstdio>
#include <map>
#include <vector>

#include "commands.h"
#include "ssfast/report/escape.h"
#include "ssfast/report/json_writer.h"

namespace ssfast::cli {
namespace {

using counter_list = std::vector<std::pair<std::string, std::int64_t>>;

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  return s.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), s.begin(),
                    [&](char a, char b) { return lower(a) == lower(b); });
}

// Prefixes match in any case (`tcp.` is Tcp.*): a person types names as they remember them.
bool matches(const options& o, const std::string& name) {
  if (o.prefixes.empty()) return true;
  for (const auto& p : o.prefixes)
    if (starts_with_nocase(name, p)) return true;
  return false;
}

// A prefix that matches no counter is a mistake, not an empty answer: says which, and the
// groups there are.
std::string unmatched(const options& o, const counter_list& all) {
  for (const auto& p : o.prefixes) {
    if (std::any_of(all.begin(), all.end(),
                    [&](const auto& c) { return starts_with_nocase(c.first, p); }))
      continue;
    std::vector<std::string> groups;
    for (const auto& [name, v] : all) {
      std::string g = name.substr(0, name.find('.'));
      if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);
    }
    std::string msg = "counters: no counter name starts with '";
    append_printable(msg, p);
    msg += "' (groups here:";
    for (const auto& g : groups) msg += " " + g + ".";
    return msg + ")";
  }
  return {};
}

void append_values(const options& o, const counter_list& all, std::string& out) {
  json_writer w(out);
  if (o.json) w.begin_object();
  for (const auto& [name, v] : all) {
    if (!matches(o, name)) continue;
    if (o.json) {
      w.key(name).value(v);
    } else {
      // Counter names come from /proc text: printed escaped, as every name is.
      append_printable(out, name);
      out.push_back(' ');
      out += std::to_string(v);
      out.push_back('\n');
    }
  }
  if (o.json) {
    w.end_object();
    out.push_back('\n');
  }
}

void append_deltas(const options& o, const counter_list& first, const counter_list& second,
                   std::string& out) {
  json_writer w(out);
  char num[64];
  std::map<std::string, std::int64_t> before(first.begin(), first.end());
  if (o.json) w.begin_object().key("interval_s").value(o.delta).key("counters").begin_object();
  for (const auto& [name, v] : second) {
    if (!matches(o, name)) continue;
    const auto it = before.find(name);
    const std::int64_t d = it == before.end() ? 0 : v - it->second;
    const double rate = static_cast<double>(d) / o.delta;
    if (o.json) {
      w.key(name).begin_object().key("value").value(v).key("delta").value(d);
      w.key("per_s").fixed(rate, 3).end_object();
    } else {
      std::snprintf(num, sizeof num, " %+lld %.2f/s\n", static_cast<long long>(d), rate);
      append_printable(out, name);
      out.push_back(' ');
      out += std::to_string(v);
      out += num;
    }
  }
  if (o.json) {
    w.end_object().end_object();
    out.push_back('\n');
  }
}

}  // namespace

int run_counters(collector& c, const options& o) {
  counter_list first, second;
  if (auto ec = c.read_all_counters(first)) return fail(exit_failure, c.error_text(ec));
  if (auto e = unmatched(o, first); !e.empty()) return fail(exit_usage, e);
  std::string out;
  if (o.delta <= 0) {
    append_values(o, first, out);
    return write_out(out);
  }
  timespec deadline{};
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  sleep_until(deadline, o.delta, c.exit_fd());  // early: the next read says why
  if (auto ec = c.read_all_counters(second)) return fail(exit_failure, c.error_text(ec));
  append_deltas(o, first, second, out);
  return write_out(out);
}

}  // namespace ssfast::cli
