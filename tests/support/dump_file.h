// SPDX-License-Identifier: Apache-2.0
// Recorded sock_diag dumps: every datagram of one dump with its sender, plus the port id and
// sequence number the replies must carry, so the pure parser can replay them with no kernel.
//
// Format (host byte order, as netlink itself): "SSFNLDMP", u32 version (1), u32 portid,
// u32 seq, u32 datagram count, then per datagram: u32 sender port id, u32 length, the bytes,
// zero padding to a multiple of 4.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ssfast::testing {

struct recorded_datagram {
  std::uint32_t sender_portid = 0;
  std::vector<std::byte> bytes;
};

struct recorded_dump {
  std::uint32_t portid = 0;
  std::uint32_t seq = 0;
  std::vector<recorded_datagram> datagrams;
};

/// Throws std::runtime_error on I/O errors or a malformed file.
recorded_dump read_dump_file(const std::string& path);
void write_dump_file(const std::string& path, const recorded_dump& d);

}  // namespace ssfast::testing
