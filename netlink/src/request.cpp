// SPDX-License-Identifier: Apache-2.0
// sock_diag dump requests: a netlink header and an inet_diag_req_v2 or unix_diag_req.
#include "ssfast/netlink/request.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include "wire.h"

namespace ssfast::netlink {

std::uint16_t reply_type(const dump_request& r) noexcept {
  return r.what == dump_request::kind::inet_legacy ? TCPDIAG_GETSOCK : SOCK_DIAG_BY_FAMILY;
}

request_layout build_request(const dump_request& r, std::uint32_t seq,
                             std::span<std::byte> buf) noexcept {
  if (buf.size() < max_request_head) return {};
  std::size_t body = 0;
  if (r.what == dump_request::kind::inet_legacy) {
    inet_diag_req req{};
    req.idiag_family = AF_UNSPEC;  // ignored: inet_diag_dump_compat walks both families
    req.idiag_ext = r.inet_ext;
    req.idiag_states = r.states;
    wire::store(buf, wire::header_size, req);
    body = sizeof req;
  } else if (r.what == dump_request::kind::probe) {
    inet_diag_req_v2 req{};
    req.sdiag_family = r.family;
    req.sdiag_protocol = static_cast<std::uint8_t>(r.protocol);
    wire::store(buf, wire::header_size, req);
    body = sizeof req;
  } else if (r.what == dump_request::kind::inet) {
    inet_diag_req_v2 req{};
    req.sdiag_family = r.family;
    req.sdiag_protocol = static_cast<std::uint8_t>(r.protocol);  // ss's truncation for MPTCP
    req.idiag_ext = r.inet_ext;
    req.idiag_states = r.states;
    wire::store(buf, wire::header_size, req);
    body = sizeof req;
  } else if (r.what == dump_request::kind::packet) {
    packet_diag_req req{};
    req.sdiag_family = AF_PACKET;
    req.pdiag_show = r.show;
    wire::store(buf, wire::header_size, req);
    body = sizeof req;
  } else if (r.what == dump_request::kind::netlink) {
    netlink_diag_req req{};
    req.sdiag_family = AF_NETLINK;
    req.sdiag_protocol = NDIAG_PROTO_ALL;
    req.ndiag_show = r.show;
    wire::store(buf, wire::header_size, req);
    body = sizeof req;
  } else {
    unix_diag_req req{};
    req.sdiag_family = AF_UNIX;
    req.udiag_states = r.states;
    req.udiag_show = r.unix_show;
    wire::store(buf, wire::header_size, req);
    body = sizeof req;
  }
  std::size_t len = wire::header_size + wire::align(body);
  if (r.what == dump_request::kind::inet && r.protocol > 255) {
    const nlattr a{static_cast<std::uint16_t>(sizeof(nlattr) + sizeof(std::uint32_t)),
                   INET_DIAG_REQ_PROTOCOL};
    wire::store(buf, len, a);
    wire::store(buf, len + sizeof a, std::uint32_t{r.protocol});
    len += sizeof a + sizeof(std::uint32_t);
  }
  std::size_t total = len;
  const bool inet = r.what == dump_request::kind::inet || r.what == dump_request::kind::inet_legacy;
  if (!r.bytecode.empty() && inet) {
    // inet_diag_parse_attrs() looks for INET_DIAG_REQ_BYTECODE after the request struct.
    if (r.bytecode.size() > max_request_bytecode || r.bytecode.size() % 4 != 0) return {};
    nlattr a{};
    a.nla_len = static_cast<std::uint16_t>(sizeof a + r.bytecode.size());
    a.nla_type = INET_DIAG_REQ_BYTECODE;
    wire::store(buf, len, a);
    len += sizeof a;
    total = len + r.bytecode.size();  // a multiple of 4: no padding after it
  }
  nlmsghdr h{};
  h.nlmsg_len = static_cast<std::uint32_t>(total);
  h.nlmsg_type = reply_type(r);
  h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  h.nlmsg_seq = seq;
  h.nlmsg_pid = 0;  // the kernel fills in the sender's port id
  wire::store(buf, 0, h);
  return {len, total};
}

static_assert(destroy_request_size == sizeof(nlmsghdr) + sizeof(inet_diag_req_v2));

std::size_t build_destroy(const socket_row& r, std::uint32_t seq,
                          std::span<std::byte> buf) noexcept {
  if (buf.size() < destroy_request_size) return 0;
  if ((r.family != AF_INET && r.family != AF_INET6) ||
      (r.protocol != IPPROTO_TCP && r.protocol != IPPROTO_UDP))
    return 0;
  inet_diag_req_v2 req{};
  req.sdiag_family = r.family;
  req.sdiag_protocol = static_cast<std::uint8_t>(r.protocol);  // TCP or UDP, checked above
  // The socket's identity as the dump gave it: addresses in network order (IPv4 in the first
  // word), ports in network order, the bound device, and the cookie split low word first
  // (sock_diag_save_cookie), which sock_diag_check_cookie() compares.
  const std::size_t alen = r.family == AF_INET ? 4 : 16;
  std::memcpy(req.id.idiag_src, r.local_addr.data(), alen);
  std::memcpy(req.id.idiag_dst, r.peer_addr.data(), alen);
  req.id.idiag_sport = htons(r.local_port);
  req.id.idiag_dport = htons(r.peer_port);
  req.id.idiag_if = r.ifindex;
  req.id.idiag_cookie[0] = static_cast<std::uint32_t>(r.cookie);
  req.id.idiag_cookie[1] = static_cast<std::uint32_t>(r.cookie >> 32);
  wire::store(buf, wire::header_size, req);
  nlmsghdr h{};
  h.nlmsg_len = static_cast<std::uint32_t>(destroy_request_size);
  h.nlmsg_type = SOCK_DESTROY;
  h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  h.nlmsg_seq = seq;
  wire::store(buf, 0, h);
  return destroy_request_size;
}

std::uint8_t inet_ext_of(const socket_query& q) noexcept {
  std::uint8_t ext = q.socket_memory ? skmeminfo_ext : 0;
  if (q.show.memory) ext |= memory_ext;
  if (q.show.tcp_info) ext |= tcp_info_ext;
  if (q.show.tos) ext |= tos_ext;
  return ext;
}

}  // namespace ssfast::netlink
