// SPDX-License-Identifier: Apache-2.0
// Every namespace at once (ssfast -s --all-netns) on real namespaces: children each alone in a
// namespace of their own holding known sockets, and one pinned by ip netns with no process.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "ssfast/report/all_netns.h"
#include "ssfast/serve/exporter.h"
#include "support/live_fixture.h"
#include "support/prometheus.h"
#include "support/scenario.h"

namespace ssfast {
namespace {

// A child alone in a new network namespace holding `listeners` TCP listeners and `pairs` UNIX
// socketpairs until the parent kills it.
struct netns_child {
  pid_t pid = -1;
  int listeners = 0, pairs = 0;
};

// Forks a child that enters its network namespace (`enter`, in the child), holds `listeners`
// TCP listeners and `pairs` UNIX socketpairs there, and waits until the parent kills it.
netns_child hold_sockets(int listeners, int pairs, const std::function<bool()>& enter,
                         bool as_nobody = false) {
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    close(ready[0]);
    if (!enter()) _exit(2);
    for (int i = 0; i < listeners; ++i) {
      const int s = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;  // INADDR_ANY, port 0: listen needs no interface up
      if (s < 0 || bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(s, 4) != 0)
        _exit(3);
    }
    for (int i = 0; i < pairs; ++i) {
      int sv[2];
      if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) _exit(4);
    }
    // An unprivileged user's process: it may not be entered (setns needs CAP_SYS_ADMIN in the
    // namespace's owner), only read through its own /proc/PID/net. Dumpable again after the
    // uid change, so its owner may read its /proc files.
    if (as_nobody && (setgroups(0, nullptr) != 0 || setresgid(65534, 65534, 65534) != 0 ||
                      setresuid(65534, 65534, 65534) != 0 || prctl(PR_SET_DUMPABLE, 1) != 0))
      _exit(6);
    char c = 'r';
    if (write(ready[1], &c, 1) != 1) _exit(5);
    close(ready[1]);
    // Until the parent kills it (bounded: a test that dies cannot leave it behind for long).
    for (int i = 0; i < 600; ++i) sleep(1);
    _exit(0);
  }
  close(ready[1]);
  char c = 0;
  const bool ok = pid > 0 && read(ready[0], &c, 1) == 1;
  close(ready[0]);
  if (!ok) {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    return {};
  }
  return {pid, listeners, pairs};
}

// A child alone in a new network namespace.
netns_child spawn(int listeners, int pairs, bool as_nobody = false) {
  return hold_sockets(
      listeners, pairs, [] { return unshare(CLONE_NEWNET) == 0; }, as_nobody);
}

// An exporter handler that counts every namespace per scrape.
serve::netns_scrape every_netns() {
  serve::netns_scrape s;
  s.enabled = true;
  return s;
}

// One request to `e` in a round of its own (so it collects afresh), and its answer.
serve::answer ask(serve::metrics_exporter& e,
                  std::string_view request = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n") {
  serve::answer a;
  e.on_round();
  e.on_input(request, a);
  return a;
}

class AllNetns : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "live test skipped: entering namespaces needs root";
    pinned_ = "ssfast-allns-" + std::to_string(getpid());
    const auto r = testing::run_process({"ip", "netns", "add", pinned_});
    if (r.exit_code != 0) GTEST_SKIP() << "live test skipped: ip netns add: " << r.err;
    // More pinned namespaces with no process and no socket beside the first.
    for (int i = 0; i < 3; ++i) {
      extra_.push_back(pinned_ + "-" + std::to_string(i));
      ASSERT_EQ(testing::run_process({"ip", "netns", "add", extra_.back()}).exit_code, 0);
    }
    for (int i = 0; i < 24; ++i) {
      children_.push_back(spawn(i % 5 + 1, i % 4));
      ASSERT_GT(children_.back().pid, 0) << "child " << i;
    }
  }
  void TearDown() override {
    for (const auto& c : children_) {
      if (c.pid <= 0) continue;
      kill(c.pid, SIGKILL);
      waitpid(c.pid, nullptr, 0);
    }
    if (!pinned_.empty()) testing::run_process({"ip", "netns", "del", pinned_});
    for (const auto& name : extra_) testing::run_process({"ip", "netns", "del", name});
    expect_no_leftover_processes();
  }
  std::string pinned_;
  std::vector<std::string> extra_;
  std::vector<netns_child> children_;
};

TEST_F(AllNetns, EveryNamespaceCountedWithWhoIsInIt) {
  const auto r = testing::run_process({SSFAST_CLI_PATH, "-s", "--all-netns", "-j"});
  ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const auto& list = j["namespaces"];
  std::uint64_t tcp_sum = 0, unix_sum = 0;
  std::uint64_t previous = UINT64_MAX, tier = 1;
  for (const auto& n : list) {
    ASSERT_GE(n["tier"].get<std::uint64_t>(), tier) << "ranked by tier first: " << n.dump();
    if (n["tier"].get<std::uint64_t>() > tier) previous = UINT64_MAX;
    tier = n["tier"].get<std::uint64_t>();
    if (n.contains("error")) continue;
    const std::uint64_t total = n["tcp"]["total"].get<std::uint64_t>() +
                                n["udp"]["total"].get<std::uint64_t>() +
                                n["unix"]["total"].get<std::uint64_t>();
    EXPECT_LE(total, previous) << "largest first within a tier";
    previous = total;
    tcp_sum += n["tcp"]["total"].get<std::uint64_t>();
    unix_sum += n["unix"]["total"].get<std::uint64_t>();
  }
  EXPECT_EQ(j["total"]["tcp"]["total"], tcp_sum);
  EXPECT_EQ(j["total"]["unix"]["total"], unix_sum);
  EXPECT_EQ(j["total"]["namespaces"], list.size());
  for (const auto& c : children_) {
    const nlohmann::json* found = nullptr;
    for (const auto& n : list)
      if (n["pid"] == c.pid) found = &n;
    ASSERT_NE(found, nullptr) << "child " << c.pid << " missing: " << r.out;
    const auto& n = *found;
    ASSERT_FALSE(n.contains("error")) << n.dump();
    EXPECT_EQ(n["source"], "netlink");
    // Derived from that namespace's own gauges (a quiet one: always taken).
    EXPECT_EQ(n["method"], "derived") << n.dump();
    EXPECT_EQ(n["tcp"]["states"]["LISTEN"], c.listeners) << n.dump();
    EXPECT_EQ(n["tcp"]["total"], c.listeners);
    EXPECT_EQ(n["udp"]["total"], 0);
    EXPECT_EQ(n["unix"]["total"], 2 * c.pairs);
    EXPECT_EQ(n["unix"]["stream"], 2 * c.pairs);
    EXPECT_TRUE(n["netns"].is_number_unsigned());
    EXPECT_EQ(n["comm"], "live_netns_test") << "the child's command name";
    EXPECT_TRUE(n["container"].is_null() && n["pod_uid"].is_null());
    // The keys of ssfast -s -j, exactly.
    for (const char* key : {"tcp", "udp", "unix"}) EXPECT_TRUE(n.contains(key)) << key;
  }
  const nlohmann::json* pinned = nullptr;
  for (const auto& n : list)
    if (n["name"] == pinned_) pinned = &n;
  ASSERT_NE(pinned, nullptr) << "the ip netns namespace is missing";
  EXPECT_TRUE((*pinned)["pid"].is_null()) << "no process is in it";
  for (const auto& name : extra_) {
    int seen = 0;
    for (const auto& n : list)
      if (n["name"] == name) ++seen;
    EXPECT_EQ(seen, 1) << name << " listed once";
  }
  std::set<std::uint64_t> inodes;
  for (const auto& n : list) EXPECT_TRUE(inodes.insert(n["netns"].get<std::uint64_t>()).second);
  EXPECT_GE(list.size(), children_.size() + 1 + extra_.size()) << "dozens of namespaces";
  EXPECT_EQ((*pinned)["tcp"]["total"], 0);
  EXPECT_EQ((*pinned)["unix"]["total"], 0);

  const auto text = testing::run_process({SSFAST_CLI_PATH, "-s", "--all-netns"});
  EXPECT_TRUE(text.exit_code == 0 || text.exit_code == 1) << text.err;
  EXPECT_EQ(text.out.rfind("NETNS ", 0), 0u) << text.out.substr(0, 200);
  EXPECT_NE(text.out.find(pinned_), std::string::npos);
  EXPECT_NE(text.out.find("\ntotal "), std::string::npos);
}

TEST_F(AllNetns, TopNetnsRanksNamespacesByWhatTheFilterSelects) {
  // Every key (--limit's maximum): a host may hold any number of namespaces with listeners,
  // and the test asserts only on its own children's, wherever they rank.
  const auto r = testing::run_process(
      {SSFAST_CLI_PATH, "top", "netns", "--limit", "1000000", "-j", "state", "listening"});
  ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  std::uint64_t previous = UINT64_MAX;
  for (const auto& e : j["entries"]) {
    EXPECT_LE(e["count"].get<std::uint64_t>(), previous) << "largest first";
    previous = e["count"].get<std::uint64_t>();
  }
  for (const auto& c : children_) {
    const std::string pid = "(" + std::to_string(c.pid) + ")";
    const nlohmann::json* found = nullptr;
    for (const auto& e : j["entries"])
      if (e["key"].get<std::string>().find(pid) != std::string::npos) found = &e;
    ASSERT_NE(found, nullptr) << "child " << c.pid << ": " << r.out;
    EXPECT_EQ((*found)["count"], c.listeners) << "only its listeners: the UNIX pairs are not";
  }
  for (const auto& e : j["entries"])
    EXPECT_EQ(e["key"].get<std::string>().find(pinned_), std::string::npos)
        << "a namespace with nothing selected is not listed";
  const auto limited = testing::run_process(
      {SSFAST_CLI_PATH, "top", "netns", "--limit", "2", "-t", "state", "listening"});
  EXPECT_LE(std::count(limited.out.begin(), limited.out.end(), '\n'), 2) << limited.out;
}

TEST_F(AllNetns, PrometheusLabelsEachNamespace) {
  const auto r =
      testing::run_process({SSFAST_CLI_PATH, "-s", "--all-netns", "--format", "prometheus"});
  ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err;
  const auto [rc, said] = testing::promtool(r.out);
  EXPECT_EQ(rc, 0) << said;
  EXPECT_EQ(said, "") << "promtool's lint found something";
  const auto j =
      nlohmann::json::parse(testing::run_process({SSFAST_CLI_PATH, "-s", "--all-netns", "-j"}).out);
  // At most 500 namespaces get series, in rank (tier, then largest first): on a host with
  // more, a small child may rank below the cap. Then its absence is right only if the cap was
  // reached and no listed namespace of its tier (owned by the initial user namespace) is
  // smaller than it.
  const std::string capped_series = "ssfast_netns_namespaces{status=\"capped\"} ";
  const auto capped_at = r.out.find(capped_series);
  ASSERT_NE(capped_at, std::string::npos) << r.out.substr(0, 2000);
  const std::uint64_t capped = std::stoull(r.out.substr(capped_at + capped_series.size()));
  std::uint64_t smallest_listed = UINT64_MAX;
  for (const auto& n : j["namespaces"]) {
    if (n.contains("error") || n["tier"] != 3) continue;
    const std::string prefix = "ssfast_netns_tcp_sockets{netns=\"" +
                               std::to_string(n["netns"].get<std::uint64_t>()) + "\",";
    if (r.out.find(prefix) != std::string::npos)
      smallest_listed = std::min(smallest_listed, n["tcp"]["total"].get<std::uint64_t>() +
                                                      n["udp"]["total"].get<std::uint64_t>() +
                                                      n["unix"]["total"].get<std::uint64_t>());
  }
  for (const auto& c : children_) {
    std::string inode;
    for (const auto& n : j["namespaces"])
      if (n["pid"] == c.pid) inode = std::to_string(n["netns"].get<std::uint64_t>());
    ASSERT_FALSE(inode.empty());
    const std::string series = "ssfast_netns_tcp_sockets{netns=\"" + inode +
                               "\",name=\"\",container=\"\",pod_uid=\"\",state=\"listen\"} " +
                               std::to_string(c.listeners) + "\n";
    if (r.out.find(series) != std::string::npos) continue;
    const auto own_sockets = static_cast<std::uint64_t>(c.listeners + 2 * c.pairs);
    EXPECT_TRUE(capped > 0 && own_sockets <= smallest_listed)
        << series << "is missing, and the cap does not explain it (capped " << capped
        << ", smallest listed " << smallest_listed << ")\n"
        << r.out.substr(0, 2000);
  }
  EXPECT_EQ(r.out.find("name=\"" + pinned_ + "\""), std::string::npos)
      << "a namespace without sockets gets no series";
  EXPECT_EQ(r.out.find("ssfast_netns_namespaces{status=\"empty\"} 0\n"), std::string::npos)
      << "the empty ip netns namespace is counted as empty";

  // The exporter's handler does the same per scrape.
  auto c = collector::open();
  ASSERT_TRUE(c);
  serve::metrics_exporter exporter(*c, summary_request{}, {}, every_netns());
  const serve::answer answer = ask(exporter);
  EXPECT_EQ(answer.head.rfind("HTTP/1.1 200 ", 0), 0u) << answer.head;
  ASSERT_NE(answer.body, nullptr);
  EXPECT_NE(answer.body->find("ssfast_netns_unix_sockets{netns=\""), std::string::npos);
  EXPECT_NE(answer.body->find("\nssfast_exporter_collections_total 1\n"), std::string::npos);
}

// Without privilege: the caller's own namespace and its own processes' (through
// /proc/PID/net) are counted; a pinned one cannot be entered and is listed with its error;
// what it could not see is said.
TEST_F(AllNetns, UnprivilegedSeesWhatItMayAndSaysTheRest) {
  const netns_child mine = spawn(2, 1, true);
  ASSERT_GT(mine.pid, 0);
  testing::child_setup as_nobody;
  as_nobody.as_uid = 65534;
  const auto r = testing::run_process({SSFAST_CLI_PATH, "-s", "--all-netns", "-j"}, as_nobody);
  kill(mine.pid, SIGKILL);
  waitpid(mine.pid, nullptr, 0);
  EXPECT_EQ(r.exit_code, 1) << "a namespace was not read: " << r.err;
  EXPECT_NE(r.err.find("processes' namespaces could not be read"), std::string::npos) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const nlohmann::json *own = nullptr, *pinned = nullptr;
  for (const auto& n : j["namespaces"]) {
    if (n["pid"] == mine.pid) own = &n;
    if (n["name"] == pinned_) pinned = &n;
  }
  ASSERT_NE(own, nullptr) << "its own process's namespace: " << r.out;
  ASSERT_FALSE(own->contains("error")) << own->dump();
  EXPECT_EQ((*own)["source"], "proc") << "read through /proc/PID/net";
  EXPECT_EQ((*own)["tcp"]["states"]["LISTEN"], 2);
  EXPECT_EQ((*own)["unix"]["total"], 2);
  ASSERT_NE(pinned, nullptr) << "the pinned namespace is listed, not left out";
  ASSERT_TRUE(pinned->contains("error")) << pinned->dump();
  EXPECT_NE((*pinned)["error"].get<std::string>().find("setns"), std::string::npos);
  for (const auto& c : children_)
    for (const auto& n : j["namespaces"]) EXPECT_NE(n["pid"], c.pid) << "root's, unseen";
  EXPECT_GE(j["total"]["unread"].get<std::uint64_t>(), 1u);
}

// The exporter run without privilege says the same once, not at every scrape: it logs the note
// when it starts to hold (again only after a scrape where it did not). Checked in a child that
// drops to nobody.
TEST_F(AllNetns, AnUnprivilegedExporterLogsWhatItCannotSeeOnce) {
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // 2: could not drop privilege; 3: not logged; 4: logged again; 5: no answer.
    if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0) _exit(2);
    auto c = collector::open();
    if (!c) _exit(5);
    std::vector<std::string> lines;
    serve::metrics_exporter exporter(
        *c, summary_request{}, [&](std::string_view l) { lines.emplace_back(l); }, every_netns());
    for (int i = 0; i < 3; ++i)
      if (ask(exporter).head.rfind("HTTP/1.1 200 ", 0) != 0) _exit(5);
    std::size_t notes = 0;
    for (const std::string& l : lines)
      notes += l.find("processes' namespaces could not be read") != std::string::npos;
    _exit(notes == 0 ? 3 : notes > 1 ? 4 : 0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "2: setuid failed, 3: the note was not logged, 4: logged again, 5: no 200";
}

TEST_F(AllNetns, TopKeyInEveryNamespace) {
  // Listeners only, and every key: the children's listeners rank among whatever else the
  // host's namespaces hold (a container host's thousands of connections), so the test looks
  // for its own by their namespace prefix and never assumes they make a top 20.
  const auto r = testing::run_process({SSFAST_CLI_PATH, "top", "lport", "--all-netns", "--limit",
                                       "1000000", "-j", "-t", "state", "listening"});
  ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  for (const auto& c : children_) {
    const std::string pid = "(" + std::to_string(c.pid) + ") ";
    int keys = 0;
    for (const auto& e : j["entries"])
      if (e["key"].get<std::string>().find(pid) != std::string::npos) {
        ++keys;
        EXPECT_EQ(e["count"], 1) << "each listener has a port of its own: " << e.dump();
      }
    EXPECT_EQ(keys, c.listeners) << r.out;
  }
  EXPECT_EQ(testing::run_process({SSFAST_CLI_PATH, "top", "netns", "--all-netns"}).exit_code, 2);
}

TEST_F(AllNetns, WatchRepeatsTheWholeCount) {
  const auto r = testing::run_process(
      {SSFAST_CLI_PATH, "-s", "--all-netns", "-j", "--watch", "0.2", "--count", "2"});
  ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  int reports = 0;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_GE(j["namespaces"].size(), children_.size());
    ++reports;
  }
  EXPECT_EQ(reports, 2);
}

std::uint64_t netns_inode(pid_t pid) {
  struct stat st {};
  return ::stat(("/proc/" + std::to_string(pid) + "/ns/net").c_str(), &st) == 0
             ? static_cast<std::uint64_t>(st.st_ino)
             : 0;
}

// A process that joins `holder`'s network namespace (setns) and holds `listeners` there.
netns_child join(pid_t holder, int listeners) {
  const std::string path = "/proc/" + std::to_string(holder) + "/ns/net";
  return hold_sockets(listeners, 0, [&path] {
    const int ns = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    return ns >= 0 && setns(ns, CLONE_NEWNET) == 0;
  });
}

void end(netns_child& c) {
  kill(c.pid, SIGKILL);
  waitpid(c.pid, nullptr, 0);
  c.pid = -1;
}

const netns_count* by_inode(const std::vector<netns_count>& ns, std::uint64_t inode) {
  for (const netns_count& n : ns)
    if (n.inode == inode) return &n;
  return nullptr;
}

// Processes come and go between discovery and the count (a container host): a namespace
// whose first process left is reached through the next one, and counted; one whose last
// process left is gone, which is no error of the run.
TEST_F(AllNetns, NamespacesThatLoseProcessesDuringTheRun) {
  netns_child first = spawn(0, 0);  // the lowest pid in its namespace, holding nothing
  ASSERT_GT(first.pid, 0);
  netns_child second = join(first.pid, 3);
  ASSERT_GT(second.pid, 0);
  netns_child lone = spawn(2, 0);
  ASSERT_GT(lone.pid, 0);
  // Ended here; after a failed assertion, the fixture's leftover check ends them.
  const std::uint64_t shared = netns_inode(first.pid), lonely = netns_inode(lone.pid);
  all_netns_options o;
  std::vector<netns_count> ns;
  all_netns_stats stats;
  ASSERT_FALSE(find_all_netns(o, ns, stats));
  const netns_count* found = by_inode(ns, shared);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->pid, static_cast<std::uint32_t>(first.pid)) << "the lowest pid";
  ASSERT_GE(found->ways.size(), 2u) << "both processes are ways in";
  end(first);
  end(lone);
  ASSERT_FALSE(count_found_netns(o, ns));
  const pid_t still_in = second.pid;
  end(second);
  const netns_count* s = by_inode(ns, shared);
  ASSERT_NE(s, nullptr);
  EXPECT_FALSE(s->error) << s->error_text;
  EXPECT_EQ(s->pid, static_cast<std::uint32_t>(still_in)) << "the process still in it";
  EXPECT_EQ(s->sockets.tcp_all()[tcp_state::listen], 3u);
  const netns_count* g = by_inode(ns, lonely);
  ASSERT_NE(g, nullptr);
  EXPECT_TRUE(g->gone) << g->error_text;
  // Every output says gone, apart from what could not be read, and nothing sums it.
  std::string prom, text, js;
  render_all_netns_prometheus(ns, max_netns_series, prom);
  // Other tests' namespaces may end meanwhile too: at least ours is gone.
  const std::string gone_series = "ssfast_netns_namespaces{status=\"gone\"} ";
  const auto at = prom.find(gone_series);
  ASSERT_NE(at, std::string::npos) << prom;
  EXPECT_GE(std::stoull(prom.substr(at + gone_series.size())), 1u);
  EXPECT_EQ(prom.find("netns=\"" + std::to_string(lonely) + "\""), std::string::npos);
  render_all_netns_text(ns, o.scope, text);
  EXPECT_NE(text.find("# gone: its processes exited during the run"), std::string::npos);
  render_all_netns_json(ns, o.scope, js);
  const auto j = nlohmann::json::parse(js);
  EXPECT_GE(j["total"]["gone"].get<std::uint64_t>(), 1u);
  for (const auto& n : j["namespaces"]) {
    if (n["netns"] == lonely) {
      EXPECT_EQ(n["gone"], true) << n.dump();
      EXPECT_TRUE(n.contains("error")) << "a reader that skips errors skips it too";
    }
  }
}

// A path that opens another namespace than the one found there (a PID reused by a process of
// another namespace) is never counted under the first one's identity.
TEST_F(AllNetns, AReusedPathIsNotCountedAsTheNamespaceFoundThere) {
  netns_child a = spawn(1, 0), b = spawn(4, 0);
  ASSERT_GT(a.pid, 0);
  ASSERT_GT(b.pid, 0);
  // A proc root of two processes, 100 and 200, whose ns/net lead to a's and b's namespaces.
  const auto root =
      std::filesystem::temp_directory_path() / ("ssfast-reused-" + std::to_string(getpid()));
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root / "self");
  std::ofstream(root / "self" / "mountinfo") << "";
  for (auto [pid, target] : {std::pair{100, a.pid}, {200, b.pid}}) {
    std::filesystem::create_directories(root / std::to_string(pid) / "ns");
    std::filesystem::create_symlink("/proc/" + std::to_string(target) + "/ns/net",
                                    root / std::to_string(pid) / "ns" / "net");
  }
  all_netns_options o;
  o.proc_root = root.string();
  std::vector<netns_count> ns;
  all_netns_stats stats;
  ASSERT_FALSE(find_all_netns(o, ns, stats));
  ASSERT_EQ(ns.size(), 2u);
  // Pid 100 now belongs to a process of b's namespace.
  std::filesystem::remove(root / "100" / "ns" / "net");
  std::filesystem::create_symlink("/proc/" + std::to_string(b.pid) + "/ns/net",
                                  root / "100" / "ns" / "net");
  const std::uint64_t ia = netns_inode(a.pid), ib = netns_inode(b.pid);
  ASSERT_FALSE(count_found_netns(o, ns));
  std::filesystem::remove_all(root);
  end(a);
  end(b);
  const netns_count* na = by_inode(ns, ia);
  const netns_count* nb = by_inode(ns, ib);
  ASSERT_NE(na, nullptr);
  ASSERT_NE(nb, nullptr);
  EXPECT_TRUE(na->gone) << "not b's sockets under a's name: " << na->error_text;
  EXPECT_FALSE(nb->error) << nb->error_text;
  EXPECT_EQ(nb->sockets.tcp_all()[tcp_state::listen], 4u);
}

// A child alone in a network namespace owned by a user namespace of its own, as any user may
// make them by the hundred (unshare -Urn).
netns_child spawn_other_owner(int listeners) {
  return hold_sockets(listeners, 0, [] { return unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0; });
}

std::uint64_t own_netns_inode() {
  struct stat st {};
  return ::stat("/proc/thread-self/ns/net", &st) == 0 ? static_cast<std::uint64_t>(st.st_ino) : 0;
}

// What an operator cares about comes first, whatever its size: the host's namespace, the
// named ones, those owned by the initial user namespace, and only then the namespaces other
// user namespaces own (which any user can make, and fill with sockets). The series cap
// applies after that ranking, and --netns-owner init leaves the last tier out entirely.
TEST_F(AllNetns, RanksWhatAnOperatorCaresAboutFirst) {
  std::vector<netns_child> others;
  for (int i = 0; i < 3; ++i) {
    others.push_back(spawn_other_owner(40));  // far more than any child of the fixture holds
    if (others.back().pid <= 0) {
      for (auto& c : others)
        if (c.pid > 0) end(c);
      GTEST_SKIP() << "live test skipped: no user namespaces here (user.max_user_namespaces)";
    }
  }
  std::set<std::uint64_t> other_inodes;
  for (const auto& c : others) other_inodes.insert(netns_inode(c.pid));
  std::set<std::uint64_t> child_inodes;
  for (const auto& c : children_) child_inodes.insert(netns_inode(c.pid));
  const std::uint64_t own = own_netns_inode();

  all_netns_options o;
  std::vector<netns_count> ns;
  all_netns_stats stats;
  ASSERT_FALSE(find_all_netns(o, ns, stats));
  for (const netns_count& n : ns) {
    if (n.inode == own) {
      EXPECT_EQ(n.tier, netns_tier::host);
    }
    if (n.name == pinned_) {
      EXPECT_EQ(n.tier, netns_tier::named);
    }
    if (child_inodes.count(n.inode)) {
      EXPECT_EQ(n.tier, netns_tier::initial_owner) << n.inode;
    }
    if (other_inodes.count(n.inode)) {
      EXPECT_EQ(n.tier, netns_tier::other_owner) << n.inode;
    }
  }
  ASSERT_FALSE(count_found_netns(o, ns));
  // Ranked: by tier, then largest first within a tier.
  for (std::size_t i = 1; i < ns.size(); ++i) {
    ASSERT_LE(ns[i - 1].tier, ns[i].tier) << i;
    if (ns[i - 1].tier == ns[i].tier && !ns[i].error && !ns[i - 1].error) {
      EXPECT_GE(ns[i - 1].sockets.total(), ns[i].sockets.total()) << i;
    }
  }
  ASSERT_FALSE(ns.empty());
  EXPECT_EQ(ns.front().inode, own) << "the host's namespace first";
  std::size_t above = 0;  // namespaces of the first three tiers with sockets: the cap's room
  for (const netns_count& n : ns) {
    if (other_inodes.count(n.inode)) {
      EXPECT_FALSE(n.error) << n.error_text;
      EXPECT_EQ(n.sockets.tcp_all()[tcp_state::listen], 40u) << "counted, only ranked last";
    }
    if (n.tier != netns_tier::other_owner && !n.error && n.sockets.total() > 0) ++above;
  }
  // A cap the first three tiers fill: the biggest namespaces, the other owners', get none.
  std::string prom;
  render_all_netns_prometheus(ns, above, prom);
  for (std::uint64_t inode : other_inodes)
    EXPECT_EQ(prom.find("netns=\"" + std::to_string(inode) + "\""), std::string::npos) << inode;
  for (std::uint64_t inode : child_inodes)
    EXPECT_NE(prom.find("netns=\"" + std::to_string(inode) + "\""), std::string::npos) << inode;
  EXPECT_NE(prom.find("netns=\"" + std::to_string(own) + "\""), std::string::npos)
      << "the host's namespace has series: " << prom.substr(0, 2000);
  const std::string capped = "ssfast_netns_namespaces{status=\"capped\"} ";
  ASSERT_NE(prom.find(capped), std::string::npos);
  EXPECT_GE(std::stoull(prom.substr(prom.find(capped) + capped.size())), 3u);

  // --netns-owner init: the other owners' namespaces are neither opened nor counted.
  o.owner = netns_owner::init;
  ASSERT_FALSE(count_all_netns(o, ns, stats));
  std::size_t excluded = 0;
  for (const netns_count& n : ns) {
    if (other_inodes.count(n.inode)) {
      EXPECT_TRUE(n.excluded) << n.inode;
      EXPECT_FALSE(n.unread()) << "no error of the run";
    }
    if (child_inodes.count(n.inode)) {
      EXPECT_FALSE(n.error) << n.error_text;
    }
    excluded += n.excluded ? 1 : 0;
  }
  EXPECT_GE(excluded, 3u);
  prom.clear();
  render_all_netns_prometheus(ns, max_netns_series, prom);
  const std::string series = "ssfast_netns_namespaces{status=\"excluded\"} ";
  ASSERT_NE(prom.find(series), std::string::npos) << prom;
  EXPECT_EQ(std::stoull(prom.substr(prom.find(series) + series.size())), excluded);
  for (std::uint64_t inode : other_inodes)
    EXPECT_EQ(prom.find("netns=\"" + std::to_string(inode) + "\""), std::string::npos);

  // The command line: tiers in JSON, the excluded only counted.
  const auto any = testing::run_process({SSFAST_CLI_PATH, "-s", "--all-netns", "-j"});
  const auto init =
      testing::run_process({SSFAST_CLI_PATH, "-s", "--all-netns", "-j", "--netns-owner", "init"});
  const auto text =
      testing::run_process({SSFAST_CLI_PATH, "-s", "--all-netns", "--netns-owner", "init"});
  for (auto& c : others) end(c);
  ASSERT_TRUE(any.exit_code == 0 || any.exit_code == 1) << any.err;
  ASSERT_TRUE(init.exit_code == 0 || init.exit_code == 1) << init.err;
  const auto ja = nlohmann::json::parse(any.out), ji = nlohmann::json::parse(init.out);
  int seen = 0;
  for (const auto& n : ja["namespaces"])
    if (other_inodes.count(n["netns"].get<std::uint64_t>())) {
      EXPECT_EQ(n["tier"], 4) << n.dump();
      ++seen;
    }
  EXPECT_EQ(seen, 3);
  for (const auto& n : ji["namespaces"]) {
    EXPECT_EQ(other_inodes.count(n["netns"].get<std::uint64_t>()), 0u) << n.dump();
    EXPECT_NE(n["tier"], 4) << n.dump();
  }
  EXPECT_GE(ji["total"]["excluded"].get<std::uint64_t>(), 3u);
  EXPECT_EQ(ji["total"]["namespaces"], ji["namespaces"].size());
  EXPECT_NE(text.out.find(" namespaces owned by other user namespaces were left out "
                          "(--netns-owner init)\n"),
            std::string::npos)
      << text.out;
}

// A collection past its deadline answers with what it counted and says what it did not: the
// exporter's deadline, lowered by the scraper's own timeout.
TEST_F(AllNetns, ADeadlineAnswersWithWhatWasCounted) {
  all_netns_options o;
  o.deadline = std::chrono::steady_clock::now();  // passed before the first count
  std::vector<netns_count> ns;
  all_netns_stats stats;
  ASSERT_FALSE(count_all_netns(o, ns, stats));
  ASSERT_GE(ns.size(), children_.size());
  for (const netns_count& n : ns) {
    EXPECT_TRUE(n.past_deadline || n.gone) << n.inode << ": " << n.error_text;
    EXPECT_FALSE(n.unread());
  }
  std::string prom, js;
  render_all_netns_prometheus(ns, max_netns_series, prom);
  EXPECT_NE(prom.find("ssfast_netns_namespaces{status=\"counted\"} 0\n"), std::string::npos);
  EXPECT_EQ(prom.find("ssfast_netns_namespaces{status=\"deadline\"} 0\n"), std::string::npos);
  render_all_netns_json(ns, o.scope, js);
  const auto j = nlohmann::json::parse(js);
  EXPECT_GE(j["total"]["deadline"].get<std::uint64_t>(), children_.size());
  for (const auto& n : j["namespaces"])
    if (n.contains("deadline")) {
      EXPECT_TRUE(n.contains("error")) << "nothing sums it";
    }

  // The exporter: Prometheus's timeout header lowers the 8 s deadline; without it, all counted.
  auto c = collector::open();
  ASSERT_TRUE(c);
  serve::metrics_exporter exporter(*c, summary_request{}, {}, every_netns());
  const serve::answer hurried = ask(
      exporter,
      "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Prometheus-Scrape-Timeout-Seconds: 0.000001\r\n\r\n");
  EXPECT_EQ(hurried.head.rfind("HTTP/1.1 200 ", 0), 0u) << hurried.head;
  ASSERT_NE(hurried.body, nullptr);
  EXPECT_NE(hurried.body->find("ssfast_netns_namespaces{status=\"counted\"} 0\n"),
            std::string::npos)
      << *hurried.body;
  EXPECT_NE(hurried.body->find("\nssfast_scrape_duration_seconds "), std::string::npos);
  const serve::answer calm = ask(exporter);
  ASSERT_NE(calm.body, nullptr);
  for (const auto& child : children_) {
    const std::string series =
        "ssfast_netns_tcp_sockets{netns=\"" + std::to_string(netns_inode(child.pid)) + "\",";
    EXPECT_NE(calm.body->find(series), std::string::npos) << child.pid;
  }
}

TEST(ScrapeBudget, PrometheusTimeoutLowersTheDeadline) {
  EXPECT_EQ(serve::scrape_budget(8, 0), 8);
  EXPECT_EQ(serve::scrape_budget(8, 10), 8);
  EXPECT_EQ(serve::scrape_budget(8, 5), 4.5);
  EXPECT_EQ(serve::scrape_budget(8, 1), 0.5);
  EXPECT_EQ(serve::scrape_budget(8, 0.5), 0.25);
  EXPECT_EQ(serve::scrape_budget(2, 10), 2);
}

TEST_F(AllNetns, MisuseIsRefused) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"-s", "--all-netns", "-N", "x"},
                                             {"-s", "--all-netns", "--estimate"},
                                             {"-tan", "--all-netns"},
                                             {"top", "netns", "--proc-root", "/x"},
                                             {"-s", "--netns-owner", "init"},
                                             {"-s", "--all-netns", "--netns-owner", "mine"},
                                             {"-s", "--all-netns", "--scrape-deadline", "2"},
                                             {"exporter", "--scrape-deadline", "0"},
                                             {"exporter", "--scrape-deadline", "nan"}}) {
    std::vector<std::string> argv{SSFAST_CLI_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = testing::run_process(argv);
    EXPECT_EQ(r.exit_code, 2) << args.back() << ": " << r.err;
  }
}

}  // namespace
}  // namespace ssfast
