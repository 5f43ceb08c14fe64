// SPDX-License-Identifier: Apache-2.0
// How many threads the library's parallel work uses by default: the CPUs it may run on, at
// most 8. Internal to api/.
#pragma once

#include <sched.h>

namespace ssfast::detail {

inline unsigned default_threads() noexcept {
  cpu_set_t set;
  const int n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
  return static_cast<unsigned>(n < 1 ? 1 : n > 8 ? 8 : n);
}

}  // namespace ssfast::detail
