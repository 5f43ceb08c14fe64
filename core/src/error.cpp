// SPDX-License-Identifier: Apache-2.0
// The "ssfast" error category: one static message per ssfast::errc.
#include "ssfast/core/error.h"

namespace ssfast {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "ssfast"; }
  std::string message(int ev) const override { return errc_message(ev); }
};

}  // namespace

const char* errc_message(int value) noexcept {
  switch (static_cast<errc>(value)) {
    case errc::truncated: return "message truncated";
    case errc::bad_message: return "malformed message";
    case errc::foreign_sender: return "datagram from a sender other than the kernel";
    case errc::portid_mismatch: return "message addressed to another netlink port id";
    case errc::seq_mismatch: return "message answers another request (sequence number)";
    case errc::unexpected_message: return "unexpected netlink message type";
    case errc::dump_interrupted: return "dump interrupted: the kernel flagged it inconsistent";
    case errc::unexpected_eof: return "end of data before the dump was done";
    case errc::bad_state: return "socket state outside the kernel's range";
    case errc::backend_unavailable: return "no socket source is available";
    case errc::parse_error: return "unexpected file format";
    case errc::not_a_network_namespace:
      return "not a network namespace file (/run/netns/NAME or /proc/PID/ns/net)";
    case errc::bad_filter:
      return "the filter does not parse (ss's filter language: state, sport, dport, src, dst, "
             "and, or, not, parentheses)";
    case errc::process_exited: return "the process whose network namespace is watched has exited";
    case errc::not_a_regular_file:
      return "not a regular file (a FIFO, a device or a directory), as every /proc file is";
    case errc::not_procfs:
      return "not a proc filesystem (statfs): no process can be seen there; mount proc on it";
    case errc::filter_needs_netlink:
      return "dev, fwmark, cgroup and autobound conditions are judged by the kernel (INET_DIAG "
             "bytecode): /proc shows no socket's device binding, mark, cgroup or bind lock";
    case errc::filter_too_large:
      return "the filter compiles to more than 65528 bytes of kernel bytecode, the most one "
             "request can carry";
  }
  return "unknown ssfast error";
}

const std::error_category& error_category() noexcept {
  static const category instance;
  return instance;
}

}  // namespace ssfast
