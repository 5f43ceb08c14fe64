// SPDX-License-Identifier: Apache-2.0
// Namespace discovery without a kernel: container identities from real-shaped cgroup paths of
// each runtime, and discovery over a fake /proc (processes sharing namespaces, pinned mounts).
#include "ssfast/proc/namespaces.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace ssfast::proc {
namespace {

const std::string id64 = "3f4a9c2e1b7d6e5f40a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b";
const std::string uid = "6b4e5c8a-1f2d-4c3b-9a8e-0d1c2b3a4f5e";
const std::string uid_ = "6b4e5c8a_1f2d_4c3b_9a8e_0d1c2b3a4f5e";

TEST(ContainerIdentity, EveryRuntimeAndCgroupVersion) {
  struct sample {
    const char* what;
    std::string cgroup;
    std::string container, pod;
  } samples[] = {
      {"docker, cgroup v2, systemd driver", "0::/system.slice/docker-" + id64 + ".scope\n", id64,
       ""},
      {"docker, cgroup v1, cgroupfs driver",
       "12:pids:/docker/" + id64 + "\n11:memory:/docker/" + id64 + "\n1:name=systemd:/docker/" +
           id64 + "\n",
       id64, ""},
      {"containerd (kubelet), cgroup v2, systemd driver",
       "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uid_ +
           ".slice/cri-containerd-" + id64 + ".scope\n",
       id64, uid},
      {"containerd (kubelet), cgroup v1, cgroupfs driver",
       "4:memory:/kubepods/burstable/pod" + uid + "/" + id64 +
           "\n3:cpu,cpuacct:/kubepods/burstable/pod" + uid + "/" + id64 + "\n",
       id64, uid},
      {"guaranteed pod, cgroupfs", "0::/kubepods/pod" + uid + "/" + id64 + "\n", id64, uid},
      {"CRI-O, cgroup v2",
       "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + uid_ +
           ".slice/crio-" + id64 + ".scope\n",
       id64, uid},
      {"CRI-O's conmon is not the container",
       "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + uid_ +
           ".slice/crio-conmon-" + id64 + ".scope\n",
       "", uid},
      {"podman", "0::/machine.slice/libpod-" + id64 + ".scope/container\n", id64, ""},
      {"a host process", "0::/user.slice/user-1000.slice/session-2.scope\n", "", ""},
      {"empty", "", "", ""},
      {"not hex", "0::/system.slice/docker-" + std::string(64, 'z') + ".scope\n", "", ""},
      {"a pod-like name too short", "0::/kubepods/podabc/x\n", "", ""},
  };
  for (const sample& s : samples) {
    const container_identity id = parse_container_identity(s.cgroup);
    EXPECT_EQ(id.container, s.container) << s.what;
    EXPECT_EQ(id.pod_uid, s.pod) << s.what;
  }
}

TEST(ContainerIdentity, HostileTextNeverCrashes) {
  std::string junk;
  for (int i = 0; i < 3000; ++i) {
    junk.push_back(static_cast<char>((i * 131) % 256));
    (void)parse_container_identity(junk);
  }
  EXPECT_EQ(parse_container_identity(":::\n::\n0::pod").container, "");
}

class FakeProcNetns : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ =
        std::filesystem::temp_directory_path() / ("ssfast-fakeproc-" + std::to_string(::getpid()));
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_ / "self");
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  // A process whose ns/net is a hard link to `ns` (so processes can share an inode).
  void process(int pid, const std::string& ns, const std::string& comm, const std::string& cgroup) {
    const auto dir = root_ / std::to_string(pid);
    std::filesystem::create_directories(dir / "ns");
    const auto target = root_ / ("ns-" + ns);
    if (!std::filesystem::exists(target)) std::ofstream(target).put('x');
    std::filesystem::create_hard_link(target, dir / "ns" / "net");
    std::ofstream(dir / "comm") << comm << "\n";
    std::ofstream(dir / "cgroup") << cgroup;
  }
  std::uint64_t inode_of(const std::string& ns) {
    struct stat st {};
    EXPECT_EQ(::stat((root_ / ("ns-" + ns)).c_str(), &st), 0);
    return static_cast<std::uint64_t>(st.st_ino);
  }

  std::filesystem::path root_;
};

TEST_F(FakeProcNetns, DeduplicatesByInodeKeepsTheLowestPidAndFindsPinnedOnes) {
  process(300, "host", "systemd", "0::/init.scope\n");
  process(1, "host", "init", "0::/init.scope\n");
  process(4200, "web", "nginx", "0::/system.slice/docker-" + id64 + ".scope\n");
  process(4100, "web", "nginx-master", "0::/system.slice/docker-" + id64 + ".scope\n");
  // Two pinned namespaces: one with no process (ip netns add), one Docker's; and the web one
  // also pinned under /run/netns with a name. A space in a mount point is escaped as \040.
  std::ofstream(root_ / "self" / "mountinfo")
      << "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
      << "300 25 0:4 net:[4026532999] /run/netns/blue rw shared:5 - nsfs nsfs rw\n"
      << "301 25 0:4 net:[4026532998] /run/docker/netns/a\\040b rw shared:6 - nsfs nsfs rw\n"
      << "302 25 0:4 net:[" << inode_of("web") << "] /run/netns/web rw - nsfs nsfs rw\n"
      << "303 25 0:4 mnt:[4026532997] /run/other rw - nsfs nsfs rw\n";
  std::vector<netns_entry> found;
  netns_discovery_stats stats;
  ASSERT_FALSE(discover_netns(root_.string(), found, stats));
  EXPECT_EQ(stats.processes, 4u);
  EXPECT_EQ(stats.pinned, 3u) << "only net namespaces count";
  ASSERT_EQ(found.size(), 4u);
  auto by_inode = [&](std::uint64_t inode) -> const netns_entry* {
    for (const auto& n : found)
      if (n.inode == inode) return &n;
    return nullptr;
  };
  const netns_entry* host = by_inode(inode_of("host"));
  ASSERT_NE(host, nullptr);
  EXPECT_EQ(host->pid, 1u) << "the lowest pid";
  EXPECT_EQ(host->comm, "init");
  EXPECT_EQ(host->path, root_.string() + "/1/ns/net");
  const netns_entry* web = by_inode(inode_of("web"));
  ASSERT_NE(web, nullptr);
  EXPECT_EQ(web->pid, 4100u);
  EXPECT_EQ(web->name, "web");
  EXPECT_EQ(web->path, "/run/netns/web") << "a mount outlives the processes";
  EXPECT_EQ(web->id.container, id64);
  const netns_entry* blue = by_inode(4026532999);
  ASSERT_NE(blue, nullptr);
  EXPECT_EQ(blue->pid, 0u);
  EXPECT_EQ(blue->name, "blue");
  const netns_entry* docker = by_inode(4026532998);
  ASSERT_NE(docker, nullptr);
  EXPECT_EQ(docker->path, "/run/docker/netns/a b");
  EXPECT_EQ(docker->name, "");
  for (std::size_t i = 1; i < found.size(); ++i) EXPECT_LT(found[i - 1].inode, found[i].inode);
}

// A Kubernetes node's mountinfo passes 100 KB: a namespace pinned at its end is still found,
// and every way to each namespace is kept, its ip netns name first, then its processes by pid.
TEST_F(FakeProcNetns, ReadsAllOfABigMountinfoAndKeepsEveryWayIn) {
  process(700, "web", "nginx", "0::/\n");
  process(650, "web", "nginx", "0::/\n");
  std::ofstream info(root_ / "self" / "mountinfo");
  for (int i = 0; i < 1500; ++i)
    info << 100 + i << " 25 0:" << 60 + i << " / /var/lib/kubelet/pods/" << i
         << "/volumes/kubernetes.io~projected/kube-api-access rw,relatime - tmpfs tmpfs rw\n";
  info << "9000 25 0:4 net:[" << inode_of("web") << "] /run/docker/netns/abc rw - nsfs nsfs rw\n"
       << "9001 25 0:4 net:[" << inode_of("web") << "] /run/netns/web rw - nsfs nsfs rw\n"
       << "9002 25 0:4 net:[4026532777] /run/netns/late rw - nsfs nsfs rw\n";
  info.close();
  ASSERT_GT(std::filesystem::file_size(root_ / "self" / "mountinfo"), 100000u);
  std::vector<netns_entry> found;
  netns_discovery_stats stats;
  ASSERT_FALSE(discover_netns(root_.string(), found, stats));
  EXPECT_EQ(stats.pinned, 2u);
  ASSERT_EQ(found.size(), 2u);
  const auto late = std::find_if(found.begin(), found.end(),
                                 [](const netns_entry& n) { return n.inode == 4026532777; });
  ASSERT_NE(late, found.end()) << "the last line of a 100 KB mountinfo";
  EXPECT_EQ(late->name, "late");
  const auto web = std::find_if(found.begin(), found.end(),
                                [&](const netns_entry& n) { return n.inode == inode_of("web"); });
  ASSERT_NE(web, found.end());
  std::vector<std::string> ways;
  for (const auto& p : web->paths) ways.push_back(p.path);
  EXPECT_EQ(ways, (std::vector<std::string>{"/run/netns/web", "/run/docker/netns/abc",
                                            root_.string() + "/650/ns/net",
                                            root_.string() + "/700/ns/net"}));
  EXPECT_EQ(web->paths[0].dev, static_cast<std::uint64_t>(makedev(0, 4))) << "nsfs, from mountinfo";
  EXPECT_EQ(web->paths[2].pid, 650u);
  EXPECT_EQ(web->pid, 650u);
  EXPECT_EQ(web->name, "web");
}

TEST_F(FakeProcNetns, MissingRootIsAnError) {
  std::vector<netns_entry> found;
  netns_discovery_stats stats;
  EXPECT_TRUE(discover_netns((root_ / "nope").string(), found, stats));
}

}  // namespace
}  // namespace ssfast::proc
