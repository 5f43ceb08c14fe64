// SPDX-License-Identifier: Apache-2.0
// --watch on a terminal: a full-screen view of the last reports (history, changes, rates, what
// the doctor would flag), with keys, resizes, and the terminal given back on every way out.
// Plain escape sequences, no curses: the view needs the alternate screen (smcup/rmcup are
// ESC[?1049h/l on every terminal emulator and tmux), home, clear-to-end and SGR colours, and
// a library that owns the terminal would also own its signals, which the plugin-style exits of
// this program must keep.
#include <langinfo.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <clocale>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <map>
#include <vector>

#include "commands.h"
#include "ssfast/core/grouping.h"
#include "ssfast/report/escape.h"
#include "ssfast/report/history_file.h"
#include "ssfast/report/screen.h"
#include "ssfast/report/watch.h"
#include "watch_judge.h"

namespace ssfast::cli {
namespace {

constexpr char enter_screen[] = "\033[?1049h\033[?25l";  // alternate screen, cursor hidden
constexpr char leave_screen[] = "\033[?25h\033[?1049l";  // cursor shown, main screen back

volatile sig_atomic_t stop_signal = 0;  // SIGINT, SIGTERM, SIGHUP: leave at the next step
volatile sig_atomic_t resized = 0;      // SIGWINCH, SIGCONT: redraw (at the new size)
termios saved_termios, raw_termios;
bool termios_saved = false;

// Gives the terminal back; async-signal-safe (write, tcsetattr), for the crash path too.
void restore_terminal() noexcept {
  const ssize_t ignored = ::write(STDOUT_FILENO, leave_screen, sizeof leave_screen - 1);
  (void)ignored;
  if (termios_saved) tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
}

// Takes the terminal: keys without Enter or echo, the alternate screen, the cursor hidden.
// Async-signal-safe, for the way back from a suspend.
void take_terminal() noexcept {
  if (termios_saved) tcsetattr(STDIN_FILENO, TCSANOW, &raw_termios);
  const ssize_t ignored = ::write(STDOUT_FILENO, enter_screen, sizeof enter_screen - 1);
  (void)ignored;
}

extern "C" void on_stop(int sig) { stop_signal = sig; }
extern "C" void on_resize(int) { resized = 1; }
// SIGQUIT (Ctrl-\) and the crashes: the terminal back, then the signal's own action (a core
// dump where the system keeps them), so the exit status still names the signal.
extern "C" void on_crash(int sig) {
  restore_terminal();
  signal(sig, SIG_DFL);
  raise(sig);
}
// SIGTSTP (Ctrl-Z): the shell gets its own screen back before the process stops (the stop is
// taken here, in the handler, with SIGTSTP's default action), and the view takes the terminal
// again when SIGCONT (fg, bg) resumes it, redrawn at once: what less(1) and vi do.
extern "C" void on_suspend(int sig) {
  const int saved_errno = errno;
  restore_terminal();
  signal(sig, SIG_DFL);
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, sig);
  pthread_sigmask(SIG_UNBLOCK, &s, nullptr);
  raise(sig);  // stops here; SIGCONT continues here
  pthread_sigmask(SIG_BLOCK, &s, nullptr);
  struct sigaction sa {};
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = on_suspend;
  sigaction(sig, &sa, nullptr);
  take_terminal();
  resized = 1;
  errno = saved_errno;
}

// The terminal for the view's lifetime: alternate screen, hidden cursor, keys without Enter
// or echo (output processing untouched, so '\n' still starts a line), and the signals that
// must give it back.
class terminal_session {
 public:
  terminal_session() {
    if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_termios) == 0) {
      termios_saved = true;
      raw_termios = saved_termios;
      raw_termios.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));
      raw_termios.c_cc[VMIN] = 0;
      raw_termios.c_cc[VTIME] = 0;
    }
    struct sigaction sa {};
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop;  // no SA_RESTART: poll() returns EINTR and the loop sees it
    for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaction(s, &sa, nullptr);
    sa.sa_handler = on_resize;
    for (int s : {SIGWINCH, SIGCONT}) sigaction(s, &sa, nullptr);
    sa.sa_handler = on_crash;
    for (int s : {SIGQUIT, SIGSEGV, SIGBUS, SIGFPE, SIGABRT, SIGILL}) sigaction(s, &sa, nullptr);
    sa.sa_handler = on_suspend;
    sigaction(SIGTSTP, &sa, nullptr);
    take_terminal();
  }
  terminal_session(const terminal_session&) = delete;
  terminal_session& operator=(const terminal_session&) = delete;
  ~terminal_session() {
    // The view's handlers go first: a Ctrl-Z from here on stops the process as usual.
    for (int s : {SIGTSTP, SIGCONT, SIGQUIT}) signal(s, SIG_DFL);
    restore_terminal();
    termios_saved = false;
  }
};

// Everything the view keeps between reports.
struct view_state {
  const options& o;
  collector& c;
  bool top = false;  // the top view (t), else the summary (s)
  bool paused = false;
  std::uint64_t report = 0;
  socket_summary now;
  state_counts before, after;
  watched_counters counters_before{}, counters_now{};
  double counters_before_at = 0, counters_now_at = 0;  // when they were read (monotonic s)
  std::map<tcp_state, series> state_history;
  std::vector<top_entry> top_now;  // the top view's last report
  std::map<std::string, std::uint64_t> top_before;
  std::map<std::string, series> top_history;
  // The sockets asked about: the filter's (both views count only what it selects), else
  // every state of the protocols and families the options name.
  socket_filter filter;
  socket_query query;
  bool filtered = false;
  std::string filter_text;
  process_owners owners;  // top process: scanned before each report's listing
  // The doctor's rules on each interval: what the summary flags (made once the query is).
  std::optional<watch_judge> judge;
  // Samples ssfast record kept that the summary's history starts from: how many are still in
  // each series when their spacing is not the view's (0 when it is, or none), and what the
  // title says of them.
  std::size_t recorded_left = 0;
  std::string recorded_note;

  view_state(const options& opts, collector& col) : o(opts), c(col) {
    for (tcp_state s : netstat_states) state_history.emplace(s, series());
  }

  // No rate before the second report: there is nothing to compare with yet.
  std::optional<double> rate(std::size_t watched) const {
    if (report < 2) return std::nullopt;
    return watch_rates(counters_before, counters_now,
                       counters_now_at - counters_before_at)[watched];
  }

  // One report: the doctor's sample (counts, listeners, CLOSE_WAIT across reports) judged by
  // its rules, the counters, and the top view's keys.
  std::error_code collect() {
    counters_before = counters_now;
    counters_before_at = counters_now_at;
    before = after;
    if (auto ec = judge->on() ? judge->sample(c, now)
                  : filtered  ? c.count(now, query)
                              : c.count(now, o.scope, o.method))
      return ec;
    after = now.tcp_histogram();
    counters_now = read_watched(c);
    counters_now_at = monotonic_seconds();
    // A full ring drops its oldest value: a recorded one first.
    const series& any = state_history.begin()->second;
    if (recorded_left > 0 && any.size() == any.capacity()) --recorded_left;
    for (tcp_state s : netstat_states) state_history.at(s).push(after.netstat_count(s));
    if (top) return collect_top();
    ++report;
    return {};
  }

  // -s --watch where `ssfast record` keeps this namespace's history (--dir): the summary's
  // sparklines start from its samples of the last hour, so the minutes before the view are
  // there at once. Only when the newest is recent (the recorder runs), for the whole table
  // (a filter's sockets are not in the records), and for the families the view counts.
  void preload_recorded() {
    if (top || filtered || o.cmd != command::summary || !o.scope.tcp) return;
    const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count();
    constexpr std::int64_t hour_ms = 3'600'000;
    std::vector<history_record> rows;
    for (const std::string& f : history_day_files(o.history_dir, now_ms - hour_ms, now_ms))
      (void)read_history_file(f, now_ms - hour_ms, now_ms, rows);  // damage: passed over
    const std::uint64_t netns = netns_inode(o);
    std::erase_if(rows,
                  [&](const history_record& r) { return netns == 0 || r.sample.netns != netns; });
    if (rows.empty()) return;
    std::stable_sort(rows.begin(), rows.end(),
                     [](const history_record& a, const history_record& b) {
                       return a.sample.time_ms < b.sample.time_ms;
                     });
    // The recorder's spacing: the median gap (a restart or a stop leaves longer ones).
    std::vector<std::int64_t> gaps;
    for (std::size_t i = 1; i < rows.size(); ++i)
      gaps.push_back(rows[i].sample.time_ms - rows[i - 1].sample.time_ms);
    std::int64_t spacing = 0;
    if (!gaps.empty()) {
      std::nth_element(gaps.begin(), gaps.begin() + static_cast<std::ptrdiff_t>(gaps.size() / 2),
                       gaps.end());
      spacing = gaps[gaps.size() / 2];
    }
    // Stale: the recorder stopped more than three of its intervals ago (a minute when unknown).
    if (now_ms - rows.back().sample.time_ms > std::max<std::int64_t>(3 * spacing, 60'000)) return;
    const series& any = state_history.begin()->second;
    const std::size_t keep = std::min(rows.size(), any.capacity() - 1);  // room for the view's
    for (std::size_t i = rows.size() - keep; i < rows.size(); ++i) {
      const history_sample& s = rows[i].sample;
      for (tcp_state st : netstat_states)
        state_history.at(st).push((o.scope.ipv4 ? s.tcp[0].netstat_count(st) : 0) +
                                  (o.scope.ipv6 ? s.tcp[1].netstat_count(st) : 0));
    }
    const double every_s = static_cast<double>(spacing) / 1000.0;
    char note[96];  // the spacing as people set it: a timer's few milliseconds late are not said
    std::snprintf(note, sizeof note, ", history from %zu recorded samples every %g s", keep,
                  every_s < 10 ? std::round(every_s * 10) / 10 : std::round(every_s));
    recorded_note = note;
    // Marked where the spacing differs from the view's by more than a tenth.
    if (std::abs(every_s - o.watch) > 0.1 * o.watch) recorded_left = keep;
  }

  std::error_code collect_top() {
    const top_key key = o.cmd == command::top ? o.key : top_key::raddr;
    // An unreadable /proc leaves every socket without an owner ("-"), as top says it.
    if (key == top_key::process) (void)owners.scan(o.proc_root, o.threads);
    top_counter groups(key, key == top_key::process ? &owners : nullptr);
    if (auto ec = c.list(query, groups)) return ec;
    top_before.clear();
    for (const top_entry& e : top_now) top_before[e.key] = e.count;
    top_now = groups.entries(0);
    for (const top_entry& e : top_now) top_history[e.key].push(e.count);
    // Keys gone from the table keep no history (a busy host's clients come and go).
    for (auto it = top_history.begin(); it != top_history.end();)
      it = top_before.count(it->first) ||
                   std::any_of(top_now.begin(), top_now.end(),
                               [&](const top_entry& e) { return e.key == it->first; })
               ? std::next(it)
               : top_history.erase(it);
    ++report;
    return {};
  }

  // The summary's rows, each flagged when a finding of the doctor's rules is about its state,
  // and the hint: the worst finding.
  void summary_screen(live_screen& s) const {
    s.first_column = "STATE";
    const std::vector<finding> none;
    const std::vector<finding>& found = judge->on() ? judge->findings() : none;
    for (tcp_state st : netstat_states) {
      live_row r;
      r.name = std::string(netstat_name(static_cast<std::uint8_t>(st)));
      r.count = after.netstat_count(st);
      r.change = report > 1 ? static_cast<std::int64_t>(r.count - before.netstat_count(st)) : 0;
      r.history = &state_history.at(st);
      r.flagged =
          std::any_of(found.begin(), found.end(), [&](const finding& f) { return f.state == st; });
      s.rows.push_back(std::move(r));
    }
    for (std::size_t i = 0; i < watch_rate_counters.size(); ++i)
      s.rates.emplace_back(std::string(counter_name(watch_rate_counters[i])), rate(i));
    s.totals = "UDP " + std::to_string(now.udp_all().total()) + "  UNIX " +
               std::to_string(now.unix_domain.total());
    if (!found.empty()) {
      s.hint = std::string(found.front().level == severity::critical ? "CRITICAL " : "WARNING ") +
               found.front().summary;
      if (found.size() > 1) s.hint += " (+" + std::to_string(found.size() - 1) + " more)";
      s.hint += " (ssfast doctor for the whole story)";
    }
  }

  void top_screen(live_screen& s) const {
    std::string_view key = "RADDR";
    if (o.cmd == command::top) {
      static constexpr std::string_view names[] = {"RADDR", "LADDR", "LPORT",
                                                   "RPORT", "STATE", "PROCESS"};
      key = names[static_cast<std::size_t>(o.key)];
    }
    s.first_column = std::string(key);
    for (const top_entry& e : top_now) {
      live_row r;
      r.name = e.key;
      r.count = e.count;
      const auto was = top_before.find(e.key);
      r.is_new = report > 1 && was == top_before.end();
      r.change = was == top_before.end() ? 0 : static_cast<std::int64_t>(e.count - was->second);
      r.history = &top_history.at(e.key);
      s.rows.push_back(std::move(r));
    }
  }

  std::string draw(const terminal_caps& caps) const {
    live_screen s;
    char every[32];
    std::snprintf(every, sizeof every, "%g", o.watch);
    s.title = std::string(top ? "ssfast top" : "ssfast -s") + ", every " + every + " s, " +
              utc_now() + ", report " + std::to_string(report);
    if (filtered) {
      s.title += ", only ";
      append_printable(s.title, filter_text);  // typed by a person: never a control byte
    }
    s.paused = paused;
    if (top) {
      top_screen(s);
    } else {
      summary_screen(s);
      s.title += recorded_note;
      s.recorded = recorded_left;
    }
    s.keys = "q quit  space " + std::string(paused ? "resume" : "pause") + "  s summary  t top";
    std::string out;
    render_live_screen(s, caps, out);
    return out;
  }
};

// Waits for the next report's deadline, answering keys and resizes meanwhile. False: leave.
bool wait_for_next(view_state& v, timespec& deadline, terminal_caps& caps) {
  advance_deadline(deadline, v.o.watch);
  for (;;) {
    if (stop_signal) return false;
    if (resized) {
      resized = 0;
      caps = measure_terminal();
      if (write_out(v.draw(caps)) != exit_ok) return false;
    }
    const long long left_ms = ns_until(deadline) / 1000000LL;
    // Keys are read even when the report took longer than the interval (a busy host, a short
    // interval): a look without waiting, so a slow report never makes the view deaf to q.
    // The keyboard, and the watched process (--netns PID): its exit is due at once.
    pollfd fds[2] = {{termios_saved ? STDIN_FILENO : -1, POLLIN, 0}, {v.c.exit_fd(), POLLIN, 0}};
    const int n = poll(fds, 2, left_ms > 0 ? static_cast<int>(std::min(left_ms, 1000LL)) : 0);
    if (n > 0 && fds[1].revents != 0) {
      v.paused = false;  // the next collection says it and ends the view
      return true;
    }
    const pollfd& in = fds[0];
    if (n <= 0 || !(in.revents & (POLLIN | POLLHUP | POLLERR))) {
      if (left_ms <= 0) return true;  // nothing typed: the next report is due
      continue;                       // the wait went on, or a signal came (EINTR)
    }
    char key = 0;
    const ssize_t got = ::read(STDIN_FILENO, &key, 1);
    // End of input or an error (EIO: the terminal hung up) leaves: no one sees the view, and
    // polling a dead terminal again would return at once, forever.
    if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) return false;
    if (got != 1) continue;
    bool redraw = true;
    switch (key) {
      case 'q':
      case 'Q': return false;
      case ' ': v.paused = !v.paused; break;
      case 's':
      case 't':
        if (v.top != (key == 't')) {
          v.top = key == 't';
          if (v.top && v.collect_top()) return false;
        }
        break;
      default: redraw = false;
    }
    if (redraw && write_out(v.draw(caps)) != exit_ok) return false;
  }
}

}  // namespace

terminal_caps measure_terminal() {
  terminal_caps caps;
  winsize w{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &w) == 0 && w.ws_col > 0 && w.ws_row > 0) {
    caps.width = w.ws_col;
    caps.height = w.ws_row;
  }
  // Block characters when the locale's codeset is UTF-8; colour unless NO_COLOR is set
  // (no-color.org: any value) or the terminal says it has none.
  std::setlocale(LC_CTYPE, "");
  caps.utf8 = std::strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
  const char* term = std::getenv("TERM");
  caps.color =
      std::getenv("NO_COLOR") == nullptr && term != nullptr && std::strcmp(term, "dumb") != 0;
  return caps;
}

int run_watch_screen(collector& c, const options& o) {
  view_state v(o, c);
  v.top = o.cmd == command::top;
  std::string err;
  if (!build_query(o, v.filter, v.query, err)) return fail(exit_usage, err);
  v.filtered = !o.filter.empty();
  v.filter_text = filter_text(o);
  v.judge.emplace(o, v.filtered ? &v.query : nullptr);
  v.preload_recorded();
  terminal_caps caps = measure_terminal();
  stop_signal = 0;
  resized = 0;
  {
    terminal_session session;
    timespec deadline{};
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    for (std::uint64_t n = 0;; ++n) {
      if (!v.paused) {
        if (auto ec = v.collect()) {
          restore_terminal();  // the error line goes to the main screen, where it stays
          return fail(exit_failure, c.error_text(ec));
        }
        if (write_out(v.draw(caps)) != exit_ok) return exit_failure;
      }
      if (o.count != 0 && n + 1 >= o.count) break;
      if (!wait_for_next(v, deadline, caps)) break;
    }
  }
  // Interrupted: the shell's convention, 128 + the signal.
  return stop_signal ? 128 + stop_signal : exit_ok;
}

}  // namespace ssfast::cli
