// anipipe-sync against the real broker and the fake upstream: change detection, one new_episode
// per new episode, request results (fetched from the upstream), tombstones, the upstream down and
// back, requests overtaking a backlog, state rebuilt from the compacted titles, exactly-once
// across SIGKILLs, refused requests answered `rejected` (to the edge and to kafkajs at once), and
// the site's Node.js client (kafkajs) round trip.
#include <doctest/doctest.h>

#include <signal.h>

#include <simdjson.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include "fake_upstream.hpp"
#include "kafka_helpers.hpp"
#include "pipeline.hpp"
#include "process.hpp"
#include "raw_http.hpp"
#include "util/jwt.hpp"

using namespace anipipe::testing;
using namespace std::chrono_literals;

namespace {

struct SyncSetup {
  std::string events = unique_name("sync-events"), requests = unique_name("sync-requests"), titles = unique_name("sync-titles"),
              new_episode = unique_name("sync-new-episode"), results = unique_name("sync-results"), dlq = unique_name("sync-dlq"),
              group = unique_name("sync-group"), dir = make_temp_dir("sync");
  FakeUpstream upstream{dir};
  SyncSetup() {
    for (const auto& t : {events, requests}) create_topic(t, 3);
    // As topics/topics.json has them: what the Node.js back end reads is stored gzip (kafkajs).
    for (const auto& t : {new_episode, results}) create_topic(t, 3, {{"compression.type", "gzip"}});
    create_topic(titles, 3, {{"cleanup.policy", "compact"}});
    create_topic(dlq, 1);
  }
  std::unique_ptr<Process> start(const std::string& instance, const std::string& log, const std::string& batch = "200",
                                 const std::vector<std::string>& extra = {}) const {
    std::vector<std::string> argv{sync_binary(),
                                  "--brokers",
                                  test_kafka_settings().brokers,
                                  "--group",
                                  group,
                                  "--instance-id",
                                  instance,
                                  "--events-topic",
                                  events,
                                  "--requests-topic",
                                  requests,
                                  "--titles-topic",
                                  titles,
                                  "--new-episode-topic",
                                  new_episode,
                                  "--results-topic",
                                  results,
                                  "--dlq-topic",
                                  dlq,
                                  "--metrics-addr",
                                  "off",
                                  "--batch-max",
                                  batch,
                                  "--kafka",
                                  "session.timeout.ms=6000",
                                  "--upstream-url",
                                  upstream.v1_base_url()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<Process>(std::move(argv), dir + "/" + log);
  }
};

/// A snapshot that lists every episode of the title (sync takes it as it is, no fetch).
std::string event(int title, const std::vector<int>& episodes, const std::string& status = "ongoing") {
  std::string eps;
  for (int e : episodes)
    eps += std::string(eps.empty() ? "" : ",") + R"({"id":"t)" + std::to_string(title) + "-e" + std::to_string(e) + R"(","ordinal":)" +
           std::to_string(e) + "}";
  const std::string t = std::to_string(title);
  return R"({"event_id":"0123456789abcdef0123456789abcdef","kind":"release_changed","title_id":)" + t +
         R"(,"observed_at":"2025-01-16T08:20:00Z","source":{"api":"v1"},"episodes_complete":true,"title":{"id":)" + t + R"(,"alias":"t)" +
         t + R"(","names":{"ru":"T"},"type":null,"year":null,"season":null,"status":")" + status + R"(","genres":[],"episodes":[)" + eps +
         R"(],"updated_at":null,"source":"v1"}})";
}

/// An event that says something changed without carrying the title (sync must fetch it).
std::string bare_event(int title, const std::string& kind = "episode_published") {
  return R"({"event_id":"fedcba9876543210fedcba9876543210","kind":")" + kind + R"(","title_id":)" + std::to_string(title) +
         R"(,"observed_at":"2025-01-16T08:20:00Z","source":{"api":"v1"}})";
}

std::string request(int title, const std::string& correlation, bool force = false, const std::string& priority = "high") {
  return R"({"title_id":)" + std::to_string(title) + R"(,"force":)" + (force ? "true" : "false") + R"(,"priority":")" + priority +
         R"(","requested_by":"test","correlation_id":")" + correlation + R"("})";
}

/// How many times each correlation id was answered, and the answers' timestamps.
struct Answers {
  std::map<std::string, int> times;
  std::map<std::string, std::int64_t> at_ms;
  explicit Answers(const std::vector<Received>& results) {
    for (const auto& r : results) {
      ++times[r.key.value_or("")];
      at_ms[r.key.value_or("")] = r.timestamp_ms;
    }
  }
  std::size_t duplicated() const {
    std::size_t n = 0;
    for (const auto& [_, count] : times) n += count > 1;
    return n;
  }
};

std::map<std::string, std::string> results_by_key(const std::vector<Received>& results) {
  std::map<std::string, std::string> out;
  for (const auto& r : results) out[r.key.value_or("")] = r.value.value_or("");
  return out;
}

bool has(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("sync: snapshots - changes, unchanged, new episodes once, dead letters, and a rebuilt state that emits nothing known") {
  SyncSetup s;
  auto sync = s.start("a", "sync-1.log");
  INFO(sync->log_tail());
  produce_all(
      s.events,
      {{"1", event(1, {1})}, {"1", event(1, {1})}, {"1", event(1, {2})}, {"1", event(1, {2}, "finished")}, {"2", event(2, {1, 2})}});
  auto episodes = consume(s.new_episode, 4, 30s);
  CHECK(episodes.size() == 4);                   // t1-e1, t1-e2, t2-e1, t2-e2
  CHECK(consume(s.titles, 10, 3s).size() == 4);  // title 1 three times (new, e2, finished), title 2 once

  produce_all(s.events, {{"3", "{not json"}});
  auto dead = consume(s.dlq, 1, 10s);
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].headers["dlq-error"].find("not JSON") != std::string::npos);

  // A fresh instance knows everything from anilibria.titles: the same snapshots produce nothing.
  sync->signal(SIGTERM);
  REQUIRE(exit_problem(*sync, 30s) == "");
  // History added while no sync runs: known snapshots for both titles, one genuinely new episode.
  produce_all(s.events, {{"1", event(1, {1, 2}, "finished")}, {"2", event(2, {2})}, {"2", event(2, {3})}});
  auto fresh = s.start("b", "sync-2.log");
  INFO(fresh->log_tail());
  auto after = consume(s.new_episode, 6, 20s);
  CHECK(after.size() == 5);  // only t2-e3 is new
  CHECK(consume(s.titles, 10, 3s).size() == 5);
  fresh->signal(SIGTERM);
  CHECK(exit_problem(*fresh, 30s) == "");
}

TEST_CASE("sync: requests and bare events fetch the upstream - changed, unchanged, forced, not_found, a removed title's tombstone") {
  SyncSetup s;
  auto sync = s.start("a", "sync-1.log");
  INFO(sync->log_tail());
  // 9873 is the fake upstream's seeded title (one episode); the catalog does not know it yet.
  produce_all(s.requests, {{"9873", request(9873, "c-new")}});
  auto results = results_by_key(consume(s.results, 1, 30s));
  REQUIRE(results.count("c-new"));
  CHECK(has(results["c-new"], R"("status":"changed")"));
  CHECK(has(results["c-new"], R"("new_episodes":1)"));
  CHECK(consume(s.new_episode, 1, 10s).size() == 1);

  // An event that only says an episode was published: sync fetches the title and finds the new one.
  s.upstream.control("episode", R"({"release_id":9873,"ordinal":3,"id":"ep-3","name":"Three"})");
  produce_all(s.events, {{"9873", bare_event(9873)}, {"9873", bare_event(9873, "encode_progress")}});
  auto episodes = consume(s.new_episode, 2, 30s);
  REQUIRE(episodes.size() == 2);
  CHECK(has(*episodes[1].value, R"("event_id":"9873:ep-3")"));

  // Not forced and fetched moments ago: answered from the catalog. Forced: fetched and re-published.
  // Unknown to the upstream: not_found. A title the upstream dropped: not_found and a tombstone.
  const int calls_before = s.upstream.requests();
  produce_all(s.requests, {{"9873", request(9873, "c-fresh")}});
  results = results_by_key(consume(s.results, 2, 30s));
  CHECK(has(results["c-fresh"], R"("status":"unchanged")"));
  CHECK(s.upstream.requests() == calls_before);
  produce_all(s.requests, {{"9873", request(9873, "c-forced", true)}, {"7", request(7, "c-unknown")}});
  results = results_by_key(consume(s.results, 4, 30s));
  CHECK(has(results["c-forced"], R"("status":"unchanged")"));
  CHECK(has(results["c-forced"], "re-published"));
  CHECK(has(results["c-unknown"], R"("status":"not_found")"));
  s.upstream.control("remove", R"({"id":9873})");
  produce_all(s.requests, {{"9873", request(9873, "c-removed", true)}, {"8", R"({"title_id":"8"})"}});
  results = results_by_key(consume(s.results, 5, 30s));
  CHECK(has(results["c-removed"], R"("status":"not_found")"));
  CHECK(has(results["c-removed"], "removed from the catalog"));
  auto titles = consume(s.titles, 100, 5s);
  REQUIRE(titles.size() == 4);  // new, ep-3, forced re-publish, tombstone
  CHECK(titles[2].value == titles[1].value);
  CHECK_FALSE(titles[3].value.has_value());
  CHECK(consume(s.dlq, 1, 10s).size() == 1);  // the request whose title_id is a string
  CHECK(consume(s.new_episode, 3, 3s).size() == 2);
  sync->signal(SIGTERM);
  CHECK(exit_problem(*sync, 30s) == "");
}

TEST_CASE("sync: a refused request that carries a correlation id is answered rejected with the reason, beside its dead letter") {
  SyncSetup s;
  auto sync = s.start("a", "sync-1.log");
  INFO(sync->log_tail());
  // Sync is consuming once a valid request is answered; the refused ones are timed from there.
  produce_all(s.requests, {{"7", request(7, "r-warm-up")}});
  REQUIRE(consume(s.results, 1, 30s).size() == 1);
  const auto sent = std::chrono::steady_clock::now();
  produce_all(s.requests, {{"8", R"({"title_id":"8","correlation_id":"r-string-id"})"},
                           {"9", R"({"title_id":9,"force":"yes","correlation_id":"r-field-type"})"},
                           {"10", R"({"title_id":10,"priority":"urgent","correlation_id":"r-schema"})"},
                           {"x", R"({"correlation_id":"r-no-title"})"},
                           {"12", R"({"title_id":"12"})"},  // no correlation id anywhere: a dead letter only
                           {"13", "garbage"}});
  anipipe::kafka::EventHeaders header;  // not JSON, but the correlation-id header says who waits
  header.correlation_id = "r-not-json";
  produce_all(s.requests, {{"11", R"({"title_id":11,"correlation_id":"r-not-json")"}}, header);
  auto results = results_by_key(consume(s.results, 6, 10s));
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - sent);
  MESSAGE("the rejected results arrived within " << waited.count() << " ms");
  CHECK(waited < 5s);
  const std::map<std::string, std::vector<std::string>> expected{{"r-string-id", {R"("title_id":8,)", "/title_id"}},
                                                                 {"r-field-type", {R"("title_id":9,)", "/force"}},
                                                                 {"r-schema", {R"("title_id":10,)", "/priority"}},
                                                                 {"r-no-title", {"title_id"}},
                                                                 {"r-not-json", {R"("title_id":11,)", "not JSON"}}};
  for (const auto& [cid, needles] : expected) {
    CAPTURE(cid);
    REQUIRE(results.count(cid));
    CHECK(has(results[cid], R"("correlation_id":")" + cid + "\""));
    CHECK(has(results[cid], R"("status":"rejected")"));
    CHECK(has(results[cid], R"("reason":")"));
    for (const auto& n : needles) CHECK(has(results[cid], n));
  }
  CHECK_FALSE(has(results["r-no-title"], R"("title_id":)"));  // nothing to say it with
  // Every refused request is dead-lettered too; the two without a correlation id only that.
  auto dead = consume(s.dlq, 8, 10s);
  CHECK(dead.size() == 7);
  CHECK(consume(s.results, 7, 3s).size() == 6);
  sync->signal(SIGTERM);
  CHECK(exit_problem(*sync, 30s) == "");
}

TEST_CASE("sync: the edge answers a request sync refuses with 422 and the reason at once, not after its wait") {
  // The edge checks a request against its own copy of the contract; a sync whose copy is stricter
  // (a rolling upgrade) refuses what the edge let through. Its caller must hear so at once.
  Pipeline p;
  const std::string strict = p.dir() + "/strict-schemas";
  std::filesystem::copy(source_dir() + "/schemas", strict);
  const std::string file = strict + "/anilibria.sync_requests.schema.json";
  std::ifstream in(file);
  std::string schema((std::istreambuf_iterator<char>(in)), {});
  schema = std::regex_replace(schema, std::regex(R"("enum": \["high", "normal", "low"\])"), R"("enum": ["high", "low"])");
  REQUIRE(has(schema, R"("enum": ["high", "low"])"));
  std::ofstream(file) << schema;
  auto sync = p.start_sync("sync.log", {"--schema-dir", strict});
  INFO(sync->log_tail());
  int port = 0;
  auto edge = p.start_edge("edge.log", port);
  INFO(edge->log_tail());
  produce_all(p.topics().requests, {{"7", request(7, "e-warm-up")}});
  REQUIRE(consume(p.topics().results, 1, 30s).size() == 1);

  const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const auto token = anipipe::util::sign_hs256(R"({"sub":"node-backend","scope":"internal","exp":)" + std::to_string(now + 600) + "}",
                                               kEdgeServiceSecret);
  const std::map<std::string, std::string> headers{
      {"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}, {"Idempotency-Key", "e-refused"}};
  const auto sent = std::chrono::steady_clock::now();
  // The edge's priority is "normal", which the stricter contract does not allow.
  const auto answer = raw_http(port, http_request("POST", "/internal/sync/title?wait=4000", headers, R"({"title_id":9873})"));
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - sent);
  MESSAGE("the edge answered " << answer.status << " in " << waited.count() << " ms: " << answer.body);
  CHECK(answer.status == 422);
  CHECK(has(answer.body, R"("error":"rejected")"));
  CHECK(has(answer.body, "/priority"));
  CHECK(waited < 3s);
  CHECK(consume(p.topics().dlq, 1, 10s).size() == 1);
  edge->signal(SIGTERM);
  CHECK(exit_problem(*edge, 30s) == "");
  sync->signal(SIGTERM);
  CHECK(exit_problem(*sync, 30s) == "");
}

TEST_CASE(
    "sync: the upstream down - the breaker opens, other partitions keep moving, requests get upstream_unavailable, the backlog drains") {
  SyncSetup s;
  s.upstream.control("misbehave", R"({"mode":"500","count":1000000})");
  auto sync = s.start("a", "sync-1.log", "200",
                      {"--breaker-open-ms", "1000", "--request-wait-ms", "6000", "--retry-backoff-max-ms", "1000"});
  INFO(sync->log_tail());
  // The bare event needs the upstream; the snapshots do not.
  produce_all(s.events, {{"9873", bare_event(9873)}});
  std::vector<Produced> snapshots;
  for (int t = 1; t <= 30; ++t) snapshots.push_back({std::to_string(t), event(t, {1})});
  produce_all(s.events, snapshots);
  produce_all(s.requests, {{"9873", request(9873, "c-down")}});
  // Which partition is held back: the one 9873's event is in.
  std::int32_t held = -1;
  std::set<std::string> elsewhere;
  for (const auto& r : consume(s.events, 31, 10s)) {
    if (*r.key == "9873") held = r.partition;
  }
  for (const auto& r : consume(s.events, 31, 10s))
    if (r.partition != held) elsewhere.insert(*r.key);
  REQUIRE(held >= 0);
  REQUIRE(!elsewhere.empty());
  // Snapshots on the other partitions go through while the upstream is down.
  auto moving = consume_until(
      s.new_episode, [&](const auto& got) { return got.size() >= elsewhere.size(); }, 30s);
  CHECK(moving.size() >= elsewhere.size());
  // The request waits its 6 s (the breaker opens meanwhile: 5 failed fetches), then hears why.
  auto results = results_by_key(consume(s.results, 1, 30s));
  REQUIRE(results.count("c-down"));
  CHECK(has(results["c-down"], R"("status":"upstream_unavailable")"));
  CHECK(has(results["c-down"], "circuit open"));
  CHECK(s.upstream.requests() < 40);  // the breaker spared the upstream: no call per retry
  // The upstream is back: the held event drains, nothing is lost, nothing doubled.
  s.upstream.control("misbehave", R"({"mode":"clear"})");
  auto all = consume_until(
      s.new_episode, [](const auto& got) { return got.size() >= 31; }, 60s);
  std::set<std::string> keys;
  for (const auto& r : all) keys.insert(*r.key);
  CHECK(all.size() == 31);
  CHECK(keys.size() == 31);
  CHECK(keys.count("9873"));
  CHECK(consume(s.new_episode, 32, 3s).size() == 31);
  sync->signal(SIGTERM);
  CHECK(exit_problem(*sync, 30s) == "");
}

TEST_CASE("sync: a record held back while the batch before it on its partition commits is taken again once the upstream is back") {
  // One record per transaction: 9873's snapshot commits while its bare event, fetched meanwhile
  // against an upstream that answers 500, is held back. The commit coming in must not forget
  // the hold (it did: the partition stayed paused for good).
  SyncSetup s;
  s.upstream.control("misbehave", R"({"mode":"500","count":1000000})");
  auto sync = s.start("a", "sync-1.log", "1", {"--retry-backoff-max-ms", "500", "--breaker-failures", "1000"});
  INFO(sync->log_tail());
  produce_all(s.events, {{"9873", event(9873, {1})}, {"9873", bare_event(9873)}});
  REQUIRE(consume(s.new_episode, 1, 30s).size() == 1);  // the snapshot's episode 1
  REQUIRE(eventually([&] { return sync->log_tail().find("held back") != std::string::npos; }, 30s));
  s.upstream.control("misbehave", R"({"mode":"clear"})");
  // The fetch finds the upstream's other episodes of 9873: announced once the hold is over.
  auto all = consume_until(
      s.new_episode, [](const auto& got) { return got.size() >= 2; }, 30s);
  CHECK(all.size() >= 2);
  sync->signal(SIGTERM);
  CHECK(exit_problem(*sync, 30s) == "");
}

TEST_CASE("sync: a sync request overtakes a backlog of bulk events") {
  SyncSetup s;
  std::vector<Produced> backlog;
  // Large enough that sync is still busy with it (~5 s) when the request comes, well after the
  // first new episode is seen: 30,000 events in batches of 500 were gone in under 2 s.
  for (int i = 0; i < 60000; ++i) backlog.push_back({std::to_string(1 + i % 3000), event(1 + i % 3000, {1 + i / 3000})});
  produce_all(s.events, backlog);
  auto sync = s.start("a", "sync-1.log", "200");
  INFO(sync->log_tail());
  // Wait until sync is busy with the backlog, then ask for a title.
  REQUIRE(eventually([&] { return !consume(s.new_episode, 1, 200ms).empty(); }, 60s));
  produce_all(s.requests, {{"9873", request(9873, "c-urgent")}});
  auto results = consume(s.results, 1, 30s);
  REQUIRE(results.size() == 1);
  auto all = consume_until(
      s.new_episode, [](const auto& got) { return got.size() >= 60001; }, 180s);
  CHECK(all.size() == 60001);
  // Where the requested title's new episode landed in its partition: near the start if the request
  // overtook the backlog, at the very end had it queued behind it.
  std::map<std::int32_t, std::int64_t> partition_size;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  for (const auto& r : all) {
    partition_size[r.partition] = std::max(partition_size[r.partition], r.offset + 1);
    if (*r.key == "9873") partition = r.partition, offset = r.offset;
  }
  REQUIRE(partition >= 0);
  const double position = static_cast<double>(offset) / static_cast<double>(partition_size[partition]);
  MESSAGE("the request's new episode is at " << offset << " of " << partition_size[partition] << " in its partition");
  CHECK(position < 0.5);
  sync->signal(SIGTERM);
  CHECK(exit_problem(*sync, 30s) == "");
}

TEST_CASE("sync: a high request overtakes 5000 low ones queued before it, and every low one is answered once") {
  SyncSetup s;
  constexpr int lows = 5000, first = 200000;
  s.upstream.control("bulk", R"({"first_id":)" + std::to_string(first) + R"(,"count":)" + std::to_string(lows + 1) + "}");
  std::vector<Produced> queued;
  for (int i = 0; i < lows; ++i)
    queued.push_back({std::to_string(first + i), request(first + i, "low-" + std::to_string(i), false, "low")});
  produce_all(s.requests, queued);
  produce_all(s.requests, {{std::to_string(first + lows), request(first + lows, "the-high")}});
  auto sync = s.start("a", "sync-1.log");  // batches of 200
  INFO(sync->log_tail());
  auto results = consume_until(
      s.results, [](const auto& got) { return got.size() >= lows + 1; }, 180s);
  Answers answers(results);
  REQUIRE(answers.times.count("the-high"));
  // Each batch's answers are produced after the one before it committed: the timestamps order them.
  const auto high_at = answers.at_ms["the-high"];
  std::size_t lows_answered = 0, lows_not_after = 0;
  for (int i = 0; i < lows; ++i) {
    auto at = answers.at_ms.find("low-" + std::to_string(i));
    if (at == answers.at_ms.end()) continue;
    ++lows_answered;
    lows_not_after += at->second <= high_at;
  }
  MESSAGE("the high's answer came after " << lows_not_after << " of " << lows << " low answers (at or before its timestamp)");
  CHECK(lows_not_after < lows / 10);
  CHECK(lows_answered == static_cast<std::size_t>(lows));
  CHECK(answers.duplicated() == 0);
  CHECK(consume(s.results, lows + 2, 3s).size() == static_cast<std::size_t>(lows + 1));
  sync->signal(SIGTERM);
  CHECK(exit_problem(*sync, 30s) == "");
}

TEST_CASE("sync: mixed priorities and a SIGKILL mid-way - every request answered exactly once") {
  SyncSetup s;
  constexpr int total = 3000, first = 300000;
  s.upstream.control("bulk", R"({"first_id":)" + std::to_string(first) + R"(,"count":)" + std::to_string(total / 3) + "}");
  const std::vector<std::string> lanes{"low", "low", "normal", "low", "high", "low", "normal"};
  std::vector<Produced> queued;
  // Three requests per title, so the per-title order is exercised too.
  for (int i = 0; i < total; ++i)
    queued.push_back({std::to_string(first + i % (total / 3)),
                      request(first + i % (total / 3), "m-" + std::to_string(i), i % 11 == 0, lanes[i % lanes.size()])});
  produce_all(s.requests, queued);
  auto sync = s.start("x", "sync-1.log", "50");
  std::size_t seen = 0;
  REQUIRE(eventually([&] { return (seen = consume(s.results, total, 300ms).size()) >= 300; }, 60s));
  sync->signal(SIGKILL);
  sync->wait_for(10s);
  MESSAGE("killed with " << seen << " answers visible");
  CHECK(seen < static_cast<std::size_t>(total));
  sync = s.start("x", "sync-2.log", "50");
  INFO(sync->log_tail());
  auto results = consume_until(
      s.results, [](const auto& got) { return got.size() >= total; }, 180s);
  Answers answers(results);
  std::size_t missing = 0;
  for (int i = 0; i < total; ++i) missing += !answers.times.count("m-" + std::to_string(i));
  CHECK(missing == 0);
  CHECK(answers.duplicated() == 0);
  CHECK(consume(s.results, total + 1, 3s).size() == static_cast<std::size_t>(total));
  sync->signal(SIGTERM);
  CHECK(exit_problem(*sync, 30s) == "");
}

TEST_CASE("sync: mixed priorities while a second instance joins and the first leaves - every request answered exactly once") {
  // The partitions move between instances mid-way (a revoke commits what is answered, out of
  // order; the next owner restores it from the committed offset and metadata).
  SyncSetup s;
  constexpr int total = 3000, titles = 1000, first = 400000;
  s.upstream.control("bulk", R"({"first_id":)" + std::to_string(first) + R"(,"count":)" + std::to_string(titles) + "}");
  const std::vector<std::string> lanes{"low", "high", "low", "normal", "low"};
  std::vector<Produced> queued;
  for (int i = 0; i < total; ++i)
    queued.push_back(
        {std::to_string(first + i % titles), request(first + i % titles, "j-" + std::to_string(i), i % 7 == 0, lanes[i % lanes.size()])});
  produce_all(s.requests, queued);
  s.upstream.control("misbehave", R"({"mode":"slow","count":1000000,"delay_ms":50})");  // long enough to move mid-way
  auto a = s.start("a", "sync-a.log", "20");
  std::size_t seen = 0;
  REQUIRE(eventually([&] { return (seen = consume(s.results, total, 300ms).size()) >= 200; }, 60s));
  auto b = s.start("b", "sync-b.log", "20");
  INFO(b->log_tail());
  const std::regex took_some(R"("assigned [1-9])");
  REQUIRE(eventually([&] { return std::regex_search(b->log_tail(), took_some); }, 60s));
  const std::size_t at_join = seen;
  REQUIRE(eventually([&] { return (seen = consume(s.results, total, 300ms).size()) >= at_join + 300; }, 60s));
  a->signal(SIGTERM);
  CHECK(exit_problem(*a, 30s) == "");
  MESSAGE(at_join << " answers visible when b joined, " << seen << " when a left");
  CHECK(seen < static_cast<std::size_t>(total));
  auto results = consume_until(
      s.results, [](const auto& got) { return got.size() >= total; }, 180s);
  Answers answers(results);
  std::size_t missing = 0;
  for (int i = 0; i < total; ++i) missing += !answers.times.count("j-" + std::to_string(i));
  CHECK(missing == 0);
  CHECK(answers.duplicated() == 0);
  CHECK(consume(s.results, total + 1, 3s).size() == static_cast<std::size_t>(total));
  b->signal(SIGTERM);
  CHECK(exit_problem(*b, 30s) == "");
}

TEST_CASE("sync: exactly once - 10000 events with new episodes, two SIGKILLs, every new_episode exactly once") {
  SyncSetup s;
  std::vector<Produced> events;
  std::set<std::string> expected;
  constexpr int total = 10000, chunk_size = 3400;
  for (int i = 0; i < total; ++i) {
    const int title = 1 + i % 100, episode = 1 + i / 100;
    events.push_back({std::to_string(title), event(title, {episode})});
    expected.insert(std::to_string(title) + ":t" + std::to_string(title) + "-e" + std::to_string(episode));
  }
  // Three chunks; during each of the first two, once some of it is committed but not all, kill
  // the instance and start the same instance again (same transactional id: it fences the dead
  // one and aborts its open transaction). Small batches make "some but not all" reliable.
  auto sync = s.start("x", "sync-1.log", "50");
  std::size_t mid_stream_kills = 0;
  for (int chunk = 0; chunk < 3; ++chunk) {
    const auto from = events.begin() + chunk * chunk_size, to = chunk == 2 ? events.end() : from + chunk_size;
    const std::size_t before = consume(s.new_episode, total, 1500ms).size();
    produce_all(s.events, std::vector<Produced>(from, to));
    if (chunk == 2) break;
    std::size_t now = before;
    eventually([&] { return (now = consume(s.new_episode, total, 300ms).size()) > before; }, 30s);
    sync->signal(SIGKILL);
    sync->wait_for(10s);
    mid_stream_kills += now > before && now < static_cast<std::size_t>((chunk + 1) * chunk_size);
    sync = s.start("x", "sync-" + std::to_string(chunk + 2) + ".log", "50");
  }
  CHECK(mid_stream_kills >= 1);
  auto all = consume_until(
      s.new_episode, [&](const auto& got) { return got.size() >= static_cast<std::size_t>(total); }, 180s);
  INFO(sync->log_tail());
  std::map<std::string, int> seen;
  for (const auto& r : all) {
    const auto at = r.value->find("\"event_id\":\"") + 12;
    ++seen[r.value->substr(at, r.value->find('"', at) - at)];
  }
  CHECK(all.size() == static_cast<std::size_t>(total));
  CHECK(seen.size() == static_cast<std::size_t>(total));
  std::size_t duplicated = 0, missing = 0;
  for (const auto& [id, n] : seen) duplicated += n > 1;
  for (const auto& id : expected) missing += !seen.count(id);
  CHECK(duplicated == 0);
  CHECK(missing == 0);
  CHECK(consume(s.new_episode, total + 1, 3s).size() == static_cast<std::size_t>(total));  // and nothing more arrives
  sync->signal(SIGTERM);
  CHECK(exit_problem(*sync, 30s) == "");
}

TEST_CASE("sync: the site's Node.js back end (kafkajs) publishes a sync request and receives its result, and a refused one's at once") {
  SyncSetup s;
  auto sync = s.start("a", "sync-1.log");
  INFO(sync->log_tail());
  Process node({"/usr/bin/env", "node", source_dir() + "/tests/node/sync_client.js", "--brokers", test_kafka_settings().brokers,
                "--requests-topic", s.requests, "--results-topic", s.results, "--title-id", "9873", "--timeout-ms", "20000", "--malformed"},
               s.dir + "/node.log");
  INFO(node.log_tail());
  REQUIRE(exit_problem(node, 60s) == "");
  // One line per request: {"request","elapsed_ms","result"}.
  std::ifstream log(s.dir + "/node.log");
  std::map<std::string, std::pair<std::int64_t, std::string>> answers;
  simdjson::dom::parser parser;
  for (std::string line; std::getline(log, line);) {
    simdjson::dom::element doc;
    std::string_view request;
    std::int64_t elapsed = 0;
    if (parser.parse(line).get(doc) || doc["request"].get(request) || doc["elapsed_ms"].get(elapsed)) continue;
    answers[std::string(request)] = {elapsed, simdjson::minify(doc["result"])};
  }
  REQUIRE(answers.count("valid"));
  const auto& valid = answers["valid"].second;
  CHECK(has(valid, R"("title_id":9873)"));
  CHECK(has(valid, R"("status":"changed")"));
  CHECK(has(valid, R"("new_episodes":1)"));
  REQUIRE(answers.count("title id as a string"));
  const auto& [elapsed, refused] = answers["title id as a string"];
  MESSAGE("kafkajs: the refused request was answered in " << elapsed << " ms: " << refused);
  CHECK(has(refused, R"("status":"rejected")"));
  CHECK(has(refused, "/title_id"));
  CHECK(elapsed < 5000);  // at once, not after its 20 s timeout
  // The request went where sync expects it (the title's partition) and its result was real.
  CHECK(consume(s.titles, 1, 10s).size() == 1);
  CHECK(consume(s.dlq, 1, 10s).size() == 1);
  sync->signal(SIGTERM);
  CHECK(exit_problem(*sync, 30s) == "");
}
