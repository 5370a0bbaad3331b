#include <doctest/doctest.h>

#include <simdjson.h>

#include "new_episode.hpp"
#include "title_changes.hpp"
#include "title_update.hpp"
#include "util/jwt.hpp"
#include "webhook_sender.hpp"

using namespace anipipe::notify;

namespace {
const char* kEvent = R"({"event_id":"9919:ep-18","title_id":9919,
  "episode":{"id":"ep-18","ordinal":18,"name":"Финальная битва"},
  "title":{"alias":"butterflies","names":{"ru":"Девочки-бабочки"}},"detected_at":"2025-08-01T15:30:00Z"})";
const char* kTitle = R"({"id":9919,"alias":"butterflies","names":{"ru":"Девочки-бабочки","en":null,"alternative":null},)"
                     R"("updated_at":"2025-08-01T15:29:00Z"})";
}  // namespace

TEST_CASE("seed 001: the new_episode body has the seed's keys and no others, episode_name null when unnamed") {
  simdjson::dom::parser parser;
  auto e = NewEpisode::parse(kEvent, parser);
  CHECK(seed001_payload(e) ==
        R"({"type":"new_episode","title_id":9919,"episode":18,"data":{"title":"Девочки-бабочки","episode_name":"Финальная битва"},)"
        R"("timestamp":"2025-08-01T15:30:00Z"})");
  e.episode_name.reset();
  CHECK(seed001_payload(e).find(R"("episode_name":null})") != std::string::npos);
  // anipipe's payload keeps the seed's keys, first and in order, and adds its own.
  CHECK(notify_payload(e, 3).starts_with(R"({"type":"new_episode","event_id":"9919:ep-18","title_id":9919,"episode":18,)"
                                         R"("data":{"title":"Девочки-бабочки","episode_name":null,"alias":"butterflies",)"));
}

TEST_CASE("seed 003: title_updated in both formats, its event id per content") {
  simdjson::dom::parser parser;
  const auto u = TitleUpdate::parse(kTitle, content_hash(kTitle), 1754062200123, parser);
  CHECK(u.timestamp == "2025-08-01T15:30:00.123Z");
  CHECK(seed001_title_updated(u) == R"({"type":"title_updated","title_id":9919,"timestamp":"2025-08-01T15:30:00.123Z"})");
  CHECK(u.event_id() == "title_updated:9919:" + content_hash(kTitle));
  CHECK(title_updated_payload(u) == R"({"type":"title_updated","event_id":")" + u.event_id() +
                                        R"(","title_id":9919,"data":{"title":"Девочки-бабочки","alias":"butterflies",)"
                                        R"("updated_at":"2025-08-01T15:29:00Z","content_hash":")" +
                                        u.content_hash + R"("},"timestamp":"2025-08-01T15:30:00.123Z"})");
  CHECK_THROWS_AS(TitleUpdate::parse(R"({"id":1})", "h", 0, parser), std::invalid_argument);
}

TEST_CASE("webhook auth: a static bearer token, or an HS256 JWT per call that the shared secret verifies") {
  CHECK_FALSE(webhook_authorization({}, 1'700'000'000));
  WebhookAuth auth;
  auth.token = "internal_service_token";
  CHECK(webhook_authorization(auth, 1'700'000'000) == "Bearer internal_service_token");

  auth = {};
  auth.jwt_secret = "shared";
  auth.jwt_ttl = std::chrono::seconds(60);
  const auto now = std::chrono::system_clock::now();
  const auto t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const auto header = webhook_authorization(auth, t);
  REQUIRE(header);
  REQUIRE(header->starts_with("Bearer "));
  const auto token = header->substr(7);
  const auto ok = anipipe::util::verify_hs256(token, "shared", now);
  REQUIRE(ok.ok());
  CHECK(ok.claims.subject == "anipipe-notify");
  CHECK(ok.claims.issued_at == t);
  CHECK(ok.claims.expires_at == t + 60);
  CHECK(anipipe::util::verify_hs256(token, "another", now).status == anipipe::util::JwtResult::Status::bad_signature);
  CHECK(anipipe::util::verify_hs256(token, "shared", now + std::chrono::minutes(5)).status == anipipe::util::JwtResult::Status::expired);
  CHECK(webhook_authorization(auth, t + 1) != header);  // signed per call
}

TEST_CASE("title changes: a title's first document, a change, the same again, a removal; history read once per assignment") {
  using V = TitleChanges::Verdict;
  int reads = 0;
  // The partition's history: title 1 at v1 then v2 (offsets 0, 1), title 2 removed (2, 3).
  TitleChanges changes([&](const std::map<std::int32_t, std::int64_t>& before, const TitleChanges::Apply& apply) {
    ++reads;
    const std::vector<std::pair<std::int64_t, std::optional<std::string_view>>> log{{1, "v1"}, {1, "v2"}, {2, "w1"}, {2, std::nullopt}};
    for (const auto& [partition, end] : before)
      for (std::int64_t o = 0; o < end && o < static_cast<std::int64_t>(log.size()); ++o) apply(partition, log[o].first, log[o].second);
  });
  changes.prepare({{0, 4}, {0, 5}});
  CHECK(reads == 1);
  CHECK(changes.titles() == 1);
  CHECK(changes.observe(0, 1, "v2").verdict == V::unchanged);  // a redelivery of what was handled
  const auto seen = changes.observe(0, 1, "v3");
  CHECK(seen.verdict == V::changed);
  CHECK(seen.hash == content_hash("v3"));
  CHECK(changes.observe(0, 1, "v3").verdict == V::unchanged);
  CHECK(changes.observe(0, 2, "w2").verdict == V::first);  // removed before: nothing to refresh
  CHECK(changes.observe(0, 2, std::nullopt).verdict == V::removed);
  changes.prepare({{0, 9}});
  CHECK(reads == 1);  // known since its assignment

  // Assigned again from offset 1: only v1 was handled; v2 is news again.
  changes.drop_partition(0);
  changes.prepare({{0, 1}});
  CHECK(reads == 2);
  CHECK(changes.observe(0, 1, "v2").verdict == V::changed);
}
