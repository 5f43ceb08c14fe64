// SPDX-License-Identifier: Apache-2.0
// The /proc/net socket file parser on recorded files: bytes per second, counting and rows.
// Fed in 4050-byte reads, as seq_file hands /proc/net/tcp out on this kernel.
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>
#include <string>

#include "ssfast/proc/socket_files.h"

namespace {

using namespace ssfast;

const std::string& tcp_file() {
  static const std::string text = [] {
    std::ifstream in(std::string(SSFAST_TEST_DATA) + "/proc-many/tcp", std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }();
  return text;
}

template <class Parser>
void feed(Parser& p, std::string_view text) {
  constexpr std::size_t read_size = 4050;
  for (std::size_t off = 0; off < text.size(); off += read_size)
    (void)p.feed(text.substr(off, read_size));
  (void)p.finish();
}

void bm_proc_count(benchmark::State& state) {
  const std::string& text = tcp_file();
  for (auto _ : state) {
    state_counts c;
    proc::socket_file_parser p(proc::socket_file::tcp, c);
    feed(p, text);
    benchmark::DoNotOptimize(c);
    if (p.stats().rows != 601) state.SkipWithError("wrong row count");
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(bm_proc_count);

void bm_proc_rows(benchmark::State& state) {
  const std::string& text = tcp_file();
  socket_table t;
  for (auto _ : state) {
    t.clear();
    proc::socket_file_parser p(proc::socket_file::tcp, t);
    feed(p, text);
    benchmark::DoNotOptimize(t.size());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(bm_proc_rows);

}  // namespace

BENCHMARK_MAIN();
