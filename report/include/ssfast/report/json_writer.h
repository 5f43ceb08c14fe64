// SPDX-License-Identifier: Apache-2.0
// The one JSON writer every ssfast document goes through: commas, escaping and UTF-8 handled.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "ssfast/core/export.h"
#include "ssfast/report/escape.h"

namespace ssfast {

/// A streaming JSON writer appending to a std::string: no DOM, no per-value allocation beyond
/// the output's growth. Keys and string values go through append_json_string.
class json_writer {
 public:
  explicit json_writer(std::string& out) : out_(out) {}

  json_writer& begin_object() { return open('{'); }
  json_writer& end_object() { return close('}'); }
  json_writer& begin_array() { return open('['); }
  json_writer& end_array() { return close(']'); }

  /// The key of the next member; the value call that follows writes no comma.
  json_writer& key(std::string_view k) {
    separate();
    append_json_string(out_, k);
    out_.push_back(':');
    after_key_ = true;
    return *this;
  }
  json_writer& value(std::string_view s) {
    separate();
    append_json_string(out_, s);
    return *this;
  }
  json_writer& value(const char* s) { return value(std::string_view{s}); }
  json_writer& value(bool b) {
    separate();
    out_ += b ? "true" : "false";
    return *this;
  }
  json_writer& value(std::uint64_t v) { return number(v); }
  json_writer& value(std::int64_t v) { return number(v); }
  /// Shortest round-trip form; NaN and infinities (not JSON) as null.
  json_writer& value(double v) {
    if (v != v || v - v != 0) return null();
    return number(v);
  }
  /// A number with a fixed count of decimals (rates people read: 12.50).
  json_writer& fixed(double v, int decimals) {
    if (v != v || v - v != 0) return null();
    separate();
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
    out_.append(buf, end);
    return *this;
  }
  json_writer& null() {
    separate();
    out_ += "null";
    return *this;
  }

 private:
  json_writer& open(char c) {
    separate();
    out_.push_back(c);
    first_ = true;
    return *this;
  }
  json_writer& close(char c) {
    out_.push_back(c);
    first_ = false;
    return *this;
  }
  void separate() {
    if (after_key_) {
      after_key_ = false;
    } else if (!first_) {
      out_.push_back(',');
    }
    first_ = false;
  }
  template <class T>
  json_writer& number(T v) {
    separate();
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, end);
    return *this;
  }

  std::string& out_;
  bool first_ = true;
  bool after_key_ = false;
};

}  // namespace ssfast
