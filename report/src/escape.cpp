// SPDX-License-Identifier: Apache-2.0
// Escaping of text others control (process names, socket paths) for JSON and for text lines.
#include "ssfast/report/escape.h"

#include <string>
#include <string_view>

namespace ssfast {
namespace {

constexpr char hex_digits[] = "0123456789abcdef";

void append_hex_byte(std::string& out, const char* prefix, unsigned char c) {
  out += prefix;
  out.push_back(hex_digits[c >> 4]);
  out.push_back(hex_digits[c & 15]);
}

}  // namespace

std::size_t utf8_sequence_length(std::string_view s) noexcept {
  if (s.empty()) return 0;
  const auto b0 = static_cast<unsigned char>(s[0]);
  if (b0 < 0x80) return 1;
  // RFC 3629 section 4: the second byte's range depends on the first, which excludes
  // overlong forms (C0, C1, E0 80-9F, F0 80-8F), surrogates (ED A0-BF) and code points past
  // U+10FFFF (F4 90-BF, F5-FF).
  std::size_t n;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (s.size() < n) return 0;
  const auto b1 = static_cast<unsigned char>(s[1]);
  if (b1 < lo || b1 > hi) return 0;
  for (std::size_t i = 2; i < n; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80 || b > 0xBF) return 0;
  }
  return n;
}

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  std::size_t i = 0;
  while (i < s.size()) {
    // The common case, a run of printable ASCII with nothing to escape, is copied whole.
    std::size_t j = i;
    while (j < s.size()) {
      const auto c = static_cast<unsigned char>(s[j]);
      if (c < 0x20 || c >= 0x7F || c == '"' || c == '\\') break;
      ++j;
    }
    out.append(s.data() + i, j - i);
    if (j == s.size()) break;
    i = j;
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x80) {  // the other C0 controls and DEL
          append_hex_byte(out, "\\u00", c);
        } else if (const std::size_t n = utf8_sequence_length(s.substr(i)); n > 0) {
          out.append(s.data() + i, n);
          i += n;
          continue;
        } else {
          out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER, one per stray byte
        }
    }
    ++i;
  }
  out.push_back('"');
}

void append_token(std::string& out, std::string_view s) {
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c > 0x20 && c < 0x7F && c != '\\')
      out.push_back(ch);
    else
      append_hex_byte(out, "\\x", c);
  }
}

void append_printable(std::string& out, std::string_view s, bool quote) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F) {
      if (c == '\\' || (quote && c == '"')) out.push_back('\\');
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    const std::size_t n = c < 0x80 ? 0 : utf8_sequence_length(s.substr(i));
    // U+0080-U+009F (C2 80-C2 9F) are the C1 controls: CSI (U+009B) starts a terminal escape.
    // U+2028 and U+2029 (E2 80 A8-A9) are line and paragraph separators.
    const auto b1 = n > 1 ? static_cast<unsigned char>(s[i + 1]) : 0;
    const bool c1 = n == 2 && c == 0xC2 && b1 < 0xA0;
    const bool separator =
        n == 3 && c == 0xE2 && b1 == 0x80 && (static_cast<unsigned char>(s[i + 2]) & 0xFE) == 0xA8;
    if (n > 0 && !c1 && !separator) {
      out.append(s.data() + i, n);
      i += n;
      continue;
    }
    const std::size_t bytes = n > 0 ? n : 1;
    for (std::size_t k = 0; k < bytes; ++k)
      append_hex_byte(out, "\\x", static_cast<unsigned char>(s[i + k]));
    i += bytes;
  }
}

}  // namespace ssfast
