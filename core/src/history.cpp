// SPDX-License-Identifier: Apache-2.0
// The history format's records: framing, checksum, fields, and the carrying of keyframe values
// (see history.h).
#include "ssfast/core/history.h"

#include <algorithm>
#include <cstring>

#include "ssfast/core/kernel_abi.h"

namespace ssfast {
namespace {

constexpr std::array<std::uint8_t, 4> magic = {'S', 'S', 'R', '1'};

// Payload fields (varint tag = field << 3 | wire type). Numbers are never reused.
enum field : std::uint32_t {
  f_time_ms = 1,
  f_delta_ms = 2,
  f_keyframe = 3,
  f_boot_id = 4,
  f_netns = 5,
  f_tcp_v4 = 6,
  f_tcp_v6 = 7,
  f_udp = 8,
  f_unix = 9,
  f_levels = 10,
  f_counters = 11,
  f_sysctl = 12,
  f_listener = 13,
  f_sysctl_count = 14,
  f_source = 15,
};
// Listener sub-fields.
// l_endpoint: the address (4 or 16 bytes, network order, which says the family) and the port
// (2 bytes, network order).
enum listener_field : std::uint32_t {
  l_endpoint = 1,
  l_accept_queue = 2,
  l_backlog = 3,
  l_syn_recv = 4,
};
// How a counter is stored: key = id << 2 | kind.
enum counter_kind : std::uint64_t { absolute = 0, change = 1, was_reset = 2, gone = 3 };

constexpr std::uint32_t wire_varint = 0, wire_bytes = 2;

// --- writing --------------------------------------------------------------------------------

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

std::uint64_t zigzag(std::int64_t v) noexcept {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
std::int64_t unzigzag(std::uint64_t v) noexcept {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

void put_field(std::string& out, std::uint32_t f, std::uint64_t v) {
  put_varint(out, std::uint64_t{f} << 3 | wire_varint);
  put_varint(out, v);
}

void put_bytes(std::string& out, std::uint32_t f, std::string_view b) {
  put_varint(out, std::uint64_t{f} << 3 | wire_bytes);
  put_varint(out, b.size());
  out.append(b);
}

// Varints of `v` without its trailing zeros.
std::string packed(std::span<const std::uint64_t> v) {
  std::size_t n = v.size();
  while (n > 0 && v[n - 1] == 0) --n;
  std::string s;
  for (std::size_t i = 0; i < n; ++i) put_varint(s, v[i]);
  return s;
}

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::string listener_bytes(const history_listener& l) {
  std::string s;
  std::string endpoint(reinterpret_cast<const char*>(l.address.data()), l.family == 6 ? 16 : 4);
  endpoint.push_back(static_cast<char>(l.port >> 8));
  endpoint.push_back(static_cast<char>(l.port & 0xff));
  put_bytes(s, l_endpoint, endpoint);
  put_field(s, l_accept_queue, l.accept_queue);
  put_field(s, l_backlog, l.backlog);
  if (l.syn_recv) put_field(s, l_syn_recv, *l.syn_recv);
  return s;
}

// --- reading --------------------------------------------------------------------------------

struct reader {
  std::span<const std::byte> in;
  std::size_t pos = 0;
  bool ok = true;

  bool done() const noexcept { return pos >= in.size(); }
  std::uint64_t varint() noexcept {
    std::uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      if (pos >= in.size()) break;
      const auto b = static_cast<std::uint8_t>(in[pos++]);
      v |= std::uint64_t{b & 0x7fu} << shift;
      if ((b & 0x80) == 0) return v;
    }
    ok = false;
    return 0;
  }
  std::span<const std::byte> bytes() noexcept {
    const std::uint64_t n = varint();
    if (!ok || n > in.size() - pos) {
      ok = false;
      return {};
    }
    const auto b = in.subspan(pos, static_cast<std::size_t>(n));
    pos += static_cast<std::size_t>(n);
    return b;
  }
};

std::string_view as_text(std::span<const std::byte> b) noexcept {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// Up to `n` varints of `b` into `out` (the rest zero); false if malformed or longer.
template <std::size_t N>
bool unpack(std::span<const std::byte> b, std::array<std::uint64_t, N>& out) {
  reader r{b};
  out = {};
  for (std::size_t i = 0; !r.done(); ++i) {
    if (i >= N) return false;
    out[i] = r.varint();
    if (!r.ok) return false;
  }
  return true;
}

bool parse_listener(std::span<const std::byte> b, history_listener& l) {
  reader r{b};
  l = {};
  bool have_endpoint = false;
  while (!r.done() && r.ok) {
    const std::uint64_t key = r.varint();
    const auto f = static_cast<std::uint32_t>(key >> 3);
    if ((key & 7) == wire_bytes) {
      const auto v = r.bytes();
      if (f == l_endpoint) {
        if (v.size() != 6 && v.size() != 18) return false;
        l.family = v.size() == 18 ? 6 : 4;
        std::memcpy(l.address.data(), v.data(), v.size() - 2);
        l.port = static_cast<std::uint16_t>(static_cast<std::uint8_t>(v[v.size() - 2]) << 8 |
                                            static_cast<std::uint8_t>(v[v.size() - 1]));
        have_endpoint = true;
      }
      continue;
    }
    if ((key & 7) != wire_varint) return false;
    const std::uint64_t v = r.varint();
    if (f == l_accept_queue) l.accept_queue = static_cast<std::uint32_t>(v);
    if (f == l_backlog) l.backlog = static_cast<std::uint32_t>(v);
    if (f == l_syn_recv) l.syn_recv = static_cast<std::uint32_t>(v);
  }
  return r.ok && have_endpoint;
}

// What one payload says, before anything is carried into it.
struct payload {
  std::int64_t time_ms = 0, delta_ms = 0;
  bool have_time = false, keyframe = false;
  std::optional<std::array<std::uint8_t, 16>> boot_id;
  std::optional<std::uint64_t> netns;
  std::uint8_t source = 0;
  std::array<std::array<std::uint64_t, state_slots>, 2> tcp{};
  std::array<std::uint64_t, 4> udp{};
  std::array<std::uint64_t, 4> unix_sockets{};
  kernel_counters levels;
  struct counter_entry {
    std::size_t id;
    counter_kind kind;
    std::int64_t value;
  };
  std::vector<counter_entry> counters;
  std::optional<std::uint64_t> sysctl_count;
  std::vector<std::pair<std::string, std::string>> sysctls;
  std::vector<history_listener> listeners;
};

bool parse_payload(std::span<const std::byte> in, payload& p) {
  reader r{in};
  while (!r.done() && r.ok) {
    const std::uint64_t key = r.varint();
    const auto f = static_cast<std::uint32_t>(key >> 3);
    const std::uint64_t wire = key & 7;
    if (wire == wire_varint) {
      const std::uint64_t v = r.varint();
      switch (f) {
        case f_time_ms:
          p.time_ms = unzigzag(v);
          p.have_time = true;
          break;
        case f_delta_ms: p.delta_ms = unzigzag(v); break;
        case f_keyframe: p.keyframe = v != 0; break;
        case f_netns: p.netns = v; break;
        case f_sysctl_count: p.sysctl_count = v; break;
        case f_source: p.source = static_cast<std::uint8_t>(v); break;
        default: break;  // a newer writer's field
      }
      continue;
    }
    if (wire != wire_bytes) return false;
    const auto b = r.bytes();
    if (!r.ok) return false;
    switch (f) {
      case f_boot_id:
        if (b.size() != 16) return false;
        p.boot_id.emplace();
        std::memcpy(p.boot_id->data(), b.data(), 16);
        break;
      case f_tcp_v4:
      case f_tcp_v6:
        if (!unpack(b, p.tcp[f == f_tcp_v4 ? 0 : 1])) return false;
        break;
      case f_udp:
        if (!unpack(b, p.udp)) return false;
        break;
      case f_unix:
        if (!unpack(b, p.unix_sockets)) return false;
        break;
      case f_levels: {
        reader lr{b};
        while (!lr.done()) {
          const std::uint64_t i = lr.varint();
          const std::int64_t v = unzigzag(lr.varint());
          if (!lr.ok) return false;
          if (i < std::size(kernel_counter_fields)) p.levels.*kernel_counter_fields[i].field = v;
        }
        break;
      }
      case f_counters: {
        reader cr{b};
        while (!cr.done()) {
          const std::uint64_t k = cr.varint();
          const std::int64_t v = unzigzag(cr.varint());
          if (!cr.ok) return false;
          // An id this reader does not know (a newer writer's counter) is passed over.
          if ((k >> 2) < history_counter_count)
            p.counters.push_back(
                {static_cast<std::size_t>(k >> 2), static_cast<counter_kind>(k & 3), v});
        }
        break;
      }
      case f_sysctl: {
        const std::string_view t = as_text(b);
        const std::size_t eq = t.find('=');
        if (eq == std::string_view::npos || eq == 0) return false;
        p.sysctls.emplace_back(std::string(t.substr(0, eq)), std::string(t.substr(eq + 1)));
        break;
      }
      case f_listener:
        if (!parse_listener(b, p.listeners.emplace_back())) return false;
        break;
      default: break;  // a newer writer's field
    }
  }
  if (!r.ok || !p.have_time) return false;
  if (p.keyframe && (!p.boot_id || !p.netns)) return false;
  if (p.sysctl_count && *p.sysctl_count != p.sysctls.size()) return false;
  return true;
}

std::uint32_t get_u32(std::span<const std::byte> b, std::size_t at) noexcept {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i)
    v |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(b[at + i])) << (8 * i);
  return v;
}

bool magic_at(std::span<const std::byte> b, std::size_t at) noexcept {
  for (std::size_t i = 0; i < magic.size(); ++i)
    if (at + i >= b.size() || static_cast<std::uint8_t>(b[at + i]) != magic[i]) return false;
  return true;
}

constexpr std::array<std::uint32_t, 256> crc_table = [] {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;  // reflected
    t[i] = c;
  }
  return t;
}();

}  // namespace

socket_summary history_summary(const history_sample& s) noexcept {
  socket_summary sum;
  sum.scope.tcp = sum.scope.udp = sum.scope.unix_domain = true;
  sum.tcp = s.tcp;
  for (std::size_t f = 0; f < 2; ++f) {
    sum.udp[f][static_cast<std::size_t>(tcp_state::established)] = s.udp[2 * f];
    sum.udp[f][static_cast<std::size_t>(tcp_state::close)] = s.udp[2 * f + 1];
  }
  sum.unix_domain.by_type[abi::sock_stream] = s.unix_sockets[0];
  sum.unix_domain.by_type[abi::sock_dgram] = s.unix_sockets[1];
  sum.unix_domain.by_type[abi::sock_seqpacket] = s.unix_sockets[2];
  sum.unix_domain.states[static_cast<std::size_t>(tcp_state::listen)] = s.unix_sockets[3];
  const std::uint64_t all = s.unix_sockets[0] + s.unix_sockets[1] + s.unix_sockets[2];
  sum.unix_domain.states[static_cast<std::size_t>(tcp_state::close)] =
      all > s.unix_sockets[3] ? all - s.unix_sockets[3] : 0;
  return sum;
}

std::uint32_t crc32c(std::span<const std::byte> data) noexcept {
  std::uint32_t c = 0xFFFFFFFFu;
  for (const std::byte b : data)
    c = crc_table[(c ^ static_cast<std::uint8_t>(b)) & 0xff] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

void history_encoder::encode(const history_sample& s, std::string& out) {
  const bool keyframe = !have_prev_ || since_keyframe_ >= keyframe_every_ ||
                        s.boot_id != prev_.boot_id || s.netns != prev_.netns ||
                        s.source != prev_.source;
  std::string p;
  put_field(p, f_time_ms, zigzag(s.time_ms));
  if (have_prev_) put_field(p, f_delta_ms, zigzag(s.time_ms - prev_.time_ms));
  if (keyframe) {
    put_field(p, f_keyframe, 1);
    put_bytes(p, f_boot_id, std::string_view(reinterpret_cast<const char*>(s.boot_id.data()), 16));
    put_field(p, f_netns, s.netns);
    if (s.source != 0) put_field(p, f_source, s.source);
  }
  put_bytes(p, f_tcp_v4, packed(s.tcp[0].by_state));
  put_bytes(p, f_tcp_v6, packed(s.tcp[1].by_state));
  put_bytes(p, f_udp, packed(s.udp));
  put_bytes(p, f_unix, packed(s.unix_sockets));
  std::string levels;
  for (std::size_t i = 0; i < std::size(kernel_counter_fields); ++i)
    if (const auto& v = s.levels.*kernel_counter_fields[i].field) {
      put_varint(levels, i);
      put_varint(levels, zigzag(*v));
    }
  put_bytes(p, f_levels, levels);
  std::string counters;
  auto put_counter = [&](std::size_t id, counter_kind k, std::int64_t v) {
    put_varint(counters, std::uint64_t{id} << 2 | k);
    put_varint(counters, zigzag(v));
  };
  for (std::size_t id = 0; id < history_counter_count; ++id) {
    const auto& now = s.counters[id];
    const auto& before = prev_.counters[id];
    if (keyframe) {
      if (now) put_counter(id, absolute, *now);
    } else if (now && before) {
      const std::int64_t d = *now - *before;
      if (d < 0)
        put_counter(id, was_reset, *now);
      else if (d != 0)
        put_counter(id, change, d);
    } else if (now) {
      put_counter(id, absolute, *now);
    } else if (before) {
      put_counter(id, gone, 0);
    }
  }
  if (!counters.empty()) put_bytes(p, f_counters, counters);
  if (keyframe || s.sysctls != prev_.sysctls) {
    put_field(p, f_sysctl_count, s.sysctls.size());
    for (const auto& [name, value] : s.sysctls) put_bytes(p, f_sysctl, name + "=" + value);
  }
  for (const history_listener& l : s.listeners) put_bytes(p, f_listener, listener_bytes(l));

  out.append(reinterpret_cast<const char*>(magic.data()), magic.size());
  put_u32(out, static_cast<std::uint32_t>(p.size()));
  put_u32(out, crc32c(std::as_bytes(std::span(p.data(), p.size()))));
  out += p;
  since_keyframe_ = keyframe ? 1 : since_keyframe_ + 1;
  prev_ = s;
  have_prev_ = true;
}

history_read_status history_decoder::next(history_record& out) {
  start_ = pos_;
  damaged_ = 0;
  const std::size_t size = in_.size();
  if (pos_ >= size) return history_read_status::end;
  // Passes over damage: to the next magic after `from`, or to the end.
  auto skip = [&](std::size_t from) {
    std::size_t at = from;
    while (at < size && !magic_at(in_, at)) ++at;
    damaged_ = at - pos_;
    pos_ = at;
    have_prev_ = false;  // what follows is not known to follow on from what came before
    return history_read_status::damaged;
  };
  const std::size_t left = size - pos_;
  if (left < history_frame_bytes) {
    // A prefix of a frame at the very end: a write that never finished.
    for (std::size_t i = 0; i < std::min(left, magic.size()); ++i)
      if (static_cast<std::uint8_t>(in_[pos_ + i]) != magic[i]) return skip(pos_ + 1);
    return history_read_status::cut;
  }
  if (!magic_at(in_, pos_)) return skip(pos_ + 1);
  const std::uint32_t length = get_u32(in_, pos_ + 4);
  const std::uint32_t crc = get_u32(in_, pos_ + 8);
  if (length > history_max_payload) return skip(pos_ + 1);
  if (length > left - history_frame_bytes) {
    // The end comes first: a cut, unless a whole record follows (then this length is damage).
    std::size_t at = pos_ + 1;
    while (at < size && !magic_at(in_, at)) ++at;
    if (at >= size) return history_read_status::cut;
    return skip(pos_ + 1);
  }
  const auto body = in_.subspan(pos_ + history_frame_bytes, length);
  if (crc32c(body) != crc) return skip(pos_ + 1);
  payload p;
  if (!parse_payload(body, p)) return skip(pos_ + 1);
  pos_ += history_frame_bytes + length;

  // What the record says, and what carries into it from the records before.
  const bool follows = have_prev_ && p.delta_ms != 0 && prev_.time_ms == p.time_ms - p.delta_ms;
  history_sample& s = out.sample;
  // prev_ is written anew below: what it held moves, not copies (a day is 8,640 records).
  const history_sample before = have_prev_ ? std::move(prev_) : history_sample{};
  s = history_sample{};
  s.time_ms = p.time_ms;
  s.boot_id = p.boot_id ? *p.boot_id : before.boot_id;
  s.netns = p.netns ? *p.netns : before.netns;
  s.source = p.keyframe ? p.source : before.source;
  for (std::size_t f = 0; f < 2; ++f)
    std::copy(p.tcp[f].begin(), p.tcp[f].end(), s.tcp[f].by_state.begin());
  s.udp = p.udp;
  s.unix_sockets = p.unix_sockets;
  s.levels = p.levels;
  s.listeners = std::move(p.listeners);
  out.keyframe = p.keyframe;
  out.delta_ms = follows ? p.delta_ms : 0;
  out.delta.fill(std::nullopt);
  out.reset.fill(false);
  if (p.keyframe) {
    for (const auto& c : p.counters)
      if (c.kind == absolute) s.counters[c.id] = c.value;
    if (follows)
      for (std::size_t id = 0; id < history_counter_count; ++id) {
        if (!s.counters[id] || !before.counters[id]) continue;
        const std::int64_t d = *s.counters[id] - *before.counters[id];
        out.reset[id] = d < 0;
        out.delta[id] = d < 0 ? *s.counters[id] : d;
      }
  } else {
    // Unchanged counters are not written: what was present before, and is not said, held.
    if (follows)
      for (std::size_t id = 0; id < history_counter_count; ++id)
        if (before.counters[id]) {
          s.counters[id] = before.counters[id];
          out.delta[id] = 0;
        }
    for (const auto& c : p.counters) {
      switch (c.kind) {
        case absolute:
          s.counters[c.id] = c.value;
          out.delta[c.id] = std::nullopt;
          break;
        case change:
          out.delta[c.id] = c.value;
          s.counters[c.id] = follows && before.counters[c.id]
                                 ? std::optional(*before.counters[c.id] + c.value)
                                 : std::nullopt;
          break;
        case was_reset:
          s.counters[c.id] = c.value;
          out.delta[c.id] = c.value;
          out.reset[c.id] = true;
          break;
        case gone:
          s.counters[c.id] = std::nullopt;
          out.delta[c.id] = std::nullopt;
          break;
      }
    }
  }
  if (p.sysctl_count) {
    s.sysctls = std::move(p.sysctls);
    sysctls_known_ = true;
  } else {
    s.sysctls = before.sysctls;
    if (!follows) sysctls_known_ = false;
  }
  out.sysctls_known = sysctls_known_;
  prev_ = s;
  have_prev_ = true;
  return history_read_status::record;
}

}  // namespace ssfast
