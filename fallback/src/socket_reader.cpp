// SPDX-License-Identifier: Apache-2.0
// Streams the /proc/net socket files through their parsers.
#include "ssfast/proc/socket_reader.h"

namespace ssfast::proc {
namespace {

struct planned_file {
  socket_file file;
  bool (*wanted)(const count_scope&);
  bool optional;  // absent without IPv6
};

constexpr planned_file plan[] = {
    {socket_file::tcp, [](const count_scope& s) { return s.tcp && s.ipv4; }, false},
    {socket_file::tcp6, [](const count_scope& s) { return s.tcp && s.ipv6; }, true},
    {socket_file::udp, [](const count_scope& s) { return s.udp && s.ipv4; }, false},
    {socket_file::udp6, [](const count_scope& s) { return s.udp && s.ipv6; }, true},
    {socket_file::unix_domain, [](const count_scope& s) { return s.unix_domain; }, false},
    {socket_file::raw, [](const count_scope& s) { return s.raw && s.ipv4; }, false},
    {socket_file::raw6, [](const count_scope& s) { return s.raw && s.ipv6; }, true},
    {socket_file::packet, [](const count_scope& s) { return s.packet; }, true},
    {socket_file::netlink, [](const count_scope& s) { return s.netlink; }, false},
};

// Whether counts read the file: raw, packet and netlink sockets are only listed.
constexpr bool counted(socket_file f) noexcept { return f <= socket_file::unix_domain; }

std::error_code run(file_reader& files, socket_file_parser& parser, const planned_file& f,
                    file_stats& stats, std::string_view& failed) noexcept {
  auto chunk = [](void* ctx, std::string_view bytes) noexcept {
    return static_cast<socket_file_parser*>(ctx)->feed(bytes);
  };
  std::error_code ec = files.stream(file_name(f.file), chunk, &parser);
  if (ec == std::errc::no_such_file_or_directory && f.optional) return {};
  if (!ec) ec = parser.finish();
  stats += parser.stats();
  stats.skipped_in[static_cast<std::size_t>(f.file)] += parser.stats().skipped;
  if (ec) failed = file_name(f.file);
  return ec;
}

state_counts& counts_for(socket_summary& s, socket_file f) noexcept {
  switch (f) {
    case socket_file::tcp: return s.tcp[0];
    case socket_file::tcp6: return s.tcp[1];
    case socket_file::udp: return s.udp[0];
    default: return s.udp[1];
  }
}

}  // namespace

std::error_code count_sockets(file_reader& files, const count_scope& scope, socket_summary& out,
                              file_stats& stats, std::string_view& failed) noexcept {
  stats = {};
  for (const planned_file& f : plan) {
    if (!f.wanted(scope) || !counted(f.file)) continue;
    socket_file_parser parser = f.file == socket_file::unix_domain
                                    ? socket_file_parser(out.unix_domain)
                                    : socket_file_parser(f.file, counts_for(out, f.file));
    if (auto ec = run(files, parser, f, stats, failed)) return ec;
  }
  return {};
}

std::error_code snapshot_sockets(file_reader& files, const count_scope& scope, socket_table& out,
                                 file_stats& stats, std::string_view& failed) noexcept {
  stats = {};
  for (const planned_file& f : plan) {
    if (!f.wanted(scope)) continue;
    socket_file_parser parser(f.file, out);
    if (auto ec = run(files, parser, f, stats, failed)) return ec;
  }
  return {};
}

}  // namespace ssfast::proc
