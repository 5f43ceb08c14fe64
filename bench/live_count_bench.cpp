// SPDX-License-Identifier: Apache-2.0
// The live collector against the kernel, in the current network namespace (scripts/bench-compare
// runs it inside its socket farm). The baseline is the fastest single-threaded minimal dump:
// one TCPDIAG_GETSOCK walk of both families, no extensions, nothing per message but the state
// byte. Wall time (real time), since the exact count runs dumps on several threads.
#include <benchmark/benchmark.h>
#include <netinet/in.h>

#include <cstdlib>

#include "ssfast/doctor/gather.h"
#include "ssfast/netlink/sock_diag.h"
#include "ssfast/ssfast.h"

namespace {

using namespace ssfast;

// Every benchmark here reports the same counters (0 where one does not apply): the CSV reporter
// fixes its columns from the first run it prints, which random interleaving makes any of them,
// and aborts on a counter a later run adds.
void report(benchmark::State& state, double tcp_sockets, double threads, double derived_taken,
            double listeners, double established) {
  state.counters["tcp_sockets"] = tcp_sockets;
  state.counters["threads"] = threads;
  state.counters["derived_taken"] = derived_taken;
  state.counters["listeners"] = listeners;
  state.counters["established"] = established;
}

struct counting_sink final : netlink::datagram_sink {
  std::array<state_counts, 2> counts;
  netlink::parse_status on_datagram(const netlink::datagram& d,
                                    const netlink::reply_filter& f) noexcept override {
    return netlink::count_inet(d, f, counts);
  }
};

void bm_minimal_dump(benchmark::State& state) {
  auto s = netlink::sock_diag_socket::open();
  if (!s) {
    state.SkipWithError("sock_diag unavailable");
    return;
  }
  netlink::dump_request r;
  r.what = netlink::dump_request::kind::inet_legacy;
  r.protocol = IPPROTO_TCP;
  r.states = netlink::all_tcp_states;
  std::uint64_t sockets = 0;
  for (auto _ : state) {
    counting_sink sink;
    if (s->dump(r, sink)) state.SkipWithError("dump failed");
    sockets = sink.counts[0].total() + sink.counts[1].total();
  }
  report(state, static_cast<double>(sockets), 1, 0, 0, 0);
}
BENCHMARK(bm_minimal_dump)->UseRealTime()->Unit(benchmark::kMillisecond);

void bm_count(benchmark::State& state, unsigned threads, count_method method, bool tcp_only) {
  collector_options o;
  o.source = source_choice::netlink;
  o.threads = threads;
  auto c = collector::open(o);
  if (!c) {
    state.SkipWithError("sock_diag unavailable");
    return;
  }
  count_scope scope;
  if (tcp_only) scope.udp = scope.unix_domain = false;
  socket_summary s;
  if (c->count(s, scope, method)) state.SkipWithError("count failed");  // warm-up
  std::uint64_t taken = 0, iterations = 0;
  for (auto _ : state) {
    if (c->count(s, scope, method)) state.SkipWithError("count failed");
    taken += s.derivation == socket_summary::derivation_status::taken;
    ++iterations;
  }
  // A derived count that walked measured the walk: how often it was taken (0 for the others).
  report(state, static_cast<double>(s.tcp_histogram().total()), c->threads(),
         iterations == 0 ? 0.0 : static_cast<double>(taken) / static_cast<double>(iterations), 0,
         0);
}
BENCHMARK_CAPTURE(bm_count, tcp_exact, 0, count_method::exact, true)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_count, tcp_exact_1thread, 1, count_method::exact, true)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_count, tcp_estimate, 0, count_method::estimate, true)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_count, tcp_derived, 0, count_method::derived, true)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_count, all_exact, 0, count_method::exact, false)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// The doctor's sample, as the exporter takes one per scrape (no owners): listing every TCP
// socket, or deriving ESTABLISHED (every other state, the ESTABLISHED ones on ephemeral local
// ports, and the gauges). In a farm on loopback half the ESTABLISHED sockets are clients on
// ephemeral ports, so the second way still lists those: a server's inbound connections would
// cost it only the walk.
void bm_doctor_sample(benchmark::State& state, doctor_options::established_way way) {
  auto c = collector::open();
  if (!c) {
    state.SkipWithError("no source");
    return;
  }
  doctor_options o;
  o.processes = false;
  o.established = way;
  doctor_sampler sampler(o);
  doctor_evidence e;
  bool ready = false;
  if (sampler.sample(*c, e, ready)) state.SkipWithError("sample failed");  // warm-up
  std::uint64_t taken = 0, iterations = 0;
  for (auto _ : state) {
    if (sampler.sample(*c, e, ready)) state.SkipWithError("sample failed");
    taken += e.sockets.derivation == socket_summary::derivation_status::taken;
    ++iterations;
  }
  report(state, static_cast<double>(e.sockets.tcp_histogram().total()), 0,
         iterations == 0 ? 0.0 : static_cast<double>(taken) / static_cast<double>(iterations), 0,
         0);
}
BENCHMARK_CAPTURE(bm_doctor_sample, listing, doctor_options::established_way::never)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bm_doctor_sample, derived, doctor_options::established_way::always)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
// The way the exporter and the live view take: chosen by the warm-up sample (the farm on
// loopback: listing; scripts/bench-compare --inbound: deriving).
BENCHMARK_CAPTURE(bm_doctor_sample, automatic, doctor_options::established_way::automatic)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// The probe API, as an in-process health check calls it: one service port (the farm's first
// listener, 100, or $SSFAST_BENCH_SERVICE_PORT), from the listening hash alone, or with
// ESTABLISHED counted (a walk of the established hash). Measured fresh every call (max_age 0).
void bm_service(benchmark::State& state, bool established) {
  auto c = collector::open();
  if (!c) {
    state.SkipWithError("no source");
    return;
  }
  const char* env = std::getenv("SSFAST_BENCH_SERVICE_PORT");
  const auto port = static_cast<std::uint16_t>(env != nullptr ? std::atoi(env) : 100);
  service_rules rules;
  if (established) rules.max_established = 1000000000;
  service_state s;
  if (c->service(port, rules, s)) state.SkipWithError("service failed");  // warm-up
  for (auto _ : state) {
    if (c->service(port, rules, s)) state.SkipWithError("service failed");
  }
  report(state, 0, 1, 0, static_cast<double>(s.listeners), static_cast<double>(s.established));
}
BENCHMARK_CAPTURE(bm_service, listeners_only, false)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(bm_service, with_established, true)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
