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
         R"("status":"ongoing","genres":["Драма"],"description":")" +
         description +
         R"(","poster":null,"episodes_total":null,)"
         R"("episodes":[)" +
         episodes + R"(],"fresh_at":null,"updated_at":null,"source":"v1"})";
}
const std::string ep1 =
    R"({"id":"e1","ordinal":1,"name":null,"duration":null,"hls":{"480":null,"720":null,"1080":null},"updated_at":null})";
const std::string ep2 =
    R"({"id":"e2","ordinal":2,"name":"Two","duration":1400,"hls":{"480":"u","720":null,"1080":null},"updated_at":null})";
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

TEST_CASE("merge keeps known episodes, takes incoming fields, and reports only new episodes") {
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

TEST_CASE("an episode is one per ordinal: a re-upload under a new id replaces it and is not new") {
  using anipipe::catalog::merge, anipipe::catalog::new_episodes;
  auto known = TitleDocument::parse(doc(ep1 + "," + ep2));
  const std::string reupload = R"j({"id":"e2-again","ordinal":2,"name":"Two (fixed audio)","updated_at":"2025-01-17T10:00:00+00:00"})j";
  auto merged = merge(known, TitleDocument::parse(doc(reupload)));
  REQUIRE(merged.episodes.size() == 2);
  CHECK(merged.episodes[1].id == "e2-again");
  CHECK(merged.episodes[1].name == std::optional<std::string>("Two (fixed audio)"));
  CHECK(new_episodes(&known, merged).empty());
  CHECK_FALSE(merged == known);  // a change all the same: the catalog and the caches take it
  // Fractional ordinals are episodes of their own.
  auto half = merge(merged, TitleDocument::parse(doc(R"({"id":"e2.5","ordinal":2.5})")));
  REQUIRE(new_episodes(&merged, half).size() == 1);
  CHECK(new_episodes(&merged, half)[0]->ordinal == 2.5);
}

TEST_CASE("two uploads of one ordinal in a single document: the newer one stands") {
  const std::string older = R"({"id":"z-old","ordinal":3,"updated_at":"2025-01-16T10:00:00+00:00"})";
  const std::string newer = R"({"id":"a-new","ordinal":3,"updated_at":"2025-01-17T10:00:00+00:00"})";
  for (const auto& eps : {older + "," + newer, newer + "," + older}) {
    auto merged = anipipe::catalog::merge(TitleDocument::parse(doc(ep1)), TitleDocument::parse(doc(eps)));
    REQUIRE(merged.episodes.size() == 2);
    CHECK(merged.episodes[1].id == "a-new");
  }
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
  // One form per id, and only ids every JSON reader holds exactly.
  CHECK_FALSE(parse_title_id("01"));
  CHECK_FALSE(parse_title_id("+5"));
  CHECK(parse_title_id("9007199254740991") == 9007199254740991);
  CHECK_FALSE(parse_title_id("9007199254740992"));
  CHECK_FALSE(parse_title_id("9223372036854775807"));
}
