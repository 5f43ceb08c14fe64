// SPDX-License-Identifier: Apache-2.0
// The ssfast binary: parses the command line, opens the collector its command needs, runs the
// command from the table, maps errors to exit codes.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <iterator>
#include <string>

#include "commands.h"

namespace {

using namespace ssfast;
using namespace ssfast::cli;

int run_help(const options& o) { return write_out(usage(o.help_for)); }
int run_version(const options&) { return write_out("ssfast " + std::string(version()) + "\n"); }

// Each command's runner: commands that read sockets get the collector.
struct command_runner {
  command cmd;
  int (*run)(collector&, const options&);
  int (*run_without)(const options&);
};

constexpr command_runner runners[] = {
    {command::list, run_list, nullptr},       {command::summary, run_summary, nullptr},
    {command::top, run_top, nullptr},         {command::counters, run_counters, nullptr},
    {command::check, run_check, nullptr},     {command::exporter, run_exporter, nullptr},
    {command::agent, run_agent, nullptr},     {command::doctor, run_doctor, nullptr},
    {command::record, run_record, nullptr},   {command::history, nullptr, run_history},
    {command::states, nullptr, run_states},   {command::help, nullptr, run_help},
    {command::version, nullptr, run_version},
};
constexpr bool runners_in_order() {
  for (std::size_t i = 0; i < std::size(runners); ++i)
    if (static_cast<std::size_t>(runners[i].cmd) != i) return false;
  return std::size(runners) == command_count;
}
static_assert(runners_in_order(), "one runner per command, in the enum's order");

// A failure before the command ran, said the way the command says failures: a plugin speaks
// one line on stdout and exit 3 (Nagios plugin guidelines); the doctor's 2 means critical,
// so its own failures are 3, "could not diagnose".
int refuse(command c, int code, const std::string& why) {
  if (c == command::check) return check_unknown(why);
  return fail(c == command::doctor ? 3 : code, why);
}

// Descriptors 0-2 that are closed at start are opened on /dev/null, as daemons do: else the
// netlink socket, a listener or a client's connection would take their numbers, and a report
// or a log line would be written into it. A closed stdout stays unwritable (opened read-only,
// a write fails EBADF), so the report says "cannot write the output" and exits 1.
bool open_closed_standard_descriptors() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    // open() takes the lowest free number, which is fd: those below it are open by now.
    const int got = ::open("/dev/null", (fd == 1 ? O_RDONLY : O_RDWR) | O_NOCTTY);
    if (got != fd) return false;
  }
  return true;
}

result<collector> open_collector(const options& o) {
  collector_options co;
  co.source = o.source;
  co.proc_root = o.proc_root;
  co.threads = o.threads;
  co.netns = o.netns;
  return collector::open(co);
}

}  // namespace

int main(int argc, char** argv) {
  if (!open_closed_standard_descriptors()) return exit_failure;
  const auto parsed =
      parse_args(std::span<const char* const>(argv + 1, static_cast<std::size_t>(argc - 1)));
  const options& o = parsed.opts;
  if (!parsed.error.empty()) {
    if (o.cmd == command::check) return check_unknown(parsed.error);
    // The help of the command that was meant, where one was.
    const std::string see = o.cmd == command::list || o.cmd == command::help
                                ? "ssfast --help"
                                : "ssfast help " + std::string(command_name(o.cmd));
    return refuse(o.cmd, usage_exit(o.cmd), parsed.error + " (see " + see + ")");
  }
  const command_runner& r = runners[static_cast<std::size_t>(o.cmd)];
  if (r.run_without) return r.run_without(o);
  if (o.cmd == command::check) arm_check_timeout(o.timeout);
#if defined(SSFAST_TEST_SEAMS)
  // Test builds only: the fallback tests make netlink fail from the environment.
  if (const char* env = std::getenv(fault_env)) {
    detail::netlink_fault fault;
    if (const std::string err = parse_fault(env, fault); !err.empty())
      return refuse(o.cmd, usage_exit(o.cmd), err);
    detail::inject_netlink_fault(fault);
  }
#endif
  auto c = open_collector(o);
  if (!c) {
    const std::error_code ec = c.error();
    std::string why = (o.netns.empty() ? "cannot open the sock_diag netlink socket: "
                                       : "cannot enter network namespace " + o.netns + ": ") +
                      ec.message();
    // setns(CLONE_NEWNET) needs CAP_SYS_ADMIN over the namespace's owning user namespace.
    if (!o.netns.empty() &&
        (ec == std::errc::operation_not_permitted || ec == std::errc::permission_denied))
      why += " (entering a network namespace needs CAP_SYS_ADMIN over it)";
    return refuse(o.cmd, exit_failure, why);
  }
  return r.run(*c, o);
}
