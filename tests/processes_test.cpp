// SPDX-License-Identifier: Apache-2.0
// The /proc/[pid]/fd scan, on a fake /proc tree: socket links found, other links ignored,
// unreadable processes counted, command names read.
#include "ssfast/proc/processes.h"

#include <grp.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace ssfast::proc {
namespace {

namespace fs = std::filesystem;

class FakeProc : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(::testing::TempDir()) /
            ("ssfast-proc-" +
             std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override {
    fs::permissions(root_, fs::perms::all);
    for (auto& e :
         fs::recursive_directory_iterator(root_, fs::directory_options::skip_permission_denied))
      if (e.is_directory()) fs::permissions(e.path(), fs::perms::owner_all, fs::perm_options::add);
    fs::remove_all(root_);
  }
  void process(int pid, const char* comm, std::vector<std::pair<int, std::string>> fds) {
    const fs::path p = root_ / std::to_string(pid);
    fs::create_directories(p / "fd");
    std::ofstream(p / "comm") << comm << "\n";
    for (const auto& [fd, target] : fds) fs::create_symlink(target, p / "fd" / std::to_string(fd));
  }
  fs::path root_;
};

TEST_F(FakeProc, FindsSocketOwners) {
  process(100, "nginx", {{0, "/dev/null"}, {3, "socket:[5000]"}, {4, "socket:[5001]"}});
  process(101, "nginx", {{3, "socket:[5000]"}, {7, "pipe:[9]"}});
  process(200, "sshd", {{5, "socket:[6000]"}, {6, "socket:[bad]"}, {8, "socket:[0]"}});
  fs::create_directories(root_ / "self");  // not a process
  std::ofstream(root_ / "uptime") << "1 1\n";
  process_index idx;
  ASSERT_FALSE(idx.scan(root_.string(), 3));
  EXPECT_EQ(idx.processes(), 3u);
  EXPECT_EQ(idx.socket_fds(), 4u);
  const auto shared = idx.owners(5000);
  ASSERT_EQ(shared.size(), 2u);
  EXPECT_EQ(shared[0].pid, 100u);
  EXPECT_EQ(shared[0].fd, 3);
  EXPECT_EQ(shared[1].pid, 101u);
  EXPECT_EQ(idx.owners(5001).size(), 1u);
  EXPECT_EQ(idx.owners(6000)[0].fd, 5);
  EXPECT_TRUE(idx.owners(0).empty());
  EXPECT_TRUE(idx.owners(12345).empty());
  EXPECT_EQ(idx.comm(100), "nginx");
  EXPECT_EQ(idx.comm(200), "sshd");
  EXPECT_EQ(idx.comm(999), "");
}

TEST_F(FakeProc, ManyInodesAllFound) {
  std::vector<std::pair<int, std::string>> fds;
  for (int i = 0; i < 3000; ++i)
    fds.push_back({i + 3, "socket:[" + std::to_string(1000000 + i) + "]"});
  process(42, "farm", fds);
  process_index idx;
  ASSERT_FALSE(idx.scan(root_.string(), 2));
  for (int i = 0; i < 3000; ++i) {
    const auto o = idx.owners(1000000 + static_cast<std::uint64_t>(i));
    ASSERT_EQ(o.size(), 1u) << i;
    EXPECT_EQ(o[0].fd, i + 3);
  }
}

TEST_F(FakeProc, UnreadableProcessesAreCountedNotHidden) {
  process(300, "secret", {{3, "socket:[7000]"}});
  process(301, "open", {{3, "socket:[7001]"}});
  fs::permissions(root_ / "300" / "fd", fs::perms::none);
  // Root reads every directory, so the scan runs as an unprivileged user, in a child.
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (geteuid() == 0 && (setgroups(0, nullptr) != 0 || setresgid(65534, 65534, 65534) != 0 ||
                           setresuid(65534, 65534, 65534) != 0))
      _exit(3);
    process_index idx;
    if (idx.scan(root_.string(), 1)) _exit(4);
    _exit(idx.unreadable() == 1 && idx.owners(7000).empty() && idx.owners(7001).size() == 1 ? 0
                                                                                            : 5);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "3: could not drop privilege, 4: scan failed, 5: wrong";
}

TEST(ProcessIndex, MissingRootIsAnError) {
  process_index idx;
  EXPECT_EQ(idx.scan("/nonexistent-ssfast-root", 1), std::errc::no_such_file_or_directory);
}

}  // namespace
}  // namespace ssfast::proc
