// SPDX-License-Identifier: Apache-2.0
// The kernel counters as -s shows them, grouped and named as the kernel prints them; shared by
// the text, JSON and Prometheus renderers. Not installed.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

#include "ssfast/core/socket_summary.h"

namespace ssfast::report_detail {

/// One group's fields: name and value (unset when the kernel did not print it).
using field_list = std::span<const std::pair<std::string_view, const std::optional<std::int64_t>*>>;

/// Calls f(group, fields) for each group of kernel_counter_fields, in order.
template <class F>
inline void for_each_counter_group(const kernel_counters& k, F&& f) {
  constexpr std::size_t n = std::size(kernel_counter_fields);
  std::array<std::pair<std::string_view, const std::optional<std::int64_t>*>, n> fields;
  for (std::size_t i = 0; i < n;) {
    const std::string_view group = kernel_counter_fields[i].group;
    std::size_t used = 0;
    for (; i < n && kernel_counter_fields[i].group == group; ++i)
      fields[used++] = {kernel_counter_fields[i].name, &(k.*kernel_counter_fields[i].field)};
    f(group, field_list(fields.data(), used));
  }
}

}  // namespace ssfast::report_detail
