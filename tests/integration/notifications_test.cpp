// Seed 004's notifications end to end, on the real broker and redis-server with the real notify and
// edge: a service publishes through the edge's POST /internal/notifications (or straight to
// notification_events), the user's WebSocket gets it and nobody else's, the webhook and Redis once;
// the same idempotency key again (over HTTP, and raw on the topic) is delivered nowhere; the history
// (GET /api/notifications) lists it newest first, paged, with an unread filter that marking read
// changes, to its own user only; a malformed event is dead-lettered and the next one delivered;
// the history keeps the newest --notification-history-max; Redis down holds everything back.
#include <doctest/doctest.h>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <simdjson.h>

#include "kafka_helpers.hpp"
#include "pipeline.hpp"
#include "process.hpp"
#include "raw_http.hpp"
#include "redis/notification_keys.hpp"
#include "redis_listener.hpp"
#include "util/jwt.hpp"
#include "webhook_receiver.hpp"
#include "ws_client.hpp"

using namespace anipipe::testing;
using namespace std::chrono_literals;

namespace {

const std::string kServiceSecret = "notifications-test-secret";
const std::string kUserSecret = "notifications-test-user-secret";

std::string token(const std::string& sub, const std::string& scope, const std::string& secret) {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  return anipipe::util::sign_hs256(R"({"sub":")" + sub + R"(","scope":")" + scope + R"(","exp":)" + std::to_string(now + 600) + "}",
                                   secret);
}
std::map<std::string, std::string> as_service() {
  return {{"Authorization", "Bearer " + token("scenarios", "internal", kServiceSecret)}, {"Content-Type", "application/json"}};
}
std::map<std::string, std::string> as_user(const std::string& user) {
  return {{"Authorization", "Bearer " + token(user, "user", kUserSecret)}};
}

struct NotificationsSetup {
  std::string events = unique_name("n-events"), notifications = unique_name("n-out"), dlq = unique_name("n-dlq"),
              new_episode = unique_name("n-new-episode"), subscriptions = unique_name("n-subs"), titles = unique_name("n-titles"),
              requests = unique_name("n-requests"), results = unique_name("n-results"), invalidations = unique_name("n-invalidations"),
              group = unique_name("n-group"), channel = unique_name("n-channel"), dir = make_temp_dir("notifications"),
              secret = "webhook-" + unique_name("s"), redis_url = "redis://127.0.0.1:" + std::to_string(test_redis_options().port);
  std::unique_ptr<Process> notify, edge;
  int port = 0;

  NotificationsSetup() {
    create_topic(titles, 3, {{"cleanup.policy", "compact"}});
    create_topic(subscriptions, 3, {{"cleanup.policy", "compact"}});
    for (const auto& t : {events, notifications, new_episode, requests, results, invalidations}) create_topic(t, 3);
    create_topic(dlq, 1);
  }
  void start_notify(const std::string& webhook_url, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{notify_binary(),
                                  "--brokers",
                                  test_kafka_settings().brokers,
                                  "--group",
                                  group,
                                  "--new-episode-topic",
                                  new_episode,
                                  "--subscriptions-topic",
                                  subscriptions,
                                  "--notifications-topic",
                                  notifications,
                                  "--notification-events-topic",
                                  events,
                                  "--dlq-topic",
                                  dlq,
                                  "--metrics-addr",
                                  "off",
                                  "--redis-url",
                                  redis_url,
                                  "--notification-redis-channel",
                                  channel,
                                  "--webhook-url",
                                  webhook_url,
                                  "--webhook-secret",
                                  secret,
                                  "--title-updates",
                                  "false",
                                  "--retry-backoff-max-ms",
                                  "1000",
                                  "--kafka",
                                  "session.timeout.ms=6000"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    notify = std::make_unique<Process>(argv, dir + "/notify.log");
  }
  void start_edge() {
    edge = std::make_unique<Process>(std::vector<std::string>{edge_binary(),
                                                              "--brokers",
                                                              test_kafka_settings().brokers,
                                                              "--listen",
                                                              "127.0.0.1:0",
                                                              "--service-secret",
                                                              kServiceSecret,
                                                              "--user-secret",
                                                              kUserSecret,
                                                              "--titles-topic",
                                                              titles,
                                                              "--new-episode-topic",
                                                              new_episode,
                                                              "--notifications-topic",
                                                              notifications,
                                                              "--sync-requests-topic",
                                                              requests,
                                                              "--sync-results-topic",
                                                              results,
                                                              "--subscriptions-topic",
                                                              subscriptions,
                                                              "--cache-invalidations-topic",
                                                              invalidations,
                                                              "--notification-events-topic",
                                                              events,
                                                              "--redis-url",
                                                              redis_url,
                                                              "--threads",
                                                              "2"},
                                     dir + "/edge.log");
    port = listening_port(*edge, 30s);
    REQUIRE(port > 0);
    REQUIRE(eventually([&] { return get("/ready", {}).status == 200; }, 60s));
  }
  RawResponse get(const std::string& target, const std::map<std::string, std::string>& headers) const {
    return raw_http(port, http_request("GET", target, headers));
  }
  RawResponse post(const std::string& target, const std::map<std::string, std::string>& headers, const std::string& body = {}) const {
    return raw_http(port, http_request("POST", target, headers, body));
  }
  std::string logs() const { return (notify ? notify->log_tail() : "") + "\n---\n" + (edge ? edge->log_tail() : ""); }
};

std::string event_json(const std::string& user, const std::string& key, const std::string& title, const std::string& created_at) {
  return R"({"user_id":")" + user + R"(","type":"scenario_shared","title":")" + title +
         R"(","body":"b","data":{"n":1},"idempotency_key":")" + key + R"(","created_at":")" + created_at + R"("})";
}

std::size_t count_of(const std::vector<std::string>& texts, const std::string& needle) {
  return static_cast<std::size_t>(
      std::count_if(texts.begin(), texts.end(), [&](const std::string& t) { return t.find(needle) != std::string::npos; }));
}

struct History {
  std::vector<std::string> ids, keys;
  std::vector<bool> read;
  std::string next_cursor;  // "" for null
  std::int64_t unread = -1;
};
History history_of(const RawResponse& r) {
  History h;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (r.status != 200 || parser.parse(r.body).get(doc)) return h;
  for (auto n : doc["data"].get_array()) {
    h.ids.emplace_back(std::string_view(n["id"]));
    h.keys.emplace_back(std::string_view(n["idempotency_key"]));
    h.read.push_back(bool(n["read"]));
  }
  std::string_view cursor;
  if (!doc["next_cursor"].get(cursor)) h.next_cursor = std::string(cursor);
  h.unread = int64_t(doc["unread"]);
  return h;
}

}  // namespace

TEST_CASE(
    "notifications: a service publishes, only its user's WebSocket gets it, once on every channel whatever the duplicates; the history pages, marks read, is the user's own") {
  NotificationsSetup s;
  WebhookReceiver receiver(s.dir, s.secret);
  s.start_notify(receiver.url());
  s.start_edge();
  INFO(s.logs());
  const auto alice = unique_name("alice"), bob = unique_name("bob");
  const auto first = unique_name("share-1"), second = unique_name("share-2");
  WsClient alice_ws(s.port, "/api/anilibria/v2/ws?token=" + token(alice, "user", kUserSecret));
  WsClient bob_ws(s.port, "/api/anilibria/v2/ws?token=" + token(bob, "user", kUserSecret));
  REQUIRE_FALSE(alice_ws.wait_for(R"("type":"welcome")", 5s).empty());
  REQUIRE_FALSE(bob_ws.wait_for(R"("type":"welcome")", 5s).empty());
  ChannelListener redis(s.channel, 2);

  const auto body = R"({"user_id":")" + alice +
                    R"(","type":"scenario_shared","title":"Shared with you","body":"Mika shared a scenario",)"
                    R"("data":{"scenario_id":17},"idempotency_key":")" +
                    first + R"("})";
  const auto posted_at = std::chrono::steady_clock::now();
  const auto accepted = s.post("/internal/notifications", as_service(), body);
  REQUIRE(accepted.status == 202);
  const auto id = anipipe::redis::notifications::notification_id(first);
  CHECK(accepted.body == R"({"id":")" + id + R"(","idempotency_key":")" + first + R"(","status":"accepted"})");
  const auto pushed = alice_ws.wait_for(first, 30s);
  REQUIRE_FALSE(pushed.empty());
  std::printf("notifications: POST /internal/notifications to the user's WebSocket in %.0f ms\n",
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - posted_at).count());
  CHECK(pushed.find(R"("type":"notification")") != std::string::npos);
  CHECK(pushed.find(R"("id":")" + id + "\"") != std::string::npos);
  CHECK(pushed.find(R"("source":"scenarios")") != std::string::npos);

  // The service retries: the same key as the header, and once more raw on the topic (another title even).
  auto retry_headers = as_service();
  retry_headers["Idempotency-Key"] = first;
  auto retried = body;
  retried.replace(retried.find(R"(,"idempotency_key")"), std::string(R"(,"idempotency_key":")").size() + first.size() + 1, "");
  CHECK(s.post("/internal/notifications", retry_headers, retried).status == 202);
  produce_all(s.events, {{alice, event_json(alice, first, "Another title", "2026-12-03T07:00:00Z")}});
  // A second notification marks where the duplicates would have arrived by.
  const auto later = R"({"user_id":")" + alice + R"(","type":"comment_reply","title":"New reply","idempotency_key":")" + second + "\"}";
  REQUIRE(s.post("/internal/notifications", as_service(), later).status == 202);
  std::vector<std::string> seen{pushed};
  for (std::string m; (m = alice_ws.next(30s)).find(second) == std::string::npos;) {
    REQUIRE_FALSE(m.empty());
    seen.push_back(m);
  }
  CHECK(count_of(seen, first) == 1);
  CHECK(bob_ws.wait_for(first, 2s).empty());  // nothing of alice's reached bob

  REQUIRE(eventually([&] { return receiver.calls().size() >= 2; }, 30s));
  std::this_thread::sleep_for(1s);
  const auto calls = receiver.calls();
  CHECK(calls.size() == 2);
  CHECK(std::count_if(calls.begin(), calls.end(), [&](const auto& c) { return c.idempotency_key == first && c.verified; }) == 1);
  CHECK(count_of({calls.front().body}, R"("event":"notification")") == 1);
  REQUIRE(eventually([&] { return redis.count() >= 2; }, 10s));
  CHECK(count_of(redis.messages(), first) == 1);
  const auto records = consume(s.notifications, 3, 3s);
  CHECK(records.size() == 2);
  for (const auto& r : records) CHECK(r.key == alice);

  // The history: newest first, one entry per key, paged.
  auto h = history_of(s.get("/api/notifications", as_user(alice)));
  REQUIRE(h.keys == std::vector<std::string>{second, first});
  CHECK(h.ids[1] == id);
  CHECK(h.unread == 2);
  CHECK(h.next_cursor.empty());
  const auto page1 = history_of(s.get("/api/notifications?limit=1", as_user(alice)));
  REQUIRE(page1.keys == std::vector<std::string>{second});
  REQUIRE_FALSE(page1.next_cursor.empty());
  const auto page2 = history_of(s.get("/api/notifications?limit=1&cursor=" + page1.next_cursor, as_user(alice)));
  CHECK(page2.keys == std::vector<std::string>{first});
  CHECK(page2.next_cursor.empty());

  // Marking read: only alice can, and only what is hers.
  CHECK(s.post("/api/notifications/" + id + "/read", as_user(bob)).status == 404);
  CHECK(s.post("/api/notifications/" + std::string(32, '0') + "/read", as_user(alice)).status == 404);
  CHECK(s.post("/api/notifications/" + id + "/read", as_user(alice)).status == 204);
  anipipe::redis::Client redis_keys(test_redis_options());
  CHECK(redis_keys.command({"TTL", anipipe::redis::notifications::read(alice)}).integer > 0);  // expires with the history
  h = history_of(s.get("/api/notifications?unread=true", as_user(alice)));
  CHECK(h.keys == std::vector<std::string>{second});
  CHECK(h.unread == 1);
  h = history_of(s.get("/api/notifications", as_user(alice)));
  CHECK(h.read == std::vector<bool>{false, true});
  h = history_of(s.get("/api/notifications", as_user(bob)));
  CHECK(h.keys.empty());
  CHECK(h.unread == 0);

  // Refused: no token, a service token for a user route, a bad query; a bad event produces nothing.
  CHECK(s.get("/api/notifications", {}).status == 401);
  CHECK(s.get("/api/notifications", {{"Authorization", as_service().at("Authorization")}}).status == 401);
  CHECK(s.get("/api/notifications?limit=0", as_user(alice)).status == 400);
  CHECK(s.get("/api/notifications?cursor=nope", as_user(alice)).status == 400);
  CHECK(s.post("/internal/notifications", as_service(), R"({"user_id":")" + alice + R"(","type":"t","idempotency_key":"k"})").status ==
        422);
  CHECK(s.post("/internal/notifications", as_service(), R"({"user_id":")" + alice + R"(","type":"t","title":"x"})").status == 422);
  CHECK(s.post("/internal/notifications", {{"Content-Type", "application/json"}}, later).status == 401);
  CHECK(consume(s.events, 5, 2s).size() == 4);  // the two accepted, the retry and the raw duplicate; nothing refused
  s.edge->signal(SIGTERM);
  CHECK(exit_problem(*s.edge, 30s) == "");
  s.notify->signal(SIGTERM);
  CHECK(exit_problem(*s.notify, 30s) == "");
}

TEST_CASE(
    "notifications: a malformed event is dead-lettered with its reason and the next one delivered; the history keeps the newest --notification-history-max") {
  NotificationsSetup s;
  WebhookReceiver receiver(s.dir, s.secret);
  s.start_notify(receiver.url(), {"--notification-history-max", "3"});
  s.start_edge();
  INFO(s.logs());
  const auto carol = unique_name("carol"), key = unique_name("k");
  produce_all(s.events, {{carol, "not json"},
                         {carol, R"({"user_id":")" + carol + R"(","type":"t","title":"no key","created_at":"2026-12-03T07:00:00Z"})"}});
  std::vector<Produced> good;
  for (int i = 1; i <= 5; ++i)
    good.push_back(
        {carol, event_json(carol, key + "-" + std::to_string(i), "N" + std::to_string(i), "2026-12-03T07:00:0" + std::to_string(i) + "Z")});
  produce_all(s.events, good);

  const auto dead = consume(s.dlq, 2, 30s);
  REQUIRE(dead.size() == 2);
  for (const auto& d : dead) {
    CHECK(d.headers.at("dlq-source-topic") == s.events);
    CHECK_FALSE(d.headers.at("dlq-error").empty());
  }
  CHECK(dead[1].headers.at("dlq-error").find("idempotency_key") != std::string::npos);
  REQUIRE(eventually([&] { return receiver.calls().size() >= 5; }, 30s));

  History h;
  REQUIRE(eventually([&] { return (h = history_of(s.get("/api/notifications", as_user(carol)))).keys.size() == 3; }, 10s));
  CHECK(h.keys == std::vector<std::string>{key + "-5", key + "-4", key + "-3"});
  CHECK(h.unread == 3);
  // Trimmed whole: the entries, their JSON and their read flags.
  anipipe::redis::Client redis(test_redis_options());
  CHECK(redis.command({"ZCARD", anipipe::redis::notifications::history(carol)}).integer == 3);
  CHECK(redis.command({"HLEN", anipipe::redis::notifications::items(carol)}).integer == 3);
  CHECK(redis.command({"TTL", anipipe::redis::notifications::history(carol)}).integer > 0);
  s.notify->signal(SIGTERM);
  CHECK(exit_problem(*s.notify, 30s) == "");
}

TEST_CASE("notifications: with Redis down the edge answers 503 with Retry-After and notify holds the event back, then delivers it once") {
  NotificationsSetup s;
  WebhookReceiver receiver(s.dir, s.secret);
  s.start_notify(receiver.url(), {"--redis-timeout-ms", "1000"});
  s.start_edge();
  INFO(s.logs());
  const auto dave = unique_name("dave"), key = unique_name("outage");
  const auto redis_script = [](const std::string& what) {
    return std::system((source_dir() + "/scripts/redis " + what + " >/dev/null 2>&1").c_str());
  };
  REQUIRE(redis_script("stop") == 0);
  auto down = s.get("/api/notifications", as_user(dave));
  CHECK(down.status == 503);
  CHECK(down.headers["retry-after"] == "5");
  CHECK(down.body.find(R"("error":"unavailable")") != std::string::npos);
  produce_all(s.events, {{dave, event_json(dave, key, "During the outage", "2026-12-03T07:00:00Z")}});
  std::this_thread::sleep_for(3s);  // notify meets the outage: the key cannot be claimed, so nothing goes anywhere
  CHECK(consume(s.notifications, 1, 1s).empty());
  CHECK(receiver.calls().empty());
  REQUIRE(redis_script("start") == 0);  // empty (no persistence): the claim and the history are written afresh
  CHECK(consume_until(
            s.notifications, [](const std::vector<Received>& r) { return !r.empty(); }, 30s)
            .size() == 1);
  REQUIRE(eventually([&] { return receiver.calls().size() == 1; }, 30s));
  History h;
  CHECK(eventually([&] { return (h = history_of(s.get("/api/notifications", as_user(dave)))).keys.size() == 1; }, 10s));
  CHECK(h.keys == std::vector<std::string>{key});
  std::this_thread::sleep_for(1s);
  CHECK(receiver.calls().size() == 1);
  CHECK(consume(s.notifications, 2, 2s).size() == 1);
  s.notify->signal(SIGTERM);
  CHECK(exit_problem(*s.notify, 30s) == "");
}

TEST_CASE("notifications: a Node.js service publishing with kafkajs (docs/notifications.md's snippet, retried) reaches the user once") {
  NotificationsSetup s;
  WebhookReceiver receiver(s.dir, s.secret);
  s.start_notify(receiver.url());
  s.start_edge();
  INFO(s.logs());
  const auto erin = unique_name("erin"), key = unique_name("scenarios:share");
  WsClient ws(s.port, "/api/anilibria/v2/ws?token=" + token(erin, "user", kUserSecret));
  REQUIRE_FALSE(ws.wait_for(R"("type":"welcome")", 5s).empty());
  ChannelListener redis(s.channel, 1);
  Process node({"/usr/bin/env", "node", source_dir() + "/tests/node/notification_publisher.js", "--brokers", test_kafka_settings().brokers,
                "--topic", s.events, "--user", erin, "--key", key, "--times", "2"},
               s.dir + "/node.log");
  INFO(node.log_tail());
  REQUIRE(exit_problem(node, 60s) == "");
  const auto pushed = ws.wait_for(key, 30s);
  REQUIRE_FALSE(pushed.empty());
  CHECK(pushed.find(R"("type":"scenario_shared")") != std::string::npos);
  CHECK(pushed.find(R"("scenario_id":17)") != std::string::npos);
  History h;
  REQUIRE(eventually([&] { return (h = history_of(s.get("/api/notifications", as_user(erin)))).keys.size() == 1; }, 10s));
  CHECK(h.keys == std::vector<std::string>{key});
  CHECK(h.ids == std::vector<std::string>{anipipe::redis::notifications::notification_id(key)});
  // Sent twice: the second is a duplicate of the key, so nothing more arrives; and the record's
  // channels leave the webhook out.
  CHECK(ws.wait_for(key, 3s).empty());
  CHECK(receiver.calls().empty());
  REQUIRE(eventually([&] { return redis.count() == 1; }, 10s));
  CHECK(count_of(redis.messages(), key) == 1);
  s.notify->signal(SIGTERM);
  CHECK(exit_problem(*s.notify, 30s) == "");
}
