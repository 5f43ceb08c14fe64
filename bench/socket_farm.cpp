// SPDX-License-Identifier: Apache-2.0
// ssfast-socket-farm: holds N established loopback TCP connections (2N sockets) in the current
// network namespace for benchmarks, spread over worker processes because one process may hold
// at most 20,000 descriptors here. Prints "ready N" on stdout when all are connected, then
// holds them until SIGTERM/SIGINT or stdin closes.
//
//   ssfast-socket-farm --connections N [--per-process K] [--family 4|6] [--port-base P]
//                      [--inbound NETNS_PATH ADDRESS]
// Worker w listens on port P+w (default P = 100); farms with disjoint port ranges can share a
// namespace, which is how scripts/bench-compare grows one step by step. With --inbound the
// farm is a server: worker w listens on the IPv4 ADDRESS (one of this namespace's, reachable
// from the other) and its clients connect from the network namespace at NETNS_PATH (a
// /run/netns/NAME or /proc/PID/ns/net), so this namespace holds only N inbound ESTABLISHED
// sockets, none on an ephemeral local port.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "ssfast-socket-farm: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

// The clients of an inbound worker: `n` connections to `to` from the namespace at `netns`,
// held until the worker (their parent) dies.
[[noreturn]] void inbound_clients(const char* netns, const sockaddr_storage& to, socklen_t len,
                                  int n) {
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  const int fd = open(netns, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die(netns);
  if (setns(fd, CLONE_NEWNET) < 0) die("setns");
  close(fd);
  for (int i = 0; i < n; ++i) {
    const int c = socket(to.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c < 0) die("socket");
    if (connect(c, reinterpret_cast<const sockaddr*>(&to), len) < 0) die("connect");
  }
  for (;;) pause();
}

// One worker: a listener on its own port below 1024 (outside the ephemeral range, so client
// ports never collide with it) and `n` connect+accept pairs to it; with `inbound` (a network
// namespace path), the clients are a child process in that namespace and connect to `server`.
void worker(int port_number, int n, int family, int ready_fd, const char* inbound, in_addr server) {
  prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the farm
  const auto port = static_cast<std::uint16_t>(port_number);
  const int l = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (l < 0) die("socket");
  int one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_storage ss{};
  socklen_t len;
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    a->sin_addr.s_addr = inbound != nullptr ? server.s_addr : htonl(INADDR_LOOPBACK);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    a->sin6_addr = in6addr_loopback;
    len = sizeof *a;
  }
  if (bind(l, reinterpret_cast<sockaddr*>(&ss), len) < 0) die("bind");
  if (listen(l, 4096) < 0) die("listen");
  if (inbound != nullptr) {
    const pid_t clients = fork();
    if (clients < 0) die("fork");
    if (clients == 0) inbound_clients(inbound, ss, len, n);
    for (int i = 0; i < n; ++i)  // as they come: the accept queue holds somaxconn at most
      if (accept4(l, nullptr, nullptr, SOCK_CLOEXEC) < 0) die("accept");
    n = 0;
  }
  for (int i = 0; i < n; ++i) {
    const int c = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c < 0) die("socket");
    if (connect(c, reinterpret_cast<sockaddr*>(&ss), len) < 0) die("connect");
    if (accept4(l, nullptr, nullptr, SOCK_CLOEXEC) < 0) die("accept");
  }
  const char ok = 1;
  if (write(ready_fd, &ok, 1) != 1) die("write");
  for (;;) pause();
}

}  // namespace

int main(int argc, char** argv) {
  long connections = 0, per_process = 9000, port_base = 100;
  int family = AF_INET;
  const char* inbound = nullptr;
  in_addr server{};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (a == "--connections" && v)
      connections = std::strtol(argv[++i], nullptr, 10);
    else if (a == "--per-process" && v)
      per_process = std::strtol(argv[++i], nullptr, 10);
    else if (a == "--family" && v)
      family = std::string(argv[++i]) == "6" ? AF_INET6 : AF_INET;
    else if (a == "--port-base" && v)
      port_base = std::strtol(argv[++i], nullptr, 10);
    else if (a == "--inbound" && v && i + 2 < argc) {
      inbound = argv[++i];
      if (inet_pton(AF_INET, argv[++i], &server) != 1) {
        std::fprintf(stderr, "ssfast-socket-farm: --inbound needs an IPv4 address\n");
        return 2;
      }
    } else {
      std::fprintf(stderr,
                   "usage: ssfast-socket-farm --connections N [--per-process K] "
                   "[--family 4|6] [--port-base P] [--inbound NETNS_PATH ADDRESS]\n");
      return 2;
    }
  }
  if (inbound != nullptr && family != AF_INET) {
    std::fprintf(stderr, "ssfast-socket-farm: --inbound is IPv4 only\n");
    return 2;
  }
  // Each worker holds 2 descriptors per connection plus a few; 20,000 is the hard limit here.
  if (connections <= 0 || per_process <= 0 || per_process > 9900) {
    std::fprintf(stderr, "ssfast-socket-farm: need --connections > 0 and --per-process 1..9900\n");
    return 2;
  }
  const long workers = (connections + per_process - 1) / per_process;
  // Listeners stay below 1024, outside the ephemeral range their clients draw from.
  if (port_base < 1 || port_base + workers > 1024) {
    std::fprintf(stderr, "ssfast-socket-farm: listener ports %ld..%ld must stay within 1..1023\n",
                 port_base, port_base + workers - 1);
    return 2;
  }
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);

  int ready[2];
  if (pipe2(ready, O_CLOEXEC) < 0) die("pipe");
  std::vector<pid_t> pids;
  long left = connections;
  for (long w = 0; w < workers; ++w) {
    const long n = left < per_process ? left : per_process;
    left -= n;
    const pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
      close(ready[0]);
      worker(static_cast<int>(port_base + w), static_cast<int>(n), family, ready[1], inbound,
             server);
    }
    pids.push_back(pid);
  }
  close(ready[1]);
  for (long w = 0; w < workers; ++w) {
    char c;
    if (read(ready[0], &c, 1) != 1) {
      std::fprintf(stderr, "ssfast-socket-farm: a worker failed\n");
      for (pid_t p : pids) kill(p, SIGTERM);
      return 1;
    }
  }
  std::printf("ready %ld\n", connections);
  std::fflush(stdout);
  // Hold until told to stop: a signal, or stdin closing (the script's pipe going away).
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  int sig = 0;
  sigwait(&set, &sig);
  for (pid_t p : pids) kill(p, SIGTERM);
  for (pid_t p : pids) waitpid(p, nullptr, 0);
  return 0;
}
