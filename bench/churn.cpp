// SPDX-License-Identifier: Apache-2.0
// ssfast-churn: opens and resets loopback TCP connections as fast as it can, beside a stable
// farm, so scripts/bench-compare --churn can count the stable sockets while the established
// hash changes under the dump (what makes inet_diag repeat or skip sockets; see
// ../shared/KERNEL-NOTES.md). Prints "ready" once its listener is up, then churns until
// SIGTERM/SIGINT or --seconds, and prints "connections N in S s" on stderr when it stops.
//
//   ssfast-churn [--port P] [--threads T] [--seconds S]
// Listens on 127.0.0.1:P (default 900: below the ephemeral range, apart from the farm's 100..).
// Both ends close with SO_LINGER 0, an RST: no TIME_WAIT piles up, so the churn can go on.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

std::atomic<bool> stop{false};
std::atomic<unsigned long long> made{0};

extern "C" void on_signal(int) { stop.store(true); }

void reset_close(int fd) {
  const linger l{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  close(fd);
}

void acceptor(int listener) {
  while (!stop.load(std::memory_order_relaxed)) {
    const int c = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (c >= 0) reset_close(c);
  }
}

void client(const sockaddr_in& a) {
  while (!stop.load(std::memory_order_relaxed)) {
    const int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c < 0) continue;
    if (connect(c, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0)
      made.fetch_add(1, std::memory_order_relaxed);
    reset_close(c);
  }
}

}  // namespace

int main(int argc, char** argv) {
  long port = 900, threads = 2, seconds = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (a == "--port" && v)
      port = std::strtol(argv[++i], nullptr, 10);
    else if (a == "--threads" && v)
      threads = std::strtol(argv[++i], nullptr, 10);
    else if (a == "--seconds" && v)
      seconds = std::strtol(argv[++i], nullptr, 10);
    else {
      std::fprintf(stderr, "usage: ssfast-churn [--port P] [--threads T] [--seconds S]\n");
      return 2;
    }
  }
  if (port < 1 || port > 65535 || threads < 1 || threads > 64 || seconds < 0) {
    std::fprintf(stderr, "ssfast-churn: bad --port, --threads or --seconds\n");
    return 2;
  }
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  const int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (l < 0 || bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || listen(l, 4096) < 0) {
    std::fprintf(stderr, "ssfast-churn: listener on port %ld: %s\n", port, std::strerror(errno));
    return 1;
  }
  // A blocked accept() must see `stop`: a short receive timeout makes it return EAGAIN.
  const timeval tick{0, 100000};
  setsockopt(l, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof tick);
  std::printf("ready\n");
  std::fflush(stdout);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  pool.emplace_back(acceptor, l);
  for (long t = 0; t < threads; ++t) pool.emplace_back(client, a);
  while (!stop.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (seconds > 0 && std::chrono::steady_clock::now() - start >= std::chrono::seconds(seconds))
      stop.store(true);
  }
  for (auto& t : pool) t.join();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "connections %llu in %.1f s (%.0f/s)\n", made.load(), s,
               static_cast<double>(made.load()) / s);
  close(l);
  return 0;
}
