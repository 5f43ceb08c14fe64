// SPDX-License-Identifier: Apache-2.0
// Walks the netlink messages of one sock_diag dump datagram, trusting nothing: sender, port
// id, sequence number, every length, and the errno the kernel may put in NLMSG_DONE.
#include "ssfast/netlink/dump_parser.h"

#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <new>

#include "ssfast/core/tcp_state.h"
#include "ssfast/netlink/bytecode.h"
#include "ssfast/netlink/request.h"
#include "wire.h"

static_assert(ssfast::netlink::skmeminfo_ext == 1u << (INET_DIAG_SKMEMINFO - 1));
static_assert(ssfast::netlink::memory_ext ==
              (1u << (INET_DIAG_MEMINFO - 1) | 1u << (INET_DIAG_SKMEMINFO - 1)));
static_assert(ssfast::netlink::tcp_info_ext ==
              (1u << (INET_DIAG_INFO - 1) | 1u << (INET_DIAG_VEGASINFO - 1) |
               1u << (INET_DIAG_CONG - 1)));
static_assert(ssfast::netlink::tos_ext ==
              (1u << (INET_DIAG_TOS - 1) | 1u << (INET_DIAG_TCLASS - 1)));
static_assert(ssfast::netlink::unix_show_rows ==
              (UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN | UDIAG_SHOW_UID));
static_assert(ssfast::netlink::unix_show_details == (UDIAG_SHOW_VFS | UDIAG_SHOW_ICONS));
static_assert(ssfast::netlink::unix_show_memory == UDIAG_SHOW_MEMINFO);

namespace ssfast::netlink {
namespace {

// A negative errno as the kernel sends it (-1..-4095, include/linux/err.h MAX_ERRNO) as an
// error_code; anything else cannot have come from the kernel.
std::error_code kernel_error(int err) noexcept {
  if (err < -4095) return errc::bad_message;  // also keeps INT_MIN from being negated
  return errno_code(-err);
}

// Reads a socket message's cookie (two 32-bit words, low first: sock_diag_save_cookie()).
std::uint64_t cookie_at(std::span<const std::byte> p, std::size_t offset) noexcept {
  const auto lo = wire::load<std::uint32_t>(p, offset);
  const auto hi = wire::load<std::uint32_t>(p, offset + 4);
  return std::uint64_t{lo} | std::uint64_t{hi} << 32;
}

// Calls on_socket(payload) for each socket message; on_socket returns an error_code. With a
// guard, a message whose cookie (at cookie_offset) it recognizes is consumed and skipped.
template <class OnSocket>
parse_status walk(const datagram& d, const reply_filter& f, repeat_guard* repeats,
                  std::size_t cookie_offset, OnSocket&& on_socket) noexcept {
  parse_status st;
  // Only the kernel (port id 0) answers dumps; anything else is foreign, whatever it says.
  if (d.sender_portid != 0) {
    st.error = errc::foreign_sender;
    return st;
  }
  const std::span<const std::byte> b = d.bytes;
  std::size_t off = 0;
  while (off < b.size()) {
    if (st.done) {  // NLMSG_DONE ends the dump; nothing may follow it
      st.error = errc::bad_message;
      return st;
    }
    if (b.size() - off < wire::header_size) {
      st.error = errc::truncated;
      return st;
    }
    const auto h = wire::load<nlmsghdr>(b, off);
    if (h.nlmsg_len < wire::header_size || h.nlmsg_len > b.size() - off) {
      st.error = errc::bad_message;
      return st;
    }
    if (h.nlmsg_pid != f.portid) {
      st.error = errc::portid_mismatch;
      return st;
    }
    if (h.nlmsg_seq != f.seq) {
      st.error = errc::seq_mismatch;
      return st;
    }
    // inet_diag resumes by hash position and never sets this flag (see KERNEL-NOTES), but a
    // kernel that does is saying the dump is inconsistent: never count it silently.
    if (h.nlmsg_flags & NLM_F_DUMP_INTR) {
      st.error = errc::dump_interrupted;
      return st;
    }
    const auto payload = b.subspan(off + wire::header_size, h.nlmsg_len - wire::header_size);
    switch (h.nlmsg_type) {
      case NLMSG_DONE: {
        // netlink_dump() puts the dump callback's return value in DONE's payload: a failed
        // dump (ENOENT for a missing diag module, for instance) arrives here, not as an error.
        if (payload.size() < sizeof(int)) {
          st.error = errc::bad_message;
          return st;
        }
        const int err = wire::load<int>(payload);
        if (err < 0) {
          st.error = kernel_error(err);
          return st;
        }
        st.done = true;
        break;
      }
      case NLMSG_ERROR: {
        if (payload.size() < sizeof(nlmsgerr)) {
          st.error = errc::bad_message;
          return st;
        }
        const int err = wire::load<int>(payload);
        // error 0 is an ACK, which a dump request does not ask for.
        st.error = err < 0 ? kernel_error(err) : make_error_code(errc::unexpected_message);
        return st;
      }
      case NLMSG_NOOP: break;
      default:
        if (h.nlmsg_type != f.msg_type) {
          st.error = errc::unexpected_message;
          return st;
        }
        ++st.sockets;
        // A message too short for its cookie goes on to on_socket, which refuses it.
        if (repeats != nullptr && payload.size() >= cookie_offset + 8 &&
            repeats->repeated(cookie_at(payload, cookie_offset))) {
          ++st.repeats;
          break;
        }
        if (std::error_code ec = on_socket(payload)) {
          st.error = ec;
          --st.sockets;
          return st;
        }
    }
    // The last message's padding may lie past the datagram's end.
    off = std::min(b.size(), off + wire::align(h.nlmsg_len));
  }
  return st;
}

std::error_code family_index(std::uint8_t family, std::size_t& out) noexcept {
  if (family == AF_INET) {
    out = 0;
  } else if (family == AF_INET6) {
    out = 1;
  } else {
    return errc::bad_message;
  }
  return {};
}

// Iterates the attributes after a fixed header, with bounds checks (libmnl's mnl_attr_ok
// rules: length at least the attribute header, not past the end). Unknown types are ignored.
template <class OnAttr>
std::error_code for_each_attr(std::span<const std::byte> attrs, OnAttr&& on_attr) noexcept {
  std::size_t off = 0;
  while (attrs.size() - off >= sizeof(nlattr)) {
    const auto a = wire::load<nlattr>(attrs, off);
    if (a.nla_len < sizeof(nlattr) || a.nla_len > attrs.size() - off) return errc::bad_message;
    on_attr(static_cast<std::uint16_t>(a.nla_type & NLA_TYPE_MASK),
            attrs.subspan(off + sizeof(nlattr), a.nla_len - sizeof(nlattr)));
    off = std::min(attrs.size(), off + wire::align(a.nla_len));
  }
  // Fewer than an attribute header's bytes left over: the message is cut.
  return off == attrs.size() ? std::error_code{} : make_error_code(errc::bad_message);
}

template <class F>
parse_status guard_alloc(F&& f) noexcept {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    parse_status st;
    st.error = std::make_error_code(std::errc::not_enough_memory);
    return st;
  }
}

}  // namespace

namespace {

// The counting step for one inet_diag message: its family and state bytes, nothing else.
std::error_code count_message(std::span<const std::byte> p,
                              std::array<state_counts, 2>& by_family) noexcept {
  if (p.size() < sizeof(inet_diag_msg)) return errc::bad_message;
  const auto family = static_cast<std::uint8_t>(p[wire::inet_family_offset]);
  const auto state = static_cast<std::uint8_t>(p[wire::inet_state_offset]);
  std::size_t fi = 0;
  if (auto ec = family_index(family, fi)) return ec;
  if (state >= state_slots) return errc::bad_state;
  ++by_family[fi][state];
  return {};
}

}  // namespace

parse_status count_inet(const datagram& d, const reply_filter& f,
                        std::array<state_counts, 2>& by_family, repeat_guard* repeats) noexcept {
  return walk(d, f, repeats, wire::inet_cookie_offset,
              [&](std::span<const std::byte> p) { return count_message(p, by_family); });
}

parse_status count_inet_minisockets(const datagram& d, const reply_filter& f,
                                    std::array<state_counts, 2>& by_family,
                                    minisocket_counts& minisockets,
                                    repeat_guard* repeats) noexcept {
  return walk(d, f, repeats, wire::inet_cookie_offset,
              [&](std::span<const std::byte> p) -> std::error_code {
                if (auto ec = count_message(p, by_family)) return ec;
                const std::size_t fi =
                    static_cast<std::uint8_t>(p[wire::inet_family_offset]) == AF_INET ? 0 : 1;
                const auto state = static_cast<std::uint8_t>(p[wire::inet_state_offset]);
                if (static_cast<std::uint8_t>(p[wire::inet_timer_offset]) == 3)
                  ++minisockets.timewait[fi];
                else if (state == static_cast<std::uint8_t>(tcp_state::syn_recv) ||
                         state == static_cast<std::uint8_t>(tcp_state::new_syn_recv))
                  ++minisockets.request[fi];
                return {};
              });
}

parse_status count_inet_keys(const datagram& d, const reply_filter& f,
                             std::array<state_counts, 2>& by_family,
                             std::array<std::uint64_t, 256>& keys, std::uint16_t ephemeral_low,
                             repeat_guard* repeats) noexcept {
  return walk(d, f, repeats, wire::inet_cookie_offset,
              [&](std::span<const std::byte> p) -> std::error_code {
                if (auto ec = count_message(p, by_family)) return ec;
                const auto sport = ntohs(wire::load<std::uint16_t>(p, wire::inet_sport_offset));
                const auto dport = ntohs(wire::load<std::uint16_t>(p, wire::inet_dport_offset));
                ++keys[partition_key(sport, dport, ephemeral_low) >> 8];
                return {};
              });
}

parse_status rows_inet(const datagram& d, const reply_filter& f, std::uint16_t protocol,
                       socket_table& out, repeat_guard* repeats) noexcept {
  return guard_alloc([&] {
    return walk(
        d, f, repeats, wire::inet_cookie_offset,
        [&](std::span<const std::byte> p) -> std::error_code {
          if (p.size() < sizeof(inet_diag_msg)) return errc::bad_message;
          const auto m = wire::load<inet_diag_msg>(p);
          std::size_t fi = 0;
          if (auto ec = family_index(m.idiag_family, fi)) return ec;
          if (m.idiag_state >= state_slots) return errc::bad_state;
          socket_row r;
          r.family = m.idiag_family;
          r.protocol = protocol;
          r.sock_type = protocol == IPPROTO_TCP || protocol == abi::ipproto_mptcp ? SOCK_STREAM
                        : protocol == IPPROTO_RAW                                 ? SOCK_RAW
                                                                                  : SOCK_DGRAM;
          r.state = m.idiag_state;
          // idiag_src/dst hold the address in network order; for IPv4 only the first word
          // counts (inet_diag_msg_common_fill zeroes the rest).
          const std::size_t alen = fi == 0 ? 4 : 16;
          std::memcpy(r.local_addr.data(), m.id.idiag_src, alen);
          std::memcpy(r.peer_addr.data(), m.id.idiag_dst, alen);
          r.local_port = ntohs(m.id.idiag_sport);
          r.peer_port = ntohs(m.id.idiag_dport);
          r.recv_q = m.idiag_rqueue;
          r.send_q = m.idiag_wqueue;
          r.uid = m.idiag_uid;
          r.ifindex = m.id.idiag_if;
          r.inode = m.idiag_inode;
          r.timer = m.idiag_timer;
          r.retrans = m.idiag_retrans;
          r.expires_ms = m.idiag_expires;
          // IPV6_V6ONLY is off unless INET_DIAG_SKV6ONLY says otherwise, as ss reads it: the
          // kernel sends it for LISTEN and CLOSE dumps only, and not with destroy events.
          r.dual_stack = fi == 1;
          // sock_diag_save_cookie() splits the 64-bit cookie low word first.
          r.cookie = std::uint64_t{m.id.idiag_cookie[0]} | std::uint64_t{m.id.idiag_cookie[1]}
                                                               << 32;
          // inet_diag_msg_attrs_fill() adds INET_DIAG_SKV6ONLY for LISTEN and CLOSE
          // sockets.
          // INET_DIAG_SKMEMINFO (asked for with skmeminfo_ext) is sk_meminfo's u32
          // array (sock_diag_put_meminfo()); older kernels send fewer entries, never
          // fewer than SK_MEMINFO_DROPS's.
          bool bad = false;
          const auto attrs = p.subspan(sizeof(inet_diag_msg));
          r.attributes = {reinterpret_cast<const std::uint8_t*>(attrs.data()), attrs.size()};
          auto ec = for_each_attr(attrs, [&](std::uint16_t type, std::span<const std::byte> v) {
            if (type == INET_DIAG_SKV6ONLY) {
              if (v.empty()) {
                bad = true;
                return;
              }
              r.dual_stack = fi == 1 && v[0] == std::byte{0};
            } else if (type == INET_DIAG_PROTOCOL && protocol == 0) {
              // Destroy events name their protocol (inet_diag_handler_get_info); dumps do not.
              if (v.empty()) {
                bad = true;
                return;
              }
              r.protocol = static_cast<std::uint8_t>(v[0]);
              r.sock_type = r.protocol == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
            } else if (type == INET_DIAG_SKMEMINFO) {
              constexpr std::size_t at = SK_MEMINFO_DROPS * sizeof(std::uint32_t);
              if (v.size() < at + sizeof(std::uint32_t)) {
                bad = true;
                return;
              }
              r.drops = wire::load<std::uint32_t>(v, at);
            }
          });
          if (ec) return ec;
          if (bad || r.protocol == 0) return errc::bad_message;
          out.append(r);
          return {};
        });
  });
}

parse_status count_unix(const datagram& d, const reply_filter& f, unix_counts& out,
                        repeat_guard* repeats) noexcept {
  return walk(d, f, repeats, wire::unix_cookie_offset,
              [&](std::span<const std::byte> p) -> std::error_code {
                if (p.size() < sizeof(unix_diag_msg)) return errc::bad_message;
                const auto type = static_cast<std::uint8_t>(p[wire::unix_type_offset]);
                const auto state = static_cast<std::uint8_t>(p[wire::unix_state_offset]);
                if (type >= out.by_type.size()) return errc::bad_message;
                if (state >= state_slots) return errc::bad_state;
                ++out.by_type[type];
                ++out.states[state];
                return {};
              });
}

namespace {

// A UNIX socket's name as /proc/net/unix and ss show it.
struct unix_name {
  char bytes[sizeof(sockaddr_un{}.sun_path)];
  std::size_t size = 0;
};

// One unix_diag attribute into the row; false if its payload is malformed.
bool unix_attr(std::uint16_t type, std::span<const std::byte> v, socket_row& r,
               unix_name& name) noexcept {
  switch (type) {
    case UNIX_DIAG_NAME: {
      // sk_diag_dump_name() sends the address's sun_path bytes: a pathname with its
      // terminating NUL, an abstract name starting with NUL. Shown as unix_seq_show() does:
      // no terminator, and every NUL of an abstract name as '@'.
      if (v.size() > sizeof name.bytes) return false;
      name.size = v.size();
      std::memcpy(name.bytes, v.data(), name.size);
      if (name.size > 0 && name.bytes[0] == '\0') {
        std::replace(name.bytes, name.bytes + name.size, '\0', '@');
      } else {
        while (name.size > 0 && name.bytes[name.size - 1] == '\0') --name.size;
      }
      return true;
    }
    case UNIX_DIAG_PEER:
      if (v.size() < sizeof(std::uint32_t)) return false;
      r.peer_inode = wire::load<std::uint32_t>(v);
      return true;
    case UNIX_DIAG_RQLEN: {
      if (v.size() < sizeof(unix_diag_rqlen)) return false;
      const auto q = wire::load<unix_diag_rqlen>(v);
      r.recv_q = q.udiag_rqueue;
      r.send_q = q.udiag_wqueue;
      return true;
    }
    case UNIX_DIAG_UID:
      if (v.size() < sizeof(std::uint32_t)) return false;
      r.uid = wire::load<std::uint32_t>(v);
      return true;
    default: return true;  // attributes we do not use
  }
}

}  // namespace

parse_status rows_unix(const datagram& d, const reply_filter& f, socket_table& out,
                       repeat_guard* repeats) noexcept {
  return guard_alloc([&] {
    return walk(
        d, f, repeats, wire::unix_cookie_offset,
        [&](std::span<const std::byte> p) -> std::error_code {
          if (p.size() < sizeof(unix_diag_msg)) return errc::bad_message;
          const auto m = wire::load<unix_diag_msg>(p);
          if (m.udiag_state >= state_slots) return errc::bad_state;
          socket_row r;
          r.family = AF_UNIX;
          r.sock_type = m.udiag_type;
          r.state = m.udiag_state;
          r.inode = m.udiag_ino;
          r.cookie = std::uint64_t{m.udiag_cookie[0]} | std::uint64_t{m.udiag_cookie[1]} << 32;
          unix_name name;
          bool ok = true;
          const auto attrs = p.subspan(sizeof(unix_diag_msg));
          r.attributes = {reinterpret_cast<const std::uint8_t*>(attrs.data()), attrs.size()};
          auto ec = for_each_attr(attrs, [&](std::uint16_t type, std::span<const std::byte> v) {
            ok = ok && unix_attr(type, v, r, name);
          });
          if (ec) return ec;
          if (!ok) return errc::bad_message;
          r.path = std::string_view(name.bytes, name.size);
          out.append(r);
          return {};
        });
  });
}

parse_status skip_sockets(const datagram& d, const reply_filter& f) noexcept {
  return walk(d, f, nullptr, 0, [](std::span<const std::byte>) { return std::error_code{}; });
}

parse_status rows_packet(const datagram& d, const reply_filter& f, socket_table& out,
                         repeat_guard* repeats) noexcept {
  return guard_alloc([&] {
    return walk(
        d, f, repeats, wire::packet_cookie_offset,
        [&](std::span<const std::byte> p) -> std::error_code {
          if (p.size() < sizeof(packet_diag_msg)) return errc::bad_message;
          const auto m = wire::load<packet_diag_msg>(p);
          if (m.pdiag_family != AF_PACKET) return errc::bad_message;
          socket_row r;
          r.family = AF_PACKET;
          r.sock_type = m.pdiag_type;
          // A packet socket has no connection state: ss shows it as SS_CLOSE (UNCONN).
          r.state = static_cast<std::uint8_t>(tcp_state::close);
          // pdiag_num is po->num, the protocol as bound, network order (packet_diag.c
          // sk_diag_fill: pr->pdiag_num = ntohs(po->num)): already host order here.
          r.local_port = m.pdiag_num;
          r.inode = m.pdiag_ino;
          r.cookie = std::uint64_t{m.pdiag_cookie[0]} | std::uint64_t{m.pdiag_cookie[1]} << 32;
          bool ok = true;
          const auto attrs = p.subspan(sizeof(packet_diag_msg));
          r.attributes = {reinterpret_cast<const std::uint8_t*>(attrs.data()), attrs.size()};
          auto ec = for_each_attr(attrs, [&](std::uint16_t type, std::span<const std::byte> v) {
            if (type == PACKET_DIAG_INFO) {
              if (v.size() < sizeof(std::uint32_t)) {
                ok = false;
                return;
              }
              r.ifindex = wire::load<std::uint32_t>(v);  // pdi_index
            } else if (type == PACKET_DIAG_UID) {
              if (v.size() < sizeof(std::uint32_t)) {
                ok = false;
                return;
              }
              r.uid = wire::load<std::uint32_t>(v);
            } else if (type == PACKET_DIAG_MEMINFO) {
              // sock_diag_put_meminfo: Recv-Q is SK_MEMINFO_RMEM_ALLOC, as ss prints it.
              if (v.size() < (SK_MEMINFO_RMEM_ALLOC + 1) * sizeof(std::uint32_t)) {
                ok = false;
                return;
              }
              r.recv_q =
                  wire::load<std::uint32_t>(v, SK_MEMINFO_RMEM_ALLOC * sizeof(std::uint32_t));
            }
          });
          if (ec) return ec;
          if (!ok) return errc::bad_message;
          out.append(r);
          return {};
        });
  });
}

parse_status rows_netlink(const datagram& d, const reply_filter& f, socket_table& out,
                          repeat_guard* repeats) noexcept {
  return guard_alloc([&] {
    return walk(
        d, f, repeats, wire::netlink_cookie_offset,
        [&](std::span<const std::byte> p) -> std::error_code {
          if (p.size() < sizeof(netlink_diag_msg)) return errc::bad_message;
          const auto m = wire::load<netlink_diag_msg>(p);
          if (m.ndiag_family != AF_NETLINK) return errc::bad_message;
          socket_row r;
          r.family = AF_NETLINK;
          r.protocol = m.ndiag_protocol;
          r.sock_type = m.ndiag_type;
          r.state = static_cast<std::uint8_t>(
              tcp_state::close);  // ss shows every netlink socket as SS_CLOSE (UNCONN)
          r.inode = m.ndiag_ino;
          r.cookie = std::uint64_t{m.ndiag_cookie[0]} | std::uint64_t{m.ndiag_cookie[1]} << 32;
          // NETLINK_CONNECTED (netlink_diag.c sk_diag_fill): the peer's port id and group.
          set_netlink_ends(
              r, {m.ndiag_portid, m.ndiag_dst_portid, m.ndiag_dst_group, m.ndiag_state == 1});
          bool ok = true;
          const auto attrs = p.subspan(sizeof(netlink_diag_msg));
          r.attributes = {reinterpret_cast<const std::uint8_t*>(attrs.data()), attrs.size()};
          auto ec = for_each_attr(attrs, [&](std::uint16_t type, std::span<const std::byte> v) {
            if (type == NETLINK_DIAG_MEMINFO) {
              // Recv-Q and Send-Q: SK_MEMINFO_RMEM_ALLOC and WMEM_ALLOC, as ss prints them.
              if (v.size() < (SK_MEMINFO_WMEM_ALLOC + 1) * sizeof(std::uint32_t)) {
                ok = false;
                return;
              }
              r.recv_q =
                  wire::load<std::uint32_t>(v, SK_MEMINFO_RMEM_ALLOC * sizeof(std::uint32_t));
              r.send_q =
                  wire::load<std::uint32_t>(v, SK_MEMINFO_WMEM_ALLOC * sizeof(std::uint32_t));
            }
          });
          if (ec) return ec;
          if (!ok) return errc::bad_message;
          out.append(r);
          return {};
        });
  });
}

}  // namespace ssfast::netlink
