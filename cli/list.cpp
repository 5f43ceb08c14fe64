// SPDX-License-Identifier: Apache-2.0
// The listing (ssfast's default, ss's): sockets under a filter, as text or JSON Lines.
#include <cstdio>

#include "commands.h"
#include "ssfast/report/listing.h"

namespace ssfast::cli {
namespace {

// How the listing is drawn: ss's columns for what the options and the query ask.
listing_style style_of(const options& o, const socket_query& q, const process_owners& owners,
                       bool from_proc) {
  listing_style style;
  style.header = !o.no_header;
  // ss shows Netid when several kinds of socket can appear, State when several states can.
  style.netid = (o.scope.tcp + o.scope.udp + o.scope.unix_domain > 1) || o.scope.unix_domain;
  style.state = (q.states & (q.states - 1)) != 0;
  style.extended = o.extended;
  style.timers = o.timers;
  style.owners = o.processes ? &owners : nullptr;
  // /proc shows a listener's Send-Q as 0, not its backlog: fullness is unknown there.
  style.backlog_known = !from_proc;
  return style;
}

// Listeners shown: the kernel's counts of connections they had to refuse, for people.
void append_listen_drops(collector& c, std::string& out) {
  std::vector<std::pair<std::string, std::int64_t>> all;
  if (c.read_all_counters(all)) all.clear();
  const auto v = pick_counters(std::span<const std::pair<std::string, std::int64_t>>(all),
                               std::array{counter_id::listen_overflows, counter_id::listen_drops});
  auto text = [](const std::optional<std::int64_t>& n) {
    return n ? std::to_string(*n) : std::string("?");
  };
  out += "\nTcpExt: ListenOverflows " + text(v[0]) + " ListenDrops " + text(v[1]) +
         " (connections refused since boot, this namespace)\n";
}

}  // namespace

int run_list(collector& c, const options& o) {
  socket_filter f;
  socket_query q;
  std::string err;
  if (!build_query(o, f, q, err)) return fail(exit_usage, err);
  process_owners owners;
  if (o.processes && !scan_owners(o, owners)) return exit_failure;
  // Standard output, written as the listing is drawn.
  bool write_failed = false;
  listing_writer out(style_of(o, q, owners, c.source() == source_kind::proc),
                     o.json ? listing_format::json_lines : listing_format::columns,
                     [&](std::string_view text) {
                       if (std::fwrite(text.data(), 1, text.size(), stdout) == text.size())
                         return std::error_code{};
                       write_failed = true;
                       return std::make_error_code(std::errc::io_error);
                     });
  // Which source answers is settled when the first rows arrive: a collector that falls back
  // to /proc does so before handing over any row (collector::list).
  struct source_aware final : row_sink {
    collector& c;
    listing_writer& out;
    source_aware(collector& col, listing_writer& w) : c(col), out(w) {}
    std::error_code on_rows(const socket_table& batch) noexcept override {
      out.set_backlog_known(c.source() != source_kind::proc);
      return out.on_rows(batch);
    }
  } sink(c, out);
  std::error_code ec = c.list(q, sink);
  if (!ec) ec = out.finish();
  if (write_failed) return fail(exit_failure, "cannot write the output");
  if (ec) return list_failed(c, ec);
  say_malformed(c);
  const bool from_proc = c.source() == source_kind::proc;
  // Which source answered, as -s says it: in the text for people; on stderr for scripts
  // (-H, -j) when netlink was given up, so their stdout keeps its shape.
  const std::string source_note =
      "source: proc" +
      (c.fallback() ? " (netlink unavailable: " + c.fallback_text() + ")" : std::string()) +
      "; listen backlogs are unknown there, so accept-queue-full is not judged";
  if (from_proc && c.fallback() && (o.json || o.no_header))
    std::fprintf(stderr, "ssfast: note: %s\n", source_note.c_str());
  if (c.repeats_dropped() > 0 && (o.json || o.no_header))
    std::fprintf(stderr, "ssfast: note: %llu sockets the kernel reported twice were listed once\n",
                 static_cast<unsigned long long>(c.repeats_dropped()));
  if (o.json || o.no_header) return write_out("");
  std::string tail;
  if (from_proc) tail += "\nSockets (" + source_note + ")\n";
  if (c.repeats_dropped() > 0)
    tail += "\nnote: " + std::to_string(c.repeats_dropped()) +
            " sockets the kernel's dump reported twice (resumed inside a changing hash chain) "
            "were listed once\n";
  if (out.tcp_listener_seen()) append_listen_drops(c, tail);
  return write_out(tail);
}

}  // namespace ssfast::cli
