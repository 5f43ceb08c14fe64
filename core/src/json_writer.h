// A minimal streaming JSON writer over std::string: commas and escaping handled, no DOM.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace ssfast::detail {

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
    string_literal(k);
    out_.push_back(':');
    after_key_ = true;
    return *this;
  }
  json_writer& value(std::string_view s) {
    separate();
    string_literal(s);
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
  void string_literal(std::string_view s) {
    out_.push_back('"');
    for (char ch : s) {
      const auto c = static_cast<unsigned char>(ch);
      switch (c) {
        case '"':
          out_ += "\\\"";
          break;
        case '\\':
          out_ += "\\\\";
          break;
        case '\n':
          out_ += "\\n";
          break;
        case '\r':
          out_ += "\\r";
          break;
        case '\t':
          out_ += "\\t";
          break;
        default:
          if (c < 0x20) {
            static constexpr char hex[] = "0123456789abcdef";
            out_ += "\\u00";
            out_.push_back(hex[c >> 4]);
            out_.push_back(hex[c & 15]);
          } else {
            out_.push_back(ch);
          }
      }
    }
    out_.push_back('"');
  }

  std::string& out_;
  bool first_ = true;
  bool after_key_ = false;
};

}  // namespace ssfast::detail
