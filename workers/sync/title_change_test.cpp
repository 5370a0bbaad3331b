#include <doctest/doctest.h>

#include "catalog_state.hpp"
#include "json/schema.hpp"
#include "title_change.hpp"

using anipipe::catalog::TitleDocument;
using anipipe::sync::compare;

namespace {
const anipipe::json::SchemaRegistry& schemas() {
  static const auto reg = anipipe::json::SchemaRegistry::load_directory(anipipe::json::default_schema_dir());
  return reg;
}
TitleDocument title(const std::string& episodes, const std::string& status = "ongoing") {
  return TitleDocument::parse(R"({"id":9873,"alias":"a","names":{"ru":"А"},"status":")" + status +
                              R"(","genres":[],"poster":{"src":"/p.jpg","thumbnail":null},"episodes":[)" + episodes + "]}");
}
const std::string e1 = R"({"id":"e1","ordinal":1})", e2 = R"({"id":"e2","ordinal":2,"name":"Two"})", e25 = R"({"id":"e25","ordinal":2.5})";
}  // namespace

TEST_CASE("an unseen title is a change and announces its episodes") {
  auto c = compare(nullptr, title(e1), "2025-01-16T08:20:00Z");
  CHECK(c.changed);
  REQUIRE(c.new_episodes.size() == 1);
  CHECK_FALSE(schemas().validate("anilibria.titles", c.merged_json));
  auto err = schemas().validate("anilibria.new_episode", c.new_episodes[0]);
  CHECK_MESSAGE(!err, (err ? err->to_string() : ""));
  CHECK(c.new_episodes[0].find(R"("event_id":"9873:e1")") != std::string::npos);
}

TEST_CASE("the same observation again is unchanged and produces nothing") {
  auto known = title(e1 + "," + e2);
  auto c = compare(&known, title(e2), "2025-01-16T08:20:00Z");  // a releases/latest snapshot: latest only
  CHECK_FALSE(c.changed);
  CHECK(c.new_episodes.empty());
  CHECK(c.merged_json.empty());
}

TEST_CASE("a new episode (fractional too) is announced once, old ones never again") {
  auto known = title(e1 + "," + e2);
  auto c = compare(&known, title(e25), "2025-01-16T08:20:00Z");
  CHECK(c.changed);
  REQUIRE(c.new_episodes.size() == 1);
  CHECK(c.new_episodes[0].find(R"("ordinal":2.5)") != std::string::npos);
  auto again = compare(&c.merged, title(e25), "2025-01-16T08:21:00Z");
  CHECK_FALSE(again.changed);
}

TEST_CASE("an episode re-uploaded under a new id is a change with no new_episode") {
  auto known = title(e1 + "," + e2);
  auto c = compare(&known, title(R"({"id":"e2-reupload","ordinal":2,"name":"Two"})"), "2025-01-16T08:20:00Z");
  CHECK(c.changed);
  CHECK(c.new_episodes.empty());
  CHECK(c.merged_json.find("e2-reupload") != std::string::npos);
  CHECK(c.merged_json.find(R"("id":"e2")") == std::string::npos);
}

TEST_CASE("a metadata change without new episodes is a change with no new_episode") {
  auto known = title(e1);
  auto c = compare(&known, title(e1, "finished"), "2025-01-16T08:20:00Z");
  CHECK(c.changed);
  CHECK(c.new_episodes.empty());
  CHECK(c.merged_json.find(R"("status":"finished")") != std::string::npos);
}

TEST_CASE("a partial observation may hide changes: a title never seen, a new ordinal, episodes_total, a newer fresh_at") {
  using anipipe::sync::may_hide_changes;
  auto with = [](const std::string& episodes, const std::string& extra) {
    return TitleDocument::parse(R"({"id":9873,"alias":"a","names":{"ru":"А"},"genres":[],"episodes":[)" + episodes + "]" + extra + "}");
  };
  const auto known = with(e1 + "," + e2, R"(,"episodes_total":12,"fresh_at":"2025-01-16T08:00:00+00:00")");
  CHECK(may_hide_changes(nullptr, with(e2, "")));
  CHECK(may_hide_changes(&known, with(e25, R"(,"episodes_total":12,"fresh_at":"2025-01-16T08:00:00+00:00")")));
  CHECK(may_hide_changes(&known, with(e2, R"(,"episodes_total":13,"fresh_at":"2025-01-16T08:00:00+00:00")")));
  CHECK(may_hide_changes(&known, with(e2, R"(,"episodes_total":12,"fresh_at":"2025-01-16T09:00:00+00:00")")));
  // What the catalog already has, seen again (or only its metadata changed): the snapshot says it all.
  CHECK_FALSE(may_hide_changes(&known, with(e2, R"(,"episodes_total":12,"fresh_at":"2025-01-16T08:00:00+00:00")")));
  CHECK_FALSE(may_hide_changes(&known, with(e2, R"(,"episodes_total":12,"fresh_at":"2025-01-16T07:00:00+00:00")")));
  // A listing without episodes (the catalog walk) cannot show a new one: unless it is older than
  // the catalog's version, look - even at the same fresh_at (whole seconds).
  CHECK(may_hide_changes(&known, with("", R"(,"episodes_total":12,"fresh_at":"2025-01-16T08:00:00+00:00")")));
  CHECK(may_hide_changes(&known, with("", "")));
  CHECK_FALSE(may_hide_changes(&known, with("", R"(,"episodes_total":12,"fresh_at":"2025-01-16T07:59:59+00:00")")));
}

TEST_CASE("the full release decides, plus what the observation saw that its listing lacks") {
  const auto fetched = TitleDocument::parse(R"({"id":9873,"alias":"a","names":{"ru":"Full"},"genres":[],"episodes":[)" + e1 + "," + e2 +
                                            R"(],"fresh_at":"2025-01-16T08:00:00+00:00"})");
  const auto seen = TitleDocument::parse(R"({"id":9873,"alias":"a","names":{"ru":"Seen"},"genres":[],"episodes":[)" + e25 +
                                         R"(],"fresh_at":"2025-01-16T08:05:00+00:00"})");
  auto doc = anipipe::sync::with_observation(fetched, seen);
  CHECK(doc.name_ru == "Full");
  REQUIRE(doc.episodes.size() == 3);
  CHECK(doc.episodes[2].ordinal == 2.5);
  CHECK(doc.fresh_at == std::optional<std::string>("2025-01-16T08:05:00+00:00"));
}

TEST_CASE("a title the sweep brings in is taken quietly: catalog yes, announcements no") {
  auto c = compare(nullptr, title(e1 + "," + e2), "2025-01-16T08:20:00Z", false);
  CHECK(c.changed);
  CHECK(c.new_episodes.empty());
}

TEST_CASE("catalog state follows the changelog and forgets revoked partitions") {
  anipipe::sync::CatalogState state;
  state.apply(0, 9873, title(e1));
  state.apply(1, 42, TitleDocument::parse(R"({"id":42,"alias":"x","names":{"ru":"X"}})"));
  CHECK(state.size() == 2);
  state.apply(0, 9873, title(e1 + "," + e2));
  REQUIRE(state.find(9873));
  CHECK(state.find(9873)->episodes.size() == 2);
  state.apply(0, 9873, std::nullopt);  // tombstone
  CHECK_FALSE(state.find(9873));
  state.drop_partition(1);
  CHECK(state.size() == 0);
}
