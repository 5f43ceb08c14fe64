// SPDX-License-Identifier: Apache-2.0
// IP address text.
#include "ssfast/core/addresses.h"

#include <charconv>
#include <cstring>
#include <span>
#include <string_view>

#include "ssfast/core/kernel_abi.h"

namespace ssfast {

bool parse_ipv4(std::string_view s, address_bytes& out) noexcept {
  out = {};
  for (int i = 0; i < 4; ++i) {
    if (i > 0) {
      if (s.empty() || s.front() != '.') return false;
      s.remove_prefix(1);
    }
    unsigned v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    const auto digits = static_cast<std::size_t>(end - s.data());
    if (ec != std::errc{} || digits == 0 || digits > 3 || v > 255) return false;
    out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v);
    s.remove_prefix(digits);
  }
  return s.empty();
}

bool parse_ipv6(std::string_view s, address_bytes& out) noexcept {
  out = {};
  std::uint8_t head[16] = {}, tail[16] = {};
  std::size_t nhead = 0, ntail = 0;
  bool gap = false;
  if (s.starts_with("::")) {
    gap = true;
    s.remove_prefix(2);
  }
  while (!s.empty()) {
    std::uint8_t* buf = gap ? tail : head;
    std::size_t& n = gap ? ntail : nhead;
    // A dotted-quad tail fills the last 32 bits.
    const std::size_t colon = s.find(':');
    const std::string_view group = s.substr(0, colon);
    if (group.find('.') != std::string_view::npos) {
      address_bytes v4;
      if (colon != std::string_view::npos || n + 4 > 16 || !parse_ipv4(group, v4)) return false;
      for (int i = 0; i < 4; ++i) buf[n++] = v4[static_cast<std::size_t>(i)];
      s = {};
      break;
    }
    unsigned v = 0;
    auto [end, ec] = std::from_chars(group.data(), group.data() + group.size(), v, 16);
    if (group.empty() || group.size() > 4 || ec != std::errc{} ||
        end != group.data() + group.size() || n + 2 > 16)
      return false;
    buf[n++] = static_cast<std::uint8_t>(v >> 8);
    buf[n++] = static_cast<std::uint8_t>(v & 0xFF);
    s.remove_prefix(group.size());
    if (s.starts_with("::")) {
      if (gap) return false;  // only one "::"
      gap = true;
      s.remove_prefix(2);
    } else if (s.starts_with(':')) {
      s.remove_prefix(1);
      if (s.empty()) return false;  // a trailing single ':'
    }
  }
  if (gap ? nhead + ntail > 14 : nhead != 16) return false;
  for (std::size_t i = 0; i < nhead; ++i) out[i] = head[i];
  for (std::size_t i = 0; i < ntail; ++i) out[16 - ntail + i] = tail[i];
  return true;
}

namespace {

// Where address text goes: a std::string that grows, or a fixed buffer that never does.
struct fixed_text {
  std::span<char> buf;
  std::size_t n = 0;
  bool overflow = false;
  void push_back(char c) noexcept {
    if (n < buf.size())
      buf[n++] = c;
    else
      overflow = true;
  }
  void append(const char* b, const char* e) noexcept {
    for (; b != e; ++b) push_back(*b);
  }
  void operator+=(std::string_view s) noexcept { append(s.data(), s.data() + s.size()); }
};

template <class Out>
void write_number(Out& out, unsigned v, int base = 10) {
  char buf[12];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, base);
  out.append(buf, end);
}

template <class Out>
void write_address(Out& out, std::uint8_t family, const address_bytes& a) {
  auto dotted = [&](std::size_t from) {
    for (std::size_t i = 0; i < 4; ++i) {
      if (i > 0) out.push_back('.');
      write_number(out, a[from + i]);
    }
  };
  if (family == abi::af_inet) {
    dotted(0);
    return;
  }
  if (is_v4_mapped(a)) {
    out += "::ffff:";
    dotted(12);
    return;
  }
  std::uint16_t g[8];
  for (std::size_t i = 0; i < 8; ++i)
    g[i] = static_cast<std::uint16_t>(a[2 * i] << 8 | a[2 * i + 1]);
  // The longest run of two or more zero groups (the first, on a tie) becomes "::".
  std::size_t best = 8, best_len = 0;
  for (std::size_t i = 0; i < 8;) {
    std::size_t j = i;
    while (j < 8 && g[j] == 0) ++j;
    if (j - i > best_len && j - i >= 2) {
      best = i;
      best_len = j - i;
    }
    i = j == i ? i + 1 : j;
  }
  for (std::size_t i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (i > 0 && i != best + best_len) out.push_back(':');
    write_number(out, g[i], 16);
  }
}

template <class Out>
void write_endpoint(Out& out, std::uint8_t family, const address_bytes& a, std::uint16_t port,
                    bool zero_port_as_star) {
  if (family == abi::af_inet6) out.push_back('[');  // brackets, as in ss
  write_address(out, family, a);
  if (family == abi::af_inet6) out.push_back(']');
  out.push_back(':');
  if (zero_port_as_star && port == 0) {
    out.push_back('*');
    return;
  }
  write_number(out, port);
}

}  // namespace

void append_address(std::string& out, std::uint8_t family, const address_bytes& a) {
  write_address(out, family, a);
}

void append_endpoint(std::string& out, std::uint8_t family, const address_bytes& a,
                     std::uint16_t port, bool zero_port_as_star) {
  write_endpoint(out, family, a, port, zero_port_as_star);
}

std::size_t format_endpoint(std::span<char> out, std::uint8_t family, const address_bytes& a,
                            std::uint16_t port) noexcept {
  if (out.empty()) return 0;
  fixed_text t{out.first(out.size() - 1)};
  write_endpoint(t, family, a, port, false);
  out[t.n] = '\0';
  return t.n;
}

std::string endpoint_text(std::uint8_t family, const address_bytes& a, std::uint16_t port) {
  std::string s;
  append_endpoint(s, family, a, port, false);
  return s;
}

bool prefix_match(const std::uint8_t* a, const std::uint8_t* b, unsigned bits) noexcept {
  const unsigned whole = bits / 8, rest = bits % 8;
  if (std::memcmp(a, b, whole) != 0) return false;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

}  // namespace ssfast
