#include <doctest/doctest.h>
#include <simdjson.h>

#include <string>
#include <vector>

#include "catalog/title_document.hpp"
#include "catalog/title_v1.hpp"
#include "json/schema.hpp"
#include "title_view.hpp"

namespace {
// What cache writes from a record read in place, and what the edge serves from the owning document.
std::string v1_in_place(const std::string& json) {
  simdjson::dom::parser parser;
  anipipe::cache::TitleView view;
  view.read(parser.parse(json).value());
  std::string out;
  anipipe::json::Writer w(out);
  anipipe::catalog::write_v1(w, view);
  return out;
}
}  // namespace

TEST_CASE("a title read in place gives the v1 text of the owning document, byte for byte") {
  std::vector<std::string> docs =
      anipipe::json::SchemaRegistry::load_directory(anipipe::json::default_schema_dir()).examples("anilibria.titles");
  REQUIRE(!docs.empty());
  // No alias (the id stands in), episodes out of order (both order them), nulls and missing fields.
  docs.emplace_back(R"({"id":77,"names":{"ru":"\"Кавычки\" и \\"},"type":null,"year":null,"season":null,"status":"finished",)"
                    R"("genres":[],"poster":null,"episodes":[{"id":"b","ordinal":2},{"id":"a","ordinal":1.5,"name":null,)"
                    R"("duration":1400,"hls":{"1080":"/1080.m3u8"}},{"id":"0","ordinal":2}],"updated_at":null,"source":"v3"})");
  for (const auto& json : docs) {
    INFO(json);
    CHECK(v1_in_place(json) == anipipe::catalog::to_v1_json(anipipe::catalog::TitleDocument::parse(json)));
  }
}

TEST_CASE("a title read in place refuses what the owning document refuses") {
  simdjson::dom::parser parser;
  anipipe::cache::TitleView view;
  for (const char* bad : {R"([1,2])", R"({"alias":"x"})", R"({"id":0})", R"({"id":5,"episodes":[{"id":"e"}]})"}) {
    INFO(bad);
    CHECK_THROWS_AS(view.read(parser.parse(std::string(bad)).value()), std::invalid_argument);
    CHECK_THROWS_AS(anipipe::catalog::TitleDocument::parse(bad), std::invalid_argument);
  }
}
