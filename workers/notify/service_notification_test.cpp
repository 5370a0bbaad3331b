#include <doctest/doctest.h>

#include <simdjson.h>

#include "json/test_schemas.hpp"
#include "redis/notification_keys.hpp"
#include "service_notification.hpp"

using namespace anipipe::notify;
namespace keys = anipipe::redis::notifications;

namespace {
const char* kEvent =
    R"({"user_id":"user-42","type":"scenario_shared","title":"A scenario was shared with you","body":"Mika shared it",)"
    R"("data":{"scenario_id":17,"by":"mika"},"channels":["websocket","redis"],)"
    R"("idempotency_key":"scenarios:share:17:user-42","created_at":"2026-12-03T07:00:00.250Z","requested_by":"scenarios"})";
}  // namespace

TEST_CASE("notification_events: an event is read whole, its id derived from the idempotency key, its channels as bits") {
  const auto& schemas = anipipe::json::test::project_schemas();
  REQUIRE_FALSE(schemas.validate("notification_events", kEvent));
  simdjson::dom::parser parser;
  const auto n = ServiceNotification::parse(kEvent, parser);
  CHECK(n.user_id == "user-42");
  CHECK(n.type == "scenario_shared");
  CHECK(n.body == "Mika shared it");
  CHECK(n.data_json == R"({"scenario_id":17,"by":"mika"})");
  CHECK(n.channels == (kChannelWebsocket | kChannelRedis));
  CHECK(n.created_at_ms == 1'796'281'200'250);
  CHECK(n.id == "a0498ef87f3e76bbe89bb0831f91d6c6");  // sha256("scenarios:share:17:user-42"), its first 16 bytes
  CHECK(n.id == keys::notification_id(n.idempotency_key));
  CHECK(keys::notification_id("another key") != n.id);

  const auto minimal = ServiceNotification::parse(
      R"({"user_id":"u","type":"t","title":"x","idempotency_key":"k","created_at":"2026-12-03T07:00:00Z"})", parser);
  CHECK(minimal.channels == kEveryServiceChannel);  // absent: every channel
  CHECK_FALSE(minimal.body);
  CHECK_FALSE(minimal.data_json);
}

TEST_CASE("notification_events: what it becomes is valid on anilibria.notifications (the service kind), and new episodes stay valid") {
  const auto& schemas = anipipe::json::test::project_schemas();
  simdjson::dom::parser parser;
  const auto n = ServiceNotification::parse(kEvent, parser);
  const auto record = notification_record(n);
  CHECK(record == R"({"type":"scenario_shared","id":")" + n.id +
                      R"(","idempotency_key":"scenarios:share:17:user-42","user_id":"user-42","title":"A scenario was shared with you",)"
                      R"("body":"Mika shared it","data":{"scenario_id":17,"by":"mika"},"source":"scenarios",)"
                      R"("created_at":"2026-12-03T07:00:00.250Z"})");
  const auto err = schemas.validate("anilibria.notifications", record);
  CHECK_MESSAGE(!err, (err ? err->to_string() : ""));
  CHECK(notification_payload(n).starts_with(R"({"event":"notification","type":"scenario_shared","id":")"));
  // The version-1 shape, unchanged, and neither kind's fields mixed into the other.
  CHECK_FALSE(schemas.validate("anilibria.notifications", R"({"idempotency_key":"1:e:u","subscriber_id":"u","title_id":1,)"
                                                          R"("episode":{"id":"e","ordinal":1},"created_at":"2025-01-16T08:20:03Z"})"));
  CHECK(schemas.validate("anilibria.notifications", R"({"type":"x","idempotency_key":"1:e:u","subscriber_id":"u","title_id":1,)"
                                                    R"("episode":{"id":"e","ordinal":1},"created_at":"2025-01-16T08:20:03Z"})"));
  CHECK(schemas.validate("anilibria.notifications", R"({"type":"x","id":"nothex","idempotency_key":"k","user_id":"u","title":"t",)"
                                                    R"("created_at":"2025-01-16T08:20:03Z"})"));
}

TEST_CASE("notification_events: the schema refuses what notify could not deliver") {
  const auto& schemas = anipipe::json::test::project_schemas();
  const std::string head = R"({"user_id":"u","type":"t","title":"x","created_at":"2026-12-03T07:00:00Z")";
  CHECK_FALSE(schemas.validate("notification_events", head + R"(,"idempotency_key":"k"})"));
  CHECK(schemas.validate("notification_events", head + "}"));                                              // no idempotency key
  CHECK(schemas.validate("notification_events", head + R"(,"idempotency_key":""})"));                      // an empty one
  CHECK(schemas.validate("notification_events", head + R"(,"idempotency_key":"k","channels":["sms"]})"));  // an unknown channel
  CHECK(schemas.validate("notification_events", head + R"(,"idempotency_key":"k","data":[1]})"));          // data not an object
  CHECK(schemas.validate("notification_events", head + R"(,"idempotency_key":"k","extra":1})"));
  CHECK(schemas.validate("notification_events", R"({"user_id":"u","type":"t","title":"x","idempotency_key":"k","created_at":"today"})"));
  CHECK(schemas.validate("notification_events", "not json"));
  simdjson::dom::parser parser;
  CHECK_THROWS_AS(ServiceNotification::parse("{}", parser), std::invalid_argument);
  CHECK_THROWS_AS(ServiceNotification::parse("not json", parser), std::invalid_argument);
}

TEST_CASE("notification keys: a user's three keys share one hash tag, the seen key is per idempotency key") {
  CHECK(keys::history("user-42") == "notifications:{user-42}");
  CHECK(keys::items("user-42") == "notifications:{user-42}:items");
  CHECK(keys::read("user-42") == "notifications:{user-42}:read");
  CHECK(keys::seen("scenarios:share:17") == "notification:seen:scenarios:share:17");
}
