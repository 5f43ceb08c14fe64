// SPDX-License-Identifier: Apache-2.0
// The full-screen --watch view driven in a real terminal (tmux: new-session, send-keys,
// capture-pane) in a private namespace while sockets change state: what a person would see.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "support/background.h"
#include "support/live_fixture.h"
#include "support/syn_flood.h"

namespace ssfast {
namespace {

using namespace std::chrono_literals;

// A tmux server of our own (its own socket), one session running `command` in a 100x40 pane,
// as a shell would: afterwards the pane says how it ended ("exit=N") and stays, so the state
// the command left the terminal in can be read. The shell ignores SIGINT, as an interactive
// one does for its foreground job; ssfast installs its own handler.
class tmux_pane {
 public:
  explicit tmux_pane(const std::string& command)
      : socket_("/tmp/ssfast-screen-test-" + std::to_string(getpid()) + "-" +
                std::to_string(next_server++)) {
    tmux({"new-session", "-d", "-x", "100", "-y", "40", "-s", "t", "sleep 600"});
    tmux({"set-option", "-t", "t", "remain-on-exit", "on"});
    tmux({"respawn-pane", "-k", "-t", "t",
          "trap '' INT; " + command + "; echo exit=$?; exec sleep 600"});
  }
  // Ends what runs in the pane, then the server: the pane's shell leads its own process group
  // (tmux makes it a session leader) and the command runs in that group, so one SIGKILL to the
  // group ends whatever is left of it (a view still drawn, or the `sleep` the shell became),
  // even a process that would not end on the server's SIGHUP. The fixture then checks that
  // nothing of the pane or the server is left.
  ~tmux_pane() {
    try {
      const pid_t group = pane_pid();
      if (group > 0) ::kill(-group, SIGKILL);
      tmux({"kill-server"});
    } catch (...) {
    }
    ::unlink(socket_.c_str());
  }
  // The pane's first process: the shell, or the `sleep` it became once the command ended.
  pid_t pane_pid() {
    const std::string v = format("#{pane_pid}");
    return v.empty() ? -1 : static_cast<pid_t>(std::stol(v));
  }
  // The command the pane's shell runs (its child), -1 once it has ended.
  pid_t command_pid() {
    const auto r = testing::run_process({"pgrep", "-P", std::to_string(pane_pid())});
    return r.exit_code == 0 ? static_cast<pid_t>(std::stol(r.out)) : -1;
  }
  // `q`, and the command's own end: it quit with status 0 and gave the terminal back.
  void quit() {
    keys("q");
    const std::string after =
        wait_for([](const std::string& s) { return s.find("exit=") != std::string::npos; });
    EXPECT_NE(after.find("exit=0"), std::string::npos) << "q ends the view:\n" << after;
  }
  std::string capture() { return tmux({"capture-pane", "-p", "-t", "t"}); }
  std::string format(const std::string& f) {
    std::string v = tmux({"display-message", "-p", "-t", "t", f});
    while (!v.empty() && v.back() == '\n') v.pop_back();
    return v;
  }
  void keys(const std::string& k) { tmux({"send-keys", "-t", "t", k}); }
  void resize(int width, int height) {
    tmux({"resize-window", "-t", "t", "-x", std::to_string(width), "-y", std::to_string(height)});
  }
  // Waits (bounded) until the screen satisfies `ok`; returns the last capture.
  // The bound only matters when the screen never gets there: generous, for a loaded host.
  std::string wait_for(const std::function<bool(const std::string&)>& ok,
                       std::chrono::milliseconds limit = 30s) {
    const auto end = std::chrono::steady_clock::now() + limit;
    std::string screen;
    do {
      screen = capture();
      if (ok(screen)) return screen;
      std::this_thread::sleep_for(50ms);
    } while (std::chrono::steady_clock::now() < end);
    return screen;
  }

 private:
  std::string tmux(std::vector<std::string> args) {
    args.insert(args.begin(), {"tmux", "-S", socket_});
    return testing::run_command(args);
  }
  static inline int next_server = 0;  // one server per pane: tests may hold two at once
  std::string socket_;
};

std::string line_with(const std::string& screen, const std::string& needle) {
  std::istringstream in(screen);
  for (std::string l; std::getline(in, l);)
    if (l.find(needle) != std::string::npos) return l;
  return {};
}

// The number of the report a screen shows ("..., report 12" in its title), 0 when none.
int report_number(const std::string& screen) {
  const std::string title = screen.substr(0, screen.find('\n'));
  const auto at = title.rfind(", report ");
  return at == std::string::npos ? 0 : std::atoi(title.c_str() + at + 9);
}

class LiveScreen : public LiveNamespace {
 protected:
  void SetUp() override {
    LiveNamespace::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (!testing::have_program("tmux")) GTEST_SKIP() << "tmux is not installed";
  }

  // A listener on 127.0.0.1:port.
  int listener(std::uint16_t port) {
    const int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(l, 64), 0);
    fds_.hold(l);
    return l;
  }
  // A connection to `port` from `from` (host order), accepted; the server side is returned.
  int connect_from(int l, std::uint16_t port, std::uint32_t from, int& client) {
    client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in src{};
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = htonl(from);
    EXPECT_EQ(::bind(client, reinterpret_cast<sockaddr*>(&src), sizeof src), 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    const int s = ::accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
    fds_.hold(s);
    return s;
  }
};

TEST_F(LiveScreen, WhatAPersonSees) {
  const int l = listener(7001);
  tmux_pane pane(std::string("env LANG=C.UTF-8 TERM=xterm NO_COLOR=1 ") + SSFAST_CLI_PATH +
                 " -s --watch 0.2");
  std::string screen =
      pane.wait_for([](const std::string& s) { return s.find("report 3") != std::string::npos; });
  ASSERT_NE(screen.find("ssfast -s, every 0.2"), std::string::npos) << screen;
  EXPECT_EQ(pane.format("#{alternate_on}"), "1") << "drawn on the alternate screen";
  EXPECT_NE(screen.find("q quit  space pause  s summary  t top"), std::string::npos);
  EXPECT_NE(screen.find("PER SECOND"), std::string::npos);

  // CLOSE_WAIT grows: peers close, this side never does. As each new report appears three more
  // peers close, until the doctor's rule flags the row: 16 or more connections in CLOSE_WAIT
  // across a whole interval (the same rule, the same threshold, as `ssfast doctor`; the view
  // once needed growth in each of four reports). Bounded: 60 s.
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  int seen = report_number(screen);
  while (screen.find("! CLOSE_WAIT") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    for (int k = 0; k < 3; ++k) {
      int client = -1;
      connect_from(l, 7001, INADDR_LOOPBACK, client);
      ::close(client);
    }
    screen = pane.wait_for([&](const std::string& s) { return report_number(s) > seen; });
    seen = report_number(screen);
  }
  const std::string row = line_with(screen, "CLOSE_WAIT ");
  EXPECT_EQ(row.rfind("! CLOSE_WAIT", 0), 0u) << "flagged:\n" << screen;
  // (The hint names the worst finding: here the scenario's full accept queue, critical.)
  EXPECT_GE(std::stoi(line_with(screen, "CLOSE_WAIT ").substr(2 + 11)), 16) << screen;
  // Its sparkline rises: the newest cell is the top block, and an older one is lower (any of
  // the seven lower eighths: where the scale starts depends on how far the count has grown).
  const std::string full = "\u2588";
  EXPECT_EQ(row.size() >= full.size() && row.compare(row.size() - full.size(), full.size(), full),
            0)
      << row;
  bool lower = false;
  for (const char* eighth : {"\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586", "\u2587"})
    lower = lower || row.find(eighth) != std::string::npos;
  EXPECT_TRUE(lower) << row;
  // ESTABLISHED did not move: no flag.
  EXPECT_EQ(line_with(screen, "ESTABLISHED").rfind("  ESTABLISHED", 0), 0u) << screen;
  // Growth pauses; the stuck sockets stay flagged (a leak that stops growing is still a leak).
  seen = report_number(screen);
  screen = pane.wait_for([&](const std::string& s) { return report_number(s) > seen + 2; });
  EXPECT_EQ(line_with(screen, "CLOSE_WAIT ").rfind("! CLOSE_WAIT", 0), 0u) << screen;

  // space pauses, again resumes.
  pane.keys("Space");
  screen =
      pane.wait_for([](const std::string& s) { return s.find("[paused]") != std::string::npos; });
  EXPECT_NE(screen.find("[paused]"), std::string::npos) << screen;
  EXPECT_NE(screen.find("space resume"), std::string::npos);
  pane.keys("Space");
  screen =
      pane.wait_for([](const std::string& s) { return s.find("[paused]") == std::string::npos; });
  EXPECT_EQ(screen.find("[paused]"), std::string::npos) << screen;

  // t: the top view; a peer that appears is marked new.
  pane.keys("t");
  screen = pane.wait_for([](const std::string& s) { return s.find("RADDR") != std::string::npos; });
  ASSERT_NE(screen.find("ssfast top"), std::string::npos) << screen;
  int client = -1;
  connect_from(l, 7001, 0x7F00004D /* 127.0.0.77 */, client);
  fds_.hold(client);
  screen = pane.wait_for(
      [](const std::string& s) { return s.find("+ 127.0.0.77") != std::string::npos; });
  EXPECT_NE(screen.find("+ 127.0.0.77"), std::string::npos) << screen;
  pane.keys("s");
  screen = pane.wait_for([](const std::string& s) { return s.find("STATE") != std::string::npos; });
  EXPECT_NE(screen.find("ssfast -s"), std::string::npos) << screen;

  // q: the program ends and the terminal is given back.
  pane.keys("q");
  const std::string after =
      pane.wait_for([](const std::string& s) { return s.find("exit=") != std::string::npos; });
  EXPECT_NE(after.find("exit=0"), std::string::npos) << after;
  EXPECT_EQ(pane.format("#{alternate_on}"), "0") << "main screen back";
  EXPECT_EQ(pane.format("#{cursor_flag}"), "1") << "cursor shown again";
  EXPECT_EQ(after.find("PER SECOND"), std::string::npos) << "nothing of the view left:\n" << after;
}

// The scenario's TIME_WAIT socket against a tcp_max_tw_buckets of 1 (this namespace's own
// sysctl), and SYNs dropped by a full accept queue: both rows flagged, the first named.
TEST_F(LiveScreen, FlagsWhatTheDoctorWouldFlag) {
  {
    std::FILE* f = std::fopen("/proc/sys/net/ipv4/tcp_max_tw_buckets", "w");
    if (f == nullptr) GTEST_SKIP() << "cannot set this namespace's tcp_max_tw_buckets";
    std::fputs("1", f);
    std::fclose(f);
  }
  ASSERT_GE(got_.tcp_all()[tcp_state::time_wait], 1u) << "the scenario holds one";
  const int full = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  fds_.hold(full);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(7002);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(full, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(full, 0), 0);
  tmux_pane pane(std::string("env TERM=xterm ") + SSFAST_CLI_PATH + " -s --watch 0.2");
  pane.wait_for([](const std::string& s) { return s.find("report 2") != std::string::npos; });
  // Connections the listener never accepts: past its queue the kernel drops their SYNs and
  // counts ListenOverflows, report after report.
  // They go on until the screen shows the flag (bounded: 60 s of knocks, one every 50 ms), so
  // a report that comes late still sees the counter rise.
  std::atomic<bool> knocking{true};
  std::thread knock([&] {
    for (int i = 0; i < 1200 && knocking; ++i) {
      const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      (void)::connect(c, reinterpret_cast<const sockaddr*>(&a), sizeof a);
      fds_.hold(c);
      std::this_thread::sleep_for(50ms);
    }
  });
  const std::string screen = pane.wait_for([](const std::string& s) {
    return s.find("! LISTEN") != std::string::npos && s.find("! TIME_WAIT") != std::string::npos;
  });
  knocking = false;
  knock.join();
  EXPECT_NE(screen.find("! TIME_WAIT"), std::string::npos) << screen;
  EXPECT_NE(screen.find("! LISTEN"), std::string::npos) << screen;
  EXPECT_NE(screen.find("timewait sockets of tcp_max_tw_buckets 1 ("), std::string::npos)
      << "the worst finding, in the doctor's words:\n"
      << screen;
  EXPECT_NE(screen.find("CRITICAL "), std::string::npos) << screen;
  EXPECT_NE(screen.find("(ssfast doctor for the whole"), std::string::npos) << screen;
  pane.quit();
}

// A flooded listen(32) beside listeners whose backlogs sum to thousands: the view judges each
// listener's own SYN queue, as the doctor does (it once compared the namespace's SYN_RECV with
// every backlog summed, and showed nothing). At 80x24 the flagged row is not cut.
TEST_F(LiveScreen, AFloodedSmallListenerIsFlaggedBesideBigOnes) {
  testing::route_spoofed_sources("10.99.0.0/16");
  for (const int port : {7010, 7011, 7012}) {
    const int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::listen(l, port == 7010 ? 32 : 3530), 0);
    fds_.hold(l);
  }
  testing::syn_sender syns;
  syns.flood("10.99.9.1", 31, "127.0.0.1", 7010, 31);
  tmux_pane pane(std::string("env LANG=C.UTF-8 TERM=xterm NO_COLOR=1 ") + SSFAST_CLI_PATH +
                 " -s --watch 0.2");
  const std::string screen =
      pane.wait_for([](const std::string& s) { return s.find("! SYN_RECV") != std::string::npos; });
  EXPECT_NE(screen.find("! SYN_RECV"), std::string::npos) << screen;
  EXPECT_NE(screen.find("127.0.0.1:7010"), std::string::npos) << "the hint names it:\n" << screen;
  pane.quit();
}

TEST_F(LiveScreen, InterruptGivesTheTerminalBack) {
  tmux_pane pane(std::string("env TERM=xterm ") + SSFAST_CLI_PATH + " top raddr --watch 0.2");
  std::string screen =
      pane.wait_for([](const std::string& s) { return s.find("RADDR") != std::string::npos; });
  ASSERT_NE(screen.find("ssfast top"), std::string::npos) << screen;
  EXPECT_EQ(pane.format("#{alternate_on}"), "1");
  pane.keys("C-c");
  const std::string after =
      pane.wait_for([](const std::string& s) { return s.find("exit=") != std::string::npos; });
  EXPECT_NE(after.find("exit=130"), std::string::npos) << "128 + SIGINT:\n" << after;
  EXPECT_EQ(pane.format("#{alternate_on}"), "0");
  EXPECT_EQ(pane.format("#{cursor_flag}"), "1");
  EXPECT_EQ(after.find("RADDR"), std::string::npos) << after;
}

// Reports that take longer than the interval (here always: a microsecond) come back to back,
// and the keys are still read between them: q ends the view. (Beside 100k connections, `top
// process --watch 0.2` scans longer than 0.2 s, and the view used to ignore q for good.)
TEST_F(LiveScreen, ASlowReportStillHearsTheKeys) {
  tmux_pane pane(std::string("env TERM=xterm ") + SSFAST_CLI_PATH +
                 " top process --watch 0.000001");
  std::string screen = pane.wait_for([](const std::string& s) { return report_number(s) >= 3; });
  ASSERT_GE(report_number(screen), 3) << screen;
  pane.keys("Space");
  screen =
      pane.wait_for([](const std::string& s) { return s.find("[paused]") != std::string::npos; });
  EXPECT_NE(screen.find("[paused]"), std::string::npos) << screen;
  pane.quit();
}

// A filter: both views count only what it selects, and the title says so. top process names
// the owners (this test process holds every scenario socket).
TEST_F(LiveScreen, FilteredSummaryAndTopProcess) {
  const int l = listener(7003);
  for (int k = 0; k < 2; ++k) {
    int client = -1;
    connect_from(l, 7003, INADDR_LOOPBACK, client);
    fds_.hold(client);
  }
  tmux_pane pane(std::string("env TERM=xterm ") + SSFAST_CLI_PATH +
                 " -s --watch 0.2 'sport = :7003'");
  std::string screen =
      pane.wait_for([](const std::string& s) { return s.find("report 2") != std::string::npos; });
  EXPECT_NE(screen.find(", only sport = :7003"), std::string::npos) << screen;
  // The listener and its two accepted connections: not the scenario's other sockets.
  auto count_of = [&](const std::string& state) {
    std::istringstream f(line_with(screen, "  " + state + " "));
    std::string name;
    std::uint64_t n = 0;
    f >> name >> n;
    return n;
  };
  EXPECT_EQ(count_of("ESTABLISHED"), 2u) << screen;
  EXPECT_EQ(count_of("LISTEN"), 1u) << screen;
  pane.quit();

  tmux_pane top(std::string("env TERM=xterm ") + SSFAST_CLI_PATH + " top process --watch 0.2");
  screen =
      top.wait_for([](const std::string& s) { return s.find("PROCESS") != std::string::npos; });
  EXPECT_NE(screen.find(std::to_string(getpid()) + "/"), std::string::npos) << screen;
  top.quit();
}

// A resize redraws at the new size at once; a crash signal still gives the terminal back
// (and the signal's own status).
TEST_F(LiveScreen, ResizeRedrawsAndACrashGivesTheTerminalBack) {
  if (!testing::have_program("pgrep")) GTEST_SKIP() << "pgrep is not installed";
  tmux_pane pane(std::string("env TERM=xterm ") + SSFAST_CLI_PATH + " -s --watch 0.25");
  pane.wait_for([](const std::string& s) { return s.find("report 3") != std::string::npos; });
  pane.resize(64, 30);
  // Redrawn: nothing wider than the new width, and the keys on the new last row.
  const std::string narrow = pane.wait_for([](const std::string& s) {
    std::istringstream in(s);
    std::size_t widest = 0, rows = 0, keys_row = 0;
    for (std::string l; std::getline(in, l);) {
      ++rows;
      widest = std::max(widest, l.size());
      if (l.rfind("q quit", 0) == 0) keys_row = rows;
    }
    return widest <= 64 && keys_row == 30 && s.find("ESTABLISHED") != std::string::npos;
  });
  std::istringstream in(narrow);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  ASSERT_FALSE(lines.empty());
  // The keys stay on the last row of the smaller screen.
  std::size_t last = lines.size();
  while (last > 0 && lines[last - 1].empty()) --last;
  EXPECT_EQ(last, 30u) << narrow;
  EXPECT_EQ(lines[last - 1].rfind("q quit", 0), 0u) << narrow;
  const pid_t pid = pane.command_pid();
  ASSERT_GT(pid, 0) << "the view is running in the pane";
  ASSERT_EQ(::kill(pid, SIGSEGV), 0);
  const std::string after =
      pane.wait_for([](const std::string& s) { return s.find("exit=") != std::string::npos; });
  EXPECT_NE(after.find("exit=139"), std::string::npos) << "128 + SIGSEGV:\n" << after;
  EXPECT_EQ(pane.format("#{alternate_on}"), "0");
  EXPECT_EQ(pane.format("#{cursor_flag}"), "1");
}

// The process's state letter in /proc/PID/stat ('T' stopped, 'S' sleeping, ...), 0 if gone.
char process_state(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const auto at = stat.rfind(") ");
  return at == std::string::npos || at + 2 >= stat.size() ? 0 : stat[at + 2];
}

// Waits (bounded) until the process is in `state`; returns the last state seen.
char wait_for_state(pid_t pid, char state) {
  const auto end = std::chrono::steady_clock::now() + 30s;
  while (process_state(pid) != state && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(10ms);
  return process_state(pid);
}

// Waits (bounded) until a tmux format has `want`; returns the last value.
std::string wait_format(tmux_pane& pane, const std::string& f, const std::string& want) {
  const auto end = std::chrono::steady_clock::now() + 30s;
  std::string v;
  do {
    v = pane.format(f);
    if (v == want) break;
    std::this_thread::sleep_for(20ms);
  } while (std::chrono::steady_clock::now() < end);
  return v;
}

// Ctrl-Z gives the shell its screen back (main screen, cursor shown) before the view stops;
// SIGCONT (fg) takes the terminal again and redraws at once. Ctrl-\ (SIGQUIT) gives the
// terminal back too, and still ends the process by its signal.
TEST_F(LiveScreen, SuspendAndQuitGiveTheTerminalBack) {
  if (!testing::have_program("pgrep") || !testing::have_program("bash"))
    GTEST_SKIP() << "pgrep or bash is not installed";
  // An interactive shell, as a person has: job control (Ctrl-Z stops only the job, in a
  // process group of its own, and `fg` continues it). A stop signal sent by the terminal to
  // an orphaned process group is discarded by the kernel (get_signal, kernel/signal.c), so
  // a shell without job control could not show this.
  tmux_pane pane("env HISTFILE=/dev/null PS1='ready> ' TERM=xterm bash --norc --noprofile -i");
  pane.wait_for([](const std::string& s) { return s.find("ready>") != std::string::npos; });
  pane.keys(std::string(SSFAST_CLI_PATH) + " -s --watch 0.2");
  pane.keys("Enter");
  std::string screen = pane.wait_for([](const std::string& s) { return report_number(s) >= 2; });
  ASSERT_GE(report_number(screen), 2) << screen;
  const pid_t shell = pane.command_pid();  // the interactive bash; the view is its child
  ASSERT_GT(shell, 0);
  const auto child = testing::run_process({"pgrep", "-P", std::to_string(shell)});
  ASSERT_EQ(child.exit_code, 0) << "the view runs under the shell";
  const auto pid = static_cast<pid_t>(std::stol(child.out));
  pane.keys("C-z");
  ASSERT_EQ(wait_for_state(pid, 'T'), 'T') << "Ctrl-Z stops the view";
  EXPECT_EQ(wait_format(pane, "#{alternate_on}", "0"), "0") << "the main screen, stopped";
  EXPECT_EQ(wait_format(pane, "#{cursor_flag}", "1"), "1") << "the cursor shown, stopped";
  // A stop of a whole second: the view resumes at its next deadline, not with the reports it
  // missed, and redraws at once.
  std::this_thread::sleep_for(1s);
  const int before = report_number(screen);
  pane.keys("fg");
  pane.keys("Enter");
  EXPECT_EQ(wait_format(pane, "#{alternate_on}", "1"), "1") << "the view is back";
  EXPECT_EQ(wait_format(pane, "#{cursor_flag}", "0"), "0");
  screen = pane.wait_for([&](const std::string& s) { return report_number(s) > before; });
  EXPECT_GT(report_number(screen), before) << screen;
  EXPECT_LE(report_number(screen), before + 3) << "missed reports are skipped:\n" << screen;
  EXPECT_NE(screen.find("ESTABLISHED"), std::string::npos) << screen;
  // Ctrl-\: SIGQUIT's own end (128 + 3), with the terminal given back.
  pane.keys("C-\\");
  EXPECT_EQ(wait_format(pane, "#{alternate_on}", "0"), "0");
  pane.keys("echo status=$?");
  pane.keys("Enter");
  const std::string after =
      pane.wait_for([](const std::string& s) { return s.find("status=1") != std::string::npos; });
  EXPECT_NE(after.find("status=131"), std::string::npos) << "128 + SIGQUIT:\n" << after;
  EXPECT_EQ(pane.format("#{alternate_on}"), "0");
  EXPECT_EQ(pane.format("#{cursor_flag}"), "1");
}

// A stopped --watch (SIGSTOP, a debugger, a frozen cgroup) resumes without a burst of the
// reports it missed, and its rates divide by the time that really passed: 40 connections
// over a stop of 3 s are about 13/s, not 40 per 0.2 s interval (200/s).
TEST_F(LiveNamespace, WatchRatesDivideByTheMeasuredTime) {
  testing::background_process watch(
      {"sh", "-c", std::string("exec \"$0\" -s --watch 0.2 1>&2"), SSFAST_CLI_PATH});
  watch.wait_for_line("Tcp.ActiveOpens/s=");
  ASSERT_EQ(::kill(watch.pid(), SIGSTOP), 0);
  ASSERT_EQ(wait_for_state(watch.pid(), 'T'), 'T');
  const auto end = std::chrono::steady_clock::now() + 30s;
  const int l = testing::listen_loopback(7005, 64);
  fds_.hold(l);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(7005);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  constexpr int opened = 40;
  for (int k = 0; k < opened; ++k) {
    const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_EQ(::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ::close(c);
    const int s = ::accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
    ::close(s);
  }
  std::this_thread::sleep_for(3s);  // the stop being measured
  const std::size_t mark = watch.stderr_text().size();
  ASSERT_EQ(::kill(watch.pid(), SIGCONT), 0);
  std::string text;
  auto lines_after_mark = [&] {
    text = watch.stderr_text().substr(mark);
    return std::count(text.begin(), text.end(), '\n');
  };
  while (lines_after_mark() == 0 && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(5ms);
  ASSERT_GT(lines_after_mark(), 0) << "no report after SIGCONT";
  const std::string first = text.substr(0, text.find('\n'));
  std::this_thread::sleep_for(300ms);
  // At 0.2 s: the first report and at most two more; made up, 15 would come back to back.
  EXPECT_LE(lines_after_mark(), 3) << text;
  const auto at = first.find("Tcp.ActiveOpens/s=");
  ASSERT_NE(at, std::string::npos) << first;
  const double rate = std::atof(first.c_str() + at + 18);
  EXPECT_GT(rate, 0) << first;
  EXPECT_LT(rate, opened / 1.5) << "the rate divides by the 3 s that passed:\n" << first;
}

// On a pipe the line format stays as it was: no escape sequence, one line per report.
TEST_F(LiveNamespace, WatchOnAPipeKeepsItsLines) {
  const auto r = testing::run_process({SSFAST_CLI_PATH, "-s", "--watch", "0.1", "--count", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find('\033'), std::string::npos);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 2);
  EXPECT_NE(r.out.find(" ESTABLISHED="), std::string::npos);
}

// -s --watch where ssfast record keeps this namespace's history: the sparklines start from the
// recorded samples (here a CLOSE_WAIT count that grew while the recorder ran, before the view
// began), the title says so, and a divider marks where samples 1 s apart meet the view's own,
// 0.5 s apart. At the recorder's own spacing there is no divider; another namespace's samples,
// or a filter, start nothing.
TEST_F(LiveScreen, TheViewStartsFromRecordedSamples) {
  const testing::scratch_dir dir("ssfast-screen-history");
  ASSERT_TRUE(dir.made());
  const int l = listener(7003);
  {
    testing::background_process rec(
        {SSFAST_CLI_PATH, "record", "--dir", dir.path(), "--interval", "1", "--count", "5"});
    for (int k = 0; k < 4; ++k) {  // a growing leak: 8 more before each sample after the first
      std::this_thread::sleep_for(1s);
      for (int i = 0; i < 8; ++i) {
        int client = -1;
        connect_from(l, 7003, INADDR_LOOPBACK, client);
        ::close(client);
      }
    }
    ASSERT_EQ(rec.wait_exit(20s), 0) << rec.stderr_text();
  }
  tmux_pane pane(std::string("env LANG=C.UTF-8 TERM=xterm NO_COLOR=1 ") + SSFAST_CLI_PATH +
                 " -s --watch 0.5 --dir " + dir.path());
  std::string screen =
      pane.wait_for([](const std::string& s) { return s.find("report 2") != std::string::npos; });
  EXPECT_NE(screen.find(", history from 5 recorded samples every 1 s"), std::string::npos)
      << screen;
  const std::string row = line_with(screen, "CLOSE_WAIT ");
  const auto divider = row.find("\u2502");
  ASSERT_NE(divider, std::string::npos) << screen;
  // Left of it the recorded rise (the first sample, before the leak, lowest; never falling;
  // not flat), right of it the view's own reports, all at the top (the most there is).
  const std::string bar = "\u2581";
  const std::size_t start = row.find(" " + bar) + 1;
  const std::string recorded = row.substr(start, divider - start);
  ASSERT_EQ(recorded.size(), 5 * bar.size()) << "five samples: " << row;
  std::vector<std::string> marks;
  for (std::size_t k = 0; k < 5; ++k) marks.push_back(recorded.substr(k * bar.size(), bar.size()));
  EXPECT_EQ(marks.front(), bar) << row;
  EXPECT_TRUE(std::is_sorted(marks.begin(), marks.end())) << row;  // U+2581..U+2588 sort as levels
  EXPECT_NE(marks.back(), bar) << row;
  const std::string live = row.substr(divider + std::string("\u2502").size());
  for (std::size_t k = 0; k + bar.size() <= live.size(); k += bar.size())
    EXPECT_EQ(live.substr(k, bar.size()), "\u2588") << row;
  pane.quit();

  tmux_pane same(std::string("env LANG=C.UTF-8 TERM=xterm NO_COLOR=1 ") + SSFAST_CLI_PATH +
                 " -s --watch 1 --dir " + dir.path());
  screen =
      same.wait_for([](const std::string& s) { return s.find("report 1") != std::string::npos; });
  EXPECT_NE(screen.find(", history from 5 recorded samples every 1 s"), std::string::npos)
      << screen;
  EXPECT_EQ(line_with(screen, "CLOSE_WAIT ").find("\u2502"), std::string::npos)
      << "the same spacing: no divider\n"
      << screen;
  same.quit();

  tmux_pane filtered(std::string("env LANG=C.UTF-8 TERM=xterm NO_COLOR=1 ") + SSFAST_CLI_PATH +
                     " -s --watch 0.5 --dir " + dir.path() + " sport = :7003");
  screen = filtered.wait_for(
      [](const std::string& s) { return s.find("report 1") != std::string::npos; });
  EXPECT_EQ(screen.find("recorded"), std::string::npos) << screen;
  filtered.quit();

  // Samples of another namespace (a recorder in a namespace of its own) are not this one's.
  const testing::scratch_dir other("ssfast-screen-other");
  ASSERT_TRUE(other.made());
  const auto r = testing::run_process({"unshare", "-n", SSFAST_CLI_PATH, "record", "--dir",
                                       other.path(), "--interval", "1", "--count", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  tmux_pane elsewhere(std::string("env LANG=C.UTF-8 TERM=xterm NO_COLOR=1 ") + SSFAST_CLI_PATH +
                      " -s --watch 0.5 --dir " + other.path());
  screen = elsewhere.wait_for(
      [](const std::string& s) { return s.find("report 1") != std::string::npos; });
  EXPECT_EQ(screen.find("recorded"), std::string::npos) << screen;
  elsewhere.quit();
}

}  // namespace
}  // namespace ssfast
