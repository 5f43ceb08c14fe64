// The command line: the parser on its own, and the real binary's exit codes and messages.
#include <gtest/gtest.h>

#include <cerrno>
#include <vector>

#include "options.h"
#include "support/scenario.h"

namespace ssfast::cli {
namespace {

parse_result parse(std::vector<const char*> args) { return parse_args(args); }

TEST(ParseArgs, SummaryAndFlags) {
  auto r = parse({"-s"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.opts.cmd, command::summary);
  EXPECT_FALSE(r.opts.json);
  EXPECT_TRUE(r.opts.scope.ipv4 && r.opts.scope.ipv6);

  r = parse({"-s4j"});
  ASSERT_EQ(r.error, "");
  EXPECT_TRUE(r.opts.json);
  EXPECT_TRUE(r.opts.scope.ipv4);
  EXPECT_FALSE(r.opts.scope.ipv6);

  r = parse({"--summary", "--ipv6", "--json"});
  ASSERT_EQ(r.error, "");
  EXPECT_FALSE(r.opts.scope.ipv4);
  EXPECT_TRUE(r.opts.scope.ipv6);

  r = parse({"-s", "-4", "-6"});
  ASSERT_EQ(r.error, "");
  EXPECT_TRUE(r.opts.scope.ipv4 && r.opts.scope.ipv6) << "both families";
}

TEST(ParseArgs, ThreadsEstimateSourceAndProcRoot) {
  auto r = parse({"-s", "--threads", "4", "--estimate"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.opts.threads, 4u);
  EXPECT_EQ(r.opts.method, count_method::estimate);
  r = parse({"-s", "--threads=1", "--source=netlink"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.opts.threads, 1u);
  EXPECT_EQ(r.opts.source, source_choice::netlink);
  r = parse({"-s", "--proc-root", "/host/proc/1"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.opts.source, source_choice::proc) << "an explicit proc root is the source";
  EXPECT_EQ(r.opts.proc_root, "/host/proc/1");
  EXPECT_EQ(parse({"-s", "--threads", "0"}).error,
            "option '--threads': '0' is not a number from 1 to 16");
  EXPECT_EQ(parse({"-s", "--threads", "17"}).error,
            "option '--threads': '17' is not a number from 1 to 16");
  EXPECT_EQ(parse({"-s", "--threads", "2x"}).error,
            "option '--threads': '2x' is not a number from 1 to 16");
  EXPECT_EQ(parse({"-s", "--threads"}).error, "option '--threads' needs a value");
  EXPECT_EQ(parse({"-s", "--source", "kernel"}).error,
            "option '--source': unknown value 'kernel' (auto, netlink or proc)");
  EXPECT_EQ(parse({"-s", "--estimate", "-4"}).error,
            "option '--estimate' uses CurrEstab, which counts IPv4 and IPv6 together: it cannot "
            "go with -4 or -6");
  EXPECT_EQ(parse({"-s", "--source", "netlink", "--proc-root", "/x"}).error,
            "option '--proc-root' reads sockets from DIR/net: it cannot go with --source netlink");
}

TEST(ParseArgs, FaultSeam) {
  netlink_fault f;
  EXPECT_EQ(parse_fault("open:EACCES", f), "");
  EXPECT_EQ(f.error, EACCES);
  EXPECT_FALSE(f.at_dump);
  EXPECT_EQ(parse_fault("dump:2", f), "");
  EXPECT_EQ(f.error, 2);
  EXPECT_TRUE(f.at_dump);
  EXPECT_NE(parse_fault("later:EACCES", f), "");
  EXPECT_NE(parse_fault("open:", f), "");
  EXPECT_NE(parse_fault("open:EWHAT", f), "");
  EXPECT_NE(parse_fault("open:99999", f), "");
}

TEST(ParseArgs, HelpAndVersionWinOverCommands) {
  EXPECT_EQ(parse({"-s", "--help"}).opts.cmd, command::help);
  EXPECT_EQ(parse({"-sh"}).opts.cmd, command::help);
  EXPECT_EQ(parse({"-V"}).opts.cmd, command::version);
  EXPECT_EQ(parse({"--version"}).opts.cmd, command::version);
}

TEST(ParseArgs, ErrorsNameTheArgument) {
  EXPECT_EQ(parse({"-x"}).error, "unknown option '-x'");
  EXPECT_EQ(parse({"-sx"}).error, "unknown option '-x' in '-sx'");
  EXPECT_EQ(parse({"--frobnicate"}).error, "unknown option '--frobnicate'");
  EXPECT_EQ(parse({"--json=yes", "-s"}).error, "option '--json' takes no value");
  EXPECT_EQ(parse({"-s", "extra"}).error, "unexpected argument 'extra'");
  EXPECT_EQ(parse({}).error, "nothing to do: give -s for the socket summary");
  EXPECT_EQ(parse({"-j"}).error, "nothing to do: give -s for the socket summary");
}

testing::process_result ssfast(std::vector<std::string> args) {
  args.insert(args.begin(), SSFAST_CLI_PATH);
  return testing::run_process(args);
}

std::size_t lines(const std::string& s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

TEST(Binary, BadUsageIsOneLineOnStderrAndExitTwo) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"-x"}, {"--nope"}, {"-s", "junk"}, {}, {"--json=1"}}) {
    const auto r = ssfast(args);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(lines(r.err), 1u) << r.err;
    EXPECT_EQ(r.err.rfind("ssfast: ", 0), 0u) << r.err;
  }
  EXPECT_NE(ssfast({"-q"}).err.find("'-q'"), std::string::npos);
}

TEST(Binary, BadFaultSeamValueIsAUsageError) {
  testing::child_setup setup;
  setup.env = {"SSFAST_INJECT_NETLINK_FAILURE=sometimes"};
  const auto r = testing::run_process({SSFAST_CLI_PATH, "-s"}, setup);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
}

TEST(Binary, HelpAndVersion) {
  const auto h = ssfast({"--help"});
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.out.find("Usage: ssfast -s"), std::string::npos);
  EXPECT_NE(h.out.find("Exit status"), std::string::npos);
  const auto v = ssfast({"-V"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out.rfind("ssfast ", 0), 0u);
  EXPECT_EQ(lines(v.out), 1u);
}

TEST(Binary, SummaryRunsInTheCurrentNamespace) {
  const auto r = ssfast({"-s"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("Sockets (source: netlink)\n"), std::string::npos);
  EXPECT_NE(r.out.find("Kernel counters"), std::string::npos);
}

}  // namespace
}  // namespace ssfast::cli
