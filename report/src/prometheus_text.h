// SPDX-License-Identifier: Apache-2.0
// Writing Prometheus text exposition (0.0.4): HELP and TYPE lines, samples, escaped label
// values. Shared by report/'s renderers; not installed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

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

inline void sample(std::string& out, std::string_view name, std::string_view labels,
                   std::int64_t v) {
  out += name;
  if (!labels.empty()) {
    out.push_back('{');
    out += labels;
    out.push_back('}');
  }
  out.push_back(' ');
  out += std::to_string(v);
  out.push_back('\n');
}

/// Appends `,name="value"` (no comma after an opening '{'), the value escaped as the format
/// requires: backslash, double quote and newline.
inline void label(std::string& out, std::string_view name, std::string_view value) {
  if (!out.empty() && out.back() != '{') out.push_back(',');
  out += name;
  out += "=\"";
  for (char c : value) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  out.push_back('"');
}

}  // namespace ssfast::report_detail
