// SPDX-License-Identifier: Apache-2.0
// The collector's thread inside another network namespace.
#include "netns_thread.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>

#include "ssfast/core/error.h"

namespace ssfast::detail {

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
