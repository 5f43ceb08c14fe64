// SPDX-License-Identifier: Apache-2.0
// The /proc/[pid]/fd scan behind `-p`.
#include "ssfast/proc/processes.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "ssfast/core/detail/worker_pool.h"
#include "ssfast/core/error.h"

namespace ssfast::proc {
namespace {

bool all_digits(const char* s) {
  if (*s == '\0') return false;
  for (; *s != '\0'; ++s)
    if (*s < '0' || *s > '9') return false;
  return true;
}

template <class T>
bool parse_number(std::string_view s, T& v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc{} && p == s.data() + s.size();
}

// Reads directory entries with getdents64 into `buf`, calling f(name, d_type) for each.
template <class F>
bool for_each_entry(int dirfd, std::vector<char>& buf, F&& f) {
  for (;;) {
    const long n = syscall(SYS_getdents64, dirfd, buf.data(), buf.size());
    if (n < 0) return false;
    if (n == 0) return true;
    for (long off = 0; off < n;) {
      const auto* d = reinterpret_cast<const dirent64*>(buf.data() + off);
      f(d->d_name, d->d_type);
      off += d->d_reclen;
    }
  }
}

std::uint64_t mix(std::uint64_t x) {  // splitmix64's finalizer: inodes are often sequential
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

namespace {

// Reads /proc/PID/fd of every pid on `threads` threads (the caller's and threads - 1 more),
// each taking processes from a shared cursor and keeping its own entries; returns them all,
// and counts the unreadable. Throws std::bad_alloc.
template <class Entry>
std::vector<Entry> scan_fds(int root, const std::vector<std::uint32_t>& pids, unsigned threads,
                            bool per_thread, std::size_t& unreadable) {
  // Fewer threads than asked: the cursor hands the remaining processes to those that started.
  detail::worker_pool pool(threads > 1 ? threads - 1 : 0);
  const std::size_t width = pool.width(detail::worker_pool::caller::works);
  std::vector<std::vector<Entry>> found(width);
  std::vector<std::size_t> denied(width, 0);
  std::vector<std::vector<char>> dents(width, std::vector<char>(1 << 16));
  std::atomic<bool> out_of_memory{false};
  // One descriptor table: `dir` relative to root ("PID" or "PID/task/TID"), its fd directory.
  auto scan_table = [&](std::size_t t, const char* dir, std::uint32_t pid,
                        std::uint32_t tid) noexcept {
    char path[64], link[64];
    const std::size_t len = std::strlen(dir);
    if (len + 4 > sizeof path) return;
    std::memcpy(path, dir, len);
    std::memcpy(path + len, "/fd", 4);
    const int fd_dir = ::openat(root, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd_dir < 0) {
      if (errno == EACCES || errno == EPERM) ++denied[t];
      return;  // ENOENT: the process exited
    }
    std::vector<char> entries;  // a thread's own buffer: dents[t] may be listing the tasks
    std::vector<char>& buf = tid == 0 ? dents[t] : entries;
    if (tid != 0) {
      try {
        entries.resize(1 << 14);
      } catch (const std::bad_alloc&) {
        out_of_memory.store(true, std::memory_order_relaxed);
        ::close(fd_dir);
        return;
      }
    }
    for_each_entry(fd_dir, buf, [&](const char* name, unsigned char type) {
      if (type != DT_LNK && type != DT_UNKNOWN) return;
      std::int32_t fd = 0;
      if (!all_digits(name) || !parse_number(std::string_view(name), fd)) return;
      const ssize_t n = ::readlinkat(fd_dir, name, link, sizeof link);
      constexpr std::string_view prefix = "socket:[";
      if (n <= static_cast<ssize_t>(prefix.size()) + 1 || n >= static_cast<ssize_t>(sizeof link))
        return;
      const std::string_view target(link, static_cast<std::size_t>(n));
      if (!target.starts_with(prefix) || target.back() != ']') return;
      std::uint64_t inode = 0;
      if (!parse_number(target.substr(prefix.size(), target.size() - prefix.size() - 1), inode) ||
          inode == 0)
        return;
      try {
        found[t].push_back({inode, {pid, fd, tid}});
      } catch (const std::bad_alloc&) {
        out_of_memory.store(true, std::memory_order_relaxed);
      }
    });
    ::close(fd_dir);
  };
  auto work = [&](std::size_t t, std::size_t i) noexcept {
    char dir[48];
    auto [e, ec] = std::to_chars(dir, dir + 16, pids[i]);
    *e = '\0';
    if (!per_thread) {
      scan_table(t, dir, pids[i], 0);
      return;
    }
    // ss -T (ss.c user_ent_hash_build): each thread's table, the main thread's among them.
    std::memcpy(e, "/task", 6);
    const int task_dir = ::openat(root, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (task_dir < 0) {
      if (errno == EACCES || errno == EPERM) ++denied[t];
      return;
    }
    for_each_entry(task_dir, dents[t], [&](const char* name, unsigned char type) {
      std::uint32_t tid = 0;
      if ((type != DT_DIR && type != DT_UNKNOWN) || !all_digits(name) ||
          !parse_number(std::string_view(name), tid) || tid == 0)
        return;
      char table[48];
      auto [te, tec] = std::to_chars(table, table + 16, pids[i]);
      std::memcpy(te, "/task/", 6);
      auto [end, ec2] = std::to_chars(te + 6, table + sizeof table - 1, tid);
      *end = '\0';
      scan_table(t, table, pids[i], tid);
    });
    ::close(task_dir);
  };
  detail::parallel_for(pool, pids.size(), detail::worker_pool::caller::works, work);
  if (out_of_memory.load()) throw std::bad_alloc();

  std::vector<Entry> all;
  for (std::size_t t = 0; t < width; ++t) {
    unreadable += denied[t];
    all.insert(all.end(), found[t].begin(), found[t].end());
  }
  return all;
}

}  // namespace

std::error_code process_index::scan(const std::string& proc_root, unsigned threads,
                                    bool per_thread) {
  entries_.clear();
  owners_.clear();
  table_.clear();
  comms_.clear();
  comm_text_.clear();
  processes_ = unreadable_ = 0;

  const int root = ::open(proc_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return errno_code(errno);
  std::vector<std::uint32_t> pids;
  std::vector<char> buf(1 << 16);
  const bool listed = for_each_entry(root, buf, [&](const char* name, unsigned char type) {
    std::uint32_t pid = 0;
    if ((type == DT_DIR || type == DT_UNKNOWN) && all_digits(name) &&
        parse_number(std::string_view(name), pid))
      pids.push_back(pid);
  });
  if (!listed) {
    const int e = errno;
    ::close(root);
    return errno_code(e);
  }
  processes_ = pids.size();
  entries_ = scan_fds<entry>(root, pids, threads, per_thread, unreadable_);
  build_index();
  read_comms(root);
  ::close(root);
  return {};
}

// The entries sorted by inode, and an open-addressing table over the distinct inodes.
void process_index::build_index() {
  std::sort(entries_.begin(), entries_.end(), [](const entry& a, const entry& b) {
    return a.inode != b.inode           ? a.inode < b.inode
           : a.owner.pid != b.owner.pid ? a.owner.pid < b.owner.pid
           : a.owner.tid != b.owner.tid ? a.owner.tid > b.owner.tid  // ss: the last read first
                                        : a.owner.fd < b.owner.fd;
  });
  owners_.reserve(entries_.size());
  for (const entry& e : entries_) owners_.push_back(e.owner);

  // Open addressing over the distinct inodes, at most half full.
  std::size_t distinct = 0;
  for (std::size_t i = 0; i < entries_.size(); ++i)
    if (i == 0 || entries_[i].inode != entries_[i - 1].inode) ++distinct;
  std::size_t cap = 16;
  while (cap < 2 * distinct) cap *= 2;
  table_.assign(cap, slot{});
  for (std::size_t i = 0; i < entries_.size();) {
    std::size_t j = i;
    while (j < entries_.size() && entries_[j].inode == entries_[i].inode) ++j;
    std::size_t h = mix(entries_[i].inode) & (cap - 1);
    while (table_[h].inode != 0) h = (h + 1) & (cap - 1);
    table_[h] = {entries_[i].inode, static_cast<std::uint32_t>(i),
                 static_cast<std::uint32_t>(j - i)};
    i = j;
  }
}

// Command names of the processes that hold sockets.
void process_index::read_comms(int root) {
  // A thread's name is its own (/proc/TID/comm works for any thread's id).
  std::vector<std::uint32_t> holders;
  for (const entry& e : entries_) holders.push_back(e.owner.tid != 0 ? e.owner.tid : e.owner.pid);
  std::sort(holders.begin(), holders.end());
  holders.erase(std::unique(holders.begin(), holders.end()), holders.end());
  comms_.reserve(holders.size());
  for (std::uint32_t pid : holders) {
    char path[32];
    auto [e, ec] = std::to_chars(path, path + sizeof path - 6, pid);
    std::memcpy(e, "/comm", 6);
    const int fd = ::openat(root, path,
                            O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);  // a FIFO cannot hang it
    if (fd < 0) continue;
    char name[64];
    const ssize_t n = ::read(fd, name, sizeof name);
    ::close(fd);
    if (n <= 0) continue;
    std::size_t len = static_cast<std::size_t>(n);
    if (name[len - 1] == '\n') --len;
    comms_.emplace_hint(
        comms_.end(), pid,
        comm_ref{static_cast<std::uint32_t>(comm_text_.size()), static_cast<std::uint32_t>(len)});
    comm_text_.append(name, len);
  }
}

std::span<const socket_owner> process_index::owners(std::uint64_t inode) const noexcept {
  if (inode == 0 || table_.empty()) return {};
  const std::size_t mask = table_.size() - 1;
  for (std::size_t h = mix(inode) & mask;; h = (h + 1) & mask) {
    const slot& s = table_[h];
    if (s.inode == inode) return {owners_.data() + s.begin, s.count};
    if (s.inode == 0) return {};
  }
}

std::string_view process_index::comm(std::uint32_t pid) const noexcept {
  const auto it = comms_.find(pid);
  if (it == comms_.end()) return {};
  return {comm_text_.data() + it->second.offset, it->second.length};
}

}  // namespace ssfast::proc
