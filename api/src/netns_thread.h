// SPDX-License-Identifier: Apache-2.0
// A thread that lives in another network namespace and runs the collector's work there.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>

namespace ssfast::detail {

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
