// SPDX-License-Identifier: Apache-2.0
// The table's words: command names, the commands of a set, and suggestions for mistypes.
#include "option_table.h"

#include <algorithm>
#include <array>

namespace ssfast::cli {
namespace table_detail {

// Why a command has no choice of output.
std::string_view output_note(command c) {
  switch (c) {
    case command::check: return " (plugins print one line)";
    case command::exporter: return " (it serves Prometheus text)";
    case command::agent: return " (HAProxy reads one line)";
    default: return "";
  }
}

std::optional<command> find_command(std::string_view w) {
  for (const auto& c : command_words)
    if (c.word == w) return c.cmd;
  return std::nullopt;
}

// "listings, -s and top": the commands of a set, for a message.
std::string command_list(command_set s) {
  std::vector<std::string_view> names;
  for (std::size_t i = 0; i < command_count; ++i)
    if (s & (1u << i)) {
      const auto c = static_cast<command>(i);
      names.push_back(c == command::list ? "listings" : command_name(c));
    }
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " and " : ", ";
    out += names[i];
  }
  return out;
}

// Optimal string alignment distance, for "did you mean".
std::size_t distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min(
          {d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

std::string commands_text() {
  std::string s = "listing, -s";
  for (const auto& c : command_words) s += ", " + std::string(c.word);
  return s;
}

std::string not_a_filter(const std::string& w) {
  const auto quoted = [](std::string_view x) { return "'" + std::string(x) + "'"; };
  if (w.empty() || !std::all_of(w.begin(), w.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
      }))
    return {};
  for (std::string_view f : filter_words)
    if (f == w) return {};
  if (find_command(w))
    return quoted(w) + " is a command of its own, not a filter: one command at a time";
  std::string_view best;
  std::size_t best_d = 3;  // a suggestion at most two edits away
  bool command_like = false;
  auto consider = [&](std::string_view candidate, bool is_command) {
    if (const std::size_t d = distance(w, candidate); d < best_d) {
      best = candidate;
      best_d = d;
      command_like = is_command;
    }
  };
  for (const auto& c : command_words) consider(c.word, true);
  for (std::string_view f : filter_words) consider(f, false);
  if (!best.empty())
    return (command_like ? "unknown command " : "unknown filter word ") + quoted(w) +
           " (did you mean " + quoted(best) + "?)";
  return quoted(w) + " is neither a command (" + commands_text() +
         ") nor a filter (state, exclude, sport, dport, src, dst, not)";
}

}  // namespace table_detail

using namespace table_detail;

std::vector<std::string_view> long_options() {
  std::vector<std::string_view> out;
  for (const auto& t : table)
    if (!t.long_name.empty()) out.push_back(t.long_name);
  return out;
}

std::string_view command_name(command c) noexcept {
  static constexpr std::array<std::string_view, command_count> names = {
      "listing", "-s",     "top",     "counters", "check",  "exporter", "agent",
      "doctor",  "record", "history", "states",   "--help", "--version"};
  return names[static_cast<std::size_t>(c)];
}

int usage_exit(command c) noexcept {
  return c == command::check || c == command::doctor ? 3 : exit_usage;
}

}  // namespace ssfast::cli
