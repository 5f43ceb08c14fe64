// SPDX-License-Identifier: Apache-2.0
// ssfast exporter and ssfast agent: the served protocols of serve/ behind the CLI's options.
#include <chrono>
#include <cstdio>
#include <vector>

#include "commands.h"
#include "ssfast/serve/agent_server.h"
#include "ssfast/serve/exporter.h"
#include "ssfast/serve/server.h"

namespace ssfast::cli {
namespace {

void to_stderr(std::string_view line) {
  std::fprintf(stderr, "ssfast: %.*s\n", static_cast<int>(line.size()), line.data());
}

serve::server_options server_of(const collector& c, const options& o) {
  serve::server_options so;
  so.listen = o.listen;
  so.max_connections = o.max_connections;
  so.max_per_peer = o.max_per_peer;
  so.timeout = o.timeout;
  so.log = to_stderr;
  so.stop_fd = c.exit_fd();  // --netns PID: the served namespace's process is gone
  so.stop_reason = c.error_text(errc::process_exited);
  return so;
}

}  // namespace

int run_exporter(collector& c, const options& o) {
  summary_request r;
  r.scope = o.scope;
  r.method = o.method;
  serve::netns_scrape ns;
  ns.enabled = o.all_netns;
  ns.owner = o.owner;
  ns.threads = o.threads;
  ns.deadline = o.scrape_deadline;
  serve::metrics_exporter h(c, r, to_stderr, ns, o.max_listeners);
  return serve::serve(server_of(c, o), h);
}

int run_agent(collector& c, const options& o) {
  auto seconds = [](double s) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(s));
  };
  serve::monitor_options mo;
  mo.services = o.services;
  mo.max_age = seconds(o.max_age);
  mo.max_stale = seconds(o.max_stale);
  mo.log = to_stderr;
  if (c.source() != source_kind::netlink) {
    bool limited = false;
    for (const service_probe& p : o.services) limited |= p.rules.max_established != 0;
    std::fprintf(stderr,
                 "ssfast: agent: answering from /proc, which has no listen backlog: the "
                 "accept-queue rule is off%s\n",
                 limited ? "; --max-established still applies" : "");
  }
  // Asked of the collector before the monitor's thread takes it over.
  const serve::server_options so = server_of(c, o);
  serve::service_monitor monitor(c, mo);
  monitor.start();  // a failure is said through the log; answers say "no measurement"
  serve::agent_check_handler agent(monitor);
  serve::readiness_handler http(monitor);
  std::vector<serve::endpoint> endpoints;
  if (!o.listen.empty()) endpoints.push_back({o.listen, &agent});
  if (!o.http_listen.empty()) endpoints.push_back({o.http_listen, &http});
  return serve::serve(so, endpoints);
}

}  // namespace ssfast::cli
