#include <doctest/doctest.h>

#include <simdjson.h>

#include "json/schema.hpp"
#include "new_episode.hpp"
#include "notification_builder.hpp"
#include "subscription_table.hpp"
#include "util/hmac.hpp"
#include "webhook_sender.hpp"

using namespace anipipe::notify;

namespace {
const char* kEvent = R"({"event_id":"9873:ep-2","title_id":9873,
  "episode":{"id":"ep-2","ordinal":2.5,"name":"Интерес \"и\" талант"},
  "title":{"alias":"hana","names":{"ru":"Цветок","en":"Hana"}},"detected_at":"2025-01-16T08:20:01Z"})";

const anipipe::json::SchemaRegistry& schemas() {
  static const auto reg = anipipe::json::SchemaRegistry::load_directory(std::string(ANIPIPE_DEFAULT_SOURCE_DIR) + "/schemas");
  return reg;
}
}  // namespace

TEST_CASE("new_episode: the fields fan-out repeats are parsed once") {
  simdjson::dom::parser parser;
  const auto e = NewEpisode::parse(kEvent, parser);
  CHECK(e.event_id == "9873:ep-2");
  CHECK(e.title_id == 9873);
  CHECK(e.episode_id == "ep-2");
  CHECK(e.ordinal == "2.5");
  CHECK(e.episode_name == "Интерес \"и\" талант");
  CHECK(e.title_ru == "Цветок");
  CHECK(e.alias == "hana");
  CHECK(e.episode_json.find(R"("id":"ep-2")") != std::string::npos);
  CHECK_THROWS_AS(NewEpisode::parse(R"({"event_id":"x","title_id":1})", parser), std::invalid_argument);
  CHECK_THROWS_AS(NewEpisode::parse("{", parser), std::invalid_argument);
}

TEST_CASE("notifications: valid against the schema, idempotency key per title, episode and subscriber") {
  simdjson::dom::parser parser;
  const auto e = NewEpisode::parse(kEvent, parser);
  NotificationBuilder builder(e, "2025-01-16T08:20:03Z");
  std::string out;
  for (auto [who, channels] : {std::pair<std::string, std::uint8_t>{"user-42", kAllChannels},
                               {"we\"ird\\id", Channel::topic},
                               {"юзер", Channel::websocket},
                               {"none", 0}}) {
    builder.build(who, channels, out);
    INFO(out);
    CHECK_FALSE(schemas().validate("anilibria.notifications", out));
    simdjson::dom::element doc;
    REQUIRE_FALSE(parser.parse(out).get(doc));
    CHECK(std::string_view(doc["subscriber_id"]) == who);
    CHECK(std::string_view(doc["idempotency_key"]) == idempotency_key(9873, "ep-2", who));
    CHECK(int64_t(doc["title_id"]) == 9873);
    CHECK(double(doc["episode"]["ordinal"]) == 2.5);
    CHECK(simdjson::dom::array(doc["channels"]).size() == static_cast<std::size_t>(__builtin_popcount(channels)));
  }
  builder.build("user-42", Channel::topic | Channel::websocket, out);
  CHECK(out.find(R"("channels":["topic","websocket"])") != std::string::npos);
}

TEST_CASE("notify payload: the seeds' shape (type, title_id, episode, data, timestamp)") {
  simdjson::dom::parser parser;
  const auto e = NewEpisode::parse(kEvent, parser);
  const auto body = notify_payload(e, 3);
  simdjson::dom::element doc;
  REQUIRE_FALSE(parser.parse(body).get(doc));
  CHECK(std::string_view(doc["type"]) == "new_episode");
  CHECK(int64_t(doc["title_id"]) == 9873);
  CHECK(double(doc["episode"]) == 2.5);
  CHECK(std::string_view(doc["data"]["title"]) == "Цветок");
  CHECK(std::string_view(doc["data"]["episode_name"]) == "Интерес \"и\" талант");
  CHECK(int64_t(doc["data"]["subscribers"]) == 3);
  CHECK(std::string_view(doc["timestamp"]) == "2025-01-16T08:20:01Z");
}

TEST_CASE("webhook signature: HMAC-SHA256 over timestamp.body, verifiable by the receiver") {
  const std::string body = R"({"type":"new_episode"})";
  const auto sig = webhook_signature("s3cret", 1700000000, body);
  CHECK(sig == "sha256=" + anipipe::util::hmac_sha256_hex("s3cret", "1700000000." + body));
  CHECK(sig != webhook_signature("s3cret", 1700000001, body));
  CHECK(sig != webhook_signature("other", 1700000000, body));
}

TEST_CASE("webhook outcomes: refused, failed, down, or our credentials refused (waited for, not skipped)") {
  using K = WebhookResult::Kind;
  CHECK(classify_webhook_status(200, "").kind == K::delivered);
  CHECK(classify_webhook_status(204, "").kind == K::delivered);
  CHECK(classify_webhook_status(400, "bad").kind == K::rejected);
  CHECK(classify_webhook_status(401, "").kind == K::unauthorized);
  CHECK(classify_webhook_status(403, "").kind == K::unauthorized);
  CHECK(classify_webhook_status(500, "").kind == K::failed);
  for (int s : {408, 429, 502, 503, 504}) CHECK(classify_webhook_status(s, "").kind == K::down);
  CHECK(classify_webhook_status(400, "bad payload").detail.find("HTTP 400: bad payload") != std::string::npos);
}
