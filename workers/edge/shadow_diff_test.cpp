#include "shadow_diff.hpp"

#include <doctest/doctest.h>

using namespace anipipe::edge;
using namespace std::chrono_literals;

namespace {
std::vector<std::string> fields(const Comparison& c) {
  std::vector<std::string> out;
  for (const auto& d : c.differences) out.push_back(d.field);
  return out;
}
using Fields = std::vector<std::string>;
}  // namespace

TEST_CASE("equal bodies, whatever the key order and number spelling") {
  CHECK(fields(compare_json(R"({"a":1,"b":[1,2],"c":{"d":null}})", R"({"c":{"d":null},"b":[1,2],"a":1.0})", {})).empty());
}

TEST_CASE("a changed value, a missing field and an extra one, by normalized path") {
  const auto c = compare_json(R"({"data":{"id":7,"names":{"ru":"A"},"episodes":[{"n":1},{"n":2}]}})",
                              R"({"data":{"id":7,"names":{"ru":"B"},"episodes":[{"n":1},{"n":3}],"extra":true}})", {});
  CHECK(fields(c) == Fields{"data.names.ru", "data.episodes[].n", "data.extra"});
  CHECK(c.differences[0].edge == R"("A")");
  CHECK(c.differences[0].legacy == R"("B")");
  CHECK(c.differences[2].edge == "(absent)");
}

TEST_CASE("ignored fields may differ or be on one side only") {
  DiffRules rules;
  rules.ignore = {"data.extra", "data[].cache"};
  CHECK(fields(compare_json(R"({"data":[{"id":1,"cache":"x"}]})", R"({"data":[{"id":1,"cache":"y"}],"data2":1})", rules)) ==
        Fields{"data2"});
  CHECK(fields(compare_json(R"({"data":{"id":1}})", R"({"data":{"id":1,"extra":[1]}})", rules)).empty());
}

TEST_CASE("unordered lists are multisets: order is free, the elements are not") {
  DiffRules rules;
  rules.unordered = {"data.genres", "data.episodes"};
  CHECK(fields(compare_json(R"({"data":{"genres":["a","b","b"]}})", R"({"data":{"genres":["b","a","b"]}})", rules)).empty());
  CHECK(fields(compare_json(R"({"data":{"genres":["a","b","b"]}})", R"({"data":{"genres":["a","a","b"]}})", rules)) ==
        Fields{"data.genres"});
  CHECK(fields(compare_json(R"({"data":{"genres":["a"]}})", R"({"data":{"genres":["a","b"]}})", rules)) == Fields{"data.genres"});
  CHECK(fields(compare_json(R"({"data":{"genres":["a","b"]}})", R"({"data":{"genres":["b","a"]}})", {})) == Fields{"data.genres[]"});
  // Elements matched under the same rules: an ignored field inside does not spoil a match.
  rules.ignore = {"data.episodes[].seen"};
  CHECK(fields(compare_json(R"({"data":{"episodes":[{"n":1,"seen":1},{"n":2}]}})", R"({"data":{"episodes":[{"n":2},{"n":1,"seen":2}]}})",
                            rules))
            .empty());
}

TEST_CASE("timestamps: ISO-8601 strings within the tolerance, listed numeric fields as seconds or milliseconds") {
  DiffRules rules;
  rules.tolerance = 2000ms;
  rules.timestamps = {"updated"};
  CHECK(fields(compare_json(R"({"at":"2025-01-02T08:00:00Z"})", R"({"at":"2025-01-02T08:00:01.500Z"})", rules)).empty());
  CHECK(fields(compare_json(R"({"at":"2025-01-02T08:00:00Z"})", R"({"at":"2025-01-02T11:00:01+03:00"})", rules)).empty());
  CHECK(fields(compare_json(R"({"at":"2025-01-02T08:00:00Z"})", R"({"at":"2025-01-02T08:00:03Z"})", rules)) == Fields{"at"});
  CHECK(fields(compare_json(R"({"x":{"updated":1700000000}})", R"({"x":{"updated":1700000001}})", rules)).empty());
  CHECK(fields(compare_json(R"({"x":{"updated":1700000000}})", R"({"x":{"updated":1700000000500}})", rules)).empty());
  CHECK(fields(compare_json(R"({"x":{"count":1700000000}})", R"({"x":{"count":1700000001}})", rules)) == Fields{"x.count"});
}

TEST_CASE("ISO-8601 parsing") {
  CHECK(parse_iso8601_ms("1970-01-01T00:00:00Z") == 0);
  CHECK(parse_iso8601_ms("1970-01-01T00:00:01.25Z") == 1250);
  CHECK(parse_iso8601_ms("2025-01-02T08:00:00+01:00") == parse_iso8601_ms("2025-01-02T07:00:00Z"));
  CHECK_FALSE(parse_iso8601_ms("2025-01-02"));
  CHECK_FALSE(parse_iso8601_ms("2025-01-02T08:00:00 garbage"));
  CHECK_FALSE(parse_iso8601_ms("Title 2025-01-02T08:00:00"));
}

TEST_CASE("a body that is not JSON is an error, and differences are bounded") {
  CHECK(compare_json("{", "{}", {}).error == "the edge's body is not JSON");
  CHECK(compare_json("{}", "<html>", {}).error == "the legacy body is not JSON");
  std::string a = "{", b = "{";
  for (int i = 0; i < 50; ++i) {
    a += (i ? "," : "") + std::string("\"k") + std::to_string(i) + "\":1";
    b += (i ? "," : "") + std::string("\"k") + std::to_string(i) + "\":2";
  }
  CHECK(compare_json(a + "}", b + "}", {}, 5).differences.size() == 5);
}
