// SPDX-License-Identifier: Apache-2.0
// A busy host's history sample, for the history's tests and bench/history_day (header only,
// core only): 228k sockets, counters moving as a proxy's do, 5 listeners, the doctor's sysctls.
#pragma once

#include <cstdint>

#include "ssfast/core/history.h"

namespace ssfast::testing {

inline std::size_t busy_id(counter_id c) { return static_cast<std::size_t>(c); }

/// The sample at step `i`, taken at `time_ms`, from `source` (0 netlink, 1 /proc).
inline history_sample busy_history_sample(std::int64_t time_ms, std::int64_t i,
                                          std::uint8_t source = 0) {
  history_sample s;
  s.time_ms = time_ms;
  for (std::size_t k = 0; k < 16; ++k) s.boot_id[k] = static_cast<std::uint8_t>(k * 7 + 1);
  s.netns = 4026531840;
  s.source = source;
  const auto u = [](std::int64_t v) { return static_cast<std::uint64_t>(v); };
  s.tcp[0][1] = 228000 + u(i % 17 * 31);  // ESTABLISHED
  s.tcp[0][2] = u(i % 7);                 // SYN_SENT
  s.tcp[0][4] = u(i % 11);                // FIN_WAIT1
  s.tcp[0][5] = 300 + u(i % 13);          // FIN_WAIT2
  s.tcp[0][6] = 31000 + u(i % 97 * 3);    // TIME_WAIT
  s.tcp[0][8] = 12 + u(i % 5);            // CLOSE_WAIT
  s.tcp[0][9] = u(i % 3);                 // LAST_ACK
  s.tcp[0][10] = 40;                      // LISTEN
  s.tcp[0][12] = u(i % 9);                // NEW_SYN_RECV
  s.tcp[1][1] = 5200 + u(i % 23);
  s.tcp[1][10] = 8;
  s.udp = {3, 120, 1, 14};
  s.unix_sockets = {2100 + u(i % 7), 340, 6, 12};
  s.levels.sockets_used = 262000 + u(i % 101);
  s.levels.tcp_inuse = 228100 + u(i % 17 * 31);
  s.levels.tcp_orphan = 14 + u(i % 4);
  s.levels.tcp_tw = 31000 + u(i % 97 * 3);
  s.levels.tcp_alloc = 228200;
  s.levels.tcp_mem = 91234 + u(i % 500);
  s.levels.tcp6_inuse = 5208;
  s.levels.udp_inuse = 123;
  s.levels.udp_mem = 40;
  s.levels.udp6_inuse = 15;
  s.levels.raw_inuse = 0;
  s.levels.raw6_inuse = 1;
  s.levels.tcp_curr_estab = 233212 + u(i % 17 * 31);
  // A host up for months; per 10 s 2,900 connections each way, 1.05M segments in; counters
  // of trouble (overflows, drops, cookies, memory) stand still; the rest grow by id % 4 a
  // step; sockstat's are levels.
  for (std::size_t c = 0; c < history_counter_count; ++c)
    s.counters[c] = 9'000'000'000 + std::int64_t(c) * 1'000'003 + i * std::int64_t(c % 4);
  for (counter_id still :
       {counter_id::listen_overflows, counter_id::listen_drops, counter_id::syncookies_sent,
        counter_id::syncookies_recv, counter_id::syncookies_failed, counter_id::tcp_abort_on_memory,
        counter_id::timewait_overflow, counter_id::req_q_full_drop,
        counter_id::req_q_full_do_cookies, counter_id::memory_pressures})
    s.counters[busy_id(still)] = 9'000'000'000 + std::int64_t(busy_id(still)) * 1'000'003;
  s.counters[busy_id(counter_id::sockstat_tcp_orphan)] = 14 + i % 4;
  s.counters[busy_id(counter_id::sockstat_tcp_mem)] = 91234 + i % 500;
  s.counters[busy_id(counter_id::sockstat_tcp_tw)] = 31000 + i % 97 * 3;
  s.counters[busy_id(counter_id::tcp_active_opens)] = 4'100'000'000 + i * 2900;
  s.counters[busy_id(counter_id::tcp_passive_opens)] = 3'900'000'000 + i * 2900;
  s.counters[busy_id(counter_id::tcp_in_segs)] = 900'000'000'000 + i * 1'050'000;
  s.counters[busy_id(counter_id::tcp_out_segs)] = 950'000'000'000 + i * 1'100'000;
  s.counters[busy_id(counter_id::tcp_retrans_segs)] = 3'000'000'000 + i * 1900;
  s.sysctls = {{"net.core.somaxconn", "4096"},
               {"net.ipv4.ip_local_port_range", "32768 60999"},
               {"net.ipv4.tcp_fin_timeout", "60"},
               {"net.ipv4.tcp_max_orphans", "262144"},
               {"net.ipv4.tcp_max_syn_backlog", "4096"},
               {"net.ipv4.tcp_max_tw_buckets", "262144"},
               {"net.ipv4.tcp_mem", "381969 509294 763938"},
               {"net.ipv4.tcp_synack_retries", "5"},
               {"net.ipv4.tcp_syncookies", "1"},
               {"net.ipv4.tcp_tw_reuse", "2"}};
  for (std::uint16_t k = 0; k < 5; ++k) {
    history_listener l;
    l.address = {10, 0, 0, static_cast<std::uint8_t>(1 + k)};
    l.port = static_cast<std::uint16_t>(443 + k);
    l.accept_queue = static_cast<std::uint32_t>((i + k) % 6);
    l.backlog = 4096;
    if (s.tcp[0][12] > 0) l.syn_recv = static_cast<std::uint32_t>((i + k) % 4);
    s.listeners.push_back(l);
  }
  return s;
}

}  // namespace ssfast::testing
