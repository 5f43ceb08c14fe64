// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: text through the sockstat and snmp counter parsers.
#include <string_view>

#include "ssfast/proc/counters.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ssfast;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  kernel_counters k;
  auto visit = [](void* ctx, std::string_view g, std::string_view n, std::int64_t v) {
    // Every name handed out lies inside the input.
    if (g.empty() || n.empty()) __builtin_trap();
    proc::assign_counter(*static_cast<kernel_counters*>(ctx), g, n, v);
  };
  (void)proc::parse_sockstat(text, visit, &k);
  (void)proc::parse_snmp(text, visit, &k);
  return 0;
}
