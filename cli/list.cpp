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
void append_listen_drops(collector& c, const socket_table& t, std::string& out) {
  bool tcp_listener = false;
  for (std::size_t i = 0; i < t.size() && !tcp_listener; ++i)
    tcp_listener =
        t.protocol()[i] == 6 && t.state()[i] == static_cast<std::uint8_t>(tcp_state::listen);
  if (!tcp_listener) return;
  const auto counters = counter_map(c);
  auto value = [&](const char* name) {
    const auto it = counters.find(name);
    return it == counters.end() ? std::string("?") : std::to_string(it->second);
  };
  out += "\nTcpExt: ListenOverflows " + value("TcpExt.ListenOverflows") + " ListenDrops " +
         value("TcpExt.ListenDrops") + " (connections refused since boot, this namespace)\n";
}

}  // namespace

int run_list(collector& c, const options& o) {
  socket_filter f;
  socket_query q;
  std::string err;
  if (!build_query(o, f, q, err)) return fail(exit_usage, err);
  process_owners owners;
  if (o.processes && !scan_owners(o, owners)) return exit_failure;
  socket_table t;
  if (auto ec = c.list(t, q)) return list_failed(c, ec);
  const bool from_proc = c.source() == source_kind::proc;
  const listing_style style = style_of(o, q, owners, from_proc);
  // Which source answered, as -s says it: in the text for people; on stderr for scripts
  // (-H, -j) when netlink was given up, so their stdout keeps its shape.
  const std::string source_note =
      "source: proc" + (c.fallback() ? " (netlink unavailable: " + fallback_text(c) + ")"
                                     : std::string()) +
      "; listen backlogs are unknown there, so accept-queue-full is not judged";
  if (from_proc && c.fallback() && (o.json || o.no_header))
    std::fprintf(stderr, "ssfast: note: %s\n", source_note.c_str());
  std::string out;
  if (o.json) {
    render_listing_json(t, style, out);
    return write_out(out);
  }
  render_listing_text(t, style, out);
  if (from_proc && !o.no_header) out += "\nSockets (" + source_note + ")\n";
  // Not with -H, which is for scripts.
  if (!o.no_header) append_listen_drops(c, t, out);
  return write_out(out);
}

}  // namespace ssfast::cli
