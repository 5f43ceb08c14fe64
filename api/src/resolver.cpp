// SPDX-License-Identifier: Apache-2.0
// Name lookups for filters through the C library: services and host names, as ss resolves them.
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <string>

#include "ssfast/ssfast.h"

namespace ssfast {
namespace {

// getservbyname_r for one protocol: the port in host order, or -1.
std::int32_t one_service(const std::string& name, const char* proto) noexcept {
  servent se{}, *found = nullptr;
  char buf[1024];
  if (getservbyname_r(name.c_str(), proto, &se, buf, sizeof buf, &found) != 0 || found == nullptr)
    return -1;
  return ntohs(static_cast<std::uint16_t>(found->s_port));
}

// ss's parse_hostcond asks for TCP and UDP and refuses a name that differs between them.
std::int32_t service(std::string_view name) {
  const std::string n(name);
  const std::int32_t tcp = one_service(n, "tcp"), udp = one_service(n, "udp");
  if (tcp >= 0 && udp >= 0 && tcp != udp) return -2;
  return tcp >= 0 ? tcp : udp;
}

std::vector<std::pair<std::uint8_t, address_bytes>> host(std::string_view name) {
  std::vector<std::pair<std::uint8_t, address_bytes>> out;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;  // one entry per address, not one per socket type
  addrinfo* res = nullptr;
  if (getaddrinfo(std::string(name).c_str(), nullptr, &hints, &res) != 0) return out;
  for (const addrinfo* a = res; a != nullptr; a = a->ai_next) {
    address_bytes b{};
    std::uint8_t family = 0;
    if (a->ai_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(a->ai_addr);
      std::memcpy(b.data(), &in->sin_addr, 4);
      family = AF_INET;
    } else if (a->ai_family == AF_INET6) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(a->ai_addr);
      std::memcpy(b.data(), &in6->sin6_addr, 16);
      family = AF_INET6;
    } else {
      continue;
    }
    bool seen = false;
    for (const auto& [f, x] : out) seen |= f == family && x == b;
    if (!seen) out.emplace_back(family, b);
  }
  freeaddrinfo(res);
  return out;
}

}  // namespace

filter_resolver system_filter_resolver() noexcept {
  filter_resolver r;
  r.service = &service;
  r.host = &host;
  return r;
}

}  // namespace ssfast
