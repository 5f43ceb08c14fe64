// sock_diag dump requests: a netlink header and an inet_diag_req_v2 or unix_diag_req.
#include "ssfast/netlink/request.h"

#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include "wire.h"

namespace ssfast::netlink {

std::uint16_t reply_type(const dump_request& r) noexcept {
  return r.what == dump_request::kind::inet_legacy ? TCPDIAG_GETSOCK : SOCK_DIAG_BY_FAMILY;
}

std::size_t build_request(const dump_request& r, std::uint32_t seq,
                          std::span<std::byte> buf) noexcept {
  if (buf.size() < max_request_size) return 0;
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
  if (!r.bytecode.empty() && r.what != dump_request::kind::unix_domain) {
    // inet_diag_parse_attrs() looks for INET_DIAG_REQ_BYTECODE after the request struct.
    const std::size_t attr_len = sizeof(nlattr) + r.bytecode.size();
    if (len + wire::align(attr_len) > max_request_size) return 0;
    nlattr a{};
    a.nla_len = static_cast<std::uint16_t>(attr_len);
    a.nla_type = INET_DIAG_REQ_BYTECODE;
    wire::store(buf, len, a);
    std::memcpy(buf.data() + len + sizeof a, r.bytecode.data(), r.bytecode.size());
    len += wire::align(attr_len);
  }
  nlmsghdr h{};
  h.nlmsg_len = static_cast<std::uint32_t>(len);
  h.nlmsg_type = reply_type(r);
  h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  h.nlmsg_seq = seq;
  h.nlmsg_pid = 0;  // the kernel fills in the sender's port id
  wire::store(buf, 0, h);
  return h.nlmsg_len;
}

}  // namespace ssfast::netlink
