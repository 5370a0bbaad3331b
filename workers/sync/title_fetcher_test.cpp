#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "json/schema.hpp"
#include "title_fetcher.hpp"

using anipipe::sync::Fetched;
using anipipe::sync::interpret_release;

namespace {
// The live-shaped release (id 9873) as /anime/releases/{id} serves it: with an episodes array.
std::string full_release() {
  std::ifstream in(std::string(ANIPIPE_DEFAULT_SOURCE_DIR) + "/tests/fixtures/upstream/v1_release_latest_live.json");
  std::stringstream ss;
  ss << in.rdbuf();
  auto s = ss.str();
  REQUIRE(!s.empty());
  s.insert(s.find('{') + 1, R"("episodes":[{"id":"ep-1","ordinal":1,"name":"One"},{"id":"ep-1.5","ordinal":1.5}],)");
  return s;
}
}  // namespace

TEST_CASE("a full release becomes the title document with every episode") {
  const auto f = interpret_release(9873, 200, full_release());
  REQUIRE_MESSAGE(f.status == Fetched::Status::found, f.reason);
  CHECK(f.title->id == 9873);
  CHECK(f.title->find_episode("ep-1"));
  CHECK(f.title->find_episode("ep-1.5"));
  CHECK(f.title->episodes.size() == 3);  // and latest_episode
  CHECK_FALSE(
      anipipe::json::SchemaRegistry::load_directory(anipipe::json::default_schema_dir()).validate("anilibria.titles", f.title->to_json()));
}

TEST_CASE("404 is gone, 5xx and 429 are unavailable, garbage is malformed, another title is malformed") {
  CHECK(interpret_release(1, 404, R"({"error":{"code":404}})").status == Fetched::Status::gone);
  CHECK(interpret_release(1, 503, "").status == Fetched::Status::unavailable);
  CHECK(interpret_release(1, 429, "").status == Fetched::Status::unavailable);
  const auto bad = interpret_release(1, 200, R"({"id":1,"alias":"x","name":{"main":)");
  CHECK(bad.status == Fetched::Status::malformed);
  CHECK(bad.reason.find("cannot be normalized") != std::string::npos);
  const auto other = interpret_release(42, 200, full_release());
  CHECK(other.status == Fetched::Status::malformed);
  CHECK(other.reason.find("9873") != std::string::npos);
}
