// The ssfast binary: parses the command line, runs the command, maps errors to exit codes.
#include <cstdio>
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

int run_summary(const cli::options& o) {
  auto c = collector::open();
  if (!c)
    return fail(cli::exit_failure,
                "cannot open the sock_diag netlink socket: " + c.error().message());
  socket_summary sockets;
  if (auto ec = c->count(sockets, o.scope)) {
    return fail(cli::exit_failure, std::string(c->error_context()) + ": " + ec.message());
  }
  kernel_counters counters;
  std::string counters_error;
  const std::error_code counters_ec = c->read_counters(counters);
  const bool have_counters = !counters_ec;
  // Counters are context, not the answer: report them missing, keep the exit status.
  if (!have_counters)
    counters_error = std::string(c->error_context()) + ": " + counters_ec.message();
  const summary_report report{sockets, to_string(c->source()), have_counters ? &counters : nullptr,
                              counters_error};
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
  switch (o.cmd) {
    case cli::command::help:
      return write_out(std::string(cli::usage()));
    case cli::command::version:
      return write_out("ssfast " + std::string(version()) + "\n");
    case cli::command::summary:
      return run_summary(o);
    case cli::command::none:
      break;
  }
  return fail(cli::exit_usage, "nothing to do");
}
