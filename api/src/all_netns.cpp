// SPDX-License-Identifier: Apache-2.0
// Counting every network namespace at once: discovery from /proc, then worker threads that
// each enter one namespace at a time with setns and count there.
#include "ssfast/all_netns.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <new>

#include "netns_thread.h"
#include "ssfast/core/detail/worker_pool.h"
#include "ssfast/proc/namespaces.h"
#include "threads.h"

namespace ssfast {
namespace {

void count_with(const collector_options& co, const all_netns_options& o, netns_count& n) {
  auto c = collector::open(co);
  if (!c) {
    n.error = c.error();
    n.error_text = "cannot open a collector: " + c.error().message();
    return;
  }
  n.source = c->source();
  std::error_code ec;
  if (o.query != nullptr) {
    socket_table t;
    ec = c->list(t, *o.query);
    n.matching = t.size();
    if (!ec && o.on_listing) o.on_listing(n, t);
  } else {
    ec = c->count(n.sockets, o.scope, o.method);
  }
  if (ec) {
    n.error = ec;
    n.error_text = c->error_text(ec);
  }
}

// Is `fd` the namespace that was found? The same path may open another one now: a PID that
// was reused, a mount point mounted over.
bool same_namespace(int fd, const netns_count& n, const netns_way& w) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && static_cast<std::uint64_t>(st.st_ino) == n.inode &&
         (w.dev == 0 || static_cast<std::uint64_t>(st.st_dev) == w.dev);
}

// The first way that still opens the namespace that was found, or -1 with `failed` (errno)
// and `failed_at` (the way) of the first failure other than "gone" (ENOENT, ESRCH, or a file
// that is another namespace now); `failed` 0 when every way had gone.
int open_first_way(const netns_count& n, std::size_t& way, int& failed, std::size_t& failed_at) {
  failed = 0;
  for (way = 0; way < n.ways.size(); ++way) {
    const netns_way& w = n.ways[way];
    // O_NONBLOCK: a FIFO planted where a namespace was must not hang the open.
    const int fd = ::open(w.path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd >= 0 && same_namespace(fd, n, w)) return fd;
    const int e = fd >= 0 ? 0 : errno;
    if (fd >= 0) ::close(fd);
    if (e != 0 && e != ENOENT && e != ESRCH && failed == 0) {
      failed = e;
      failed_at = way;
    }
  }
  return -1;
}

// open_first_way for the count: the way taken becomes `path` (and its process `pid`); on
// failure `n.gone` when every way had gone (or led elsewhere), else `n.error` from the first
// other failure (EACCES, ...).
int open_namespace(netns_count& n) {
  std::size_t way = 0, failed_at = 0;
  int failed = 0;
  const int fd = open_first_way(n, way, failed, failed_at);
  if (fd >= 0) {
    n.path = n.ways[way].path;
    n.pid = n.ways[way].pid != 0 ? n.ways[way].pid : n.pid;
    return fd;
  }
  if (failed != 0) {
    n.error = std::error_code(failed, std::system_category());
    n.error_text = n.ways[failed_at].path + ": " + n.error.message();
  } else {
    n.gone = true;
    n.error = std::make_error_code(std::errc::no_such_file_or_directory);
    n.error_text = "gone: no process or mount holds it any more";
  }
  return -1;
}

// The inode of the initial user namespace, fixed at build time of every kernel since 3.8:
// PROC_USER_INIT_INO (0xEFFFFFFD, include/linux/proc_ns.h), which init_user_ns.ns.inum holds.
constexpr std::uint64_t initial_user_ns_inode = 0xEFFFFFFDU;

// Who owns the namespace open at `fd`. NS_GET_USERNS (fs/nsfs.c ns_ioctl, Linux 4.9) returns
// an fd of the owning user namespace through ns_get_owner() (kernel/user_namespace.c), which
// walks from the owner up its parents to the caller's user namespace and fails EPERM when it
// never meets it: the owner is outside the caller's user namespace, so not ours. (From the
// initial user namespace, where a host's exporter runs, that never happens: every user
// namespace descends from it; from a container's, the host's namespaces are not ours and rank
// last.) Any other failure (a kernel without the ioctl) leaves the owner unknown, which ranks
// as the initial owner: only a namespace known to be another's is put last or excluded.
netns_tier owner_tier(int fd) {
  const int owner = ::ioctl(fd, NS_GET_USERNS);
  if (owner < 0) return errno == EPERM ? netns_tier::other_owner : netns_tier::initial_owner;
  struct stat st {};
  const bool known = ::fstat(owner, &st) == 0;
  ::close(owner);
  if (!known) return netns_tier::initial_owner;
  return static_cast<std::uint64_t>(st.st_ino) == initial_user_ns_inode ? netns_tier::initial_owner
                                                                        : netns_tier::other_owner;
}

std::uint64_t inode_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_ino) : 0;
}

// The tier of each namespace found: the host's (the caller's own, PID 1's), the named, then by
// owner (one open and one ioctl each; a namespace that cannot be opened keeps the default).
void rank(const all_netns_options& o, std::vector<netns_count>& ns) {
  // The caller's thread's namespace is a fact of this process whatever `proc_root` says.
  const std::uint64_t own = inode_of("/proc/thread-self/ns/net");
  const std::uint64_t init = inode_of(o.proc_root + "/1/ns/net");
  for (netns_count& n : ns) {
    if (n.inode == own || n.inode == init) {
      n.tier = netns_tier::host;
    } else if (!n.name.empty()) {
      n.tier = netns_tier::named;
    } else {
      std::size_t way = 0, failed_at = 0;
      int failed = 0;
      const int fd = open_first_way(n, way, failed, failed_at);
      n.tier = fd >= 0 ? owner_tier(fd) : netns_tier::initial_owner;
      if (fd >= 0) ::close(fd);
    }
  }
}

// Runs on a worker thread, which stays in the last namespace it entered: the thread is the
// pool's own and ends with the call.
void count_one(const all_netns_options& o, netns_count& n) {
  const int fd = open_namespace(n);
  if (fd < 0) return;
  const int entered = ::setns(fd, CLONE_NEWNET);
  const int setns_errno = errno;
  ::close(fd);
  collector_options co;
  co.threads = 1;  // the namespaces are the parallelism
  if (entered == 0) {
    co.proc_root = "/proc/thread-self";  // /proc/net follows the main thread; this, ours
    count_with(co, o, n);
    return;
  }
  // No CAP_SYS_ADMIN: what the process's owner may read of its namespace, /proc/PID/net.
  if ((setns_errno == EPERM || setns_errno == EACCES) && n.pid != 0) {
    co.source = source_choice::proc;
    co.proc_root = o.proc_root + "/" + std::to_string(n.pid);
    count_with(co, o, n);
    if (!n.error) return;
    n.error_text = "setns: " + std::string(std::strerror(setns_errno)) + "; " + co.proc_root +
                   "/net: " + n.error_text;
    return;
  }
  n.error = std::error_code(setns_errno, std::system_category());
  n.error_text = "setns: " + n.error.message();
}

}  // namespace

std::error_code find_all_netns(const all_netns_options& o, std::vector<netns_count>& out,
                               all_netns_stats& stats) {
  if (auto ec = detail::check_proc_root(o.proc_root)) return ec;
  try {
    std::vector<proc::netns_entry> found;
    proc::netns_discovery_stats ds;
    if (auto ec = proc::discover_netns(o.proc_root, found, ds)) return ec;
    stats = {ds.processes, ds.unreadable, ds.pinned};
    out.clear();
    out.resize(found.size());
    for (std::size_t i = 0; i < found.size(); ++i) {
      netns_count& n = out[i];
      n.inode = found[i].inode;
      n.path = std::move(found[i].path);
      n.name = std::move(found[i].name);
      n.pid = found[i].pid;
      n.comm = std::move(found[i].comm);
      n.container = std::move(found[i].id.container);
      n.pod_uid = std::move(found[i].id.pod_uid);
      n.sockets.scope = o.scope;
      n.ways.reserve(found[i].paths.size());
      for (auto& p : found[i].paths) n.ways.push_back({std::move(p.path), p.pid, p.dev});
    }
    rank(o, out);
    return {};
  } catch (const std::bad_alloc&) {
    return std::make_error_code(std::errc::not_enough_memory);
  }
}

std::error_code count_all_netns(const all_netns_options& o, std::vector<netns_count>& out,
                                all_netns_stats& stats) {
  if (auto ec = find_all_netns(o, out, stats)) return ec;
  return count_found_netns(o, out);
}

std::error_code count_found_netns(const all_netns_options& o, std::vector<netns_count>& out) {
  try {
    // Counted in rank order: a deadline leaves out what matters least.
    std::stable_sort(out.begin(), out.end(),
                     [](const netns_count& a, const netns_count& b) { return a.tier < b.tier; });
    auto count = [&](std::size_t, std::size_t i) noexcept {
      netns_count& n = out[i];
      if (o.owner == netns_owner::init && n.tier == netns_tier::other_owner) {
        n.excluded = true;
        n.error = std::make_error_code(std::errc::operation_canceled);
        n.error_text = "excluded: owned by another user namespace (--netns-owner init)";
      } else if (std::chrono::steady_clock::now() >= o.deadline) {
        n.past_deadline = true;
        n.error = std::make_error_code(std::errc::timed_out);
        n.error_text = "not counted: the deadline passed before its turn";
      } else {
        try {
          count_one(o, n);
        } catch (const std::bad_alloc&) {
          n.error = std::make_error_code(std::errc::not_enough_memory);
          n.error_text = "out of memory";
        }
      }
    };
    // Every count runs on a thread of ours, never the caller's: setns would move the caller.
    // Fewer threads than asked: the cursor hands the rest to those that started.
    const unsigned want =
        std::max(1u, std::min<unsigned>(o.threads == 0 ? detail::default_threads() : o.threads,
                                        static_cast<unsigned>(out.size())));
    detail::worker_pool pool(want);
    if (pool.size() == 0) return std::make_error_code(std::errc::resource_unavailable_try_again);
    detail::parallel_for(pool, out.size(), detail::worker_pool::caller::waits, count);
    std::stable_sort(out.begin(), out.end(), [&o](const netns_count& a, const netns_count& b) {
      if (a.tier != b.tier) return a.tier < b.tier;
      const std::uint64_t x = a.error ? 0 : o.query ? a.matching : a.sockets.total();
      const std::uint64_t y = b.error ? 0 : o.query ? b.matching : b.sockets.total();
      return x != y ? x > y : a.inode < b.inode;
    });
    return {};
  } catch (const std::bad_alloc&) {
    return std::make_error_code(std::errc::not_enough_memory);
  }
}

}  // namespace ssfast
