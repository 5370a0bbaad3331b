#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "json/schema.hpp"
#include "upstream/normalizer.hpp"

using anipipe::upstream::Normalized;
using anipipe::upstream::Normalizer;
using Status = Normalized::Status;

namespace {

const anipipe::json::SchemaRegistry& schemas() {
  static const auto reg = anipipe::json::SchemaRegistry::load_directory(anipipe::json::default_schema_dir());
  return reg;
}

std::string fixture(const std::string& name) {
  const char* src = std::getenv("ANIPIPE_SOURCE_DIR");
  std::ifstream in(std::string(src ? src : ANIPIPE_DEFAULT_SOURCE_DIR) + "/tests/fixtures/upstream/" + name);
  REQUIRE_MESSAGE(in.good(), "missing fixture " << name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Normalized normalize(const std::string& text, std::string_view api = "v1") {
  // With the contract, as ingest runs it: every event below is checked as it is written, and
  // event() validates the text again.
  static Normalizer n(&schemas());
  return n.normalize_copy(text, api, "/test", "2025-01-16T08:20:00Z");
}

/// Normalizes, requires an event, and checks it against the topic's schema.
Normalized event(const std::string& text, std::string_view api = "v1") {
  auto n = normalize(text, api);
  INFO("reason: " << n.reason);
  REQUIRE(n.status == Status::event);
  auto err = schemas().validate("anilibria.upstream.events", n.json);
  INFO(n.json);
  CHECK_MESSAGE(!err, (err ? err->to_string() : ""));
  return n;
}

bool has(const Normalized& n, std::string_view fragment) { return n.json.find(fragment) != std::string::npos; }

}  // namespace

TEST_CASE("v1 /anime/releases/latest item as captured live") {
  auto n = event(fixture("v1_release_latest_live.json"));
  CHECK(n.kind == "release_changed");
  CHECK(n.title_id == 9873);
  CHECK(has(n, R"("alias":"hana-wa-saku-shura-no-gotoku")"));
  CHECK(has(n, R"("season":"winter","status":"ongoing")"));
  CHECK(has(n, R"("genres":["Сейнен","Драма","Школа"])"));
  CHECK(has(n, R"("poster":{"src":"/storage/releases/posters/9873/BP2KgupjlCLoeLvGQDOShcjJnDxYGZi5.jpg")"));
  CHECK(has(n, R"("episode":{"id":"9dfaf5e1-4854-49cb-90f3-44324c677361","ordinal":2,"name":"Интерес и талант"})"));
  CHECK(has(n, R"("480":"https://cache-rfn.libria.fun/videos/media/ts/9873/2/480/)"));
  CHECK(has(n, R"("episodes_total":null)"));
}

TEST_CASE("v1 release as the OpenAPI example has it: preview instead of src, fractional ordinal, extra blocks") {
  auto n = event(fixture("v1_release_latest_openapi.json"));
  CHECK(n.title_id == 7439);
  CHECK(has(n, R"("ordinal":12.5)"));
  CHECK(has(n, R"x("poster":{"src":"/...GoH5bzLFS7A21DzacgUApScj7qJY1iMz.(jpg|webp)")x"));
  CHECK(has(n, R"("status":"finished")"));
  CHECK(has(n, R"("episodes_total":36)"));
}

TEST_CASE("v1 quirks: string ids, null nested objects, plain enum strings, unknown season") {
  auto n = event(R"({"id":"9001","alias":"x","name":null,"type":"TV","season":{"value":"fall"},"year":"2024",
    "poster":null,"genres":null,"latest_episode":null,"is_ongoing":null,"fresh_at":null,"updated_at":null})");
  CHECK(n.title_id == 9001);
  CHECK(has(n, R"("names":{"ru":"x","en":null,"alternative":null},"type":"TV","year":2024,"season":"autumn","status":"unknown")"));
  CHECK(has(n, R"("poster":null)"));
  auto odd = event(R"({"id":9002,"alias":"y","name":{"main":"Y"},"season":{"value":"monsoon"}})");
  CHECK(has(odd, R"("season":null)"));
}

TEST_CASE("v1 full release with episodes[]") {
  auto n = event(R"({"id":9873,"alias":"a","name":{"main":"A"},"episodes":[
    {"id":"e1","ordinal":1,"name":null,"duration":1400.0,"hls_480":"u480","release_id":9873},
    {"id":"e2","ordinal":"1.5","duration":null,"hls_720":"u720","release_id":9873},
    {"ordinal":"bad"}]})");
  CHECK(has(n, R"("episodes":[{"id":"e1","ordinal":1,"name":null,"duration":1400,"hls":{"480":"u480","720":null,"1080":null})"));
  CHECK(has(n, R"({"id":"e2","ordinal":1.5,)"));
  CHECK_FALSE(has(n, "\"bad\""));                // quoted: the id's hex may hold "bad"
  CHECK(has(n, R"("episodes_complete":true)"));  // the whole list: sync takes it as it is
}

TEST_CASE("only a payload that lists every episode says so: releases/latest and schedule items carry the latest alone") {
  CHECK_FALSE(has(event(fixture("v1_release_latest_live.json")), "episodes_complete"));
  CHECK_FALSE(has(event(R"({"release":{"id":9873,"alias":"a","name":{"main":"A"}},"published_release_episode":{"id":"ep-2","ordinal":2}})"),
                  "episodes_complete"));
  CHECK(has(event(fixture("v3_title_update.json"), "v3"), R"("episodes_complete":true)"));
  // An empty list is a complete one: the release has no episodes yet.
  CHECK(has(event(R"({"id":9873,"alias":"a","name":{"main":"A"},"episodes":[]})"), R"("episodes_complete":true)"));
}

TEST_CASE("v1 episode") {
  auto n = event(R"({"id":"9b5e26ee-598f-4b8b-b77e-188d3e456318","name":"Пролог","ordinal":12.5,"release_id":"9324",
    "ending":{"start":6,"stop":125},"opening":null,"preview":null,"hls_480":"string","duration":1432,
    "updated_at":"2021-11-25T18:46:30+00:00","sort_order":12})");
  CHECK(n.kind == "episode_published");
  CHECK(n.title_id == 9324);
  CHECK(has(n, R"("episode":{"id":"9b5e26ee-598f-4b8b-b77e-188d3e456318","ordinal":12.5,"name":"Пролог"})"));
  CHECK(normalize(R"({"id":"e","ordinal":3})").status == Status::rejected);  // no release to key it by
}

TEST_CASE("v1 schedule item from /anime/schedule/now") {
  auto n = event(R"({"release":{"id":9873,"alias":"a","name":{"main":"A"},"is_ongoing":true},
    "full_season_is_released":false,"next_release_episode_number":3,
    "published_release_episode":{"id":"ep-2","ordinal":2,"name":"Two","release_id":9873}})");
  CHECK(n.kind == "schedule_item");
  CHECK(has(n, R"("episode":{"id":"ep-2","ordinal":2,"name":"Two"})"));
  CHECK(has(n, R"("next_episode":3)"));
  CHECK(has(n, R"("episodes":[{"id":"ep-2")"));
  auto none = event(
      R"({"release":{"id":1,"alias":"b","name":{"main":"B"}},"published_release_episode":null,"next_release_episode_number":null})");
  CHECK(has(none, R"("next_episode":null)"));
}

TEST_CASE("v3 title_update with player.list as an object keyed by episode") {
  auto n = event(fixture("v3_title_update.json"), "v3");
  CHECK(n.kind == "title_update");
  CHECK(n.title_id == 9000);
  CHECK(has(n, R"("alias":"kizumonogatari-iii-reiketsu-hen")"));
  CHECK(has(n, R"("type":"MOVIE","year":2017,"season":"winter","status":"finished")"));
  CHECK(has(n, R"({"id":"95db068f-789e-11ec-ae92-0242ac120002","ordinal":1,)"));
  CHECK(has(n, R"("1080":"https://cache.libria.fun/videos/media/ts/9000/1/1080/7f3c1729ebd24b93d4e0918510004606.m3u8")"));
  CHECK(has(n, R"("updated_at":"2021-06-29T16:22:54.000Z")"));
  CHECK(has(n, R"("source":"v3")"));
}

TEST_CASE("v3 title_update with player.list as an array, string id, null posters and status, fractional episode") {
  auto n = event(fixture("v3_title_update_array_playlist.json"), "v3");
  CHECK(n.title_id == 9000);
  CHECK(has(n, R"({"id":"v3-9000-1.5","ordinal":1.5,)"));
  CHECK(has(n, R"("poster":null)"));
  CHECK(has(n, R"("status":"unknown")"));
}

TEST_CASE("v3 playlist_update: int id, episode as a string, reupload") {
  auto n = event(R"({"type":"playlist_update","data":{"id":8700,"player":{"host":"cache.libria.fun"},
    "updated_episode":{"episode":2,"name":null,"uuid":"u-2","created_timestamp":1672061904,"hls":{"hd":null}},
    "episode":"2","diff":{},"reupload":false}})",
                 "v3");
  CHECK(n.kind == "playlist_update");
  CHECK(n.title_id == 8700);
  CHECK(has(n, R"("episode":{"id":"u-2","ordinal":2,"name":null,"reupload":false})"));
  auto bare = event(R"({"type":"playlist_update","data":{"id":"8700","updated_episode":null,"episode":"12.5"}})", "v3");
  CHECK(has(bare, R"("episode":{"id":"v3-8700-12.5","ordinal":12.5,"name":null})"));
}

TEST_CASE("v3 encode_start/progress/end/finish with string ids and both reupload spellings") {
  auto start = event(R"({"type":"encode_start","data":{"id":"8700","episode":"4","resolution":"480","quality":"sd","isReupload":false}})",
                     "v3");
  CHECK(start.kind == "encode_start");
  CHECK(has(start, R"("encode":{"episode":4,"resolution":"480","quality":"sd","progress":null})"));
  CHECK(has(start, R"("reupload":false)"));
  auto dart = event(R"({"type":"encode_start","data":{"id":"8700","episode":"4","resolution":"480","quality":"sd","is_reupload":true}})",
                    "v3");
  CHECK(has(dart, R"("reupload":true)"));
  CHECK(start.event_id() != dart.event_id());
  auto progress = event(
      R"({"type":"encode_progress","data":{"id":"8700","episode":"4","resolution":"480","quality":"sd","encoded_percent":"25"}})", "v3");
  CHECK(has(progress, R"("progress":25)"));
  auto end = event(R"({"type":"encode_end","data":{"id":"8700","episode":"4","resolution":"480","quality":"sd"}})", "v3");
  CHECK(end.kind == "encode_end");
  auto finish = event(R"({"type":"encode_finish","data":{"id":"8700","episode":"4"}})", "v3");
  CHECK(finish.kind == "encode_finish");
  CHECK(has(finish, R"("encode":{"episode":4,"resolution":null,"quality":null,"progress":null})"));
}

TEST_CASE("v3 torrent_update picks the updated torrent") {
  auto n = event(R"({"type":"torrent_update","data":{"id":"9215","torrents":{"episodes":{"first":1,"last":1,"string":"1-1"},
    "list":[{"torrent_id":19972,"episodes":{"string":"1"},"quality":{"string":"WEBRip 720p"}},
            {"torrent_id":19973,"episodes":{"first":1,"last":1,"string":"1"},"quality":{"string":"WEBRip 1080p","type":"WEBRip"},
             "leechers":2,"hash":"51a8800ca1a6486b352227a37da0c5d3dbba59c7","metadata":null}]},
    "updated_torrent_id":19973,"diff":{"list":{"0":{"torrent_id":19972}}}}})",
                 "v3");
  CHECK(n.kind == "torrent_update");
  CHECK(n.title_id == 9215);
  CHECK(has(n, R"("torrent":{"id":19973,"episodes":"1","quality":"WEBRip 1080p"})"));
}

TEST_CASE("greetings and acks are ignored, unknown v3 types reported, the rest rejected with a reason") {
  CHECK(normalize(R"({"connection":"success","api_version":"3.0.14"})").status == Status::ignored);
  CHECK(normalize(R"({"subscribe":"success","subscription_id":0})").status == Status::ignored);
  auto unknown = normalize(R"({"type":"title_serie","data":{"id":1}})");
  CHECK(unknown.status == Status::unknown_type);
  CHECK(unknown.reason == "title_serie");
  for (const char* bad :
       {R"({"id":1,"alias":"x","name":{"main":"tr)", "not json", "[1,2]", "{\"hello\":1}", R"({"id":1,"alias":"x","name":{}} trailing)",
        R"({"id":0,"alias":"x","name":{}})", R"({"type":"encode_end","data":{"id":"abc"}})", R"({"type":"title_update","data":{}})",
        R"({"type":"playlist_update","data":{"id":1}})"}) {
    CAPTURE(bad);
    auto r = normalize(bad);
    CHECK(r.status == Status::rejected);
    CHECK_FALSE(r.reason.empty());
  }
}

TEST_CASE("event ids come from the content: same observation, same id, whatever the transport or time") {
  const std::string msg = R"({"type":"encode_finish","data":{"id":"8700","episode":"4"}})";
  Normalizer n;
  auto a = n.normalize_copy(msg, "v3", "", "2025-01-01T00:00:00Z");
  auto b = n.normalize_copy(msg, "replay", "", "2025-02-01T00:00:00Z");
  auto c = n.normalize_copy(R"({"type":"encode_finish","data":{"id":8700,"episode":4}})", "v3", "", "2025-01-01T00:00:00Z");
  auto d = n.normalize_copy(R"({"type":"encode_finish","data":{"id":"8700","episode":"5"}})", "v3", "", "2025-01-01T00:00:00Z");
  CHECK(a.event_id().size() == 32);
  CHECK(a.event_id() == b.event_id());
  CHECK(a.event_id() == c.event_id());  // "8700" and 8700 are the same observation
  CHECK(a.event_id() != d.event_id());
}

TEST_CASE("a recording wrapper supplies the endpoint and the observation time") {
  auto n = event(R"({"recorded_at":"2025-01-16T08:00:00Z","endpoint":"/anime/releases/latest",
    "message":{"id":5,"alias":"z","name":{"main":"Z"}}})",
                 "replay");
  CHECK(n.recorded_at == "2025-01-16T08:00:00Z");
  CHECK(has(n, R"("observed_at":"2025-01-16T08:00:00Z","source":{"api":"replay","endpoint":"/anime/releases/latest"})"));
}

TEST_CASE("garbled timestamps and oversized aliases are tolerated, not fatal (found by the fuzzer)") {
  auto n = event(R"({"id":7,"alias":")" + std::string(300, 'a') + R"(","name":{"main":"M"},"fresh_at":"yesterday",
    "updated_at":"2025-01-16T08:16:21+0000","latest_episode":{"id":"e","ordinal":1,"updated_at":"2025-13-99"}})");
  CHECK(has(n, R"("alias":"7")"));
  CHECK(has(n, R"("fresh_at":null,"updated_at":null)"));
}

TEST_CASE("invalid bytes inside a nested value reject the message instead of derailing the parser (found by the fuzzer)") {
  std::string msg = R"({"type":"playlist_update","data":{"id":1008,"updated_episode":{"episode":8,"uuid":"u"},"episode":"8")";
  msg += std::string(40, '\0');
  msg += R"(,"reupload":false}})";
  auto r = normalize(msg);
  CHECK(r.status == Status::rejected);
  CHECK(r.reason.find("not JSON") != std::string::npos);
}

TEST_CASE("v3 timestamps out of range become null instead of overflowing (found by the fuzzer)") {
  auto n = event(R"({"type":"title_update","data":{"title":{"id":3,"code":"c","updated":10624983803,"last_change":-5,
    "player":{"list":[{"episode":1,"uuid":"u1","created_timestamp":99999999999999}]}}}})",
                 "v3");
  CHECK(has(n, R"("fresh_at":null,"updated_at":null)"));
  CHECK(has(n, R"("updated_at":null}])"));
}

TEST_CASE("absurd episode numbers make the episode unusable instead of unparsable output (found by the fuzzer)") {
  auto r = normalize(
      R"({"type":"playlist_update","data":{"id":1029,"updated_episode":null,"episode":"213548027643871133696","reupload":false}})");
  CHECK(r.status == Status::rejected);
  auto n = event(R"({"id":9,"alias":"a","name":{"main":"A"},"latest_episode":{"id":"e","ordinal":1e300}})");
  CHECK(has(n, R"("episodes":[])"));
}

TEST_CASE("an event that breaks the contract is rejected with the reason, the raw input to be dead-lettered") {
  // A contract stricter than the project's: titles above 5000 are refused.
  auto read = [](const std::string& name) {
    std::ifstream in(anipipe::json::default_schema_dir() / name);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  std::string events = read("anilibria.upstream.events.schema.json");
  const std::string from = R"("title_id": { "type": "integer", "minimum": 1, "maximum": 9007199254740991 })";
  const auto at = events.find(from);
  REQUIRE(at != std::string::npos);
  events.replace(at, from.size(), R"("title_id": { "type": "integer", "minimum": 1, "maximum": 5000 })");
  anipipe::json::SchemaRegistry strict;
  strict.add("anilibria.titles.schema.json", read("anilibria.titles.schema.json"));
  strict.add("anilibria.upstream.events.schema.json", events);
  strict.link();
  Normalizer normalizer(&strict);
  auto ok = normalizer.normalize_copy(R"({"type":"encode_finish","data":{"id":"4000","episode":"3"}})", "v3", "", "2025-01-16T08:20:00Z");
  CHECK(ok.status == Status::event);
  auto r = normalizer.normalize_copy(R"({"type":"encode_finish","data":{"id":"9000","episode":"3"}})", "v3", "", "2025-01-16T08:20:00Z");
  REQUIRE(r.status == Status::rejected);
  CHECK(r.reason == "normalized event violates schema anilibria.upstream.events: at /title_id: must be <= 5000");
}

TEST_CASE("the portable copy of the normalizing and the one for this CPU agree, byte for byte") {
  ::setenv("ANIPIPE_UPSTREAM_ISA", "generic", 1);
  Normalizer generic(&schemas());
  ::unsetenv("ANIPIPE_UPSTREAM_ISA");
  Normalizer best(&schemas());
  CHECK(std::string(generic.isa()) == "generic");
  MESSAGE("this CPU runs the " << std::string(best.isa()) << " copy");
  std::vector<std::string> inputs{"", "{", "[]", "{\"a\":1}", R"({"type":"title_update","data":{}})", R"({"id":"x"} trailing)"};
  for (const char* name :
       {"v1_release_latest_live.json", "v1_release_latest_openapi.json", "v3_title_update.json", "v3_title_update_array_playlist.json"}) {
    const auto text = fixture(name);
    inputs.push_back(text);
    // Truncated and cut-open copies: the error paths of both kernels too.
    for (std::size_t len = 0; len < text.size(); len += 1 + text.size() / 97) inputs.push_back(text.substr(0, len));
  }
  std::size_t events = 0;
  for (const auto& input : inputs)
    for (std::string_view api : {"v1", "v3"}) {
      const auto a = generic.normalize_copy(input, api, "/test", "2025-01-16T08:20:00Z");
      const auto b = best.normalize_copy(input, api, "/test", "2025-01-16T08:20:00Z");
      INFO(api << " input: " << input.substr(0, 200));
      CHECK(a.status == b.status);
      CHECK(a.reason == b.reason);
      CHECK(a.json == b.json);
      events += a.status == Status::event;
    }
  CHECK(events >= 4);
}
