// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: /proc/net socket file text through every parser mode, split into reads at
// positions the input chooses. The first byte picks the file format and the chunk size.
#include <string_view>

#include "ssfast/proc/socket_files.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ssfast;
  if (size == 0) return 0;
  const auto file = static_cast<proc::socket_file>(data[0] % proc::socket_file_count);
  const std::size_t chunk = 1 + (data[0] >> 3) * 37;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  auto run = [&](proc::socket_file_parser& p) {
    for (std::size_t off = 0; off < text.size(); off += chunk)
      if (p.feed(text.substr(off, chunk))) return;
    (void)p.finish();
  };
  socket_table t;
  proc::socket_file_parser rows(file, t);
  run(rows);
  if (rows.stats().rows != t.size()) __builtin_trap();
  if (file == proc::socket_file::unix_domain) {
    unix_counts u;
    proc::socket_file_parser counts(u);
    run(counts);
    if (counts.stats().rows != u.total()) __builtin_trap();
  } else {
    state_counts c;
    proc::socket_file_parser counts(file, c);
    run(counts);
    if (counts.stats().rows != c.total()) __builtin_trap();
  }
  return 0;
}
