// SPDX-License-Identifier: Apache-2.0
// ssfast record: a sample of the namespace every --interval seconds, appended to the day file
// of its UTC day in --dir, files older than --keep days pruned (report/history_file.h); what a
// sample holds is the doctor's (doctor/history.h).
#include <signal.h>

#include "commands.h"
#include "ssfast/doctor/history.h"
#include "ssfast/report/history_file.h"

namespace ssfast::cli {

int run_record(collector& c, const options& o) {
  // Past a file size limit write(2) fails EFBIG instead of the process being killed: the
  // sample is said to be lost and the next one tries again, as on a full disk.
  ::signal(SIGXFSZ, SIG_IGN);
  history_writer writer(o.history_dir);
  options clock_options = o;
  clock_options.watch = o.interval;
  history_sample s;
  s.netns = netns_inode(o);
  std::int64_t pruned_day = -1;
  bool failing = false;
  std::size_t recovered_said = 0;
  for (report_clock clock(clock_options, c.exit_fd()); clock.next();) {
    if (const std::error_code ec = take_history_sample(c, o.max_listeners, o.proc_root, s)) {
      fail(exit_failure, "record: " + c.error_text(ec));
      if (ec == errc::process_exited) return exit_failure;  // nothing left to record
      continue;
    }
    const std::string error = writer.append(s);
    if (!error.empty()) {
      if (!failing) fail(exit_failure, "record: sample lost: " + error);
      failing = true;
      continue;
    }
    if (failing) fail(exit_ok, "record: writing again to " + writer.path());
    failing = false;
    if (writer.recovered() > recovered_said) {
      fail(exit_ok, "record: cut " + std::to_string(writer.recovered() - recovered_said) +
                        " bytes of an unfinished record from the end of " + writer.path());
      recovered_said = writer.recovered();
    }
    if (const std::int64_t day = history_day(s.time_ms); day != pruned_day) {
      prune_history(o.history_dir, s.time_ms, o.keep_days);
      pruned_day = day;
    }
  }
  return exit_ok;
}

}  // namespace ssfast::cli
