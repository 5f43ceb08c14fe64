// SPDX-License-Identifier: Apache-2.0
// A fixed set of threads that run one indexed job each on request: the netlink source's parallel
// dumps. Threads start once; a run allocates nothing.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace ssfast::detail {

class worker_pool {
 public:
  using job = void (*)(void* ctx, std::size_t index) noexcept;

  /// Starts up to `workers` threads; fewer if the system refuses more (see size()).
  explicit worker_pool(std::size_t workers) noexcept;
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;
  ~worker_pool();

  /// Threads started.
  std::size_t size() const noexcept { return threads_.size(); }

  /// Runs fn(ctx, i) for every i in [0, n), n <= size() + 1: index 0 on the calling thread,
  /// the others on the workers, and returns when all are done.
  void run(std::size_t n, job fn, void* ctx) noexcept;

 private:
  void loop(std::size_t index) noexcept;

  std::mutex m_;
  std::condition_variable start_, done_;
  std::uint64_t generation_ = 0;
  std::size_t active_ = 0;   // jobs in the current run, including index 0
  std::size_t pending_ = 0;  // worker jobs not yet finished
  job fn_ = nullptr;
  void* ctx_ = nullptr;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace ssfast::detail
