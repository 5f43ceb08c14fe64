// SPDX-License-Identifier: Apache-2.0
// Monitoring on real sockets: check's verdicts and exit codes, Prometheus output (stdout and
// textfile), the exporter over HTTP with its limits, and haproxy following the agent.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "ssfast/serve/server.h"
#include "support/background.h"
#include "support/live_fixture.h"
#include "support/prometheus.h"
#include "support/seams.h"

namespace ssfast {
namespace {

using namespace std::chrono_literals;
using testing::background_process;
using testing::tcp_client;

std::string lower(std::string_view s) {
  std::string l(s);
  for (char& c : l) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return l;
}

std::string series(const char* family, tcp_state st) {
  return std::string("ssfast_tcp_sockets{family=\"") + family + "\",state=\"" +
         lower(netstat_name(static_cast<std::uint8_t>(st))) + "\"}";
}

// The scenario's TCP counts in the exposition, every state and family, plus `extra` (sockets
// the test itself added, by family and state).
void expect_tcp_series(const std::map<std::string, std::string>& m,
                       const std::array<state_counts, 2>& tcp,
                       const std::map<std::pair<int, tcp_state>, int>& extra = {}) {
  const char* families[2] = {"ipv4", "ipv6"};
  for (int f = 0; f < 2; ++f)
    for (tcp_state st : netstat_states) {
      const auto it = extra.find({f, st});
      const std::uint64_t want = tcp[f].netstat_count(st) + (it == extra.end() ? 0 : it->second);
      ASSERT_TRUE(m.count(series(families[f], st))) << series(families[f], st);
      EXPECT_EQ(m.at(series(families[f], st)), std::to_string(want)) << series(families[f], st);
    }
}

// --- check --------------------------------------------------------------------------------

TEST_F(LiveNamespace, CheckExitCodesFollowTheThresholds) {
  const std::string est = std::to_string(got_.tcp_all().netstat_count(tcp_state::established));
  const std::string tw = std::to_string(got_.tcp_all().netstat_count(tcp_state::time_wait));
  // Inside every range: OK, with the exact counts as perfdata.
  auto r = testing::run_process(
      {SSFAST_CLI_PATH, "check", "--warn", "established=1000", "--crit", "syn_recv=100"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(r.out.starts_with("SSFAST OK - ")) << r.out;
  EXPECT_NE(r.out.find(" established=" + est + ";1000;;0 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" time_wait=" + tw + ";;;0 "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.back(), '\n');
  EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << "one line";
  // ESTABLISHED above 2: WARNING; SYN_RECV (1 per family) inside @1:: CRITICAL.
  r = testing::run_process({SSFAST_CLI_PATH, "check", "--warn", "established=2"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(r.out.starts_with("SSFAST WARNING - established " + est + " (warning range 2) | "))
      << r.out;
  r = testing::run_process(
      {SSFAST_CLI_PATH, "check", "--warn", "established=2", "--crit", "syn_recv=@1:"});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_TRUE(r.out.starts_with("SSFAST CRITICAL - syn_recv 2 (critical range @1:)")) << r.out;
  // Kernel counters as metrics: orphan is a sockstat field.
  r = testing::run_process({SSFAST_CLI_PATH, "check", "--crit", "orphan=~:0"});
  EXPECT_NE(r.out.find(" orphan="), std::string::npos) << r.out;
  // /proc answers the same.
  r = testing::run_process(
      {SSFAST_CLI_PATH, "check", "--source", "proc", "--warn", "established=2"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(r.out.starts_with("SSFAST WARNING - established " + est + " ")) << r.out;
}

// What was not counted is never reported as 0: check -x has no TCP metric, -s -x --watch no
// TCP states; and the -s histogram section always ends with a blank line.
TEST_F(LiveNamespace, UnmeasuredIsNotZero) {
  auto r = testing::run_process({SSFAST_CLI_PATH, "check", "-x", "--warn", "established=1"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out,
            "SSFAST UNKNOWN - established was not measured (its protocol is not counted with "
            "these flags, or its counter file could not be read)\n");
  r = testing::run_process({SSFAST_CLI_PATH, "check", "-x", "--warn", "unix=1000"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.find("established="), std::string::npos) << "no TCP perfdata: " << r.out;
  r = testing::run_process({SSFAST_CLI_PATH, "-s", "-x", "-j", "--watch", "0.05", "--count", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_FALSE(j.contains("tcp")) << r.out;
  EXPECT_FALSE(j.contains("udp")) << r.out;
  EXPECT_EQ(j.at("unix"), got_.unix_domain.total());
  r = testing::run_process({SSFAST_CLI_PATH, "-s", "-x", "--watch", "0.05", "--count", "1"});
  EXPECT_EQ(r.out.find("ESTABLISHED="), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" UNIX=" + std::to_string(got_.unix_domain.total()) + " "),
            std::string::npos)
      << r.out;
  // A namespace with no IPv6 socket: -s -6 begins with the section's blank line.
  if (!testing::have_program("unshare")) GTEST_SKIP() << "util-linux unshare is not installed";
  r = testing::run_process({"unshare", "-n", SSFAST_CLI_PATH, "-s", "-6"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("\nSockets (source: ", 0), 0u) << r.out;
  r = testing::run_process({SSFAST_CLI_PATH, "-s", "-x"});
  EXPECT_EQ(r.out.rfind("\nSockets (source: ", 0), 0u) << r.out;
  r = testing::run_process({SSFAST_CLI_PATH, "-s"});
  EXPECT_NE(r.out.find("\n\nSockets (source: "), std::string::npos) << r.out;
}

TEST_F(LiveNamespace, CheckIsUnknownWhenItCannotMeasure) {
  SSFAST_REQUIRE_TEST_SEAMS();
  // Netlink refused and /proc not allowed: UNKNOWN, exit 3, on stdout.
  testing::child_setup fault;
  fault.env = {"SSFAST_INJECT_NETLINK_FAILURE=dump:EACCES"};
  auto r = testing::run_process({SSFAST_CLI_PATH, "check", "--source", "netlink"}, fault);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "SSFAST UNKNOWN - TCP dump: Permission denied\n");
  // Bad arguments are UNKNOWN too, per the plugin guidelines (not exit 2, which is CRITICAL).
  r = testing::run_process({SSFAST_CLI_PATH, "check", "--warn", "established"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "SSFAST UNKNOWN - option '--warn': 'established' is not METRIC=RANGE\n");
  r = testing::run_process({SSFAST_CLI_PATH, "check", "--crit", "sockets=1"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_TRUE(r.out.starts_with("SSFAST UNKNOWN - no metric 'sockets'")) << r.out;
  r = testing::run_process({SSFAST_CLI_PATH, "check", "--netns", "/nonexistent/ns"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out,
            "SSFAST UNKNOWN - cannot enter network namespace /nonexistent/ns: No such file or "
            "directory\n");
}

// A namespace an unprivileged user may not enter: the error says what it takes.
TEST_F(LiveNamespace, EnteringANamespaceWithoutTheCapabilitySaysWhatItNeeds) {
  testing::child_setup nobody_user;
  nobody_user.as_uid = nobody;
  const auto r =
      testing::run_process({SSFAST_CLI_PATH, "-s", "--netns", "/proc/1/ns/net"}, nobody_user);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.err.starts_with("ssfast: cannot enter network namespace /proc/1/ns/net: "))
      << r.err;
  EXPECT_NE(r.err.find("(entering a network namespace needs CAP_SYS_ADMIN over it)\n"),
            std::string::npos)
      << r.err;
}

// A namespace path that is not a network namespace (a FIFO, which a blocking open would wait
// on forever; another kind of namespace; a plain file) is refused at once, by every command.
TEST_F(LiveNamespace, NotANamespaceIsRefusedAtOnce) {
  const std::string fifo = ::testing::TempDir() + "ssfast-netns-fifo-" + std::to_string(getpid());
  std::filesystem::remove(fifo);
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  for (const std::string& path :
       {fifo, std::string("/proc/self/ns/mnt"), std::string("/etc/hostname")}) {
    const auto start = std::chrono::steady_clock::now();
    auto r = testing::run_process({SSFAST_CLI_PATH, "-s", "--netns", path});
    // "At once": a blocking open of the FIFO would never return; 30 s is far from both.
    EXPECT_LT(std::chrono::steady_clock::now() - start, 30s) << path;
    EXPECT_EQ(r.exit_code, 1) << path;
    EXPECT_EQ(r.err, "ssfast: cannot enter network namespace " + path +
                         ": not a network namespace file (/run/netns/NAME or /proc/PID/ns/net)\n");
    r = testing::run_process({SSFAST_CLI_PATH, "check", "--netns", path});
    EXPECT_EQ(r.exit_code, 3) << path;
  }
  std::filesystem::remove(fifo);
}

TEST_F(LiveNamespace, CheckTimeoutIsHard) {
  SSFAST_REQUIRE_TEST_SEAMS();
  // A dump that never answers (the test seam blocks it forever).
  testing::child_setup hang;
  hang.env = {"SSFAST_INJECT_NETLINK_FAILURE=dump:hang"};
  const auto start = std::chrono::steady_clock::now();
  const auto r = testing::run_process({SSFAST_CLI_PATH, "check", "--timeout", "0.3"}, hang);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "SSFAST UNKNOWN - timed out after 0.3 s\n");
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 5s) << "the timeout must fire whatever blocks";
}

// --- Prometheus ---------------------------------------------------------------------------

TEST_F(LiveNamespace, PrometheusOutputHasTheExactCountsAndPassesPromtool) {
  const auto r = testing::run_process({SSFAST_CLI_PATH, "-s", "--format", "prometheus"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto m = testing::prometheus_samples(r.out);
  expect_tcp_series(m, got_.tcp);
  EXPECT_EQ(m.at(R"(ssfast_udp_sockets{family="ipv6",connected="true"})"),
            std::to_string(got_.udp[1][tcp_state::established]));
  EXPECT_EQ(m.at(R"(ssfast_unix_sockets{type="seqpacket"})"),
            std::to_string(got_.unix_domain.by_type[5]));
  EXPECT_TRUE(m.count("ssfast_tcp_ext_listen_overflows_total"));
  const auto [rc, said] = testing::promtool(r.out);
  EXPECT_EQ(rc, 0) << said;
  EXPECT_EQ(said, "");
  // The proc source gives the same series values for the sockets.
  const auto p =
      testing::run_process({SSFAST_CLI_PATH, "-s", "--format", "prometheus", "--source", "proc"});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  const auto mp = testing::prometheus_samples(p.out);
  expect_tcp_series(mp, got_.tcp);
  EXPECT_EQ(mp.at(R"(ssfast_source_info{source="proc"})"), "1");
}

TEST_F(LiveNamespace, TextfileIsReplacedAtomically) {
  const std::string dir = ::testing::TempDir() + "ssfast-textfile-" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/ssfast.prom";
  std::ofstream(path) << "old\n";
  // Three rewrites, 50 ms apart; a reader polling meanwhile never sees a partial file.
  std::atomic<bool> done{false};
  std::atomic<int> partial{0}, reads{0};
  std::thread reader([&] {
    while (!done) {
      std::ifstream in(path);
      const std::string text((std::istreambuf_iterator<char>(in)), {});
      if (text != "old\n" && !text.ends_with("\n")) ++partial;
      if (text != "old\n" && text.find("ssfast_source_info") == std::string::npos) ++partial;
      ++reads;
    }
  });
  const auto r = testing::run_process(
      {SSFAST_CLI_PATH, "-s", "--textfile", path, "--watch", "0.05", "--count", "3"});
  done = true;
  reader.join();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "") << "the file is the output";
  EXPECT_EQ(partial, 0) << "of " << reads << " reads";
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  expect_tcp_series(testing::prometheus_samples(text), got_.tcp);
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::others_read,
            std::filesystem::perms::others_read)
      << "node_exporter runs as another user";
  std::size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1u) << "no temporary left behind";
  // A directory that does not exist: exit 1, one line naming the file.
  const auto bad =
      testing::run_process({SSFAST_CLI_PATH, "-s", "--textfile", dir + "/missing/ssfast.prom"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(bad.err.starts_with("ssfast: " + dir + "/missing/ssfast.prom.tmp.")) << bad.err;
  EXPECT_TRUE(bad.err.ends_with(": No such file or directory\n")) << bad.err;
  std::filesystem::remove_all(dir);
}

// A writer killed while it wrote left PATH.tmp.<hex> behind, and they piled up across
// restarts: the next start removes its own (a regular file of ours with that exact shape),
// nothing else. The file itself is written unnamed (O_TMPFILE) until complete.
TEST_F(LiveNamespace, TextfileCleansUpWhatAKilledWriterLeft) {
  namespace fs = std::filesystem;
  char tmpl[] = "/tmp/ssfast-stale-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl, path = dir + "/ssfast.prom";
  for (const char* hex : {"0123456789abcdef", "00000000deadbeef"})
    std::ofstream(path + ".tmp." + hex) << "partial";
  fs::create_symlink("/etc/hostname", path + ".tmp.fedcba9876543210");  // not ours to remove
  std::ofstream(path + ".tmp.keep") << "not our shape";
  std::ofstream(dir + "/other.prom.tmp.0123456789abcdef") << "another writer's";
  const auto r = testing::run_process({SSFAST_CLI_PATH, "-s", "--textfile", path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> left;
  for (const auto& e : fs::directory_iterator(dir)) left.insert(e.path().filename().string());
  EXPECT_EQ(left,
            (std::set<std::string>{"ssfast.prom", "ssfast.prom.tmp.fedcba9876543210",
                                   "ssfast.prom.tmp.keep", "other.prom.tmp.0123456789abcdef"}));
  fs::remove_all(dir);
}

// A full disk is transient: --textfile --watch says so each time and keeps going, and the
// file is written again once there is room. A tmpfs of 64 KiB in a mount namespace of the
// writer's own (reached from here through /proc/PID/root).
TEST_F(LiveNamespace, TextfileWatchOutlivesAFullDisk) {
  if (!testing::have_program("unshare")) GTEST_SKIP() << "unshare is not installed";
  const std::string dir = "/tmp/ssfast-full-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  background_process writer(
      {"unshare", "-m", "--propagation", "private", "sh", "-c",
       "mount -t tmpfs -o size=64k tmpfs \"$1\" && "
       "head -c 65536 /dev/zero > \"$1/fill\" 2>/dev/null; "
       "echo filled >&2; exec \"$0\" -s --textfile \"$1/ssfast.prom\" --watch 0.1",
       SSFAST_CLI_PATH, dir});
  writer.wait_for_line("filled");
  writer.wait_for_line("No space left on device");
  const std::string inside = "/proc/" + std::to_string(writer.pid()) + "/root" + dir;
  ASSERT_EQ(::unlink((inside + "/fill").c_str()), 0) << std::strerror(errno);
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!std::filesystem::exists(inside + "/ssfast.prom") &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(std::filesystem::exists(inside + "/ssfast.prom")) << writer.stderr_text();
  EXPECT_EQ(::kill(writer.pid(), 0), 0) << "still running";
  writer.stop();
  std::filesystem::remove_all(dir);
}

// The textfile directory may be writable by another account (node_exporter's, a deploy
// user); ssfast writes there as root. Nothing planted there may make it write elsewhere.
TEST_F(LiveNamespace, TextfileFollowsNoPlantedLink) {
  namespace fs = std::filesystem;
  char tmpl[] = "/tmp/ssfast-planted-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string top = tmpl, dir = top + "/textfile", victim = top + "/victim";
  fs::create_directory(dir);
  ASSERT_EQ(::chown(dir.c_str(), nobody, nobody), 0) << "a directory another user owns";
  std::ofstream(victim) << "precious\n";
  auto victim_text = [&] {
    std::ifstream in(victim);
    return std::string((std::istreambuf_iterator<char>(in)), {});
  };
  const std::string path = dir + "/ssfast.prom";

  // A link at the target itself: refused, one line, the victim untouched.
  fs::create_symlink(victim, path);
  auto r = testing::run_process({SSFAST_CLI_PATH, "-s", "--textfile", path});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "ssfast: " + path +
                       ": exists and is not a regular file (a link, a directory or a device); "
                       "not replaced\n");
  EXPECT_TRUE(fs::is_symlink(path));
  EXPECT_EQ(victim_text(), "precious\n");
  fs::remove(path);

  // A link at the temporary name a predictable writer would use (PATH.tmp.<pid>), planted
  // by the child just before it becomes ssfast: never followed.
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string planted = path + ".tmp." + std::to_string(::getpid());
    if (::symlink(victim.c_str(), planted.c_str()) != 0) ::_exit(120);
    ::dup2(out[1], 2);
    ::execl(SSFAST_CLI_PATH, SSFAST_CLI_PATH, "-s", "--textfile", path.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  std::string err;
  char buf[512];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;)
    err.append(buf, static_cast<std::size_t>(n));
  ::close(out[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << err;
  EXPECT_EQ(victim_text(), "precious\n") << "ssfast followed a planted link";
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(path)));
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  expect_tcp_series(testing::prometheus_samples(text), got_.tcp);
  const std::string planted = path + ".tmp." + std::to_string(pid);
  EXPECT_TRUE(fs::is_symlink(planted)) << "the planted link is left as it was";

  // A directory (or any non-regular file) at the target: refused too.
  fs::remove(path);
  fs::create_directory(path);
  r = testing::run_process({SSFAST_CLI_PATH, "-s", "--textfile", path});
  EXPECT_EQ(r.exit_code, 1);
  fs::remove_all(top);
}

// `--listen :PORT` means every address, as node_exporter's :9100: IPv4 and IPv6 both answer.
TEST_F(LiveNamespace, ExporterColonPortListensOnEveryAddress) {
  background_process exporter({SSFAST_CLI_PATH, "exporter", "--listen", ":0"});
  const std::string line = exporter.wait_for_line("listening on ");
  EXPECT_NE(line.find("listening on [::]:"), std::string::npos) << line;
  const auto port = static_cast<std::uint16_t>(std::stoul(line.substr(line.rfind(':') + 1)));
  for (const char* addr : {"127.0.0.1", "::1"}) {
    const bool v6 = std::string_view(addr).find(':') != std::string_view::npos;
    const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    sockaddr_storage ss{};
    socklen_t len;
    if (v6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
      a->sin6_family = AF_INET6;
      a->sin6_port = htons(port);
      inet_pton(AF_INET6, addr, &a->sin6_addr);
      len = sizeof *a;
    } else {
      auto* a = reinterpret_cast<sockaddr_in*>(&ss);
      a->sin_family = AF_INET;
      a->sin_port = htons(port);
      inet_pton(AF_INET, addr, &a->sin_addr);
      len = sizeof *a;
    }
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&ss), len), 0)
        << addr << ": " << std::strerror(errno);
    ::close(fd);
  }
}

// --- exporter -----------------------------------------------------------------------------

std::string get(std::uint16_t port, std::string_view target, bool close = true) {
  tcp_client c(port);
  EXPECT_TRUE(c.send("GET " + std::string(target) + " HTTP/1.1\r\nHost: x\r\n" +
                     (close ? "Connection: close\r\n" : "") + "\r\n"));
  std::string response;
  EXPECT_TRUE(c.read_http_response(response));
  return response;
}

TEST_F(LiveNamespace, ExporterServesTheExactCounts) {
  background_process exporter({SSFAST_CLI_PATH, "exporter", "--listen", "127.0.0.1:0"});
  const std::uint16_t port = exporter.wait_for_listening_port();
  const std::string response = get(port, "/metrics");
  ASSERT_EQ(testing::http_status(response), 200) << response;
  EXPECT_EQ(testing::http_header(response, "Content-Type"),
            "text/plain; version=0.0.4; charset=utf-8");
  const std::string body(testing::http_body(response));
  EXPECT_EQ(testing::http_header(response, "Content-Length"), std::to_string(body.size()));
  // The exporter's listener, and this request's connection (both ends), are sockets too.
  expect_tcp_series(testing::prometheus_samples(body), got_.tcp,
                    {{{0, tcp_state::listen}, 1}, {{0, tcp_state::established}, 2}});
  const auto [rc, said] = testing::promtool(body);
  EXPECT_EQ(rc, 0) << said;
  EXPECT_EQ(said, "");
}

TEST_F(LiveNamespace, ExporterKeepsAliveAndRoutes) {
  background_process exporter({SSFAST_CLI_PATH, "exporter", "--listen", "127.0.0.1:0"});
  const std::uint16_t port = exporter.wait_for_listening_port();
  tcp_client c(port);
  // Two scrapes on one connection, pipelined: answered in order, from one collection made
  // after both arrived.
  ASSERT_TRUE(c.send("GET /metrics HTTP/1.1\r\n\r\nGET /metrics HTTP/1.1\r\n\r\n"));
  std::string a, b;
  ASSERT_TRUE(c.read_http_response(a));
  ASSERT_TRUE(c.read_http_response(b));
  EXPECT_EQ(testing::http_status(a), 200);
  EXPECT_EQ(testing::http_status(b), 200);
  EXPECT_EQ(testing::http_header(b, "Connection"), "keep-alive");
  EXPECT_EQ(testing::http_body(a), testing::http_body(b));
  // The next scrape, in a later wake-up, collects again.
  ASSERT_TRUE(c.send("GET /metrics HTTP/1.1\r\n\r\n"));
  std::string next;
  ASSERT_TRUE(c.read_http_response(next));
  const auto ma = testing::prometheus_samples(std::string(testing::http_body(a)));
  const auto mn = testing::prometheus_samples(std::string(testing::http_body(next)));
  EXPECT_EQ(std::stoi(mn.at("ssfast_exporter_collections_total")),
            std::stoi(ma.at("ssfast_exporter_collections_total")) + 1);
  EXPECT_EQ(std::stoi(mn.at("ssfast_exporter_scrapes_total")),
            std::stoi(ma.at("ssfast_exporter_scrapes_total")) + 2);
  // HEAD: the head only.
  ASSERT_TRUE(c.send("HEAD /metrics HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n"));
  std::string head, root;
  ASSERT_TRUE(c.read_http_response(head, /*head_request=*/true));
  EXPECT_EQ(testing::http_status(head), 200);
  EXPECT_NE(testing::http_header(head, "Content-Length"), "0");
  EXPECT_TRUE(head.ends_with("\r\n\r\n")) << head;
  EXPECT_EQ(testing::http_status(get(port, "/")), 200);
  EXPECT_EQ(testing::http_status(get(port, "/nope")), 404);
  tcp_client post(port);
  ASSERT_TRUE(post.send("DELETE /metrics HTTP/1.1\r\n\r\n"));
  std::string p;
  ASSERT_TRUE(post.read_http_response(p));
  EXPECT_EQ(testing::http_status(p), 405);
  EXPECT_EQ(testing::http_header(p, "Allow"), "GET, HEAD");
  tcp_client junk(port);
  ASSERT_TRUE(junk.send("GET /metrics HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd"));
  std::string j;
  ASSERT_TRUE(junk.read_to_close(j));
  EXPECT_EQ(testing::http_status(j), 400) << j;
}

// The exporter's descriptors once they settle at `want` (bounded wait; only a leak waits it out).
std::size_t settled_fds(const background_process& exporter, std::size_t want) {
  const auto end = std::chrono::steady_clock::now() + 20s;
  std::size_t now = exporter.open_fds();
  while (now != want && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(10ms);
    now = exporter.open_fds();
  }
  return now;
}

TEST_F(LiveNamespace, ExporterLimitsSlowBigAndManyClients) {
  background_process exporter({SSFAST_CLI_PATH, "exporter", "--listen", "127.0.0.1:0", "--timeout",
                               "0.5", "--max-connections", "2"});
  const std::uint16_t port = exporter.wait_for_listening_port();
  // The exporter's descriptors with no client: after each client it comes back to them.
  const std::size_t idle = exporter.open_fds();
  // A client that never finishes its request is cut off after the timeout: the server closes
  // it (not this client's own 20 s deadline), and not before the 0.5 s.
  {
    tcp_client slow(port, 20s);
    ASSERT_TRUE(slow.send("GET /met"));
    const auto start = std::chrono::steady_clock::now();
    std::string got;
    ASSERT_TRUE(slow.read_to_close(got)) << "still open after 20 s";
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(got, "");
    EXPECT_GE(took, 400ms);
  }
  // A request head over 8 KiB: 431 and closed, even complete (it used to pass up to 12 KiB
  // when it arrived in one go); one just under 8 KiB is served.
  for (std::size_t filler : {9000u, 11000u}) {
    tcp_client big(port);
    ASSERT_TRUE(big.send("GET /metrics HTTP/1.1\r\nX-Filler: " + std::string(filler, 'a') +
                         "\r\nConnection: close\r\n\r\n"));
    std::string got;
    ASSERT_TRUE(big.read_to_close(got));
    EXPECT_EQ(testing::http_status(got), 431) << filler << ": " << got.substr(0, 100);
  }
  {
    const std::string head_start = "GET /metrics HTTP/1.1\r\nX-Filler: ";
    const std::string head_end = "\r\nConnection: close\r\n\r\n";
    tcp_client fits(port);
    ASSERT_TRUE(fits.send(head_start +
                          std::string(8192 - head_start.size() - head_end.size(), 'a') + head_end));
    std::string got;
    ASSERT_TRUE(fits.read_to_close(got));
    EXPECT_EQ(testing::http_status(got), 200) << got.substr(0, 100);
  }
  // Two idle connections fill both slots: a third takes the place of the one that has waited
  // longest for a request (closed, unanswered), and is served.
  ASSERT_EQ(settled_fds(exporter, idle), idle) << "the earlier clients' connections are closed";
  {
    tcp_client one(port);
    ASSERT_EQ(settled_fds(exporter, idle + 1), idle + 1) << "the first accepted";
    tcp_client two(port);
    ASSERT_EQ(settled_fds(exporter, idle + 2), idle + 2) << "both accepted";
    tcp_client three(port);
    std::string got;
    ASSERT_TRUE(one.read_to_close(got)) << "the longest-waiting connection is closed";
    EXPECT_EQ(got, "");
    ASSERT_TRUE(three.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
    ASSERT_TRUE(three.read_http_response(got));
    EXPECT_EQ(testing::http_status(got), 200) << got.substr(0, 100);
    ASSERT_TRUE(two.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
    ASSERT_TRUE(two.read_http_response(got)) << "the other one kept its slot";
    EXPECT_EQ(testing::http_status(got), 200);
  }
  // Once they are gone, scrapes work again.
  ASSERT_EQ(settled_fds(exporter, idle), idle) << "the connections are closed";
  EXPECT_EQ(testing::http_status(get(port, "/metrics")), 200);
}

// How many of the exporter's connections on `port` hold answer bytes the client has not taken
// (Send-Q above 0): the exporter is blocked sending to them.
int blocked_connections(std::uint16_t port) {
  const std::string filter = "sport = :" + std::to_string(port);
  std::istringstream in(
      testing::run_command({SSFAST_CLI_PATH, "-tnH", "state", "established", filter}));
  int blocked = 0;
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::uint64_t recv_q = 0, send_q = 0;
    words >> recv_q >> send_q;
    blocked += send_q > 0;
  }
  return blocked;
}

// Every slot busy answering clients that do not take their answers (pipelined requests behind
// a 2 KiB window: the exporter is blocked sending to them): none can be given up for a new
// client, which is told 503 at once.
TEST_F(LiveNamespace, ExporterRefusesWhenEverySlotIsAnswering) {
  background_process exporter(
      {SSFAST_CLI_PATH, "exporter", "--listen", "127.0.0.1:0", "--max-connections", "2"});
  const std::uint16_t port = exporter.wait_for_listening_port();
  const std::size_t idle = exporter.open_fds();
  {
    std::vector<std::unique_ptr<tcp_client>> stuck;
    std::string pipelined;
    for (int i = 0; i < 200; ++i) pipelined += "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    for (int i = 0; i < 2; ++i) {
      stuck.push_back(std::make_unique<tcp_client>(port, 5s, nullptr, 2048));
      ASSERT_TRUE(stuck.back()->send(pipelined));
    }
    const auto end = std::chrono::steady_clock::now() + 20s;
    while (blocked_connections(port) < 2 && std::chrono::steady_clock::now() < end)
      std::this_thread::sleep_for(20ms);
    ASSERT_EQ(blocked_connections(port), 2) << "the exporter never blocked on the slow clients";
    tcp_client three(port);
    std::string got;
    ASSERT_TRUE(three.read_to_close(got));
    EXPECT_EQ(testing::http_status(got), 503) << got;
    EXPECT_EQ(testing::http_header(got, "Retry-After"), "1");
  }
  ASSERT_EQ(settled_fds(exporter, idle), idle) << "the slow clients' connections are closed";
  EXPECT_EQ(testing::http_status(get(port, "/metrics")), 200);
}

// A handler whose every answer takes long to make, as a collection over hundreds of
// namespaces does; the answers after the first are too big for a client that never reads.
struct slow_handler final : serve::connection_handler {
  std::mutex m;
  std::condition_variable cv;
  int entered = 0;  // on_input calls begun

  void on_open(serve::answer&) override {}
  std::size_t on_input(std::string_view in, serve::answer& out) override {
    const auto nl = in.find('\n');
    if (nl == std::string_view::npos) return 0;
    int n = 0;
    {
      const std::lock_guard<std::mutex> lock(m);
      n = ++entered;
    }
    cv.notify_all();
    std::this_thread::sleep_for(1500ms);  // the slow collection itself, not a wait
    out.head = "answer\n";
    if (n > 1) out.body = std::make_shared<const std::string>(std::size_t{32} << 20, 'x');
    return nl + 1;
  }
  std::string too_large() override { return "too large\n"; }
  std::string busy() override { return "busy\n"; }

  void wait_entered(int n) {
    std::unique_lock<std::mutex> lock(m);
    ASSERT_TRUE(cv.wait_for(lock, 30s, [&] { return entered >= n; }));
  }
};

// A client that comes while the server is busy making a long answer is accepted after it, in
// the same round: when every slot is sending, it is told busy. Its one-second grace was counted
// from before the long answer, so it used to be closed unanswered, reset, before the "busy"
// was ever sent (seen once in three runs of bench/exporter_netns_load.sh).
TEST_F(LiveNamespace, AClientThatComesDuringALongAnswerIsStillToldBusy) {
  slow_handler h;
  int stop[2];
  ASSERT_EQ(::pipe2(stop, O_CLOEXEC), 0);
  std::mutex m;
  std::condition_variable cv;
  std::string said;
  serve::server_options so;
  so.listen = "127.0.0.1:0";
  so.max_connections = 1;
  so.stop_fd = stop[0];
  so.stop_reason = "stopped";
  so.log = [&](std::string_view line) {
    const std::lock_guard<std::mutex> lock(m);
    said.append(line).push_back('\n');
    cv.notify_all();
  };
  int served = -1;
  std::thread server([&] { served = serve::serve(so, h); });
  std::uint16_t port = 0;
  {
    std::unique_lock<std::mutex> lock(m);
    cv.wait_for(lock, 30s, [&] { return said.find("listening on ") != std::string::npos; });
    const auto at = said.find("listening on ");
    if (at != std::string::npos)
      port = static_cast<std::uint16_t>(
          std::stoul(said.substr(said.rfind(':', said.find('\n', at)) + 1)));
  }
  if (port != 0) {
    tcp_client slow(port, 30s, nullptr, 2048);  // never reads
    ASSERT_TRUE(slow.send("first\n"));
    h.wait_entered(1);
    // While the first answer is made: the next request, and a second client. The server
    // sees both at its next poll, serves the request (another long answer, which fills the
    // only slot), then accepts the second client in the same round.
    ASSERT_TRUE(slow.send("second\n"));
    tcp_client late(port, 30s);
    ASSERT_TRUE(late.send("late\n"));
    std::string got;
    EXPECT_TRUE(late.read_to_close(got));
    EXPECT_EQ(got, "busy\n") << "closed unanswered";
    const std::lock_guard<std::mutex> lock(h.m);
    EXPECT_EQ(h.entered, 2) << "the slot was the first client's";
  }
  ASSERT_EQ(::write(stop[1], "x", 1), 1);
  server.join();
  ::close(stop[0]);
  ::close(stop[1]);
  ASSERT_NE(port, 0) << said;
  EXPECT_EQ(served, 1) << "stopped through stop_fd";
}

// A process's resident memory in KiB (/proc/PID/status VmRSS), 0 if unreadable.
std::size_t rss_kib(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6));
  return 0;
}

// An exporter whose allocator returns what it frees at once (AddressSanitizer's quarantine
// would otherwise hold every freed byte and hide whether memory is held or churned).
std::vector<std::string> exporter_argv(std::vector<std::string> extra = {}) {
  std::vector<std::string> argv{"env",           "ASAN_OPTIONS=quarantine_size_mb=0",
                                SSFAST_CLI_PATH, "exporter",
                                "--listen",      "127.0.0.1:0"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

// 32 clients (16 from each of two addresses) each send 1,000 pipelined scrapes at once and
// never read. One answer at a time per connection, and one body shared by the answers of a
// collection: the exporter holds about one answer per client, not one per request (it used to
// queue every request of each 4 KiB read, 150 copies of the body per client). A well-behaved
// scraper is answered throughout.
TEST_F(LiveNamespace, ExporterHoldsOneAnswerPerPipeliningClient) {
  background_process exporter(exporter_argv());
  const std::uint16_t port = exporter.wait_for_listening_port();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(testing::http_status(get(port, "/metrics")), 200);
  const std::size_t before = rss_kib(exporter.pid());
  std::string pipelined;
  for (int i = 0; i < 1000; ++i) pipelined += "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  std::vector<std::unique_ptr<tcp_client>> floods;
  for (int i = 0; i < 32; ++i) {
    floods.push_back(
        std::make_unique<tcp_client>(port, 5s, i % 2 ? "127.0.0.3" : "127.0.0.4", 2048));
    // What the kernel takes now; the rest is not needed (the exporter stops reading).
    const int fd = floods.back()->fd();
    timeval tv{0, 100000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    (void)::send(fd, pipelined.data(), pipelined.size(), MSG_NOSIGNAL);
  }
  const auto end = std::chrono::steady_clock::now() + 20s;
  while (blocked_connections(port) < 32 && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(20ms);
  ASSERT_EQ(blocked_connections(port), 32) << "every flooding client has answers it did not take";
  tcp_client good(port, 5s, "127.0.0.2");
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(good.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
    std::string got;
    ASSERT_TRUE(good.read_http_response(got));
    EXPECT_EQ(testing::http_status(got), 200);
  }
  const std::size_t after = rss_kib(exporter.pid());
  ASSERT_GT(before, 0u);
  // Before: 32 x ~150 queued answers of several KiB each, tens of MiB. Now: a head each.
  EXPECT_LT(after, before + 8 * 1024) << "RSS " << before << " KiB before, " << after << " after";
}

// Scrapes from 127.0.0.2, a peer of its own, `n` times `pause` apart, each with 5 s to be
// answered: how many were answered 200.
int good_scrapes(std::uint16_t port, int n, std::chrono::milliseconds pause = 0ms) {
  int ok = 0;
  for (int i = 0; i < n; ++i) {
    try {
      tcp_client good(port, 5s, "127.0.0.2");
      std::string got;
      if (good.send("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") &&
          good.read_http_response(got) && testing::http_status(got) == 200)
        ++ok;
      else
        ADD_FAILURE() << "scrape " << i << " got: " << got.substr(0, 300);
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what();
    }
    std::this_thread::sleep_for(pause);
  }
  return ok;
}

// A slowloris: 66 connections from 6 addresses, each sending one byte of a request every 250 ms
// and never finishing it. Each is cut off 2 s after its first byte (the head deadline), well
// before the 10 s idle timeout, and a well-behaved scraper gets every one of 12 scrapes
// answered meanwhile (the slow ones used to hold all 64 slots: 503 every time).
TEST_F(LiveNamespace, ExporterServesThroughASlowloris) {
  background_process exporter({SSFAST_CLI_PATH, "exporter", "--listen", "127.0.0.1:0"});
  const std::uint16_t port = exporter.wait_for_listening_port();
  struct slow {
    int fd;
    std::chrono::steady_clock::time_point opened;
    std::optional<std::chrono::steady_clock::duration> closed_after;
  };
  std::vector<slow> slows;
  for (int i = 0; i < 66; ++i) {
    const std::string from = "127.0.0." + std::to_string(10 + i % 6);
    slows.push_back({fds_.hold(testing::connect_tcp("127.0.0.1", port, from.c_str())),
                     std::chrono::steady_clock::now(), std::nullopt});
  }
  std::atomic<bool> done{false};
  std::thread trickle([&] {
    const std::string request = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
    for (std::size_t k = 0; !done && k < 200; ++k) {  // bounded: 50 s
      for (slow& s : slows) {
        if (s.closed_after) continue;
        char b = request[k % request.size()];
        pollfd p{s.fd, POLLIN, 0};
        const bool eof = ::poll(&p, 1, 0) == 1 && ::recv(s.fd, &b, 1, MSG_DONTWAIT) <= 0;
        if (eof || ::send(s.fd, &b, 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
          s.closed_after = std::chrono::steady_clock::now() - s.opened;
      }
      if (std::all_of(slows.begin(), slows.end(), [](const slow& s) { return s.closed_after; }))
        break;
      std::this_thread::sleep_for(250ms);
    }
  });
  const int ok = good_scrapes(port, 12, 250ms);
  trickle.join();
  done = true;
  EXPECT_EQ(ok, 12) << "scrapes answered 200 during the slowloris";
  for (const slow& s : slows) {
    ASSERT_TRUE(s.closed_after) << "a slow connection was never closed";
    EXPECT_LT(*s.closed_after, 8s) << "cut off by the head deadline, not the 10 s idle timeout";
  }
}

// 3,000 idle connections from one address: past 16 (--max-per-peer) each is closed at once,
// so the flood never holds the slots or the listen backlog, and a scraper from another address
// is answered every time.
TEST_F(LiveNamespace, ExporterServesThroughAnIdleFlood) {
  background_process exporter({SSFAST_CLI_PATH, "exporter", "--listen", "127.0.0.1:0"});
  const std::uint16_t port = exporter.wait_for_listening_port();
  std::atomic<bool> done{false};
  std::atomic<int> opened{0};
  std::thread flood([&] {
    for (int i = 0; i < 3000 && !done; ++i) {
      try {
        fds_.hold(testing::connect_tcp("127.0.0.1", port, "127.0.0.5", /*wait=*/false));
        ++opened;
      } catch (const std::exception&) {
        std::this_thread::sleep_for(1ms);  // the backlog is full for a moment
      }
    }
  });
  const int ok = good_scrapes(port, 12);
  done = true;
  flood.join();
  EXPECT_EQ(ok, 12) << "scrapes answered 200 beside " << opened << " flood connections";
  EXPECT_GT(opened, 100) << "the flood ran beside the scrapes";
  // The flood's peer holds at most its 16 slots.
  const std::string filter = "sport = :" + std::to_string(port) + " and dst 127.0.0.5";
  std::size_t held = 0;
  std::istringstream rows(
      testing::run_command({SSFAST_CLI_PATH, "-tnH", "state", "established", filter}));
  for (std::string line; std::getline(rows, line);) ++held;
  EXPECT_LE(held, 16u);
}

// --max-connections 1000 under a hard NOFILE of 256: the exporter says it serves fewer
// (what fits), and 300 idle connections from 20 addresses do not keep a scraper out: it takes
// the place of the longest-waiting one (the exporter used to run out of descriptors, fail
// accept4 with EMFILE a thousand times a second, and leave new clients waiting for 10 s).
TEST_F(LiveNamespace, ExporterFitsItsDescriptorLimit) {
  ASSERT_TRUE(testing::have_program("prlimit")) << "prlimit (util-linux) is missing";
  background_process exporter({"prlimit", "--nofile=256:256", SSFAST_CLI_PATH, "exporter",
                               "--listen", "127.0.0.1:0", "--max-connections", "1000"});
  const std::string said = exporter.wait_for_line("--max-connections");
  EXPECT_NE(said.find("--max-connections 1000 needs 2064 open files, and RLIMIT_NOFILE allows "
                      "256: serving at most 96"),
            std::string::npos)
      << said;
  const std::uint16_t port = exporter.wait_for_listening_port();
  for (int i = 0; i < 300; ++i) {
    const std::string from = "127.0.1." + std::to_string(1 + i % 20);
    fds_.hold(testing::connect_tcp("127.0.0.1", port, from.c_str(), /*wait=*/false));
  }
  EXPECT_EQ(good_scrapes(port, 5), 5) << "scrapes answered within their 5 s";
  EXPECT_LE(exporter.open_fds(), 256u);
}

TEST_F(LiveNamespace, ExporterLeaksNoDescriptors) {
  background_process exporter({SSFAST_CLI_PATH, "exporter", "--listen", "127.0.0.1:0"});
  const std::uint16_t port = exporter.wait_for_listening_port();
  // The baseline: after one scrape, once the server has seen that connection close (it
  // half-closes and waits for the client's close, so the count settles a moment later).
  const std::size_t idle = exporter.open_fds();
  EXPECT_EQ(testing::http_status(get(port, "/metrics")), 200);
  const std::size_t before = settled_fds(exporter, idle);
  for (int i = 0; i < 200; ++i) {
    if (i % 4 == 3) {
      tcp_client abandoned(port);  // connects and leaves
      continue;
    }
    ASSERT_EQ(testing::http_status(get(port, i % 2 ? "/metrics" : "/x", i % 3 != 0)),
              i % 2 ? 200 : 404);
  }
  // Keep-alive connections the client closed are reaped when the server sees the close.
  EXPECT_EQ(settled_fds(exporter, before), before);
}

// --- agent and haproxy ----------------------------------------------------------------------

TEST_F(LiveNamespace, ServersThatCannotListenSaySo) {
  fds_.hold(testing::listen_loopback(702, 1));
  auto r = testing::run_process({SSFAST_CLI_PATH, "exporter", "--listen", "127.0.0.1:702"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "ssfast: cannot listen on 127.0.0.1:702: Address already in use\n");
  r = testing::run_process(
      {SSFAST_CLI_PATH, "agent", "--service-port", "80", "--listen", "localhost:9478"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "ssfast: --listen: 'localhost' is not a numeric address\n");
}

// An exporter started with 0-2 closed (as a careless init script does) holds /dev/null
// there, not its listener or a client's connection, so nothing it logs reaches a client.
TEST_F(LiveNamespace, ExporterStartedWithClosedDescriptorsKeepsThemOnDevNull) {
  constexpr std::uint16_t port = 705;
  background_process exporter(
      {"sh", "-c", "exec \"$0\" exporter --listen 127.0.0.1:705 <&- >&- 2>&-", SSFAST_CLI_PATH});
  std::unique_ptr<tcp_client> c;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!c && std::chrono::steady_clock::now() < deadline) {
    try {
      c = std::make_unique<tcp_client>(port);
    } catch (const std::exception&) {
      std::this_thread::sleep_for(20ms);
    }
  }
  ASSERT_TRUE(c) << "the exporter never listened";
  for (int fd = 0; fd <= 2; ++fd) {
    const auto link = "/proc/" + std::to_string(exporter.pid()) + "/fd/" + std::to_string(fd);
    std::error_code ec;
    EXPECT_EQ(std::filesystem::read_symlink(link, ec).string(), "/dev/null") << link;
  }
  std::string resp;
  ASSERT_TRUE(c->send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(c->read_http_response(resp));
  EXPECT_EQ(testing::http_status(resp), 200);
  expect_tcp_series(testing::prometheus_samples(std::string(testing::http_body(resp))), got_.tcp,
                    {{{0, tcp_state::listen}, 1}, {{0, tcp_state::established}, 2}});
  c.reset();
}

std::string agent_says(std::uint16_t agent_port, std::string_view send = {}) {
  tcp_client c(agent_port);
  if (!send.empty()) {
    EXPECT_TRUE(c.send(send));
  }
  std::string line;
  EXPECT_TRUE(c.read_to_close(line));
  return line;
}

// The agent's line without its measurement's age: "up ready 100% #age 3 ms\n" is
// "up ready 100%\n", "down #REASON; age 3 ms\n" is "down #REASON\n".
std::string without_age(const std::string& line) {
  for (std::string_view mark : {" #age ", "; age "}) {
    const std::size_t at = line.rfind(mark);
    if (at != std::string::npos && line.ends_with(" ms\n")) return line.substr(0, at) + "\n";
  }
  return line;
}

// Asks the agent until it says `want` (ages aside): its measurement follows the sockets
// within --max-age. Only a failure waits out the bound.
void expect_agent(std::uint16_t port, const std::string& want, const char* why = "",
                  std::string_view send = {}) {
  std::string seen;
  const auto end = std::chrono::steady_clock::now() + 20s;
  while ((seen = without_age(agent_says(port, send))) != want &&
         std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(seen, want) << why;
}

TEST_F(LiveNamespace, AgentAnswersFromTheServicePort) {
  constexpr std::uint16_t service = 700;
  background_process agent({SSFAST_CLI_PATH, "agent", "--service-port", "700", "--max-established",
                            "4", "--listen", "127.0.0.1:0", "--max-age", "0.05"});
  const std::uint16_t port = agent.wait_for_listening_port();
  const std::string first = agent_says(port);
  EXPECT_TRUE(first.starts_with("down #no listener on port 700; age ")) << first;
  const int l = fds_.hold(testing::listen_loopback(service, 16));
  expect_agent(port, "up ready 100%\n");
  std::vector<std::unique_ptr<tcp_client>> clients;
  clients.push_back(std::make_unique<tcp_client>(service));
  expect_agent(port, "up ready 75%\n", "one of four");
  for (int i = 0; i < 3; ++i) clients.push_back(std::make_unique<tcp_client>(service));
  expect_agent(port, "up drain #ESTABLISHED 4 of max-established 4\n", "four of four");
  clients.clear();
  fds_.close_one(l);
  expect_agent(port, "down #no listener on port 700\n");
  // Backlog 1 and one connection waiting for accept(): the queue is full, drain although
  // ESTABLISHED (1) is far from its limit.
  const int small = fds_.hold(testing::listen_loopback(service, 1));
  {
    tcp_client waiting(service);
    expect_agent(port, "up drain #accept queue of 127.0.0.1:700: 1 of backlog 1\n");
  }
  fds_.close_one(small);
}

// Two listeners on one port (the usual IPv4 + IPv6 nginx setup) have two queues: a full IPv4
// queue drains the server however empty the IPv6 one is (summed, it read 5 of 132).
TEST_F(LiveNamespace, AgentJudgesEachListenerOnThePort) {
  constexpr std::uint16_t service = 702;
  background_process agent({SSFAST_CLI_PATH, "agent", "--service-port", "702", "--listen",
                            "127.0.0.1:0", "--max-age", "0.05"});
  const std::uint16_t port = agent.wait_for_listening_port();
  fds_.hold(testing::listen_loopback(service, 4));
  const int v6 = fds_.hold(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(service);
  a.sin6_addr = in6addr_loopback;
  ASSERT_EQ(::bind(v6, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(v6, 128), 0);
  expect_agent(port, "up ready 100%\n");
  std::vector<std::unique_ptr<tcp_client>> waiting;
  for (int i = 0; i < 5; ++i) waiting.push_back(std::make_unique<tcp_client>(service));
  expect_agent(port, "up drain #accept queue of 127.0.0.1:702: 5 of backlog 4\n");
}

// An HTTP response's header `name` (case as sent), or "" if absent.
std::string http_header(const std::string& resp, const std::string& name) {
  const std::size_t at = resp.find("\r\n" + name + ": ");
  if (at == std::string::npos || at > resp.find("\r\n\r\n")) return "";
  const std::size_t from = at + name.size() + 4;
  return resp.substr(from, resp.find("\r\n", from) - from);
}

// One request on a new connection: the whole response.
std::string http_ask(std::uint16_t port, const std::string& request) {
  tcp_client c(port);
  EXPECT_TRUE(c.send(request));
  std::string resp;
  EXPECT_TRUE(c.read_to_close(resp)) << request;
  return resp;
}

std::string get_ready(std::uint16_t port, const std::string& target) {
  return http_ask(port, "GET " + target + " HTTP/1.0\r\n\r\n");  // bare, as F5 and httpchk
}

// Asks until /ready... answers `status` with `body`.
void expect_ready(std::uint16_t port, const std::string& target, int status,
                  const std::string& body, const char* why = "") {
  std::string resp;
  const auto end = std::chrono::steady_clock::now() + 20s;
  while (!(testing::http_status(resp = get_ready(port, target)) == status &&
           testing::http_body(resp) == body) &&
         std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(testing::http_status(resp), status) << why << "\n" << resp;
  EXPECT_EQ(testing::http_body(resp), body) << why;
}

// HTTP readiness for two services with their own rules, beside agent-check, each status with
// its reason, and the headers probers read.
TEST_F(LiveNamespace, AgentAnswersHttpReadinessForEachService) {
  constexpr std::uint16_t web = 703, api = 704;
  background_process agent({SSFAST_CLI_PATH, "agent", "--service-port", "703", "--service",
                            "704,max-established=2", "--listen", "127.0.0.1:0", "--http-listen",
                            "127.0.0.1:0", "--max-age", "0.05"});
  const std::vector<std::uint16_t> ports = agent.wait_for_listening_ports(2);
  const std::uint16_t check = ports[0], http = ports[1];

  std::string resp = get_ready(http, "/ready/703");
  EXPECT_EQ(testing::http_status(resp), 503) << resp;
  EXPECT_EQ(testing::http_body(resp), "down: no listener on port 703\n");
  EXPECT_EQ(http_header(resp, "Cache-Control"), "no-store");
  EXPECT_FALSE(http_header(resp, "X-Ssfast-Age-Ms").empty()) << resp;
  EXPECT_EQ(http_header(resp, "Connection"), "close") << "HTTP/1.0";

  const int l = fds_.hold(testing::listen_loopback(web, 16));
  expect_ready(http, "/ready/703", 200, "ready 100%\n");
  // HEAD: the head alone, the same status.
  resp = http_ask(http, "HEAD /ready/703 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(testing::http_status(resp), 200) << resp;
  EXPECT_EQ(http_header(resp, "Content-Length"), "11");
  EXPECT_EQ(testing::http_body(resp), "");
  // Keep-alive: two answers on one connection.
  {
    tcp_client c(http);
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE(c.send("GET /ready/703 HTTP/1.1\r\nHost: x\r\n\r\n"));
      ASSERT_TRUE(c.read_http_response(resp));
      EXPECT_EQ(testing::http_status(resp), 200) << resp;
      EXPECT_EQ(http_header(resp, "Connection"), "keep-alive");
    }
  }
  // The ESTABLISHED limit of 704 alone: ready at 50%, then a drain as 429 or, asked, 404.
  fds_.hold(testing::listen_loopback(api, 16));
  std::vector<std::unique_ptr<tcp_client>> clients;
  clients.push_back(std::make_unique<tcp_client>(api));
  expect_ready(http, "/ready/704", 200, "ready 50%\n");
  clients.push_back(std::make_unique<tcp_client>(api));
  expect_ready(http, "/ready/704", 429, "drain: ESTABLISHED 2 of max-established 2\n");
  resp = get_ready(http, "/ready/704");
  EXPECT_EQ(http_header(resp, "x-envoy-degraded"), "drain") << "Envoy's degraded host";
  resp = get_ready(http, "/ready/704?drain=404");
  EXPECT_EQ(testing::http_status(resp), 404) << "HAProxy's disable-on-404";
  EXPECT_EQ(testing::http_body(resp), "drain: ESTABLISHED 2 of max-established 2\n");
  expect_ready(http, "/ready/703", 200, "ready 100%\n", "703 has no ESTABLISHED limit");

  // Not a service, not a path, not a method.
  resp = get_ready(http, "/ready");
  EXPECT_EQ(testing::http_status(resp), 404) << "two services: /ready names neither";
  EXPECT_EQ(testing::http_body(resp),
            "ssfast: not found; readiness is at /ready/PORT for ports 703, 704\n");
  EXPECT_EQ(testing::http_status(get_ready(http, "/ready/705")), 404);
  EXPECT_EQ(testing::http_status(get_ready(http, "/metrics")), 404);
  resp = http_ask(http, "POST /ready/703 HTTP/1.0\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(testing::http_status(resp), 405) << resp;
  EXPECT_EQ(http_header(resp, "Allow"), "GET, HEAD");
  resp = http_ask(http, "GET /ready/703 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(testing::http_status(resp), 400);

  // agent-check for several services: agent-send names the port; nothing or another port
  // within 200 ms is down, said why.
  EXPECT_EQ(without_age(agent_says(check, "703\n")), "up ready 100%\n");
  EXPECT_EQ(without_age(agent_says(check, "704\n")),
            "up drain #ESTABLISHED 2 of max-established 2\n");
  EXPECT_EQ(without_age(agent_says(check, "704")), "up drain #ESTABLISHED 2 of max-established 2\n")
      << "no line end: what came within 200 ms";
  EXPECT_EQ(agent_says(check), "down #agent-send must name a port\n");
  EXPECT_EQ(agent_says(check, "9999\n"), "down #port 9999 is not served by this agent\n");
  EXPECT_EQ(agent_says(check, std::string(100, '7')), "down #agent-send must name a port\n")
      << "64 bytes at most";

  fds_.close_one(l);
  expect_ready(http, "/ready/703", 503, "down: no listener on port 703\n");
}

// Answers within --max-age share one measurement; a change shows after it, never before the
// measurement that sees it.
TEST_F(LiveNamespace, AgentAnswersShareAMeasurementWithinMaxAge) {
  constexpr std::uint16_t service = 706;
  // --max-age 5 and a measurement under 1 s old: 4 s for the second probe to arrive, however
  // loaded the host.
  background_process agent({SSFAST_CLI_PATH, "agent", "--service-port", "706", "--http-listen",
                            "127.0.0.1:0", "--max-age", "5"});
  const std::uint16_t http = agent.wait_for_listening_port();
  auto age_of = [](const std::string& resp) {
    const std::string a = http_header(resp, "X-Ssfast-Age-Ms");
    return a.empty() ? -1L : std::stol(a);
  };
  // A fresh measurement (under 1 s old), then a listener, then at once a second probe: the
  // same measurement answers (no listener yet, an age not smaller), so the probes cost one dump.
  std::string first;
  const auto end = std::chrono::steady_clock::now() + 20s;
  while (age_of(first = get_ready(http, "/ready")) > 1000 && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(20ms);
  ASSERT_GE(age_of(first), 0) << first;
  ASSERT_LE(age_of(first), 1000) << first;
  const int l = fds_.hold(testing::listen_loopback(service, 16));
  const std::string second = get_ready(http, "/ready");
  EXPECT_EQ(testing::http_status(first), 503);
  EXPECT_EQ(testing::http_status(second), 503) << "the listener came after the measurement";
  EXPECT_GE(age_of(second), age_of(first)) << "one measurement answered both";
  // The next measurement sees it.
  expect_ready(http, "/ready", 200, "ready 100%\n", "after --max-age, the listener is seen");
  fds_.close_one(l);
}

// haproxy's view of server be/s1 through its stats socket: "status weight".
std::string haproxy_server(const std::string& socket_path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::snprintf(a.sun_path, sizeof a.sun_path, "%s", socket_path.c_str());
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return "no stats socket";
  }
  const std::string cmd = "show stat\n";
  if (::write(fd, cmd.data(), cmd.size()) != static_cast<ssize_t>(cmd.size())) return "?";
  std::string csv;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
    csv.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  // "# pxname,svname,...,status,weight,..." then one line per proxy/server.
  std::vector<std::string> header, row;
  auto split = [](const std::string& line) {
    std::vector<std::string> f;
    std::size_t s = 0;
    for (std::size_t c; (c = line.find(',', s)) != std::string::npos; s = c + 1)
      f.push_back(line.substr(s, c - s));
    f.push_back(line.substr(s));
    return f;
  };
  std::istringstream in(csv);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("# ")) header = split(line.substr(2));
    if (line.starts_with("be,s1,")) row = split(line);
  }
  std::string status, weight;
  for (std::size_t i = 0; i < header.size() && i < row.size(); ++i) {
    if (header[i] == "status") status = row[i];
    if (header[i] == "weight") weight = row[i];
  }
  return status + " " + weight;
}

// A real haproxy whose config is a stats socket and `rest` (defaults and backend be with
// server s1), run from a directory of its own that goes when it does; expect() polls its view
// of s1 until it is `want`. The bound is generous for a loaded host; only a failure waits it
// out.
class haproxy_under_test {
 public:
  haproxy_under_test(const std::string& name, const std::string& rest)
      : dir_(::testing::TempDir() + name + "-" + std::to_string(getpid())),
        stats_(dir_ + "/admin.sock") {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ + "/haproxy.cfg")
        << "global\n  stats socket " << stats_ << " mode 600 level admin\n"
        << rest;
    process_ = std::make_unique<background_process>(
        std::vector<std::string>{"haproxy", "-db", "-f", dir_ + "/haproxy.cfg"});
  }
  ~haproxy_under_test() {
    process_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void expect(const std::string& want, const char* why) {
    std::string seen;
    const auto end = std::chrono::steady_clock::now() + 30s;
    while ((seen = haproxy_server(stats_)) != want && std::chrono::steady_clock::now() < end)
      std::this_thread::sleep_for(25ms);
    EXPECT_EQ(seen, want) << why << "; haproxy said: " << process_->stderr_text();
  }

 private:
  std::string dir_, stats_;
  std::unique_ptr<background_process> process_;
};

TEST_F(LiveNamespace, HaproxyFollowsTheAgent) {
  ASSERT_TRUE(testing::have_program("haproxy")) << "haproxy is missing: run scripts/setup";
  constexpr std::uint16_t service = 701;
  background_process agent({SSFAST_CLI_PATH, "agent", "--service-port", "701", "--max-established",
                            "4", "--listen", "127.0.0.1:0"});
  const std::uint16_t agent_port = agent.wait_for_listening_port();
  // agent-inter 100 ms.
  haproxy_under_test haproxy(
      "ssfast-haproxy",
      "defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n"
      "backend be\n  server s1 127.0.0.1:" +
          std::to_string(service) + " weight 100 agent-check agent-addr 127.0.0.1 agent-port " +
          std::to_string(agent_port) + " agent-inter 100ms\n");
  auto expect_haproxy = [&](const std::string& want, const char* why) {
    haproxy.expect(want, why);
  };
  expect_haproxy("DOWN (agent) 100", "nothing listens on the service port");
  const int l = fds_.hold(testing::listen_loopback(service, 16));
  expect_haproxy("no check 100", "a listener: up, full weight");
  std::vector<std::unique_ptr<tcp_client>> clients;
  for (int i = 0; i < 2; ++i) clients.push_back(std::make_unique<tcp_client>(service));
  expect_haproxy("no check 50", "two of four connections: half weight");
  for (int i = 0; i < 2; ++i) clients.push_back(std::make_unique<tcp_client>(service));
  // Drained: no new connections; the weight stays the last one the agent gave.
  expect_haproxy("DRAIN (agent) 50", "at the ESTABLISHED limit: drained");
  clients.clear();
  expect_haproxy("no check 100", "back under the limit: ready again");
  fds_.close_one(l);
  expect_haproxy("DOWN (agent) 100", "the listener went away");
  // A full accept queue: "up drain #accept queue of ...": the description is taken too.
  const int full = fds_.hold(testing::listen_loopback(service, 1));
  for (int i = 0; i < 2; ++i) clients.push_back(std::make_unique<tcp_client>(service));
  expect_haproxy("DRAIN (agent) 100", "one listener's accept queue is full: drained");
  clients.clear();
  fds_.close_one(full);
}

// The recipes of docs/health-probes.md as their clients read the answers, through curl: a
// Kubernetes httpGet (200-399 passes), Consul (2xx passing, 429 warning, else critical),
// keepalived's vrrp_script (curl -f: exit 0, else 22) and Envoy's degraded header.
TEST_F(LiveNamespace, ReadinessRecipesAsTheirClientsReadThem) {
  ASSERT_TRUE(testing::have_program("curl")) << "curl is missing: run scripts/setup";
  constexpr std::uint16_t service = 708;
  background_process agent({SSFAST_CLI_PATH, "agent", "--service", "708,max-established=1",
                            "--http-listen", "127.0.0.1:0", "--max-age", "0.05"});
  const std::string url =
      "http://127.0.0.1:" + std::to_string(agent.wait_for_listening_port()) + "/ready/708";
  auto code = [&] {
    return testing::run_process({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", url}).out;
  };
  auto wait_code = [&](const std::string& want) {
    std::string seen;
    const auto end = std::chrono::steady_clock::now() + 20s;
    while ((seen = code()) != want && std::chrono::steady_clock::now() < end)
      std::this_thread::sleep_for(20ms);
    return seen;
  };
  auto keepalived = [&] {
    return testing::run_process({"curl", "-fsS", "-o", "/dev/null", url}).exit_code;
  };
  EXPECT_EQ(wait_code("503"), "503") << "nothing listens: Kubernetes not ready, Consul critical";
  EXPECT_EQ(keepalived(), 22) << "vrrp_script fails";
  const int l = fds_.hold(testing::listen_loopback(service, 16));
  EXPECT_EQ(wait_code("200"), "200") << "ready: Kubernetes ready, Consul passing";
  EXPECT_EQ(keepalived(), 0);
  auto client = std::make_unique<tcp_client>(service);
  EXPECT_EQ(wait_code("429"), "429") << "drained: Kubernetes not ready, Consul warning";
  EXPECT_EQ(keepalived(), 22);
  const auto head = testing::run_process({"curl", "-sI", url});
  EXPECT_NE(head.out.find("x-envoy-degraded: drain\r\n"), std::string::npos) << head.out;
  EXPECT_NE(head.out.find("Cache-Control: no-store\r\n"), std::string::npos) << head.out;
  client.reset();
  fds_.close_one(l);
}

// A real HAProxy probing over HTTP (option httpchk, http-check disable-on-404) follows the
// agent: DOWN with no listener, UP when one listens, NOLB (no new connections) when drained,
// UP again, DOWN when it goes.
TEST_F(LiveNamespace, HaproxyHttpchkFollowsReadiness) {
  ASSERT_TRUE(testing::have_program("haproxy")) << "haproxy is missing: run scripts/setup";
  constexpr std::uint16_t service = 707;
  background_process agent({SSFAST_CLI_PATH, "agent", "--service", "707,max-established=2",
                            "--http-listen", "127.0.0.1:0", "--max-age", "0.05"});
  const std::uint16_t http = agent.wait_for_listening_port();
  haproxy_under_test haproxy(
      "ssfast-httpchk",
      "defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n"
      "  timeout server 5s\n  timeout check 1s\n"
      "backend be\n  option httpchk GET /ready/707?drain=404\n  http-check disable-on-404\n"
      "  server s1 127.0.0.1:" +
          std::to_string(service) + " check port " + std::to_string(http) +
          " inter 100ms rise 1 fall 1\n");
  auto expect_haproxy = [&](const std::string& want, const char* why) {
    haproxy.expect(want, why);
  };
  expect_haproxy("DOWN 1", "nothing listens: 503");
  const int l = fds_.hold(testing::listen_loopback(service, 16));
  expect_haproxy("UP 1", "a listener: 200");
  std::vector<std::unique_ptr<tcp_client>> clients;
  for (int i = 0; i < 2; ++i) clients.push_back(std::make_unique<tcp_client>(service));
  expect_haproxy("NOLB 1", "at the ESTABLISHED limit: 404, disabled for new connections");
  clients.clear();
  expect_haproxy("UP 1", "under the limit again: 200");
  fds_.close_one(l);
  expect_haproxy("DOWN 1", "the listener went away: 503");
}

}  // namespace
}  // namespace ssfast
