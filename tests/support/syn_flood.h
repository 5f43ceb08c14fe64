// SPDX-License-Identifier: Apache-2.0
// Test support: a real SYN flood in a private namespace, as hping3 --rand-source makes one.
// Raw SYNs from spoofed sources reach a loopback listener; its SYN-ACKs go to a route that
// swallows them, so the handshakes never complete and the request sockets stay half-open.
#pragma once

#include <cstdint>
#include <string>

namespace ssfast::testing {

/// Prepares the caller's (private) namespace for spoofed SYNs from `sources` (an IPv4 prefix,
/// "10.99.0.0/16"): a route over loopback, so the listener's SYN-ACKs to them find a route
/// (else the kernel drops the request: tcp_conn_request()'s route_req) and are then discarded
/// (an output route's input is dst_discard). Throws on failure.
void route_spoofed_sources(const std::string& sources);

/// A raw IPv4 socket sending SYNs with any source address. Needs CAP_NET_RAW.
class syn_sender {
 public:
  syn_sender();
  syn_sender(const syn_sender&) = delete;
  syn_sender& operator=(const syn_sender&) = delete;
  ~syn_sender();
  /// One SYN from source:source_port to dest:port (IPv4 dotted quads). Throws on failure.
  void send(const std::string& source, std::uint16_t source_port, const std::string& dest,
            std::uint16_t port);
  /// `count` SYNs to dest:port, the sources cycling through `first` + 0 .. `spread` - 1
  /// (host order arithmetic on the dotted quad), each from its own source port.
  void flood(const std::string& first, std::uint32_t spread, const std::string& dest,
             std::uint16_t port, std::uint32_t count);

 private:
  int fd_ = -1;
  std::uint16_t next_port_ = 1024;
  std::uint32_t next_seq_ = 0x1000;
};

}  // namespace ssfast::testing
