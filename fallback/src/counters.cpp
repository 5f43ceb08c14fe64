// SPDX-License-Identifier: Apache-2.0
// Parsers for the kernel's counter files (sockstat and snmp forms) and the file reader.
#include "ssfast/proc/counters.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <span>

#include "ssfast/core/error.h"

namespace ssfast::proc {
namespace {

// Splits off the next line (without its '\n'); the last line may lack one.
std::string_view next_line(std::string_view& text) noexcept {
  const std::size_t nl = text.find('\n');
  std::string_view line = text.substr(0, nl);
  text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  return line;
}

// Splits off the next token separated by spaces or tabs (snmp6 aligns with tabs).
std::string_view next_token(std::string_view& s) noexcept {
  const std::size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) {
    s = {};
    return {};
  }
  s.remove_prefix(b);
  const std::size_t e = s.find_first_of(" \t");
  std::string_view tok = s.substr(0, e);
  s.remove_prefix(e == std::string_view::npos ? s.size() : e);
  return tok;
}

bool parse_int(std::string_view tok, std::int64_t& v) noexcept {
  if (tok.empty()) return false;
  auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), v);
  return ec == std::errc{} && p == tok.data() + tok.size();
}

// "GROUP: rest" -> group, rest. False when the line has no ':'.
bool split_group(std::string_view line, std::string_view& group, std::string_view& rest) noexcept {
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  group = line.substr(0, colon);
  rest = line.substr(colon + 1);
  return true;
}

}  // namespace

std::error_code parse_sockstat(std::string_view text, counter_visitor visit, void* ctx) noexcept {
  while (!text.empty()) {
    const std::string_view line = next_line(text);
    if (line.find_first_not_of(' ') == std::string_view::npos) continue;
    std::string_view group, rest;
    if (!split_group(line, group, rest)) return errc::parse_error;
    for (;;) {
      const std::string_view name = next_token(rest);
      if (name.empty()) break;
      std::int64_t v = 0;
      if (!parse_int(next_token(rest), v)) return errc::parse_error;
      visit(ctx, group, name, v);
    }
  }
  return {};
}

std::error_code parse_snmp(std::string_view text, counter_visitor visit, void* ctx) noexcept {
  while (!text.empty()) {
    const std::string_view names_line = next_line(text);
    if (names_line.find_first_not_of(' ') == std::string_view::npos) continue;
    const std::string_view values_line = next_line(text);
    std::string_view group, names, vgroup, values;
    if (!split_group(names_line, group, names) || !split_group(values_line, vgroup, values) ||
        group != vgroup)
      return errc::parse_error;
    for (;;) {
      const std::string_view name = next_token(names);
      const std::string_view value = next_token(values);
      if (name.empty() != value.empty()) return errc::parse_error;  // column counts differ
      if (name.empty()) break;
      std::int64_t v = 0;
      if (!parse_int(value, v)) return errc::parse_error;
      visit(ctx, group, name, v);
    }
  }
  return {};
}

std::error_code parse_snmp6(std::string_view text, counter_visitor visit, void* ctx) noexcept {
  static constexpr std::string_view groups[] = {"UdpLite6", "Icmp6", "Udp6", "Ip6"};
  while (!text.empty()) {
    std::string_view line = next_line(text);
    const std::string_view name = next_token(line);
    if (name.empty()) continue;
    std::int64_t v = 0;
    if (!parse_int(next_token(line), v) || !next_token(line).empty()) return errc::parse_error;
    std::string_view group = "Ip6", field = name;
    for (std::string_view g : groups) {
      if (name.starts_with(g) && name.size() > g.size()) {
        group = g;
        field = name.substr(g.size());
        break;
      }
    }
    visit(ctx, group, field, v);
  }
  return {};
}

namespace {

struct counter_file {
  std::string_view path;
  bool optional;  // absent on some kernels (no IPv6, no netstat)
  std::error_code (*parse)(std::string_view, counter_visitor, void*) noexcept;
};

// Reads and parses each file in turn; `failed` names the first that fails.
std::error_code read_counter_files(file_reader& files, std::span<const counter_file> list,
                                   counter_visitor visit, void* ctx,
                                   std::string_view& failed) noexcept {
  for (const counter_file& f : list) {
    std::string_view text;
    std::error_code ec = files.read(f.path, text);
    if (ec == std::errc::no_such_file_or_directory && f.optional) continue;
    if (!ec) ec = f.parse(text, visit, ctx);
    if (ec) {
      failed = f.path;
      return ec;
    }
  }
  return {};
}

}  // namespace

std::error_code read_all_counters(file_reader& files, std::vector<named_counter>& out,
                                  std::string_view& failed) {
  out.clear();
  auto visit = [](void* ctx, std::string_view g, std::string_view n, std::int64_t v) {
    auto& list = *static_cast<std::vector<named_counter>*>(ctx);
    std::string name;
    name.reserve(g.size() + 1 + n.size());
    name.append(g).append(".").append(n);
    list.push_back({std::move(name), v});
  };
  static constexpr counter_file list[] = {
      {"net/snmp", false, parse_snmp},         {"net/netstat", true, parse_snmp},
      {"net/snmp6", true, parse_snmp6},        {"net/sockstat", false, parse_sockstat},
      {"net/sockstat6", true, parse_sockstat},
  };
  return read_counter_files(files, list, visit, &out, failed);
}

void assign_counter(kernel_counters& out, std::string_view group, std::string_view name,
                    std::int64_t value) noexcept {
  for (const kernel_counter_field& e : kernel_counter_fields) {
    if (e.group == group && e.name == name) {
      out.*e.field = value;
      return;
    }
  }
}

file_reader::file_reader(std::string proc_root) : root_(std::move(proc_root)) {
  buf_.resize(16384);
}

std::error_code file_reader::open_file(std::string_view relative, int& fd) noexcept {
  try {
    path_.assign(root_);
    path_.push_back('/');
    path_.append(relative);
  } catch (const std::bad_alloc&) {
    return std::make_error_code(std::errc::not_enough_memory);
  }
  // O_NONBLOCK: a FIFO or a device planted under a --proc-root must not hang the open; then
  // only a regular file is read (every /proc file is one, of st_size 0), never /dev/zero.
  fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return errno_code(errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    fd = -1;
    return errc::not_a_regular_file;
  }
  return {};
}

std::error_code file_reader::stream(std::string_view relative, chunk_fn fn, void* ctx) noexcept {
  constexpr std::size_t chunk = 65536;
  if (buf_.size() < chunk) {
    try {
      buf_.resize(chunk);
    } catch (const std::bad_alloc&) {
      return std::make_error_code(std::errc::not_enough_memory);
    }
  }
  int fd = -1;
  if (auto ec = open_file(relative, fd)) return ec;
  std::error_code ec;
  for (;;) {
    const ssize_t n = ::read(fd, buf_.data(), chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      ec = errno_code(errno);
      break;
    }
    if (n == 0) break;
    if ((ec = fn(ctx, std::string_view(buf_.data(), static_cast<std::size_t>(n))))) break;
  }
  ::close(fd);
  return ec;
}

std::error_code file_reader::read(std::string_view relative, std::string_view& text) noexcept {
  int fd = -1;
  if (auto ec = open_file(relative, fd)) return ec;
  std::size_t used = 0;
  for (;;) {
    if (used >= max_counter_file) {  // a counter file is a few KiB; this is not one
      ::close(fd);
      return std::make_error_code(std::errc::file_too_large);
    }
    if (used == buf_.size()) {
      try {
        buf_.resize(buf_.size() * 2);
      } catch (const std::bad_alloc&) {
        ::close(fd);
        return std::make_error_code(std::errc::not_enough_memory);
      }
    }
    const ssize_t n = ::read(fd, buf_.data() + used, buf_.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      return errno_code(e);
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  ::close(fd);
  text = std::string_view(buf_.data(), used);
  return {};
}

std::error_code read_kernel_counters(file_reader& files, kernel_counters& out,
                                     std::string_view& failed) noexcept {
  out = kernel_counters{};
  auto visit = [](void* ctx, std::string_view g, std::string_view n, std::int64_t v) {
    assign_counter(*static_cast<kernel_counters*>(ctx), g, n, v);
  };
  static constexpr counter_file list[] = {
      {"net/sockstat", false, parse_sockstat},
      {"net/sockstat6", true, parse_sockstat},
      {"net/snmp", false, parse_snmp},
  };
  return read_counter_files(files, list, visit, &out, failed);
}

}  // namespace ssfast::proc
