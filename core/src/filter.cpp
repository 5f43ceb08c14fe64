// SPDX-License-Identifier: Apache-2.0
// Parsing ss-style socket filters: the words of ss's grammar (iproute2 misc/ssfilter.y) into
// a socket_filter, with errors that name the word.
#include "ssfast/core/filter.h"

#include <algorithm>
#include <charconv>
#include <optional>

#include "ssfast/core/addresses.h"
#include "ssfast/core/kernel_abi.h"
#include "ssfast/core/tcp_state.h"

namespace ssfast {
namespace {

using abi::af_inet;
using abi::af_inet6;
constexpr std::size_t max_depth = 64;  // nesting of not/parentheses
// Node indices are 16 bits. Long filters are bounded by the kernel's bytecode limit well
// before this (netlink/: 65528 bytes, about 2,000 address or 3,000 port conditions).
constexpr std::size_t max_nodes = 65535;
// Evaluation and compilation recurse once per level of the tree. Runs of one operator are
// built balanced, so only parentheses, `not` and switches between and/or add levels.
constexpr std::size_t max_tree_depth = 512;

struct token {
  std::string_view text;
  std::size_t pos;  // 1-based character position in the joined text
};

bool is_punct(char c) {
  return c == '(' || c == ')' || c == '!' || c == '=' || c == '<' || c == '>' || c == '&' ||
         c == '|';
}

std::vector<token> lex(std::string_view s) {
  std::vector<token> out;
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n') {
      ++i;
      continue;
    }
    std::size_t n = 1;
    if (is_punct(c)) {
      // Two-character operators: != == <= >= && ||
      if (i + 1 < s.size() &&
          ((s[i + 1] == '=' && (c == '!' || c == '=' || c == '<' || c == '>')) ||
           (c == '&' && s[i + 1] == '&') || (c == '|' && s[i + 1] == '|')))
        n = 2;
    } else {
      while (i + n < s.size() && !is_punct(s[i + n]) && s[i + n] != ' ' && s[i + n] != '\t' &&
             s[i + n] != '\n')
        ++n;
    }
    out.push_back({s.substr(i, n), i + 1});
    i += n;
  }
  return out;
}

class parser {
 public:
  parser(std::vector<token> toks, socket_filter& f, std::string& err,
         const filter_resolver& resolve, std::uint8_t default_family)
      : toks_(std::move(toks)),
        f_(f),
        err_(err),
        resolve_(resolve),
        default_family_(default_family) {}

  bool run() {
    while (at("state") || at("exclude")) {
      const bool exclude = at("exclude");
      ++i_;
      if (i_ >= toks_.size())
        return fail_end(exclude ? "a state after 'exclude'" : "a state after 'state'");
      const auto bits = state_set(toks_[i_].text);
      if (!bits) return fail("unknown state '" + std::string(toks_[i_].text) + "'");
      // As ss: the first `state` starts from nothing, the first `exclude` from every state.
      if (!f_.states) f_.states = exclude ? state_set("all").value() : 0u;
      *f_.states = exclude ? (*f_.states & ~*bits) : (*f_.states | *bits);
      ++i_;
    }
    if (i_ == toks_.size()) return true;
    std::uint16_t root = 0;
    if (!expr(root, 0)) return false;
    if (too_long_) return fail("more than 65535 conditions and operators");
    if (too_deep_) return fail("more than 512 levels of parentheses, not and and/or switches");
    if (i_ != toks_.size()) return fail("unexpected '" + std::string(toks_[i_].text) + "'");
    f_.root = root;
    return true;
  }

 private:
  bool at(std::string_view t) const { return i_ < toks_.size() && toks_[i_].text == t; }
  bool at_any(std::initializer_list<std::string_view> ts) const {
    for (auto t : ts)
      if (at(t)) return true;
    return false;
  }
  bool fail(std::string msg) {
    const std::size_t pos = i_ < toks_.size() ? toks_[i_].pos : end_pos();
    err_ = "filter: " + msg + " at position " + std::to_string(pos);
    return false;
  }
  bool fail_end(std::string_view wanted) {
    err_ = "filter: expected " + std::string(wanted) + " at the end (position " +
           std::to_string(end_pos()) + ")";
    return false;
  }
  std::size_t end_pos() const {
    return toks_.empty() ? 1 : toks_.back().pos + toks_.back().text.size();
  }
  std::uint16_t add(filter_node n) {
    if (f_.nodes.size() >= max_nodes) {
      too_long_ = true;
      return 0;
    }
    std::uint16_t d = 1;
    if (n.what == filter_node::kind::and_ || n.what == filter_node::kind::or_)
      d = static_cast<std::uint16_t>(1 + std::max(levels_[n.a], levels_[n.b]));
    else if (n.what == filter_node::kind::not_)
      d = static_cast<std::uint16_t>(1 + levels_[n.a]);
    if (d > max_tree_depth) too_deep_ = true;
    f_.nodes.push_back(n);
    levels_.push_back(d);
    return static_cast<std::uint16_t>(f_.nodes.size() - 1);
  }
  std::uint16_t combine(filter_node::kind k, std::uint16_t a, std::uint16_t b) {
    filter_node n;
    n.what = k;
    n.a = a;
    n.b = b;
    return add(n);
  }
  // One operator over operands [lo, hi), as a balanced tree: the same truth value as the
  // left-deep chain (and and or are associative), at logarithmic depth.
  std::uint16_t balanced(filter_node::kind k, const std::vector<std::uint16_t>& v, std::size_t lo,
                         std::size_t hi) {
    if (hi - lo == 1) return v[lo];
    const std::size_t mid = lo + (hi - lo) / 2;
    const std::uint16_t a = balanced(k, v, lo, mid);
    const std::uint16_t b = balanced(k, v, mid, hi);
    return combine(k, a, b);
  }

  // ss's grammar (iproute2 misc/ssfilter.y) joins expressions strictly left to right:
  //   exprlist: expr | exprlist '|' expr | exprlist '&' expr | exprlist expr
  // so `a or b and c` is `(a or b) and c`: and does not bind tighter than or.
  bool expr(std::uint16_t& out, std::size_t depth) {
    std::vector<std::uint16_t> run;  // operands joined by `op` so far
    filter_node::kind op = filter_node::kind::and_;
    std::uint16_t first = 0;
    if (!unary(first, depth)) return false;
    run.push_back(first);
    for (;;) {
      filter_node::kind next;
      if (at_any({"or", "|", "||"})) {
        next = filter_node::kind::or_;
        ++i_;
      } else if (at_any({"and", "&", "&&"})) {
        next = filter_node::kind::and_;
        ++i_;
      } else if (i_ >= toks_.size() || at(")")) {
        break;
      } else {
        next = filter_node::kind::and_;  // juxtaposition is an implicit "and", as in ss
      }
      if (run.size() > 1 && next != op) {  // the run so far becomes the left operand
        const std::uint16_t left = balanced(op, run, 0, run.size());
        run.assign(1, left);
      }
      op = next;
      std::uint16_t rhs = 0;
      if (!unary(rhs, depth)) return false;
      run.push_back(rhs);
    }
    out = balanced(op, run, 0, run.size());
    return true;
  }

  bool unary(std::uint16_t& out, std::size_t depth) {
    if (depth > max_depth) return fail("nesting deeper than 64");
    if (i_ >= toks_.size()) return fail_end("a condition");
    if (at_any({"not", "!"})) {
      ++i_;
      std::uint16_t inner = 0;
      if (!unary(inner, depth + 1)) return false;
      out = combine(filter_node::kind::not_, inner, 0);
      return true;
    }
    if (at("(")) {
      ++i_;
      if (!expr(out, depth + 1)) return false;
      if (!at(")")) return i_ < toks_.size() ? fail("expected ')'") : fail_end("')'");
      ++i_;
      return true;
    }
    if (at_any({"sport", "dport"})) return port_condition(out);
    if (at_any({"src", "dst"})) return host_condition(out);
    if (at_any({"state", "exclude"}))
      return fail("'" + std::string(toks_[i_].text) + "' must come before the expression");
    if (at_any({"dev", "fwmark", "cgroup"})) return socket_condition(out);
    if (at("autobound")) {
      ++i_;
      filter_node n;
      n.what = filter_node::kind::autobound;
      // ss sends INET_DIAG_BC_AUTO and then keeps only ephemeral local ports (run_ssfilter's
      // is_ephemeral): an accepted socket inherits no bind lock, yet its port is the listener's.
      n.lo = 1024;
      n.hi = 4999;
      if (resolve_.ephemeral_range != nullptr) {
        std::uint16_t lo = 0, hi = 0;
        if (resolve_.ephemeral_range(lo, hi) && lo <= hi) n.lo = lo, n.hi = hi;
      }
      out = add(n);
      return true;
    }
    return fail("unknown condition '" + std::string(toks_[i_].text) +
                "' (expected sport, dport, src, dst, dev, fwmark, cgroup, autobound, not or '(')");
  }

  // ssfilter.y: DEVNAME eq DEVCOND | DEVNAME NEQ DEVCOND, and the same for FWMARK and
  // CGROUPPATH; `eq` may be left out.
  bool socket_condition(std::uint16_t& out) {
    const std::string_view word = toks_[i_].text;
    ++i_;
    bool negate = false;
    if (at_any({"=", "==", "eq"})) {
      ++i_;
    } else if (at_any({"!=", "ne", "neq"})) {
      negate = true;
      ++i_;
    }
    if (i_ >= toks_.size())
      return fail_end(word == "dev"      ? "an interface"
                      : word == "fwmark" ? "a mark"
                                         : "a cgroup path");
    const std::string_view v = toks_[i_].text;
    const std::string quoted = "'" + std::string(v) + "'";
    filter_node n;
    if (word == "dev") {
      // ss's parse_devcond: a name first, then an index (strtoul, base 0).
      n.what = filter_node::kind::device;
      std::uint32_t index = resolve_.interface != nullptr ? resolve_.interface(v) : 0;
      if (index == 0) {
        const auto number = c_integer(v);
        if (!number)
          return fail(quoted + " is not an interface (no interface of that name, not an index)");
        index = *number;
      }
      n.value = index;
    } else if (word == "fwmark") {
      // ss's parse_markmask: "%i/%i", or "%i" with the mask 0xffffffff.
      n.what = filter_node::kind::mark;
      const std::size_t slash = v.find('/');
      const auto mark = c_integer(v.substr(0, slash));
      const auto mask = slash == std::string_view::npos ? std::optional<std::uint32_t>(0xffffffffu)
                                                        : c_integer(v.substr(slash + 1));
      if (!mark || !mask)
        return fail(quoted + " is not a mark (MARK or MARK/MASK, numbers up to 0xffffffff)");
      n.value = *mark;
      n.mask = *mask;
    } else {
      n.what = filter_node::kind::cgroup;
      n.value = resolve_.cgroup != nullptr ? resolve_.cgroup(v) : 0;
      if (n.value == 0)
        return fail(quoted + (resolve_.cgroup != nullptr
                                  ? " is not a cgroup (a directory under the cgroup2 mount)"
                                  : ": cgroup paths are not looked up"));
    }
    ++i_;
    out = add(n);
    if (negate) out = combine(filter_node::kind::not_, out, 0);
    return true;
  }

  // A C integer as sscanf's %i reads it, without a sign: 0x hexadecimal, 0 octal, else
  // decimal; the whole word, at most 32 bits.
  static std::optional<std::uint32_t> c_integer(std::string_view v) {
    int base = 10;
    if (v.size() > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
      base = 16;
      v.remove_prefix(2);
    } else if (v.size() > 1 && v[0] == '0') {
      base = 8;
      v.remove_prefix(1);
    }
    std::uint32_t n = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n, base);
    if (v.empty() || ec != std::errc{} || end != v.data() + v.size()) return std::nullopt;
    return n;
  }

  bool port_condition(std::uint16_t& out) {
    const auto on = toks_[i_].text == "sport" ? filter_node::side::src : filter_node::side::dst;
    ++i_;
    enum { eq, ne, lt, le, gt, ge } op = eq;
    if (at_any({"=", "==", "eq"}))
      op = eq, ++i_;
    else if (at_any({"!=", "ne", "neq"}))
      op = ne, ++i_;
    else if (at_any({"<", "lt"}))
      op = lt, ++i_;
    else if (at_any({"<=", "le", "leq"}))
      op = le, ++i_;
    else if (at_any({">", "gt"}))
      op = gt, ++i_;
    else if (at_any({">=", "ge", "geq"}))
      op = ge, ++i_;
    if (i_ >= toks_.size()) return fail_end("a port");
    std::string_view v = toks_[i_].text;
    if (v.starts_with(':')) v.remove_prefix(1);
    if (v == "*") {  // ss: any port (parse_hostcond leaves the port at -1)
      if (op != eq && op != ne)
        return fail("'" + std::string(toks_[i_].text) + "' (any port) goes with = or != only");
      ++i_;
      filter_node any;
      any.what = filter_node::kind::port_range;
      any.on = on;
      any.lo = 0;
      any.hi = 65535;
      out = add(any);
      if (op == ne) out = combine(filter_node::kind::not_, out, 0);
      return true;
    }
    unsigned p = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), p);
    if (v.empty() || ec != std::errc{} || end != v.data() + v.size() || p > 65535) {
      std::string why;
      if (!service_port(v, p, why)) return fail("'" + std::string(toks_[i_].text) + "' " + why);
    }
    ++i_;
    const auto port = static_cast<std::uint16_t>(p);
    filter_node n;
    n.what = filter_node::kind::port_range;
    n.on = on;
    switch (op) {
      case eq:
      case ne: n.lo = n.hi = port; break;
      case ge:
        n.lo = port;
        n.hi = 65535;
        break;
      case le:
        n.lo = 0;
        n.hi = port;
        break;
      // An empty range (lo > hi) is a condition that never holds.
      case gt:
        n.lo = port == 65535 ? 1 : static_cast<std::uint16_t>(port + 1);
        n.hi = port == 65535 ? 0 : 65535;
        break;
      case lt:
        n.lo = port == 0 ? 1 : 0;
        n.hi = port == 0 ? 0 : static_cast<std::uint16_t>(port - 1);
        break;
    }
    out = add(n);
    if (op == ne) out = combine(filter_node::kind::not_, out, 0);
    return true;
  }

  bool host_condition(std::uint16_t& out) {
    const auto on = toks_[i_].text == "src" ? filter_node::side::src : filter_node::side::dst;
    ++i_;
    if (at_any({"=", "==", "eq"})) ++i_;  // ssfilter.y: DCOND eq HOSTCOND, eq optional
    if (i_ >= toks_.size()) return fail_end("an address");
    const std::string_view text = toks_[i_].text;
    std::string_view w = text;
    // ss's parse_hostcond: a family prefix. inet: and inet6: also narrow the listing to that
    // family; the others name sockets ssfast does not list.
    std::uint8_t forced = 0;
    for (std::string_view other : {"link:", "netlink:", "vsock:"})
      if (w.starts_with(other))
        return fail("'" + std::string(other) + "' addresses are not supported by ssfast");
    if (w.starts_with("unix:") ||
        (default_family_ == abi::af_unix && !w.starts_with("inet:") && !w.starts_with("inet6:")))
      return unix_condition(out, on, w.starts_with("unix:") ? w.substr(5) : w);
    if (w.starts_with("inet:")) {
      forced = af_inet;
      w.remove_prefix(5);
    } else if (w.starts_with("inet6:")) {
      forced = af_inet6;
      w.remove_prefix(6);
    }
    filter_node n;
    n.what = filter_node::kind::host;
    n.on = on;
    std::string why, name;
    if (!parse_host(w, n, why, name))
      return fail("'" + std::string(text) + "' is not an address: " + why);
    if (forced != 0) {
      if (n.family == 0) {  // *, *:PORT or :PORT: any address of that family
        n.family = forced;
        n.prefix_len = 0;
      } else if (n.family != forced && name.empty()) {
        return fail("'" + std::string(text) + "' is not an address of that family");
      }
      f_.family = forced;
    }
    if (name.empty()) {
      ++i_;
      out = add(n);
      return true;
    }
    // A host name: any of its addresses, as ss's get_dns_host collects them.
    std::vector<std::uint16_t> any;
    for (const auto& [family, addr] : resolve_.host(name)) {
      if (forced != 0 && family != forced) continue;
      filter_node a = n;
      a.family = family;
      a.addr = addr;
      a.prefix_len = family == af_inet ? 32 : 128;
      any.push_back(add(a));
    }
    if (any.empty())
      return fail("'" + std::string(text) + "' is not an address and its name does not resolve");
    ++i_;
    out = balanced(filter_node::kind::or_, any, 0, any.size());
    return true;
  }

  // ss's parse_hostcond for AF_UNIX: the word is an fnmatch pattern for the socket's name, and
  // the listing shows UNIX sockets only (filter_af_set).
  bool unix_condition(std::uint16_t& out, filter_node::side on, std::string_view pattern) {
    if (f_.patterns.size() >= max_nodes) return fail("more than 65535 name patterns");
    f_.patterns.emplace_back(pattern);
    filter_node n;
    n.what = filter_node::kind::unix_name;
    n.on = on;
    n.value = f_.patterns.size() - 1;
    f_.family = abi::af_unix;
    ++i_;
    out = add(n);
    return true;
  }

  // A service name's port, through the caller's resolver.
  bool service_port(std::string_view v, unsigned& port, std::string& why) const {
    if (resolve_.service == nullptr) {
      why = "is not a port number (0..65535; service names are not looked up)";
      return false;
    }
    const std::int32_t p = resolve_.service(v);
    if (p == -2) {
      why = "names a different port for TCP and UDP";
      return false;
    }
    if (p < 0 || p > 65535) {
      why = "is not a port number (0..65535) or a known service name";
      return false;
    }
    port = static_cast<unsigned>(p);
    return true;
  }

  // * | :PORT | *:PORT | IPV4[/LEN][:PORT] | [IPV6][/LEN][:PORT] | IPV6[/LEN] | NAME[:PORT].
  // A name that is not an address literal is returned in `name` for the resolver.
  bool parse_host(std::string_view w, filter_node& n, std::string& why, std::string& name) const {
    if (w == "*") return true;
    std::string_view addr, prefix, port;
    if (w.starts_with('[')) {
      const std::size_t close = w.find(']');
      if (close == std::string_view::npos) return why = "missing ']'", false;
      addr = w.substr(1, close - 1);
      std::string_view rest = w.substr(close + 1);
      if (rest.starts_with('/')) {
        const std::size_t colon = rest.find(':');
        prefix = rest.substr(1, colon == std::string_view::npos ? rest.npos : colon - 1);
        rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon);
      }
      if (rest.starts_with(':'))
        port = rest.substr(1);
      else if (!rest.empty())
        return why = "unexpected text after ']'", false;
      n.family = af_inet6;
    } else if (w.starts_with(':') && !w.starts_with("::")) {
      port = w.substr(1);
      if (port.empty()) return why = "no port after ':'", false;
    } else {
      const std::size_t colons = static_cast<std::size_t>(std::count(w.begin(), w.end(), ':'));
      std::string_view a = w;
      if (colons == 1) {
        a = w.substr(0, w.find(':'));
        port = w.substr(w.find(':') + 1);
      }
      const std::size_t slash = a.find('/');
      addr = a.substr(0, slash);
      if (slash != std::string_view::npos) prefix = a.substr(slash + 1);
      n.family = colons >= 2 ? af_inet6 : af_inet;
      // ss's parse_hostcond: a bare '*' address is any address of any family (*:80).
      if (addr == "*" && prefix.empty()) n.family = 0;
    }
    if (!port.empty() && port != "*") {
      unsigned p = 0;
      auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
      if (ec != std::errc{} || end != port.data() + port.size() || p > 65535) {
        std::string service_why;
        if (!service_port(port, p, service_why))
          return why = "bad port '" + std::string(port) + "'", false;
      }
      n.port = static_cast<std::int32_t>(p);
    }
    if (n.family == 0) return true;  // port only
    if (addr == "*") {               // any address of that family, as in ss: *:80, [*]
      n.prefix_len = 0;
      return true;
    }
    const bool ok = n.family == af_inet ? parse_ipv4(addr, n.addr) : parse_ipv6(addr, n.addr);
    // Not a literal: a host name (ss asks the resolver too), unless it is plainly an address.
    const bool name_like = !addr.empty() && prefix.empty() && !w.starts_with('[') &&
                           n.family == af_inet && std::any_of(addr.begin(), addr.end(), [](char c) {
                             return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
                           });
    if (!ok && name_like) {
      if (resolve_.host == nullptr) return why = "host names are not looked up", false;
      name = std::string(addr);
      return true;
    }
    if (!ok)
      return why = "bad IPv" + std::string(n.family == af_inet ? "4" : "6") + " address", false;
    const unsigned full = n.family == af_inet ? 32 : 128;
    unsigned len = full;
    if (!prefix.empty()) {
      auto [end, ec] = std::from_chars(prefix.data(), prefix.data() + prefix.size(), len);
      if (ec != std::errc{} || end != prefix.data() + prefix.size() || len > full)
        return why = "bad prefix length '" + std::string(prefix) + "'", false;
    }
    n.prefix_len = static_cast<std::uint8_t>(len);
    return true;
  }

  std::vector<token> toks_;
  std::size_t i_ = 0;
  bool too_long_ = false, too_deep_ = false;
  std::vector<std::uint16_t> levels_;  // each node's height, for max_tree_depth
  socket_filter& f_;
  std::string& err_;
  const filter_resolver& resolve_;
  std::uint8_t default_family_;  // af_unix: an address is a UNIX name pattern (ss -x)
};

}  // namespace

filter_parse_result parse_filter(std::span<const std::string_view> args,
                                 const filter_resolver& resolve, std::uint8_t default_family) {
  std::string joined;
  for (std::string_view a : args) {
    if (!joined.empty()) joined.push_back(' ');
    joined.append(a);
  }
  filter_parse_result r;
  socket_filter f;
  parser p(lex(joined), f, r.error, resolve, default_family);
  if (p.run()) r.filter = std::move(f);
  return r;
}

}  // namespace ssfast
