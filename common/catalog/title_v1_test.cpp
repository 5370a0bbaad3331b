#include <doctest/doctest.h>
#include <simdjson.h>

#include "catalog/title_document.hpp"
#include "catalog/title_v1.hpp"

TEST_CASE("the old Node.js format carries the same title under its field names") {
  const auto t = anipipe::catalog::TitleDocument::parse(
      R"({"id":9873,"alias":"kusuriya","names":{"ru":"Монолог","en":"Diaries","alternative":null},"type":"TV","year":2025,)"
      R"("season":"winter","status":"ongoing","genres":["Драма"],"description":"d","poster":{"src":"/p.jpg","thumbnail":null},)"
      R"("episodes_total":24,"episodes":[{"id":"e1","ordinal":1,"name":"One","hls":{"720":"https://x/720.m3u8"}}],)"
      R"("fresh_at":"2025-01-16T08:20:00Z","updated_at":"2025-01-16T08:00:00Z","source":"v1"})");
  const auto json = anipipe::catalog::to_v1_json(t);
  simdjson::dom::parser p;
  auto doc = p.parse(json);
  CHECK(doc["aniLibriaId"].get_int64().value() == 9873);
  CHECK(doc["code"].get_string().value() == "kusuriya");
  CHECK(doc["names"]["ru"].get_string().value() == "Монолог");
  CHECK(doc["poster"]["url"].get_string().value() == "/p.jpg");
  CHECK(doc["episodes"].at(0)["number"].get_double().value() == 1.0);
  CHECK(doc["episodes"].at(0)["hls"]["hd"].get_string().value() == "https://x/720.m3u8");
  CHECK(doc["lastSynced"]["anilibria"].get_string().value() == "2025-01-16T08:20:00Z");
  CHECK(doc["episodesTotal"].get_int64().value() == 24);
}
