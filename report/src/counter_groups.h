// The kernel counters as -s shows them, grouped and named as the kernel prints them; shared by
// the text, JSON and Prometheus renderers. Not installed.
#pragma once

#include <initializer_list>
#include <optional>
#include <string_view>
#include <utility>

#include "ssfast/core/summary.h"

namespace ssfast::report_detail {

using field_list =
    std::initializer_list<std::pair<std::string_view, const std::optional<std::int64_t>*>>;

template <class F>
inline void for_each_counter_group(const kernel_counters& k, F&& f) {
  // Grouped and named as the kernel prints them, so a reader can find each in /proc.
  f("sockets", {{"used", &k.sockets_used}});
  f("TCP", {{"inuse", &k.tcp_inuse},
            {"orphan", &k.tcp_orphan},
            {"tw", &k.tcp_tw},
            {"alloc", &k.tcp_alloc},
            {"mem", &k.tcp_mem}});
  f("TCP6", {{"inuse", &k.tcp6_inuse}});
  f("UDP", {{"inuse", &k.udp_inuse}, {"mem", &k.udp_mem}});
  f("UDP6", {{"inuse", &k.udp6_inuse}});
  f("RAW", {{"inuse", &k.raw_inuse}});
  f("RAW6", {{"inuse", &k.raw6_inuse}});
  f("Tcp", {{"CurrEstab", &k.tcp_curr_estab}});
}

}  // namespace ssfast::report_detail
