// SPDX-License-Identifier: Apache-2.0
// Reading Prometheus text exposition in tests: the samples, and promtool's verdict.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>

namespace ssfast::testing {

/// `promtool check metrics` (Debian's prometheus package, installed by scripts/setup) on
/// `text`: its exit status (127 when promtool is missing) and what it said.
inline std::pair<int, std::string> promtool(const std::string& text) {
  const std::string path = ::testing::TempDir() + "ssfast-" + std::to_string(getpid()) + ".prom";
  std::ofstream(path, std::ios::binary) << text;
  FILE* p = popen(("promtool check metrics < '" + path + "' 2>&1").c_str(), "r");
  if (p == nullptr) return {-1, "popen failed"};
  std::string said;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) said += buf;
  const int status = pclose(p);
  std::remove(path.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, said};
}

/// Every sample line as "name{labels}" -> value text. Expects (gtest) one HELP and one TYPE
/// line per metric, before its samples, and no series twice.
inline std::map<std::string, std::string> prometheus_samples(const std::string& text) {
  std::map<std::string, std::string> out;
  std::set<std::string> helped, typed;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("# HELP ")) {
      const std::string name = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(helped.insert(name).second) << "two HELP lines for " << name;
      continue;
    }
    if (line.starts_with("# TYPE ")) {
      const std::string name = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(typed.insert(name).second) << "two TYPE lines for " << name;
      continue;
    }
    const std::size_t sp = line.rfind(' ');
    const std::string key = line.substr(0, sp);
    const std::string name = key.substr(0, key.find('{'));
    EXPECT_TRUE(helped.count(name) && typed.count(name)) << "no HELP/TYPE before " << line;
    EXPECT_TRUE(out.emplace(key, line.substr(sp + 1)).second) << "duplicate series " << key;
  }
  return out;
}

}  // namespace ssfast::testing
