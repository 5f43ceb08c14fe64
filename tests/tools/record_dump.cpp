// SPDX-License-Identifier: Apache-2.0
// ssfast-record-dump: records sock_diag dumps to files for the parser's unit tests.
//
//   ssfast-record-dump --scenario DIR   in a private namespace holding the test scenario, record
//                                       tcp4 tcp6 udp4 udp6 unix unix-rows into DIR/*.nldump,
//                                       refusing to write if a replay disagrees with the scenario;
//                                       and its /proc/net files into DIR/proc-scenario/
//   ssfast-record-dump --many DIR       300 established IPv4 pairs: DIR/tcp4-many.nldump and
//                                       DIR/proc-many/tcp
//   ssfast-record-dump KIND FILE        record one dump of the current namespace
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "ssfast/netlink/sock_diag.h"
#include "support/dump_file.h"
#include "support/scenario.h"

namespace {

using namespace ssfast;

struct kind {
  const char* name;
  netlink::dump_request req;
};

netlink::dump_request inet(std::uint8_t family, std::uint8_t protocol) {
  netlink::dump_request r;
  r.family = family;
  r.protocol = protocol;
  r.states = protocol == IPPROTO_TCP ? netlink::all_tcp_states : netlink::all_states;
  return r;
}

netlink::dump_request unix_dump(std::uint32_t show) {
  netlink::dump_request r;
  r.what = netlink::dump_request::kind::unix_domain;
  r.unix_show = show;
  return r;
}

const kind kinds[] = {
    {"tcp4", inet(AF_INET, IPPROTO_TCP)},
    {"tcp6", inet(AF_INET6, IPPROTO_TCP)},
    {"udp4", inet(AF_INET, IPPROTO_UDP)},
    {"udp6", inet(AF_INET6, IPPROTO_UDP)},
    {"unix", unix_dump(0)},
    {"unix-rows", unix_dump(netlink::unix_show_rows)},
};

// Keeps every datagram; finds the end of the dump by parsing it as the collector would.
struct recorder final : netlink::datagram_sink {
  testing::recorded_dump dump;
  bool is_unix = false;
  netlink::parse_status on_datagram(const netlink::datagram& d,
                                    const netlink::reply_filter& f) noexcept override {
    dump.portid = f.portid;
    dump.seq = f.seq;
    testing::recorded_datagram g;
    g.sender_portid = d.sender_portid;
    g.bytes.assign(d.bytes.begin(), d.bytes.end());
    dump.datagrams.push_back(std::move(g));
    std::array<state_counts, 2> c;
    unix_counts u;
    return is_unix ? netlink::count_unix(d, f, u) : netlink::count_inet(d, f, c);
  }
};

testing::recorded_dump record(const kind& k) {
  auto s = netlink::sock_diag_socket::open();
  if (!s) throw std::runtime_error("opening sock_diag: " + s.error().message());
  recorder r;
  r.is_unix = k.req.what == netlink::dump_request::kind::unix_domain;
  if (auto ec = s->dump(k.req, r))
    throw std::runtime_error(std::string(k.name) + ": " + ec.message());
  return std::move(r.dump);
}

const kind& find_kind(const std::string& name) {
  for (const kind& k : kinds)
    if (name == k.name) return k;
  throw std::runtime_error("unknown dump kind '" + name + "'");
}

// Copies /proc/net/<name> files of this namespace into dir (created if missing).
void copy_proc_files(const std::string& dir, std::initializer_list<const char*> names) {
  mkdir(dir.c_str(), 0755);
  for (const char* name : names) {
    std::ifstream in(std::string("/proc/net/") + name, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    std::ofstream out(dir + "/" + name, std::ios::binary | std::ios::trunc);
    out << text.str();
    if (!in.good() && !in.eof()) throw std::runtime_error(std::string("reading /proc/net/") + name);
    if (!out) throw std::runtime_error(dir + "/" + name + ": write failed");
    std::printf("%s/%s: %zu bytes\n", dir.c_str(), name, text.str().size());
  }
}

int record_scenario(const std::string& dir) {
  const std::string why = testing::enter_private_netns();
  if (!why.empty()) throw std::runtime_error(why);
  testing::fd_set_guard fds;
  const testing::scenario_counts want = testing::build_scenario(fds);
  for (const kind& k : kinds) {
    // Settle as the live tests do: an orphan may still be finishing its last transition.
    testing::recorded_dump d;
    for (int attempt = 0; attempt < 100; ++attempt) {
      d = record(k);
      std::array<state_counts, 2> c;
      unix_counts u;
      for (const auto& g : d.datagrams) {
        const netlink::datagram dg{g.bytes, g.sender_portid};
        const netlink::reply_filter f{d.portid, d.seq};
        if (k.req.what == netlink::dump_request::kind::unix_domain)
          netlink::count_unix(dg, f, u);
        else
          netlink::count_inet(dg, f, c);
      }
      bool ok = false;
      if (k.req.what == netlink::dump_request::kind::unix_domain) {
        ok = u.by_type == want.unix_by_type;
      } else {
        const auto& w = k.req.protocol == IPPROTO_TCP ? want.tcp : want.udp;
        const std::size_t fi = k.req.family == AF_INET ? 0 : 1;
        ok = c[fi] == w[fi];
      }
      if (ok) break;
      if (attempt == 99) throw std::runtime_error(std::string(k.name) + ": replay disagrees");
      usleep(10000);
    }
    const std::string path = dir + "/" + k.name + ".nldump";
    testing::write_dump_file(path, d);
    std::printf("%s: %zu datagrams\n", path.c_str(), d.datagrams.size());
  }
  copy_proc_files(dir + "/proc-scenario", {"tcp", "tcp6", "udp", "udp6", "unix"});
  return 0;
}

// 300 established IPv4 pairs and their listener: a TCP dump spanning several datagrams.
int record_many(const std::string& dir) {
  const std::string why = testing::enter_private_netns();
  if (!why.empty()) throw std::runtime_error(why);
  testing::fd_set_guard fds;
  testing::build_established(fds, AF_INET, 300);
  const testing::recorded_dump d = record(find_kind("tcp4"));
  std::array<state_counts, 2> c;
  for (const auto& g : d.datagrams)
    netlink::count_inet({g.bytes, g.sender_portid}, {d.portid, d.seq}, c);
  if (c[0][tcp_state::established] != 600 || c[0][tcp_state::listen] != 1 || c[0].total() != 601)
    throw std::runtime_error("tcp4-many: replay disagrees");
  const std::string path = dir + "/tcp4-many.nldump";
  testing::write_dump_file(path, d);
  std::printf("%s: %zu datagrams\n", path.c_str(), d.datagrams.size());
  copy_proc_files(dir + "/proc-many", {"tcp"});
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 3 && std::strcmp(argv[1], "--scenario") == 0) return record_scenario(argv[2]);
    if (argc == 3 && std::strcmp(argv[1], "--many") == 0) return record_many(argv[2]);
    if (argc == 3) {
      testing::write_dump_file(argv[2], record(find_kind(argv[1])));
      return 0;
    }
    std::fprintf(stderr,
                 "usage: ssfast-record-dump --scenario DIR\n"
                 "       ssfast-record-dump --many DIR\n"
                 "       ssfast-record-dump tcp4|tcp6|udp4|udp6|unix|unix-rows FILE\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ssfast-record-dump: %s\n", e.what());
    return 1;
  }
}
