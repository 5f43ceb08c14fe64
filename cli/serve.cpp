// SPDX-License-Identifier: Apache-2.0
// ssfast exporter and ssfast agent: the served protocols of serve/ behind the CLI's options.
#include <cstdio>

#include "commands.h"
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
  serve::agent_rules rules;
  rules.max_established = o.max_established;
  rules.drain_queue = o.drain_queue;
  serve::agent_handler h(c, o.service_port, rules, to_stderr);
  if (!h.rules().backlog_known)
    std::fprintf(stderr,
                 "ssfast: agent: answering from /proc, which has no listen backlog: the "
                 "accept-queue rule is off%s\n",
                 o.max_established ? "; --max-established still applies" : "");
  return serve::serve(server_of(c, o), h);
}

}  // namespace ssfast::cli
