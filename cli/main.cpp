// The ssfast binary: parses the command line, runs the command, maps errors to exit codes.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "options.h"
#include "ssfast/core/render.h"
#include "ssfast/ssfast.h"

namespace {

using namespace ssfast;

int fail(int code, std::string_view msg) {
  std::fprintf(stderr, "ssfast: %.*s\n", static_cast<int>(msg.size()), msg.data());
  return code;
}

int write_out(const std::string& s) {
  if (std::fwrite(s.data(), 1, s.size(), stdout) != s.size() || std::fflush(stdout) != 0)
    return fail(cli::exit_failure, "cannot write the output");
  return cli::exit_ok;
}

int run_summary(const cli::options& o, const netlink_fault& fault) {
  collector_options co;
  co.source = o.source;
  co.proc_root = o.proc_root;
  co.inject_netlink_failure = fault;
  co.threads = o.threads;
  auto c = collector::open(co);
  if (!c)
    return fail(cli::exit_failure,
                "cannot open the sock_diag netlink socket: " + c.error().message());
  // Where a failure happened: a dump's name, or a file under the proc root.
  auto where = [&] {
    std::string w(c->error_context());
    return w.starts_with("net/") ? o.proc_root + "/" + w : w;
  };
  socket_summary sockets;
  if (auto ec = c->count(sockets, o.scope, o.method))
    return fail(cli::exit_failure, where() + ": " + ec.message());
  kernel_counters counters;
  std::string counters_error;
  const std::error_code counters_ec = c->read_counters(counters);
  const bool have_counters = !counters_ec;
  // Counters are context, not the answer: report them missing, keep the exit status.
  if (!have_counters) counters_error = where() + ": " + counters_ec.message();
  std::string fallback;
  if (const fallback_info* f = c->fallback())
    fallback = std::string(f->step) + ": " + f->error.message();
  const summary_report report{sockets, to_string(c->source()), fallback,
                              have_counters ? &counters : nullptr, counters_error};
  std::string out;
  if (o.json) {
    render_summary_json(report, out);
  } else {
    render_summary_text(report, out);
  }
  return write_out(out);
}

}  // namespace

int main(int argc, char** argv) {
  const auto parsed =
      cli::parse_args(std::span<const char* const>(argv + 1, static_cast<std::size_t>(argc - 1)));
  if (!parsed.error.empty()) return fail(cli::exit_usage, parsed.error + " (see ssfast --help)");
  const cli::options& o = parsed.opts;
  netlink_fault fault;
  if (const char* env = std::getenv(cli::fault_env)) {
    const std::string err = cli::parse_fault(env, fault);
    if (!err.empty()) return fail(cli::exit_usage, err);
  }
  switch (o.cmd) {
    case cli::command::help:
      return write_out(std::string(cli::usage()));
    case cli::command::version:
      return write_out("ssfast " + std::string(version()) + "\n");
    case cli::command::summary:
      return run_summary(o, fault);
    case cli::command::none:
      break;
  }
  return fail(cli::exit_usage, "nothing to do");
}
