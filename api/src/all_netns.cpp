// SPDX-License-Identifier: Apache-2.0
// Counting every network namespace at once: discovery from /proc, then worker threads that
// each enter one namespace at a time with setns and count there.
#include "ssfast/all_netns.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <new>
#include <thread>

#include "netns_thread.h"
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
    ec = c->count(n.sockets, o.scope);
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

// The first way that still opens the namespace that was found; -1 when none does, with
// `n.gone` when every way had gone (or led elsewhere), else `n.error` from the first other
// failure (EACCES, ...).
int open_namespace(netns_count& n) {
  std::error_code first;
  std::string first_path;
  for (const netns_way& w : n.ways) {
    // O_NONBLOCK: a FIFO planted where a namespace was must not hang the open.
    const int fd = ::open(w.path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd >= 0 && same_namespace(fd, n, w)) {
      n.path = w.path;
      n.pid = w.pid != 0 ? w.pid : n.pid;
      return fd;
    }
    const int e = fd >= 0 ? 0 : errno;
    if (fd >= 0) ::close(fd);
    if (e != 0 && e != ENOENT && e != ESRCH && !first) {
      first = std::error_code(e, std::system_category());
      first_path = w.path;
    }
  }
  if (first) {
    n.error = first;
    n.error_text = first_path + ": " + first.message();
  } else {
    n.gone = true;
    n.error = std::make_error_code(std::errc::no_such_file_or_directory);
    n.error_text = "gone: no process or mount holds it any more";
  }
  return -1;
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
    std::atomic<std::size_t> next{0};
    auto work = [&]() noexcept {
      for (std::size_t i; (i = next.fetch_add(1)) < out.size();) {
        try {
          count_one(o, out[i]);
        } catch (const std::bad_alloc&) {
          out[i].error = std::make_error_code(std::errc::not_enough_memory);
          out[i].error_text = "out of memory";
        }
      }
    };
    // Every count runs on a thread of ours, never the caller's: setns would move the caller.
    const unsigned want =
        std::max(1u, std::min<unsigned>(o.threads == 0 ? detail::default_threads() : o.threads,
                                        static_cast<unsigned>(out.size())));
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < want; ++t) {
      try {
        pool.emplace_back(work);
      } catch (const std::system_error&) {
        if (pool.empty()) return std::make_error_code(std::errc::resource_unavailable_try_again);
        break;  // fewer threads: the cursor hands the rest to those that started
      }
    }
    for (auto& th : pool) th.join();
    std::stable_sort(out.begin(), out.end(), [&o](const netns_count& a, const netns_count& b) {
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
