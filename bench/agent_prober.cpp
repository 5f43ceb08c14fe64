// SPDX-License-Identifier: Apache-2.0
// ssfast-agent-prober: load balancers probing an agent, for scripts/bench-compare --agent. C
// threads each connect, optionally send a request (an agent-send line or an HTTP GET), read to
// the close, and start again, for S seconds: as fast as they can, or together at R probes a
// second (each thread paced to R / C). Prints one line: answers, answers per second,
// connections closed or reset with no answer, failures to connect, and the latency of answered
// probes (p50, p99, max, ms).
//
//   ssfast-agent-prober --port P [--http PATH | --send TEXT] [--concurrency C] [--seconds S]
//                       [--rate R]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

struct tally {
  std::vector<double> latencies_ms;
  unsigned long long unanswered = 0, refused = 0;
};

// One probe: true with an answer (some bytes before the close), false if closed or reset
// without one; connect failures are counted apart.
bool probe(std::uint16_t port, const std::string& request, bool& connected) {
  connected = false;
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};  // a probe's timeout: HAProxy's "timeout check" is of this order
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return false;
  }
  connected = true;
  if (!request.empty() && send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
                              static_cast<ssize_t>(request.size())) {
    close(fd);
    return false;
  }
  std::size_t got = 0;
  char buf[4096];
  for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) got += static_cast<std::size_t>(n);
  close(fd);
  return got > 0;
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace

int main(int argc, char** argv) {
  std::uint16_t port = 0;
  std::string request;
  unsigned concurrency = 1;
  double seconds = 10;
  double rate = 0;  // probes a second, all threads together; 0: as fast as they can
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--port")
      port = static_cast<std::uint16_t>(std::atoi(v.c_str()));
    else if (k == "--http")
      request = "GET " + v + " HTTP/1.0\r\n\r\n";
    else if (k == "--send")
      request = v + "\n";
    else if (k == "--concurrency")
      concurrency = static_cast<unsigned>(std::atoi(v.c_str()));
    else if (k == "--seconds")
      seconds = std::atof(v.c_str());
    else if (k == "--rate")
      rate = std::atof(v.c_str());
    else {
      std::fprintf(stderr, "ssfast-agent-prober: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (port == 0 || concurrency == 0 || concurrency > 1000 || !(seconds > 0) || rate < 0) {
    std::fprintf(stderr,
                 "usage: ssfast-agent-prober --port P [--http PATH | --send TEXT] "
                 "[--concurrency C] [--seconds S] [--rate R]\n");
    return 2;
  }
  const auto end = clock_type::now() + std::chrono::duration_cast<clock_type::duration>(
                                           std::chrono::duration<double>(seconds));
  std::vector<tally> tallies(concurrency);
  std::vector<std::thread> threads;
  const auto start = clock_type::now();
  for (unsigned t = 0; t < concurrency; ++t)
    threads.emplace_back([&, t] {
      tally& mine = tallies[t];
      // Paced: thread t probes every C / R seconds, the threads spread over the interval.
      const auto every = std::chrono::duration_cast<clock_type::duration>(
          std::chrono::duration<double>(rate > 0 ? concurrency / rate : 0));
      auto next = clock_type::now() + every * t / concurrency;
      while (clock_type::now() < end) {
        if (rate > 0) {
          std::this_thread::sleep_until(next);
          next += every;
        }
        const auto t0 = clock_type::now();
        bool connected = false;
        if (probe(port, request, connected)) {
          mine.latencies_ms.push_back(
              std::chrono::duration<double, std::milli>(clock_type::now() - t0).count());
        } else if (connected) {
          ++mine.unanswered;
        } else {
          ++mine.refused;
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
      }
    });
  for (auto& th : threads) th.join();
  const double took = std::chrono::duration<double>(clock_type::now() - start).count();
  std::vector<double> all;
  unsigned long long unanswered = 0, refused = 0;
  for (tally& t : tallies) {
    all.insert(all.end(), t.latencies_ms.begin(), t.latencies_ms.end());
    unanswered += t.unanswered;
    refused += t.refused;
  }
  const double p50 = percentile(all, 0.5), p99 = percentile(all, 0.99);
  const double max = all.empty() ? 0 : *std::max_element(all.begin(), all.end());
  std::printf(
      "answers %zu per_s %.0f unanswered %llu refused %llu p50_ms %.2f p99_ms %.2f max_ms %.2f\n",
      all.size(), static_cast<double>(all.size()) / took, unanswered, refused, p50, p99, max);
  return 0;
}
