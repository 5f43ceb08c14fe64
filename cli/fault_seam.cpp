// SPDX-License-Identifier: Apache-2.0
// Test builds only: the environment variable that makes netlink fail, for the fallback tests.
#include <cerrno>
#include <charconv>

#include "options.h"

namespace ssfast::cli {

#if defined(SSFAST_TEST_SEAMS)
std::string parse_fault(std::string_view value, detail::netlink_fault& out) {
  static constexpr std::pair<std::string_view, int> names[] = {{"EPROTONOSUPPORT", EPROTONOSUPPORT},
                                                               {"EAFNOSUPPORT", EAFNOSUPPORT},
                                                               {"EACCES", EACCES},
                                                               {"EPERM", EPERM},
                                                               {"ENOENT", ENOENT},
                                                               {"EOPNOTSUPP", EOPNOTSUPP},
                                                               {"EINVAL", EINVAL},
                                                               {"ENOBUFS", ENOBUFS}};
  const std::size_t colon = value.find(':');
  const std::string_view where = value.substr(0, colon);
  const std::string_view err =
      colon == std::string_view::npos ? std::string_view{} : value.substr(colon + 1);
  const std::string bad = std::string(fault_env) + "='" + std::string(value) +
                          "': expected open:ERRNO, dump:ERRNO or dump:hang";
  if (where != "open" && where != "dump") return bad;
  out.at_dump = where == "dump";
  out.error = 0;
  out.hang = where == "dump" && err == "hang";
  if (out.hang) return {};
  for (const auto& [n, e] : names)
    if (err == n) out.error = e;
  if (out.error == 0) {
    int v = 0;
    auto [p, ec] = std::from_chars(err.data(), err.data() + err.size(), v);
    if (ec != std::errc{} || p != err.data() + err.size() || v <= 0 || v > 4095) return bad;
    out.error = v;
  }
  return {};
}
#endif

}  // namespace ssfast::cli
