// SPDX-License-Identifier: Apache-2.0
// Writing Prometheus text exposition (0.0.4): HELP and TYPE lines, samples, escaped label
// values. Shared by report/'s renderers; not installed.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "ssfast/report/escape.h"

namespace ssfast::report_detail {

inline void metric_header(std::string& out, std::string_view name, std::string_view type,
                          std::string_view help) {
  out += "# HELP ";
  out += name;
  out.push_back(' ');
  out += help;
  out += "\n# TYPE ";
  out += name;
  out.push_back(' ');
  out += type;
  out.push_back('\n');
}

/// One sample line: name, {labels} when there are any, the value's text.
inline void sample_text(std::string& out, std::string_view name, std::string_view labels,
                        std::string_view value) {
  out += name;
  if (!labels.empty()) {
    out.push_back('{');
    out += labels;
    out.push_back('}');
  }
  out.push_back(' ');
  out += value;
  out.push_back('\n');
}

inline void sample(std::string& out, std::string_view name, std::string_view labels,
                   std::int64_t v) {
  sample_text(out, name, labels, std::to_string(v));
}

/// A sample of a value with `decimals` digits after the point ("0.012345").
inline void sample_fixed(std::string& out, std::string_view name, std::string_view labels, double v,
                         int decimals) {
  char num[64];
  const int n = std::snprintf(num, sizeof num, "%.*f", decimals, v);
  sample_text(out, name, labels,
              std::string_view(num, n > 0 ? std::min<std::size_t>(n, sizeof num - 1) : 0));
}

/// Appends `,name="value"` (no comma after an opening '{'), the value escaped as the format
/// requires (backslash, double quote and newline) and repaired to UTF-8.
inline void label(std::string& out, std::string_view name, std::string_view value) {
  if (!out.empty() && out.back() != '{') out.push_back(',');
  out += name;
  out += "=\"";
  // The exposition format escapes '\\', '"' and newline; the value must be UTF-8 (a name
  // from `ip netns add` may hold any byte, and one bad byte fails the whole scrape), so a
  // byte outside a well-formed sequence becomes U+FFFD, as in JSON strings.
  while (!value.empty()) {
    const std::size_t n = utf8_sequence_length(value);
    const char c = value.front();
    if (n == 0)
      out += "\xEF\xBF\xBD";
    else if (c == '\\' || c == '"')
      out.append({'\\', c});
    else if (c == '\n')
      out += "\\n";
    else
      out.append(value.substr(0, n));
    value.remove_prefix(n == 0 ? 1 : n);
  }
  out.push_back('"');
}

}  // namespace ssfast::report_detail
