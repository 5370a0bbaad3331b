#include <doctest/doctest.h>

#include <simdjson.h>

#include <cstdio>

#include "json/json_writer.hpp"

using anipipe::json::Writer;

TEST_CASE("writer produces balanced compact JSON with commas tracked") {
  std::string out;
  Writer w(out);
  w.begin_object()
      .field("a", 1)
      .field("b", "x")
      .key("c")
      .begin_array()
      .value(true)
      .null()
      .value(2.5)
      .end_array()
      .field("d", std::optional<std::string>{})
      .end_object();
  CHECK(out == R"({"a":1,"b":"x","c":[true,null,2.5],"d":null})");
}

TEST_CASE("strings are escaped so the result parses back to the same text") {
  const std::string tricky = "q\"b\\s/\n\t\x01 \xd0\x90\xd0\xbd\xd0\xb8\xd0\xbc\xd0\xb5";
  std::string out;
  Writer(out).begin_object().field("k", tricky).end_object();
  simdjson::dom::parser parser;
  auto doc = parser.parse(out);
  REQUIRE(doc.error() == simdjson::SUCCESS);
  std::string_view back;
  REQUIRE(doc["k"].get(back) == simdjson::SUCCESS);
  CHECK(back == tricky);
  CHECK(out.find("\\u0001") != std::string::npos);
}

namespace {
// The byte-at-a-time escaper the writer's word-at-a-time one must agree with: bytes that begin
// no UTF-8 sequence become U+FFFD first (valid sequences are prefix-free: the shortest valid one wins).
std::string quoted_slowly(std::string_view raw) {
  std::string s;
  for (std::size_t i = 0; i < raw.size();) {
    std::size_t len = 1;
    while (len <= 4 && !(i + len <= raw.size() && anipipe::json::is_valid_utf8(raw.substr(i, len)))) ++len;
    if (len > 4) {
      s += "\xEF\xBF\xBD";
      ++i;
    } else {
      s.append(raw.substr(i, len));
      i += len;
    }
  }
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"') out += "\\\"";
    else if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c == '\b') out += "\\b";
    else if (c == '\f') out += "\\f";
    else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else out.push_back(ch);
  }
  return out + "\"";
}
}  // namespace

TEST_CASE("every byte that needs escaping is escaped wherever it sits in the 8-byte words the writer skips") {
  // Each special byte at each position of strings of every length up to 40, among bytes that
  // need none (ASCII, bytes of Cyrillic UTF-8, 0x7f, 0xff, just above and below the specials).
  const std::string filler = "ab\xd0\x90\x7f~ 9\xff!#[]";
  for (const char special : {'"', '\\', '\n', '\x01', '\x1f', '\0', '\b', '\f', '\r', '\t'}) {
    for (std::size_t len = 1; len <= 40; ++len) {
      for (std::size_t at = 0; at < len; ++at) {
        std::string text;
        for (std::size_t i = 0; i < len; ++i) text.push_back(i == at ? special : filler[i % filler.size()]);
        if (at + 3 < len) text[at + 3] = special;  // and a second one in the same or the next word
        std::string out;
        Writer(out).value(text);
        CHECK(out == quoted_slowly(text));
      }
    }
  }
}

TEST_CASE("integers keep full 64-bit range - non-finite doubles become null") {
  std::string out;
  Writer(out)
      .begin_array()
      .value(std::int64_t{-9223372036854775807LL - 1})
      .value(std::uint64_t{18446744073709551615ULL})
      .value(std::numeric_limits<double>::infinity())
      .end_array();
  CHECK(out == "[-9223372036854775808,18446744073709551615,null]");
}

TEST_CASE("large doubles are written so that 64-bit parsers read them back (found by the fuzzer)") {
  std::string out;
  Writer(out).begin_array().value(213548027643871133696.0).value(12.5).value(1e14).end_array();
  CHECK(out == "[2.1354802764387113e+20,12.5,1e+14]");
  simdjson::dom::parser parser;
  CHECK(parser.parse(out).error() == simdjson::SUCCESS);
}

TEST_CASE("raw inserts pre-serialized JSON as one element") {
  std::string out;
  Writer(out).begin_array().raw(R"({"x":1})").value(2).end_array();
  CHECK(out == R"([{"x":1},2])");
}

TEST_CASE("utf-8 validation") {
  CHECK(anipipe::json::is_valid_utf8("plain"));
  CHECK(anipipe::json::is_valid_utf8("\xd0\x90\xe2\x82\xac\xf0\x9f\x98\x80"));
  CHECK_FALSE(anipipe::json::is_valid_utf8("\xff"));
  CHECK_FALSE(anipipe::json::is_valid_utf8("\xd0"));          // truncated
  CHECK_FALSE(anipipe::json::is_valid_utf8("\xc0\xaf"));      // overlong
  CHECK_FALSE(anipipe::json::is_valid_utf8("\xed\xa0\x80"));  // surrogate
}

TEST_CASE("a string that is not UTF-8 is written with U+FFFD for each stray byte, never passed through") {
  std::string out;
  Writer(out).begin_object().field("detail", std::string_view("unknown parameter \xff\xfe key")).field("ok", "Ёжик \xd0").end_object();
  CHECK(out == "{\"detail\":\"unknown parameter \xEF\xBF\xBD\xEF\xBF\xBD key\",\"ok\":\"\xd0\x81\xd0\xb6\xd0\xb8\xd0\xba \xEF\xBF\xBD\"}");
  CHECK(anipipe::json::is_valid_utf8(out));
  // Keys too; overlong forms and surrogates are not UTF-8 either; escapes still apply after a repair.
  std::string k;
  Writer(k).begin_object().field(std::string_view("k\xc0\xaf"), std::string_view("\xed\xa0\x80\"\n")).end_object();
  CHECK(anipipe::json::is_valid_utf8(k));
  CHECK(k == "{\"k\xEF\xBF\xBD\xEF\xBF\xBD\":\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\\\"\\n\"}");
}
