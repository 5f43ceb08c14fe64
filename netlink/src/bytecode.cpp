// SPDX-License-Identifier: Apache-2.0
// Compiling, running and auditing INET_DIAG port-range programs (net/ipv4/inet_diag.c:
// inet_diag_bc_run, inet_diag_bc_audit, valid_cc).
#include "ssfast/netlink/bytecode.h"

#include <linux/inet_diag.h>
#include <sys/socket.h>

#include <cstring>

#include "ssfast/core/addresses.h"
#include "ssfast/core/kernel_abi.h"

namespace ssfast::netlink {
namespace {

constexpr std::size_t op_size = sizeof(inet_diag_bc_op);  // 4

inet_diag_bc_op load_op(std::span<const std::byte> p, std::size_t off) noexcept {
  inet_diag_bc_op op;
  std::memcpy(&op, p.data() + off, sizeof op);
  return op;
}

bool is_port_op(unsigned char code) noexcept {
  return code == INET_DIAG_BC_S_GE || code == INET_DIAG_BC_S_LE || code == INET_DIAG_BC_D_GE ||
         code == INET_DIAG_BC_D_LE;
}

// Emits ops into a buffer; offsets are known in advance, so jumps are written directly.
class emitter {
 public:
  explicit emitter(std::span<std::byte> out) : out_(out) {}
  // A port comparison at `at`: yes to the next op, no to `no_to` (an absolute offset).
  void port(std::size_t at, unsigned char code, std::uint16_t port, std::size_t no_to,
            std::size_t yes_to) {
    put(at,
        {code, static_cast<unsigned char>(yes_to - at), static_cast<unsigned short>(no_to - at)});
    put(at + op_size, {0, 0, port});
  }
  // JMP at `at`: always takes "no" (to `no_to`); "yes" names the next op for the audit.
  void jump(std::size_t at, std::size_t no_to) {
    put(at, {INET_DIAG_BC_JMP, static_cast<unsigned char>(op_size),
             static_cast<unsigned short>(no_to - at)});
  }

 private:
  void put(std::size_t at, inet_diag_bc_op op) { std::memcpy(out_.data() + at, &op, sizeof op); }
  std::span<std::byte> out_;
};

}  // namespace

std::size_t compile_key_range(std::uint16_t lo, std::uint16_t hi, std::uint16_t ephemeral_low,
                              std::span<std::byte> out) noexcept {
  // key in [lo, hi] is
  //   (sport >= L && sport >= lo && sport <= hi) || (sport <= L-1 && dport >= lo && dport <= hi)
  // The kernel runs the program once per socket in every partition's walk, so comparisons that
  // always hold are left out: >= 0, <= 65535, and sport >= L when lo >= L. The first term is
  // dropped when it cannot hold (hi < L). Layout, with rejecting jumps landing 4 bytes past the
  // end (the kernel stops with len < 0) and accepting ones exactly at the end:
  //   [term 1: each op yes -> next, no -> term 2] [JMP no -> end] [term 2: no -> reject]
  // Every "no" target is on the chain of "yes" jumps, as inet_diag_bc_audit's valid_cc wants;
  // the JMP (which always takes "no") is what lets term 1's success skip term 2.
  if (lo > hi || ephemeral_low == 0) return 0;
  struct cond {
    unsigned char code;
    std::uint16_t port;
  };
  const std::uint16_t low = ephemeral_low;
  cond t1[3], t2[3];
  std::size_t n1 = 0, n2 = 0;
  const bool term1 = hi >= low;
  if (term1) {
    if (lo < low) t1[n1++] = {INET_DIAG_BC_S_GE, low};
    if (lo > 0) t1[n1++] = {INET_DIAG_BC_S_GE, lo};
    if (hi < 65535) t1[n1++] = {INET_DIAG_BC_S_LE, hi};
  }
  t2[n2++] = {INET_DIAG_BC_S_LE, static_cast<std::uint16_t>(low - 1)};
  if (lo > 0) t2[n2++] = {INET_DIAG_BC_D_GE, lo};
  if (hi < 65535) t2[n2++] = {INET_DIAG_BC_D_LE, hi};

  const std::size_t term2_at = term1 ? n1 * 2 * op_size + op_size : 0;
  const std::size_t size = term2_at + n2 * 2 * op_size;
  if (out.size() < size) return 0;
  emitter e(out);
  std::size_t at = 0;
  for (std::size_t i = 0; i < n1; ++i, at += 2 * op_size)
    e.port(at, t1[i].code, t1[i].port, term2_at, at + 2 * op_size);
  if (term1) {
    e.jump(at, size);
    at += op_size;
  }
  for (std::size_t i = 0; i < n2; ++i, at += 2 * op_size)
    e.port(at, t2[i].code, t2[i].port, size + op_size, at + 2 * op_size);
  return size;
}

namespace {

// The operand after the op at `off` (unaligned: a cgroup id is 8 bytes after a 4-byte op);
// false if the program ends first.
template <class T>
bool operand_at(std::span<const std::byte> program, std::size_t off, T& out) noexcept {
  if (off + op_size + sizeof out > program.size()) return false;
  std::memcpy(&out, program.data() + off + op_size, sizeof out);
  return true;
}

}  // namespace

bool run_bytecode(std::span<const std::byte> program, const bytecode_entry& e) noexcept {
  long len = static_cast<long>(program.size());
  std::size_t off = 0;
  auto op_at = [&](std::size_t o) {
    inet_diag_bc_op op;
    std::memcpy(&op, program.data() + o, sizeof op);
    return op;
  };
  while (len > 0) {
    if (off + op_size > program.size()) return false;
    const inet_diag_bc_op op = op_at(off);
    bool yes = true;
    switch (op.code) {
      case INET_DIAG_BC_NOP: break;
      case INET_DIAG_BC_JMP: yes = false; break;
      case INET_DIAG_BC_S_GE:
      case INET_DIAG_BC_S_LE:
      case INET_DIAG_BC_D_GE:
      case INET_DIAG_BC_D_LE: {
        if (off + 2 * op_size > program.size()) return false;
        const std::uint16_t port = op_at(off + op_size).no;
        const bool s = op.code == INET_DIAG_BC_S_GE || op.code == INET_DIAG_BC_S_LE;
        const std::uint16_t v = s ? e.sport : e.dport;
        yes = op.code == INET_DIAG_BC_S_GE || op.code == INET_DIAG_BC_D_GE ? v >= port : v <= port;
        break;
      }
      case INET_DIAG_BC_S_COND:
      case INET_DIAG_BC_D_COND: {
        inet_diag_hostcond cond;
        if (!operand_at(program, off, cond)) return false;
        const std::size_t addr_len = cond.family == AF_INET ? 4 : cond.family == AF_INET6 ? 16 : 0;
        if (off + op_size + sizeof cond + addr_len > program.size()) return false;
        std::uint8_t addr[16] = {};
        std::memcpy(addr, program.data() + off + op_size + sizeof cond, addr_len);
        const bool s = op.code == INET_DIAG_BC_S_COND;
        const address_bytes& a = s ? e.saddr : e.daddr;
        if (cond.port != -1 && cond.port != (s ? e.sport : e.dport)) {
          yes = false;
        } else if (cond.family != AF_UNSPEC && cond.family != e.family) {
          // An IPv4 condition matches an IPv4-mapped IPv6 address (inet_diag_bc_run).
          yes = e.family == AF_INET6 && cond.family == AF_INET && is_v4_mapped(a) &&
                prefix_match(a.data() + 12, addr, cond.prefix_len);
        } else {
          yes = cond.prefix_len == 0 || prefix_match(a.data(), addr, cond.prefix_len);
        }
        break;
      }
      // inet_diag_bc_run: the operand follows the op, unaligned for the 64-bit cgroup id.
      case INET_DIAG_BC_DEV_COND: {
        std::uint32_t ifindex = 0;
        if (!operand_at(program, off, ifindex)) return false;
        yes = ifindex == e.ifindex;
        break;
      }
      case INET_DIAG_BC_MARK_COND: {
        inet_diag_markcond cond;
        if (!operand_at(program, off, cond)) return false;
        yes = (e.mark & cond.mask) == cond.mark;
        break;
      }
      case INET_DIAG_BC_CGROUP_COND: {
        std::uint64_t id = 0;
        if (!operand_at(program, off, id)) return false;
        yes = id == e.cgroup;
        break;
      }
      case INET_DIAG_BC_AUTO: yes = !e.port_locked; break;
      default: return false;
    }
    const std::size_t step = yes ? op.yes : op.no;
    len -= static_cast<long>(step);
    off += step;
  }
  return len == 0;
}

bool audit_bytecode(std::span<const std::byte> program) noexcept {
  const long total = static_cast<long>(program.size());
  if (total < static_cast<long>(op_size) || total % 4 != 0) return false;
  // valid_cc: is a jump landing with `cc` bytes left on the chain of "yes" jumps?
  auto on_yes_chain = [&](long cc) {
    long len = total;
    std::size_t off = 0;
    while (len >= 0) {
      if (cc > len) return false;
      if (cc == len) return true;
      const inet_diag_bc_op op = load_op(program, off);
      if (op.yes < 4 || op.yes % 4 != 0) return false;
      len -= op.yes;
      off += op.yes;
    }
    return false;
  };
  long len = total;
  std::size_t off = 0;
  while (len > 0) {
    if (len < static_cast<long>(op_size)) return false;
    const inet_diag_bc_op op = load_op(program, off);
    long min_len = static_cast<long>(op_size);
    if (is_port_op(op.code)) {
      min_len += static_cast<long>(op_size);
      if (len < min_len) return false;
    } else if (op.code == INET_DIAG_BC_S_COND || op.code == INET_DIAG_BC_D_COND) {
      // valid_hostcond: the condition, then an address as long as its family says.
      min_len += static_cast<long>(sizeof(inet_diag_hostcond));
      if (len < min_len) return false;
      inet_diag_hostcond cond;
      std::memcpy(&cond, program.data() + off + op_size, sizeof cond);
      const long addr_len = cond.family == 0               ? 0
                            : cond.family == abi::af_inet  ? 4
                            : cond.family == abi::af_inet6 ? 16
                                                           : -1;
      if (addr_len < 0) return false;
      min_len += addr_len;
      if (len < min_len || cond.prefix_len > 8 * addr_len) return false;
    } else if (op.code == INET_DIAG_BC_DEV_COND || op.code == INET_DIAG_BC_MARK_COND ||
               op.code == INET_DIAG_BC_CGROUP_COND) {
      // valid_devcond, valid_markcond, valid_cgroupcond: the operand fits.
      min_len += op.code == INET_DIAG_BC_DEV_COND    ? static_cast<long>(sizeof(std::uint32_t))
                 : op.code == INET_DIAG_BC_MARK_COND ? static_cast<long>(sizeof(inet_diag_markcond))
                                                     : static_cast<long>(sizeof(std::uint64_t));
      if (len < min_len) return false;
    } else if (op.code != INET_DIAG_BC_JMP && op.code != INET_DIAG_BC_NOP &&
               op.code != INET_DIAG_BC_AUTO) {
      return false;
    }
    if (op.code != INET_DIAG_BC_NOP) {
      if (op.no < min_len || op.no > len + 4 || op.no % 4 != 0) return false;
      if (op.no < len && !on_yes_chain(len - op.no)) return false;
    }
    if (op.yes < min_len || op.yes > len + 4 || op.yes % 4 != 0) return false;
    off += op.yes;
    len -= op.yes;
  }
  return len == 0;
}

void split_key_space(const key_histogram& histogram, std::size_t parts, std::uint16_t ephemeral_low,
                     std::uint16_t ephemeral_high,
                     std::array<std::uint16_t, max_partitions>& first) noexcept {
  first.fill(0);
  if (parts < 1) parts = 1;
  if (parts > max_partitions) parts = max_partitions;
  std::uint64_t total = 0;
  for (auto n : histogram) total += n;
  if (total == 0) {
    // No earlier snapshot: assume keys spread evenly over the ephemeral range.
    if (ephemeral_high < ephemeral_low) ephemeral_high = ephemeral_low;
    const std::uint32_t span = std::uint32_t{ephemeral_high} - ephemeral_low + 1;
    for (std::size_t i = 1; i < parts; ++i)
      first[i] = static_cast<std::uint16_t>(ephemeral_low + span * i / parts);
    return;
  }
  // Quantiles at 256-port resolution: partition i starts at the bin where the running weight
  // passes i/parts of the total. Empty partitions are harmless (one more walk, no messages).
  std::size_t part = 1;
  std::uint64_t seen = 0;
  for (std::size_t bin = 0; bin < histogram.size() && part < parts; ++bin) {
    seen += histogram[bin];
    while (part < parts && seen * parts >= total * part) {
      first[part] = static_cast<std::uint16_t>(bin < 255 ? (bin + 1) << 8 : 0xFF00);
      ++part;
    }
  }
  for (; part < parts; ++part) first[part] = 0xFF00;
  // Keep the starts strictly increasing so every range is non-empty.
  for (std::size_t i = 1; i < parts; ++i)
    if (first[i] <= first[i - 1]) first[i] = static_cast<std::uint16_t>(first[i - 1] + 1);
}

}  // namespace ssfast::netlink
