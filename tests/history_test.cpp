// SPDX-License-Identifier: Apache-2.0
// The history format (core/history.h): records read back as written, counters as changes with
// resets, keyframes carried, a file cut anywhere read up to the cut, damage passed over by the
// checksum, a newer writer's fields skipped, and a week of samples within its size budget.
#include "ssfast/core/history.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "support/busy_history.h"

namespace ssfast {
namespace {

std::span<const std::byte> bytes(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

std::size_t id(counter_id c) { return static_cast<std::size_t>(c); }

// A busy host's sample at step `i`, 10 s apart, from /proc (the source is written in keyframes
// and carried to the rest).
history_sample busy_sample(int i) {
  return testing::busy_history_sample(1'796'000'000'000 + std::int64_t{i} * 10'000, i, 1);
}

std::vector<history_record> read_all(const std::string& file,
                                     std::vector<history_read_status>* said = nullptr) {
  history_decoder d(bytes(file));
  std::vector<history_record> out;
  history_record r;
  for (int guard = 0; guard < 100000; ++guard) {
    const history_read_status st = d.next(r);
    if (said) said->push_back(st);
    if (st == history_read_status::record) out.push_back(r);
    if (st == history_read_status::end || st == history_read_status::cut) break;
  }
  return out;
}

TEST(HistoryFormat, Crc32cIsCastagnoli) {
  EXPECT_EQ(crc32c(bytes("123456789")), 0xE3069283u);  // the check value of CRC-32C
  EXPECT_EQ(crc32c({}), 0u);
}

TEST(HistoryFormat, RecordsReadBackAsWritten) {
  history_encoder e(4);
  std::string file;
  std::vector<history_sample> written;
  for (int i = 0; i < 10; ++i) {
    written.push_back(busy_sample(i));
    e.encode(written.back(), file);
  }
  const auto got = read_all(file);
  ASSERT_EQ(got.size(), 10u);
  for (int i = 0; i < 10; ++i) {
    const history_record& r = got[static_cast<std::size_t>(i)];
    const history_sample& w = written[static_cast<std::size_t>(i)];
    EXPECT_EQ(r.keyframe, i % 4 == 0) << i;
    EXPECT_EQ(r.sample.time_ms, w.time_ms);
    EXPECT_EQ(r.sample.boot_id, w.boot_id);
    EXPECT_EQ(r.sample.netns, w.netns);
    EXPECT_EQ(r.sample.source, w.source);
    EXPECT_EQ(r.sample.tcp, w.tcp);
    EXPECT_EQ(r.sample.udp, w.udp);
    EXPECT_EQ(r.sample.unix_sockets, w.unix_sockets);
    for (const auto& f : kernel_counter_fields)
      EXPECT_EQ(r.sample.levels.*f.field, w.levels.*f.field) << f.group << " " << f.name;
    EXPECT_EQ(r.sample.counters, w.counters) << i;
    EXPECT_EQ(r.sample.sysctls, w.sysctls);
    EXPECT_TRUE(r.sysctls_known);
    EXPECT_EQ(r.sample.listeners, w.listeners);
    if (i == 0) {
      EXPECT_EQ(r.delta_ms, 0) << "a run's first sample has no interval";
      EXPECT_FALSE(r.delta[id(counter_id::tcp_in_segs)]);
    } else {
      EXPECT_EQ(r.delta_ms, 10'000);
      EXPECT_EQ(r.delta[id(counter_id::tcp_in_segs)], 1'050'000);
      EXPECT_EQ(r.delta[id(counter_id::tcp_active_opens)], 2900);
      const std::size_t plain = id(counter_id::timewait_killed);  // grows by id % 4 a step
      EXPECT_EQ(r.delta[plain], static_cast<std::int64_t>(plain % 4));
    }
  }
}

// A counter that goes down (a namespace re-made, a counter wrapped): a reset, never a negative
// change; a counter that disappears and comes back; an IPv6 listener; sysctls that change.
TEST(HistoryFormat, ResetsGapsAndChanges) {
  history_encoder e(100);
  std::string file;
  history_sample a = busy_sample(0);
  a.listeners[0].family = 6;
  a.listeners[0].address = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  a.listeners[1].syn_recv.reset();
  e.encode(a, file);
  history_sample b = busy_sample(1);
  b.listeners = a.listeners;
  b.counters[id(counter_id::listen_drops)] = 5;  // down from 9e9: reset
  b.counters[id(counter_id::syncookies_sent)].reset();
  b.sysctls[8].second = "2";
  e.encode(b, file);
  history_sample c = busy_sample(2);
  c.listeners = a.listeners;
  c.counters[id(counter_id::listen_drops)] = 12;
  c.sysctls = b.sysctls;
  e.encode(c, file);
  const auto got = read_all(file);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].sample.listeners, a.listeners);
  EXPECT_TRUE(got[1].reset[id(counter_id::listen_drops)]);
  EXPECT_EQ(got[1].delta[id(counter_id::listen_drops)], 5);
  EXPECT_EQ(got[1].sample.counters[id(counter_id::listen_drops)], 5);
  EXPECT_FALSE(got[1].sample.counters[id(counter_id::syncookies_sent)]);
  EXPECT_FALSE(got[1].delta[id(counter_id::syncookies_sent)]);
  EXPECT_EQ(got[1].sample.sysctls, b.sysctls);
  EXPECT_FALSE(got[2].reset[id(counter_id::listen_drops)]);
  EXPECT_EQ(got[2].delta[id(counter_id::listen_drops)], 7);
  EXPECT_EQ(got[2].sample.counters[id(counter_id::syncookies_sent)],
            c.counters[id(counter_id::syncookies_sent)])
      << "back: its value again, its change not known";
  EXPECT_FALSE(got[2].delta[id(counter_id::syncookies_sent)]);
  EXPECT_EQ(got[2].sample.sysctls, b.sysctls) << "carried from the record that changed them";
}

// Cut at every byte: every whole record before the cut is read, then `cut` (or `end` exactly at
// a boundary); nothing is invented.
TEST(HistoryFormat, AFileCutAnywhereReadsUpToTheCut) {
  history_encoder e(3);
  std::string file;
  std::vector<std::size_t> ends;
  for (int i = 0; i < 7; ++i) {
    e.encode(busy_sample(i), file);
    ends.push_back(file.size());
  }
  for (std::size_t n = 0; n <= file.size(); ++n) {
    std::vector<history_read_status> said;
    const auto got = read_all(file.substr(0, n), &said);
    const auto whole =
        static_cast<std::size_t>(std::upper_bound(ends.begin(), ends.end(), n) - ends.begin());
    ASSERT_EQ(got.size(), whole) << "cut at " << n;
    const bool boundary = n == 0 || (whole > 0 && ends[whole - 1] == n);
    EXPECT_EQ(said.back(), boundary ? history_read_status::end : history_read_status::cut)
        << "cut at " << n;
    for (std::size_t k = 0; k < got.size(); ++k)
      EXPECT_EQ(got[k].sample.time_ms, busy_sample(static_cast<int>(k)).time_ms);
  }
}

// A damaged byte in any record's frame or payload: that record is passed over (and said), the
// rest are read; the one after it knows its changes but not, until a keyframe, its absolutes.
TEST(HistoryFormat, DamageIsPassedOverAndSaid) {
  history_encoder e(4);
  std::string file;
  std::vector<std::size_t> starts;
  for (int i = 0; i < 8; ++i) {
    starts.push_back(file.size());
    e.encode(busy_sample(i), file);
  }
  starts.push_back(file.size());
  for (std::size_t victim = 0; victim < 8; ++victim) {
    for (std::size_t at = starts[victim]; at < starts[victim + 1]; at += 7) {
      std::string bad = file;
      bad[at] = static_cast<char>(bad[at] ^ 0x5a);
      std::vector<history_read_status> said;
      const auto got = read_all(bad, &said);
      ASSERT_EQ(got.size(), 7u) << "record " << victim << " byte " << at;
      EXPECT_NE(std::find(said.begin(), said.end(), history_read_status::damaged), said.end());
      EXPECT_EQ(said.back(), history_read_status::end);
      for (const history_record& r : got) {
        const auto k =
            static_cast<std::size_t>((r.sample.time_ms - busy_sample(0).time_ms) / 10'000);
        ASSERT_NE(k, victim);
        const std::size_t next_keyframe = (victim / 4 + 1) * 4;
        if (k > victim && k < next_keyframe) {
          // Changes are the record's own; absolutes wait for the next keyframe.
          EXPECT_EQ(r.delta_ms, k == victim + 1 ? 0 : 10'000) << k;
          EXPECT_FALSE(r.sample.counters[id(counter_id::tcp_in_segs)]) << k;
          EXPECT_EQ(r.delta[id(counter_id::tcp_in_segs)], 1'050'000) << k;
        } else {
          EXPECT_EQ(r.sample.counters, busy_sample(static_cast<int>(k)).counters) << k;
        }
      }
    }
  }
}

// A newer writer's fields (a varint and a bytes field of numbers this reader has no use for) are
// passed over; a payload that is not what it claims is damage.
TEST(HistoryFormat, UnknownFieldsAreSkipped) {
  history_encoder e;
  std::string rec;
  e.encode(busy_sample(0), rec);
  std::string payload = rec.substr(history_frame_bytes);
  payload += std::string("\xf8\x07\x2a", 3);     // field 127, varint 42
  payload += std::string("\xfa\x07\x03xyz", 6);  // field 127, bytes "xyz"
  std::string framed = rec.substr(0, 4);
  for (std::uint32_t v : {static_cast<std::uint32_t>(payload.size()), crc32c(bytes(payload))})
    for (int i = 0; i < 4; ++i) framed.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  framed += payload;
  const auto got = read_all(framed);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].sample.counters, busy_sample(0).counters);
}

// The budget: a week at 10 s (60,480 samples) in under 16 MiB, keyframes every hour included.
TEST(HistoryFormat, AWeekOfBusySamplesFitsSixteenMebibytes) {
  history_encoder e(360);
  std::string file;
  constexpr int samples = 8640;  // a day; a week is seven of these files
  for (int i = 0; i < samples; ++i) e.encode(busy_sample(i), file);
  const double per_sample = static_cast<double>(file.size()) / samples;
  EXPECT_LT(per_sample * 60480, 16.0 * 1024 * 1024) << per_sample << " bytes per sample";
  RecordProperty("bytes_per_sample", std::to_string(per_sample));
}

// Bytes that are no file at all: the reader ends, says damage, never loops or reads past.
TEST(HistoryFormat, NoiseIsDamageNeverACrash) {
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    std::string noise(static_cast<std::size_t>(rng() % 600), '\0');
    for (char& c : noise) c = static_cast<char>(rng());
    if (round % 3 == 0) noise.insert(rng() % (noise.size() + 1), "SSR1");
    std::vector<history_read_status> said;
    const auto got = read_all(noise, &said);
    EXPECT_TRUE(got.empty());
    EXPECT_TRUE(said.back() == history_read_status::end || said.back() == history_read_status::cut);
  }
}

}  // namespace
}  // namespace ssfast
