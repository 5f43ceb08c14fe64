// ssfast top KEY: sockets per remote address, local port, state or process, largest first.
#include <unistd.h>

#include <cstdio>

#include "commands.h"
#include "ssfast/report/escape.h"
#include "ssfast/report/json_writer.h"
#include "ssfast/report/top.h"

namespace ssfast::cli {
namespace {

void append_top(std::string& out, const std::vector<top_entry>& entries, const options& o,
                bool one_line) {
  if (o.json) {
    json_writer w(out);
    w.begin_object().key("time").value(utc_now()).key("entries").begin_array();
    for (const top_entry& e : entries)
      w.begin_object().key("count").value(e.count).key("key").value(e.key).end_object();
    w.end_array().end_object();
    out.push_back('\n');
    return;
  }
  // Keys can hold process names, which any user sets: escaped so a name cannot forge a line.
  if (one_line) {
    out += utc_now();
    for (const top_entry& e : entries) {
      out.push_back(' ');
      out += std::to_string(e.count);
      out.push_back(':');
      append_printable(out, e.key);
    }
    out.push_back('\n');
    return;
  }
  char num[32];
  for (const top_entry& e : entries) {
    // The shape of `uniq -c`: the count right-aligned in 7 columns, a space, the key.
    std::snprintf(num, sizeof num, "%7llu ", static_cast<unsigned long long>(e.count));
    out += num;
    append_printable(out, e.key);
    out.push_back('\n');
  }
}

}  // namespace

int run_top(collector& c, const options& o) {
  socket_filter f;
  socket_query q;
  std::string err;
  if (!build_query(o, f, q, err)) return fail(exit_usage, err);
  const bool need_owners = o.key == top_key::process;
  process_owners owners;
  socket_table t;
  const bool tty = !o.json && isatty(STDOUT_FILENO);
  timespec deadline{};
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  const std::uint64_t reports = o.watch > 0 ? o.count : 1;
  for (std::uint64_t report = 1; reports == 0 || report <= reports; ++report) {
    if (o.watch > 0 && report > 1) sleep_until(deadline, o.watch);
    if (need_owners && !scan_owners(o, owners)) return exit_failure;
    if (auto ec = c.list(t, q)) return list_failed(c, ec);
    const auto entries = top_counts(t, o.key, o.top_n, need_owners ? &owners : nullptr);
    std::string out;
    if (o.watch > 0 && tty) out = "\033[H\033[2J" + utc_now() + "\n";
    append_top(out, entries, o, o.watch > 0 && !tty);
    if (int rc = write_out(out)) return rc;
  }
  return exit_ok;
}

}  // namespace ssfast::cli
