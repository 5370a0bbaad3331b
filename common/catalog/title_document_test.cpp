#include <doctest/doctest.h>

#include "catalog/title_document.hpp"
#include "json/schema.hpp"

using anipipe::catalog::TitleDocument;

namespace {
const anipipe::json::SchemaRegistry& schemas() {
  static const auto reg = anipipe::json::SchemaRegistry::load_directory(anipipe::json::default_schema_dir());
  return reg;
}
std::string doc(const std::string& episodes, const std::string& description = "d") {
  return R"({"id":9873,"alias":"a","names":{"ru":"А","en":null,"alternative":null},"type":"TV","year":2025,"season":"winter",)"
         R"("status":"ongoing","genres":["Драма"],"description":")" + description + R"(","poster":null,"episodes_total":null,)"
         R"("episodes":[)" + episodes + R"(],"fresh_at":null,"updated_at":null,"source":"v1"})";
}
const std::string ep1 = R"({"id":"e1","ordinal":1,"name":null,"duration":null,"hls":{"480":null,"720":null,"1080":null},"updated_at":null})";
const std::string ep2 = R"({"id":"e2","ordinal":2,"name":"Two","duration":1400,"hls":{"480":"u","720":null,"1080":null},"updated_at":null})";
}  // namespace

TEST_CASE("every schema example round-trips through the model to valid, canonical JSON") {
  for (const auto& ex : schemas().examples("anilibria.titles")) {
    CAPTURE(ex);
    auto t = TitleDocument::parse(ex);
    const auto json = t.to_json();
    auto err = schemas().validate("anilibria.titles", json);
    CHECK_MESSAGE(!err, (err ? err->to_string() : ""));
    CHECK(TitleDocument::parse(json).to_json() == json);  // canonical: a fixed point
  }
}

TEST_CASE("canonical: episode order does not matter, content does") {
  auto a = TitleDocument::parse(doc(ep1 + "," + ep2)).to_json();
  auto b = TitleDocument::parse(doc(ep2 + "," + ep1)).to_json();
  CHECK(a == b);
  CHECK(a != TitleDocument::parse(doc(ep1 + "," + ep2, "other")).to_json());
  CHECK(a == doc(ep1 + "," + ep2));
}

TEST_CASE("merge keeps known episodes, takes incoming fields, and reports only new episode ids") {
  auto known = TitleDocument::parse(doc(ep1));
  auto incoming = TitleDocument::parse(doc(ep2, "changed"));  // a releases/latest snapshot: latest episode only
  auto merged = anipipe::catalog::merge(known, incoming);
  REQUIRE(merged.episodes.size() == 2);
  CHECK(merged.episodes[0].id == "e1");
  CHECK(merged.description == std::optional<std::string>("changed"));
  auto fresh = anipipe::catalog::new_episodes(&known, merged);
  REQUIRE(fresh.size() == 1);
  CHECK(fresh[0]->id == "e2");
  CHECK(anipipe::catalog::new_episodes(nullptr, merged).size() == 2);
  CHECK(anipipe::catalog::new_episodes(&merged, anipipe::catalog::merge(merged, incoming)).empty());
  CHECK(anipipe::catalog::merge(merged, incoming) == merged);  // the same observation again: unchanged
}

TEST_CASE("bad documents are refused with a reason") {
  CHECK_THROWS_WITH(TitleDocument::parse("nope"), doctest::Contains("not JSON"));
  CHECK_THROWS_WITH(TitleDocument::parse(R"({"id":0})"), doctest::Contains("id"));
  CHECK_THROWS_WITH(TitleDocument::parse(R"({"id":1,"episodes":[{"ordinal":1}]})"), doctest::Contains("episode"));
}

TEST_CASE("parse_title_id: positive decimal integers only") {
  using anipipe::catalog::parse_title_id;
  CHECK(parse_title_id("9873") == 9873);
  CHECK_FALSE(parse_title_id(""));
  CHECK_FALSE(parse_title_id("0"));
  CHECK_FALSE(parse_title_id("-5"));
  CHECK_FALSE(parse_title_id("12abc"));
  CHECK_FALSE(parse_title_id("99999999999999999999"));
}
