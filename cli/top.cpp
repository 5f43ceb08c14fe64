// SPDX-License-Identifier: Apache-2.0
// ssfast top KEY: sockets per remote address, local port, state or process, largest first.
#include "ssfast/report/top.h"

#include <unistd.h>

#include <map>
#include <mutex>
#include <optional>

#include "commands.h"
#include "ssfast/all_netns.h"
#include "ssfast/report/escape.h"

namespace ssfast::cli {
namespace {

top_layout layout_of(const options& o, bool one_line) {
  return o.json ? top_layout::json : one_line ? top_layout::one_line : top_layout::columns;
}

// Each namespace's entries for `top KEY --all-netns`, filled by the worker threads.
struct keys_by_netns {
  std::mutex m;
  std::map<std::uint64_t, std::vector<top_entry>> entries;
};

// top netns [FILTER], and top KEY --all-netns [FILTER]: the namespaces holding most sockets
// the filter selects, or the keys of every namespace (each prefixed by its namespace), each
// counted in the kernel there. Exit 1 when a namespace could not be read (said on stderr).
int run_top_netns(const options& o) {
  socket_filter f;
  socket_query q;
  std::string err;
  if (!build_query(o, f, q, err)) return fail(exit_usage, err);
  all_netns_options ao = all_netns_options_of(o);
  ao.query = &q;
  process_owners owners;
  keys_by_netns keyed;
  const bool need_owners = o.all_netns && o.key == top_key::process;
  if (o.all_netns) {
    if (need_owners && !scan_owners(o, owners)) return exit_failure;
    ao.on_listing = [&](const netns_count& n, const socket_table& t) {
      auto e = top_counts(t, o.key, 0, need_owners ? &owners : nullptr);
      const std::lock_guard<std::mutex> lock(keyed.m);
      keyed.entries[n.inode] = std::move(e);
    };
  }
  const bool tty = !o.json && isatty(STDOUT_FILENO);
  int rc = exit_ok;
  for (report_clock clock(o); clock.next();) {
    std::vector<netns_count> ns;
    if (!count_every_netns(ao, ns)) return exit_failure;
    std::vector<top_entry> entries;
    rc = exit_ok;
    for (const netns_count& n : ns) {
      if (n.error && !n.unread()) {
        continue;  // gone during the run, or excluded: nothing to rank, nothing wrong
      } else if (n.error) {
        std::string line = "netns " + std::to_string(n.inode) + " not read: ";
        append_printable(line, n.error_text);
        fail(exit_failure, line);
        rc = exit_failure;
      } else if (o.all_netns) {
        for (top_entry& e : keyed.entries[n.inode])
          entries.push_back({netns_key(n) + " " + e.key, e.count});
      } else if (n.matching > 0) {
        entries.push_back({netns_key(n), n.matching});
      }
    }
    keyed.entries.clear();
    keep_largest(entries, o.top_n);
    std::string out;
    if (o.watch > 0 && tty) out = "\033[H\033[2J" + utc_now() + "\n";
    render_top(entries, layout_of(o, o.watch > 0 && !tty), utc_now(), std::nullopt, out);
    if (int w = write_out(out)) return w;
  }
  return rc;
}

}  // namespace

int run_top(collector& c, const options& o) {
  if (o.top_netns || o.all_netns) return run_top_netns(o);
  if (o.watch > 0 && !o.json && isatty(STDOUT_FILENO)) {
    if (o.by != top_metric::sockets)
      return fail(exit_usage, "option '--by' is not in the full-screen view yet: pipe it, or -j");
    return run_watch_screen(c, o);
  }
  socket_filter f;
  socket_query q;
  std::string err;
  if (!build_query(o, f, q, err)) return fail(exit_usage, err);
  // tcp_info for the metrics that rank by it, as -i asks the kernel for it.
  q.show.tcp_info = needs_tcp_info(o.by);
  const bool need_owners = o.key == top_key::process;
  process_owners owners;
  // Grouped as the dump is parsed: memory follows the keys, not the sockets.
  top_counter groups(o.key, need_owners ? &owners : nullptr, o.by);
  // Not a terminal here (the screen took that): one line per report with --watch.
  for (report_clock clock(o, c.exit_fd()); clock.next();) {
    if (need_owners && !scan_owners(o, owners)) return exit_failure;
    groups.clear();
    if (auto ec = c.list(q, groups)) return list_failed(c, ec);
    say_malformed(c);
    const auto entries = groups.entries(o.top_n);
    std::string out;
    render_top(entries, layout_of(o, o.watch > 0), utc_now(), c.repeats_dropped(), out, o.by);
    if (int rc = write_out(out)) return rc;
  }
  return exit_ok;
}

}  // namespace ssfast::cli
