// SPDX-License-Identifier: Apache-2.0
// socket_destroyer: ss -K's SOCK_DESTROY through a sock_diag socket of its own.
#include <new>
#include <optional>

#include "ssfast/netlink/sock_diag.h"
#include "ssfast/ssfast.h"

namespace ssfast {

struct socket_destroyer::impl {
  std::optional<netlink::sock_diag_socket> socket;
};

socket_destroyer::socket_destroyer() : p_(std::make_unique<impl>()) {}
socket_destroyer::socket_destroyer(socket_destroyer&&) noexcept = default;
socket_destroyer& socket_destroyer::operator=(socket_destroyer&&) noexcept = default;
socket_destroyer::~socket_destroyer() = default;

std::error_code socket_destroyer::destroy(const socket_row& r) noexcept {
  if (!p_->socket) {
    auto s = netlink::sock_diag_socket::open();
    if (!s) return s.error();
    p_->socket.emplace(std::move(*s));
  }
  return p_->socket->destroy(r);
}

}  // namespace ssfast
