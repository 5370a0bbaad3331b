#include <doctest/doctest.h>
#include <simdjson.h>

#include "json/json_writer.hpp"
#include "json/schema.hpp"
#include "json/schema_check.hpp"
#include "json/test_schemas.hpp"

using anipipe::json::SchemaCheck;
using anipipe::json::SchemaRegistry;
using anipipe::json::test::one;
using anipipe::json::test::project_schemas;
using anipipe::json::ValidationError;
using anipipe::json::Writer;

namespace {

/// Writes a parsed document through a Writer, as a producer would write it.
void write(Writer& w, simdjson::dom::element e) {
  using T = simdjson::dom::element_type;
  switch (e.type()) {
    case T::OBJECT:
      w.begin_object();
      for (auto field : simdjson::dom::object(e)) {
        w.key(field.key);
        write(w, field.value);
      }
      w.end_object();
      break;
    case T::ARRAY:
      w.begin_array();
      for (auto item : simdjson::dom::array(e)) write(w, item);
      w.end_array();
      break;
    case T::STRING: w.value(std::string_view(e)); break;
    case T::INT64: w.value(std::int64_t(e)); break;
    case T::UINT64: w.value(std::uint64_t(e)); break;
    case T::DOUBLE: w.value(double(e)); break;
    case T::BOOL: w.value(bool(e)); break;
    case T::NULL_VALUE: w.null(); break;
  }
}

/// The check's verdict on text written through it; also requires that it agrees with validating
/// the text (valid or not, and where), and that it followed the writer (no fallback).
std::optional<ValidationError> checked(const SchemaRegistry& reg, std::string_view topic, const std::string& text) {
  CAPTURE(text);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE_FALSE(parser.parse(text).get(doc));
  SchemaCheck check(reg, topic);
  REQUIRE(check.follows_writer());
  check.reset();
  std::string out;
  Writer w(out, &check);
  write(w, doc);
  auto streamed = check.result(out);
  const auto full = reg.validate(topic, text);
  CHECK_MESSAGE(streamed.has_value() == full.has_value(),
                "streamed: " << (streamed ? streamed->to_string() : "valid") << "; full: " << (full ? full->to_string() : "valid"));
  if (streamed && full) CHECK(streamed->instance_path == full->instance_path);
  return streamed;
}

}  // namespace

TEST_CASE("every example of every project schema that can be followed is valid, written through the check") {
  const auto& reg = project_schemas();
  int followed = 0;
  for (const auto& topic : reg.topics()) {
    CAPTURE(topic);
    if (!SchemaCheck(reg, topic).follows_writer()) continue;
    ++followed;
    for (const auto& ex : reg.examples(topic)) CHECK_FALSE(checked(reg, topic, ex));
  }
  CHECK(SchemaCheck(reg, "anilibria.upstream.events").follows_writer());
  CHECK(SchemaCheck(reg, "anilibria.titles").follows_writer());
  CHECK(followed >= 2);
}

TEST_CASE("upstream events that break the contract are refused at the place the full validation names") {
  const auto& reg = project_schemas();
  const std::string ok = R"({"event_id":"0f1e2d3c4b5a69788796a5b4c3d2e1f0","observed_at":"2025-01-16T08:20:00Z","source":{"api":"v1"},)"
                         R"("kind":"episode_published","title_id":9873,"episode":{"id":"x","ordinal":2,"name":null}})";
  CHECK_FALSE(checked(reg, "anilibria.upstream.events", ok));
  auto bad = [&](const std::string& from, const std::string& to, std::string_view path) {
    std::string text = ok;
    const auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
    auto err = checked(reg, "anilibria.upstream.events", text);
    REQUIRE(err);
    CHECK(err->instance_path == path);
  };
  bad(R"("kind":"episode_published")", R"("kind":"episode_lost")", "/kind");
  bad(R"("title_id":9873)", R"("title_id":0)", "/title_id");
  bad(R"("title_id":9873)", R"("title_id":98.5)", "/title_id");
  bad(R"("title_id":9873,)", "", "");  // missing, at the root
  bad(R"("api":"v1")", R"("api":"v9")", "/source/api");
  bad(R"("api":"v1")", R"("api":"v1","extra":1)", "/source/extra");
  bad(R"("observed_at":"2025-01-16T08:20:00Z")", R"("observed_at":"yesterday")", "/observed_at");
  bad(R"("event_id":"0f1e2d3c4b5a69788796a5b4c3d2e1f0")", R"("event_id":"0F1E")", "/event_id");
  bad(R"("ordinal":2)", R"("ordinal":-1)", "/episode/ordinal");
  bad(R"("ordinal":2,)", "", "/episode");
  bad(R"("name":null)", R"("name":7)", "/episode/name");
  bad(R"("episode":{)", R"("torrent":{"id":1.5},"episode":{)", "/torrent/id");
  bad(R"("episode":{)", R"("title":{"id":1},"episode":{)", "/title");  // the required ones of a title
  bad(R"("episode":{)",
      R"("title":{"id":1,"alias":"a","names":{"ru":"r"},"type":null,"year":null,"season":null,"status":"later",)"
      R"("genres":[],"episodes":[],"updated_at":null,"source":"v1"},"episode":{)",
      "/title/status");
  bad(R"("episode":{)",
      R"("title":{"id":1,"alias":"a","names":{"ru":"r"},"type":null,"year":null,"season":null,"status":"ongoing",)"
      R"("genres":[1],"episodes":[],"updated_at":null,"source":"v1"},"episode":{)",
      "/title/genres/0");
}

TEST_CASE("each keyword, followed as it is written, agrees with the full validation") {
  auto reg = one(R"({
    "type":"object","required":["s"],"additionalProperties":false,
    "properties":{
      "s":{"type":"string","minLength":2,"maxLength":4,"pattern":"^[a-z]+$"},
      "n":{"type":["number","null"],"exclusiveMinimum":0,"maximum":10},
      "i":{"type":"integer","minimum":-3,"exclusiveMaximum":3},
      "e":{"enum":["x","y",null,2]},"c":{"const":3},"cs":{"const":"k"},
      "t":{"type":"string","format":"date-time"},
      "u":{"type":"string","format":"uuid"},
      "b":{"type":"boolean"},
      "arr":{"type":"array","minItems":1,"maxItems":2,"items":{"type":"object","required":["k"],"properties":{"k":{}}}},
      "open":{"type":"object"},
      "r":{"$ref":"#/$defs/pos"},
      "never":false},
    "$defs":{"pos":{"type":"integer","minimum":1}}})");
  const std::pair<const char*, bool> cases[] = {
      {R"({"s":"ab"})", true},
      {R"({"s":"a"})", false},
      {R"({"s":"abcde"})", false},
      {R"({"s":"AB"})", false},
      {R"({"s":"ab","extra":1})", false},
      {R"({})", false},
      {R"({"s":"ab","n":null})", true},
      {R"({"s":"ab","n":0})", false},
      {R"({"s":"ab","n":10.5})", false},
      {R"({"s":"ab","n":"1"})", false},
      {R"({"s":"ab","i":2})", true},
      {R"({"s":"ab","i":3})", false},
      {R"({"s":"ab","i":2.5})", false},
      {R"({"s":"ab","i":-3})", true},
      {R"({"s":"ab","e":"z"})", false},
      {R"({"s":"ab","e":null})", true},
      {R"({"s":"ab","e":2})", true},
      {R"({"s":"ab","e":2.5})", false},
      {R"({"s":"ab","e":"y"})", true},
      {R"({"s":"ab","c":4})", false},
      {R"({"s":"ab","c":3})", true},
      {R"({"s":"ab","cs":"k"})", true},
      {R"({"s":"ab","cs":"j"})", false},
      {R"({"s":"ab","cs":3})", false},
      {R"({"s":"ab","t":"2025-01-16T10:00:00Z"})", true},
      {R"({"s":"ab","t":"yesterday"})", false},
      {R"({"s":"ab","u":"6f1c2a9e-0b7d-4f43-9d59-1c0e8a2b7c11"})", true},
      {R"({"s":"ab","u":"6f1c2a9e"})", false},
      {R"({"s":"ab","b":true})", true},
      {R"({"s":"ab","b":0})", false},
      {R"({"s":"ab","arr":[]})", false},
      {R"({"s":"ab","arr":[{"k":1}]})", true},
      {R"({"s":"ab","arr":[{"k":1},{"k":[2,{"deep":[]}]},{"k":3}]})", false},
      {R"({"s":"ab","arr":[{"k":1},{}]})", false},
      {R"({"s":"ab","arr":[{"k":1},5]})", false},
      {R"({"s":"ab","open":{"any":[1,{"x":null}]}})", true},
      {R"({"s":"ab","open":[]})", false},
      {R"({"s":"ab","r":0})", false},
      {R"({"s":"ab","r":5})", true},
      {R"({"s":"ab","never":null})", false},
      {R"({"s":"ab","r":5,"s":"abc"})", true},
  };
  for (const auto& c : cases) {
    const char* text = c.first;
    CAPTURE(text);
    CHECK(!checked(reg, "t", text) == c.second);
  }
}

TEST_CASE("a schema the check cannot follow, or raw JSON, is validated from the written text") {
  auto reg = one(R"({"type":"object","properties":{"o":{"oneOf":[{"type":"integer"},{"type":"string"}]}}})");
  SchemaCheck check(reg, "t");
  CHECK_FALSE(check.follows_writer());
  for (auto [text, valid] : {std::pair{R"({"o":1})", true}, {R"({"o":1.5})", false}}) {
    check.reset();
    std::string out;
    Writer w(out, &check);
    simdjson::dom::parser parser;
    write(w, parser.parse(std::string(text)).value());
    CHECK(!check.result(out) == valid);
  }

  auto plain = one(R"({"type":"object","properties":{"n":{"type":"integer"}}})");
  SchemaCheck raw(plain, "t");
  REQUIRE(raw.follows_writer());
  std::string out;
  Writer w(out, &raw);
  w.begin_object().key("n").raw("\"not a number\"").end_object();
  CHECK(raw.result(out));  // the text is validated: the raw string is seen
  CHECK_THROWS_AS(SchemaCheck(plain, "no.such.topic"), std::invalid_argument);
}
