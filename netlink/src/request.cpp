// sock_diag dump requests: a netlink header and an inet_diag_req_v2 or unix_diag_req.
#include "ssfast/netlink/request.h"

#include <sys/socket.h>

#include <algorithm>

#include "wire.h"

namespace ssfast::netlink {

std::size_t build_request(const dump_request& r, std::uint32_t seq,
                          std::span<std::byte> buf) noexcept {
  if (buf.size() < max_request_size) return 0;
  std::size_t body = 0;
  if (r.what == dump_request::kind::inet) {
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
  nlmsghdr h{};
  h.nlmsg_len = static_cast<std::uint32_t>(wire::header_size + body);
  h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  h.nlmsg_seq = seq;
  h.nlmsg_pid = 0;  // the kernel fills in the sender's port id
  wire::store(buf, 0, h);
  return h.nlmsg_len;
}

}  // namespace ssfast::netlink
