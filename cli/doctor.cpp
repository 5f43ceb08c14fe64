// SPDX-License-Identifier: Apache-2.0
// ssfast doctor and ssfast states: the diagnosis, and the TCP state reference behind it.
#include "ssfast/doctor/doctor.h"

#include <vector>

#include "commands.h"
#include "ssfast/core/tcp_state.h"
#include "ssfast/doctor/gather.h"
#include "ssfast/doctor/states.h"

namespace ssfast::cli {

namespace {
constexpr int doctor_cannot = 3;  // 0, 1, 2 are the findings' worst severity
}

int run_doctor(collector& c, const options& o) {
  doctor_options d;
  d.interval_s = o.interval;
  d.proc_root = o.proc_root;
  // FILTER: the sockets of one service; the counters and sysctls stay the namespace's.
  socket_filter f;
  socket_query q;
  if (!o.filter.empty()) {
    std::string err;
    if (!build_query(o, f, q, err)) return fail(doctor_cannot, err);
    d.filter = &q;
    d.scope = q.scope;
  }
  doctor_evidence e;
  if (auto ec = gather_doctor_evidence(c, d, e)) return fail(doctor_cannot, c.error_text(ec));
  const auto findings = diagnose(e);
  std::string out;
  const std::string_view source = to_string(c.source());
  const std::string filter = filter_text(o);
  if (o.json)
    render_findings_json(findings, e, source, out, filter);
  else
    render_findings_text(findings, e, source, out, filter);
  if (write_out(out) != exit_ok) return doctor_cannot;
  return doctor_exit_code(findings, rules_not_run(e));
}

int run_states(const options& o) {
  std::vector<std::uint8_t> only;
  for (const auto& name : o.filter) only.push_back(parse_state_name(name));  // checked in parsing
  std::string out;
  if (o.json)
    render_states_json(out, only);
  else
    render_states_text(out, only);
  return write_out(out);
}

}  // namespace ssfast::cli
