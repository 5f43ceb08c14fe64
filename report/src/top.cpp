// SPDX-License-Identifier: Apache-2.0
// `top`'s groups written as `uniq -c` does, on one line per report, or as JSON.
#include "ssfast/report/top.h"

#include <cstdio>

#include "ssfast/report/escape.h"
#include "ssfast/report/json_writer.h"

namespace ssfast {

void render_top(std::span<const top_entry> entries, top_layout layout, std::string_view time,
                std::optional<std::uint64_t> repeats, std::string& out, top_metric metric) {
  const bool rtt = metric == top_metric::rtt;
  switch (layout) {
    case top_layout::json: {
      json_writer w(out);
      w.begin_object().key("time").value(time).key("entries").begin_array();
      for (const top_entry& e : entries) {
        w.begin_object().key("count").value(e.count).key("key").value(e.key);
        if (metric != top_metric::sockets) w.key("sockets").value(e.sockets);
        if (rtt) w.key("rtt_p50_us").value(e.count).key("rtt_p99_us").value(e.p99);
        w.end_object();
      }
      w.end_array();
      if (repeats) w.key("repeats_dropped").value(*repeats);
      w.end_object();
      out.push_back('\n');
      return;
    }
    case top_layout::one_line:
      out += time;
      for (const top_entry& e : entries) {
        out.push_back(' ');
        out += std::to_string(e.count);
        if (rtt) out += "/" + std::to_string(e.p99);
        out.push_back(':');
        append_token(out, e.key);
      }
      out.push_back('\n');
      return;
    case top_layout::columns: {
      char num[64];
      for (const top_entry& e : entries) {
        if (rtt) {
          std::snprintf(num, sizeof num, "%9.3f %9.3f %7llu ",
                        static_cast<double>(e.count) / 1000.0, static_cast<double>(e.p99) / 1000.0,
                        static_cast<unsigned long long>(e.sockets));
        } else {
          std::snprintf(num, sizeof num, "%7llu ", static_cast<unsigned long long>(e.count));
        }
        out += num;
        append_printable(out, e.key);
        out.push_back('\n');
      }
      return;
    }
  }
}

std::string netns_key(const netns_count& n) {
  std::string k = std::to_string(n.inode);
  if (!n.name.empty()) k += " " + n.name;
  if (n.pid != 0)
    k += " " + (n.comm.empty() ? std::string("?") : n.comm) + "(" + std::to_string(n.pid) + ")";
  if (!n.container.empty()) k += " container " + n.container.substr(0, 12);
  if (!n.pod_uid.empty()) k += " pod " + n.pod_uid;
  return k;
}

}  // namespace ssfast
