// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: filter text through the parser; whatever parses must compile into bytecode
// the kernel's audit accepts and that agrees with the evaluator on every socket of a fixed set.
#include <string_view>

#include "ssfast/core/addresses.h"
#include "ssfast/core/filter.h"
#include "ssfast/netlink/bytecode.h"
#include "ssfast/netlink/filter_bytecode.h"

namespace {

std::vector<ssfast::socket_row> sockets() {
  std::vector<ssfast::socket_row> v;
  const char* v4[] = {"127.0.0.1", "10.1.2.3", "0.0.0.0"};
  const char* v6[] = {"::1", "::ffff:127.0.0.1", "2001:db8::7"};
  const std::uint16_t ports[] = {0, 22, 443, 1024, 50000, 65535};
  for (int fam = 0; fam < 2; ++fam)
    for (int a = 0; a < 3; ++a)
      for (std::uint16_t lp : ports) {
        ssfast::socket_row r;
        r.family = fam == 0 ? 2 : 10;
        if (fam == 0) {
          ssfast::parse_ipv4(v4[a], r.local_addr);
          ssfast::parse_ipv4(v4[(a + 1) % 3], r.peer_addr);
        } else {
          ssfast::parse_ipv6(v6[a], r.local_addr);
          ssfast::parse_ipv6(v6[(a + 2) % 3], r.peer_addr);
        }
        r.local_port = lp;
        r.peer_port = ports[(lp + static_cast<unsigned>(a)) % 6];
        r.ifindex = static_cast<std::uint32_t>(a);  // dev conditions by index
        v.push_back(r);
      }
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<ssfast::socket_row> rows = sockets();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = ssfast::parse_filter({&text, 1});
  if (!parsed.filter) {
    if (parsed.error.empty()) __builtin_trap();  // a failure always says why
    return 0;
  }
  std::vector<std::byte> code;
  if (ssfast::netlink::compile_filter(*parsed.filter, code)) return 0;  // too long: an error
  if (!code.empty() && !ssfast::netlink::audit_bytecode(code)) __builtin_trap();
  for (const auto& r : rows) {
    // The evaluator judges an inet row unmarked, in no cgroup, autobound by its port alone.
    ssfast::netlink::bytecode_entry e{r.family, r.local_addr, r.peer_addr, r.local_port,
                                      r.peer_port};
    e.ifindex = r.ifindex;
    e.port_locked = false;
    const bool kernel = code.empty() || ssfast::netlink::run_bytecode(code, e);
    if (kernel != ssfast::matches_expression(*parsed.filter, r)) __builtin_trap();
  }
  return 0;
}
