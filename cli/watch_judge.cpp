// SPDX-License-Identifier: Apache-2.0
#include "watch_judge.h"

namespace ssfast::cli {
namespace {

doctor_options sampling(const options& o, const socket_query* filter) {
  doctor_options d;
  d.processes = false;  // the view names no owner: no /proc/*/fd scan per report
  d.proc_root = o.proc_root;
  d.filter = filter;
  d.scope = filter != nullptr ? filter->scope : o.scope;
  return d;
}

}  // namespace

watch_judge::watch_judge(const options& o, const socket_query* filter)
    : on_(o.method != count_method::estimate && o.scope.tcp &&
          (filter == nullptr || filter->scope.tcp)),
      sampler_(sampling(o, filter)) {}

std::error_code watch_judge::sample(collector& c, socket_summary& now) {
  if (auto ec = sampler_.sample(c, evidence_, judged_)) return ec;
  now = evidence_.sockets;
  findings_ = judged_ ? diagnose(evidence_) : std::vector<finding>{};
  return {};
}

std::vector<watch_finding> watch_judge::as_watch() const {
  std::vector<watch_finding> w;
  w.reserve(findings_.size());
  for (const finding& f : findings_)
    w.push_back({f.id, to_string(f.level), f.subject,
                 f.state ? static_cast<std::uint8_t>(*f.state) : std::uint8_t{0}, f.summary});
  return w;
}

}  // namespace ssfast::cli
