// SPDX-License-Identifier: Apache-2.0
// Writing `ssfast counters`: the kernel's counters by name, or their change over an interval.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>

#include "ssfast/core/export.h"

namespace ssfast {

/// Counters as collector::read_all_counters gives them: "Group.Field" = value, in file order.
using named_counter = std::pair<std::string, std::int64_t>;

/// Text for people and awk, or JSON for machines.
enum class counters_format : std::uint8_t { text, json };

/// Appends `counters`: "NAME VALUE" lines (names escaped: they come from /proc text), or one
/// JSON object {NAME: VALUE} and a newline. Allocates only to grow `out`.
SSFAST_API void render_counters(std::span<const named_counter> counters, counters_format f,
                                std::string& out);

/// Appends each of `now` with its change since `before` (0 for a counter `before` lacks) and
/// that change per second over `interval_s`: "NAME VALUE +DELTA RATE/s" lines, or
/// {"interval_s", "counters": {NAME: {"value", "delta", "per_s"}}} and a newline. A gauge
/// (counter_is_gauge: CurrEstab, sockstat's levels) has no rate: "NAME VALUE +DELTA", and no
/// "per_s". Allocates.
SSFAST_API void render_counter_changes(std::span<const named_counter> before,
                                       std::span<const named_counter> now, double interval_s,
                                       counters_format f, std::string& out);

}  // namespace ssfast
