// SPDX-License-Identifier: Apache-2.0
// Hostile names: a process that names itself with quotes, a newline, a terminal escape and
// bytes that are not UTF-8, holding sockets bound at equally hostile UNIX paths. Every -j
// command must print JSON a strict parser accepts, carrying the names faithfully; text
// output must not let a name forge a line.
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <sstream>

#include "support/live_fixture.h"

namespace ssfast {
namespace {

// 15 bytes, the most a comm holds: a quote, a backslash, a newline, an escape sequence that
// would clear a terminal, a byte never in UTF-8 and a truncated sequence.
constexpr std::string_view hostile_comm = "ev\"il\\\n\x1b[2J\xFF\xC3(";
// What JSON carries for it: ill-formed bytes replaced by U+FFFD, the rest exact.
const std::string comm_in_json = "ev\"il\\\n\x1b[2J\xEF\xBF\xBD\xEF\xBF\xBD(";
// What text carries: printable, one line.
constexpr std::string_view comm_in_text = R"(ev"il\\\x0a\x1b[2J\xff\xc3()";

// A file name may hold any byte but '/' and NUL.
constexpr std::string_view hostile_file = "x\"y\\z\nLINE 9\t\x01\xFE\xC3\xA9\xE2\x80\xA8";
constexpr std::string_view file_in_text = R"(x"y\\z\x0aLINE 9\x09\x01\xfe)"
                                          "\xC3\xA9"
                                          R"(\xe2\x80\xa8)";
// An abstract name may hold NUL too; ss shows the leading NUL as '@'.
constexpr std::string_view hostile_abstract{"\0ab\"\n\xFF\0z", 8};

int bind_unix(std::string_view name) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, name.data(), name.size());
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd, 4) != 0)
    return -1;
  return fd;
}

// A child that runs `make` with only two pipes open beside 0-2 (the scenario's sockets are not
// its), says whether that worked, and holds what it made until end().
struct holding_child {
  pid_t pid = -1;
  int hold = -1;    // the parent's end: closing it lets the child exit
  bool ok = false;  // what `make` returned
  void end() {
    if (hold >= 0) ::close(hold);
    if (pid > 0) ::waitpid(pid, nullptr, 0);
    hold = pid = -1;
  }
};

// `make` runs between fork and _exit: only async-signal-safe calls.
template <class Make>
holding_child fork_holding(Make make) {
  holding_child h;
  int ready[2], hold[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return h;
  if (::pipe2(hold, O_CLOEXEC) != 0) {
    ::close(ready[0]);
    ::close(ready[1]);
    return h;
  }
  h.pid = ::fork();
  if (h.pid == 0) {
    // Only the two pipes survive, as 3 and 4.
    if (::dup2(ready[1], 3) != 3 || ::dup2(hold[0], 4) != 4) ::_exit(1);
    ::close_range(5, ~0u, 0);
    const char c = make() ? '1' : '0';
    if (::write(3, &c, 1) != 1) ::_exit(1);
    char x;
    while (::read(4, &x, 1) > 0) {
    }
    ::_exit(0);
  }
  ::close(ready[1]);
  ::close(hold[0]);
  if (h.pid < 0) {
    ::close(ready[0]);
    ::close(hold[1]);
    return h;
  }
  h.hold = hold[1];
  char c = 0;
  h.ok = ::read(ready[0], &c, 1) == 1 && c == '1';
  ::close(ready[0]);
  return h;
}

class HostileNames : public LiveNamespace {
 protected:
  void SetUp() override {
    LiveNamespace::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    char tmpl[] = "/tmp/ssfast-hostile-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/" + std::string(hostile_file);
    const std::string path = path_;
    child_ = fork_holding([&path] {
      char name[16] = {};
      std::memcpy(name, hostile_comm.data(), hostile_comm.size());
      return ::prctl(PR_SET_NAME, name) == 0 && bind_unix(path) >= 0 &&
             bind_unix(hostile_abstract) >= 0;
    });
    ASSERT_GT(child_.pid, 0);
    ASSERT_TRUE(child_.ok) << "the child could not name itself or bind its sockets";
    pid_ = std::to_string(child_.pid);
  }

  void TearDown() override {
    child_.end();
    if (!path_.empty()) ::unlink(path_.c_str());
    if (!dir_.empty()) ::rmdir(dir_.c_str());
    LiveNamespace::TearDown();
  }

  // Runs ssfast; every line of its stdout must be one JSON document.
  std::vector<nlohmann::json> json_lines(const std::vector<std::string>& args) {
    std::vector<std::string> argv{SSFAST_CLI_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = testing::run_process(argv);
    std::string what;
    for (const auto& a : args) what += " " + a;
    EXPECT_TRUE(r.exit_code == 0 || (args[0] == "doctor" && r.exit_code <= 2))
        << what << ": " << r.err;
    std::vector<nlohmann::json> docs;
    std::istringstream in(r.out);
    std::string line;
    while (std::getline(in, line)) {
      try {
        docs.push_back(nlohmann::json::parse(line));  // strict: rejects ill-formed UTF-8
      } catch (const std::exception& e) {
        ADD_FAILURE() << "ssfast" << what << " printed a line that is not JSON (" << e.what()
                      << "): " << line;
      }
    }
    EXPECT_FALSE(docs.empty()) << what << " printed nothing";
    return docs;
  }

  std::string text(const std::vector<std::string>& args) {
    std::vector<std::string> argv{SSFAST_CLI_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = testing::run_process(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }

  std::string dir_, path_, pid_;
  holding_child child_;
};

TEST_F(HostileNames, EveryJsonCommandStaysValid) {
  // Each -j command; none may print anything a strict parser refuses.
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"-s", "-j"},
           {"-a", "-p", "-j"},
           {"-x", "-a", "-p", "-e", "-j"},
           {"-t", "-a", "-o", "-p", "-j"},
           {"top", "process", "-j"},
           {"top", "raddr", "-j"},
           {"top", "process", "-j", "--watch", "0.05", "--count", "2"},
           {"-s", "-j", "--watch", "0.05", "--count", "2"},
           {"counters", "-j"},
           {"counters", "-j", "--delta", "0.05"},
           {"doctor", "-j", "--interval", "0.05"},
           {"states", "-j"}})
    json_lines(args);
}

TEST_F(HostileNames, JsonCarriesTheNamesFaithfully) {
  const std::string key = pid_ + "/" + comm_in_json;
  bool found = false;
  for (const auto& doc : json_lines({"top", "process", "-x", "-j"}))
    for (const auto& e : doc.at("entries"))
      if (e.at("key") == key) {
        EXPECT_EQ(e.at("count"), 2);
        found = true;
      }
  EXPECT_TRUE(found) << "no top entry for " << key;

  int paths = 0;
  std::string seen;
  for (const auto& row : json_lines({"-x", "-l", "-p", "-j"})) {
    seen += row.dump() + "\n";
    const auto& procs = row.at("process");
    if (procs.empty() || procs[0].at("pid") != child_.pid) continue;
    EXPECT_EQ(procs[0].at("comm"), comm_in_json);
    const std::string p = row.at("path");
    // The file name with its one ill-formed byte (FE) replaced by U+FFFD.
    if (p == dir_ + "/x\"y\\z\nLINE 9\t\x01\xEF\xBF\xBD\xC3\xA9\xE2\x80\xA8") ++paths;
    // An abstract name: its NULs shown as '@', as ss shows the leading one.
    if (p == "@ab\"\n\xEF\xBF\xBD@z") ++paths;
  }
  EXPECT_EQ(paths, 2) << "both hostile UNIX paths, byte for byte:\n" << seen;
}

TEST_F(HostileNames, TextCannotForgeALine) {
  const std::string top = text({"top", "process", "-x"});
  EXPECT_NE(top.find("      2 " + pid_ + "/" + std::string(comm_in_text) + "\n"), std::string::npos)
      << top;
  const std::string list = text({"-x", "-l", "-p", "-H"});
  std::istringstream in(list);
  std::string line;
  int ours = 0;
  while (std::getline(in, line)) {
    EXPECT_EQ(line.rfind("LINE", 0), std::string::npos) << "a forged line: " << line;
    EXPECT_EQ(line.find('\x1b'), std::string::npos) << "a raw escape: " << line;
    if (line.find("pid=" + pid_ + ",") == std::string::npos) continue;
    ++ours;
    EXPECT_NE(line.find(R"(users:(("ev\"il\\\x0a\x1b[2J\xff\xc3(",pid=)"), std::string::npos)
        << line;
  }
  EXPECT_EQ(ours, 2) << list;
  EXPECT_NE(list.find(dir_ + "/" + std::string(file_in_text) + " "), std::string::npos) << list;
  EXPECT_NE(list.find(R"(@ab"\x0a\xff@z )"), std::string::npos) << list;
}

// top --watch on a pipe writes one line per report, `TIME COUNT:KEY COUNT:KEY ...`: a process
// that names itself `sp ace 99:fake` must not add a field of its own.
TEST_F(LiveNamespace, TopWatchLineCannotForgeAField) {
  holding_child child = fork_holding([] {
    const int l = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(7007);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return ::prctl(PR_SET_NAME, "sp ace 99:fake") == 0 && l >= 0 &&
           ::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(l, 4) == 0;
  });
  ASSERT_GT(child.pid, 0);
  const auto r = testing::run_process(
      {SSFAST_CLI_PATH, "top", "process", "--watch", "0.1", "--count", "1", "sport = :7007"});
  const pid_t pid = child.pid;
  child.end();
  ASSERT_TRUE(child.ok);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream line(r.out);
  std::vector<std::string> fields;
  for (std::string f; line >> f;) fields.push_back(f);
  ASSERT_EQ(fields.size(), 2u) << "the time and one COUNT:KEY:\n" << r.out;
  EXPECT_EQ(fields[1], "1:" + std::to_string(pid) + "/sp\\x20ace\\x2099:fake") << r.out;
}

}  // namespace
}  // namespace ssfast
