// SPDX-License-Identifier: Apache-2.0
// ss parity on real sockets: for each of ss's flags, ssfast's output against ss 6.1's on the
// same sockets (every TCP state, UDP, UNIX), byte for byte where the output holds still, and
// what an ss parser (jc --ss) reads from both. Standard output of every listing holds the
// header and the rows only.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "ssfast/core/grouping.h"
#include "support/background.h"
#include "support/live_fixture.h"

namespace ssfast {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

using line_set = std::multiset<std::string>;

// Every run of digits as one "N".
std::string mask_digits(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] >= '0' && s[i] <= '9') {
      out.push_back('N');
      while (i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '9') ++i;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// The lines in any order ("header: " marks the first): ss and ssfast may list in another
// order (ss dumps UDP before TCP), but columns are measured over all rows, so each line is
// byte-comparable.
bool is_header(const std::string& l) {
  return l.rfind("Netid ", 0) == 0 || l.rfind("State ", 0) == 0 || l.rfind("Recv-Q ", 0) == 0;
}

line_set sorted_lines(const std::string& text) {
  line_set out;
  for (const std::string& l : lines_of(text)) out.insert(is_header(l) ? "header: " + l : l);
  return out;
}

// What moves between two runs masked: a timer's time left, whose form moves with it ("1min",
// "2.5sec", "200ms", or nothing at expiry) as T, then every digit run as N.
std::string mask_moving(std::string m) {
  for (std::size_t at = m.find("timer:("); at != std::string::npos;
       at = m.find("timer:(", at + 1)) {
    const std::size_t from = m.find(',', at), to = m.find(',', from + 1);
    if (from != std::string::npos && to != std::string::npos)
      m.replace(from + 1, to - from - 1, "T");
  }
  return mask_digits(m);
}

// Lines as words, every digit run as "N": for outputs whose numbers move between two runs
// (timers, tcp_info, memory), the same fields in the same order on the same sockets. -m and -i
// put a second line under each socket; it stays with its socket.
line_set shapes(const std::string& text) {
  std::vector<std::string> out;
  for (const std::string& l : lines_of(text)) {
    std::istringstream words(mask_moving(l));
    std::string joined;
    for (std::string w; words >> w;) joined += (joined.empty() ? "" : " ") + w;
    if (!l.empty() && l[0] == '\t' && !out.empty()) {
      out.back() += " / " + joined;
    } else {
      out.push_back(joined);
    }
  }
  line_set set;
  for (const std::string& l : out) set.insert(is_header(l) ? "header: " + l : l);
  return set;
}

std::string ours(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {SSFAST_CLI_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto r = testing::run_process(argv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

std::string theirs(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"ss"};
  argv.insert(argv.end(), args.begin(), args.end());
  return testing::run_command(argv);
}

std::string joined(const std::vector<std::string>& args) {
  std::string s;
  for (const auto& a : args) s += " " + a;
  return s;
}

// Shell-quotes one word for sh -c.
std::string quoted(const std::string& w) {
  std::string q = "'";
  for (char c : w) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// What jc --ss reads from `program ARGS`: its records as JSON text, one per line, sorted;
// TCP, UDP and UNIX records only (the other tables have their own test, where each program's
// own sock_diag socket is set aside), and with
// `mask` every digit run in a string value as N.
line_set jc_records(const std::string& program, const std::vector<std::string>& args, bool mask) {
  std::string cmd = quoted(program);
  for (const auto& a : args) cmd += " " + quoted(a);
  std::string text;
  try {
    text = testing::run_command({"sh", "-c", cmd + " | jc --ss"});
  } catch (const std::exception& e) {
    ADD_FAILURE() << "jc --ss of " << program << joined(args) << ": " << e.what() << "\n"
                  << testing::run_command({"sh", "-c", cmd});
    return {};
  }
  line_set out;
  const auto records = nlohmann::json::parse(text, nullptr, false);
  if (!records.is_array()) {
    ADD_FAILURE() << "jc --ss did not read " << program << joined(args) << ": " << text;
    return out;
  }
  static const std::set<std::string> kinds = {"tcp", "udp", "u_str", "u_dgr", "u_seq"};
  for (auto r : records) {
    if (r.contains("netid") && kinds.count(r["netid"].get<std::string>()) == 0) continue;
    if (mask)
      for (auto& [k, v] : r.items())
        if (v.is_string()) v = mask_moving(v.get<std::string>());
    out.insert(r.dump());
  }
  return out;
}

class LiveSsParity : public LiveNamespace {
 protected:
  void SetUp() override {
    LiveNamespace::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (!testing::have_program("ss")) GTEST_SKIP() << "iproute2's ss is not installed";
  }

  // Byte for byte, rows in any order.
  void same_bytes(const std::vector<std::string>& args) {
    const std::string what = "ssfast/ss" + joined(args);
    expect_equal_when_quiet([&] { return sorted_lines(ours(args)); },
                            [&] { return sorted_lines(theirs(args)); }, what.c_str());
  }
  // The same fields on the same sockets, numbers aside.
  void same_shape(const std::vector<std::string>& args) {
    const std::string what = "ssfast/ss (numbers aside)" + joined(args);
    expect_equal_when_quiet([&] { return shapes(ours(args)); },
                            [&] { return shapes(theirs(args)); }, what.c_str());
  }
};

TEST_F(LiveSsParity, ListingsAreByteForByteSs) {
  for (const char* flags : {"-tan",  "-tuan", "-tuanp", "-tuln", "-xa",  "-xap",  "-4an",
                            "-6an",  "-tanH", "-uan",   "-xln",  "-xae", "-tlne", "-ulne",
                            "-tlnm", "-xam",  "-xaem",  "-tlnp", "-t",   "-x",    "-u"})
    same_bytes({flags});
  // Ports by name from /etc/services, as ss names them (not in the ephemeral range).
  same_bytes({"-tua"});
  same_bytes({"-tl"});
  // The options that add columns of their own.
  same_bytes({"-tan", "--tos"});
  same_bytes({"-tan", "--cgroup"});
  same_bytes({"-tan", "--inet-sockopt"});
  same_bytes({"-uan", "--inet-sockopt"});
  same_bytes({"-tanO", "--inet-sockopt"});
  same_bytes({"-tlnO", "-m"});
  // Filters: the kernel applies both programs' bytecode.
  same_bytes({"-tan", "state", "established", "(", "sport", ">=", ":1024", ")"});
  same_bytes({"-tan", "dst", "127.0.0.1"});
  // ss's other ways to say the same: families, tables, a filter file, host names.
  same_bytes({"-f", "inet", "-an"});
  same_bytes({"-f", "inet6", "-ln"});
  same_bytes({"-f", "unix", "-a"});
  same_bytes({"-A", "tcp,unix", "-an"});
  same_bytes({"-A", "unix_stream", "-a"});
  same_bytes({"-A", "unix_dgram,unix_seqpacket", "-an"});
  same_bytes({"-A", "unix_seqpacket,tcp", "-an"});
  same_bytes({"-A", "unix_stream", "-x", "-a"});
  same_bytes({"-A", "inet", "-ln"});
  char path[] = "/tmp/ssfast-filter-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string expr = "( dport >= :1024\n or sport < :1024 )\n";
  ASSERT_EQ(write(fd, expr.data(), expr.size()), static_cast<ssize_t>(expr.size()));
  close(fd);
  same_bytes({"-tan", "-F", path});
  unlink(path);
  same_bytes({"-tlr"});  // 127.0.0.1 and ::1 are named by /etc/hosts, never by DNS here
  // -Z where SELinux is off: ss's words and exit status.
  if (access("/sys/fs/selinux/enforce", F_OK) != 0) {
    const auto r = testing::run_process({SSFAST_CLI_PATH, "-tanZ"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "ssfast: SELinux is not enabled.\n");
    EXPECT_EQ(r.out, "");
  }
}

TEST_F(LiveSsParity, TimersInfoAndMemoryHaveSsFields) {
  for (const char* flags : {"-tano", "-tuane", "-tani", "-tanm", "-tanmi", "-tanio", "-taniO",
                            "-tanieO", "-tuaim", "-tanie", "-uanm", "-6anmi"})
    same_shape({flags});
  same_shape({"-tuane", "--inet-sockopt", "-m"});
}

// jc's ss parser reads the same records from both, for every combination it can parse; where
// timers, rtt and memory move between two runs, the same keys and values of the same shape.
TEST_F(LiveSsParity, AnSsParserReadsTheSameRecords) {
  if (!testing::have_program("jc")) GTEST_SKIP() << "jc is not installed (scripts/setup test)";
  const std::vector<std::vector<std::string>> stable = {{"-an"},
                                                        {"-tuan"},
                                                        {"-tuanp"},
                                                        {"-tuln"},
                                                        {"-xa"},
                                                        {"-xap"},
                                                        {"-4an"},
                                                        {"-6an"},
                                                        {"-tuan", "dport", ">", ":1024"},
                                                        {"-tuan", "dst", "127.0.0.1"}};
  for (const auto& args : stable) {
    const std::string what = "jc --ss of" + joined(args);
    expect_equal_when_quiet([&] { return jc_records(SSFAST_CLI_PATH, args, false); },
                            [&] { return jc_records("ss", args, false); }, what.c_str());
  }
  const std::vector<std::vector<std::string>> moving = {{"-tuane"}, {"-tuano"}, {"-tuaim"}};
  for (const auto& args : moving) {
    const std::string what = "jc --ss (numbers aside) of" + joined(args);
    expect_equal_when_quiet([&] { return jc_records(SSFAST_CLI_PATH, args, true); },
                            [&] { return jc_records("ss", args, true); }, what.c_str());
  }
}

// Standard output holds the header and one line per socket (with -m/-i, its second line),
// nothing else: no trailer, no note, no blank line, whatever the flags; notes go to stderr.
TEST_F(LiveSsParity, StdoutIsOnlyTheHeaderAndTheRows) {
  for (const char* flags : {"-tan", "-tuanp", "-xa", "-an", "-tlnm", "-tani", "-tlnH"}) {
    const std::string out = ours({flags});
    const auto l = lines_of(out);
    ASSERT_FALSE(l.empty()) << flags;
    if (std::string(flags) != "-tlnH") {
      EXPECT_TRUE(l[0].rfind("Netid ", 0) == 0 || l[0].rfind("State ", 0) == 0)
          << flags << ": " << l[0];
    }
    const std::string theirs_out = theirs({flags});
    const std::size_t theirs_rows = lines_of(theirs_out).size();
    for (const auto& x : l) {
      EXPECT_FALSE(x.empty()) << flags << ":\n" << out;
      EXPECT_EQ(x.find("TcpExt"), std::string::npos) << flags << ":\n" << out;
      EXPECT_EQ(x.find("ssfast:"), std::string::npos) << flags << ":\n" << out;
    }
    // As many lines as ss's (netlink and packet sockets included: -an lists every table).
    EXPECT_EQ(l.size(), theirs_rows) << flags << ":\n" << out << "---\n" << theirs_out;
  }
}

// What people pipe `ss -ti` through awk for, as one command: a client that sent exactly
// 100,000 bytes ranks by bytes_received as ss -ti's bytes_received says, and by rtt with
// ss's RTT in its bucket.
TEST_F(LiveSsParity, TopByTcpInfoAsSsTiThroughAwk) {
  testing::fd_set_guard held;
  const int l = held.hold(testing::listen_loopback(79, 8));
  const int c = held.hold(testing::connect_tcp("127.0.0.1", 79, "127.0.0.77"));
  const int a = held.hold(accept(l, nullptr, nullptr));
  ASSERT_GE(a, 0);
  std::vector<char> buf(100000, 'x');
  std::size_t sent = 0, got = 0;
  while (sent < buf.size()) {
    const ssize_t n = write(c, buf.data() + sent, buf.size() - sent);
    ASSERT_GT(n, 0);
    sent += static_cast<std::size_t>(n);
    while (got < sent) {
      const ssize_t m = read(a, buf.data(), buf.size());
      ASSERT_GT(m, 0);
      got += static_cast<std::size_t>(m);
    }
  }
  // ss -ti's bytes_received and rtt of the server's socket (its peer is the client).
  const std::string ss_ti = theirs({"-tinH", "dst", "127.0.0.77"});
  auto field = [&](const std::string& name) {
    const auto at = ss_ti.find(" " + name + ":");
    return at == std::string::npos ? std::string() : ss_ti.substr(at + name.size() + 2);
  };
  ASSERT_FALSE(field("bytes_received").empty()) << ss_ti;
  EXPECT_EQ(std::stoull(field("bytes_received")), 100000u) << ss_ti;
  const auto by = [&](const char* metric) {
    const auto r = testing::run_process(
        {SSFAST_CLI_PATH, "top", "raddr", "-t", "--by", metric, "-j", "dst", "127.0.0.77"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["entries"].size(), 1u) << r.out;
    return j["entries"].empty() ? nlohmann::json() : j["entries"][0];
  };
  const auto received = by("bytes_received");
  EXPECT_EQ(received["key"], "127.0.0.77");
  EXPECT_EQ(received["count"], 100000u);
  EXPECT_EQ(received["sockets"], 1u);
  EXPECT_EQ(by("retrans")["count"], 0u) << "loopback loses nothing";
  // The RTT moves only with traffic, and there is none now: ss's figure is in our bucket.
  const double ss_rtt_us = std::stod(field("rtt")) * 1000.0;
  const auto rtt = by("rtt");
  const auto bucket = rtt_histogram::bucket_of(static_cast<std::uint32_t>(ss_rtt_us + 0.5));
  EXPECT_EQ(rtt["rtt_p50_us"], rtt_histogram::value_of(bucket)) << ss_ti;
  EXPECT_EQ(rtt["rtt_p99_us"], rtt_histogram::value_of(bucket)) << ss_ti;
  // Text: `P50 P99 SOCKETS KEY` in milliseconds.
  const auto text = testing::run_process(
      {SSFAST_CLI_PATH, "top", "raddr", "-t", "--by", "rtt", "dst", "127.0.0.77"});
  EXPECT_NE(text.out.find("       1 127.0.0.77\n"), std::string::npos) << text.out;
  // The queues need no tcp_info, and tcp_info needs netlink.
  const auto proc =
      testing::run_process({SSFAST_CLI_PATH, "top", "raddr", "--by", "rtt", "--source", "proc"});
  EXPECT_EQ(proc.exit_code, 2);
  EXPECT_NE(proc.err.find("only netlink gives"), std::string::npos) << proc.err;
}

// ss -K: the sockets a filter selects are destroyed and listed, as ss lists what it destroys;
// the peer of a destroyed connection sees it reset. Without CAP_NET_ADMIN: EPERM, said, and
// the socket lives. Only this test's own namespace and sockets are touched.
TEST_F(LiveSsParity, KillDestroysWhatItListsAsSs) {
  testing::fd_set_guard held;
  const int l = held.hold(testing::listen_loopback(82, 8));
  auto pair = [&](const char* from) {
    const int c = held.hold(testing::connect_tcp("127.0.0.1", 82, from));
    const int a = held.hold(accept(l, nullptr, nullptr));
    EXPECT_GE(a, 0);
    return c;
  };
  const int ours_client = pair("127.0.0.82");
  const int theirs_client = pair("127.0.0.83");
  const int kept_client = pair("127.0.0.84");
  const std::string ours_out = ours({"-tnK", "dst", "127.0.0.82"});
  const std::string theirs_out = theirs({"-tnK", "dst", "127.0.0.83"});
  EXPECT_EQ(lines_of(ours_out).size(), 2u) << ours_out;
  EXPECT_EQ(shapes(ours_out), shapes(theirs_out)) << ours_out << theirs_out;
  EXPECT_EQ(lines_of(theirs({"-tnH", "dst", "127.0.0.82"})).size(), 0u) << "destroyed";
  // The client of the destroyed socket is reset.
  char byte = 0;
  EXPECT_LE(read(ours_client, &byte, 1), 0);
  (void)theirs_client;
  // As nobody: the kernel refuses, the command says why, and the socket lives.
  testing::child_setup nobody;
  nobody.as_uid = 65534;
  const auto r = testing::run_process({SSFAST_CLI_PATH, "-tnK", "dst", "127.0.0.84"}, nobody);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("-K: cannot destroy 127.0.0.1:82 -> 127.0.0.84:"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("(needs CAP_NET_ADMIN over the socket's network namespace)"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(lines_of(theirs({"-tnH", "dst", "127.0.0.84"})).size(), 1u) << "still there";
  (void)kept_client;
}

// The cgroup2 mount point, from this process's mountinfo; "" when there is none.
std::string cgroup2_mount() {
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    const auto dash = line.find(" - cgroup2 ");
    if (dash == std::string::npos) continue;
    std::istringstream fields(line.substr(0, dash));
    std::string skip, mount;
    fields >> skip >> skip >> skip >> skip >> mount;
    return mount;
  }
  return {};
}

// A child process in a cgroup of its own holding a TCP listener on `port`, until destroyed.
class cgroup_listener {
 public:
  // Empty why() when it runs.
  cgroup_listener(std::uint16_t port) {
    const std::string mount = cgroup2_mount();
    if (mount.empty()) {
      why_ = "no cgroup2 mount";
      return;
    }
    path_ = "/ssfast-test-" + std::to_string(getpid());
    if (mkdir((mount + path_).c_str(), 0755) != 0) {
      why_ = "cannot make a cgroup: " + std::string(std::strerror(errno));
      return;
    }
    dir_ = mount + path_;
    int ready[2], hold[2];
    if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(hold, O_CLOEXEC) != 0) {
      why_ = "pipe";
      return;
    }
    pid_ = fork();
    if (pid_ == 0) {   // the child: only system calls from here
      close(hold[1]);  // else its own copy keeps the pipe open
      close(ready[0]);
      const int procs = open((dir_ + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
      const bool moved = procs >= 0 && write(procs, "0", 1) == 1;
      const int l = moved ? testing::listen_loopback(port, 8) : -1;
      const char byte = l >= 0 ? 'y' : 'n';
      if (write(ready[1], &byte, 1) != 1) _exit(1);
      char c;
      while (read(hold[0], &c, 1) > 0) {
      }
      _exit(0);
    }
    close(ready[1]);
    close(hold[0]);
    hold_ = hold[1];
    char byte = 'n';
    if (pid_ < 0 || read(ready[0], &byte, 1) != 1 || byte != 'y')
      why_ = "the child could not join the cgroup or listen";
    close(ready[0]);
  }
  ~cgroup_listener() {
    if (hold_ >= 0) close(hold_);
    if (pid_ > 0) waitpid(pid_, nullptr, 0);
    if (!dir_.empty()) rmdir(dir_.c_str());
  }
  const std::string& why() const { return why_; }
  const std::string& path() const { return path_; }  ///< below the mount, as ss takes it

 private:
  std::string why_, path_, dir_;
  pid_t pid_ = -1;
  int hold_ = -1;
};

// ss's conditions on the socket itself (dev, fwmark, cgroup, autobound) and UNIX name
// patterns: the same sockets as ss selects, byte for byte. The kernel judges the inet ones
// (INET_DIAG_BC_DEV_COND, MARK_COND, CGROUP_COND, AUTO); /proc cannot, and says so.
TEST_F(LiveSsParity, FilterConditionsOnTheSocketItself) {
  testing::fd_set_guard held;
  const int on_lo = held.hold(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(setsockopt(on_lo, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3), 0) << std::strerror(errno);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(201);
  ASSERT_EQ(bind(on_lo, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(on_lo, 8), 0);
  const int marked = held.hold(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const int mark = 0x31;
  ASSERT_EQ(setsockopt(marked, SOL_SOCKET, SO_MARK, &mark, sizeof mark), 0);
  a.sin_port = htons(202);
  ASSERT_EQ(bind(marked, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(marked, 8), 0);
  for (std::vector<std::string> f : {std::vector<std::string>{"dev", "=", "lo"},
                                     {"dev", "!=", "lo"},
                                     {"dev", "1"},
                                     {"dev", "eq", "0"},
                                     {"fwmark", "=", "0x31"},
                                     {"fwmark", "!=", "49"},
                                     {"fwmark", "0x30/0xf0"},
                                     {"fwmark", "061"},
                                     {"autobound"},
                                     {"sport", "=", ":201", "or", "fwmark", "0x31"},
                                     {"(", "dev", "lo", ")", "or", "autobound"}}) {
    f.insert(f.begin(), "-tan");
    same_bytes(f);
  }
  // UNIX names as fnmatch patterns, case-insensitive; -x makes an address a UNIX one.
  same_bytes({"-xa", "src", "@ssfast*"});
  same_bytes({"-xa", "src", "*LISTENER*"});
  same_bytes({"-a", "src", "unix:@ssfast-test-*"});
  same_bytes({"-xa", "dst", "*"});
  same_bytes({"-xa", "autobound"});
  same_bytes({"-xa", "not", "autobound"});
  // A cgroup: a child process in a cgroup of its own holds a listener.
  if (const cgroup_listener cg(203); cg.why().empty()) {
    same_bytes({"-tan", "cgroup", "=", cg.path()});
    same_bytes({"-tan", "cgroup", "!=", cg.path()});
    const std::string listed = ours({"-tlnH", "cgroup", cg.path()});
    EXPECT_EQ(lines_of(listed).size(), 1u) << listed;
    EXPECT_NE(listed.find(":203 "), std::string::npos) << listed;
  } else {
    std::printf("cgroup condition not tried: %s\n", cg.why().c_str());
  }
  // Unknown names are errors that name the word, as ss's "Cannot parse device."
  auto r = testing::run_process({SSFAST_CLI_PATH, "-tan", "dev", "no-such-if0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("'no-such-if0' is not an interface"), std::string::npos) << r.err;
  r = testing::run_process({SSFAST_CLI_PATH, "-tan", "fwmark", "0x1/zz"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("is not a mark"), std::string::npos) << r.err;
  r = testing::run_process({SSFAST_CLI_PATH, "-tan", "cgroup", "/no/such/cgroup"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("is not a cgroup"), std::string::npos) << r.err;
  // /proc has no device binding, mark, cgroup or bind lock for an inet socket: refused, not
  // guessed. UNIX sockets are judged from their names, so -x goes on.
  r = testing::run_process({SSFAST_CLI_PATH, "--source", "proc", "-tan", "dev", "lo"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("judged by the kernel"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  // Without CAP_NET_ADMIN the kernel refuses a mark condition (inet_diag_bc_audit): said.
  testing::child_setup nobody;
  nobody.as_uid = 65534;
  r = testing::run_process({SSFAST_CLI_PATH, "-tan", "fwmark", "0x31"}, nobody);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("a fwmark condition needs CAP_NET_ADMIN"), std::string::npos) << r.err;
  r = testing::run_process({SSFAST_CLI_PATH, "--source", "proc", "-xaH", "autobound"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(lines_of(r.out).size(), lines_of(theirs({"-xaH", "autobound"})).size()) << r.out;
}

// The sock_diag sockets in this namespace that joined a multicast group (/proc/net/netlink:
// protocol 4, NETLINK_SOCK_DIAG, with a non-zero Groups mask): the followers listening.
std::size_t destroy_listeners() {
  std::ifstream in("/proc/net/netlink");
  std::size_t n = 0;
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string sk, eth, pid, groups;
    f >> sk >> eth >> pid >> groups;
    if (eth == "4" && !groups.empty() && groups.find_first_not_of('0') != std::string::npos) ++n;
  }
  return n;
}

// Waits, bounded, until `n` followers have joined the destroy groups.
void wait_for_destroy_listeners(std::size_t n) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (destroy_listeners() < n && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

std::string file_text(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Waits, bounded, until `path` holds `lines` lines.
bool wait_for_lines(const std::string& path, std::size_t lines) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (lines_of(file_text(path)).size() < lines) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// A UDP socket bound to `port` on `family`'s loopback and closed at once: one destroy event.
// Whether a NETLINK_SOCK_DIAG socket of this namespace has dropped a message (the Drops column
// of /proc/net/netlink: sk_drops, which netlink_overrun raises), waiting up to `limit`.
bool wait_for_sock_diag_drops(std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  do {
    std::istringstream in(file_text("/proc/net/netlink"));
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream w(line);
      std::string sk, eth, pid, groups, rmem, wmem, dump, locks, drops;
      if (w >> sk >> eth >> pid >> groups >> rmem >> wmem >> dump >> locks >> drops && eth == "4" &&
          drops != "0")
        return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (std::chrono::steady_clock::now() < deadline);
  return false;
}

void udp_once(int family, std::uint16_t port) {
  const int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    a->sin6_addr = in6addr_loopback;
    len = sizeof *a;
  }
  if (port != 0) {
    EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&ss), len), 0);
  }
  close(fd);
}

// ss -E: both followers see the same destroyed sockets in the same order, and draw them the
// same, byte for byte (-e: ino:0, as events carry none, and the cookie); the filter applies,
// its states do not. A burst that overflows the receive queue is counted, and following goes
// on. Only this test's namespace and sockets.
TEST_F(LiveSsParity, EventsFollowDestroyedSocketsAsSs) {
  if (!testing::have_program("stdbuf")) GTEST_SKIP() << "stdbuf (coreutils) is not installed";
  const testing::scratch_dir dir("ssfast-events");
  ASSERT_TRUE(dir.made());
  const std::string theirs_file = dir / "ss", ours_file = dir / "ours", lost_file = dir / "lost";
  const std::string cli = SSFAST_CLI_PATH;
  {
    const std::size_t before = destroy_listeners();
    testing::background_process ss_follow(
        {"sh", "-c", "exec stdbuf -o0 ss -Ee > " + quoted(theirs_file)});
    testing::background_process our_follow(
        {"sh", "-c", "exec " + quoted(cli) + " -Ee --count 7 > " + quoted(ours_file)});
    wait_for_destroy_listeners(before + 2);
    ASSERT_EQ(destroy_listeners(), before + 2) << "both followers joined the groups";
    {  // a TCP connection and its listener (IPv4), then UDP (IPv4 bound, IPv6 unbound)
      testing::fd_set_guard g;
      const int l = g.hold(testing::listen_loopback(85, 8));
      const int c = g.hold(testing::connect_tcp("127.0.0.1", 85));
      const int a = g.hold(accept(l, nullptr, nullptr));
      ASSERT_GE(a, 0);
      ASSERT_EQ(write(c, "ping", 4), 4);
    }
    udp_once(AF_INET, 85);
    udp_once(AF_INET6, 0);
    udp_once(AF_INET6, 85);
    udp_once(AF_INET, 0);
    EXPECT_EQ(our_follow.wait_exit(std::chrono::seconds(20)), 0) << our_follow.stderr_text();
    ASSERT_TRUE(wait_for_lines(theirs_file, 8)) << file_text(theirs_file);
  }
  const std::string ours_text = file_text(ours_file), theirs_text = file_text(theirs_file);
  EXPECT_EQ(lines_of(ours_text).size(), 8u) << ours_text;
  EXPECT_EQ(ours_text, theirs_text);
  // The filter, as ss applies it to events: a port and a family; no state.
  {
    const std::size_t before = destroy_listeners();
    testing::background_process our_follow(
        {"sh", "-c", "exec " + quoted(cli) + " -Eun --count 1 sport = :86 > " + quoted(ours_file)});
    wait_for_destroy_listeners(before + 1);
    udp_once(AF_INET, 87);
    udp_once(AF_INET6, 86);
    EXPECT_EQ(our_follow.wait_exit(std::chrono::seconds(20)), 0) << our_follow.stderr_text();
    const auto got = lines_of(file_text(ours_file));
    ASSERT_EQ(got.size(), 2u);
    EXPECT_NE(got[1].find("[::1]:86 "), std::string::npos) << got[1];
  }
  // A burst past the receive queue while the follower is stopped: the loss is said, with a
  // count, and the next event still arrives.
  {
    const std::size_t before = destroy_listeners();
    testing::background_process our_follow(
        {"sh", "-c", "exec " + quoted(cli) + " -Eun > " + quoted(lost_file)});
    wait_for_destroy_listeners(before + 1);
    ASSERT_EQ(kill(our_follow.pid(), SIGSTOP), 0);
    for (int i = 0; i < 60000; ++i) udp_once(AF_INET, 0);
    // The kernel broadcasts destroy events from a workqueue, which a loaded host runs late:
    // wait, bounded, until the stopped follower's queue has overflowed (netlink_overrun counts
    // the drop in its socket's Drops, /proc/net/netlink), so the loss is there to be said.
    ASSERT_TRUE(wait_for_sock_diag_drops(std::chrono::seconds(60)))
        << "the stopped follower's queue never overflowed\n"
        << file_text("/proc/net/netlink");
    ASSERT_EQ(kill(our_follow.pid(), SIGCONT), 0);
    const std::string said =
        our_follow.wait_for_line("destroy events lost", std::chrono::seconds(30));
    EXPECT_NE(said.find("ssfast: warning: -E: "), std::string::npos) << said;
    const auto n = std::strtoull(said.c_str() + said.find("-E: ") + 4, nullptr, 10);
    EXPECT_GT(n, 0u) << said;
    EXPECT_LE(n, 60000u) << said;
    // The queue may still be full while the follower drains it (an event sent then is lost
    // too): send one, bounded, until one arrives.
    const auto seen = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    auto next_send = std::chrono::steady_clock::now();
    while (file_text(lost_file).find("127.0.0.1:88 ") == std::string::npos &&
           std::chrono::steady_clock::now() < seen) {
      if (std::chrono::steady_clock::now() >= next_send) {
        udp_once(AF_INET, 88);
        next_send += std::chrono::seconds(1);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_NE(file_text(lost_file).find("127.0.0.1:88 "), std::string::npos)
        << "following goes on after the loss";
  }
  // What -E cannot do is said, exit 2.
  auto r = testing::run_process({cli, "-Ex"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("destroy events for TCP and UDP sockets only"), std::string::npos) << r.err;
  r = testing::run_process({cli, "-EK"});
  EXPECT_EQ(r.exit_code, 2);
  r = testing::run_process({cli, "-tan", "--count", "3"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("'--count' goes with -E"), std::string::npos) << r.err;
}

// ss -T: the owners per thread, tid= and each thread's name, in ss's order; -T alone shows
// them too. A child with two threads holds a listener.
TEST_F(LiveSsParity, OwnersPerThreadAsSsT) {
  if (!testing::have_program("python3")) GTEST_SKIP() << "python3 is not installed";
  testing::background_process holder(
      {"python3", "-c",
       "import socket, sys, threading, time\n"
       "l = socket.socket()\n"
       "l.bind(('127.0.0.1', 89))\n"
       "l.listen()\n"
       "threading.Thread(target=time.sleep, args=(120,), daemon=True).start()\n"
       "print('ready', file=sys.stderr, flush=True)\n"
       "time.sleep(120)\n"});
  holder.wait_for_line("ready");
  same_bytes({"-tlnT", "sport", "=", ":89"});
  same_bytes({"-tlnpT", "sport", "=", ":89"});
  const std::string text = ours({"-tlnTH", "sport", "=", ":89"});
  EXPECT_NE(text.find(",tid=" + std::to_string(holder.pid()) + ",fd="), std::string::npos) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '('), 3) << "users:( and one per thread: " << text;
}

// ss -D: the raw TCP dump, IPv4's then IPv6's, each with its NLMSG_DONE; ss replays ours
// (TCPDIAG_FILE) exactly as it replays its own, on the scenario's every TCP state.
TEST_F(LiveSsParity, DiagDumpReplaysAsSsOwn) {
  const testing::scratch_dir dir("ssfast-diag");
  ASSERT_TRUE(dir.made());
  const std::string ours_file = dir / "ours", theirs_file = dir / "ss";
  auto replay = [](const std::string& file, const std::vector<std::string>& flags) {
    std::vector<std::string> argv = {"env", "TCPDIAG_FILE=" + file, "ss"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    return testing::run_command(argv);
  };
  for (const auto& [dump, shown] :
       {std::pair<std::vector<std::string>, std::vector<std::string>>{{"-tan"}, {"-tane"}},
        {{"-tn"}, {"-tan"}},
        {{"-6tan"}, {"-tan"}},
        {{"-tan", "state", "listening"}, {"-tan"}},
        {{"-tani"}, {"-tani"}},
        {{"-tanm"}, {"-tanm"}}}) {
    const bool moving = shown[0] != "-tan";  // -e, -i, -m: timers and counters move
    const std::string what = "TCPDIAG_FILE replay of ssfast/ss" + joined(dump) + " -D";
    auto ours_replay = [&, d = dump, sh = shown] {
      std::vector<std::string> args = d;
      args.insert(args.end(), {"-D", ours_file});
      EXPECT_EQ(ours(args), "");
      const std::string text = replay(ours_file, sh);
      return moving ? shapes(text) : sorted_lines(text);
    };
    auto theirs_replay = [&, d = dump, sh = shown] {
      std::vector<std::string> args = d;
      args.insert(args.end(), {"-D", theirs_file});
      theirs(args);
      const std::string text = replay(theirs_file, sh);
      return moving ? shapes(text) : sorted_lines(text);
    };
    expect_equal_when_quiet(ours_replay, theirs_replay, what.c_str());
  }
  // The replay shows the IPv4 dump (it stops at the first NLMSG_DONE), as ss's own: the file
  // holds both, as the sizes say.
  expect_equal_when_quiet(
      [&] {
        ours({"-tan", "-D", ours_file});
        return std::vector<std::size_t>{file_text(ours_file).size(),
                                        ours({"-tan", "-D", "-"}).size()};
      },
      [&] {
        theirs({"-tan", "-D", theirs_file});
        const std::size_t n = file_text(theirs_file).size();
        return std::vector<std::size_t>{n, n};
      },
      "ssfast/ss -tan -D: the sizes of the two dumps, to a file and to stdout");
  // An expression is refused (ss -D ignores it); so is a dump without TCP.
  auto r = testing::run_process({SSFAST_CLI_PATH, "-tan", "-D", ours_file, "sport", "=", ":22"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("an expression is refused"), std::string::npos) << r.err;
  r = testing::run_process({SSFAST_CLI_PATH, "-uan", "-D", ours_file});
  EXPECT_EQ(r.exit_code, 2);
  r = testing::run_process({SSFAST_CLI_PATH, "-tan", "-D", dir / "no/such/dir"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("-D: cannot open"), std::string::npos) << r.err;
}

// -s -i: per state, the sockets with tcp_info and their RTTs, as many as ss -ti shows with an
// rtt: in that state.
TEST_F(LiveSsParity, SummaryWithTcpInfoPerState) {
  auto ss_rtts = [&](const char* state) {
    std::size_t n = 0;
    for (const auto& l : lines_of(theirs({"-tinH", "state", state}))) {
      n += l.find(" rtt:") != std::string::npos;
    }
    return n;
  };
  auto ours_now = [&] {
    const auto r = testing::run_process({SSFAST_CLI_PATH, "-s", "-i", "-j"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out);
  };
  const auto j = ours_now();
  const auto& est = j["tcp_info"]["ESTABLISHED"];
  EXPECT_EQ(est["sockets"], j["tcp"]["states"]["ESTABLISHED"]) << j.dump();
  EXPECT_EQ(est["rtt_samples"].get<std::size_t>(), ss_rtts("established")) << j.dump();
  EXPECT_LE(est["rtt_p50_us"].get<std::uint64_t>(), est["rtt_p99_us"].get<std::uint64_t>());
  EXPECT_EQ(j["tcp_info"]["LISTEN"]["rtt_p50_us"], nullptr) << "listeners have no RTT sample";
  const auto text = testing::run_process({SSFAST_CLI_PATH, "-s", "-i"});
  EXPECT_NE(text.out.find("TCP RTT (ms) and retransmissions, per state (tcp_info):\n"),
            std::string::npos)
      << text.out;
  const auto refused = testing::run_process({SSFAST_CLI_PATH, "-s", "-i", "--watch", "1"});
  EXPECT_EQ(refused.exit_code, 2);
}

// A listing's lines as words (whitespace aside: a process name's width moves the columns),
// without the row of the dumping program's own sock_diag socket, which each program sees as
// its own ("tcpdiag:ss/PID", "4:PID").
line_set words_without_dumper(const std::string& text) {
  line_set out;
  for (const std::string& l : lines_of(text)) {
    std::istringstream in(l);
    std::string w, joined_words;
    bool dumper = false;
    while (in >> w) {
      if ((w.starts_with("tcpdiag:") && w != "tcpdiag:kernel") ||
          (w.starts_with("4:") && w != "4:0"))
        dumper = true;
      joined_words += (joined_words.empty() ? "" : " ") + w;
    }
    if (!dumper) out.insert(joined_words);
  }
  return out;
}

int held_socket(testing::fd_set_guard& fds, int family, int type, int protocol) {
  const int fd = ::socket(family, type | SOCK_CLOEXEC, protocol);
  EXPECT_GE(fd, 0) << std::strerror(errno);
  return fd < 0 ? -1 : fds.hold(fd);
}

// ss -w, -0 (-b, -e) and -A netlink (-f netlink) on raw, packet and netlink sockets of every
// kind this namespace can hold, from netlink (raw from /proc where the kernel has no raw_diag,
// as ss reads it) and from /proc alone (ss with PROC_ROOT).
TEST_F(LiveSsParity, RawPacketAndNetlinkTablesAsSs) {
  testing::fd_set_guard fds;
  // Raw: ICMP, IPPROTO_RAW, a TCP-protocol socket connected to 127.0.0.2, ICMPv6, and a
  // UDP-protocol IPv6 socket connected to ::1.
  held_socket(fds, AF_INET, SOCK_RAW, IPPROTO_ICMP);
  held_socket(fds, AF_INET, SOCK_RAW, IPPROTO_RAW);
  const int raw_tcp = held_socket(fds, AF_INET, SOCK_RAW, IPPROTO_TCP);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(0x7f000002);
  ASSERT_EQ(::connect(raw_tcp, reinterpret_cast<sockaddr*>(&to), sizeof to), 0)
      << std::strerror(errno);
  held_socket(fds, AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
  const int raw6 = held_socket(fds, AF_INET6, SOCK_RAW, IPPROTO_UDP);
  sockaddr_in6 to6{};
  to6.sin6_family = AF_INET6;
  to6.sin6_addr = in6addr_loopback;
  ASSERT_EQ(::connect(raw6, reinterpret_cast<sockaddr*>(&to6), sizeof to6), 0)
      << std::strerror(errno);
  // Packet: every protocol; IP bound to lo; none (not running); IPv6 with a BPF filter; ARP in
  // a fanout group.
  held_socket(fds, AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  const int ip_lo = held_socket(fds, AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
  sockaddr_ll ll{};
  ll.sll_family = AF_PACKET;
  ll.sll_protocol = htons(ETH_P_IP);
  ll.sll_ifindex = static_cast<int>(if_nametoindex("lo"));
  ASSERT_EQ(::bind(ip_lo, reinterpret_cast<sockaddr*>(&ll), sizeof ll), 0) << std::strerror(errno);
  held_socket(fds, AF_PACKET, SOCK_RAW, 0);
  const int filtered = held_socket(fds, AF_PACKET, SOCK_RAW, htons(ETH_P_IPV6));
  sock_filter accept_all[] = {{0x06, 0, 0, 0xffff}};  // BPF_RET | BPF_K
  sock_fprog prog{1, accept_all};
  ASSERT_EQ(::setsockopt(filtered, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog), 0)
      << std::strerror(errno);
  const int fanned = held_socket(fds, AF_PACKET, SOCK_DGRAM, htons(ETH_P_ARP));
  const int fanout = 7 | PACKET_FANOUT_LB << 16;
  ASSERT_EQ(::setsockopt(fanned, SOL_PACKET, PACKET_FANOUT, &fanout, sizeof fanout), 0)
      << std::strerror(errno);
  // Netlink: a route socket in a multicast group (netlink_diag reports it twice: ss prints it
  // twice, ssfast once), and a connected one.
  const int route = held_socket(fds, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
  sockaddr_nl nl{};
  nl.nl_family = AF_NETLINK;
  nl.nl_groups = 1;
  ASSERT_EQ(::bind(route, reinterpret_cast<sockaddr*>(&nl), sizeof nl), 0) << std::strerror(errno);
  const int connected = held_socket(fds, AF_NETLINK, SOCK_DGRAM, NETLINK_ROUTE);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  ASSERT_EQ(::connect(connected, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel), 0)
      << std::strerror(errno);

  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"-wan"},
                                             {"-wa"},
                                             {"-w"},
                                             {"-6wa"},
                                             {"-wae"},
                                             {"-0a"},
                                             {"-0an"},
                                             {"-0"},
                                             {"-0aeb"},
                                             {"-0aem"},
                                             {"-0b"},
                                             {"-0aeO"},
                                             {"-f", "link", "-a"},
                                             {"-an", "-A", "raw,packet"},
                                             {"-wa", "state", "established"},
                                             {"-0ap"}})
    same_bytes(args);
  // -A packet_raw and packet_dgram list that type: ss 6.1 lists every packet socket for either
  // (its packet_show_sock never looks at the type), so the oracle is ss -0's rows of that type.
  for (const char* type : {"p_raw", "p_dgr"}) {
    const std::string table = std::string(type) == "p_raw" ? "packet_raw" : "packet_dgram";
    auto of_type = [&](const std::string& text) {
      line_set out;
      for (const std::string& l : lines_of(text))
        if (l.starts_with(type)) out.insert(l.substr(l.find(' ') + 1));
      return out;
    };
    auto words = [](const std::string& text) { return words_without_dumper(text); };
    auto strip = [&](const line_set& lines) {
      std::string text;
      for (const std::string& l : lines) text += l + "\n";
      return words(text);
    };
    expect_equal_when_quiet(
        [&] {
          return words(ours({"-A", table, "-anH"}));
        },
        [&] { return strip(of_type(theirs({"-0anH"}))); }, table.c_str());
  }
  // Netlink rows, the dumper's own aside; the route socket ss prints twice is once here.
  // Listings of every table (no table named, as ss's "all") hold them too, netlink rows
  // ("nl ...") collapsed the same way.
  auto once = [](line_set s, bool all_netlink) {
    line_set out;
    for (const std::string& l : s)
      if (out.count(l) == 0 || !(all_netlink || l.starts_with("nl "))) out.insert(l);
    return out;
  };
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"-A", "netlink", "-a"},
                                             {"-A", "netlink", "-an"},
                                             {"-f", "netlink"},
                                             {"-A", "netlink", "-ae"},
                                             {"-A", "netlink", "-am"},
                                             {"-an", "-A", "raw,packet,netlink"},
                                             {"-a"},
                                             {"-an"},
                                             {"-l"},
                                             {},
                                             {"-4an"},
                                             {"-6a"}}) {
    const bool all_netlink = std::find(args.begin(), args.end(), "netlink") != args.end();
    const std::string what = "ssfast/ss" + joined(args);
    expect_equal_when_quiet([&] { return words_without_dumper(ours(args)); },
                            [&] { return once(words_without_dumper(theirs(args)), all_netlink); },
                            what.c_str());
  }
  // From /proc: ss reads there with PROC_ROOT set.
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"-0ae"}, {"-wa"}, {"-6wan"}, {"-A", "netlink", "-a"}, {"-an", "-A", "raw,packet"}}) {
    std::vector<std::string> mine = {"--source", "proc"}, oracle = {"env", "PROC_ROOT=/proc", "ss"};
    mine.insert(mine.end(), args.begin(), args.end());
    oracle.insert(oracle.end(), args.begin(), args.end());
    const std::string what = "ssfast --source proc / PROC_ROOT ss" + joined(args);
    expect_equal_when_quiet(
        [&] { return words_without_dumper(ours(mine)); },
        [&] { return once(words_without_dumper(testing::run_command(oracle)), false); },
        what.c_str());
  }
  // JSON: one record per socket, with what the text shows as numbers.
  const std::string json = ours({"-0anj"});
  EXPECT_NE(
      json.find(
          R"("proto":"packet","type":"p_dgr","family":"packet","state":"CLOSE","ethertype":2048,"ifindex":1)"),
      std::string::npos)
      << json;
  const std::string nl_json = ours({"-A", "netlink", "-anj"});
  EXPECT_NE(nl_json.find(R"("connected":true,"dst_portid":0,"dst_group":0)"), std::string::npos)
      << nl_json;
  // An expression over packet or netlink sockets is refused: ss judges them by other fields.
  const auto refused = testing::run_process({SSFAST_CLI_PATH, "-0a", "sport", "=", ":1"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("packet and netlink sockets"), std::string::npos) << refused.err;
}

// ss's tables ssfast does not list (-S, -d, --vsock, --tipc, --xdp, -A all's): where the
// kernel has no diag for one, it is empty, ss's output byte for byte, and stderr says why;
// where it has, the listing is refused (exit 2).
TEST_F(LiveSsParity, TablesSsfastDoesNotListAreAskedOfTheKernel) {
  for (const char* flag : {"-S", "-d", "--vsock", "--tipc", "--xdp", "-San"}) {
    const auto r = testing::run_process({SSFAST_CLI_PATH, flag});
    if (r.exit_code == 0) {
      EXPECT_NE(r.err.find("ssfast: note: this kernel has no "), std::string::npos)
          << flag << r.err;
      same_bytes({flag});
    } else {
      EXPECT_EQ(r.exit_code, 2) << flag << r.err;
      EXPECT_NE(r.err.find("ssfast does not list "), std::string::npos) << flag << r.err;
      EXPECT_EQ(r.out, "") << flag;
    }
  }
}

// ss -M: MPTCP connections from mptcp_diag (the protocol past a byte, sent as
// INET_DIAG_REQ_PROTOCOL), a listener, an accepted connection and one not yet accepted.
TEST_F(LiveSsParity, MptcpConnectionsAsSsM) {
  testing::fd_set_guard fds;
  const int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_MPTCP);
  if (l < 0 && (errno == EPROTONOSUPPORT || errno == ENOPROTOOPT || errno == EINVAL))
    GTEST_SKIP() << "this kernel has no MPTCP: " << std::strerror(errno);
  ASSERT_GE(l, 0) << std::strerror(errno);
  fds.hold(l);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  at.sin_port = htons(91);
  ASSERT_EQ(::bind(l, reinterpret_cast<sockaddr*>(&at), sizeof at), 0) << std::strerror(errno);
  ASSERT_EQ(::listen(l, 5), 0) << std::strerror(errno);
  for (int k = 0; k < 2; ++k) {
    const int c = held_socket(fds, AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
    ASSERT_EQ(::connect(c, reinterpret_cast<sockaddr*>(&at), sizeof at), 0) << std::strerror(errno);
  }
  const int a = ::accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
  ASSERT_GE(a, 0) << std::strerror(errno);
  fds.hold(a);
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"-Man"},
                                             {"-Ma"},
                                             {"-M"},
                                             {"-Mae"},
                                             {"-Mani"},
                                             {"-Manm"},
                                             {"-tMan"},
                                             {"-Man", "sport", "=", ":91"},
                                             {"-Ml"},
                                             {"-A", "mptcp", "-an"}})
    same_bytes(args);
  const std::string json = ours({"-Manj", "sport", "=", ":91"});
  EXPECT_NE(json.find(R"({"proto":"mptcp","family":"ipv4","state":"LISTEN")"), std::string::npos)
      << json;
}

}  // namespace
}  // namespace ssfast
