#include <doctest/doctest.h>

#include "json/schema.hpp"
#include "json/test_schemas.hpp"

using anipipe::json::SchemaRegistry;
using anipipe::json::test::one;
using anipipe::json::test::project_schemas;

TEST_CASE("every topic of docs/design.md has a schema, with examples, and every example is valid") {
  const auto& reg = project_schemas();
  for (const char* topic :
       {"anilibria.upstream.events", "anilibria.sync_requests", "anilibria.titles", "anilibria.new_episode", "anilibria.sync_results",
        "anilibria.cache_invalidations", "anilibria.subscriptions", "anilibria.notifications", "notification_events", "anilibria.dlq"}) {
    CAPTURE(topic);
    REQUIRE(reg.has_topic(topic));
    auto examples = reg.examples(topic);
    CHECK_FALSE(examples.empty());
    for (const auto& ex : examples) {
      CAPTURE(ex);
      auto err = reg.validate(topic, ex);
      CHECK_MESSAGE(!err, (err ? err->to_string() : ""));
    }
    CHECK(reg.version(topic) >= 1);
  }
}

TEST_CASE("project schemas reject what they must") {
  const auto& reg = project_schemas();
  CHECK(reg.validate("anilibria.sync_requests", R"({"title_id":"9873","correlation_id":"x"})"));  // string id
  CHECK(reg.validate("anilibria.sync_requests", R"({"title_id":9873})"));                         // missing field
  CHECK(reg.validate("anilibria.sync_requests", R"({"title_id":0,"correlation_id":"x"})"));       // minimum
  CHECK(reg.validate("anilibria.sync_requests", R"({"title_id":1,"correlation_id":"x","priority":"urgent"})"));
  CHECK(reg.validate("anilibria.sync_requests", "not json"));
  CHECK(reg.validate("anilibria.titles", "{}"));
  CHECK(reg.validate("no.such.topic", "{}"));
}

TEST_CASE("errors name the instance path") {
  auto reg = one(R"({"type":"object","properties":{"a":{"type":"array","items":{"type":"integer"}}}})");
  auto err = reg.validate("t", R"({"a":[1,2,"x"]})");
  REQUIRE(err);
  CHECK(err->instance_path == "/a/2");
  CHECK_FALSE(reg.validate("t", R"({"a":[1,2,3.0]})"));
}

TEST_CASE("keywords") {
  auto reg = one(R"({
    "type":"object","required":["s"],"additionalProperties":false,
    "properties":{
      "s":{"type":"string","minLength":2,"maxLength":4,"pattern":"^[a-z]+$"},
      "n":{"type":["number","null"],"exclusiveMinimum":0,"maximum":10},
      "e":{"enum":["x","y"]},"c":{"const":3},
      "t":{"type":"string","format":"date-time"},
      "u":{"type":"string","format":"uuid"},
      "o":{"oneOf":[{"type":"integer"},{"type":"string"}]},
      "not":{"not":{"type":"null"}},
      "arr":{"type":"array","minItems":1,"maxItems":2},
      "r":{"$ref":"#/$defs/pos"}},
    "$defs":{"pos":{"type":"integer","minimum":1}}})");
  CHECK_FALSE(reg.validate("t", R"({"s":"ab"})"));
  CHECK(reg.validate("t", R"({"s":"a"})"));
  CHECK(reg.validate("t", R"({"s":"abcde"})"));
  CHECK(reg.validate("t", R"({"s":"AB"})"));
  CHECK(reg.validate("t", R"({"s":"ab","extra":1})"));
  CHECK_FALSE(reg.validate("t", R"({"s":"ab","n":null})"));
  CHECK(reg.validate("t", R"({"s":"ab","n":0})"));
  CHECK(reg.validate("t", R"({"s":"ab","n":10.5})"));
  CHECK(reg.validate("t", R"({"s":"ab","e":"z"})"));
  CHECK(reg.validate("t", R"({"s":"ab","c":4})"));
  CHECK_FALSE(reg.validate("t", R"({"s":"ab","t":"2025-01-16T10:00:00Z"})"));
  CHECK(reg.validate("t", R"({"s":"ab","t":"yesterday"})"));
  CHECK_FALSE(reg.validate("t", R"({"s":"ab","u":"6f1c2a9e-0b7d-4f43-9d59-1c0e8a2b7c11"})"));
  CHECK(reg.validate("t", R"({"s":"ab","u":"6f1c2a9e"})"));
  CHECK_FALSE(reg.validate("t", R"({"s":"ab","o":"x"})"));
  CHECK(reg.validate("t", R"({"s":"ab","o":1.5})"));
  CHECK(reg.validate("t", R"({"s":"ab","not":null})"));
  CHECK(reg.validate("t", R"({"s":"ab","arr":[]})"));
  CHECK(reg.validate("t", R"({"s":"ab","arr":[1,2,3]})"));
  CHECK(reg.validate("t", R"({"s":"ab","r":0})"));
  CHECK_FALSE(reg.validate("t", R"({"s":"ab","r":5})"));
}

TEST_CASE("a schema with an unsupported keyword or a dangling $ref is refused at load") {
  SchemaRegistry reg;
  CHECK_THROWS(reg.add("bad.schema.json", R"({"type":"object","patternProperties":{}})"));
  SchemaRegistry reg2;
  reg2.add("r.schema.json", R"({"$ref":"other.schema.json#/$defs/x"})");
  CHECK_THROWS(reg2.link());
}
