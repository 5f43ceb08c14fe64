// SPDX-License-Identifier: Apache-2.0
// The collector's worker threads.
#include "worker_pool.h"

#include <system_error>

namespace ssfast::detail {

worker_pool::worker_pool(std::size_t workers) noexcept {
  try {
    threads_.reserve(workers);
    for (std::size_t i = 0; i < workers; ++i) threads_.emplace_back([this, i] { loop(i + 1); });
  } catch (const std::exception&) {
    // Out of threads or memory: run with the workers that did start.
  }
}

worker_pool::~worker_pool() {
  {
    std::lock_guard lock(m_);
    stop_ = true;
  }
  start_.notify_all();
  for (auto& t : threads_) t.join();
}

void worker_pool::run(std::size_t n, job fn, void* ctx) noexcept {
  if (n == 0) return;
  if (n > threads_.size() + 1) n = threads_.size() + 1;
  {
    std::lock_guard lock(m_);
    fn_ = fn;
    ctx_ = ctx;
    active_ = n;
    pending_ = n - 1;
    ++generation_;
  }
  if (n > 1) start_.notify_all();
  fn(ctx, 0);
  std::unique_lock lock(m_);
  done_.wait(lock, [this] { return pending_ == 0; });
}

void worker_pool::loop(std::size_t index) noexcept {
  std::uint64_t seen = 0;
  for (;;) {
    job fn = nullptr;
    void* ctx = nullptr;
    {
      std::unique_lock lock(m_);
      start_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      if (index >= active_) continue;  // not needed this run
      fn = fn_;
      ctx = ctx_;
    }
    fn(ctx, index);
    std::lock_guard lock(m_);
    if (--pending_ == 0) done_.notify_one();
  }
}

}  // namespace ssfast::detail
