// SPDX-License-Identifier: Apache-2.0
// The command line: the parser on its own, and the real binary's exit codes and messages.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "option_table.h"
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
  EXPECT_EQ(parse({"-s", "extra"}).error,
            "'extra' is neither a command (listing, -s, top, counters, check, exporter, agent, "
            "doctor, record, history, states, help) nor a filter (state, exclude, sport, dport, "
            "src, dst, not)");
  EXPECT_EQ(parse({"-s", "sprt", "=", ":443"}).error,
            "unknown filter word 'sprt' (did you mean 'sport'?)");
  EXPECT_EQ(parse({"-s", "-p"}).error, "option '-p' is for listings, not -s");
  EXPECT_EQ(parse({"top"}).error,
            "top needs a key: raddr, laddr, lport, rport, state, process or netns");
  EXPECT_EQ(parse({"top", "ip"}).error,
            "top: unknown key 'ip' (raddr, laddr, lport, rport, state, process or netns)");
  EXPECT_EQ(parse({"top", "raddr", "--limit", "0"}).error,
            "option '--limit': '0' is not a number from 1 to 1000000");
  EXPECT_EQ(parse({"-tan", "--estimate"}).error,
            "option '--estimate' is for -s, check and exporter, not listings");
  EXPECT_EQ(parse({"-tan", "--watch", "1"}).error,
            "option '--watch' is for -s and top, not listings");
  EXPECT_EQ(parse({"-s", "--count", "3"}).error, "option '--count' goes with --watch");
  EXPECT_EQ(parse({"-s", "--dir", "/tmp/h"}).error,
            "option '--dir' goes with --watch (the recorded history its view starts from)");
  EXPECT_EQ(parse({"-s", "--watch", "1", "--dir", "/tmp/h"}).opts.history_dir, "/tmp/h");
  EXPECT_EQ(parse({"top", "raddr", "--watch", "1", "--dir", "/tmp/h"}).error,
            "option '--dir' is for -s, record and history, not top");
  EXPECT_EQ(parse({"-s", "--watch", "0"}).error,
            "option '--watch': '0' is not a number of seconds (0 < S <= 86400)");
  EXPECT_EQ(parse({"-s", "--delta", "1"}).error, "option '--delta' is for counters, not -s");
  EXPECT_EQ(parse({"-s", "top", "raddr"}).error,
            "'top' is a command of its own, not a filter: one command at a time");
}

// -s and check take a filter: the summary, or the check, of the sockets it selects.
TEST(ParseArgs, SummaryAndCheckTakeAFilter) {
  auto r = parse({"-s", "sport", "=", ":443"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.opts.cmd, command::summary);
  EXPECT_EQ(r.opts.filter, (std::vector<std::string>{"sport", "=", ":443"}));
  r = parse({"-sj", "state", "established", "( dport = :5432 )"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.opts.filter.size(), 3u);
  r = parse({"check", "--warn", "close_wait=10", "sport = :443"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.opts.cmd, command::check);
  EXPECT_EQ(r.opts.filter, (std::vector<std::string>{"sport = :443"}));
  EXPECT_EQ(parse({"check", "established"}).error,
            "'established' is neither a command (listing, -s, top, counters, check, exporter, "
            "agent, doctor, record, history, states, help) nor a filter (state, exclude, sport, "
            "dport, src, dst, "
            "not)");
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
  auto r = parse({"top", "raddr", "--limit", "5", "sport", "=", ":443"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.opts.cmd, command::top);
  EXPECT_EQ(r.opts.key, top_key::raddr);
  EXPECT_EQ(r.opts.top_n, 5u);
  EXPECT_EQ(r.opts.filter.size(), 3u);
  r = parse({"top", "state", "-tn", "--limit=3", "--watch", "0.5", "--count", "2"});
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

// ss's other ways to choose what to list: -f FAMILY, -A QUERY, -F FILE; and --by for top.
TEST(ParseArgs, FamilyQueryFilterFileAndBy) {
  auto r = parse({"-f", "inet6", "-A", "tcp,unix", "-a"});
  ASSERT_EQ(r.error, "");
  EXPECT_TRUE(r.opts.scope.tcp);
  EXPECT_FALSE(r.opts.scope.udp);
  EXPECT_TRUE(r.opts.scope.unix_domain);
  EXPECT_FALSE(r.opts.scope.ipv4);
  EXPECT_TRUE(r.opts.scope.ipv6);
  r = parse({"-A", "inet", "-f", "inet"});
  ASSERT_EQ(r.error, "");
  EXPECT_TRUE(r.opts.scope.tcp && r.opts.scope.udp);
  EXPECT_FALSE(r.opts.scope.unix_domain);
  // Tables ssfast does not list are named, for the listing to ask the kernel about (never
  // ignored): the table is then empty, or the listing refused.
  r = parse({"-A", "tcp,sctp"});
  ASSERT_EQ(r.error, "");
  EXPECT_TRUE(r.opts.scope.tcp && !r.opts.scope.udp);
  EXPECT_EQ(r.opts.unlisted, 1u << static_cast<unsigned>(unlisted_table::sctp));
  EXPECT_EQ(parse({"-f", "vsock"}).opts.unlisted,
            1u << static_cast<unsigned>(unlisted_table::vsock));
  EXPECT_EQ(parse({"--xdp"}).opts.unlisted, 1u << static_cast<unsigned>(unlisted_table::xdp));
  EXPECT_FALSE(parse({"-S"}).opts.scope.tcp) << "a table named: no default tables";
  r = parse({"-A", "all"});
  EXPECT_EQ(r.opts.unlisted, (1u << static_cast<unsigned>(unlisted_table::count)) - 1);
  EXPECT_TRUE(r.opts.scope.tcp && r.opts.scope.raw && r.opts.scope.packet && r.opts.scope.netlink);
  EXPECT_EQ(parse({"-A", "bogus"}).error,
            "option '-A': 'bogus' is not a socket table (all, inet, tcp, udp, raw, mptcp, unix, "
            "unix_stream, unix_dgram, unix_seqpacket, packet, packet_raw, packet_dgram, netlink, "
            "sctp, dccp, vsock, vsock_stream, vsock_dgram, tipc, xdp)");
  r = parse({"-M"});
  EXPECT_TRUE(r.opts.scope.mptcp && !r.opts.scope.tcp);
  EXPECT_TRUE(parse({"-A", "mptcp,tcp"}).opts.scope.mptcp);
  // Raw, packet and netlink tables: listed only when asked for, each alone or with others.
  r = parse({"-A", "tcp,raw"});
  ASSERT_EQ(r.error, "");
  EXPECT_TRUE(r.opts.scope.tcp && r.opts.scope.raw);
  EXPECT_FALSE(r.opts.scope.udp || r.opts.scope.unix_domain || r.opts.scope.packet);
  r = parse({"-w"});
  EXPECT_TRUE(r.opts.scope.raw && !r.opts.scope.tcp && !r.opts.scope.netlink);
  r = parse({"-f", "netlink"});
  ASSERT_EQ(r.error, "");
  EXPECT_TRUE(r.opts.scope.netlink && !r.opts.scope.tcp && !r.opts.scope.unix_domain);
  r = parse({"-f", "link"});
  EXPECT_TRUE(r.opts.scope.packet);
  EXPECT_EQ(r.opts.packet_types, 0u);
  EXPECT_EQ(parse({"-A", "packet_dgram"}).opts.packet_types, 1u << SOCK_DGRAM);
  EXPECT_EQ(parse({"-A", "packet_raw", "-0"}).opts.packet_types, 0u) << "-0 is both tables";
  // No table named: a listing has every table, as ss's "all"; not -4's packet and netlink
  // sockets, nor -K's, and a count or top none of them.
  r = parse({"-a"});
  EXPECT_TRUE(r.opts.scope.raw && r.opts.scope.mptcp && r.opts.scope.packet &&
              r.opts.scope.netlink);
  r = parse({"-4a"});
  EXPECT_TRUE(r.opts.scope.raw && !r.opts.scope.packet && !r.opts.scope.netlink);
  EXPECT_FALSE(parse({"-aK"}).opts.scope.raw);
  EXPECT_FALSE(parse({"-s"}).opts.scope.raw);
  EXPECT_FALSE(parse({"-a", "--source", "netlink"}).opts.scope.raw) << "raw may need /proc";
  EXPECT_EQ(parse({"-0", "-b"}).error, "");
  EXPECT_NE(parse({"-s", "-b"}).error, "") << "-b: packet sockets' filters, in a listing";
  // One UNIX type each; -x widens nothing -A chose, and alone means every type.
  r = parse({"-A", "unix_stream,unix_seqpacket"});
  ASSERT_EQ(r.error, "");
  EXPECT_TRUE(r.opts.scope.unix_domain);
  EXPECT_FALSE(r.opts.scope.tcp);
  EXPECT_EQ(r.opts.unix_types, (1u << 1) | (1u << 5));
  EXPECT_EQ(parse({"-A", "unix_dgram", "-x"}).opts.unix_types, 1u << 2);
  EXPECT_EQ(parse({"-A", "unix_dgram,unix"}).opts.unix_types, 0u);
  EXPECT_EQ(parse({"-x"}).opts.unix_types, 0u);
  EXPECT_EQ(parse({"-f", "bogus"}).error,
            "option '-f': 'bogus' is not a family (inet, inet6, unix, link, netlink, vsock, tipc, "
            "xdp)");
  // -F: the words of a file, or the reason it cannot be.
  char path[] = "/tmp/ssfast-filter-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string text = "( sport = :443 or\n  sport = :80 )\n";
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  r = parse({"-tn", "-F", path});
  unlink(path);
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.opts.filter,
            (std::vector<std::string>{"(", "sport", "=", ":443", "or", "sport", "=", ":80", ")"}));
  r = parse({"-F", "/nonexistent/filter"});
  EXPECT_EQ(r.error, "option '-F': cannot read '/nonexistent/filter': No such file or directory");
  r = parse({"-F", "/dev/null", "sport", "=", ":1"});
  EXPECT_EQ(r.error, "a filter from -F '/dev/null' and on the command line: give one");
  r = parse({"top", "raddr", "--by", "rtt"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.opts.by, top_metric::rtt);
  EXPECT_NE(parse({"top", "raddr", "--by", "speed"}).error.find("is not sockets, retrans"),
            std::string::npos);
  EXPECT_EQ(parse({"top", "netns", "--by", "rtt"}).error,
            "option '--by' ranks one namespace's keys: it cannot go with netns or --all-netns");
  r = parse({"-r", "-Z"});
  ASSERT_EQ(r.error, "");
  EXPECT_TRUE(r.opts.resolve && r.opts.selinux);
}

// The misuse the command table was made for: each does what a person meant or says why not.
TEST(ParseArgs, OutputsThatDisagreeAreRefused) {
  EXPECT_EQ(parse({"-s", "--textfile", "f", "-j"}).error,
            "options '--textfile' and '-j' ask for different outputs");
  EXPECT_EQ(parse({"-s", "--textfile", "f", "--format", "json"}).error,
            "options '--textfile' and '--format json' ask for different outputs");
  EXPECT_EQ(parse({"-sj", "--format", "text"}).error,
            "options '-j' and '--format text' ask for different outputs");
  auto r = parse({"-s", "--format", "prometheus", "--textfile", "f"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.opts.format, output_format::prometheus);
  r = parse({"-s", "--format=json", "-j"});
  ASSERT_EQ(r.error, "") << "two ways of asking for the same output agree";
  EXPECT_TRUE(r.opts.json);
}

TEST(ParseArgs, OptionsACommandIgnoresAreRefused) {
  EXPECT_EQ(parse({"counters", "-t"}).error,
            "option '-t' is for listings, -s, top, check and exporter, not counters");
  EXPECT_EQ(parse({"-tan", "--threads", "4"}).error, "") << "a TCP listing splits";
  EXPECT_EQ(parse({"top", "raddr", "--threads", "1"}).error, "");
  EXPECT_EQ(parse({"-uan", "--threads", "4"}).error,
            "option '--threads' splits a TCP listing without a filter, and -p's /proc scan: "
            "this listing uses none");
  EXPECT_EQ(parse({"-tan", "--threads", "4", "sport = :80"}).error,
            "option '--threads' splits a TCP listing without a filter, and -p's /proc scan: "
            "this listing uses none");
  EXPECT_EQ(parse({"-tanp", "--threads", "4"}).error, "");
  EXPECT_EQ(parse({"top", "process", "--threads", "2"}).error, "") << "top process scans /proc";
  EXPECT_EQ(parse({"-s", "--threads", "2", "--source", "proc"}).error,
            "option '--threads' splits netlink dumps: the /proc source reads each file once");
  EXPECT_EQ(parse({"-s", "--threads", "2", "--proc-root", "/x"}).error,
            "option '--threads' splits netlink dumps: the /proc source reads each file once");
  EXPECT_EQ(
      parse({"states", "-N", "x"}).error,
      "option '-N' is for listings, -s, top, counters, check, exporter, agent, doctor and record, "
      "not states");
  EXPECT_EQ(parse({"-s", "--max-connections", "5"}).error,
            "option '--max-connections' is for exporter and agent, not -s");
}

TEST(ParseArgs, DashNIsNumericEverywhereAsInSs) {
  auto r = parse({"top", "raddr", "-tan"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.opts.cmd, command::top);
  EXPECT_TRUE(r.opts.scope.tcp);
  EXPECT_FALSE(r.opts.scope.udp);
  EXPECT_EQ(r.opts.top_n, 20u);
  EXPECT_TRUE(r.opts.filter.empty());
  EXPECT_EQ(parse({"-sn"}).error, "");
  EXPECT_EQ(parse({"doctor", "-n"}).error, "");
}

TEST(ParseArgs, HelpForOneCommand) {
  auto r = parse({"help"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.opts.cmd, command::help);
  EXPECT_FALSE(r.opts.help_for.has_value());
  r = parse({"help", "top"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.opts.help_for, command::top);
  EXPECT_EQ(parse({"top", "-h"}).opts.help_for, command::top);
  EXPECT_EQ(parse({"agent", "--help"}).opts.help_for, command::agent);
  EXPECT_EQ(parse({"-s", "-h"}).opts.help_for, command::summary);
  EXPECT_EQ(parse({"help", "-s"}).opts.help_for, command::summary);
  EXPECT_FALSE(parse({"-t", "-h"}).opts.help_for.has_value()) << "the listing: everything";
  EXPECT_EQ(parse({"help", "topp"}).error,
            "help: unknown command 'topp' (listing, -s, top, counters, check, exporter, agent, "
            "doctor, record, history, states, help)");
  const std::string top = usage(command::top);
  EXPECT_EQ(top.rfind("Usage: ssfast top KEY", 0), 0u) << top;
  EXPECT_EQ(top.find("ssfast agent"), std::string::npos) << "only top's synopsis";
  EXPECT_NE(top.find("--limit N"), std::string::npos);
  EXPECT_NE(top.find("Also:\n  --watch S"), std::string::npos) << top;
  const std::string all = usage();
  for (std::string_view name : long_options())
    EXPECT_NE(all.find("--" + std::string(name)), std::string::npos)
        << "--help does not mention --" << name;
}

// Each command's help names every option that command takes and none that it refuses:
// long options anywhere in its text, short ones in its synopsis's [-flags] groups. -n is
// taken everywhere for ss habits and documented once, with the listing.
TEST(Help, EachCommandsHelpMatchesTheOptionTable) {
  using namespace table_detail;
  for (const command c :
       {command::list, command::summary, command::top, command::counters, command::check,
        command::exporter, command::agent, command::doctor, command::states}) {
    const std::string text = usage(c);
    const std::string name(command_name(c));
    auto takes = [&](const option_spec& o) { return (o.commands & on(c)) != 0; };
    // Every long option it names is one it takes.
    for (std::size_t at = text.find("--"); at != std::string::npos; at = text.find("--", at + 2)) {
      std::size_t end = at + 2;
      while (end < text.size() &&
             (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '-'))
        ++end;
      const std::string_view word(text.data() + at + 2, end - at - 2);
      if (word.empty()) continue;
      const auto* o = std::find_if(std::begin(table), std::end(table),
                                   [&](const option_spec& x) { return x.long_name == word; });
      ASSERT_NE(o, std::end(table)) << name << ": help names --" << word << ", no such option";
      if (o->id == opt::summary) continue;  // -s, --summary: the command itself
      EXPECT_TRUE(takes(*o)) << name << ": help names --" << word << ", which it refuses";
    }
    // Every short flag of its synopsis is one it takes.
    const std::string synopsis = text.substr(0, text.find("\n\n"));
    std::string shorts;  // the short flags of its synopsis's [-flags] groups
    for (std::size_t at = synopsis.find("[-"); at != std::string::npos;
         at = synopsis.find("[-", at + 2))
      for (std::size_t i = at + 2;
           i < synopsis.size() && std::isalnum(static_cast<unsigned char>(synopsis[i])); ++i)
        shorts.push_back(synopsis[i]);
    for (const char f : shorts) {
      const auto* o = std::find_if(std::begin(table), std::end(table),
                                   [&](const option_spec& x) { return x.short_name == f; });
      ASSERT_NE(o, std::end(table)) << name << ": -" << f;
      EXPECT_TRUE(takes(*o)) << name << ": synopsis offers -" << f << ", which it refuses";
    }
    // Every option it takes is named (by its long name, else its short one).
    for (const option_spec& o : table) {
      if (!takes(o) || o.id == opt::numeric || o.id == opt::summary) continue;
      const bool named =
          (!o.long_name.empty() &&
           text.find("--" + std::string(o.long_name)) != std::string::npos) ||
          (o.short_name != 0 && (shorts.find(o.short_name) != std::string::npos ||
                                 text.find(std::string("-") + o.short_name) != std::string::npos));
      EXPECT_TRUE(named) << name << " takes "
                         << (o.long_name.empty() ? std::string(1, o.short_name)
                                                 : "--" + std::string(o.long_name))
                         << " but its help does not say so";
    }
  }
}

// The bash completion offers each command the options it takes and only those.
TEST(Help, TheCompletionOffersEachCommandItsOptions) {
  std::ifstream f(std::string(SSFAST_TEST_DATA) + "/../../packaging/ssfast.bash-completion");
  ASSERT_TRUE(f) << "cannot read the completion";
  const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  // A shell variable's quoted words ("local common=\"...\"", several lines).
  auto variable = [&](const std::string& name) {
    const std::size_t at = text.find("local " + name + "=\"");
    if (at == std::string::npos) return std::string();
    const std::size_t start = at + name.size() + 8;
    return text.substr(start, text.find('"', start) - start);
  };
  // A command's case: its opts="..." (or compgen -W "...") words, variables expanded.
  auto offered = [&](const std::string& label) {
    const std::size_t at = text.find("\n    " + label + ")");
    if (at == std::string::npos) return std::string();
    const std::string block = text.substr(at, text.find(";;", at) - at);
    std::size_t q = block.find("opts=\"");
    if (q == std::string::npos) q = block.find("-W \"");
    if (q == std::string::npos) return std::string();
    const std::size_t start = block.find('"', q) + 1;
    std::string words = " " + block.substr(start, block.find('"', start) - start) + " ";
    for (const char* v : {"common", "listing"})
      for (std::size_t p; (p = words.find(std::string("$") + v)) != std::string::npos;)
        words.replace(p, std::strlen(v) + 1, variable(v));
    for (char& ch : words)
      if (ch == '\n') ch = ' ';
    return words;
  };
  using namespace table_detail;
  const std::pair<command, std::string> cases[] = {
      {command::list, "\"\""},     {command::top, "top"},           {command::counters, "counters"},
      {command::check, "check"},   {command::exporter, "exporter"}, {command::agent, "agent"},
      {command::doctor, "doctor"}, {command::states, "states"}};
  for (const auto& [c, label] : cases) {
    const std::string words = offered(label);
    ASSERT_FALSE(words.empty()) << label;
    // The listing's case serves -s too.
    const command_set mine = on(c) | (c == command::list ? on(command::summary) : 0);
    for (const option_spec& o : table) {
      if ((o.commands & mine) == 0 || o.id == opt::numeric) continue;
      const std::string long_form = "--" + std::string(o.long_name);
      const std::string short_form = "-" + std::string(1, o.short_name);
      const bool offers =
          (!o.long_name.empty() && words.find(" " + long_form + " ") != std::string::npos) ||
          (o.short_name != 0 && words.find(" " + short_form + " ") != std::string::npos);
      EXPECT_TRUE(offers) << label << " takes " << (o.long_name.empty() ? short_form : long_form)
                          << ", the completion does not offer it";
    }
    for (std::size_t at = words.find(" --"); at != std::string::npos;
         at = words.find(" --", at + 1)) {
      const std::string word = words.substr(at + 3, words.find(' ', at + 1) - at - 3);
      const auto* o = std::find_if(std::begin(table), std::end(table),
                                   [&](const option_spec& x) { return x.long_name == word; });
      ASSERT_NE(o, std::end(table)) << label << ": --" << word;
      EXPECT_NE(o->commands & mine, 0) << label << ": offers --" << word << ", which it refuses";
    }
  }
}

TEST(ParseArgs, MistypedCommandsAndWordsAreNamed) {
  EXPECT_EQ(parse({"hlep"}).error, "unknown command 'hlep' (did you mean 'help'?)");
  EXPECT_EQ(parse({"doctr"}).error, "unknown command 'doctr' (did you mean 'doctor'?)");
  EXPECT_EQ(parse({"-t", "sprot", "=", ":22"}).error,
            "unknown filter word 'sprot' (did you mean 'sport'?)");
  EXPECT_EQ(parse({"frobnicate"}).error,
            "'frobnicate' is neither a command (listing, -s, top, counters, check, exporter, "
            "agent, doctor, record, history, states, help) nor a filter (state, exclude, sport, "
            "dport, src, dst, "
            "not)");
  EXPECT_EQ(parse({"-t", "state", "established"}).error, "");
  EXPECT_EQ(parse({"-t", "( sport = :22 )"}).error, "") << "one-word expressions pass through";
}

TEST(ParseArgs, ParseErrorsKnowTheirCommand) {
  EXPECT_EQ(parse({"check", "--bogus"}).opts.cmd, command::check);
  EXPECT_EQ(parse({"--bogus", "doctor"}).opts.cmd, command::doctor);
  EXPECT_EQ(parse({"doctor", "--interval", "99"}).opts.cmd, command::doctor);
  EXPECT_EQ(usage_exit(command::check), 3);
  EXPECT_EQ(usage_exit(command::doctor), 3);
  EXPECT_EQ(usage_exit(command::top), 2);
}

TEST(ParseArgs, StatesByAnySpelling) {
  auto r = parse({"states", "FIN_WAIT2", "fin-wait-2", "ESTAB", "tcp_close_wait", "listening"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.opts.filter.size(), 5u);
  EXPECT_EQ(parse({"states", "FIN_WAIT3"}).error,
            "states: unknown state 'FIN_WAIT3' (ESTABLISHED, SYN_SENT, SYN_RECV, FIN_WAIT1, "
            "FIN_WAIT2, TIME_WAIT, CLOSE, CLOSE_WAIT, LAST_ACK, LISTEN, CLOSING; ss's names "
            "too)");
}

TEST(ParseArgs, NegativeThresholdSaysWhatItMeans) {
  EXPECT_EQ(parse({"check", "--warn", "close_wait=-5"}).error,
            "option '--warn': '-5' means 0..-5, which every count is outside; for an alert "
            "above 5 write 5");
  EXPECT_EQ(parse({"check", "--warn", "close_wait=~:-5"}).error, "")
      << "an explicit range is taken as written";
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
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"-q"},
                                             {"--nope"},
                                             {"-s", "junk"},
                                             {"top"},
                                             {"--json=1"},
                                             {"sport", "=", ":x"},
                                             {"-t", "(", "sport", "=", "1"},
                                             {"-s", "sport", "=", ":x"},
                                             {"-s", "--estimate", "sport = :443"},
                                             {"-s", "--format", "prometheus", "sport = :1"},
                                             {"-s", "--all-netns", "sport = :1"}}) {
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
  EXPECT_NE(
      h.out.find(
          "Usage: ssfast [-tuxw0MSdlaH46pTjeomiOnrKEb] [-f F] [-A Q] [-F FILE] [-D FILE] [--tos]"),
      std::string::npos);
  EXPECT_NE(h.out.find("ssfast top KEY"), std::string::npos);
  EXPECT_NE(h.out.find("Exit status"), std::string::npos);
  const auto v = ssfast({"-V"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out.rfind("ssfast ", 0), 0u);
  EXPECT_EQ(lines(v.out), 1u);
}

TEST(Binary, HelpCommandAndCommandHelp) {
  const auto h = ssfast({"help"});
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_EQ(h.out, ssfast({"--help"}).out);
  const auto t = ssfast({"top", "-h"});
  EXPECT_EQ(t.exit_code, 0);
  EXPECT_EQ(t.out.rfind("Usage: ssfast top KEY", 0), 0u) << t.out;
  EXPECT_EQ(t.out, ssfast({"help", "top"}).out);
}

TEST(Binary, MistypedCommandIsNamed) {
  const auto r = ssfast({"hlep"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "ssfast: unknown command 'hlep' (did you mean 'help'?) (see ssfast --help)\n");
  const auto c = ssfast({"counters", "-t"});
  EXPECT_EQ(c.exit_code, 2);
  EXPECT_EQ(c.err,
            "ssfast: option '-t' is for listings, -s, top, check and exporter, not counters (see "
            "ssfast help counters)\n")
      << "a misused command points at its own help";
}

TEST(Binary, StatesShowsTheStateAsked) {
  const auto r = ssfast({"states", "FIN_WAIT2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("FIN_WAIT2 (held by the side that closes first)\n", 0), 0u) << r.out;
  std::size_t entered = 0;
  for (std::size_t at = 0; (at = r.out.find("  entered  ", at)) != std::string::npos; ++at)
    ++entered;
  EXPECT_EQ(entered, 1u) << r.out;
  const auto j = ssfast({"states", "-j", "ss-name-check", "fin-wait-2"});
  EXPECT_EQ(j.exit_code, 2) << "an unknown state is refused";
  const auto both = ssfast({"states", "-j", "estab", "fin-wait-2"});
  ASSERT_EQ(both.exit_code, 0) << both.err;
  EXPECT_NE(both.out.find("\"kernel_value\":1"), std::string::npos) << both.out;
  EXPECT_NE(both.out.find("\"kernel_value\":5"), std::string::npos) << both.out;
  EXPECT_EQ(both.out.find("\"kernel_value\":6"), std::string::npos) << both.out;
}

TEST(Binary, CounterPrefixesIgnoreCaseAndMustMatch) {
  const auto r = ssfast({"counters", "tcp."});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_GT(lines(r.out), 5u);
  std::size_t start = 0;
  for (std::size_t nl; (nl = r.out.find('\n', start)) != std::string::npos; start = nl + 1)
    EXPECT_TRUE(r.out.compare(start, 4, "Tcp.") == 0 || r.out.compare(start, 4, "TCP.") == 0)
        << "Tcp.* (snmp) and TCP.* (sockstat): " << r.out.substr(start, nl - start);
  const auto none = ssfast({"counters", "Tcp.", "nosuch."});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_EQ(none.out, "");
  EXPECT_NE(none.err.find("no counter name starts with 'nosuch.'"), std::string::npos) << none.err;
  EXPECT_NE(none.err.find("TcpExt."), std::string::npos) << "names the groups there are";
}

TEST(Binary, CheckUsageErrorsAreUnknown) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"check", "--warn", "close_wait=-5"}, {"--bogus", "check"}}) {
    const auto r = ssfast(args);
    EXPECT_EQ(r.exit_code, 3) << args[1];
    EXPECT_EQ(r.out.rfind("SSFAST UNKNOWN - ", 0), 0u) << r.out;
    EXPECT_EQ(lines(r.out), 1u) << r.out;
  }
}

TEST(Binary, SummaryRunsInTheCurrentNamespace) {
  const auto r = ssfast({"-s"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("Sockets (source: netlink)\n"), std::string::npos);
  EXPECT_NE(r.out.find("Kernel counters"), std::string::npos);
}

// check, exporter and agent options.

TEST(ParseArgs, CheckExporterAgent) {
  auto r = parse({"check", "--warn", "established=10", "--crit=syn_recv=@5:", "--timeout", "2.5"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.opts.cmd, command::check);
  ASSERT_EQ(r.opts.warn.size(), 1u);
  ASSERT_EQ(r.opts.crit.size(), 1u);
  EXPECT_EQ(r.opts.timeout, 2.5);

  r = parse({"exporter"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.opts.listen, "127.0.0.1:9477") << "loopback by default";
  EXPECT_EQ(r.opts.max_connections, 64u);
  r = parse({"exporter", "--listen", "[::1]:0", "--max-connections", "3", "--estimate"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.opts.listen, "[::1]:0");
  EXPECT_EQ(r.opts.max_connections, 3u);

  r = parse({"agent", "--service-port", ":8080", "--max-established", "500", "--drain-queue", "0.5",
             "-N", "lb"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.opts.listen, "127.0.0.1:9478");
  ASSERT_EQ(r.opts.services.size(), 1u);
  EXPECT_EQ(r.opts.services[0].port, 8080);
  EXPECT_EQ(r.opts.services[0].rules.max_established, 500u);
  EXPECT_EQ(r.opts.services[0].rules.drain_queue, 0.5);
  EXPECT_EQ(r.opts.netns, "/run/netns/lb");
  EXPECT_EQ(r.opts.http_listen, "") << "HTTP readiness only when asked";
  EXPECT_EQ(r.opts.max_age, 1);
  EXPECT_EQ(r.opts.max_stale, 3) << "3 x --max-age";

  // Several services, each with its rules; the global ones fill what --service leaves out.
  r = parse({"agent", "--http-listen", ":8479", "--service", "443,max-established=100",
             "--service-port", "80", "--service", ":8443,drain-queue=0.5,max-established=7",
             "--max-established", "9", "--max-age", "0.25"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.opts.listen, "") << "--http-listen alone: no agent-check listener";
  EXPECT_EQ(r.opts.http_listen, ":8479");
  ASSERT_EQ(r.opts.services.size(), 3u);
  EXPECT_EQ(r.opts.services[0].port, 443);
  EXPECT_EQ(r.opts.services[0].rules.max_established, 100u);
  EXPECT_EQ(r.opts.services[0].rules.drain_queue, 0.9);
  EXPECT_EQ(r.opts.services[1].port, 80);
  EXPECT_EQ(r.opts.services[1].rules.max_established, 9u);
  EXPECT_EQ(r.opts.services[2].port, 8443);
  EXPECT_EQ(r.opts.services[2].rules.max_established, 7u);
  EXPECT_EQ(r.opts.services[2].rules.drain_queue, 0.5);
  EXPECT_EQ(r.opts.max_age, 0.25);
  EXPECT_EQ(r.opts.max_stale, 0.75);
  r = parse({"agent", "--service-port", "80", "--http-listen", "127.0.0.1:0", "--listen", ":0",
             "--max-stale", "5"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.opts.listen, ":0") << "both, when both are asked";
  EXPECT_EQ(r.opts.max_stale, 5);

  r = parse({"-s", "--format", "prometheus"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.opts.format, output_format::prometheus);
  r = parse({"-s", "--textfile", "/x/ssfast.prom", "--watch", "15"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.opts.format, output_format::prometheus);
  EXPECT_EQ(r.opts.textfile, "/x/ssfast.prom");
  r = parse({"doctor", "-j", "--interval", "0.5", "--netns", "1234"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.opts.cmd, command::doctor);
  EXPECT_EQ(r.opts.interval, 0.5);
  EXPECT_TRUE(r.opts.json);
  EXPECT_EQ(r.opts.netns, "/proc/1234/ns/net");
  r = parse({"states"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.opts.cmd, command::states);

  r = parse({"-s", "--format=json"});
  ASSERT_EQ(r.error, "");
  EXPECT_TRUE(r.opts.json);
}

// record: a sample every 10 s, 5 listeners, into /var/lib/ssfast, 7 days kept, unless said;
// --count without --watch (it always repeats).
TEST(ParseArgs, RecordTakesItsDefaultsAndLimits) {
  auto r = parse({"record"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.opts.cmd, command::record);
  EXPECT_EQ(r.opts.interval, 10);
  EXPECT_EQ(r.opts.max_listeners, 5u);
  EXPECT_EQ(r.opts.history_dir, "/var/lib/ssfast");
  EXPECT_EQ(r.opts.keep_days, 7u);
  r = parse({"record", "--interval", "1", "--dir", "/tmp/h", "--keep", "30", "--max-listeners", "0",
             "--count", "3", "-N", "blue"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.opts.interval, 1);
  EXPECT_EQ(r.opts.history_dir, "/tmp/h");
  EXPECT_EQ(r.opts.keep_days, 30u);
  EXPECT_EQ(r.opts.max_listeners, 0u);
  EXPECT_EQ(r.opts.count, 3u);
  EXPECT_EQ(parse({"doctor"}).opts.interval, 1) << "the doctor's default is its own";
  EXPECT_EQ(parse({"record", "--interval", "3601"}).error,
            "option '--interval': '3601' is not a number of seconds (1 <= S <= 3600)");
  EXPECT_EQ(parse({"record", "--keep", "0"}).error,
            "option '--keep': '0' is not a number of days (1 to 3650)");
  EXPECT_EQ(parse({"record", "--dir", ""}).error, "option '--dir': '' is not a directory");
  EXPECT_EQ(parse({"record", "-j"}).error,
            "option '-j' is for listings, -s, top, counters, "
            "doctor, history and states, not record");
  EXPECT_EQ(parse({"doctor", "--keep", "3"}).error, "option '--keep' is for record, not doctor");
}

// history's times: relative, a time of day (the last one past), a date, a date and time, UTC
// with Z; the local zone is TZ's (UTC here, so the figures are plain).
TEST(ParseWhen, TheFormsAnOperatorTypes) {
  const char* tz = std::getenv("TZ");
  const std::string saved = tz ? tz : "";
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  constexpr std::int64_t now = 1'796'400'000'000;  // 2026-12-04T16:00:00Z
  std::int64_t t = 0;
  ASSERT_TRUE(parse_when("-2h", now, t));
  EXPECT_EQ(t, now - 7'200'000);
  ASSERT_TRUE(parse_when("-90s", now, t));
  EXPECT_EQ(t, now - 90'000);
  ASSERT_TRUE(parse_when("-1d", now, t));
  EXPECT_EQ(t, now - 86'400'000);
  ASSERT_TRUE(parse_when("03:00", now, t));
  EXPECT_EQ(t, 1'796'353'200'000) << "today's 03:00, already past";
  ASSERT_TRUE(parse_when("17:30:15", now, t));
  EXPECT_EQ(t, 1'796'319'015'000) << "yesterday's: today's is still to come";
  ASSERT_TRUE(parse_when("2026-12-04", now, t));
  EXPECT_EQ(t, 1'796'342'400'000);
  ASSERT_TRUE(parse_when("2026-12-04 03:00", now, t));
  EXPECT_EQ(t, 1'796'353'200'000);
  ASSERT_TRUE(parse_when("2026-12-04T03:00:30Z", now, t));
  EXPECT_EQ(t, 1'796'353'230'000);
  ASSERT_TRUE(parse_when("now", now, t));
  EXPECT_EQ(t, now);
  for (const char* bad : {"", "3", "25:00", "03:60", "-2x", "-h", "2026-02-30", "2026-13-01",
                          "yesterday", "03:00:00:00", "2026-12-04 3:00"})
    EXPECT_FALSE(parse_when(bad, now, t)) << bad;
  if (tz)
    ::setenv("TZ", saved.c_str(), 1);
  else
    ::unsetenv("TZ");
  ::tzset();
}

TEST(ParseArgs, HistoryTakesTimesFilesAndStates) {
  auto r = parse({"history", "--since", "-2h", "--until", "now", "--dir", "/tmp/h", "-j",
                  "time-wait", "ESTABLISHED"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.opts.cmd, command::history);
  ASSERT_TRUE(r.opts.since_ms && r.opts.until_ms);
  EXPECT_EQ(*r.opts.until_ms - *r.opts.since_ms, 7'200'000);
  EXPECT_EQ(r.opts.history_dir, "/tmp/h");
  EXPECT_EQ(r.opts.filter, (std::vector<std::string>{"time-wait", "ESTABLISHED"}));
  r = parse(
      {"history", "-f", "/var/lib/ssfast/2026-12-04.ssr", "--file", "b.ssr", "--format", "csv"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.opts.history_files,
            (std::vector<std::string>{"/var/lib/ssfast/2026-12-04.ssr", "b.ssr"}));
  EXPECT_EQ(r.opts.format, output_format::csv);
  EXPECT_EQ(parse({"-f", "inet", "-t"}).error, "") << "-f is still --family for a listing";
  EXPECT_EQ(parse({"history", "--since", "noon"}).error,
            "option '--since': 'noon' is not a time (03:00, -2h, 2026-12-04 03:00, "
            "2026-12-04T03:00Z, now)");
  EXPECT_EQ(parse({"history", "closed-ish"}).error.substr(0, 40),
            "history: unknown state 'closed-ish' (EST");
  EXPECT_EQ(parse({"-s", "--format", "csv"}).error, "--format csv is for history");
  EXPECT_EQ(parse({"history", "--keep", "3"}).error, "option '--keep' is for record, not history");
}

TEST(ParseArgs, MonitoringMisuseIsRefused) {
  const std::pair<std::vector<const char*>, const char*> cases[] = {
      {{"check", "--warn", "established"}, "option '--warn': 'established' is not METRIC=RANGE"},
      {{"check", "--crit", "x=5:1"}, "option '--crit': '5:1': the start is above the end"},
      {{"check", "--warn", "close_wait=2,close_wait=3"},
       "option '--warn': close_wait is given twice; give each metric one range"},
      {{"check", "--timeout", "0"},
       "option '--timeout': '0' is not a number of seconds (0 < S <= 86400)"},
      {{"check", "-j"},
       "option '-j' is for listings, -s, top, counters, doctor, history and states, not check "
       "(plugins "
       "print one line)"},
      {{"-s", "--warn", "established=1"}, "option '--warn' is for check, not -s"},
      {{"-s", "--listen", ":1"}, "option '--listen' is for exporter and agent, not -s"},
      {{"-s", "--timeout", "1"}, "option '--timeout' is for check, exporter and agent, not -s"},
      {{"-s", "--format", "xml"},
       "option '--format': unknown value 'xml' (text, json, prometheus or csv)"},
      {{"-s", "-j", "--format", "prometheus"},
       "options '-j' and '--format prometheus' ask for different outputs"},
      {{"-s", "--watch", "1", "--format", "prometheus"},
       "--watch with --format prometheus needs --textfile PATH to rewrite"},
      {{"-tan", "--format", "prometheus"},
       "--format prometheus is for -s (the exporter serves it over HTTP)"},
      {{"top", "raddr", "--textfile", "x"}, "option '--textfile' is for -s, not top"},
      {{"exporter", "--format", "json"},
       "option '--format' is for listings, -s, top, counters, doctor, history and states, not "
       "exporter "
       "(it serves Prometheus text)"},
      {{"exporter", "--listen", "9477"}, "option '--listen': '9477' is not ADDR:PORT"},
      {{"exporter", "--max-connections", "0"},
       "option '--max-connections': '0' is not a number from 1 to 10000"},
      {{"agent"},
       "agent needs --service-port PORT or --service PORT[,RULES]: the port of the service it "
       "speaks for"},
      {{"agent", "--service-port", "80", "--service", "80"}, "agent: port 80 is given twice"},
      {{"agent", "--service", "80,max-established=0"},
       "option '--service': 'max-established=0' is not max-established=N (N > 0) or "
       "drain-queue=R (0 < R <= 1)"},
      {{"agent", "--service", "80,weight=3"},
       "option '--service': 'weight=3' is not max-established=N (N > 0) or drain-queue=R "
       "(0 < R <= 1)"},
      {{"agent", "--service", "80,"},
       "option '--service': '' is not max-established=N (N > 0) or drain-queue=R (0 < R <= 1)"},
      {{"agent", "--service", "x"}, "option '--service': 'x' is not a port (1..65535)"},
      {{"agent", "--service-port", "80", "--max-age", "2", "--max-stale", "1"},
       "agent: --max-stale must be at least --max-age (an answer from each measurement)"},
      {{"agent", "--service-port", "80", "--max-age", "0"},
       "option '--max-age': '0' is not a number of seconds (0 < S <= 3600)"},
      {{"agent", "--service-port", "80", "--http-listen", "8080"},
       "option '--http-listen': '8080' is not ADDR:PORT"},
      {{"exporter", "--http-listen", ":1"}, "option '--http-listen' is for agent, not exporter"},
      {{"agent", "--service-port", "70000"},
       "option '--service-port': '70000' is not a port (1..65535)"},
      {{"agent", "--service-port", "80", "--drain-queue", "1.5"},
       "option '--drain-queue': '1.5' is not a share of the backlog (0 < R <= 1)"},
      {{"agent", "--service-port", "80", "--estimate"},
       "option '--estimate' is for -s, check and exporter, not agent"},
      {{"-s", "--service-port", "80"}, "option '--service-port' is for agent, not -s"},
      {{"doctor", "--interval", "61"},
       "option '--interval': '61' is not a number of seconds (0 < S <= 60)"},
      {{"doctor", "-4"}, "option '-4' is for listings, -s, top, check and exporter, not doctor"},
      {{"doctor", "--estimate"}, "option '--estimate' is for -s, check and exporter, not doctor"},
      {{"doctor", "counters"},
       "'counters' is a command of its own, not a filter: one command at a time"},
      {{"states", "-t"}, "option '-t' is for listings, -s, top, check and exporter, not states"},
      {{"-s", "--interval", "1"}, "option '--interval' is for check, doctor and record, not -s"},
      {{"check", "-p"}, "option '-p' is for listings, not check"},
      {{"exporter", "-l"}, "option '-l' is for listings and top, not exporter"},
      {{"counters", "-e"}, "option '-e' is for listings, not counters"},
  };
  for (const auto& [args, want] : cases) EXPECT_EQ(parse(args).error, want) << args[0];
}

}  // namespace
}  // namespace ssfast::cli
