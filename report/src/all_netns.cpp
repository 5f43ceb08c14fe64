// SPDX-License-Identifier: Apache-2.0
// Every namespace at once, as a table and as JSON.
#include "ssfast/report/all_netns.h"

#include <unistd.h>

#include <cstdio>

#include "prometheus_text.h"
#include "ssfast/core/tcp_state.h"
#include "ssfast/report/escape.h"
#include "ssfast/report/json_writer.h"
#include "ssfast/report/summary.h"

namespace ssfast {
namespace {

using report_detail::label;
using report_detail::metric_header;
using report_detail::sample;

// The namespaces that were read, added up.
socket_summary sum(const std::vector<netns_count>& ns, const count_scope& scope) {
  socket_summary t;
  t.scope = scope;
  for (const netns_count& n : ns)
    if (!n.error) t += n.sockets;
  return t;
}

// Left-aligned in `width` columns (never cut: a long name widens its row), then a space.
void left(std::string& out, std::string_view text, std::size_t width) {
  out += text;
  out.append(text.size() < width ? width - text.size() : 0, ' ');
  out.push_back(' ');
}

// The identity columns of a row: inode, name, pid, comm, container, pod.
void identity(std::string& out, std::string_view inode, std::string_view name, std::string_view pid,
              std::string_view comm, std::string_view container, std::string_view pod) {
  left(out, inode, 12);
  left(out, name, 16);
  out.append(pid.size() < 8 ? 8 - pid.size() : 0, ' ');
  out += pid;
  out.push_back(' ');
  left(out, comm, 16);
  left(out, container, 12);
  left(out, pod, 36);
}

void cell(std::string& out, std::string_view text, int width) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%*.*s ", width, static_cast<int>(text.size()), text.data());
  out += buf;
}

// The counts of one row (or the total): TCP per state, UDP, UNIX, total; '-' where unknown.
void count_cells(std::string& out, const socket_summary* s, const count_scope& scope) {
  const state_counts tcp = s ? s->tcp_histogram() : state_counts{};
  if (scope.tcp)
    for (tcp_state st : netstat_states)
      cell(out, s ? std::to_string(tcp.netstat_count(st)) : "-",
           static_cast<int>(
               std::max<std::size_t>(netstat_name(static_cast<std::uint8_t>(st)).size(), 6)));
  if (scope.udp) cell(out, s ? std::to_string(s->udp_all().total()) : "-", 7);
  if (scope.unix_domain) cell(out, s ? std::to_string(s->unix_domain.total()) : "-", 7);
  cell(out, s ? std::to_string(s->total()) : "-", 8);
}

}  // namespace

void render_all_netns_prometheus(const std::vector<netns_count>& ns, std::size_t max_namespaces,
                                 std::string& out) {
  std::vector<const netns_count*> shown;
  std::uint64_t unread = 0, empty = 0, capped = 0, gone = 0, excluded = 0, deadline = 0;
  for (const netns_count& n : ns) {
    if (n.gone)
      ++gone;
    else if (n.excluded)
      ++excluded;
    else if (n.past_deadline)
      ++deadline;
    else if (n.error)
      ++unread;
    else if (n.sockets.total() == 0)
      ++empty;
    else if (shown.size() >= max_namespaces)
      ++capped;
    else
      shown.push_back(&n);
  }
  // netns, name, container, pod_uid: no braces; sample() adds them.
  auto identity = [](const netns_count& n) {
    std::string l;
    label(l, "netns", std::to_string(n.inode));
    label(l, "name", n.name);
    label(l, "container", n.container);
    label(l, "pod_uid", n.pod_uid);
    return l;
  };
  auto count = [](std::uint64_t v) { return static_cast<std::int64_t>(v); };
  metric_header(out, "ssfast_netns_tcp_sockets", "gauge",
                "TCP sockets per state in each network namespace.");
  for (const netns_count* n : shown) {
    const state_counts tcp = n->sockets.tcp_histogram();
    for (tcp_state st : netstat_states) {
      std::string state(netstat_name(static_cast<std::uint8_t>(st)));
      for (char& c : state) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
      std::string l = identity(*n);
      label(l, "state", state);
      sample(out, "ssfast_netns_tcp_sockets", l, count(tcp.netstat_count(st)));
    }
  }
  metric_header(out, "ssfast_netns_udp_sockets", "gauge", "UDP sockets in each network namespace.");
  for (const netns_count* n : shown)
    sample(out, "ssfast_netns_udp_sockets", identity(*n), count(n->sockets.udp_all().total()));
  metric_header(out, "ssfast_netns_unix_sockets", "gauge",
                "UNIX sockets in each network namespace.");
  for (const netns_count* n : shown)
    sample(out, "ssfast_netns_unix_sockets", identity(*n), count(n->sockets.unix_domain.total()));
  metric_header(out, "ssfast_netns_namespaces", "gauge",
                "Network namespaces found: counted (with series), unread (an error), empty (no "
                "socket, no series), capped (past the series limit), gone (vanished during "
                "the run: its processes exited), excluded (owned by another user namespace, "
                "--netns-owner init), deadline (not reached before the scrape's deadline).");
  for (auto [status, v] : {std::pair{"counted", static_cast<std::uint64_t>(shown.size())},
                           {"unread", unread},
                           {"empty", empty},
                           {"capped", capped},
                           {"gone", gone},
                           {"excluded", excluded},
                           {"deadline", deadline}})
    sample(out, "ssfast_netns_namespaces", "status=\"" + std::string(status) + "\"", count(v));
}

void render_all_netns_text(const std::vector<netns_count>& ns, const count_scope& scope,
                           std::string& out) {
  std::string header;
  identity(header, "NETNS", "NAME", "PID", "COMM", "CONTAINER", "POD");
  if (scope.tcp)
    for (tcp_state st : netstat_states) {
      const std::string_view name = netstat_name(static_cast<std::uint8_t>(st));
      cell(header, name, static_cast<int>(std::max<std::size_t>(name.size(), 6)));
    }
  if (scope.udp) cell(header, "UDP", 7);
  if (scope.unix_domain) cell(header, "UNIX", 7);
  cell(header, "TOTAL", 8);
  header.back() = '\n';
  out += header;
  std::size_t unread = 0, gone = 0, excluded = 0, deadline = 0;
  for (const netns_count& n : ns) {
    if (n.excluded) {
      ++excluded;  // one line below says how many: hundreds of them must not drown the rest
      continue;
    }
    std::string name, comm;
    append_printable(name, n.name.empty() ? "-" : n.name);
    append_printable(comm, n.comm.empty() ? "-" : n.comm);
    std::string row;
    identity(row, std::to_string(n.inode), name, n.pid ? std::to_string(n.pid) : "-", comm,
             n.container.empty() ? "-" : std::string_view(n.container).substr(0, 12),
             n.pod_uid.empty() ? "-" : n.pod_uid);
    count_cells(row, n.error ? nullptr : &n.sockets, scope);
    row.pop_back();
    if (n.gone) {
      ++gone;
      row += "  # gone: its processes exited during the run";
    } else if (n.past_deadline) {
      ++deadline;
      row += "  # not counted: the deadline passed before its turn";
    } else if (n.error) {
      ++unread;
      row += "  # not read: ";
      append_printable(row, n.error_text);
    }
    out += row + "\n";
  }
  const socket_summary t = sum(ns, scope);
  const std::string listed = std::to_string(ns.size() - excluded);
  std::string row;
  identity(row, "total", listed + " netns", "-", "-", "-", "-");
  count_cells(row, &t, scope);
  row.pop_back();
  out += row + "\n";
  if (unread > 0)
    out += std::to_string(unread) + " of " + listed +
           " namespaces could not be read; the total leaves them out\n";
  if (gone > 0)
    out +=
        std::to_string(gone) + " of " + listed + " namespaces were gone before they were counted\n";
  if (deadline > 0)
    out += std::to_string(deadline) + " of " + listed +
           " namespaces were not counted before the deadline; the total leaves them out\n";
  if (excluded > 0)
    out += std::to_string(excluded) +
           " namespaces owned by other user namespaces were left out (--netns-owner init)\n";
}

void render_all_netns_json(const std::vector<netns_count>& ns, const count_scope& scope,
                           std::string& out) {
  json_writer w(out);
  w.begin_object().key("namespaces").begin_array();
  std::size_t unread = 0, gone = 0, excluded = 0, deadline = 0;
  for (const netns_count& n : ns) {
    if (n.excluded) {
      ++excluded;
      continue;
    }
    w.begin_object();
    w.key("netns").value(n.inode);
    w.key("tier").value(static_cast<std::uint64_t>(n.tier));
    w.key("name");
    n.name.empty() ? w.null() : w.value(n.name);
    w.key("pid");
    n.pid ? w.value(std::uint64_t{n.pid}) : w.null();
    w.key("comm");
    n.comm.empty() ? w.null() : w.value(n.comm);
    w.key("container");
    n.container.empty() ? w.null() : w.value(n.container);
    w.key("pod_uid");
    n.pod_uid.empty() ? w.null() : w.value(n.pod_uid);
    if (n.error) {
      // Gone and past the deadline carry their error too, so a reader that skips entries with
      // one skips them.
      ++(n.gone ? gone : n.past_deadline ? deadline : unread);
      if (n.gone) w.key("gone").value(true);
      if (n.past_deadline) w.key("deadline").value(true);
      w.key("error").value(n.error_text);
    } else {
      w.key("source").value(to_string(n.source));
      if (n.sockets.scope.tcp) w.key("method").value(n.sockets.method());
      write_summary_sockets(w, n.sockets);
    }
    w.end_object();
  }
  w.end_array();
  const socket_summary t = sum(ns, scope);
  w.key("total").begin_object();
  w.key("namespaces").value(static_cast<std::uint64_t>(ns.size() - excluded));
  w.key("unread").value(static_cast<std::uint64_t>(unread));
  w.key("gone").value(static_cast<std::uint64_t>(gone));
  w.key("deadline").value(static_cast<std::uint64_t>(deadline));
  w.key("excluded").value(static_cast<std::uint64_t>(excluded));
  write_summary_sockets(w, t);
  w.end_object().end_object();
  out.push_back('\n');
}

std::string unread_processes_note(const all_netns_stats& s) {
  if (s.unreadable == 0) return {};
  char line[160];
  std::snprintf(line, sizeof line, "%zu of %zu processes' namespaces could not be read (%s)",
                s.unreadable, s.processes,
                geteuid() == 0 ? "refused even to root: a sandboxed process"
                               : "run as root to see every namespace");
  return line;
}

std::string late_namespaces_note(const std::vector<netns_count>& ns, double deadline_s) {
  std::size_t late = 0;
  for (const netns_count& n : ns) late += n.past_deadline ? 1 : 0;
  if (late == 0) return {};
  char line[160];
  std::snprintf(line, sizeof line, "%zu of %zu namespaces not counted within the %.3g s deadline",
                late, ns.size(), deadline_s);
  return line;
}

}  // namespace ssfast
