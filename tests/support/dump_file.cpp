// SPDX-License-Identifier: Apache-2.0
// Reading and writing recorded sock_diag dumps.
#include "dump_file.h"

#include <cstring>
#include <fstream>
#include <stdexcept>

namespace ssfast::testing {
namespace {

constexpr char magic[8] = {'S', 'S', 'F', 'N', 'L', 'D', 'M', 'P'};

std::uint32_t get_u32(std::istream& in, const std::string& path) {
  std::uint32_t v = 0;
  if (!in.read(reinterpret_cast<char*>(&v), sizeof v))
    throw std::runtime_error(path + ": truncated recorded dump");
  return v;
}

void put_u32(std::ostream& out, std::uint32_t v) {
  out.write(reinterpret_cast<const char*>(&v), sizeof v);
}

}  // namespace

recorded_dump read_dump_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  char m[8];
  if (!in.read(m, sizeof m) || std::memcmp(m, magic, sizeof m) != 0)
    throw std::runtime_error(path + ": not a recorded dump");
  if (get_u32(in, path) != 1) throw std::runtime_error(path + ": unknown version");
  recorded_dump d;
  d.portid = get_u32(in, path);
  d.seq = get_u32(in, path);
  const std::uint32_t n = get_u32(in, path);
  if (n > 1'000'000) throw std::runtime_error(path + ": implausible datagram count");
  for (std::uint32_t i = 0; i < n; ++i) {
    recorded_datagram g;
    g.sender_portid = get_u32(in, path);
    const std::uint32_t len = get_u32(in, path);
    if (len > (1u << 20)) throw std::runtime_error(path + ": implausible datagram length");
    g.bytes.resize(len);
    if (!in.read(reinterpret_cast<char*>(g.bytes.data()), len))
      throw std::runtime_error(path + ": truncated datagram");
    in.ignore((4 - len % 4) % 4);
    d.datagrams.push_back(std::move(g));
  }
  return d;
}

void write_dump_file(const std::string& path, const recorded_dump& d) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error(path + ": cannot create");
  out.write(magic, sizeof magic);
  put_u32(out, 1);
  put_u32(out, d.portid);
  put_u32(out, d.seq);
  put_u32(out, static_cast<std::uint32_t>(d.datagrams.size()));
  for (const auto& g : d.datagrams) {
    put_u32(out, g.sender_portid);
    put_u32(out, static_cast<std::uint32_t>(g.bytes.size()));
    out.write(reinterpret_cast<const char*>(g.bytes.data()),
              static_cast<std::streamsize>(g.bytes.size()));
    static const char zeros[4] = {};
    out.write(zeros, static_cast<std::streamsize>((4 - g.bytes.size() % 4) % 4));
  }
  if (!out.flush()) throw std::runtime_error(path + ": write failed");
}

}  // namespace ssfast::testing
