// SPDX-License-Identifier: Apache-2.0
#include "support/syn_flood.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "support/scenario.h"

namespace ssfast::testing {
namespace {

in_addr parse(const std::string& s) {
  in_addr a{};
  if (inet_pton(AF_INET, s.c_str(), &a) != 1) throw std::runtime_error("not an IPv4 address: " + s);
  return a;
}

// The Internet checksum (RFC 1071) over `n` bytes, continuing `sum`.
std::uint32_t add_words(const void* p, std::size_t n, std::uint32_t sum) {
  const auto* b = static_cast<const std::uint8_t*>(p);
  for (std::size_t i = 0; i + 1 < n; i += 2)
    sum += static_cast<std::uint32_t>(b[i] << 8 | b[i + 1]);
  if (n % 2) sum += static_cast<std::uint32_t>(b[n - 1] << 8);
  return sum;
}

std::uint16_t fold(std::uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return htons(static_cast<std::uint16_t>(~sum & 0xFFFF));
}

}  // namespace

void route_spoofed_sources(const std::string& sources) {
  run_command({"ip", "route", "replace", sources, "dev", "lo"});
}

syn_sender::syn_sender() {
  fd_ = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);  // IP_HDRINCL implied
  if (fd_ < 0) throw std::runtime_error(std::string("raw socket: ") + std::strerror(errno));
}

syn_sender::~syn_sender() {
  if (fd_ >= 0) ::close(fd_);
}

void syn_sender::send(const std::string& source, std::uint16_t source_port, const std::string& dest,
                      std::uint16_t port) {
  struct {
    iphdr ip;
    tcphdr tcp;
  } p{};
  const in_addr from = parse(source), to = parse(dest);
  p.ip.version = 4;
  p.ip.ihl = 5;
  p.ip.ttl = 64;
  p.ip.protocol = IPPROTO_TCP;
  p.ip.tot_len = htons(sizeof p);
  p.ip.saddr = from.s_addr;
  p.ip.daddr = to.s_addr;  // the id and header checksum are the kernel's (raw(7))
  p.tcp.source = htons(source_port);
  p.tcp.dest = htons(port);
  p.tcp.seq = htonl(next_seq_ += 7919);
  p.tcp.doff = 5;
  p.tcp.syn = 1;
  p.tcp.window = htons(64240);
  // The TCP checksum covers a pseudo-header: addresses, protocol, TCP length.
  std::uint32_t sum = add_words(&p.ip.saddr, 8, 0);
  sum += IPPROTO_TCP + sizeof p.tcp;
  p.tcp.check = fold(add_words(&p.tcp, sizeof p.tcp, sum));
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_addr = to;
  if (::sendto(fd_, &p, sizeof p, 0, reinterpret_cast<const sockaddr*>(&dst), sizeof dst) !=
      static_cast<ssize_t>(sizeof p))
    throw std::runtime_error(std::string("sendto: ") + std::strerror(errno));
}

void syn_sender::flood(const std::string& first, std::uint32_t spread, const std::string& dest,
                       std::uint16_t port, std::uint32_t count) {
  const std::uint32_t base = ntohl(parse(first).s_addr);
  for (std::uint32_t i = 0; i < count; ++i) {
    in_addr a{};
    a.s_addr = htonl(base + (spread > 0 ? i % spread : 0));
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a, text, sizeof text);
    next_port_ = static_cast<std::uint16_t>(next_port_ >= 65000 ? 1024 : next_port_ + 1);
    send(text, next_port_, dest, port);
  }
}

}  // namespace ssfast::testing
