// SPDX-License-Identifier: Apache-2.0
// One summary collected through a collector and rendered: what -s, --textfile and /metrics say.
#include <string>
#include <utility>
#include <vector>

#include "ssfast/report/summary.h"
#include "ssfast/ssfast.h"

namespace ssfast {

std::error_code collect_summary(collector& c, const summary_request& r, std::string& out,
                                std::string& error) {
  socket_summary sockets;
  if (auto ec =
          r.query != nullptr ? c.count(sockets, *r.query) : c.count(sockets, r.scope, r.method)) {
    error = c.error_text(ec);
    return ec;
  }
  kernel_counters counters;
  std::string counters_error;
  // Prometheus carries every counter: one read of each file gives both.
  std::vector<std::pair<std::string, std::int64_t>> all;
  const bool prometheus = r.format == summary_format::prometheus;
  const std::error_code counters_ec =
      prometheus ? c.read_all_counters(all, counters) : c.read_counters(counters);
  // Counters are context, not the answer: report them missing, keep the result.
  if (counters_ec) {
    counters_error = c.error_text(counters_ec);
    all.clear();
  }
  const fallback_info* f = c.fallback();
  const std::string fallback = f ? std::string(f->step) + ": " + f->error.message() : "";
  const summary_report report{sockets,        to_string(c.source()),
                              fallback,       counters_ec ? nullptr : &counters,
                              counters_error, r.query != nullptr ? r.filter : std::string_view{}};
  switch (r.format) {
    case summary_format::json: render_summary_json(report, out); break;
    case summary_format::prometheus: render_summary_prometheus(report, all, out); break;
    case summary_format::text: render_summary_text(report, out); break;
  }
  return {};
}

}  // namespace ssfast
