// SPDX-License-Identifier: Apache-2.0
// Filter expressions compiled to INET_DIAG bytecode (net/ipv4/inet_diag.c); the interpreter
// that checks a program against the kernel's semantics is bytecode.cpp's run_bytecode.
#include "ssfast/netlink/filter_bytecode.h"

#include <linux/inet_diag.h>
#include <sys/socket.h>

#include <cstring>

#include "ssfast/core/addresses.h"
#include "ssfast/core/error.h"
#include "ssfast/core/kernel_abi.h"
#include "ssfast/netlink/bytecode.h"

namespace ssfast::netlink {
namespace {

constexpr std::size_t op_size = sizeof(inet_diag_bc_op);

// A compiled block: running off its end is true, jumping to end + 4 is false. `ops` are the
// offsets of every op with a "no" jump, for patching when blocks are joined.
struct block {
  std::vector<std::byte> code;
  std::vector<std::size_t> ops;

  std::size_t size() const { return code.size(); }
  inet_diag_bc_op op_at(std::size_t off) const {
    inet_diag_bc_op op;
    std::memcpy(&op, code.data() + off, sizeof op);
    return op;
  }
  void set_op(std::size_t off, const inet_diag_bc_op& op) {
    std::memcpy(code.data() + off, &op, sizeof op);
  }
  void emit(const void* p, std::size_t n) {
    const auto* b = static_cast<const std::byte*>(p);
    code.insert(code.end(), b, b + n);
  }
  // An op with its operand: yes -> the next op, no -> this block's false exit (end + 4).
  void leaf(unsigned char code_, const void* operand, std::size_t operand_size) {
    const std::size_t len = op_size + operand_size;
    ops.push_back(size());
    const inet_diag_bc_op op{code_, static_cast<unsigned char>(len),
                             static_cast<unsigned short>(len + 4)};
    emit(&op, sizeof op);
    if (operand_size > 0) emit(operand, operand_size);
  }
  void append(const block& b) {
    const std::size_t base = size();
    code.insert(code.end(), b.code.begin(), b.code.end());
    for (std::size_t o : b.ops) ops.push_back(base + o);
  }
  void jmp(unsigned short no) {
    ops.push_back(size());
    const inet_diag_bc_op op{INET_DIAG_BC_JMP, static_cast<unsigned char>(op_size), no};
    emit(&op, sizeof op);
  }
};

block port_op(unsigned char code, std::uint16_t port) {
  block b;
  const inet_diag_bc_op operand{0, 0, port};  // the port rides in a second op's "no"
  b.leaf(code, &operand, sizeof operand);
  return b;
}

// AND: the left block's false exits move to the joined block's false exit.
block join_and(block a, const block& b) {
  for (std::size_t off : a.ops) {
    inet_diag_bc_op op = a.op_at(off);
    if (off + op.no == a.size() + 4) {
      op.no = static_cast<unsigned short>(op.no + b.size());
      a.set_op(off, op);
    }
  }
  a.append(b);
  return a;
}

block compile(const socket_filter& f, std::uint16_t i) {
  const filter_node& n = f.nodes[i];
  const bool src = n.on == filter_node::side::src;
  block b;
  switch (n.what) {
    case filter_node::kind::port_range: {
      const unsigned char ge = src ? INET_DIAG_BC_S_GE : INET_DIAG_BC_D_GE;
      const unsigned char le = src ? INET_DIAG_BC_S_LE : INET_DIAG_BC_D_LE;
      // Each comparison is a block of its own, joined as an AND (its false exit patched).
      if (n.lo > n.hi) return join_and(port_op(le, 0), port_op(ge, 1));  // never holds
      if (n.lo > 0 && n.hi < 65535) return join_and(port_op(ge, n.lo), port_op(le, n.hi));
      if (n.lo > 0) return port_op(ge, n.lo);
      if (n.hi < 65535) return port_op(le, n.hi);
      return b;  // [0, 65535]: always true, an empty block
    }
    case filter_node::kind::host: {
      // inet_diag_hostcond, then the address (its flexible array member) as long as the family
      // says: nothing for "any address".
      inet_diag_hostcond cond{};
      cond.family = n.family == abi::af_inet    ? AF_INET
                    : n.family == abi::af_inet6 ? AF_INET6
                                                : AF_UNSPEC;
      cond.prefix_len = n.prefix_len;
      cond.port = n.port;
      const std::size_t addr_len = n.family == abi::af_inet    ? 4
                                   : n.family == abi::af_inet6 ? 16
                                                               : 0;
      std::byte operand[sizeof(inet_diag_hostcond) + 16];
      std::memcpy(operand, &cond, sizeof cond);
      std::memcpy(operand + sizeof cond, n.addr.data(), addr_len);
      b.leaf(src ? INET_DIAG_BC_S_COND : INET_DIAG_BC_D_COND, operand, sizeof cond + addr_len);
      return b;
    }
    // inet_diag_bc_run's conditions on the socket itself: the operand follows the op.
    case filter_node::kind::device: {
      const auto ifindex = static_cast<std::uint32_t>(n.value);
      b.leaf(INET_DIAG_BC_DEV_COND, &ifindex, sizeof ifindex);
      return b;
    }
    case filter_node::kind::mark: {
      const inet_diag_markcond cond{static_cast<std::uint32_t>(n.value), n.mask};
      b.leaf(INET_DIAG_BC_MARK_COND, &cond, sizeof cond);
      return b;
    }
    case filter_node::kind::cgroup: {
      const std::uint64_t id = n.value;
      b.leaf(INET_DIAG_BC_CGROUP_COND, &id, sizeof id);
      return b;
    }
    case filter_node::kind::autobound: {
      b.leaf(INET_DIAG_BC_AUTO, nullptr, 0);
      filter_node range = n;
      range.what = filter_node::kind::port_range;
      range.on = filter_node::side::src;
      socket_filter one;
      one.nodes.push_back(range);
      return join_and(std::move(b), compile(one, 0));
    }
    // A UNIX name never matches an inet socket: a range that never holds, as for lo > hi.
    case filter_node::kind::unix_name:
      return join_and(port_op(INET_DIAG_BC_S_LE, 0), port_op(INET_DIAG_BC_S_GE, 1));
    case filter_node::kind::and_: return join_and(compile(f, n.a), compile(f, n.b));
    case filter_node::kind::or_: {
      // [a][JMP -> end][b]: a's false exit (a.end + 4) is b's start, on the yes chain through
      // the JMP; a's true exit falls into the JMP.
      block a = compile(f, n.a);
      const block rhs = compile(f, n.b);
      a.jmp(static_cast<unsigned short>(op_size + rhs.size()));
      a.append(rhs);
      return a;
    }
    case filter_node::kind::not_: {
      // [a][JMP -> end + 4]: a's false exit (a.end + 4) is this block's end (true); a's true
      // exit falls into the JMP, which jumps to this block's false exit.
      block a = compile(f, n.a);
      a.jmp(static_cast<unsigned short>(2 * op_size));
      return a;
    }
  }
  return b;
}

// Whether the tree under `root` is at most max_filter_depth levels deep (and its indices in
// range), found without recursion: compile() recurses once per level, and a filter built by
// hand need not be as shallow as parse_filter's.
bool shallow_enough(const socket_filter& f, std::uint16_t root) {
  std::vector<std::pair<std::uint16_t, std::size_t>> stack{{root, 1}};
  while (!stack.empty()) {
    const auto [i, depth] = stack.back();
    stack.pop_back();
    if (i >= f.nodes.size() || depth > max_filter_depth) return false;
    const filter_node& n = f.nodes[i];
    if (n.what == filter_node::kind::and_ || n.what == filter_node::kind::or_) {
      stack.push_back({n.a, depth + 1});
      stack.push_back({n.b, depth + 1});
    } else if (n.what == filter_node::kind::not_) {
      stack.push_back({n.a, depth + 1});
    }
  }
  return true;
}

}  // namespace

std::error_code compile_filter(const socket_filter& f, std::vector<std::byte>& out) {
  out.clear();
  if (!f.root) return {};
  if (!shallow_enough(f, *f.root)) return errc::filter_too_large;
  block b = compile(f, *f.root);
  if (b.size() > max_filter_bytecode) return errc::filter_too_large;
  out = std::move(b.code);
  return {};
}

}  // namespace ssfast::netlink
