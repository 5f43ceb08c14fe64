// SPDX-License-Identifier: Apache-2.0
// ssfast counters: the kernel's protocol counters by name, or their change over an interval;
// which counters the prefixes select is decided here, the writing is report/counters.h's.
#include "ssfast/report/counters.h"

#include <algorithm>
#include <vector>

#include "commands.h"
#include "ssfast/report/escape.h"

namespace ssfast::cli {
namespace {

using counter_list = std::vector<named_counter>;

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

// The counters the prefixes select, in file order.
counter_list selected(const options& o, const counter_list& all) {
  counter_list out;
  for (const auto& c : all)
    if (matches(o, c.first)) out.push_back(c);
  return out;
}

}  // namespace

int run_counters(collector& c, const options& o) {
  counter_list first, second;
  if (auto ec = c.read_all_counters(first)) return fail(exit_failure, c.error_text(ec));
  if (auto e = unmatched(o, first); !e.empty()) return fail(exit_usage, e);
  const counters_format f = o.json ? counters_format::json : counters_format::text;
  std::string out;
  if (o.delta <= 0) {
    render_counters(selected(o, first), f, out);
    return write_out(out);
  }
  timespec deadline{};
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  sleep_until(deadline, o.delta, c.exit_fd());  // early: the next read says why
  if (auto ec = c.read_all_counters(second)) return fail(exit_failure, c.error_text(ec));
  render_counter_changes(first, selected(o, second), o.delta, f, out);
  return write_out(out);
}

}  // namespace ssfast::cli
