// SPDX-License-Identifier: Apache-2.0
// sock_diag dump requests: a netlink header and an inet_diag_req_v2 or unix_diag_req.
#include "ssfast/netlink/request.h"

#include <sys/socket.h>

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
  } else if (r.what == dump_request::kind::inet) {
    inet_diag_req_v2 req{};
    req.sdiag_family = r.family;
    req.sdiag_protocol = r.protocol;
    req.idiag_ext = r.inet_ext;
    req.idiag_states = r.states;
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
  std::size_t total = len;
  if (!r.bytecode.empty() && r.what != dump_request::kind::unix_domain) {
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

}  // namespace ssfast::netlink
