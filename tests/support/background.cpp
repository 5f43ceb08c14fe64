// SPDX-License-Identifier: Apache-2.0
// Background children and a deadline-bound TCP client for live tests.
#include "support/background.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace ssfast::testing {

background_process::background_process(const std::vector<std::string>& argv) {
  int err_pipe[2];
  if (pipe2(err_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    const int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(err_pipe[1], 2);
    execvp(args[0], args.data());
    _exit(127);
  }
  ::close(err_pipe[1]);
  err_fd_ = err_pipe[0];
}

background_process::~background_process() {
  stop();
  if (err_fd_ >= 0) ::close(err_fd_);
}

void background_process::read_available(int timeout_ms) {
  pollfd p{err_fd_, POLLIN, 0};
  if (err_fd_ < 0 || poll(&p, 1, timeout_ms) <= 0) return;
  char buf[4096];
  const ssize_t n = ::read(err_fd_, buf, sizeof buf);
  if (n > 0) {
    err_.append(buf, static_cast<std::size_t>(n));
  } else if (n == 0) {
    ::close(err_fd_);
    err_fd_ = -1;  // the child closed stderr: it has exited
  }
}

std::string background_process::wait_for_line(std::string_view needle,
                                              std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t searched = 0;
  for (;;) {
    for (std::size_t nl; (nl = err_.find('\n', searched)) != std::string::npos;) {
      const std::string line = err_.substr(searched, nl - searched);
      searched = nl + 1;
      if (line.find(needle) != std::string::npos) return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || err_fd_ < 0)
      throw std::runtime_error("no line with '" + std::string(needle) +
                               "' from the child; it said: " + err_);
    read_available(static_cast<int>(left.count()));
  }
}

std::uint16_t background_process::wait_for_listening_port() {
  const std::string line = wait_for_line("listening on ");
  return static_cast<std::uint16_t>(std::stoul(line.substr(line.rfind(':') + 1)));
}

std::vector<std::uint16_t> background_process::wait_for_listening_ports(std::size_t n) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    std::vector<std::uint16_t> ports;
    for (std::size_t at = 0; (at = err_.find("listening on ", at)) != std::string::npos;) {
      const std::size_t nl = err_.find('\n', at);
      if (nl == std::string::npos) break;
      const std::string line = err_.substr(at, nl - at);
      ports.push_back(static_cast<std::uint16_t>(std::stoul(line.substr(line.rfind(':') + 1))));
      at = nl;
    }
    if (ports.size() >= n) return ports;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || err_fd_ < 0)
      throw std::runtime_error("fewer than " + std::to_string(n) +
                               " listening lines from the child; it said: " + err_);
    read_available(static_cast<int>(left.count()));
  }
}

std::string background_process::stderr_text() {
  read_available(0);
  return err_;
}

std::size_t background_process::open_fds() const {
  std::size_t n = 0;
  DIR* d = opendir(("/proc/" + std::to_string(pid_) + "/fd").c_str());
  if (d == nullptr) return 0;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') ++n;
  closedir(d);
  return n;
}

int background_process::wait_exit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (!exited_) {
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exited_ = true;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    if (std::chrono::steady_clock::now() >= deadline)
      throw std::runtime_error("the child did not exit; it said: " + stderr_text());
    read_available(10);  // keeps its stderr from filling the pipe meanwhile
  }
  return -1;
}

int background_process::stop() {
  if (pid_ <= 0 || exited_) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 100; ++i) {
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exited_ = true;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  exited_ = true;
  return -1;
}

tcp_client::tcp_client(std::uint16_t port, std::chrono::milliseconds timeout, const char* from,
                       int rcvbuf) {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error("socket failed");
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  // Before connect: the window the handshake offers follows the receive buffer.
  if (rcvbuf > 0) setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  if (from != nullptr) {
    sockaddr_in src{};
    src.sin_family = AF_INET;
    if (inet_pton(AF_INET, from, &src.sin_addr) != 1 ||
        bind(fd_, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0)
      throw std::runtime_error(std::string("bind to ") + from + ": " + std::strerror(errno));
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    throw std::runtime_error("connect to port " + std::to_string(port) + ": " +
                             std::strerror(errno));
}

tcp_client::~tcp_client() { close(); }

void tcp_client::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool tcp_client::send(std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool tcp_client::read_to_close(std::string& out) {
  out += pending_;
  pending_.clear();
  char buf[65536];
  for (;;) {
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;  // closed too, abruptly; EAGAIN: the deadline
    out.append(buf, static_cast<std::size_t>(n));
  }
}

bool tcp_client::read_http_response(std::string& out, bool head_request) {
  std::string buf = std::move(pending_);
  pending_.clear();
  char chunk[65536];
  for (;;) {
    const std::size_t head_end = buf.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      const std::string len =
          http_header(std::string_view(buf).substr(0, head_end + 4), "Content-Length");
      const std::size_t total = head_end + 4 + (len.empty() || head_request ? 0 : std::stoul(len));
      if (buf.size() >= total) {
        out = buf.substr(0, total);
        pending_ = buf.substr(total);
        return true;
      }
    }
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
      out = buf;
      return false;
    }
    buf.append(chunk, static_cast<std::size_t>(n));
  }
}

namespace {

sockaddr_in ipv4(const char* ip, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (inet_pton(AF_INET, ip, &a.sin_addr) != 1)
    throw std::runtime_error(std::string("not an IPv4 address: ") + ip);
  return a;
}

}  // namespace

int listen_loopback(std::uint16_t port, int backlog, int defer_accept_s) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (defer_accept_s > 0)
    setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_accept_s, sizeof defer_accept_s);
  const sockaddr_in a = ipv4("127.0.0.1", port);
  if (fd < 0 || bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 ||
      listen(fd, backlog) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot listen on " + std::to_string(port));
  }
  return fd;
}

int connect_tcp(const char* to, std::uint16_t port, const char* from, bool wait) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (wait ? 0 : SOCK_NONBLOCK), 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  if (from != nullptr) {
    const sockaddr_in src = ipv4(from, 0);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&src), sizeof src) != 0) {
      ::close(fd);
      throw std::runtime_error(std::string("cannot bind to ") + from);
    }
  }
  const sockaddr_in a = ipv4(to, port);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 &&
      (wait || errno != EINPROGRESS)) {
    const int e = errno;
    ::close(fd);
    throw std::runtime_error(std::string("connect to ") + to + ":" + std::to_string(port) + ": " +
                             std::strerror(e));
  }
  return fd;
}

int http_status(std::string_view response) {
  if (!response.starts_with("HTTP/1.1 ") || response.size() < 12) return -1;
  return std::stoi(std::string(response.substr(9, 3)));
}

std::string http_header(std::string_view response, std::string_view name) {
  const std::size_t head_end = response.find("\r\n\r\n");
  std::string_view head = response.substr(0, head_end);
  std::size_t pos = head.find("\r\n");
  while (pos != std::string_view::npos) {
    const std::size_t start = pos + 2;
    const std::size_t end = head.find("\r\n", start);
    const std::string_view line = head.substr(start, end - start);
    const std::size_t colon = line.find(':');
    if (colon == name.size() && strncasecmp(line.data(), name.data(), name.size()) == 0) {
      std::string_view v = line.substr(colon + 1);
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      return std::string(v);
    }
    pos = end;
  }
  return {};
}

std::string_view http_body(std::string_view response) {
  const std::size_t head_end = response.find("\r\n\r\n");
  return head_end == std::string_view::npos ? std::string_view{} : response.substr(head_end + 4);
}

}  // namespace ssfast::testing
