// SPDX-License-Identifier: Apache-2.0
// Live listings: the ssfast command against ss on the same sockets, with the same flags and
// filters (the kernel applies both programs), plus -p owners, top and counters.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <sstream>

#include "support/background.h"
#include "support/live_fixture.h"
#include "support/seams.h"

namespace ssfast {
namespace {

using line_set = std::multiset<std::vector<std::string>>;

// The data lines of a listing as word lists.
line_set words(const std::string& text, const std::set<std::string>* netids = nullptr) {
  line_set out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream f(line);
    std::vector<std::string> w;
    std::string word;
    while (f >> word) w.push_back(word);
    if (w.empty()) continue;
    if (netids != nullptr && netids->count(w[0]) == 0) continue;  // ss lists raw, nl, p_...
    out.insert(std::move(w));
  }
  return out;
}

line_set ours(std::vector<std::string> args, const std::set<std::string>* netids = nullptr) {
  args.insert(args.begin(), SSFAST_CLI_PATH);
  const auto r = testing::run_process(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return words(r.out, netids);
}

line_set theirs(std::vector<std::string> args, const std::set<std::string>* netids = nullptr) {
  args.insert(args.begin(), "ss");
  return words(testing::run_command(args), netids);
}

class LiveListing : public LiveNamespace {
 protected:
  void SetUp() override {
    LiveNamespace::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (!testing::have_program("ss")) GTEST_SKIP() << "iproute2's ss is not installed";
  }
  void same_as_ss(const std::vector<std::string>& args,
                  const std::set<std::string>* netids = nullptr) {
    std::string what = "ssfast/ss";
    for (const auto& a : args) what += " " + a;
    expect_equal_when_quiet([&] { return ours(args, netids); },
                            [&] { return theirs(args, netids); }, what.c_str());
    EXPECT_FALSE(ours(args, netids).empty()) << what << " selects nothing: a weak comparison";
  }
};

TEST_F(LiveListing, FlagsListWhatSsLists) {
  for (const char* flags :
       {"-tanH", "-uanH", "-xanH", "-tlnH", "-ulnH", "-xlnH", "-tnH", "-xnH", "-tan4H", "-tan6H"})
    same_as_ss({flags});
  const std::set<std::string> ours_netids = {"tcp", "udp", "u_str", "u_dgr", "u_seq"};
  same_as_ss({"-anH"}, &ours_netids);
  // No table flag at all: connected sockets only (no unconnected UDP or UNIX datagram).
  same_as_ss({"-nH"}, &ours_netids);
  same_as_ss({"-n4H"}, &ours_netids);
  same_as_ss({"-n6H"}, &ours_netids);
  same_as_ss({"-tuxanH"}, &ours_netids);
}

TEST_F(LiveListing, StateFiltersAsSs) {
  for (const char* state : {"established", "syn-sent", "syn-recv", "fin-wait-1", "fin-wait-2",
                            "time-wait", "close-wait", "last-ack", "listening", "closing",
                            "connected", "synchronized", "bucket", "big"})
    same_as_ss({"-tnH", "state", state});
  same_as_ss({"-tanH", "exclude", "established", "exclude", "listening"});
  same_as_ss({"-tnH", "state", "time-wait", "state", "syn-recv"});
}

TEST_F(LiveListing, ExpressionsRunInTheKernelAsSs) {
  for (const char* expr :
       {"dst 127.0.0.1", "src 127.0.0.0/8", "dst [::1]", "src ::1/128", "not dst 127.0.0.1",
        "( sport >= :1024 and dport >= :1024 )", "sport < :1024 or dport < :1024",
        "dst 127.0.0.1 or dst [::1]", "! ( src [::1] or src 127.0.0.1 )", "dport != :0"})
    same_as_ss({"-tanH", expr});
  // An IPv4 condition matches IPv4-mapped peers, in the kernel and in ssfast's evaluator.
  const auto mapped = ours({"-tanH", "dst", "127.0.0.1"});
  bool saw_mapped = false;
  for (const auto& w : mapped) saw_mapped |= w[4].rfind("[::ffff:127.0.0.1]", 0) == 0;
  EXPECT_TRUE(saw_mapped) << "the dual-stack listener's accepted IPv4 connection";
  // The same expressions over /proc (filtered in userspace) select the same sockets.
  for (const char* expr : {"dst 127.0.0.1", "( sport >= :1024 and dport >= :1024 )"}) {
    expect_equal_when_quiet(
        [&] {
          return ours({"-tanH", "--source", "proc", expr});
        },
        [&] {
          return ours({"-tanH", expr});
        },
        expr);
  }
}

// ssfilter.y's forms, including those of iproute2's own testsuite/tests/ss/ssfilter.t
// (`dport 22`, `src = 0.0.0.0`, `src 0.0.0.0 sport = 22`), run by both programs.
TEST_F(LiveListing, EveryGrammarFormAsSs) {
  for (const char* expr :
       {"dport 0", "dport = 0", "dport == :0", "dport eq 0", "dport neq 0", "sport geq 1024",
        "sport leq 65535", "sport gt 1", "src = 127.0.0.1", "src 127.0.0.1", "src == [::1]",
        "dst eq 127.0.0.1", "src 127.0.0.1 sport >= 1024", "src = 127.0.0.1 and dport = 0",
        "( src 127.0.0.1 and sport geq 1 ) and dport leq 0", "sport = *", "src *:*",
        "dst 127.0.0.1:*"})
    same_as_ss({"-tanH", expr});
  // Names resolved as ss resolves them (/etc/services, /etc/hosts), and family prefixes.
  for (const char* expr :
       {"sport geq :tcpmux", "dport != :https", "dst localhost", "src localhost:*",
        "src inet:127.0.0.1", "dst inet:*", "src inet6:[::1]", "dst inet6:*"})
    same_as_ss({"-tanH", expr});
  // No precedence between and/or: ss reads this as ((dst ::1 or src 127.0.0.1) and
  // src 127.0.0.1), which selects IPv4 only; "and binds tighter" would add every ::1 peer.
  same_as_ss({"-tanH", "dst [::1] or src 127.0.0.1 and src 127.0.0.1"});
  const auto v4_only = ours({"-tanH", "dst [::1] or src 127.0.0.1 and src 127.0.0.1"});
  for (const auto& w : v4_only) EXPECT_NE(w[3].rfind("[::1]:", 0), 0u) << w[3];
}

// Filters longer than a fixed request buffer: the bytecode travels in its own iovec, as in
// ss.c, up to the attribute's 16-bit limit; past it, one line and exit 2 before sending.
TEST_F(LiveListing, LongFiltersAsSs) {
  for (int terms : {8, 60, 300}) {
    std::string expr;
    for (int k = 0; k + 1 < terms; ++k)
      expr += (k % 3 == 0   ? "sport = :"
               : k % 3 == 1 ? "dport = :"
                            : "dst [2001:db8::1]:") +
              std::to_string(40000 + k) + " or ";
    expr += "src 127.0.0.1";
    same_as_ss({"-tanH", expr});
    same_as_ss({"-tnH", "state", "established", expr});
    // The failure above used to turn the single walk off: a later listing still works.
    same_as_ss({"-tanH", "src 127.0.0.1"});
  }
  std::string too_long = "dst [2001:db8::1]/128:80";
  for (int k = 1; k < 2048; ++k) too_long += " or dst [2001:db8::1]/128:80";
  const auto r = testing::run_process({SSFAST_CLI_PATH, "-tan", too_long});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "ssfast: filter: the filter compiles to more than 65528 bytes of kernel bytecode, "
            "the most one request can carry\n");
  // One condition fewer fits, and the kernel takes it.
  std::string fits = "dst [2001:db8::1]/128:80";
  for (int k = 1; k < 2047; ++k) fits += " or dst [2001:db8::1]/128:80";
  const auto ok = testing::run_process({SSFAST_CLI_PATH, "-tanH", fits});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

// /proc shows a listener's Send-Q as 0, not its backlog: from there accept-queue-full is
// unknown (never true), and the listing says which source answered.
TEST_F(LiveListing, ProcSourceDoesNotInventAFullAcceptQueue) {
  testing::fd_set_guard held;
  const int l = held.hold(testing::listen_loopback(25, 4096));
  for (int i = 0; i < 40; ++i) held.hold(testing::connect_tcp("127.0.0.1", 25));
  auto listener_line = [](const std::string& text) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line))
      if (line.find("127.0.0.1:25 ") != std::string::npos && line.find("LISTEN") == 0) return line;
    return std::string();
  };
  auto listener_json = [](const std::string& text) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
      const auto j = nlohmann::json::parse(line);
      if (j.at("state") == "LISTEN" && j.at("local_port") == 25) return j;
    }
    return nlohmann::json();
  };
  // Netlink: 40 waiting on a backlog of 4096 is not full.
  auto r = testing::run_process({SSFAST_CLI_PATH, "-tln"});
  EXPECT_EQ(listener_line(r.out).find("accept-queue-full"), std::string::npos) << r.out;
  r = testing::run_process({SSFAST_CLI_PATH, "-tlnj"});
  EXPECT_EQ(listener_json(r.out).at("accept_queue_full"), false);
  EXPECT_EQ(listener_json(r.out).at("recv_q"), 40);
  // /proc: unknown, in text and JSON, and said.
  r = testing::run_process({SSFAST_CLI_PATH, "-tln", "--source", "proc"});
  const std::string line = listener_line(r.out);
  ASSERT_FALSE(line.empty()) << r.out;
  EXPECT_EQ(line.find("accept-queue-full"), std::string::npos) << line;
  EXPECT_EQ(r.err, "ssfast: note: source: proc; a listener's Send-Q there is 0, not its backlog\n")
      << "said on stderr; stdout is the header and the rows";
  EXPECT_EQ(r.out.find("Sockets"), std::string::npos) << r.out;
  r = testing::run_process({SSFAST_CLI_PATH, "-tlnj", "--source", "proc"});
  EXPECT_TRUE(listener_json(r.out).at("accept_queue_full").is_null()) << r.out;
  (void)l;
}

TEST_F(LiveListing, AListingAfterAFallbackSaysItsSource) {
  SSFAST_REQUIRE_TEST_SEAMS();
  testing::child_setup refused;
  refused.env = {"SSFAST_INJECT_NETLINK_FAILURE=open:EACCES"};
  auto r = testing::run_process({SSFAST_CLI_PATH, "-tln"}, refused);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.rfind("ssfast: note: source: proc (netlink unavailable: opening the sock_diag "
                        "socket: Permission denied); a listener's Send-Q",
                        0),
            0u)
      << r.err;
  EXPECT_EQ(r.out.find("Sockets"), std::string::npos) << r.out;
  r = testing::run_process({SSFAST_CLI_PATH, "-tlnj"}, refused);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.rfind("ssfast: note: source: proc (netlink unavailable: ", 0), 0u) << r.err;
  std::istringstream lines(r.out);  // stdout stays JSON Lines only
  for (std::string line; std::getline(lines, line);)
    EXPECT_TRUE(nlohmann::json::accept(line)) << line;
}

TEST_F(LiveListing, ProcessOwnersAsSs) {
  // The scenario's sockets belong to this test process: ss -p and ssfast -p name it alike.
  same_as_ss({"-tanpH"});
  same_as_ss({"-xanpH"});
  const auto lines = ours({"-tlnpH"});
  const std::string me = "pid=" + std::to_string(getpid()) + ",";
  std::size_t owned = 0;
  for (const auto& w : lines)
    for (const auto& word : w) owned += word.find(me) != std::string::npos;
  EXPECT_EQ(owned, lines.size()) << "every listener is held by this process";
}

TEST_F(LiveListing, FullAcceptQueueIsFlagged) {
  const auto r = testing::run_process({SSFAST_CLI_PATH, "-tln"});
  ASSERT_EQ(r.exit_code, 0);
  // The backlog-0 listener (one per family) holds one connection it has not accepted: the
  // text shows it as ss does (Recv-Q 1 over Send-Q 0), with no marker of ours.
  std::size_t full = 0;
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    full += line.rfind("LISTEN 1      0 ", 0) == 0;
    EXPECT_EQ(line.find("accept-queue-full"), std::string::npos) << line;
  }
  EXPECT_EQ(full, 2u) << r.out;
  // Standard output is the header and one line per socket, as ss writes it: no blank line
  // and no trailer for `wc -l`, awk or an ss parser to trip on.
  std::istringstream all(r.out);
  std::size_t n = 0;
  for (std::string row; std::getline(all, row); ++n) {
    EXPECT_FALSE(row.empty()) << r.out;
    EXPECT_EQ(row.find("TcpExt"), std::string::npos) << r.out;
  }
  const auto ss = testing::run_process({"ss", "-tln"});
  EXPECT_EQ(n, static_cast<std::size_t>(std::count(ss.out.begin(), ss.out.end(), '\n')))
      << "as many lines as ss -tln:\n"
      << r.out << ss.out;
  const auto j = testing::run_process({SSFAST_CLI_PATH, "-tlnj"});
  std::size_t full_json = 0;
  std::istringstream jl(j.out);
  while (std::getline(jl, line))
    full_json += nlohmann::json::parse(line)["accept_queue_full"] == true;
  EXPECT_EQ(full_json, 2u);
}

TEST_F(LiveListing, JsonLinesCarryTheSameSockets) {
  const auto text = ours({"-tanH"});
  const auto r = testing::run_process({SSFAST_CLI_PATH, "-tanjp"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  std::size_t n = 0, owned = 0;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line);
    ++n;
    EXPECT_EQ(j["proto"], "tcp");
    for (const char* k : {"state", "local_addr", "local_port", "peer_addr", "peer_port", "recv_q",
                          "send_q", "inode", "uid", "process"})
      EXPECT_TRUE(j.contains(k)) << k;
    owned += !j["process"].empty();
  }
  EXPECT_EQ(n, text.size());
  EXPECT_GT(owned, 0u);
}

// ss's state names as netstat (and ssfast -s -j) names them.
std::string netstat_of(const std::string& ss_state) {
  static const std::map<std::string, std::string> names = {
      {"ESTAB", "ESTABLISHED"},    {"SYN-SENT", "SYN_SENT"},     {"SYN-RECV", "SYN_RECV"},
      {"FIN-WAIT-1", "FIN_WAIT1"}, {"FIN-WAIT-2", "FIN_WAIT2"},  {"TIME-WAIT", "TIME_WAIT"},
      {"UNCONN", "CLOSE"},         {"CLOSE-WAIT", "CLOSE_WAIT"}, {"LAST-ACK", "LAST_ACK"},
      {"LISTEN", "LISTEN"},        {"CLOSING", "CLOSING"}};
  const auto it = names.find(ss_state);
  return it == names.end() ? "?" + ss_state : it->second;
}

// -s FILTER: the summary of the sockets a filter selects, against ss listing the same
// sockets (every state, -a) grouped by state as `awk '{print $1}' | sort | uniq -c` would.
TEST_F(LiveListing, FilteredSummaryCountsWhatSsLists) {
  // ss takes `state` and `exclude` as words of their own, before the expression.
  const std::vector<std::vector<std::string>> filters = {
      {"sport = :1024"},
      {"dst 127.0.0.1"},
      {"( sport >= :1024 and dport >= :1024 )"},
      {"state", "established", "dst [::1]"},
      {"exclude", "established", "src 127.0.0.1"},
      {"state", "listening"},
      {"dport != :0"}};
  for (const auto& words : filters) {
    std::string expr;
    for (const auto& w : words) expr += (expr.empty() ? "" : " ") + w;
    auto mine = [&] {
      std::vector<std::string> args = {SSFAST_CLI_PATH, "-s", "-t", "-j"};
      args.insert(args.end(), words.begin(), words.end());
      const auto r = testing::run_process(args);
      EXPECT_EQ(r.exit_code, 0) << r.err;
      const auto j = nlohmann::json::parse(r.out);
      EXPECT_EQ(j["filter"], expr);
      std::map<std::string, std::uint64_t> m;
      for (const auto& [state, n] : j["tcp"]["states"].items())
        if (n.get<std::uint64_t>() > 0) m[state] = n.get<std::uint64_t>();
      return m;
    };
    auto ss = [&] {
      std::map<std::string, std::uint64_t> m;
      std::vector<std::string> args = {"-tanH"};
      args.insert(args.end(), words.begin(), words.end());
      // With one state selected ss leaves the State column out (so does ssfast): four words.
      const std::string only = words[0] != "state"         ? ""
                               : words[1] == "established" ? "ESTABLISHED"
                                                           : "LISTEN";
      for (const auto& w : theirs(args)) ++m[w.size() == 4 ? only : netstat_of(w[0])];
      return m;
    };
    // A filter with `state` is ss's own state set; without one ss -a shows every state.
    expect_equal_when_quiet(mine, ss, expr.c_str());
  }
  // Something was selected, and not everything: a filtered summary, not the host's.
  const auto one = testing::run_process({SSFAST_CLI_PATH, "-s", "-j", "dst 127.0.0.1"});
  const auto all = testing::run_process({SSFAST_CLI_PATH, "-s", "-j"});
  const auto jo = nlohmann::json::parse(one.out), ja = nlohmann::json::parse(all.out);
  EXPECT_GT(jo["tcp"]["total"], 0);
  EXPECT_LT(jo["tcp"]["total"], ja["tcp"]["total"]);
  EXPECT_FALSE(ja.contains("filter"));
  // UDP and UNIX under a filter: ports match no UNIX socket, as in ss.
  const auto u =
      nlohmann::json::parse(testing::run_process({SSFAST_CLI_PATH, "-s", "-j", "sport >= :1"}).out);
  EXPECT_EQ(u["udp"]["total"].get<std::size_t>(), theirs({"-uanH", "sport >= :1"}).size());
  EXPECT_EQ(u["unix"]["total"], 0);
  // The text says it is filtered, on the Sockets line a script skips.
  const auto t = testing::run_process({SSFAST_CLI_PATH, "-s", "dst 127.0.0.1"});
  EXPECT_NE(t.out.find("; only those matching: dst 127.0.0.1)\n"), std::string::npos) << t.out;
  // The same count from /proc, matched in userspace.
  const auto p = nlohmann::json::parse(
      testing::run_process({SSFAST_CLI_PATH, "-s", "-t", "-j", "--source", "proc", "dst 127.0.0.1"})
          .out);
  EXPECT_EQ(p["source"], "proc");
  EXPECT_EQ(p["tcp"]["states"],
            nlohmann::json::parse(
                testing::run_process({SSFAST_CLI_PATH, "-s", "-t", "-j", "dst 127.0.0.1"})
                    .out)["tcp"]["states"]);
}

TEST_F(LiveListing, FilteredCheckJudgesTheMatchingSockets) {
  // The scenario's IPv6 loopback connections: ss says how many are established.
  std::size_t want = 0;
  for (const auto& w : theirs({"-tnH", "state", "established", "dst [::1]"})) want += !w.empty();
  ASSERT_GT(want, 0u);
  const std::string n = std::to_string(want);
  const auto ok =
      testing::run_process({SSFAST_CLI_PATH, "check", "--warn", "established=" + n, "dst [::1]"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_NE(ok.out.find("(matching dst [::1])"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find(" established=" + n + ";"), std::string::npos) << ok.out;
  const auto warn = testing::run_process(
      {SSFAST_CLI_PATH, "check", "--warn", "established=" + std::to_string(want - 1), "dst [::1]"});
  EXPECT_EQ(warn.exit_code, 1) << warn.out;
  // Kernel counters are the namespace's: not a metric of a filtered check.
  const auto tw = testing::run_process({SSFAST_CLI_PATH, "check", "--warn", "tw=5", "dst [::1]"});
  EXPECT_EQ(tw.exit_code, 3) << tw.out;
  EXPECT_EQ(tw.out,
            "SSFAST UNKNOWN - tw is a kernel counter of the whole namespace, not a count of the "
            "sockets a filter selects\n");
  const auto bad = testing::run_process({SSFAST_CLI_PATH, "check", "dst", "nowhere.invalid."});
  EXPECT_EQ(bad.exit_code, 3) << bad.out;
  EXPECT_EQ(bad.out.rfind("SSFAST UNKNOWN - ", 0), 0u) << bad.out;
}

// A listing larger than every buffer on its way out: many 32 KiB datagrams, many 64 KiB
// writes and two text blocks of listing_writer::default_block_rows. The same sockets as ss,
// each once, and the columns of each block aligned.
TEST_F(LiveListing, StreamedListingLargerThanEveryBufferAsSs) {
  constexpr int extra = 6000;
  std::vector<int> held;
  for (int i = 0; i < extra; ++i) {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    held.push_back(fd);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << std::strerror(errno);
  }
  struct closer {
    std::vector<int>& fds;
    ~closer() {
      for (int fd : fds) ::close(fd);
    }
  } close_them{held};
  const auto text = testing::run_process({SSFAST_CLI_PATH, "-uan"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_GT(text.out.size(), 4u * 65536) << "bigger than several output buffers";
  same_as_ss({"-uanH"});
  // Within a block every line's peer column starts where the header's does, or further
  // right once a block widened it; never to the left.
  std::istringstream lines(text.out);
  std::string header, line;
  std::getline(lines, header);
  const std::size_t header_peer = header.find("Peer Address:Port");
  ASSERT_NE(header_peer, std::string::npos) << header;
  std::size_t rows = 0, last_peer = header_peer;
  while (std::getline(lines, line)) {
    if (line.empty()) break;
    ++rows;
    const std::size_t peer = line.find(" 0.0.0.0:*");
    if (peer == std::string::npos) continue;  // an IPv6 or connected row
    EXPECT_GE(peer + 1, last_peer) << "row " << rows << ": " << line;
    last_peer = peer + 1;
  }
  EXPECT_GE(rows, static_cast<std::size_t>(extra));
  const auto json = testing::run_process({SSFAST_CLI_PATH, "-uanj"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  std::istringstream jl(json.out);
  std::size_t objects = 0;
  while (std::getline(jl, line)) objects += nlohmann::json::parse(line)["proto"] == "udp";
  EXPECT_EQ(objects, rows);
}

// The peer address column of `ss -tan` (brackets and ::ffff: removed), counted as uniq -c would.
std::map<std::string, std::uint64_t> ss_peer_counts() {
  std::map<std::string, std::uint64_t> m;
  for (const auto& w : theirs({"-tanH"})) {
    std::string a = w[4].substr(0, w[4].rfind(':'));
    if (a.front() == '[') a = a.substr(1, a.size() - 2);
    if (a.rfind("::ffff:", 0) == 0) a = a.substr(7);
    if (a == "*") a = "::";  // ss's dual-stack wildcard
    ++m[a];
  }
  return m;
}

TEST_F(LiveListing, TopCountsWhatTheUniqPipelineCounts) {
  auto top = [&] {
    const auto r = testing::run_process({SSFAST_CLI_PATH, "top", "raddr", "-t", "--limit", "100"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::map<std::string, std::uint64_t> m;
    std::istringstream lines(r.out);
    std::uint64_t count = 0;
    std::string key;
    while (lines >> count >> key) m[key] = count;
    return m;
  };
  expect_equal_when_quiet(top, ss_peer_counts, "top raddr vs ss -tan | awk | uniq -c");
  const auto r = testing::run_process({SSFAST_CLI_PATH, "top", "state", "-t", "-j"});
  const auto j = nlohmann::json::parse(r.out);
  std::uint64_t total = 0;
  for (const auto& e : j["entries"]) total += e["count"].get<std::uint64_t>();
  EXPECT_EQ(total, got_.tcp_all().total());
  EXPECT_EQ(j["entries"][0]["key"], "ESTABLISHED");
  EXPECT_EQ(j["repeats_dropped"], 0) << "nothing changes here while the dump runs";
  const auto p = testing::run_process({SSFAST_CLI_PATH, "top", "process", "-t"});
  EXPECT_NE(p.out.find(std::to_string(getpid()) + "/"), std::string::npos) << p.out;
}

TEST_F(LiveListing, CountersAndWatch) {
  const auto c = testing::run_process({SSFAST_CLI_PATH, "counters", "Tcp.CurrEstab", "TCP.tw"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  const state_counts all = got_.tcp_all();
  EXPECT_NE(c.out.find("Tcp.CurrEstab " +
                       std::to_string(all[tcp_state::established] + all[tcp_state::close_wait])),
            std::string::npos)
      << c.out;
  const auto d =
      testing::run_process({SSFAST_CLI_PATH, "counters", "-j", "--delta", "0.2", "Tcp."});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  const auto delta = nlohmann::json::parse(d.out)["counters"];
  EXPECT_TRUE(delta["Tcp.ActiveOpens"].contains("per_s")) << "a counter has a rate";
  EXPECT_TRUE(delta["Tcp.CurrEstab"].contains("delta"));
  EXPECT_FALSE(delta["Tcp.CurrEstab"].contains("per_s")) << "a gauge has a change, no rate";
  // In text too: "TCP.tw VALUE +DELTA", no "/s".
  const auto t = testing::run_process(
      {SSFAST_CLI_PATH, "counters", "--delta", "0.1", "TCP.tw", "Tcp.ActiveOpens"});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  std::istringstream rows(t.out);
  for (std::string row; std::getline(rows, row);)
    EXPECT_EQ(row.find("/s") != std::string::npos, row.starts_with("Tcp.ActiveOpens")) << row;
  const auto w =
      testing::run_process({SSFAST_CLI_PATH, "-s", "--watch", "0.2", "--count", "2", "-j"});
  ASSERT_EQ(w.exit_code, 0) << w.err;
  std::istringstream lines(w.out);
  std::string line;
  std::size_t reports = 0;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["tcp"]["ESTABLISHED"]["count"], all.netstat_count(tcp_state::established));
    EXPECT_TRUE(j["rates_per_s"].contains("TcpExt.ListenOverflows"));
    ++reports;
  }
  EXPECT_EQ(reports, 2u);
}

}  // namespace
}  // namespace ssfast
