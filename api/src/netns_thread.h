// SPDX-License-Identifier: Apache-2.0
// A thread that lives in another network namespace and runs the collector's work there.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>

namespace ssfast::detail {

/// The process whose namespace a collector watches, when it was named as /proc/PID/ns/net:
/// a pidfd (pidfd_open(2), Linux 5.3), which polls readable once the process has exited
/// (pidfd_poll() in kernel/fork.c). The namespace itself lives on as long as the collector's
/// thread is in it, so without this a dead process's namespace would report zeros forever.
class watched_process {
 public:
  watched_process() = default;
  /// Opened before the namespace file: if the process has not exited once that file is open,
  /// the file was this process's, not a reused PID's. Without a pidfd (an older kernel, no
  /// such process) it watches nothing and the namespace file's open says what is wrong.
  static watched_process of(std::string_view netns_path) noexcept;
  watched_process(watched_process&& o) noexcept : fd_(o.fd_), pid_(o.pid_) { o.fd_ = -1; }
  watched_process& operator=(watched_process&& o) noexcept;
  ~watched_process();

  int fd() const noexcept { return fd_; }
  pid_t pid() const noexcept { return pid_; }
  /// True once the process has exited (never without a pidfd). No blocking.
  bool exited() const noexcept;

 private:
  int fd_ = -1;
  pid_t pid_ = 0;
};

/// /proc must be a proc filesystem (statfs: PROC_SUPER_MAGIC) for what is found in its
/// process directories to mean anything: an empty tmpfs mounted over it would make every
/// namespace and every owner silently absent. Another root is taken as the caller gave it (a
/// host's /proc mounted elsewhere, a recorded tree). errc::not_procfs, or statfs's errno.
std::error_code check_proc_root(const std::string& proc_root) noexcept;

class netns_thread {
 public:
  /// Opens `path` (a network namespace file) and starts a thread that setns()es into it.
  /// Errors: the open() or setns() errno (EPERM without CAP_SYS_ADMIN, ENOENT, EINVAL for a
  /// file that is not a network namespace).
  static std::error_code start(const std::string& path, std::unique_ptr<netns_thread>& out);

  netns_thread(const netns_thread&) = delete;
  netns_thread& operator=(const netns_thread&) = delete;
  ~netns_thread();

  /// Runs fn(ctx) on the thread and waits for it. No allocation.
  void run(void (*fn)(void*) noexcept, void* ctx) noexcept;

  /// Runs f() on the thread and returns its result.
  template <class F>
  auto call(F&& f) noexcept {
    using R = decltype(f());
    struct box {
      F& f;
      R r{};
    } b{f};
    run(
        [](void* p) noexcept {
          auto* x = static_cast<box*>(p);
          x->r = x->f();
        },
        &b);
    return b.r;
  }

 private:
  netns_thread() = default;
  void loop(int fd);

  std::mutex m_;
  std::condition_variable cv_;
  void (*fn_)(void*) noexcept = nullptr;
  void* ctx_ = nullptr;
  bool busy_ = false, stop_ = false, ready_ = false;
  int setns_error_ = 0;
  std::thread t_;
};

}  // namespace ssfast::detail
