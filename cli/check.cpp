// SPDX-License-Identifier: Apache-2.0
// ssfast check: a Nagios/Icinga plugin: one line on stdout, exit 0/1/2/3, a hard timeout.
#include "ssfast/serve/check.h"

#include <signal.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "commands.h"

namespace ssfast::cli {
namespace {

// The plugin's output when the hard timeout fires, written by the signal handler.
char timeout_line[128];
std::size_t timeout_line_size = 0;

extern "C" void on_check_timeout(int) {
  // Async-signal-safe: write(2) and _exit(2) only.
  const ssize_t ignored = ::write(STDOUT_FILENO, timeout_line, timeout_line_size);
  (void)ignored;
  _exit(3);
}

}  // namespace

// A one-shot SIGALRM after `seconds`: whatever is blocking (a dump, a stuck /proc read,
// entering a namespace) the plugin answers UNKNOWN in time.
void arm_check_timeout(double seconds) {
  const int n = std::snprintf(timeout_line, sizeof timeout_line,
                              "SSFAST UNKNOWN - timed out after %g s\n", seconds);
  timeout_line_size = n > 0 ? std::min(static_cast<std::size_t>(n), sizeof timeout_line - 1) : 0;
  struct sigaction sa {};
  sa.sa_handler = on_check_timeout;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, nullptr);
  itimerval t{};
  const auto us = static_cast<long long>(seconds * 1e6);
  t.it_value.tv_sec = static_cast<time_t>(us / 1000000);
  t.it_value.tv_usec = static_cast<suseconds_t>(us % 1000000);
  setitimer(ITIMER_REAL, &t, nullptr);
}

int check_unknown(std::string_view why) {
  std::printf("SSFAST UNKNOWN - %.*s\n", static_cast<int>(why.size()), why.data());
  std::fflush(stdout);
  return 3;
}

int run_check(collector& c, const options& o) {
  serve::check_verdict result;
  if (o.filter.empty()) {
    result = serve::check_sockets(c, o.scope, o.method, o.warn, o.crit, o.interval);
  } else {
    socket_filter f;
    socket_query q;
    std::string err;
    if (o.method == count_method::estimate)
      return check_unknown(
          "--estimate derives ESTABLISHED from a counter of the whole "
          "namespace: it takes no filter");
    if (!build_query(o, f, q, err)) return check_unknown(err);
    result = serve::check_sockets(c, q, filter_text(o), o.warn, o.crit, o.interval);
  }
  say_malformed(c);
  result.line.push_back('\n');
  if (write_out(result.line) != exit_ok) return static_cast<int>(serve::plugin_status::unknown);
  return static_cast<int>(result.status);
}

}  // namespace ssfast::cli
