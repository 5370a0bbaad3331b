// The edge in front of the legacy Node.js back end (seed 003, docs/migration.md): the real edge,
// Kafka and Redis, and tests/node/legacy_backend.js as the legacy side. Who is served by whom
// (the seed's flags in Redis: global, per user, a stable percentage), a rollback within the flag
// cache's time, routes the edge lacks proxied unchanged, a legacy that is down, a Redis that is
// down, and the shadow comparison: a planted difference caught, allowed ones ignored, the real
// answer never delayed.
#include <doctest/doctest.h>
#include <simdjson.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "kafka_helpers.hpp"
#include "legacy_backend.hpp"
#include "pipeline.hpp"
#include "process.hpp"
#include "raw_http.hpp"
#include "redis/client.hpp"
#include "redis_listener.hpp"
#include "util/jwt.hpp"

using namespace anipipe::testing;
using namespace std::chrono_literals;

namespace {

constexpr int kRedisDb = 9;
constexpr std::string_view kV1 = "/api/anilibria/v1/titles/";

std::string title_json(std::int64_t id) {
  const auto s = std::to_string(id);
  return R"({"id":)" + s + R"(,"alias":"title-)" + s + R"(","names":{"ru":"Тайтл","en":"Title )" + s +
         R"(","alternative":null},"type":"TV","year":2025,"season":"winter","status":"ongoing","genres":["Комедия","Экшен"],)"
         R"("description":null,"poster":null,"episodes_total":12,"episodes":[{"id":"e1","ordinal":1}],"fresh_at":null,)"
         R"("updated_at":"2025-01-02T08:00:00Z","source":"v1"})";
}

std::string user_token(const std::string& user) {
  return anipipe::util::sign_hs256(R"({"sub":")" + user + R"(","exp":)" + std::to_string(std::time(nullptr) + 3600) + "}", kEdgeUserSecret);
}

/// The documented stable hash (FNV-1a 64), written again here: a test of the documentation too.
bool in_share(const std::string& flag, const std::string& who, int percent) {
  std::uint64_t h = 14695981039346656037ull;
  for (const unsigned char c : flag + ":" + who) h = (h ^ c) * 1099511628211ull;
  return static_cast<int>(h % 100) < percent;
}

struct Setup {
  Pipeline p{{.partitions = 3, .redis_db = kRedisDb}};
  LegacyBackend legacy{p.dir()};
  std::string flag = "mig" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  anipipe::redis::Client redis{[] {
    auto o = test_redis_options();
    o.db = kRedisDb;
    return o;
  }()};
  std::unique_ptr<Process> edge;
  int port = 0;

  void start(std::vector<std::string> extra) {
    produce_all(p.topics().titles, {{"1", title_json(1)}, {"2", title_json(2)}, {"3", title_json(3)}});
    extra.insert(extra.end(), {"--legacy-url", legacy.url(), "--redis-url", p.redis_url(), "--flag-titles", flag, "--flag-cache-ms", "300",
                               "--rate-ip", "0", "--rate-user", "0"});
    edge = p.start_edge("edge.log", port, extra);
    // The legacy side knows the same titles, in the v1 format the edge emits.
    set("global", "enabled");
    std::string docs = "[";
    for (int id = 1; id <= 3; ++id) {
      const auto r = get(std::string(kV1) + std::to_string(id));
      REQUIRE(r.status == 200);
      const auto data = r.body.find("\"data\":");
      docs += (id > 1 ? "," : "") + r.body.substr(data + 7, r.body.size() - data - 8);
    }
    legacy.control("titles", docs + "]");
    redis.command({"DEL", key("global")});
    std::this_thread::sleep_for(500ms);
  }
  std::string key(const std::string& rest) const { return "feature:" + flag + ":" + rest; }
  void set(const std::string& rest, const std::string& value) {
    redis.command({"SET", key(rest), value});
    std::this_thread::sleep_for(500ms);  // the flag cache (300 ms) and a margin
  }
  RawResponse get(const std::string& target, const std::map<std::string, std::string>& headers = {},
                  const std::string& from = "127.0.0.1") {
    return raw_http(port, http_request("GET", target, headers), from);
  }
  /// Which side answered a title read: the legacy's ETags say so.
  std::string side(const std::string& target, const std::map<std::string, std::string>& headers = {},
                   const std::string& from = "127.0.0.1") {
    const auto r = get(target, headers, from);
    if (r.status != 200) return "status " + std::to_string(r.status);
    const auto etag = r.headers.find("etag");
    return etag != r.headers.end() && etag->second.starts_with("\"legacy") ? "legacy" : "edge";
  }
  std::string metrics() { return get("/metrics").body; }
};

}  // namespace

TEST_CASE("edge migration: titles by the seed's flags (global, per user, a stable percentage), rollback within the flag cache") {
  Setup s;
  s.start({});
  INFO(s.edge->log_tail());
  const std::string t1 = std::string(kV1) + "1";

  // No flag at all: the legacy side (the safe default); global enabled: the edge; disabled: back.
  CHECK(s.side(t1) == "legacy");
  s.set("global", "enabled");
  CHECK(s.side(t1) == "edge");
  CHECK(s.side("/api/anilibria/v1/titles?limit=2") == "edge");
  s.set("global", "disabled");
  int on_legacy = 0;
  for (int i = 0; i < 20; ++i) on_legacy += s.side(t1) == "legacy";
  CHECK(on_legacy == 20);

  // A user's own key decides for them, unless global is disabled (the rollback outranks it).
  const auto alice = std::map<std::string, std::string>{{"Authorization", "Bearer " + user_token("alice")}};
  s.set("user:alice", "enabled");
  CHECK(s.side(t1, alice) == "legacy");
  s.redis.command({"DEL", s.key("global")});
  std::this_thread::sleep_for(500ms);
  CHECK(s.side(t1, alice) == "edge");
  CHECK(s.side(t1) == "legacy");  // anyone else
  s.redis.command({"DEL", s.key("user:alice")});

  // Percentages: 200 users, each on the side the documented hash puts them, the same on every
  // request, and a user on the edge at 10 % still there at 25 % and 50 %.
  std::set<int> previous;
  for (const int percent : {10, 25, 50}) {
    s.set("percentage", std::to_string(percent));
    std::set<int> on_edge;
    int wrong = 0;
    for (int u = 0; u < 200; ++u) {
      const auto who = "user-" + std::to_string(u);
      const auto headers = std::map<std::string, std::string>{{"Authorization", "Bearer " + user_token(who)}};
      const auto first = s.side(t1, headers), again = s.side(t1, headers);
      wrong += first != again || (first == "edge") != in_share(s.flag, who, percent);
      if (first == "edge") on_edge.insert(u);
    }
    CHECK(wrong == 0);
    // Within 4.5 standard deviations of the binomial share (the flag's name, so the draw, is new each run).
    const double p = percent / 100.0, sd = std::sqrt(200 * p * (1 - p));
    CHECK(std::fabs(static_cast<double>(on_edge.size()) - 200 * p) <= 4.5 * sd);
    CHECK(std::includes(on_edge.begin(), on_edge.end(), previous.begin(), previous.end()));
    previous = on_edge;
  }
  // Anonymous clients spread by their address.
  s.set("percentage", "50");
  int anonymous_on_edge = 0;
  for (int a = 1; a <= 40; ++a) {
    const auto from = "127.0.3." + std::to_string(a);
    const auto side = s.side(t1, {}, from);
    CHECK(side == (in_share(s.flag, from, 50) ? "edge" : "legacy"));
    anonymous_on_edge += side == "edge";
  }
  CHECK(anonymous_on_edge > 5);
  CHECK(anonymous_on_edge < 35);

  // The rollback: every request on the legacy side within the flag cache's time.
  s.redis.command({"SET", s.key("global"), "disabled"});
  const auto rolled_back = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(300ms + 200ms);
  int after = 0;
  for (int u = 0; u < 50; ++u) after += s.side(t1, {{"Authorization", "Bearer " + user_token("user-" + std::to_string(u))}}) == "legacy";
  CHECK(after == 50);
  CHECK(std::chrono::steady_clock::now() - rolled_back < 10s);

  const auto m = s.metrics();
  CHECK(m.find(R"(anipipe_edge_route_requests_total{route="/api/anilibria/v1/titles/{id}",side="edge",status_class="2xx"})") !=
        std::string::npos);
  CHECK(m.find(R"(anipipe_edge_route_requests_total{route="/api/anilibria/v1/titles/{id}",side="legacy",status_class="2xx"})") !=
        std::string::npos);
  CHECK(m.find(R"(anipipe_edge_route_duration_seconds_count{route="/api/anilibria/v1/titles/{id}",side="edge"})") != std::string::npos);
  s.edge->signal(SIGTERM);
  CHECK(exit_problem(*s.edge, 30s) == "");
}

TEST_CASE("edge migration: routes the edge lacks are proxied unchanged; its own stay; a legacy that is down is a 502") {
  Setup s;
  s.start({});
  INFO(s.edge->log_tail());
  const auto echo = raw_http(s.port, http_request("POST", "/api/anilibria/echo?x=1&y=%20z",
                                                  {{"Content-Type", "application/json"},
                                                   {"X-Request-Id", "req-42"},
                                                   {"Cookie", "session=abc"},
                                                   {"Authorization", "Bearer opaque"},
                                                   {"Accept-Encoding", "gzip"},
                                                   {"X-Not-Forwarded", "1"}},
                                                  R"({"hello":"legacy"})"));
  CHECK(echo.status == 201);
  CHECK(echo.headers.at("set-cookie") == "session=legacy; Path=/");
  CHECK(echo.headers.at("location") == "/api/anilibria/echo/1");
  simdjson::dom::parser parser;
  const auto got = parser.parse(echo.body);
  REQUIRE_FALSE(got.error());
  CHECK(std::string_view(got["method"]) == "POST");
  CHECK(std::string_view(got["url"]) == "/api/anilibria/echo?x=1&y=%20z");
  CHECK(std::string_view(got["body"]) == R"({"hello":"legacy"})");
  CHECK(std::string_view(got["headers"]["x-request-id"]) == "req-42");
  CHECK(std::string_view(got["headers"]["cookie"]) == "session=abc");
  CHECK(std::string_view(got["headers"]["authorization"]) == "Bearer opaque");
  CHECK(std::string_view(got["headers"]["content-type"]) == "application/json");
  CHECK(std::string_view(got["headers"]["x-forwarded-for"]) == "127.0.0.1");
  CHECK(got["headers"]["accept-encoding"].error());
  CHECK(got["headers"]["x-not-forwarded"].error());

  const auto fail = s.get("/api/anilibria/fail");
  CHECK(fail.status == 500);
  CHECK(fail.body == R"({"error":"boom"})");
  CHECK(s.get("/api/anilibria/genres").status == 200);
  CHECK(s.get("/api/anilibria/nothing").status == 404);
  CHECK(s.get("/api/anilibria/nothing").body.find("legacy has no GET") != std::string::npos);
  // The edge's own routes never reach the legacy side.
  CHECK(s.get("/health").status == 200);
  CHECK(s.get("/ready").status == 200);
  const auto seen = s.legacy.requests();
  CHECK(seen.find("/health") == std::string::npos);
  CHECK(seen.find("/ready") == std::string::npos);

  s.legacy.stop();
  const auto down = s.get("/api/anilibria/genres");
  CHECK((down.status == 502 || down.status == 503));
  CHECK(down.body.find(R"("error":)") != std::string::npos);
  const auto m = s.metrics();
  CHECK(m.find(R"(anipipe_edge_route_requests_total{route="other",side="legacy",status_class="5xx"})") != std::string::npos);
  CHECK(m.find(R"(anipipe_edge_route_requests_total{route="other",side="legacy",status_class="2xx"})") != std::string::npos);
  s.edge->signal(SIGTERM);
  CHECK(exit_problem(*s.edge, 30s) == "");
}

TEST_CASE("edge migration: the shadow comparison catches a planted difference, ignores allowed ones, and never delays the answer") {
  Setup s;
  const auto diffs = unique_name("shadow-diffs");
  create_topic(diffs, 1);
  const std::string route = R"(route="/api/anilibria/v1/titles/{id}")";
  s.start({"--shadow-percent", "100", "--shadow-ignore", "data.legacyOnly", "--shadow-unordered", "data.genres",
           "--shadow-timestamp-tolerance-ms", "2000", "--shadow-diff-sample", "1", "--shadow-diffs-topic", diffs});
  INFO(s.edge->log_tail());
  s.set("global", "enabled");
  const std::string t1 = std::string(kV1) + "1";
  auto count = [&](const std::string& series) {
    const auto m = s.metrics();
    const auto at = m.find(series + " ");
    return at == std::string::npos ? 0.0 : std::stod(m.substr(at + series.size() + 1));
  };
  const auto matches = "anipipe_shadow_comparisons_total{outcome=\"match\"," + route + "}";
  const auto mismatches = "anipipe_shadow_comparisons_total{outcome=\"mismatch\"," + route + "}";
  // The setup's three reads are compared in the background, with a legacy side that may or may
  // not know the titles yet (a status mismatch, or a match): once done, the baseline.
  CHECK(eventually([&] { return count(matches) + count(mismatches) >= 3; }, 10s));
  const auto baseline = count(mismatches), matched = count(matches);

  // Allowed differences: a field only the legacy has (listed), a list in another order (unordered),
  // a timestamp 1.5 s off (tolerance 2 s).
  s.legacy.control("differ", R"({"field":"data.legacyOnly","add":true})");
  s.legacy.control("differ", R"({"field":"data.genres","reverse":true})");
  s.legacy.control("differ", R"({"field":"data.updatedAt","shift_ms":1500})");
  CHECK(s.side(t1) == "edge");
  CHECK(eventually([&] { return count(matches) >= matched + 1; }, 10s));
  CHECK(count(mismatches) == baseline);

  // A planted difference: counted with its field, logged (one line a second at most: a second
  // after the setup's), produced to the topic.
  std::this_thread::sleep_for(1s);
  s.legacy.control("differ", R"({"field":"data.names.en","value":"Planted"})");
  CHECK(s.side(t1) == "edge");
  const auto field = "anipipe_shadow_mismatches_total{field=\"data.names.en\"," + route + "}";
  CHECK(eventually([&] { return count(field) >= 1; }, 10s));
  CHECK(count(mismatches) == baseline + 1);
  const auto m = s.metrics();
  CHECK(m.find("field=\"data.genres\"") == std::string::npos);
  CHECK(m.find("field=\"data.legacyOnly\"") == std::string::npos);
  CHECK(m.find("field=\"data.updatedAt\"") == std::string::npos);
  const std::string planted = R"("field":"data.names.en","edge":"\"Title 1\"","legacy":"\"Planted\"")";
  const auto has_planted = [&](const std::vector<Received>& records) {
    return std::any_of(records.begin(), records.end(),
                       [&](const auto& r) { return r.value && r.value->find(planted) != std::string::npos; });
  };
  CHECK(has_planted(consume_until(diffs, has_planted, 15s)));
  CHECK(s.edge->log_tail(20000).find("shadow mismatch GET /api/anilibria/v1/titles/1") != std::string::npos);

  // A slow legacy on the shadow side: the edge's answers stay fast.
  s.legacy.control("sleep", R"({"ms":2000})");
  for (int i = 0; i < 5; ++i) {
    const auto started = std::chrono::steady_clock::now();
    CHECK(s.side(t1) == "edge");
    CHECK(std::chrono::steady_clock::now() - started < 500ms);
  }
  s.legacy.control("sleep", R"({"ms":0})");
  s.edge->signal(SIGTERM);
  CHECK(exit_problem(*s.edge, 30s) == "");
}

TEST_CASE("edge migration: Redis down - the last answers hold for --flag-stale-ms, then the legacy side, counted; no request fails") {
  Pipeline p;
  LegacyBackend legacy(p.dir());  // knows no titles: its answer is a 404, the edge's a 200
  const int redis_port = [] {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return static_cast<int>(ntohs(a.sin_port));
  }();
  // A redis-server of this test's own, to stop.
  auto redis_server = std::make_unique<Process>(std::vector<std::string>{"/usr/bin/env", "redis-server", "--bind", "127.0.0.1", "--port",
                                                                         std::to_string(redis_port), "--save", "", "--appendonly", "no"},
                                                p.dir() + "/redis.log");
  anipipe::redis::Options o;
  o.port = redis_port;
  anipipe::redis::Client redis(o);
  REQUIRE(eventually(
      [&] {
        try {
          return redis.command({"PING"}).str == "PONG";
        } catch (const std::exception&) {
          return false;
        }
      },
      10s));
  redis.command({"SET", "feature:stale:global", "enabled"});
  produce_all(p.topics().titles, {{"1", title_json(1)}});
  int port = 0;
  auto edge = p.start_edge("edge.log", port,
                           {"--legacy-url", legacy.url(), "--redis-url", "redis://127.0.0.1:" + std::to_string(redis_port) + "/0",
                            "--flag-titles", "stale", "--flag-cache-ms", "200", "--flag-stale-ms", "3000", "--rate-ip", "0"});
  INFO(edge->log_tail());
  const auto status = [&] { return raw_http(port, http_request("GET", std::string(kV1) + "1")).status; };
  CHECK(status() == 200);

  redis_server.reset();  // killed
  const auto down = std::chrono::steady_clock::now();
  int on_edge = 0, answers = 0;
  while (std::chrono::steady_clock::now() - down < 1500ms) {
    const auto started = std::chrono::steady_clock::now();
    on_edge += status() == 200;
    ++answers;
    CHECK(std::chrono::steady_clock::now() - started < 1s);
    std::this_thread::sleep_for(50ms);
  }
  CHECK(on_edge == answers);  // the last answer, kept
  std::this_thread::sleep_until(down + 4s);
  CHECK(status() == 404);  // the legacy side
  const auto m = raw_http(port, http_request("GET", "/metrics")).body;
  CHECK(m.find(R"(anipipe_edge_flag_reads_total{source="stale"})") != std::string::npos);
  CHECK(m.find(R"(anipipe_edge_flag_reads_total{source="fallback"})") != std::string::npos);
  edge->signal(SIGTERM);
  CHECK(exit_problem(*edge, 30s) == "");
}

namespace {

/// Everything the edge sends back for one request as written, the status line and headers lower-cased.
std::string raw_answer(int port, const std::string& request) {
  const int fd = connect_from(port);
  REQUIRE(fd >= 0);
  REQUIRE(send_all(fd, request));
  auto text = drain(fd, 5s).data;
  ::close(fd);
  const auto head_end = text.find("\r\n\r\n");
  std::transform(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(std::min(head_end, text.size())), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("edge migration: a slow legacy holds no thread - 40 proxied reads of a 1 s route take about 1 s, /health and internal writes "
          "stay fast") {
  Setup s;
  s.start({"--blocking-threads", "4"});
  INFO(s.edge->log_tail());
  const std::string t1 = std::string(kV1) + "1";  // no flag: the legacy's
  REQUIRE(s.side(t1) == "legacy");
  s.legacy.control("sleep", R"({"ms":1000})");
  const auto started = std::chrono::steady_clock::now();
  std::atomic<int> answered{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 40; ++i) clients.emplace_back([&] { answered += s.get(t1).status == 200; });
  std::this_thread::sleep_for(300ms);
  // While all 40 wait on the legacy: the edge's own answers, one on the I/O threads, one on the blocking pool.
  const auto health_at = std::chrono::steady_clock::now();
  CHECK(s.get("/health").status == 200);
  const auto health = std::chrono::steady_clock::now() - health_at;
  const auto token = anipipe::util::sign_hs256(
      R"({"sub":"node-backend","scope":"internal","exp":)" + std::to_string(std::time(nullptr) + 600) + "}", kEdgeServiceSecret);
  const auto write_at = std::chrono::steady_clock::now();
  const auto write = raw_http(
      s.port, http_request("DELETE", "/internal/cache/clear", {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}},
                           R"({"pattern":"anilibria:v2:*","confirm":true})"));
  const auto internal = std::chrono::steady_clock::now() - write_at;
  for (auto& c : clients) c.join();
  const auto took = std::chrono::steady_clock::now() - started;
  s.legacy.control("sleep", R"({"ms":0})");
  MESSAGE("40 proxied 1 s reads: ", answered.load(), " answered in ", std::chrono::duration<double>(took).count(), " s; /health ",
          std::chrono::duration<double>(health).count(), " s, internal write ", std::chrono::duration<double>(internal).count(), " s");
  CHECK(answered == 40);
  CHECK(took < 2500ms);
  CHECK(health < 200ms);
  CHECK(write.status / 100 == 2);
  CHECK(internal < 500ms);
  s.edge->signal(SIGTERM);
  CHECK(exit_problem(*s.edge, 30s) == "");
}

TEST_CASE("edge migration: every Set-Cookie of the legacy comes back, a proxied HEAD keeps its Content-Length, idle connections the "
          "legacy closed cost no answer") {
  Setup s;
  s.start({});
  INFO(s.edge->log_tail());
  const auto got = raw_answer(s.port, http_request("GET", "/api/anilibria/cookies"));
  CHECK(got.starts_with("http/1.1 200"));
  CHECK(occurrences(got, "\r\nset-cookie: ") == 2);
  CHECK(got.find("\r\nset-cookie: first=1; path=/\r\n") != std::string::npos);
  CHECK(got.find("\r\nset-cookie: second=2; path=/; httponly\r\n") != std::string::npos);
  const auto body = got.substr(got.find("\r\n\r\n") + 4);
  CHECK(body == R"({"cookies":2})");

  const auto head = raw_answer(s.port, http_request("HEAD", "/api/anilibria/cookies"));
  CHECK(head.starts_with("http/1.1 200"));
  CHECK(head.find("\r\ncontent-length: " + std::to_string(body.size()) + "\r\n") != std::string::npos);
  CHECK(head.ends_with("\r\n\r\n"));                    // no body
  CHECK(s.get("/api/anilibria/genres").status == 200);  // the connection the HEAD leaves is reused

  // The legacy closes idle connections after its keep-alive timeout: the next read and the next
  // write still get answers (a closed connection is dropped before use or, for a read, retried).
  s.legacy.control("keepalive", R"({"ms":200})");
  CHECK(s.get("/api/anilibria/genres").status == 200);
  std::this_thread::sleep_for(600ms);
  CHECK(s.get("/api/anilibria/genres").status == 200);
  std::this_thread::sleep_for(600ms);
  CHECK(raw_http(s.port, http_request("POST", "/api/anilibria/echo", {{"Content-Type", "application/json"}}, "{}")).status == 201);
  s.edge->signal(SIGTERM);
  CHECK(exit_problem(*s.edge, 30s) == "");
}

TEST_CASE("edge migration: --legacy-max-in-flight - beyond it a proxied request is refused at once with a 503 and Retry-After") {
  Setup s;
  s.start({"--legacy-max-in-flight", "5"});
  INFO(s.edge->log_tail());
  const std::string t1 = std::string(kV1) + "1";
  s.legacy.control("sleep", R"({"ms":1500})");
  std::atomic<int> ok{0}, refused{0}, other{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 12; ++i)
    clients.emplace_back([&] {
      const auto started = std::chrono::steady_clock::now();
      const auto r = s.get(t1);
      if (r.status == 200) ++ok;
      else if (r.status == 503 && r.headers.count("retry-after") && r.body.find(R"("error":"legacy_busy")") != std::string::npos &&
               std::chrono::steady_clock::now() - started < 500ms)
        ++refused;
      else ++other;
    });
  for (auto& c : clients) c.join();
  s.legacy.control("sleep", R"({"ms":0})");
  CHECK(ok == 5);
  CHECK(refused == 7);
  CHECK(other == 0);
  CHECK(s.side(t1) == "legacy");  // the slots are given back
  CHECK(s.get("/health").status == 200);
  const auto m = s.metrics();
  CHECK(m.find(R"(anipipe_edge_route_requests_total{route="/api/anilibria/v1/titles/{id}",side="legacy",status_class="5xx"})") !=
        std::string::npos);
  CHECK(m.find(R"(anipipe_http_requests_total{client="legacy",outcome="2xx"})") != std::string::npos);
  s.edge->signal(SIGTERM);
  CHECK(exit_problem(*s.edge, 30s) == "");
}
