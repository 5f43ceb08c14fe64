// SPDX-License-Identifier: Apache-2.0
// The C API: thin wrappers over ssfast::collector that never let an exception out.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <new>

#include "ssfast/ssfast.h"
#include "ssfast/ssfast_c.h"
#include "ssfast_version.h"

struct ssfast_collector {
  ssfast::collector c;
};

// The C codes mirror ssfast::errc one for one: SSFAST_E* == -(SSFAST_ERROR_BASE + errc).
#define SSFAST_MIRRORS(code, e) \
  static_assert((code) == -(SSFAST_ERROR_BASE + static_cast<int>(ssfast::errc::e)))
SSFAST_MIRRORS(SSFAST_ETRUNCATED, truncated);
SSFAST_MIRRORS(SSFAST_EBADMESSAGE, bad_message);
SSFAST_MIRRORS(SSFAST_EFOREIGN, foreign_sender);
SSFAST_MIRRORS(SSFAST_EPORTID, portid_mismatch);
SSFAST_MIRRORS(SSFAST_ESEQ, seq_mismatch);
SSFAST_MIRRORS(SSFAST_EUNEXPECTED, unexpected_message);
SSFAST_MIRRORS(SSFAST_EINTERRUPTED, dump_interrupted);
SSFAST_MIRRORS(SSFAST_EEOF, unexpected_eof);
SSFAST_MIRRORS(SSFAST_EBADSTATE, bad_state);
SSFAST_MIRRORS(SSFAST_EUNAVAILABLE, backend_unavailable);
SSFAST_MIRRORS(SSFAST_EPARSE, parse_error);
SSFAST_MIRRORS(SSFAST_EFILTER, filter_too_large);
SSFAST_MIRRORS(SSFAST_ENOTNETNS, not_a_network_namespace);
SSFAST_MIRRORS(SSFAST_EBADFILTER, bad_filter);
SSFAST_MIRRORS(SSFAST_EEXITED, process_exited);
SSFAST_MIRRORS(SSFAST_ENOTREG, not_a_regular_file);
SSFAST_MIRRORS(SSFAST_ENOTPROCFS, not_procfs);
SSFAST_MIRRORS(SSFAST_ENEEDSNETLINK, filter_needs_netlink);
#undef SSFAST_MIRRORS
static_assert(ssfast::errc_last == 18, "a new errc needs its SSFAST_E* code in ssfast_c.h");

// The first version's layout is frozen: later fields only ever go at the end.
static_assert(sizeof(ssfast_options) == SSFAST_OPTIONS_SIZE_VER1);
static_assert(offsetof(ssfast_options, netns) == 24);
static_assert(sizeof(ssfast_counts) == SSFAST_COUNTS_SIZE_VER1);
static_assert(offsetof(ssfast_counts, tcp_states) == 8);
static_assert(offsetof(ssfast_counts, udp_total) == 392);
static_assert(offsetof(ssfast_counts, unix_seqpacket) == 448);
static_assert(sizeof(ssfast_service_rules) == SSFAST_SERVICE_RULES_SIZE_VER1);
static_assert(offsetof(ssfast_service_rules, drain_queue) == 16);
static_assert(sizeof(ssfast_service_status) == SSFAST_SERVICE_STATUS_SIZE_VER1);
static_assert(offsetof(ssfast_service_status, listeners) == 8);
static_assert(offsetof(ssfast_service_status, fullest_address) == 32);
static_assert(offsetof(ssfast_service_status, age_ns) == 56);
static_assert(offsetof(ssfast_service_status, reason) == 72);
static_assert(sizeof(ssfast_service_status::reason) == sizeof(ssfast::service_state::reason));
static_assert(static_cast<int>(ssfast::service_verdict::ready) == SSFAST_READY &&
              static_cast<int>(ssfast::service_verdict::drain) == SSFAST_DRAIN &&
              static_cast<int>(ssfast::service_verdict::down) == SSFAST_DOWN);

namespace {

// The caller's options, grown or not, as this version's struct: the part both know, with
// every byte the caller has past it required to be zero (openat2's copy_struct_from_user).
template <class T>
int read_options(const T* in, T& out, std::size_t first_size) noexcept {
  if (in->size < first_size) return -EINVAL;
  const auto* bytes = reinterpret_cast<const unsigned char*>(in);
  for (std::size_t i = sizeof(T); i < in->size; ++i)
    if (bytes[i] != 0) return -E2BIG;
  out = T{};
  std::memcpy(&out, in, std::min<std::size_t>(in->size, sizeof(T)));
  return 0;
}

int to_code(std::error_code ec) noexcept {
  if (!ec) return 0;
  if (ec.category() == ssfast::error_category()) return -(SSFAST_ERROR_BASE + ec.value());
  return ec.value() > 0 ? -ec.value() : -EIO;
}

// A summary into the caller's record: only the part both sides know.
void fill_counts(const ssfast::collector& c, const ssfast::socket_summary& s,
                 ssfast_counts* out) noexcept {
  ssfast_counts n{};
  n.source =
      c.source() == ssfast::source_kind::netlink ? SSFAST_SOURCE_NETLINK : SSFAST_SOURCE_PROC;
  const ssfast::state_counts all = s.tcp_all();
  for (std::size_t i = 0; i < ssfast::state_slots; ++i) {
    n.tcp_states[i] = all[i];
    n.tcp4_states[i] = s.tcp[0][i];
    n.tcp6_states[i] = s.tcp[1][i];
  }
  // Request sockets arrive as SYN_RECV already; fold any NEW_SYN_RECV the same way.
  n.tcp_states[3] += n.tcp_states[12];
  n.tcp4_states[3] += n.tcp4_states[12];
  n.tcp6_states[3] += n.tcp6_states[12];
  n.tcp_states[12] = n.tcp4_states[12] = n.tcp6_states[12] = 0;
  n.udp4_total = s.udp[0].total();
  n.udp6_total = s.udp[1].total();
  n.udp_total = n.udp4_total + n.udp6_total;
  n.udp_connected = s.udp_all()[ssfast::tcp_state::established];
  n.unix_total = s.unix_domain.total();
  n.unix_stream = s.unix_domain.by_type[1];
  n.unix_dgram = s.unix_domain.by_type[2];
  n.unix_seqpacket = s.unix_domain.by_type[5];
  // Only the part both sides know; a larger (newer) caller's extra fields are left alone.
  const std::size_t filled = std::min<std::size_t>(out->size, sizeof n);
  n.size = static_cast<std::uint32_t>(filled);
  std::memcpy(out, &n, filled);
}

}  // namespace

extern "C" {

int ssfast_open2(const ssfast_options* options, ssfast_collector** out) {
  if (out == nullptr) return -EINVAL;
  *out = nullptr;
  try {
    ssfast::collector_options o;
    ssfast_options known;
    if (options != nullptr) {
      if (const int rc = read_options(options, known, SSFAST_OPTIONS_SIZE_VER1)) return rc;
      options = &known;
      if (options->source > SSFAST_SOURCE_PROC || options->reserved != 0) return -EINVAL;
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
  if (rc != 0) errno = -rc;  // an errno, or SSFAST_ERROR_BASE + n: ssfast_strerror(-errno)
  return c;
}

int ssfast_count(ssfast_collector* c, ssfast_counts* out) {
  if (c == nullptr || out == nullptr || out->size < SSFAST_COUNTS_SIZE_VER1) return -EINVAL;
  ssfast::socket_summary s;
  if (auto ec = c->c.count(s)) return to_code(ec);
  fill_counts(c->c, s, out);
  return 0;
}

int ssfast_count_filtered(ssfast_collector* c, const char* filter, ssfast_counts* out) {
  if (c == nullptr || filter == nullptr || out == nullptr || out->size < SSFAST_COUNTS_SIZE_VER1)
    return -EINVAL;
  try {
    const std::string_view words[] = {filter};
    auto parsed = ssfast::parse_filter(words);  // no resolver: numeric only
    if (!parsed.filter) return -(SSFAST_ERROR_BASE + static_cast<int>(ssfast::errc::bad_filter));
    const ssfast::socket_query q =
        ssfast::query_of(*parsed.filter, {}, ssfast::abi::tcp_all_states);
    ssfast::socket_summary s;
    if (auto ec = c->c.count(s, q)) return to_code(ec);
    fill_counts(c->c, s, out);
    return 0;
  } catch (const std::bad_alloc&) {
    return -ENOMEM;
  }
}

int ssfast_service_state(ssfast_collector* c, uint16_t port, const ssfast_service_rules* rules,
                         ssfast_service_status* out) {
  if (c == nullptr || port == 0 || out == nullptr || out->size < SSFAST_SERVICE_STATUS_SIZE_VER1)
    return -EINVAL;
  ssfast_service_rules given{};
  if (rules != nullptr)
    if (const int rc = read_options(rules, given, SSFAST_SERVICE_RULES_SIZE_VER1)) return rc;
  ssfast::service_rules r;
  r.max_established = given.max_established;
  if (given.drain_queue != 0) {
    if (!(given.drain_queue > 0 && given.drain_queue <= 1)) return -EINVAL;
    r.drain_queue = given.drain_queue;
  }
  ssfast::service_state s;
  if (auto ec = c->c.service(port, r, s, std::chrono::milliseconds(given.max_age_ms)))
    return to_code(ec);
  ssfast_service_status n{};
  n.port = s.port;
  n.verdict = static_cast<uint8_t>(s.verdict);
  n.weight = s.weight;
  n.listeners = s.listeners;
  n.established = s.established;
  n.established_counted = s.established_counted ? 1 : 0;
  if (s.listeners > 0) {
    n.fullest_family = s.fullest.family;
    std::memcpy(n.fullest_address, s.fullest.address.data(), sizeof n.fullest_address);
    n.fullest_accept_queue = s.fullest.accept_queue;
    n.fullest_backlog = s.fullest.backlog;
  }
  const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::steady_clock::now().time_since_epoch())
                       .count();
  n.age_ns = static_cast<uint64_t>(std::max<std::int64_t>(0, now - s.measured_at_ns));
  // Judged under the collector's lock: only netlink shows backlogs (read here, source() could
  // change under a concurrent caller's fallback).
  n.source = s.backlog_known ? SSFAST_SOURCE_NETLINK : SSFAST_SOURCE_PROC;
  n.backlog_known = s.backlog_known ? 1 : 0;
  std::memcpy(n.reason, s.reason.data(), sizeof n.reason);
  const std::size_t filled = std::min<std::size_t>(out->size, sizeof n);
  n.size = static_cast<std::uint32_t>(filled);
  std::memcpy(out, &n, filled);
  return 0;
}

void ssfast_close(ssfast_collector* c) { delete c; }

const char* ssfast_strerror(int code) {
  if (code == 0) return "success";
  if (code <= -SSFAST_ERROR_BASE && code > -(SSFAST_ERROR_BASE + 100))
    return ssfast::errc_message(-code - SSFAST_ERROR_BASE);
  if (code < 0) {
    // strerrordesc_np (glibc 2.32) returns a static string: thread-safe, unlike strerror.
    const char* d = strerrordesc_np(-code);
    if (d != nullptr) return d;
  }
  return "unknown error";
}

const char* ssfast_version(void) { return SSFAST_VERSION_STRING; }

uint32_t ssfast_abi_version(void) { return SSFAST_ABI_VERSION; }

}  // extern "C"
