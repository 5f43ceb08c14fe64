// SPDX-License-Identifier: Apache-2.0
// ssfast-history-day: writes a busy host's day of history samples (what `ssfast record` would
// keep at 228k sockets every 10 s: 8,640 records, 5 listeners, counters moving as a proxy's
// do) into DIR, for scripts/bench-compare --history to time `ssfast history` on.
//   ssfast-history-day DIR [SAMPLES] [INTERVAL_S]
// The samples end now (the newest is this second), so `history --since -24h` reads them all.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "ssfast/report/history_file.h"
#include "support/busy_history.h"

using namespace ssfast;

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    std::fprintf(stderr, "usage: ssfast-history-day DIR [SAMPLES (8640)] [INTERVAL_S (10)]\n");
    return 2;
  }
  const long samples = argc > 2 ? std::atol(argv[2]) : 8640;
  const long interval_s = argc > 3 ? std::atol(argv[3]) : 10;
  if (samples <= 0 || interval_s <= 0) {
    std::fprintf(stderr, "ssfast-history-day: SAMPLES and INTERVAL_S must be positive\n");
    return 2;
  }
  const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  history_writer w(argv[1]);
  for (std::int64_t i = 0; i < samples; ++i) {
    const std::int64_t t = now - (samples - 1 - i) * interval_s * 1000;
    if (const std::string err = w.append(testing::busy_history_sample(t, i)); !err.empty()) {
      std::fprintf(stderr, "ssfast-history-day: %s\n", err.c_str());
      return 1;
    }
  }
  return 0;
}
