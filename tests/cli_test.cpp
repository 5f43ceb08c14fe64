// The command line: the parser on its own, and the real binary's exit codes and messages.
#include <gtest/gtest.h>

#include <cerrno>
#include <vector>

#include "options.h"
#include "ssfast/core/filter.h"
#include "support/scenario.h"
#include "support/seams.h"

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

TEST(ParseArgs, Namespaces) {
  EXPECT_EQ(parse({"-s", "-N", "blue"}).opts.netns, "/run/netns/blue");
  EXPECT_EQ(parse({"-s", "-Nblue"}).opts.netns, "/run/netns/blue");
  EXPECT_EQ(parse({"-tan", "--netns", "1234"}).opts.netns, "/proc/1234/ns/net");
  EXPECT_EQ(parse({"-tan", "--netns=/var/run/netns/x"}).opts.netns, "/var/run/netns/x");
  EXPECT_EQ(parse({"-s", "-N", "a/b"}).error, "option '-N': 'a/b' is not a namespace name");
  EXPECT_EQ(parse({"-s", "-N", "x", "--netns", "1"}).error,
            "only one network namespace (-N or --netns) at a time");
  EXPECT_EQ(parse({"-s", "-N"}).error, "option '-N' needs a namespace name");
}

#if defined(SSFAST_TEST_SEAMS)
TEST(ParseArgs, FaultSeam) {
  detail::netlink_fault f;
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
#endif

TEST(ParseArgs, HelpAndVersionWinOverCommands) {
  EXPECT_EQ(parse({"-s", "--help"}).opts.cmd, command::help);
  EXPECT_EQ(parse({"-sh"}).opts.cmd, command::help);
  EXPECT_EQ(parse({"-V"}).opts.cmd, command::version);
  EXPECT_EQ(parse({"--version"}).opts.cmd, command::version);
}

TEST(ParseArgs, ErrorsNameTheArgument) {
  EXPECT_EQ(parse({"-q"}).error, "unknown option '-q'");
  EXPECT_EQ(parse({"-sq"}).error, "unknown option '-q' in '-sq'");
  EXPECT_EQ(parse({"--frobnicate"}).error, "unknown option '--frobnicate'");
  EXPECT_EQ(parse({"--json=yes", "-s"}).error, "option '--json' takes no value");
  EXPECT_EQ(parse({"-s", "extra"}).error, "-s takes no filter (found 'extra')");
  EXPECT_EQ(parse({"-s", "-p"}).error, "option '-p' is for listings and top, not -s");
  EXPECT_EQ(parse({"top"}).error, "top needs a key: raddr, laddr, lport, rport, state or process");
  EXPECT_EQ(parse({"top", "ip"}).error,
            "top: unknown key 'ip' (raddr, laddr, lport, rport, state or process)");
  EXPECT_EQ(parse({"top", "raddr", "-n", "0"}).error,
            "option '-n': '0' is not a number from 1 to 1000000");
  EXPECT_EQ(parse({"-tan", "--estimate"}).error, "option '--estimate' is for -s, check and exporter");
  EXPECT_EQ(parse({"-tan", "--watch", "1"}).error, "option '--watch' is for -s and top");
  EXPECT_EQ(parse({"-s", "--count", "3"}).error, "option '--count' goes with --watch");
  EXPECT_EQ(parse({"-s", "--watch", "0"}).error,
            "option '--watch': '0' is not a number of seconds (0 < S <= 86400)");
  EXPECT_EQ(parse({"-s", "--delta", "1"}).error, "option '--delta' is for counters");
  EXPECT_EQ(parse({"-s", "top", "raddr"}).error, "-s takes no filter (found 'top')");
}

TEST(ParseArgs, ListingIsTheDefaultAsInSs) {
  auto r = parse({});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.opts.cmd, command::list);
  r = parse({"-tanp", "state", "established", "( dport = :443 or sport = :443 )"});
  ASSERT_EQ(r.error, "");
  EXPECT_TRUE(r.opts.scope.tcp);
  EXPECT_FALSE(r.opts.scope.udp);
  EXPECT_FALSE(r.opts.scope.unix_domain);
  EXPECT_TRUE(r.opts.all && r.opts.processes);
  ASSERT_EQ(r.opts.filter.size(), 3u);
  EXPECT_EQ(r.opts.filter[2], "( dport = :443 or sport = :443 )");
  r = parse({"-4", "-l"});
  ASSERT_EQ(r.error, "");
  EXPECT_FALSE(r.opts.scope.unix_domain) << "ss -4 lists no UNIX sockets";
  EXPECT_FALSE(r.opts.scope.ipv6);
}

TEST(ParseArgs, TopAndCounters) {
  auto r = parse({"top", "raddr", "-n", "5", "sport", "=", ":443"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.opts.cmd, command::top);
  EXPECT_EQ(r.opts.key, top_key::raddr);
  EXPECT_EQ(r.opts.top_n, 5u);
  EXPECT_EQ(r.opts.filter.size(), 3u);
  r = parse({"top", "state", "-tn3", "--watch", "0.5", "--count", "2"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.opts.top_n, 3u);
  EXPECT_EQ(r.opts.watch, 0.5);
  EXPECT_EQ(r.opts.count, 2u);
  r = parse({"counters", "--delta", "2", "Tcp.", "TcpExt.Listen"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.opts.cmd, command::counters);
  EXPECT_EQ(r.opts.delta, 2.0);
  EXPECT_EQ(r.opts.prefixes, (std::vector<std::string>{"Tcp.", "TcpExt.Listen"}));
}

TEST(ListingStates, AsSsComputesThem) {
  constexpr auto bit = [](int s) { return 1u << s; };
  const std::uint32_t conn = 0xFFEu & ~(bit(10) | bit(7) | bit(6) | bit(3));
  socket_filter none;
  auto states = [&](std::vector<const char*> args) {
    return listing_states(parse(std::move(args)).opts, none);
  };
  EXPECT_EQ(states({"-t"}), conn) << "ss -t: connected, not TIME_WAIT or SYN_RECV";
  EXPECT_EQ(states({"-u"}), bit(1)) << "ss -u: established only";
  EXPECT_EQ(states({"-x"}), conn) << "ss -x: filter_af_set(AF_UNIX), connected only";
  EXPECT_EQ(states({}), conn) << "plain ss (iproute2 6.1): no unconnected datagram socket";
  EXPECT_EQ(states({"-4"}), conn);
  EXPECT_EQ(states({"-tu"}), conn);
  EXPECT_EQ(states({"-tl"}), bit(10) | bit(7));
  EXPECT_EQ(states({"-ta"}), 0xFFEu);
  EXPECT_EQ(states({"top", "raddr"}), 0xFFEu) << "top counts every state";
  socket_filter f;
  f.states = bit(6);
  EXPECT_EQ(listing_states(parse({"-ta"}).opts, f), bit(6)) << "a state filter wins";
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
           {"-q"}, {"--nope"}, {"-s", "junk"}, {"top"}, {"--json=1"}, {"sport", "=", ":x"},
           {"-t", "(", "sport", "=", "1"}}) {
    const auto r = ssfast(args);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(lines(r.err), 1u) << r.err;
    EXPECT_EQ(r.err.rfind("ssfast: ", 0), 0u) << r.err;
  }
  EXPECT_NE(ssfast({"-q"}).err.find("'-q'"), std::string::npos);
}

TEST(Binary, BadFaultSeamValueIsAUsageError) {
  SSFAST_REQUIRE_TEST_SEAMS();
  testing::child_setup setup;
  setup.env = {"SSFAST_INJECT_NETLINK_FAILURE=sometimes"};
  const auto r = testing::run_process({SSFAST_CLI_PATH, "-s"}, setup);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
}

TEST(Binary, HelpAndVersion) {
  const auto h = ssfast({"--help"});
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.out.find("Usage: ssfast [-tuxlaH46pjeon] [FILTER]"), std::string::npos);
  EXPECT_NE(h.out.find("ssfast top KEY"), std::string::npos);
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
