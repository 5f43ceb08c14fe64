// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: bytes through the history file reader, as a file and, framed with a valid
// checksum, as one record's payload (random bytes seldom pass a CRC, so the field parser is
// reached this way). It always ends (every call moves on or stops), never reads past the input,
// and every record it returns writes and reads back the same as a keyframe; the records then
// go where `ssfast history` sends them: the doctor's judgement, the table with its flags and
// sparklines, CSV and JSON (counters near INT64's ends, listeners and sysctls of any shape).
#include <string>
#include <vector>

#include "ssfast/core/history.h"
#include "ssfast/doctor/history.h"
#include "ssfast/report/history_view.h"

namespace {

void read_through(std::span<const std::byte> in) {
  using namespace ssfast;
  const std::size_t size = in.size();
  history_decoder d(in);
  history_record r;
  std::vector<history_record> rows;
  for (std::size_t calls = 0;; ++calls) {
    if (calls > size + 1) __builtin_trap();  // no call may leave the position where it was
    const std::size_t before = d.offset();
    const history_read_status st = d.next(r);
    if (d.offset() > size) __builtin_trap();
    if (st == history_read_status::end || st == history_read_status::cut) break;
    if (d.offset() <= before) __builtin_trap();
    if (st != history_read_status::record) continue;
    std::string again;
    history_encoder e;
    e.encode(r.sample, again);
    history_decoder back(std::as_bytes(std::span(again.data(), again.size())));
    history_record r2;
    if (back.next(r2) != history_read_status::record) __builtin_trap();
    if (r2.sample.time_ms != r.sample.time_ms || r2.sample.tcp != r.sample.tcp ||
        r2.sample.source != r.sample.source || r2.sample.counters != r.sample.counters ||
        r2.sample.listeners != r.sample.listeners || r2.sample.sysctls != r.sample.sysctls)
      __builtin_trap();
    rows.push_back(r);
  }
  const tcp_state states[] = {tcp_state::established, tcp_state::close_wait};
  history_extras extras;
  extras.width = 80;
  history_flagger g;
  for (const history_record& x : rows) extras.flags.push_back(g.judge(x));
  extras.notes = g.notes(history_clock::utc, true);
  std::string out;
  render_history_text(rows, states, history_clock::utc, out, &extras);
  render_history_csv(rows, states, out);
  for (const history_record& x : rows) render_history_json(x, out);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto in = std::as_bytes(std::span(data, size));
  read_through(in);
  std::string framed = "SSR1";
  for (const std::uint32_t v : {static_cast<std::uint32_t>(size), ssfast::crc32c(in)})
    for (int i = 0; i < 4; ++i) framed.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  framed.append(reinterpret_cast<const char*>(data), size);
  read_through(std::as_bytes(std::span(framed.data(), framed.size())));
  return 0;
}
