// SPDX-License-Identifier: Apache-2.0
// Test support: a private network namespace holding real sockets in every TCP state reachable
// on loopback (IPv4 and IPv6), plus UDP and UNIX sockets, with the counts known by construction.
#pragma once

#include <sys/socket.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "ssfast/core/socket_summary.h"
#include "ssfast/core/state_counts.h"

namespace ssfast::testing {

/// Moves the calling process into a new, empty network namespace with loopback up. Returns an
/// empty string on success, else why it could not (not root, unshare denied, ...).
std::string enter_private_netns();

/// File descriptors closed on destruction.
class fd_set_guard {
 public:
  fd_set_guard() = default;
  fd_set_guard(const fd_set_guard&) = delete;
  fd_set_guard& operator=(const fd_set_guard&) = delete;
  ~fd_set_guard();
  int hold(int fd);
  /// Closes one held descriptor now.
  void close_one(int fd);
  void close_all();

 private:
  std::vector<int> fds_;
};

/// What the scenario holds, by construction.
struct scenario_counts {
  std::array<state_counts, 2> tcp;  ///< per family, kernel state bytes (SYN_RECV = 3)
  std::array<state_counts, 2> udp;
  std::array<std::uint64_t, 8> unix_by_type{};  ///< by SOCK_* type
  std::uint64_t unix_listening = 0;
};

/// A loopback address (127.0.0.1 or ::1) and port of `family`, as bind() and connect() take it.
struct endpoint {
  int family;
  sockaddr_storage addr{};
  socklen_t len = 0;
};
endpoint loopback(int family, std::uint16_t port);

/// The local port a socket is bound to. Throws std::runtime_error on failure, as all below.
std::uint16_t local_port(int fd);

/// A TCP listener on `family`'s loopback, an ephemeral port (IPv6: IPV6_V6ONLY), held by `g`.
struct listener {
  int fd;
  std::uint16_t port;
};
listener tcp_listen(fd_set_guard& g, int family, int backlog);

/// A client connected to `port` on `family`'s loopback (with `nonblocking`, connecting), held
/// by `g`; `rcvbuf` > 0 sets SO_RCVBUF before the handshake.
int tcp_connect(fd_set_guard& g, int family, std::uint16_t port, int rcvbuf = 0,
                bool nonblocking = false);

/// The next connection of listener `lfd` (waiting up to 3 s), held by `g`.
int accept_one(fd_set_guard& g, int lfd);

/// Waits (bounded: 30 s) until the socket is in state `s` (TCP_INFO).
void wait_state(int fd, tcp_state s);

/// One listener and `pairs` established connections over loopback in `family`: 2*pairs
/// ESTABLISHED sockets and 1 LISTEN. Uses 2*pairs+1 descriptors.
void build_established(fd_set_guard& fds, int family, int pairs);

/// The counts build_scenario creates, as documented below (build_scenario checks that it
/// really built this).
scenario_counts expected_scenario();

/// Builds every scenario below in the current namespace and waits until each socket that has a
/// descriptor is in its state (TCP_INFO). Throws std::runtime_error with a reason on failure.
///
/// Per family (127.0.0.1 / ::1), TCP:
///   LISTEN 3, ESTABLISHED 8, SYN_SENT 2, SYN_RECV 1, FIN_WAIT1 1, FIN_WAIT2 3, TIME_WAIT 1,
///   CLOSE_WAIT 1, LAST_ACK 1, CLOSING 1; plus a bound-only socket that no dump lists.
/// Mapped: a dual-stack [::] listener accepting one IPv4 client: IPv6 LISTEN 1 and
///   ESTABLISHED 1 (the accepted socket is AF_INET6), IPv4 ESTABLISHED 1 (the client).
/// UDP per family: 2 bound (unconnected, CLOSE), 1 connected (ESTABLISHED).
/// UNIX: stream listener + connected pair + socketpair (5), dgram socketpair + unbound (3),
///   seqpacket socketpair (2).
scenario_counts build_scenario(fd_set_guard& fds);

/// What a finished child process left behind.
struct process_result {
  int exit_code = -1;  ///< -1 if it did not exit normally
  std::string out, err;
};

/// How the child of run_process starts.
struct child_setup {
  int as_uid = -1;               ///< >= 0: drop to this uid and gid before exec
  bool deny_netlink = false;     ///< a seccomp filter makes socket(AF_NETLINK, ...) fail EACCES,
                                 ///< as a container's policy would (x86-64 only)
  std::vector<std::string> env;  ///< extra NAME=VALUE entries
  /// Killed (SIGKILL) past this, and run_process throws: no test waits forever on a child.
  std::chrono::milliseconds timeout = std::chrono::seconds(120);
};

/// Runs argv (PATH search) to completion, capturing stdout and stderr. Throws
/// std::runtime_error if it cannot start.
process_result run_process(const std::vector<std::string>& argv, const child_setup& setup = {});

/// True where deny_netlink can work (x86-64 with seccomp filters).
bool can_deny_netlink();

/// Processes a test started and left running, ended: every process in the caller's network
/// namespace but the caller (when that namespace is a private one, as in the live fixtures;
/// a tmux server or a pane's command is not the caller's child) and every child of the caller.
/// Waits up to `grace` for them to end on their own, then kills (SIGKILL) and reaps those left
/// and returns one line for each ("PID COMM: CMDLINE"): a test that leaves any has failed.
std::vector<std::string> end_leftover_processes(
    std::chrono::milliseconds grace = std::chrono::seconds(10));

/// Runs a command, returning its stdout; throws if it cannot run or exits non-zero.
std::string run_command(const std::vector<std::string>& argv);

/// True if an executable of that name is on PATH.
bool have_program(const char* name);

/// The kernel state byte for one of ss's state names (ESTAB, SYN-RECV, UNCONN, ...); throws on
/// a name ss does not print.
std::uint8_t ss_state_byte(const std::string& name);

/// TCP state counts as `ss -tanH` (with -4 or -6) lists them; UDP likewise with -uanH.
state_counts ss_inet_states(const char* proto_flag, const char* family_flag);

/// UNIX socket counts as `ss -xanH` lists them.
unix_counts ss_unix_counts();

}  // namespace ssfast::testing
