// SPDX-License-Identifier: Apache-2.0
// One summary collected through a collector: the sockets and the counters beside them.
#include <string>
#include <utility>
#include <vector>

#include "ssfast/ssfast.h"

namespace ssfast {

std::error_code collect_summary(collector& c, const summary_request& r, summary_data& out,
                                std::string& error) {
  out.sockets = {};
  if (r.counted != nullptr) {
    out.sockets = *r.counted;
  } else if (auto ec = r.query != nullptr ? c.count(out.sockets, *r.query)
                                          : c.count(out.sockets, r.scope, r.method)) {
    error = c.error_text(ec);
    return ec;
  }
  kernel_counters counters;
  out.every_counter.clear();
  // Prometheus carries every counter: one read of each file gives both.
  const std::error_code counters_ec = r.every_counter
                                          ? c.read_all_counters(out.every_counter, counters)
                                          : c.read_counters(counters);
  // Counters are context, not the answer: reported missing, the result kept.
  if (counters_ec) {
    out.counters.reset();
    out.counters_error = c.error_text(counters_ec);
    out.every_counter.clear();
  } else {
    out.counters = counters;
    out.counters_error.clear();
  }
  out.source = c.source();
  out.fallback_reason = c.fallback_text();
  return {};
}

}  // namespace ssfast
