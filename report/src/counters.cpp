// SPDX-License-Identifier: Apache-2.0
// `ssfast counters` written as lines or JSON.
#include "ssfast/report/counters.h"

#include <cstdio>
#include <map>

#include "ssfast/core/counter_ids.h"
#include "ssfast/report/escape.h"
#include "ssfast/report/json_writer.h"

namespace ssfast {

void render_counters(std::span<const named_counter> counters, counters_format f, std::string& out) {
  json_writer w(out);
  if (f == counters_format::json) w.begin_object();
  for (const auto& [name, v] : counters) {
    if (f == counters_format::json) {
      w.key(name).value(v);
    } else {
      append_printable(out, name);
      out.push_back(' ');
      out += std::to_string(v);
      out.push_back('\n');
    }
  }
  if (f == counters_format::json) {
    w.end_object();
    out.push_back('\n');
  }
}

void render_counter_changes(std::span<const named_counter> before,
                            std::span<const named_counter> now, double interval_s,
                            counters_format f, std::string& out) {
  json_writer w(out);
  char num[64];
  const std::map<std::string, std::int64_t> first(before.begin(), before.end());
  const bool json = f == counters_format::json;
  if (json) w.begin_object().key("interval_s").value(interval_s).key("counters").begin_object();
  for (const auto& [name, v] : now) {
    const auto it = first.find(name);
    const std::int64_t d = it == first.end() ? 0 : v - it->second;
    const double rate = static_cast<double>(d) / interval_s;
    // A gauge (CurrEstab, sockstat's levels) has a change, not a rate.
    const bool gauge = counter_is_gauge(name);
    if (json) {
      w.key(name).begin_object().key("value").value(v).key("delta").value(d);
      if (!gauge) w.key("per_s").fixed(rate, 3);
      w.end_object();
    } else {
      if (gauge)
        std::snprintf(num, sizeof num, " %+lld\n", static_cast<long long>(d));
      else
        std::snprintf(num, sizeof num, " %+lld %.2f/s\n", static_cast<long long>(d), rate);
      append_printable(out, name);
      out.push_back(' ');
      out += std::to_string(v);
      out += num;
    }
  }
  if (json) {
    w.end_object().end_object();
    out.push_back('\n');
  }
}

}  // namespace ssfast
