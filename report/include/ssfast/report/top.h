// SPDX-License-Identifier: Apache-2.0
// Writing `top`'s groups: the shape of `uniq -c` for people, one line per report for a pipe
// under --watch, JSON for machines.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ssfast/all_netns.h"
#include "ssfast/core/export.h"
#include "ssfast/core/grouping.h"

namespace ssfast {

enum class top_layout : std::uint8_t {
  columns,   ///< one "  COUNT KEY" line per group, the count right-aligned in 7 columns
  one_line,  ///< --watch on a pipe: "TIME COUNT:KEY COUNT:KEY ..." per report
  json,      ///< {"time", "entries": [{"count", "key"}], ["repeats_dropped"]} and a newline
};

/// Appends `entries` in `layout`. `time` ("2026-11-29T21:22:07Z") heads one_line and json;
/// `repeats` (sockets a dump reported twice and the counts hold once) is said in json when set.
/// Keys are escaped: a process name cannot forge a line, nor on one line a COUNT:KEY field.
/// Under a metric the count is its sum (JSON adds "sockets"); for rtt each line reads
/// "P50_MS P99_MS SOCKETS KEY" (one_line "P50US/P99US:KEY", JSON rtt_p50_us and rtt_p99_us).
/// Allocates only to grow `out`.
SSFAST_API void render_top(std::span<const top_entry> entries, top_layout layout,
                           std::string_view time, std::optional<std::uint64_t> repeats,
                           std::string& out, top_metric metric = top_metric::sockets);

/// A namespace as `top netns` keys it: its inode and whatever names it, "4026532301 blue",
/// "4026532301 nginx(8812) container 3f4a9c2e1b7d pod UID". Allocates.
SSFAST_API std::string netns_key(const netns_count& n);

}  // namespace ssfast
