// SPDX-License-Identifier: Apache-2.0
// The collector's thread inside another network namespace.
#include "netns_thread.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "ssfast/core/error.h"

namespace ssfast::detail {

std::error_code check_proc_root(const std::string& proc_root) noexcept {
  if (proc_root != "/proc") return {};
  struct statfs fs {};
  if (::statfs(proc_root.c_str(), &fs) != 0) return errno_code(errno);
  return fs.f_type == PROC_SUPER_MAGIC ? std::error_code{} : make_error_code(errc::not_procfs);
}

watched_process watched_process::of(std::string_view path) noexcept {
  watched_process w;
  constexpr std::string_view head = "/proc/", tail = "/ns/net";
  if (!path.starts_with(head) || !path.ends_with(tail) || path.size() <= head.size() + tail.size())
    return w;
  const std::string_view digits = path.substr(head.size(), path.size() - head.size() - tail.size());
  int pid = 0;
  const auto [end, err] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
  if (err != std::errc{} || end != digits.data() + digits.size() || pid <= 0) return w;
#if defined(SYS_pidfd_open)
  const long fd = ::syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0U);
  if (fd >= 0) {
    ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);  // pidfds are close-on-exec already
    w.fd_ = static_cast<int>(fd);
    w.pid_ = pid;
  }
#endif
  return w;
}

watched_process& watched_process::operator=(watched_process&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    pid_ = o.pid_;
    o.fd_ = -1;
  }
  return *this;
}

watched_process::~watched_process() {
  if (fd_ >= 0) ::close(fd_);
}

bool watched_process::exited() const noexcept {
  if (fd_ < 0) return false;
  pollfd p{fd_, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP)) != 0;
}

std::error_code netns_thread::start(const std::string& path, std::unique_ptr<netns_thread>& out) {
  // O_NONBLOCK: a FIFO (or a device) named as a namespace must not hang the open. Then only
  // a network namespace file passes: NS_GET_NSTYPE (Linux 4.11) answers CLONE_NEWNET for
  // one, another type for other namespaces, ENOTTY for any file that is not one.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return errno_code(errno);
  if (::ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
    ::close(fd);
    return errc::not_a_network_namespace;
  }
  std::unique_ptr<netns_thread> t(new netns_thread);
  try {
    t->t_ = std::thread([self = t.get(), fd] { self->loop(fd); });
  } catch (const std::system_error& e) {
    ::close(fd);
    return e.code();
  }
  std::unique_lock lock(t->m_);
  t->cv_.wait(lock, [&] { return t->ready_; });
  if (t->setns_error_ != 0) {
    const int e = t->setns_error_;
    lock.unlock();
    return errno_code(e);  // the thread has ended; the destructor joins it
  }
  lock.unlock();
  out = std::move(t);
  return {};
}

void netns_thread::loop(int fd) {
  // setns() moves only this thread; the rest of the process stays where it is.
  const int rc = ::setns(fd, CLONE_NEWNET);
  const int e = rc == 0 ? 0 : errno;
  ::close(fd);
  {
    std::lock_guard lock(m_);
    setns_error_ = e;
    ready_ = true;
    if (e != 0) stop_ = true;
  }
  cv_.notify_all();
  if (e != 0) return;
  for (;;) {
    std::unique_lock lock(m_);
    cv_.wait(lock, [&] { return stop_ || (busy_ && fn_ != nullptr); });
    if (stop_) return;
    auto fn = fn_;
    void* ctx = ctx_;
    lock.unlock();
    fn(ctx);
    lock.lock();
    fn_ = nullptr;
    busy_ = false;
    cv_.notify_all();
  }
}

void netns_thread::run(void (*fn)(void*) noexcept, void* ctx) noexcept {
  std::unique_lock lock(m_);
  cv_.wait(lock, [&] { return !busy_; });
  fn_ = fn;
  ctx_ = ctx;
  busy_ = true;
  cv_.notify_all();
  cv_.wait(lock, [&] { return !busy_; });
}

netns_thread::~netns_thread() {
  {
    std::lock_guard lock(m_);
    stop_ = true;
  }
  cv_.notify_all();
  if (t_.joinable()) t_.join();
}

}  // namespace ssfast::detail
