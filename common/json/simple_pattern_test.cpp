#include <doctest/doctest.h>

#include <random>
#include <regex>
#include <string>
#include <vector>

#include "json/simple_pattern.hpp"

using anipipe::json::SimplePattern;

TEST_CASE("simple patterns answer exactly as std::regex_search does") {
  const std::vector<std::string> patterns = {"^[0-9a-f]{32}$",
                                             "^[^:]+$",
                                             "^anilibria:",
                                             "anilibria:v2:title:98*",
                                             "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}$",
                                             "a",
                                             "^$",
                                             "^a?b+c*$",
                                             "[a-c]{2,3}",
                                             "^x{2,}y$",
                                             "^[-a]+$",
                                             "^[a-]+$",
                                             "b$",
                                             ":[^:]*:",
                                             "^[ab]*a[ab]{2}$"};
  // Strings over the bytes these patterns care about, plus some bytes of Cyrillic UTF-8.
  const std::string alphabet = "abcxy0189fF:-ani\xd0\xb0";
  std::vector<std::string> inputs = {"",
                                     "a",
                                     "anilibria:",
                                     "anilibria:v2:title:9",
                                     "anilibria:v2:title:988x",
                                     "xanilibria:v2:title:98",
                                     std::string(32, 'f'),
                                     std::string(31, 'f'),
                                     std::string(33, '0'),
                                     "0123456789abcdef0123456789ABCDEF",
                                     "0123456789abcdef0123456789abcdef",
                                     "deadbeef-0a1B",
                                     "deadbeef-0a1",
                                     "title:1",
                                     "сериал",
                                     "сер:иал",
                                     "abbbc",
                                     "ac",
                                     "xxy",
                                     "xy",
                                     "a:b:c",
                                     "aaab",
                                     "baaa"};
  std::mt19937 rng(42);
  for (int i = 0; i < 3000; ++i) {
    std::string s;
    for (auto n = rng() % 12; n > 0; --n) s.push_back(alphabet[rng() % alphabet.size()]);
    inputs.push_back(s);
  }
  for (const auto& p : patterns) {
    CAPTURE(p);
    const auto simple = SimplePattern::compile(p);
    REQUIRE(simple.has_value());
    const std::regex re(p, std::regex::ECMAScript);
    for (const auto& s : inputs) {
      CAPTURE(s);
      CHECK(simple->search(s) == std::regex_search(s.begin(), s.end(), re));
    }
  }
}

TEST_CASE("patterns beyond the simple shape are left to std::regex") {
  for (const char* p : {"^(a|b)$", "a.c", "\\d+", "[\\w]", "^a+?$", "a**", "[abc", "x{,3}", "x{3,1}", "a$b", "[]a]"}) {
    CAPTURE(p);
    CHECK_FALSE(SimplePattern::compile(p).has_value());
  }
}
