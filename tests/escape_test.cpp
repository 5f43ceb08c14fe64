// SPDX-License-Identifier: Apache-2.0
// The JSON writer and the text escaper on bytes others choose: quotes, backslashes, controls,
// and every class of ill-formed UTF-8 (RFC 3629), checked with a strict JSON parser.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "ssfast/report/json_writer.h"

namespace ssfast {
namespace {

std::string json_of(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

std::string printable(std::string_view s, bool quote = false) {
  std::string out;
  append_printable(out, s, quote);
  return out;
}

// Strict: nlohmann's parser rejects ill-formed UTF-8 and raw control characters.
std::string decoded(const std::string& json) {
  return nlohmann::json::parse(json).get<std::string>();
}

constexpr std::string_view fffd = "\xEF\xBF\xBD";

TEST(JsonString, EscapesWhatJsonRequires) {
  EXPECT_EQ(json_of("plain"), "\"plain\"");
  EXPECT_EQ(json_of("ev\"il"), R"("ev\"il")");
  EXPECT_EQ(json_of("a\\b"), R"("a\\b")");
  EXPECT_EQ(json_of("a\nb\rc\td"), R"("a\nb\rc\td")");
  EXPECT_EQ(json_of(std::string_view("\x00\x01\x1f\x7f", 4)), R"("\u0000\u0001\u001f\u007f")");
  EXPECT_EQ(json_of("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
            "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");  // é € 😀 kept as they are
}

TEST(JsonString, ReplacesEveryIllFormedByte) {
  struct {
    std::string_view in;
    std::size_t replaced;
  } cases[] = {
      {"\xFF", 1},              // never in UTF-8
      {"\xC0\x80", 2},          // overlong NUL
      {"\xC1\xBF", 2},          // overlong
      {"\xE0\x80\x80", 3},      // overlong 3-byte
      {"\xED\xA0\x80", 3},      // UTF-16 surrogate D800
      {"\xF0\x80\x80\x80", 4},  // overlong 4-byte
      {"\xF4\x90\x80\x80", 4},  // past U+10FFFF
      {"\xF5\x80\x80\x80", 4},  // lead byte past F4
      {"\x80", 1},              // lone continuation
      {"\xC3", 1},              // truncated at the end
      {"\xE2\x82", 2},          // truncated 3-byte
  };
  for (const auto& c : cases) {
    std::string want;
    for (std::size_t i = 0; i < c.replaced; ++i) want += fffd;
    EXPECT_EQ(decoded(json_of(c.in)), want) << ::testing::PrintToString(std::string(c.in));
  }
  // A truncated sequence does not swallow the character after it.
  EXPECT_EQ(decoded(json_of("\xC3(")), std::string(fffd) + "(");
  EXPECT_EQ(decoded(json_of("\xE2\x82x\"")), std::string(fffd) + std::string(fffd) + "x\"");
}

TEST(JsonString, RandomBytesAlwaysParse) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 20000; ++round) {
    std::string s(rng() % 24, '\0');
    for (char& ch : s) ch = static_cast<char>(rng() % 256);
    const std::string json = json_of(s);
    std::string back;
    ASSERT_NO_THROW(back = decoded(json)) << json;
    // Well-formed input comes back unchanged.
    bool well_formed = true;
    for (std::size_t i = 0; i < s.size();) {
      const std::size_t n = utf8_sequence_length(std::string_view(s).substr(i));
      if (n == 0) {
        well_formed = false;
        break;
      }
      i += n;
    }
    if (well_formed) {
      EXPECT_EQ(back, s);
    }
  }
}

TEST(JsonWriter, KeysAreEscapedToo) {
  std::string out;
  json_writer w(out);
  w.begin_object().key("1/ev\"il\n").value(std::uint64_t{3}).key("r").fixed(1.005, 2);
  w.end_object();
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j.at("1/ev\"il\n").get<int>(), 3);
  EXPECT_EQ(out.substr(out.find("\"r\":")), "\"r\":1.00}");  // printf's %.2f of 1.005 too
}

TEST(Printable, KeepsTextAndEscapesTheRest) {
  EXPECT_EQ(printable("nginx"), "nginx");
  EXPECT_EQ(printable("/run/x.sock"), "/run/x.sock");
  EXPECT_EQ(printable("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(printable("a\\b"), R"(a\\b)");
  EXPECT_EQ(printable("a\nFORGED 1"), R"(a\x0aFORGED 1)");
  EXPECT_EQ(printable("\x1b[2J\x7f"), R"(\x1b[2J\x7f)");
  EXPECT_EQ(printable("\xC2\x9B"
                      "31m"),
            R"(\xc2\x9b31m)");                   // C1 CSI
  EXPECT_EQ(printable("\xC2\xA0"), "\xC2\xA0");  // U+00A0 is printable
  EXPECT_EQ(printable("a\xE2\x80\xA8"
                      "b\xE2\x80\xA9"),
            R"(a\xe2\x80\xa8b\xe2\x80\xa9)");
  EXPECT_EQ(printable("\xFF\xC3("), R"(\xff\xc3()");
  EXPECT_EQ(printable("say \"hi\""), "say \"hi\"");
  EXPECT_EQ(printable("say \"hi\"", true), R"(say \"hi\")");
  EXPECT_EQ(printable(std::string_view("\0ab", 3)), R"(\x00ab)");
}

// One field of a line split on whitespace (top --watch on a pipe): nothing but 0x21-0x7E
// survives, and a backslash is escaped too, so `\xNN` always means one byte.
TEST(Token, CannotForgeAField) {
  auto token = [](std::string_view s) {
    std::string out;
    append_token(out, s);
    return out;
  };
  EXPECT_EQ(token("8812/nginx"), "8812/nginx");
  EXPECT_EQ(token("42/sp ace 99:fake"), R"(42/sp\x20ace\x2099:fake)");
  EXPECT_EQ(token("a\\x20\t\n"), R"(a\x5cx20\x09\x0a)");
  EXPECT_EQ(token("caf\xC3\xA9\x7f"), R"(caf\xc3\xa9\x7f)");
  EXPECT_EQ(token(std::string_view("\0", 1)), R"(\x00)");
  std::mt19937 rng(7);
  for (int round = 0; round < 1000; ++round) {
    std::string s(rng() % 24, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    for (const char c : token(s)) {
      ASSERT_GT(static_cast<unsigned char>(c), 0x20);
      ASSERT_LT(static_cast<unsigned char>(c), 0x7F);
    }
  }
}

TEST(Printable, RandomBytesNeverYieldAControlByte) {
  std::mt19937 rng(678);
  for (int round = 0; round < 20000; ++round) {
    std::string s(rng() % 24, '\0');
    for (char& ch : s) ch = static_cast<char>(rng() % 256);
    const std::string p = printable(s, true);
    for (std::size_t i = 0; i < p.size();) {
      const auto c = static_cast<unsigned char>(p[i]);
      ASSERT_TRUE(c >= 0x20 && c != 0x7F) << p;
      const std::size_t n = utf8_sequence_length(std::string_view(p).substr(i));
      ASSERT_GT(n, 0u) << "ill-formed UTF-8 in " << p;
      ASSERT_FALSE(n == 2 && c == 0xC2 && static_cast<unsigned char>(p[i + 1]) < 0xA0) << p;
      ASSERT_FALSE(n == 3 && c == 0xE2 && static_cast<unsigned char>(p[i + 1]) == 0x80 &&
                   (static_cast<unsigned char>(p[i + 2]) & 0xFE) == 0xA8)
          << p;
      i += n;
    }
  }
}

}  // namespace
}  // namespace ssfast
