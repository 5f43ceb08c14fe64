// SPDX-License-Identifier: Apache-2.0
// Names a listing prints for numbers, as ss prints them: services for ports, cgroup paths for
// cgroup ids. The interface; the api's system_names answers from the host.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "ssfast/core/export.h"

namespace ssfast {

class SSFAST_API name_lookup {
 public:
  /// The service name of `port` for `protocol` (IPPROTO_TCP, IPPROTO_UDP), or "" to print
  /// the number. Valid until the next call.
  virtual std::string_view service(std::uint16_t port, std::uint16_t protocol) = 0;
  /// The host name of an address (ss -r: the resolver, /etc/hosts then DNS), or "" to print
  /// the address. `family` is AF_INET or AF_INET6. Valid until the next call.
  virtual std::string_view host(std::uint8_t family, const std::array<std::uint8_t, 16>& a) = 0;
  /// The name of network interface `ifindex` (a socket bound to a device), or "if<N>".
  /// Valid until the next call.
  virtual std::string_view interface_name(std::uint32_t ifindex) = 0;
  /// The cgroup (v2) path of cgroup id `id`, as ss prints it after "cgroup:". Valid until
  /// the next call.
  virtual std::string_view cgroup_path(std::uint64_t id) = 0;
  /// The name of IP protocol `protocol` (/etc/protocols: "icmp", "tcp"), or "ipproto-N", as
  /// ss prints a raw socket's port (iproute2 inet_proto_n2a). Valid until the next call.
  virtual std::string_view ip_protocol(std::uint8_t protocol) = 0;
  /// The command of process `pid` ((comm) of /proc/PID/stat, unescaped), or "" if there is none
  /// such: ss names a netlink socket's port id by the process of that id. Valid until the next
  /// call.
  virtual std::string_view process_name(std::uint32_t pid) = 0;

 protected:
  ~name_lookup() = default;
};

}  // namespace ssfast
