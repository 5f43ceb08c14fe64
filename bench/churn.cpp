// SPDX-License-Identifier: Apache-2.0
// ssfast-churn: opens and resets loopback TCP connections as fast as it can, beside a stable
// farm, so scripts/bench-compare --churn can count the stable sockets while the established
// hash changes under the dump (what makes inet_diag repeat or skip sockets; see
// ../shared/KERNEL-NOTES.md). Prints "ready" once its listeners are up, then churns until
// SIGTERM/SIGINT or --seconds, and prints "connections N in S s (R/s)" on stderr when it stops;
// on SIGUSR1 it prints "at S s: N connections" on stderr (within 10 ms), so a caller can take
// the rate over the window it measured in.
//
//   ssfast-churn [--port P] [--threads T] [--seconds S]
// Thread t listens on 127.0.0.1:P+t (default P 900: below the ephemeral range, apart from the
// farm's 100..) and is its own client: on loopback the peer's side of each segment usually
// runs in the softirq the sender's own transmit raises, so connect() mostly returns with the
// child already queued and the thread accepts it at once (when ksoftirqd got it instead, the
// thread polls the listener for it). No wake-up crosses threads and no listener lock is
// shared, which is what held one shared listener to ~47k connections/s here. Both ends close with
// SO_LINGER 0, an RST: no TIME_WAIT piles up, so the churn can go on.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace {

std::atomic<bool> stop{false};
std::atomic<bool> report{false};

// One counter per thread, each on its own cache line: the threads never share a written line.
struct alignas(64) tally {
  std::atomic<unsigned long long> made{0};
};

extern "C" void on_signal(int) { stop.store(true); }
extern "C" void on_report(int) { report.store(true); }

void reset_close(int fd) {
  const linger l{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  close(fd);
}

// A non-blocking listener on 127.0.0.1:port, or -1 (errno says why).
int listen_on(const sockaddr_in& a) {
  const int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (l < 0) return -1;
  const int one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(l, reinterpret_cast<const sockaddr*>(&a), sizeof a) < 0 || listen(l, 4096) < 0) {
    const int e = errno;
    close(l);
    errno = e;
    return -1;
  }
  return l;
}

void churn(int listener, sockaddr_in a, tally& n) {
  while (!stop.load(std::memory_order_relaxed)) {
    const int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c < 0) continue;
    if (connect(c, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0) {
      int s = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (s < 0 && errno == EAGAIN) {  // not queued yet (a busy softirq): wait a little
        pollfd p{listener, POLLIN, 0};
        if (poll(&p, 1, 100) == 1) s = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      }
      if (s >= 0) {
        n.made.fetch_add(1, std::memory_order_relaxed);
        reset_close(s);
      }
    }
    reset_close(c);
  }
  // Children left queued (a connect whose accept timed out) die with the listener.
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
  if (port < 1 || threads < 1 || threads > 64 || port + threads - 1 > 65535 || seconds < 0) {
    std::fprintf(stderr, "ssfast-churn: bad --port, --threads or --seconds\n");
    return 2;
  }
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  struct sigaction ra {};
  ra.sa_handler = on_report;
  sigaction(SIGUSR1, &ra, nullptr);
  std::vector<int> listeners;
  std::vector<sockaddr_in> addresses;
  for (long t = 0; t < threads; ++t) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port + t));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int l = listen_on(a);
    if (l < 0) {
      std::fprintf(stderr, "ssfast-churn: listener on port %ld: %s\n", port + t,
                   std::strerror(errno));
      return 1;
    }
    listeners.push_back(l);
    addresses.push_back(a);
  }
  std::printf("ready\n");
  std::fflush(stdout);
  const auto start = std::chrono::steady_clock::now();
  std::vector<tally> made(static_cast<std::size_t>(threads));
  auto total = [&] {
    unsigned long long n = 0;
    for (const tally& t : made) n += t.made.load(std::memory_order_relaxed);
    return n;
  };
  auto since_start = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t < made.size(); ++t)
    pool.emplace_back(churn, listeners[t], addresses[t], std::ref(made[t]));
  while (!stop.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (report.exchange(false))
      std::fprintf(stderr, "at %.3f s: %llu connections\n", since_start(), total());
    if (seconds > 0 && since_start() >= static_cast<double>(seconds)) stop.store(true);
  }
  for (auto& t : pool) t.join();
  const double s = since_start();
  std::fprintf(stderr, "connections %llu in %.1f s (%.0f/s)\n", total(), s,
               static_cast<double>(total()) / s);
  for (const int l : listeners) close(l);
  return 0;
}
