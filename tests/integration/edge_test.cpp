// anipipe-edge against the real broker: the catalog (list, filters, paging, search, single title,
// the v1 format, ETags), an unknown id synced through request-reply (the real sync worker and the
// fake upstream), the internal API's token checks and events, malformed requests refused with
// the right 4xx and nothing produced, and WebSocket pushes.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <simdjson.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "fake_upstream.hpp"
#include "json/schema.hpp"
#include "kafka_helpers.hpp"
#include "pipeline.hpp"
#include "process.hpp"
#include "raw_http.hpp"
#include "util/base64.hpp"
#include "util/jwt.hpp"
#include "ws_client.hpp"

using namespace anipipe::testing;
using namespace std::chrono_literals;

namespace {

const std::string kSecret = "edge-test-secret";
const std::string kUserSecret = "edge-test-user-secret";  // user tokens have a key of their own

std::string token(const std::string& sub, const std::string& scope, std::int64_t expires_in = 600, const std::string& secret = kSecret) {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  return anipipe::util::sign_hs256(R"({"sub":")" + sub + R"(","scope":")" + scope + R"(","exp":)" + std::to_string(now + expires_in) + "}",
                                   secret);
}
std::map<std::string, std::string> bearer(const std::string& t) { return {{"Authorization", "Bearer " + t}}; }
std::map<std::string, std::string> service() { return bearer(token("node-backend", "internal")); }

std::string title_json(std::int64_t id, const std::string& ru, const std::string& en, int year, const std::string& season,
                       const std::string& status, const std::string& genre, int day) {
  const auto s = std::to_string(id);
  char updated[32];
  std::snprintf(updated, sizeof updated, "2025-01-%02dT08:00:00Z", day);
  return R"({"id":)" + s + R"(,"alias":"title-)" + s + R"(","names":{"ru":")" + ru + R"(","en":")" + en +
         R"(","alternative":null},"type":"TV","year":)" + std::to_string(year) + R"(,"season":")" + season + R"(","status":")" + status +
         R"(","genres":[")" + genre +
         R"("],"description":null,"poster":null,"episodes_total":12,)"
         R"("episodes":[{"id":"e1","ordinal":1}],"fresh_at":null,"updated_at":")" +
         updated + R"(","source":"v1"})";
}

struct EdgeSetup {
  std::string titles = unique_name("edge-titles"), new_episode = unique_name("edge-new-episode"),
              notifications = unique_name("edge-notifications"), requests = unique_name("edge-sync-requests"),
              results = unique_name("edge-sync-results"), subscriptions = unique_name("edge-subscriptions"),
              invalidations = unique_name("edge-invalidations"), events = unique_name("edge-notification-events"),
              dir = make_temp_dir("edge");
  std::unique_ptr<Process> edge;
  int port = 0;
  EdgeSetup() {
    create_topic(titles, 3, {{"cleanup.policy", "compact"}});
    create_topic(subscriptions, 3, {{"cleanup.policy", "compact"}});
    for (const auto& t : {new_episode, notifications, requests, results, invalidations, events}) create_topic(t, 3);
  }
  void start(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{edge_binary(),
                                  "--brokers",
                                  test_kafka_settings().brokers,
                                  "--listen",
                                  "127.0.0.1:0",
                                  "--service-secret",
                                  kSecret,
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
                                  "--threads",
                                  "2",
                                  "--cors-origins",
                                  "https://site.example"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    edge = std::make_unique<Process>(argv, dir + "/edge.log");
    port = listening_port(*edge, 30s);
    REQUIRE(port > 0);
    REQUIRE(eventually([&] { return get("/ready").status == 200; }, 60s));
  }
  RawResponse get(const std::string& target, const std::map<std::string, std::string>& headers = {}) const {
    return raw_http(port, http_request("GET", target, headers));
  }
  RawResponse call(const std::string& method, const std::string& target, const std::map<std::string, std::string>& headers,
                   const std::string& body) const {
    return raw_http(port, http_request(method, target, headers, body));
  }
  /// SIGTERM, and the edge must leave cleanly.
  void stop() {
    edge->signal(SIGTERM);
    CHECK(exit_problem(*edge, 30s) == "");
  }
  /// Records in the topics the edge produces to.
  std::size_t produced() const {
    std::size_t n = 0;
    for (const auto& t : {requests, subscriptions, invalidations}) n += consume(t, 1000, 1500ms).size();
    return n;
  }
};

simdjson::dom::element parse(simdjson::dom::parser& p, const std::string& body) { return p.parse(body); }

std::vector<std::int64_t> ids_of(const std::string& body) {
  simdjson::dom::parser p;
  std::vector<std::int64_t> ids;
  for (auto t : parse(p, body)["data"].get_array()) ids.push_back(t["id"].get_int64());
  return ids;
}

}  // namespace

TEST_CASE("edge: list, filter, paginate, search, single title, the v1 format and ETags, from the in-memory catalog") {
  EdgeSetup s;
  std::vector<Produced> titles;
  for (int i = 1; i <= 25; ++i)
    titles.push_back({std::to_string(i), title_json(i, i % 5 == 0 ? "Цветок " + std::to_string(i) : "Тайтл " + std::to_string(i),
                                                    "Title " + std::to_string(i), i % 2 ? 2025 : 2024, i % 3 ? "winter" : "summer",
                                                    i <= 20 ? "ongoing" : "finished", i % 4 ? "Комедия" : "Экшен", i)});
  titles.push_back({"26", title_json(26, "Удалённый", "Gone", 2025, "winter", "ongoing", "Комедия", 26)});
  titles.push_back({"26", std::nullopt});  // a tombstone: removed before the edge starts
  produce_all(s.titles, titles);
  s.start();
  INFO(s.edge->log_tail());

  auto all = s.get("/api/anilibria/v2/titles?limit=10");
  REQUIRE(all.status == 200);
  simdjson::dom::parser p;
  auto doc = parse(p, all.body);
  CHECK(int64_t(doc["pagination"]["total"]) == 25);
  CHECK(int64_t(doc["pagination"]["pages"]) == 3);
  CHECK(ids_of(all.body) == std::vector<std::int64_t>{25, 24, 23, 22, 21, 20, 19, 18, 17, 16});  // newest update first
  CHECK(ids_of(s.get("/api/anilibria/v2/titles?limit=10&page=3").body) == std::vector<std::int64_t>{5, 4, 3, 2, 1});
  CHECK(ids_of(s.get("/api/anilibria/v2/titles?page=9").body).empty());

  CHECK(ids_of(s.get("/api/anilibria/v2/titles?year=2024&status=finished").body) == std::vector<std::int64_t>{24, 22});
  CHECK(ids_of(s.get("/api/anilibria/v2/titles?season=summer&year=2025").body) == std::vector<std::int64_t>{21, 15, 9, 3});
  CHECK(ids_of(s.get("/api/anilibria/v2/titles?genre=%D0%AD%D0%BA%D1%88%D0%B5%D0%BD&limit=3").body) ==
        std::vector<std::int64_t>{24, 20, 16});
  // Search over the names, case-insensitive, Cyrillic included: "ЦВЕТОК" finds "Цветок 5", "Цветок 10", ...
  CHECK(ids_of(s.get("/api/anilibria/v2/titles?q=%D0%A6%D0%92%D0%95%D0%A2%D0%9E%D0%9A").body) ==
        std::vector<std::int64_t>{25, 20, 15, 10, 5});
  CHECK(ids_of(s.get("/api/anilibria/v2/titles?q=title+7").body) == std::vector<std::int64_t>{7});

  auto one = s.get("/api/anilibria/v2/titles/7");
  REQUIRE(one.status == 200);
  CHECK(one.body == titles[6].value);
  const auto etag = one.headers["etag"];
  CHECK(etag.size() == 18);
  CHECK(s.get("/api/anilibria/v2/titles/7", {{"If-None-Match", etag}}).status == 304);
  CHECK(s.get("/api/anilibria/v2/titles/7", {{"If-None-Match", "\"other\""}}).status == 200);
  auto list_etag = s.get("/api/anilibria/v2/titles?year=2025").headers["etag"];
  CHECK(s.get("/api/anilibria/v2/titles?year=2025", {{"If-None-Match", list_etag}}).status == 304);

  auto v1 = s.get("/api/anilibria/v1/titles/7");
  REQUIRE(v1.status == 200);
  auto v1doc = parse(p, v1.body);
  CHECK(bool(v1doc["success"]));
  CHECK(int64_t(v1doc["data"]["aniLibriaId"]) == 7);
  CHECK(std::string_view(v1doc["data"]["code"]) == "title-7");
  auto v1list = parse(p, s.get("/api/anilibria/v1/titles?limit=2").body);
  CHECK(bool(v1list["success"]));
  CHECK(simdjson::dom::array(v1list["data"]).size() == 2);
  CHECK(int64_t(v1list["pagination"]["total"]) == 25);

  // The catalog follows the topic: a change and a removal show up without a restart.
  produce_all(s.titles, {{"7", title_json(7, "Тайтл 7", "Title 7", 2025, "winter", "finished", "Комедия", 28)}, {"8", std::nullopt}});
  REQUIRE(eventually([&] { return s.get("/api/anilibria/v2/titles/7", {{"If-None-Match", etag}}).status == 200; }, 15s));
  CHECK(ids_of(s.get("/api/anilibria/v2/titles?limit=1").body) == std::vector<std::int64_t>{7});
  CHECK(s.get("/health").status == 200);
  auto metrics = s.get("/metrics");
  CHECK(metrics.status == 200);
  CHECK(metrics.headers["content-type"].find("text/plain") != std::string::npos);
  auto cors = s.get("/api/anilibria/v2/titles/7", {{"Origin", "https://site.example"}});
  CHECK(cors.headers["access-control-allow-origin"] == "https://site.example");
  CHECK(s.get("/api/anilibria/v2/titles/7", {{"Origin", "https://evil.example"}}).headers.count("access-control-allow-origin") == 0);
  s.stop();
}

TEST_CASE("edge: an unknown id is synced through request-reply (the real sync worker and the fake upstream), or 404") {
  EdgeSetup s;
  FakeUpstream upstream(s.dir);
  const auto events = unique_name("edge-events"), dlq = unique_name("edge-dlq");
  create_topic(events, 3);
  create_topic(dlq, 1);
  Process sync({sync_binary(),
                "--brokers",
                test_kafka_settings().brokers,
                "--group",
                unique_name("edge-sync"),
                "--instance-id",
                "edge",
                "--events-topic",
                events,
                "--requests-topic",
                s.requests,
                "--titles-topic",
                s.titles,
                "--new-episode-topic",
                s.new_episode,
                "--results-topic",
                s.results,
                "--dlq-topic",
                dlq,
                "--metrics-addr",
                "off",
                "--upstream-url",
                upstream.v1_base_url(),
                "--kafka",
                "session.timeout.ms=6000"},
               s.dir + "/sync.log");
  s.start({"--miss-wait-ms", "15000"});
  INFO(s.edge->log_tail());
  INFO(sync.log_tail());
  // 9873 is the fake upstream's seeded title; nothing has synced it yet.
  auto found = s.get("/api/anilibria/v2/titles/9873");
  REQUIRE(found.status == 200);
  simdjson::dom::parser p;
  CHECK(int64_t(parse(p, found.body)["id"]) == 9873);
  // Now it is in the catalog: answered from memory, no second request.
  CHECK(s.get("/api/anilibria/v1/titles/9873").status == 200);
  auto requests = consume(s.requests, 10, 3s);
  CHECK(requests.size() == 1);
  auto missing = s.get("/api/anilibria/v2/titles/555555");
  CHECK(missing.status == 404);
  CHECK(missing.body.find("does not exist upstream") != std::string::npos);
  s.stop();
  sync.signal(SIGTERM);
  sync.wait_for(30s);
}

TEST_CASE("edge: the internal API refuses a missing, wrong, expired or forged token (401) or scope (403) and produces nothing") {
  EdgeSetup s;
  s.start();
  INFO(s.edge->log_tail());
  const std::string body = R"({"title_id":42,"force":true})";
  const std::map<std::string, std::string> json{{"Content-Type", "application/json"}};
  auto with = [&](std::map<std::string, std::string> h) {
    h.insert(json.begin(), json.end());
    return s.call("POST", "/internal/sync/title", h, body);
  };
  CHECK(with({}).status == 401);
  CHECK(with({{"Authorization", "Basic dXNlcjpwYXNz"}}).status == 401);
  CHECK(with(bearer("not.a.jwt")).status == 401);
  CHECK(with(bearer(token("node-backend", "internal", 600, "wrong-secret"))).status == 401);
  CHECK(with(bearer(token("node-backend", "internal", -120))).status == 401);  // expired
  auto forged = token("node-backend", "read");
  const auto dot1 = forged.find('.'), dot2 = forged.rfind('.');
  forged = forged.substr(0, dot1 + 1) + anipipe::util::base64url_encode(R"({"sub":"x","scope":"internal"})") + forged.substr(dot2);
  CHECK(with(bearer(forged)).status == 401);
  CHECK(with(bearer(token("node-backend", "read"))).status == 403);  // valid, without the internal scope
  auto none = anipipe::util::base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." +
              anipipe::util::base64url_encode(R"({"sub":"x","scope":"internal"})") + ".";
  CHECK(with(bearer(none)).status == 401);
  CHECK(s.get("/internal/stats").status == 401);
  CHECK(s.produced() == 0);

  // The genuine token: each call becomes its event.
  auto accepted = with(service());
  REQUIRE(accepted.status == 202);
  simdjson::dom::parser p;
  const std::string cid(std::string_view(parse(p, accepted.body)["correlation_id"]));
  auto req = consume(s.requests, 1, 10s);
  REQUIRE(req.size() == 1);
  CHECK(req[0].key == "42");
  CHECK(req[0].value->find(R"("correlation_id":")" + cid + "\"") != std::string::npos);
  CHECK(req[0].value->find(R"("force":true)") != std::string::npos);
  CHECK(req[0].value->find(R"("requested_by":"node-backend")") != std::string::npos);

  auto h = service();
  h["Content-Type"] = "application/json";
  CHECK(s.call("DELETE", "/internal/cache/clear", h, R"({"pattern":"anilibria:v2:title:*","confirm":true})").status == 202);
  auto inval = consume(s.invalidations, 1, 10s);
  REQUIRE(inval.size() == 1);
  CHECK(inval[0].value->find(R"("scope":"pattern","pattern":"anilibria:v2:title:*")") != std::string::npos);
  CHECK(s.call("POST", "/internal/subscriptions", h, R"({"title_id":42,"subscriber_id":"user-1","channels":["websocket"]})").status == 202);
  CHECK(s.call("DELETE", "/internal/subscriptions", h, R"({"title_id":42,"subscriber_id":"user-1"})").status == 202);
  auto subs = consume(s.subscriptions, 2, 10s);
  REQUIRE(subs.size() == 2);
  CHECK(subs[0].key == "42:user-1");
  CHECK(subs[0].value->find(R"("channels":["websocket"])") != std::string::npos);
  CHECK_FALSE(subs[1].value.has_value());  // the unsubscribe is a tombstone
  auto stats = s.get("/internal/stats", service());
  REQUIRE(stats.status == 200);
  CHECK(stats.body.find(R"("hit_rate")") != std::string::npos);
  s.stop();
}

TEST_CASE("edge: 43 kinds of malformed request each get the right 4xx JSON error and produce nothing") {
  EdgeSetup s;
  produce_all(s.titles, {{"1", title_json(1, "Тайтл", "Title", 2025, "winter", "ongoing", "Комедия", 1)}});  // one title to read
  s.start({"--max-body-bytes", "1024"});
  INFO(s.edge->log_tail());
  auto json = service();
  json["Content-Type"] = "application/json";
  auto text = service();
  text["Content-Type"] = "text/plain";
  struct Case {
    std::string name, request;
    int status;
  };
  const std::vector<Case> cases{
      {"unknown route", http_request("GET", "/api/anilibria/v3/titles"), 404},
      {"unknown internal route", http_request("POST", "/internal/nothing", json, "{}"), 404},
      {"non-numeric id", http_request("GET", "/api/anilibria/v2/titles/abc"), 400},
      {"zero id", http_request("GET", "/api/anilibria/v2/titles/0"), 400},
      {"negative id", http_request("GET", "/api/anilibria/v2/titles/-5"), 400},
      {"huge id", http_request("GET", "/api/anilibria/v2/titles/99999999999999999999"), 400},
      {"page zero", http_request("GET", "/api/anilibria/v2/titles?page=0"), 400},
      {"page not a number", http_request("GET", "/api/anilibria/v2/titles?page=two"), 400},
      {"limit too large", http_request("GET", "/api/anilibria/v2/titles?limit=1000"), 400},
      {"year out of range", http_request("GET", "/api/anilibria/v2/titles?year=1800"), 400},
      {"unknown season", http_request("GET", "/api/anilibria/v2/titles?season=monsoon"), 400},
      {"bad status", http_request("GET", "/api/anilibria/v2/titles?status=ON%20GOING"), 400},
      {"empty search", http_request("GET", "/api/anilibria/v2/titles?q="), 400},
      {"unknown parameter", http_request("GET", "/api/anilibria/v2/titles?sort=name"), 400},
      {"duplicate parameter", http_request("GET", "/api/anilibria/v2/titles?page=1&page=2"), 400},
      {"bad percent escape", http_request("GET", "/api/anilibria/v2/titles?q=%ZZ"), 400},
      {"query on a single title", http_request("GET", "/api/anilibria/v2/titles/1?x=1"), 400},
      {"POST to titles", http_request("POST", "/api/anilibria/v2/titles", {{"Content-Type", "application/json"}}, "{}"), 405},
      {"GET of a POST route", http_request("GET", "/internal/sync/title", service()), 405},
      {"not JSON", http_request("POST", "/internal/sync/title", json, "{title_id:1"), 400},
      {"JSON but not an object", http_request("POST", "/internal/sync/title", json, "[1,2]"), 400},
      {"wrong content type", http_request("POST", "/internal/sync/title", text, R"({"title_id":1})"), 415},
      {"missing title_id", http_request("POST", "/internal/sync/title", json, R"({"force":true})"), 422},
      {"title_id a string", http_request("POST", "/internal/sync/title", json, R"({"title_id":"1"})"), 422},
      {"unknown field", http_request("POST", "/internal/sync/title", json, R"({"title_id":1,"forse":true})"), 422},
      {"priority not allowed", http_request("POST", "/internal/sync/title", json, R"({"title_id":1,"priority":"urgent"})"), 422},
      {"wait out of range", http_request("POST", "/internal/sync/title?wait=999999", json, R"({"title_id":1})"), 400},
      {"clear without confirm", http_request("DELETE", "/internal/cache/clear", json, R"({"pattern":"anilibria:*"})"), 400},
      {"clear outside the namespace", http_request("DELETE", "/internal/cache/clear", json, R"({"pattern":"*","confirm":true})"), 422},
      {"subscriber with a colon", http_request("POST", "/internal/subscriptions", json, R"({"title_id":1,"subscriber_id":"a:b"})"), 422},
      {"unknown channel", http_request("POST", "/internal/subscriptions", json, R"({"title_id":1,"subscriber_id":"a","channels":["sms"]})"),
       422},
      {"body too large", http_request("POST", "/internal/sync/title", json, R"({"title_id":1,"x":")" + std::string(4096, 'x') + "\"}"),
       413},
      {"WebSocket on another path",
       "GET /api/anilibria/v2/other HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
       "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
       404},
      {"WebSocket with a forged token",
       "GET /api/anilibria/v2/ws?token=a.b.c HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
       "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
       401},
      // Found by probing the edge (edge_hardening_test.cpp has a test for each).
      {"Transfer-Encoding that is not a final chunked", "GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
       400},
      {"Transfer-Encoding beside Content-Length",
       "POST /internal/sync/title HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400},
      {"a query that is not UTF-8", http_request("GET", "/api/anilibria/v2/titles?%ff=1"), 400},
      {"an id with a leading zero", http_request("GET", "/api/anilibria/v2/titles/01"), 400},
      {"an id past 2^53", http_request("POST", "/internal/sync/title", json, R"({"title_id":9223372036854775807})"), 422},
      {"a control character in a subscriber id",
       http_request("POST", "/internal/subscriptions", json, R"({"title_id":1,"subscriber_id":"a\nb"})"), 422},
      {"a padded token", http_request("GET", "/internal/stats", {{"Authorization", "Bearer " + token("node-backend", "internal") + "="}}),
       401},
      {"a token that never expires",
       http_request("GET", "/internal/stats",
                    {{"Authorization", "Bearer " + anipipe::util::sign_hs256(R"({"sub":"x","scope":"internal"})", kSecret)}}),
       401},
      {"a bad Idempotency-Key",
       http_request(
           "POST", "/internal/sync/title",
           [&] {
             auto h = json;
             h["Idempotency-Key"] = "no spaces please";
             return h;
           }(),
           R"({"title_id":1})"),
       400},
  };
  CHECK(cases.size() >= 40);
  simdjson::dom::parser p;
  for (const auto& c : cases) {
    INFO(c.name);
    auto r = raw_http(s.port, c.request);
    CHECK(r.status == c.status);
    CHECK(r.headers["content-type"] == "application/json");
    simdjson::dom::element doc;
    REQUIRE_FALSE(p.parse(r.body).get(doc));
    std::string_view error, detail;
    CHECK_FALSE(doc["error"].get(error));
    CHECK_FALSE(doc["detail"].get(detail));
    CHECK_FALSE(detail.empty());
  }
  CHECK(s.produced() == 0);
  CHECK(s.get("/api/anilibria/v2/titles/1").status == 200);  // still serving
  s.stop();
}

namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;


}  // namespace

TEST_CASE("edge: a WebSocket client subscribed to a title receives its new episode and title update, a user their notification") {
  EdgeSetup s;
  produce_all(s.titles, {{"77", title_json(77, "Тайтл", "Title", 2025, "winter", "ongoing", "Комедия", 1)}});
  s.start();
  INFO(s.edge->log_tail());
  WsClient anonymous(s.port, "/api/anilibria/v2/ws");
  WsClient user(s.port, "/api/anilibria/v2/ws?token=" + token("user-42", "user", 600, kUserSecret));
  CHECK_FALSE(anonymous.wait_for(R"("type":"welcome")", 5s).empty());
  CHECK(user.wait_for(R"("type":"welcome")", 5s).find(R"("user":"user-42")") != std::string::npos);
  anonymous.send(R"({"type":"subscribe_title","title_id":77})");
  CHECK_FALSE(anonymous.wait_for(R"("type":"subscribed","title_id":77)", 5s).empty());
  anonymous.send(R"({"type":"nonsense"})");
  CHECK_FALSE(anonymous.wait_for(R"("type":"error")", 5s).empty());

  const std::string episode = R"({"event_id":"77:e2","title_id":77,"episode":{"id":"e2","ordinal":2},"title":{"alias":"title-77",)"
                              R"("names":{"ru":"Тайтл"}},"detected_at":"2025-01-16T08:20:01Z"})";
  produce_all(s.new_episode, {{"78", episode}, {"77", episode}});  // 78: nobody subscribed
  const auto pushed = anonymous.wait_for(R"("type":"new_episode")", 10s);
  CHECK(pushed.find(R"("title_id":77)") != std::string::npos);
  CHECK(pushed.find(R"("event_id":"77:e2")") != std::string::npos);
  produce_all(s.titles, {{"77", title_json(77, "Тайтл", "Title", 2025, "winter", "finished", "Комедия", 2)}});
  CHECK(anonymous.wait_for(R"("type":"title_update")", 10s).find(R"("status":"finished")") != std::string::npos);

  produce_all(s.notifications,
              {{"user-7", R"({"idempotency_key":"77:e2:user-7"})"}, {"user-42", R"({"idempotency_key":"77:e2:user-42"})"}});
  const auto mine = user.wait_for(R"("type":"notification")", 10s);
  CHECK(mine.find("77:e2:user-42") != std::string::npos);
  anonymous.send(R"({"type":"unsubscribe_title","title_id":77})");
  CHECK_FALSE(anonymous.wait_for(R"("type":"unsubscribed")", 5s).empty());
  auto stats = s.get("/internal/stats", service());
  CHECK(stats.body.find(R"("connections":2)") != std::string::npos);
  s.stop();
}

TEST_CASE("edge: the server answers as workers/edge/openapi.json says (every operation, documented statuses, bodies valid)") {
  EdgeSetup s;
  produce_all(s.titles, {{"1", title_json(1, "Тайтл", "Title", 2025, "winter", "ongoing", "Комедия", 1)}});  // one title to read
  s.start();
  INFO(s.edge->log_tail());
  std::ifstream in(source_dir() + "/workers/edge/openapi.json");
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.parse(text);

  // The component schemas as one JSON Schema document per response ($ref rewritten to $defs).
  std::string defs = simdjson::minify(doc["components"]["schemas"]);
  for (std::size_t at; (at = defs.find("#/components/schemas/")) != std::string::npos;) defs.replace(at, 21, "#/$defs/");
  anipipe::json::SchemaRegistry schemas;
  for (auto [name, schema] : simdjson::dom::object(doc["components"]["schemas"]))
    schemas.add("openapi." + std::string(name) + ".schema.json", R"({"$schema":"https://json-schema.org/draft/2020-12/schema","$defs":)" +
                                                                     defs + R"(,"$ref":"#/$defs/)" + std::string(name) + R"("})");
  schemas.link();

  auto json = service();
  json["Content-Type"] = "application/json";
  auto read_only = bearer(token("node-backend", "read"));
  const std::string ws_forged = "GET /api/anilibria/v2/ws?token=a.b.c HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                                "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
  const std::multimap<std::string, std::string> samples{
      {"health", http_request("GET", "/health")},
      {"ready", http_request("GET", "/ready")},
      {"metrics", http_request("GET", "/metrics")},
      {"listTitlesV2", http_request("GET", "/api/anilibria/v2/titles?limit=5&year=2025")},
      {"listTitlesV2", http_request("GET", "/api/anilibria/v2/titles?page=0")},
      {"getTitleV2", http_request("GET", "/api/anilibria/v2/titles/1")},
      {"getTitleV2", http_request("GET", "/api/anilibria/v2/titles/abc")},
      {"listTitlesV1", http_request("GET", "/api/anilibria/v1/titles")},
      {"getTitleV1", http_request("GET", "/api/anilibria/v1/titles/1")},
      {"websocket", ws_forged},
      {"syncTitle", http_request("POST", "/internal/sync/title", json, R"({"title_id":1,"priority":"low"})")},
      {"syncTitle", http_request("POST", "/internal/sync/title", {{"Content-Type", "application/json"}}, R"({"title_id":1})")},
      {"syncTitle", http_request("POST", "/internal/sync/title", json, R"({"title_id":-1})")},
      {"stats", http_request("GET", "/internal/stats", service())},
      {"stats", http_request("GET", "/internal/stats", read_only)},
      {"clearCache", http_request("DELETE", "/internal/cache/clear", json, R"({"pattern":"anilibria:v1:*","confirm":true})")},
      {"clearCache", http_request("DELETE", "/internal/cache/clear", json, R"({"pattern":"anilibria:v1:*"})")},
      {"subscribe", http_request("POST", "/internal/subscriptions", json, R"({"title_id":1,"subscriber_id":"u"})")},
      {"unsubscribe", http_request("DELETE", "/internal/subscriptions", json, R"({"title_id":1,"subscriber_id":"u"})")},
      {"publishNotification",
       http_request("POST", "/internal/notifications", json, R"({"user_id":"u","type":"t","title":"x","idempotency_key":"k"})")},
      {"publishNotification", http_request("POST", "/internal/notifications", json, R"({"user_id":"u","type":"t","idempotency_key":"k"})")},
      // This edge has no --redis-url: the history is not there (404), whoever asks (401 without a user token).
      {"listNotifications", http_request("GET", "/api/notifications?limit=5", bearer(token("u", "user", 600, kUserSecret)))},
      {"listNotifications", http_request("GET", "/api/notifications")},
      {"markNotificationRead", http_request("POST", "/api/notifications/abc/read", bearer(token("u", "user", 600, kUserSecret)))},
  };
  std::size_t operations = 0;
  for (auto [path, item] : simdjson::dom::object(doc["paths"])) {
    for (auto [method, op] : simdjson::dom::object(item)) {
      const std::string id{std::string_view(op["operationId"])};
      INFO(std::string(method) << " " << std::string(path) << " (" << id << ")");
      ++operations;
      const auto [first, last] = samples.equal_range(id);
      CHECK_MESSAGE(first != last, "no sample request for a documented operation");
      for (auto it = first; it != last; ++it) {
        auto r = raw_http(s.port, it->second);
        INFO("answered " << r.status << ": " << r.body);
        simdjson::dom::element response;
        REQUIRE_MESSAGE(!op["responses"][std::to_string(r.status)].get(response), "an undocumented status");
        if (std::string_view ref; !response["$ref"].get(ref))
          response = doc["components"]["responses"][std::string(ref.substr(ref.rfind('/') + 1))];
        std::string_view schema_ref;
        if (response["content"]["application/json"]["schema"]["$ref"].get(schema_ref)) continue;  // no JSON body documented
        CHECK(r.headers["content-type"] == "application/json");
        const auto name = "openapi." + std::string(schema_ref.substr(schema_ref.rfind('/') + 1));
        const auto err = schemas.validate(name, r.body);
        CHECK_MESSAGE(!err, (err ? err->to_string() : std::string()));
      }
    }
  }
  CHECK(operations == 16);
  for (const auto& [id, request] : samples) {
    bool documented = false;
    for (auto [path, item] : simdjson::dom::object(doc["paths"]))
      for (auto [method, op] : simdjson::dom::object(item)) documented = documented || std::string_view(op["operationId"]) == id;
    CHECK_MESSAGE(documented, id);
  }
  s.stop();
}

TEST_CASE(
    "edge: a browser (headless Chromium) on the demo page shows a pushed new episode, and after its socket is closed the 5 published meanwhile, once each; a screenshot is taken") {
  EdgeSetup s;
  s.start();
  INFO(s.edge->log_tail());
  const std::string shot = s.dir + "/live.png";
  const auto r = run_command({"/usr/bin/env", "node", source_dir() + "/tests/node/browser_live.js",
                              "http://127.0.0.1:" + std::to_string(s.port), test_kafka_settings().brokers, s.new_episode, "4242", shot},
                             std::chrono::seconds(120));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find(R"("shown":"Тайтл 4242 — серия 5: Серия из браузерного теста")") != std::string::npos);
  CHECK(
      r.output.find(
          R"("recovered":["Тайтл 4242 — серия 6","Тайтл 4242 — серия 7","Тайтл 4242 — серия 8","Тайтл 4242 — серия 9","Тайтл 4242 — серия 10"])") !=
      std::string::npos);
  CHECK(screenshot_problem(shot) == "");
  keep_artifact(shot, "anipipe-edge-browser.png");  // for people: the last screenshot of a run
}

TEST_CASE(
    "edge: limits - 429 with Retry-After past the rate, a request that never completes is cut off, a WebSocket client that does not read is dropped") {
  EdgeSetup s;
  s.start({"--rate-ip", "5", "--burst-ip", "5", "--request-timeout-ms", "500", "--ws-queue-max", "8"});
  INFO(s.edge->log_tail());
  int limited = 0;
  std::string retry_after;
  for (int i = 0; i < 12; ++i) {
    auto r = s.get("/health");
    if (r.status == 429) {
      ++limited;
      retry_after = r.headers["retry-after"];
      CHECK(r.body.find(R"("error":"rate_limited")") != std::string::npos);
    }
  }
  CHECK(limited >= 5);
  CHECK(std::atoi(retry_after.c_str()) >= 1);
  std::this_thread::sleep_for(1500ms);  // the bucket refills
  CHECK(s.get("/health").status == 200);

  // Half a request, then nothing: the connection is closed after --request-timeout-ms.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(s.port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  const std::string partial = "GET /health HTTP/1.1\r\nHost: x\r\n";
  ::send(fd, partial.data(), partial.size(), MSG_NOSIGNAL);
  pollfd p{fd, POLLIN, 0};
  const auto started = std::chrono::steady_clock::now();
  REQUIRE(::poll(&p, 1, 5000) == 1);
  char buf[16];
  CHECK(::recv(fd, buf, sizeof buf, 0) == 0);  // closed, nothing answered
  CHECK(std::chrono::steady_clock::now() - started < 3s);
  ::close(fd);

  // A subscriber that never reads: once the kernel's buffers are full, its queue passes 8 and it
  // is disconnected, instead of the edge holding every message for it.
  std::this_thread::sleep_for(1500ms);
  WsClient sleeper(s.port, "/api/anilibria/v2/ws");
  sleeper.send(R"({"type":"subscribe_title","title_id":5})");
  std::this_thread::sleep_for(500ms);
  const std::string big(4000, 'x');
  std::vector<Produced> flood;
  for (int i = 0; i < 8000; ++i)  // 32 MB: more than loopback socket buffers hold
    flood.push_back({"5", R"({"event_id":"5:e)" + std::to_string(i) + R"(","title_id":5,"episode":{"id":"e)" + std::to_string(i) +
                              R"(","ordinal":1,"name":")" + big +
                              R"("},"title":{"alias":"a","names":{"ru":"T"}},"detected_at":"2025-01-16T08:20:01Z"})"});
  produce_all(s.new_episode, flood);
  REQUIRE(eventually(
      [&] {
        std::ifstream in(s.edge->log_file());
        std::string text((std::istreambuf_iterator<char>(in)), {});
        return text.find("websocket client dropped") != std::string::npos;
      },
      30s));
  std::this_thread::sleep_for(1500ms);
  auto stats = s.get("/internal/stats", service());
  CHECK(stats.body.find(R"("connections":0)") != std::string::npos);
  s.stop();
}
