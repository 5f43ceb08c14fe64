// The C API: thin wrappers over ssfast::collector that never let an exception out.
#include <cerrno>
#include <cstring>
#include <new>

#include "ssfast/ssfast.h"
#include "ssfast/ssfast_c.h"
#include "ssfast_version.h"

struct ssfast_collector {
  ssfast::collector c;
};

namespace {

int to_code(std::error_code ec) noexcept {
  if (!ec) return 0;
  if (ec.category() == ssfast::error_category()) return -(SSFAST_ERROR_BASE + ec.value());
  return ec.value() > 0 ? -ec.value() : -EIO;
}

}  // namespace

extern "C" {

int ssfast_open2(const ssfast_options* options, ssfast_collector** out) {
  if (out == nullptr) return -EINVAL;
  *out = nullptr;
  try {
    ssfast::collector_options o;
    if (options != nullptr) {
      if (options->size < sizeof(ssfast_options) || options->source > SSFAST_SOURCE_PROC ||
          options->reserved != 0)
        return -EINVAL;
      o.source = options->source == SSFAST_SOURCE_NETLINK ? ssfast::source_choice::netlink
                 : options->source == SSFAST_SOURCE_PROC  ? ssfast::source_choice::proc
                                                          : ssfast::source_choice::automatic;
      o.threads = options->threads;
      if (options->proc_root != nullptr) o.proc_root = options->proc_root;
      if (options->netns != nullptr) o.netns = options->netns;
    }
    auto c = ssfast::collector::open(o);
    if (!c) return to_code(c.error());
    *out = new ssfast_collector{std::move(*c)};
    return 0;
  } catch (const std::bad_alloc&) {
    return -ENOMEM;
  } catch (...) {
    return -EIO;
  }
}

ssfast_collector* ssfast_open(const ssfast_options* options) {
  ssfast_collector* c = nullptr;
  const int rc = ssfast_open2(options, &c);
  if (rc != 0) errno = rc <= -SSFAST_ERROR_BASE ? EPROTO : -rc;
  return c;
}

int ssfast_count(ssfast_collector* c, ssfast_counts* out) {
  if (c == nullptr || out == nullptr || out->size < sizeof(ssfast_counts)) return -EINVAL;
  ssfast::socket_summary s;
  if (auto ec = c->c.count(s)) return to_code(ec);
  const std::uint32_t size = out->size;
  std::memset(out, 0, sizeof(ssfast_counts));
  out->size = size;
  out->source =
      c->c.source() == ssfast::source_kind::netlink ? SSFAST_SOURCE_NETLINK : SSFAST_SOURCE_PROC;
  const ssfast::state_counts all = s.tcp_all();
  for (std::size_t i = 0; i < ssfast::state_slots; ++i) {
    out->tcp_states[i] = all[i];
    out->tcp4_states[i] = s.tcp[0][i];
    out->tcp6_states[i] = s.tcp[1][i];
  }
  // Request sockets arrive as SYN_RECV already; fold any NEW_SYN_RECV the same way.
  out->tcp_states[3] += out->tcp_states[12];
  out->tcp4_states[3] += out->tcp4_states[12];
  out->tcp6_states[3] += out->tcp6_states[12];
  out->tcp_states[12] = out->tcp4_states[12] = out->tcp6_states[12] = 0;
  out->udp4_total = s.udp[0].total();
  out->udp6_total = s.udp[1].total();
  out->udp_total = out->udp4_total + out->udp6_total;
  out->udp_connected = s.udp_all()[ssfast::tcp_state::established];
  out->unix_total = s.unix_domain.total();
  out->unix_stream = s.unix_domain.by_type[1];
  out->unix_dgram = s.unix_domain.by_type[2];
  out->unix_seqpacket = s.unix_domain.by_type[5];
  return 0;
}

void ssfast_close(ssfast_collector* c) { delete c; }

const char* ssfast_strerror(int code) {
  if (code == 0) return "success";
  if (code <= -SSFAST_ERROR_BASE && code > -(SSFAST_ERROR_BASE + 100)) {
    switch (-code - SSFAST_ERROR_BASE) {
      case 1:
        return "message truncated";
      case 2:
        return "malformed message";
      case 3:
        return "datagram from a sender other than the kernel";
      case 4:
        return "message addressed to another netlink port id";
      case 5:
        return "message answers another request (sequence number)";
      case 6:
        return "unexpected netlink message type";
      case 7:
        return "dump interrupted: the kernel flagged it inconsistent";
      case 8:
        return "end of data before the dump was done";
      case 9:
        return "socket state outside the kernel's range";
      case 10:
        return "no socket source is available";
      case 11:
        return "unexpected file format";
      default:
        return "unknown ssfast error";
    }
  }
  if (code < 0) {
    // strerrordesc_np (glibc 2.32) returns a static string: thread-safe, unlike strerror.
    const char* d = strerrordesc_np(-code);
    if (d != nullptr) return d;
  }
  return "unknown error";
}

const char* ssfast_version(void) { return SSFAST_VERSION_STRING; }

}  // extern "C"
