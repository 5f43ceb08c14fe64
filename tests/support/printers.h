// SPDX-License-Identifier: Apache-2.0
// GoogleTest printers for ssfast's count types, so a failed comparison shows the states.
#pragma once

#include <ostream>

#include "ssfast/core/socket_summary.h"
#include "ssfast/core/state_counts.h"

namespace ssfast {

inline void PrintTo(const state_counts& c, std::ostream* os) {
  *os << "{";
  bool first = true;
  for (std::size_t s = 0; s < state_slots; ++s) {
    if (c[s] == 0) continue;
    if (!first) *os << ", ";
    first = false;
    const auto name = netstat_name(static_cast<std::uint8_t>(s));
    if (name.empty())
      *os << "state" << s;
    else
      *os << name;
    *os << "=" << c[s];
  }
  *os << "}";
}

inline void PrintTo(const unix_counts& c, std::ostream* os) {
  *os << "{stream=" << c.by_type[1] << ", dgram=" << c.by_type[2] << ", seqpacket=" << c.by_type[5]
      << ", states=";
  PrintTo(c.states, os);
  *os << "}";
}

}  // namespace ssfast
