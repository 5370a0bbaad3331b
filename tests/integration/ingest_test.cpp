// anipipe-ingest polling the fake upstream into the real broker: new episodes appear once per
// source endpoint, misbehaving upstreams lose and duplicate nothing, restarts resume without a
// gap or a flood.
#include <doctest/doctest.h>

#include <signal.h>

#include <fstream>
#include <set>
#include <thread>

#include "fake_upstream.hpp"
#include "kafka_helpers.hpp"

using namespace anipipe;
using namespace anipipe::testing;
using namespace std::chrono_literals;

namespace {

struct IngestSetup {
  std::string topic = unique_name("ingest-events");
  std::string dlq = unique_name("ingest-dlq");
  std::string dir = make_temp_dir("ingest");
  IngestSetup() {
    create_topic(topic, 3);
    create_topic(dlq, 1);
  }
};

std::unique_ptr<Process> start_ingest(const IngestSetup& s, const FakeUpstream& up, const std::string& log,
                                      std::vector<std::string> extra = {}) {
  std::vector<std::string> argv{ingest_binary(),
                                "--brokers",
                                test_kafka_settings().brokers,
                                "--topic",
                                s.topic,
                                "--dlq-topic",
                                s.dlq,
                                "--v1-base-url",
                                up.v1_base_url(),
                                "--poll-interval-ms",
                                "200",
                                "--metrics-addr",
                                "off",
                                "--http-timeout-ms",
                                "1500",
                                "--http-retries",
                                "3",
                                "--breaker-open-ms",
                                "1000"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return std::make_unique<Process>(argv, s.dir + "/" + log);
}

std::string field(const std::string& json, const std::string& name) {
  const auto at = json.find("\"" + name + "\":\"");
  if (at == std::string::npos) return {};
  const auto from = at + name.size() + 4;
  return json.substr(from, json.find('"', from) - from);
}

/// How many events carry this episode id (as the event's episode).
std::size_t count_episode(const std::vector<Received>& events, const std::string& episode_id) {
  std::size_t n = 0;
  for (const auto& e : events)
    if (e.value && e.value->find("\"episode\":{\"id\":\"" + episode_id + "\"") != std::string::npos) ++n;
  return n;
}

/// Events from the polls, without the catch-up's walk of the catalog (after a start or a failed
/// poll, ingest pages back through /anime/catalog/releases to its high-water mark).
std::vector<Received> from_polls(const std::vector<Received>& events) {
  std::vector<Received> out;
  for (const auto& e : events)
    if (e.value && e.value->find(R"("endpoint":"/anime/catalog/releases")") == std::string::npos) out.push_back(e);
  return out;
}

bool unique_event_ids(const std::vector<Received>& events) {
  std::set<std::string> ids;
  for (const auto& e : events) ids.insert(field(*e.value, "event_id"));
  return ids.size() == events.size();
}

std::string add_episode(FakeUpstream& up, int ordinal) {
  const std::string id = unique_name("ep").substr(13);
  up.control("episode", R"({"release_id":9873,"ordinal":)" + std::to_string(ordinal) + R"(,"id":")" + id + R"(","name":"Эпизод"})");
  return id;
}

/// Events once both endpoints (releases/latest and schedule/now) reported the episode.
std::vector<Received> await_episode(const IngestSetup& s, const std::string& id) {
  return consume_until(
      s.topic, [&](const std::vector<Received>& got) { return count_episode(got, id) >= 2; }, 30s);
}

}  // namespace

TEST_CASE("ingest: a new episode appears once per endpoint, re-polls add nothing, a restart neither misses nor floods") {
  IngestSetup s;
  FakeUpstream up(s.dir);
  auto ingest = start_ingest(s, up, "ingest-1.log");
  INFO(ingest->log_tail());

  const auto ep3 = add_episode(up, 3);
  auto events = await_episode(s, ep3);
  CHECK(count_episode(events, ep3) == 2);  // one release_changed, one schedule_item

  // Many polls later nothing more was announced.
  const int polls_before = up.requests();
  REQUIRE(eventually([&] { return up.requests() >= polls_before + 10; }, 20s));
  auto settled = consume(s.topic, 1000, 3s);
  CHECK(settled.size() == events.size());
  CHECK(unique_event_ids(settled));

  // Killed without warning; an episode is published meanwhile; a new process catches it up once
  // and does not announce the feed again.
  ingest->signal(SIGKILL);
  ingest->wait_for(10s);
  const auto ep4 = add_episode(up, 4);
  auto restarted = start_ingest(s, up, "ingest-2.log");
  auto after = await_episode(s, ep4);
  INFO(restarted->log_tail());
  CHECK(count_episode(after, ep4) == 2);
  const int polls_now = up.requests();
  REQUIRE(eventually([&] { return up.requests() >= polls_now + 6; }, 20s));
  auto final_events = consume(s.topic, 1000, 3s);
  CHECK(from_polls(final_events).size() == settled.size() + 2);
  // The restart caught up to its high-water mark once: the one release, observed in the catalog.
  CHECK(final_events.size() - from_polls(final_events).size() == 1);
  CHECK(count_episode(final_events, ep3) == 2);
  CHECK(unique_event_ids(final_events));
  CHECK(consume(s.dlq, 1, 1s).empty());

  restarted->signal(SIGTERM);
  CHECK(exit_problem(*restarted, 20s) == "");
}

TEST_CASE(
    "ingest: 500s, 429 with Retry-After, slow and truncated responses are retried, malformed JSON is dead-lettered, nothing is lost or duplicated") {
  IngestSetup s;
  FakeUpstream up(s.dir);
  auto ingest = start_ingest(s, up, "ingest.log");
  INFO(ingest->log_tail());
  // Let it announce the seeded state first.
  REQUIRE(consume(s.topic, 2, 30s).size() == 2);

  int ordinal = 10;
  std::size_t expected = 2;
  for (const char* misbehaviour :
       {R"({"mode":"500","count":3})", R"({"mode":"429","count":2,"retry_after":1})", R"({"mode":"slow","count":1,"delay_ms":2500})",
        R"({"mode":"truncated","count":2})", R"({"mode":"malformed","count":1})", R"({"mode":"500","count":8})"}) {
    CAPTURE(misbehaviour);
    up.control("misbehave", misbehaviour);
    const auto id = add_episode(up, ++ordinal);
    auto events = await_episode(s, id);
    CHECK(count_episode(events, id) == 2);
    expected += 2;
  }
  const int polls = up.requests();
  REQUIRE(eventually([&] { return up.requests() >= polls + 6; }, 20s));
  auto all = consume(s.topic, 1000, 3s);
  CHECK(from_polls(all).size() == expected);
  CHECK(unique_event_ids(all));  // the catch-ups after the failed polls announced nothing twice

  auto dlq = consume(s.dlq, 1, 10s);
  REQUIRE(dlq.size() == 1);
  CHECK(dlq[0].headers["dlq-error"].find("is not JSON") != std::string::npos);
  CHECK(dlq[0].headers["dlq-source-topic"].rfind("upstream:/anime/", 0) == 0);
  CHECK(dlq[0].value->find("broken") != std::string::npos);  // the raw body is kept

  ingest->signal(SIGTERM);
  CHECK(exit_problem(*ingest, 20s) == "");
}

TEST_CASE("ingest: a replayed recording with duplicates and garbage yields one event per observation and dead letters for the garbage") {
  IngestSetup s;
  const std::string rec = s.dir + "/recording.ndjson";
  {
    std::ofstream out(rec);
    out << R"({"type":"encode_finish","data":{"id":"8700","episode":"4"}})"
        << "\n"
        << R"({"connection":"success","api_version":"3.0.14"})"
        << "\n"
        << R"({"type":"encode_finish","data":{"id":8700,"episode":4}})"
        << "\n"  // same observation, other spelling
        << R"({"type":"title_serie","data":{"id":1}})"
        << "\n"  // unknown type: counted, skipped
        << "this is not json\n"
        << R"({"recorded_at":"2025-01-16T08:00:00Z","message":{"id":5,"alias":"z","name":{"main":"Z"}}})"
        << "\n";
  }
  auto run = [&] {
    return run_command({ingest_binary(), "--brokers", test_kafka_settings().brokers, "--topic", s.topic, "--dlq-topic", s.dlq, "--replay",
                        rec, "--metrics-addr", "off"});
  };
  auto first = run();
  INFO(first.output);
  REQUIRE(first.exit_code == 0);
  CHECK(first.output.find(R"("messages":6,"events":2,"duplicates":1,"rejected":1,"ignored":1,"unknown_types":1)") != std::string::npos);
  // A second replay of the same file is recognised as already announced.
  auto second = run();
  CHECK(second.output.find(R"("events":0,"duplicates":3)") != std::string::npos);
  CHECK(consume(s.topic, 10, 5s).size() == 2);
  auto dlq = consume(s.dlq, 2, 10s);
  CHECK(dlq.size() == 2);  // the garbage line, once per replay
  CHECK(dlq[0].headers["dlq-source-topic"].find("replay:recording.ndjson:5") == 0);
}

TEST_CASE(
    "ingest: the v3 WebSocket is followed, unknown types are skipped, a dropped connection is re-established and re-subscribed, a frame seen twice is announced once") {
  IngestSetup s;
  FakeUpstream up(s.dir);
  Process ingest({ingest_binary(), "--brokers", test_kafka_settings().brokers, "--topic", s.topic, "--dlq-topic", s.dlq, "--v3-url",
                  up.ws_url(), "--metrics-addr", "off"},
                 s.dir + "/ingest-v3.log");
  INFO(ingest.log_tail());
  REQUIRE(eventually([&] { return up.ws_clients() == 1 && up.subscribes() == 1; }, 20s));
  const std::string frame =
      R"({"type":"playlist_update","data":{"id":8700,"updated_episode":{"episode":5,"uuid":"v3-ws-ep-5"},"episode":"5","reupload":false}})";
  up.control("ws_send", frame);
  up.control("ws_send", R"({"type":"brand_new_event","data":{"id":"8700"}})");
  up.control("ws_send", R"({"type":"encode_finish","data":{"id":"8700","episode":"5"}})");
  REQUIRE(consume(s.topic, 2, 20s).size() == 2);

  up.control("misbehave", R"({"mode":"drop_ws"})");
  REQUIRE(eventually([&] { return up.ws_clients() == 1 && up.subscribes() == 2; }, 20s));  // reconnected, re-subscribed
  up.control("ws_send", frame);                                                            // seen again after the reconnect
  up.control("ws_send", R"({"type":"encode_finish","data":{"id":"8700","episode":"6"}})");
  auto events = consume(s.topic, 4, 10s);
  CHECK(events.size() == 3);
  CHECK(count_episode(events, "v3-ws-ep-5") == 1);
  CHECK(unique_event_ids(events));
  CHECK(consume(s.dlq, 1, 1s).empty());
  CHECK_FALSE(ingest.wait_for(0ms).has_value());  // still running
  ingest.signal(SIGTERM);
  CHECK(exit_problem(ingest, 20s) == "");
}

TEST_CASE("ingest: a bad --v1-base-url while the v3 WebSocket thread runs is a clear start-up error (exit 2), not std::terminate") {
  const auto topic = unique_name("ingest-bad-url");
  create_topic(topic, 1);
  // The v3 thread starts first and keeps retrying a port nobody listens on; then the v1 client
  // refuses its URL and throws on the main thread.
  const auto r = run_command({ingest_binary(), "--brokers", test_kafka_settings().brokers, "--topic", topic, "--metrics-addr", "off",
                              "--v3-url", "ws://127.0.0.1:1/", "--v1-base-url", "not a url"},
                             std::chrono::seconds(60));
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("cannot run") != std::string::npos);
  CHECK(r.output.find("terminate called") == std::string::npos);
}
