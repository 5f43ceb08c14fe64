// SPDX-License-Identifier: Apache-2.0
// The doctor's rules on each interval of --watch (the line, the JSON and the live view): one
// full doctor sample per report, judged by diagnose(), so a flag means what the doctor says.
#pragma once

#include <vector>

#include "options.h"
#include "ssfast/doctor/doctor.h"
#include "ssfast/doctor/gather.h"
#include "ssfast/report/watch.h"
#include "ssfast/ssfast.h"

namespace ssfast::cli {

class watch_judge {
 public:
  /// `filter`: the sockets the report shows (null: every one); must outlive the judge. Off
  /// with --estimate (which never lists) and without TCP in scope (the rules are TCP's).
  watch_judge(const options& o, const socket_query* filter);
  bool on() const noexcept { return on_; }
  /// One report's sample: `now` gets its summary (TCP from the doctor's listing, UDP and
  /// UNIX counted), and from the second report on the findings are the interval's. Only
  /// when on().
  std::error_code sample(collector& c, socket_summary& now);
  /// Whether the last sample was judged (it had an interval), and what was found, worst
  /// first.
  bool judged() const noexcept { return judged_; }
  const std::vector<finding>& findings() const noexcept { return findings_; }
  /// The findings as a --watch report writes them (views into findings()).
  std::vector<watch_finding> as_watch() const;

 private:
  bool on_;
  doctor_sampler sampler_;
  doctor_evidence evidence_;
  std::vector<finding> findings_;
  bool judged_ = false;
};

}  // namespace ssfast::cli
