// SPDX-License-Identifier: Apache-2.0
// Decoding a socket's netlink attributes by the numbers of kernel_abi.h (core includes no
// system header; netlink/ checks those numbers against uapi linux/inet_diag.h, unix_diag.h
// and tcp.h).
#include "ssfast/core/socket_attributes.h"

#include <algorithm>
#include <cstring>

#include "ssfast/core/kernel_abi.h"

namespace ssfast {
namespace {

template <class T>
std::optional<T> exact(std::span<const std::uint8_t> v) noexcept {
  if (v.size() < sizeof(T)) return std::nullopt;
  return attribute_as<T>(v);
}

// Calls on_attr(type, payload) for each well-formed attribute (libmnl's mnl_attr_ok rules).
template <class OnAttr>
void for_each_attribute(std::span<const std::uint8_t> a, OnAttr&& on_attr) noexcept {
  constexpr std::size_t header = abi::nla_header;
  std::size_t off = 0;
  while (a.size() - off >= header) {
    std::uint16_t len = 0, type = 0;
    std::memcpy(&len, a.data() + off, 2);
    std::memcpy(&type, a.data() + off + 2, 2);
    if (len < header || len > a.size() - off) return;
    on_attr(static_cast<std::uint16_t>(type & abi::nla_type_mask),
            a.subspan(off + header, len - header));
    off = std::min(a.size(), off + ((len + 3u) & ~3u));
  }
}

}  // namespace

socket_attributes decode_attributes(const socket_row& r) noexcept {
  socket_attributes a;
  const bool unix_domain = r.family == abi::af_unix;
  for_each_attribute(r.attributes, [&](std::uint16_t type, std::span<const std::uint8_t> v) {
    if (r.family == abi::af_packet) {
      switch (type) {
        case abi::packet_diag_info: a.packet_info = v; break;
        case abi::packet_diag_rx_ring: a.rx_ring = v; break;
        case abi::packet_diag_tx_ring: a.tx_ring = v; break;
        case abi::packet_diag_fanout: a.fanout = exact<std::uint32_t>(v); break;
        case abi::packet_diag_meminfo: a.skmeminfo = v; break;
        case abi::packet_diag_filter: a.bpf = v; break;
        default: break;
      }
      return;
    }
    if (r.family == abi::af_netlink) {
      switch (type) {
        case abi::netlink_diag_meminfo: a.skmeminfo = v; break;
        // A bitmap of unsigned longs; ss reads its first (the groups 1..32 or 64).
        case abi::netlink_diag_groups:
          a.groups = v.empty() ? std::optional<std::uint32_t>(0) : exact<std::uint32_t>(v);
          break;
        default: break;
      }
      return;
    }
    if (unix_domain) {
      switch (type) {
        case abi::unix_diag_shutdown: a.shutdown = exact<std::uint8_t>(v); break;
        case abi::unix_diag_vfs:
          if (v.size() >= abi::unix_diag_vfs_size) {
            a.vfs_ino = attribute_as<std::uint32_t>(v);
            a.vfs_dev = attribute_as<std::uint32_t>(v.subspan(4));
          }
          break;
        case abi::unix_diag_icons: a.icons = v; break;
        case abi::unix_diag_meminfo: a.skmeminfo = v; break;
        default: break;
      }
      return;
    }
    switch (type) {
      case abi::inet_diag_shutdown: a.shutdown = exact<std::uint8_t>(v); break;
      case abi::inet_diag_skv6only: a.v6only = exact<std::uint8_t>(v); break;
      case abi::inet_diag_mark: a.mark = exact<std::uint32_t>(v).value_or(0); break;
      case abi::inet_diag_cgroup_id: a.cgroup_id = exact<std::uint64_t>(v).value_or(0); break;
      case abi::inet_diag_tos: a.tos = exact<std::uint8_t>(v); break;
      case abi::inet_diag_tclass: a.tclass = exact<std::uint8_t>(v); break;
      case abi::inet_diag_class_id: a.class_id = exact<std::uint32_t>(v); break;
      case abi::inet_diag_sockopt:  // two bytes of flags (5.10+); a longer one keeps its first
        if (v.size() >= 2) a.sockopt = static_cast<std::uint16_t>(v[0] | v[1] << 8);
        break;
      case abi::inet_diag_skmeminfo: a.skmeminfo = v; break;
      case abi::inet_diag_meminfo: a.meminfo = v; break;
      case abi::inet_diag_info: a.tcp_info = v; break;
      case abi::inet_diag_cong: {
        std::string_view c(reinterpret_cast<const char*>(v.data()), v.size());
        a.congestion = c.substr(0, c.find('\0'));
        break;
      }
      case abi::inet_diag_vegasinfo: a.vegas = v; break;
      case abi::inet_diag_dctcpinfo: a.dctcp = v; break;
      case abi::inet_diag_bbrinfo: a.bbr = v; break;
      default: break;
    }
  });
  return a;
}

tcp_facts tcp_facts_of(const socket_attributes& a) noexcept {
  tcp_facts f;
  if (a.tcp_info.empty()) return f;
  // A shorter tcp_info (an older kernel) reads as zeros past its end, as ss reads it.
  auto field = [&]<class T>(std::size_t offset, T& out) {
    if (a.tcp_info.size() >= offset + sizeof(T)) out = attribute_as<T>(a.tcp_info.subspan(offset));
  };
  f.present = true;
  field(abi::tcpi_rtt_offset, f.rtt_us);
  field(abi::tcpi_retrans_offset, f.retrans);
  field(abi::tcpi_total_retrans_offset, f.total_retrans);
  field(abi::tcpi_bytes_acked_offset, f.bytes_acked);
  field(abi::tcpi_bytes_received_offset, f.bytes_received);
  return f;
}

}  // namespace ssfast
