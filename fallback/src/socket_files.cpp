// SPDX-License-Identifier: Apache-2.0
// Parsing /proc/net socket files. The layouts are the kernel's seq_printf formats:
//   tcp/udp (net/ipv4/tcp_ipv4.c get_tcp4_sock, udp.c udp4_format_sock; ipv6 likewise):
//     "%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08lX %08X %5u %8d %lu ..."
//     addresses are the in-memory words printed as host-order hex; ports are host order.
//   unix (net/unix/af_unix.c unix_seq_show):
//     "%pK: %08X %08X %08X %04X %02X %5lu[ path]"
//   raw (net/ipv4/raw.c raw_sock_seq_show, ipv6 likewise): udp's layout, the local port
//     column holding the IP protocol (inet_num)
//   packet (net/packet/af_packet.c packet_seq_show):
//     "%pK %-6d %-4d %04x   %-5d %1d %-6u %-6u %-6lu"  sk RefCnt Type Proto Iface R Rmem User Inode
//   netlink (net/netlink/af_netlink.c netlink_seq_show):
//     "%pK %-3d %-10u %08x %-8d %-8d %-5d %-8d %-8u %-8lu"
//     sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
// "sl" widens past 9999 and %pK's width varies, so fields are located from the first ':'.
#include "ssfast/proc/socket_files.h"

#include <cstring>
#include <new>

#include "ssfast/core/error.h"
#include "ssfast/core/kernel_abi.h"

namespace ssfast::proc {
namespace {

constexpr std::uint8_t tcp_established = 1, tcp_close = 7, tcp_listen = 10;
using abi::af_inet;
using abi::af_inet6;
using abi::af_unix;
using abi::ipproto_raw;
using abi::ipproto_tcp;
using abi::ipproto_udp;
using abi::sock_dgram;
using abi::sock_stream;
constexpr std::uint32_t so_acceptcon = 0x10000;  // __SO_ACCEPTCON: a listening UNIX socket
constexpr std::uint8_t ss_connecting = 2, ss_connected = 3;

// 0..15 for hex digits, 0x80 otherwise (upper and lower case).
constexpr std::array<std::uint8_t, 256> hex_table = [] {
  std::array<std::uint8_t, 256> t{};
  for (auto& v : t) v = 0x80;
  for (int c = 0; c < 10; ++c) t['0' + c] = static_cast<std::uint8_t>(c);
  for (int c = 0; c < 6; ++c) {
    t['A' + c] = static_cast<std::uint8_t>(10 + c);
    t['a' + c] = static_cast<std::uint8_t>(10 + c);
  }
  return t;
}();

// Fixed-width hex (n <= 8) at p; false on a non-hex character.
bool hex_at(const char* p, std::size_t n, std::uint32_t& v) noexcept {
  std::uint32_t x = 0;
  std::uint8_t bad = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t d = hex_table[static_cast<unsigned char>(p[i])];
    bad |= d;
    x = x << 4 | (d & 15u);
  }
  v = x;
  return (bad & 0x80) == 0;
}

// Variable-width hex (%lX), up to 16 digits.
bool hex_u64(std::string_view t, std::uint64_t& v) noexcept {
  if (t.empty() || t.size() > 16) return false;
  std::uint64_t x = 0;
  for (char c : t) {
    const std::uint8_t d = hex_table[static_cast<unsigned char>(c)];
    if (d & 0x80) return false;
    x = x << 4 | d;
  }
  v = x;
  return true;
}

// The next space-separated token of s at or after pos.
std::string_view token(std::string_view s, std::size_t& pos) noexcept {
  while (pos < s.size() && s[pos] == ' ') ++pos;
  const std::size_t b = pos;
  while (pos < s.size() && s[pos] != ' ') ++pos;
  return s.substr(b, pos - b);
}

template <class T>
bool decimal(std::string_view t, T& v) noexcept {
  if (t.empty() || t.size() > 20) return false;
  std::uint64_t x = 0;
  for (char c : t) {
    if (c < '0' || c > '9') return false;
    const std::uint64_t next = x * 10 + static_cast<std::uint64_t>(c - '0');
    if (next / 10 != x) return false;  // overflow
    x = next;
  }
  if (x > static_cast<std::uint64_t>(static_cast<T>(~T{0}))) return false;
  v = static_cast<T>(x);
  return true;
}

bool is_v6(socket_file f) noexcept {
  return f == socket_file::tcp6 || f == socket_file::udp6 || f == socket_file::raw6;
}

// Offsets from the first ':' of an inet line, for an address of `a` hex digits.
struct inet_layout {
  std::size_t a;
  std::size_t laddr() const { return 2; }
  std::size_t lport() const { return 3 + a; }
  std::size_t paddr() const { return 8 + a; }
  std::size_t pport() const { return 9 + 2 * a; }
  std::size_t state() const { return 14 + 2 * a; }
  std::size_t txq() const { return 17 + 2 * a; }
  std::size_t rxq() const { return 26 + 2 * a; }
  std::size_t rest() const { return 34 + 2 * a; }  // the space after rx_queue
};

// Checks the separators that fix every field's position up to rx_queue, and reads the state.
bool inet_frame(std::string_view l, const inet_layout& lay, std::size_t& c,
                std::uint8_t& state) noexcept {
  c = l.find(':');
  if (c == std::string_view::npos || l.size() <= c + lay.rest()) return false;
  const char* p = l.data() + c;
  if (p[1] != ' ' || p[lay.lport() - 1] != ':' || p[lay.paddr() - 1] != ' ' ||
      p[lay.pport() - 1] != ':' || p[lay.state() - 1] != ' ' || p[lay.txq() - 1] != ' ' ||
      p[lay.rxq() - 1] != ':' || p[lay.rest()] != ' ')
    return false;
  std::uint32_t s = 0;
  if (!hex_at(p + lay.state(), 2, s) || s >= state_slots) return false;
  state = static_cast<std::uint8_t>(s);
  return true;
}

// Address words as the kernel printed them: each 32-bit word's in-memory bytes are the
// host-order representation of the printed value.
bool address_at(const char* p, std::size_t digits, address_bytes& out) noexcept {
  for (std::size_t w = 0; w < digits / 8; ++w) {
    std::uint32_t v = 0;
    if (!hex_at(p + 8 * w, 8, v)) return false;
    std::memcpy(out.data() + 4 * w, &v, 4);
  }
  return true;
}

bool inet_row(std::string_view l, socket_file f, socket_row& r) noexcept {
  const inet_layout lay{is_v6(f) ? 32u : 8u};
  std::size_t c = 0;
  if (!inet_frame(l, lay, c, r.state)) return false;
  const char* p = l.data() + c;
  std::uint32_t lport = 0, pport = 0;
  if (!address_at(p + lay.laddr(), lay.a, r.local_addr) || !hex_at(p + lay.lport(), 4, lport) ||
      !address_at(p + lay.paddr(), lay.a, r.peer_addr) || !hex_at(p + lay.pport(), 4, pport) ||
      !hex_at(p + lay.txq(), 8, r.send_q) || !hex_at(p + lay.rxq(), 8, r.recv_q))
    return false;
  r.local_port = static_cast<std::uint16_t>(lport);
  r.peer_port = static_cast<std::uint16_t>(pport);
  r.family = is_v6(f) ? af_inet6 : af_inet;
  // /proc does not say IPV6_V6ONLY: ss then takes an IPv6 wildcard for dual-stack ("*"), as
  // netlink rows without INET_DIAG_SKV6ONLY.
  r.dual_stack = is_v6(f);
  const bool tcp = f == socket_file::tcp || f == socket_file::tcp6;
  const bool raw = f == socket_file::raw || f == socket_file::raw6;
  r.protocol = tcp ? ipproto_tcp : raw ? ipproto_raw : ipproto_udp;
  r.sock_type = tcp ? sock_stream : raw ? abi::sock_raw : sock_dgram;
  // tr:tm->when (when's width varies), retrnsmt, uid, timeout, inode.
  std::size_t pos = c + lay.rest();
  std::string_view when = token(l, pos);
  std::string_view retr = token(l, pos);
  std::string_view uid = token(l, pos);
  std::string_view timeout = token(l, pos);
  std::string_view inode = token(l, pos);
  std::uint32_t tr = 0, retrans = 0;
  std::uint64_t ticks = 0;
  if (when.size() < 4 || when[2] != ':' || !hex_at(when.data(), 2, tr) ||
      !hex_u64(when.substr(3), ticks) || retr.size() != 8 || !hex_at(retr.data(), 8, retrans))
    return false;
  r.timer = static_cast<std::uint8_t>(tr);
  r.retrans = static_cast<std::uint8_t>(retrans > 255 ? 255 : retrans);
  // tm->when is in clock ticks (jiffies_to_clock_t), USER_HZ = 100 on Linux.
  r.expires_ms = static_cast<std::uint32_t>(ticks > 42949672 ? 0xFFFFFFFFu : ticks * 10);
  return !timeout.empty() && decimal(uid, r.uid) && decimal(inode, r.inode);
}

// unix: offsets from the first ':'.
constexpr std::size_t ux_ref = 2, ux_proto = 11, ux_flags = 20, ux_type = 29, ux_st = 34,
                      ux_inode = 37;

bool unix_frame(std::string_view l, std::size_t& c, std::uint8_t& type,
                std::uint8_t& state) noexcept {
  c = l.find(':');
  if (c == std::string_view::npos || l.size() <= c + ux_inode) return false;
  const char* p = l.data() + c;
  if (p[1] != ' ' || p[ux_proto - 1] != ' ' || p[ux_flags - 1] != ' ' || p[ux_type - 1] != ' ' ||
      p[ux_st - 1] != ' ' || p[ux_inode - 1] != ' ')
    return false;
  std::uint32_t flags = 0, t = 0, st = 0;
  if (!hex_at(p + ux_flags, 8, flags) || !hex_at(p + ux_type, 4, t) || !hex_at(p + ux_st, 2, st) ||
      t >= 8)
    return false;
  type = static_cast<std::uint8_t>(t);
  // unix_seq_show() prints sock->state, not sk_state: listening sockets carry __SO_ACCEPTCON,
  // and SS_CONNECTED/SS_CONNECTING both mean sk_state TCP_ESTABLISHED.
  state = (flags & so_acceptcon)                        ? tcp_listen
          : (st == ss_connected || st == ss_connecting) ? tcp_established
                                                        : tcp_close;
  return true;
}

bool unix_row(std::string_view l, socket_row& r) noexcept {
  std::size_t c = 0;
  if (!unix_frame(l, c, r.sock_type, r.state)) return false;
  std::size_t pos = c + ux_inode;
  if (!decimal(token(l, pos), r.inode)) return false;
  r.family = af_unix;
  // An optional " path" follows; it may itself contain spaces.
  if (pos < l.size()) {
    if (l[pos] != ' ' || pos + 1 == l.size()) return false;
    r.path = l.substr(pos + 1);
  }
  return true;
}

// packet: a token per column after the socket's address.
bool packet_row(std::string_view l, socket_row& r) noexcept {
  std::size_t pos = 0;
  std::uint64_t sk = 0, refs = 0;
  std::uint32_t type = 0, proto = 0, iface = 0, running = 0;
  const std::string_view sk_hex = token(l, pos), refs_text = token(l, pos),
                         type_text = token(l, pos), proto_hex = token(l, pos);
  if (!hex_u64(sk_hex, sk) || !decimal(refs_text, refs) || !decimal(type_text, type) ||
      proto_hex.size() != 4 || !hex_at(proto_hex.data(), 4, proto) ||
      !decimal(token(l, pos), iface) || !decimal(token(l, pos), running) ||
      !decimal(token(l, pos), r.recv_q) || !decimal(token(l, pos), r.uid) ||
      !decimal(token(l, pos), r.inode) || type >= 8 || !token(l, pos).empty())
    return false;
  r.family = abi::af_packet;
  r.sock_type = static_cast<std::uint8_t>(type);
  r.state = tcp_close;
  r.local_port = static_cast<std::uint16_t>(proto);  // ntohs(po->num): host order
  r.ifindex = iface;
  return true;
}

// netlink: the port id, the queues and the inode; /proc shows no peer.
bool netlink_row(std::string_view l, socket_row& r) noexcept {
  std::size_t pos = 0;
  std::uint64_t sk = 0;
  std::uint32_t proto = 0, portid = 0, groups = 0;
  std::int64_t rmem = 0, wmem = 0;
  const bool head =
      hex_u64(token(l, pos), sk) && decimal(token(l, pos), proto) && decimal(token(l, pos), portid);
  const std::string_view groups_hex = token(l, pos);
  auto signed_decimal = [](std::string_view t, std::int64_t& v) noexcept {
    const bool neg = !t.empty() && t[0] == '-';
    std::uint32_t x = 0;
    if (!decimal(neg ? t.substr(1) : t, x)) return false;
    v = neg ? -std::int64_t{x} : std::int64_t{x};
    return true;
  };
  std::int64_t dump = 0, locks = 0;
  std::uint32_t drops = 0;
  if (!head || groups_hex.size() != 8 || !hex_at(groups_hex.data(), 8, groups) ||
      !signed_decimal(token(l, pos), rmem) || !signed_decimal(token(l, pos), wmem) ||
      !signed_decimal(token(l, pos), dump) || !signed_decimal(token(l, pos), locks) ||
      !decimal(token(l, pos), drops) || !decimal(token(l, pos), r.inode) || proto > 255 ||
      !token(l, pos).empty())
    return false;
  r.family = abi::af_netlink;
  r.protocol = static_cast<std::uint8_t>(proto);
  r.sock_type = abi::sock_raw;  // not shown in /proc; netlink sockets are raw or dgram alike
  r.state = tcp_close;
  r.recv_q = static_cast<std::uint32_t>(rmem);
  r.send_q = static_cast<std::uint32_t>(wmem);
  set_netlink_ends(r, {portid, 0, 0, false});
  return true;
}

bool header_ok(socket_file f, std::string_view l) noexcept {
  const std::size_t b = l.find_first_not_of(' ');
  if (b == std::string_view::npos) return false;
  l.remove_prefix(b);
  switch (f) {
    case socket_file::unix_domain: return l.starts_with("Num ");
    case socket_file::packet: return l.starts_with("sk ") && l.find(" Iface ") != l.npos;
    case socket_file::netlink: return l.starts_with("sk ") && l.find(" Groups ") != l.npos;
    default: return l.starts_with("sl ");
  }
}

bool any_row(std::string_view l, socket_file f, socket_row& r) noexcept {
  switch (f) {
    case socket_file::unix_domain: return unix_row(l, r);
    case socket_file::packet: return packet_row(l, r);
    case socket_file::netlink: return netlink_row(l, r);
    default: return inet_row(l, f, r);
  }
}

}  // namespace

std::string_view file_name(socket_file f) noexcept {
  switch (f) {
    case socket_file::tcp: return "net/tcp";
    case socket_file::tcp6: return "net/tcp6";
    case socket_file::udp: return "net/udp";
    case socket_file::udp6: return "net/udp6";
    case socket_file::unix_domain: return "net/unix";
    case socket_file::raw: return "net/raw";
    case socket_file::raw6: return "net/raw6";
    case socket_file::packet: return "net/packet";
    case socket_file::netlink: return "net/netlink";
  }
  return {};
}

socket_file_parser::socket_file_parser(socket_file f, state_counts& counts) noexcept
    : file_(f), counts_(&counts) {}

socket_file_parser::socket_file_parser(unix_counts& counts) noexcept
    : file_(socket_file::unix_domain), unix_counts_(&counts) {}

socket_file_parser::socket_file_parser(socket_file f, socket_table& rows) noexcept
    : file_(f), rows_(&rows) {}

bool socket_file_parser::parse_key(std::string_view l, key& k) const noexcept {
  socket_row r;
  if (!any_row(l, file_, r)) return false;
  k = {r.local_addr, r.peer_addr, r.local_port, r.peer_port, r.inode};
  return true;
}

bool socket_file_parser::in_window(const key& k) const noexcept {
  for (std::size_t i = 0; i < window_size_; ++i)
    if (window_[i] == k) return true;
  return false;
}

void socket_file_parser::remember(const key& k) noexcept {
  window_[window_next_] = k;
  window_next_ = (window_next_ + 1) % window;
  if (window_size_ < window) ++window_size_;
}

std::error_code socket_file_parser::line(std::string_view l, bool& checking) noexcept {
  if (!header_done_) {
    if (!header_ok(file_, l)) return errc::parse_error;
    header_done_ = true;
    return {};
  }
  if (checking) {
    key k;
    if (parse_key(l, k) && in_window(k)) {
      ++stats_.duplicates;
      return {};
    }
    checking = false;
  }
  tail_[tail_next_] = l;
  tail_next_ = (tail_next_ + 1) % window;
  if (tail_size_ < window) ++tail_size_;

  // One predicate for every use of a line: one a listing would leave out as malformed is not
  // counted either, so a count, a filtered count and a listing of the same file agree.
  socket_row r;
  const bool ok = any_row(l, file_, r);
  if (!ok) {
    ++stats_.skipped;
    return {};
  }
  if (rows_ != nullptr) {
    try {
      rows_->append(r);
    } catch (const std::bad_alloc&) {
      return std::make_error_code(std::errc::not_enough_memory);
    }
  } else if (unix_counts_ != nullptr) {
    ++unix_counts_->by_type[r.sock_type];  // < 8: unix_frame checked it
    ++unix_counts_->states[r.state];
  } else {
    ++(*counts_)[r.state];
  }
  ++stats_.rows;
  return {};
}

std::error_code socket_file_parser::feed(std::string_view bytes) noexcept {
  bool checking = false;
  // A line begun in the previous read belongs to it: finish it first, and add its key to the
  // window the new read's first rows are checked against.
  if (carry_len_ > 0 || carry_too_long_) {
    const std::size_t nl = bytes.find('\n');
    const std::string_view head = bytes.substr(0, nl);
    if (!carry_too_long_ && carry_len_ + head.size() <= max_line) {
      std::memcpy(carry_.data() + carry_len_, head.data(), head.size());
      carry_len_ += head.size();
    } else {
      carry_too_long_ = true;
    }
    if (nl == std::string_view::npos) return {};
    const std::string_view l(carry_.data(), carry_len_);
    if (carry_too_long_) {
      ++stats_.skipped;
    } else {
      tail_size_ = tail_next_ = 0;
      if (auto ec = line(l, checking)) return ec;
      key k;
      if (header_done_ && parse_key(l, k)) remember(k);
    }
    carry_len_ = 0;
    carry_too_long_ = false;
    bytes.remove_prefix(nl + 1);
  }

  checking = window_size_ > 0;
  tail_size_ = tail_next_ = 0;
  for (;;) {
    const void* nlp = std::memchr(bytes.data(), '\n', bytes.size());
    if (nlp == nullptr) break;
    const auto n = static_cast<std::size_t>(static_cast<const char*>(nlp) - bytes.data());
    if (auto ec = line(bytes.substr(0, n), checking)) return ec;
    bytes.remove_prefix(n + 1);
  }
  // The next read's first rows are checked against this read's last ones.
  if (tail_size_ > 0) {
    window_size_ = window_next_ = 0;
    const std::size_t first = tail_size_ < window ? 0 : tail_next_;
    for (std::size_t i = 0; i < tail_size_; ++i) {
      key k;
      if (parse_key(tail_[(first + i) % window], k)) remember(k);
    }
  }
  if (bytes.size() > max_line) {
    carry_too_long_ = true;
  } else {
    std::memcpy(carry_.data(), bytes.data(), bytes.size());
    carry_len_ = bytes.size();
  }
  return {};
}

std::error_code socket_file_parser::finish() noexcept {
  if (carry_len_ > 0 || carry_too_long_) {
    // A last line cut short: never guess what it said.
    if (!header_done_) return errc::parse_error;
    ++stats_.skipped;
    carry_len_ = 0;
    carry_too_long_ = false;
  }
  // An empty file (not even a header) is not a socket table.
  if (!header_done_) return errc::parse_error;
  return {};
}

}  // namespace ssfast::proc
