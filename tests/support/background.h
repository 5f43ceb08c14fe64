// SPDX-License-Identifier: Apache-2.0
// Long-running children for live tests (the exporter, the agent, haproxy) and a blocking
// loopback TCP client with deadlines, so no test can hang.
#pragma once

#include <stdlib.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace ssfast::testing {

/// A directory under /tmp for one test's files, removed with everything in it when the test
/// ends, however it ends (a failed ASSERT returns early).
class scratch_dir {
 public:
  explicit scratch_dir(const char* prefix) : path_(std::string("/tmp/") + prefix + "-XXXXXX") {
    if (mkdtemp(path_.data()) == nullptr) path_.clear();
  }
  ~scratch_dir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  bool made() const { return !path_.empty(); }
  const std::string& path() const { return path_; }
  std::string operator/(const char* name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// A child process (PATH search) whose stderr the test reads; stdout goes to /dev/null.
/// Stopped (SIGTERM, then SIGKILL after a second) when destroyed.
class background_process {
 public:
  explicit background_process(const std::vector<std::string>& argv);
  ~background_process();
  background_process(const background_process&) = delete;
  background_process& operator=(const background_process&) = delete;

  pid_t pid() const noexcept { return pid_; }

  /// Reads stderr until a line containing `needle` (returned, without the newline), or
  /// throws with everything read so far after `timeout` or if the child exits.
  std::string wait_for_line(std::string_view needle,
                            std::chrono::milliseconds timeout = std::chrono::seconds(10));

  /// The port of a "listening on ADDR:PORT" line.
  std::uint16_t wait_for_listening_port();

  /// The ports of the first `n` "listening on ADDR:PORT" lines, in the order said.
  std::vector<std::uint16_t> wait_for_listening_ports(std::size_t n);

  /// Whatever stderr holds now (non-blocking), appended to what wait_for_line kept.
  std::string stderr_text();

  /// Open file descriptors of the child (/proc/PID/fd).
  std::size_t open_fds() const;

  /// SIGTERM and reap; returns the exit status (-1: killed by a signal).
  int stop();

  /// Waits for the child to exit on its own and reaps it: its exit status (-1: killed by a
  /// signal). Throws, with what it said on stderr, if it is still running after `timeout`.
  int wait_exit(std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  void read_available(int timeout_ms);
  pid_t pid_ = -1;
  int err_fd_ = -1;
  std::string err_;
  bool exited_ = false;
};

/// A TCP connection to 127.0.0.1:port (blocking, SO_RCVTIMEO/SO_SNDTIMEO as deadlines), from
/// the loopback address `from` when given (a peer of its own), with a receive buffer of
/// `rcvbuf` bytes when given (a client that takes its answers slowly).
class tcp_client {
 public:
  explicit tcp_client(std::uint16_t port,
                      std::chrono::milliseconds timeout = std::chrono::seconds(5),
                      const char* from = nullptr, int rcvbuf = 0);
  ~tcp_client();
  tcp_client(const tcp_client&) = delete;
  tcp_client& operator=(const tcp_client&) = delete;

  int fd() const noexcept { return fd_; }
  /// Sends everything; false if the peer closed or the deadline passed.
  bool send(std::string_view data);
  /// Reads until the peer closes (true) or the deadline passes (false); data in `out`.
  bool read_to_close(std::string& out);
  /// Reads one HTTP/1.1 response (head and Content-Length body, no body after a HEAD
  /// request) into `out`; false on EOF or timeout first.
  bool read_http_response(std::string& out, bool head_request = false);
  void close();

 private:
  int fd_ = -1;
  std::string pending_;  // bytes read past the last response
};

/// A TCP listener on 127.0.0.1:port (SO_REUSEADDR; TCP_DEFER_ACCEPT when given, which keeps
/// handshakes half-open until data comes). Returns the descriptor; throws if it cannot.
int listen_loopback(std::uint16_t port, int backlog, int defer_accept_s = 0);

/// A TCP socket connected (blocking) or connecting (`wait` false: non-blocking, the SYN sent)
/// to the IPv4 address `to`:port, bound first to `from` when given. Returns the descriptor;
/// throws if it cannot.
int connect_tcp(const char* to, std::uint16_t port, const char* from = nullptr, bool wait = true);

/// The status code of an HTTP response, its header value (case-insensitive name, "" when
/// absent), and its body.
int http_status(std::string_view response);
std::string http_header(std::string_view response, std::string_view name);
std::string_view http_body(std::string_view response);

}  // namespace ssfast::testing
