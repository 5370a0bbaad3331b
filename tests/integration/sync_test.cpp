// anipipe-sync against the real broker: change detection, one new_episode per new episode,
// request results, state rebuilt from the compacted titles, and exactly-once across SIGKILLs.
#include <doctest/doctest.h>

#include <signal.h>

#include <map>
#include <set>
#include <thread>

#include "kafka_helpers.hpp"
#include "process.hpp"

using namespace anipipe::testing;
using namespace std::chrono_literals;

namespace {

struct SyncSetup {
  std::string events = unique_name("sync-events"), requests = unique_name("sync-requests"), titles = unique_name("sync-titles"),
              new_episode = unique_name("sync-new-episode"), results = unique_name("sync-results"), dlq = unique_name("sync-dlq"),
              group = unique_name("sync-group"), dir = make_temp_dir("sync");
  SyncSetup() {
    for (const auto& t : {events, requests, new_episode, results}) create_topic(t, 3);
    create_topic(titles, 3, {{"cleanup.policy", "compact"}});
    create_topic(dlq, 1);
  }
  std::unique_ptr<Process> start(const std::string& instance, const std::string& log, const std::string& batch = "200") const {
    return std::make_unique<Process>(
        std::vector<std::string>{sync_binary(), "--brokers", test_kafka_settings().brokers, "--group", group, "--instance-id", instance,
                                 "--events-topic", events, "--requests-topic", requests, "--titles-topic", titles,
                                 "--new-episode-topic", new_episode, "--results-topic", results, "--dlq-topic", dlq,
                                 "--metrics-addr", "off", "--batch-max", batch, "--kafka", "session.timeout.ms=6000"},
        dir + "/" + log);
  }
};

std::string event(int title, const std::vector<int>& episodes, const std::string& status = "ongoing") {
  std::string eps;
  for (int e : episodes)
    eps += std::string(eps.empty() ? "" : ",") + R"({"id":"t)" + std::to_string(title) + "-e" + std::to_string(e) +
           R"(","ordinal":)" + std::to_string(e) + "}";
  const std::string t = std::to_string(title);
  return R"({"event_id":"0123456789abcdef0123456789abcdef","kind":"release_changed","title_id":)" + t +
         R"(,"observed_at":"2025-01-16T08:20:00Z","source":{"api":"v1"},"title":{"id":)" + t + R"(,"alias":"t)" + t +
         R"(","names":{"ru":"T"},"type":null,"year":null,"season":null,"status":")" + status +
         R"(","genres":[],"episodes":[)" + eps + R"(],"updated_at":null,"source":"v1"}})";
}

}  // namespace

TEST_CASE("sync: changes, unchanged snapshots, new episodes once, request results, dead letters, and a rebuilt state") {
  SyncSetup s;
  auto sync = s.start("a", "sync-1.log");
  INFO(sync->log_tail());
  produce_all(s.events, {{"1", event(1, {1})}, {"1", event(1, {1})}, {"1", event(1, {2})}, {"1", event(1, {2}, "finished")},
                         {"2", event(2, {1, 2})}});
  auto episodes = consume(s.new_episode, 4, 30s);
  CHECK(episodes.size() == 4);  // t1-e1, t1-e2, t2-e1, t2-e2
  CHECK(consume(s.titles, 10, 3s).size() == 4);  // title 1 three times (new, e2, finished), title 2 once

  produce_all(s.requests, {{"1", R"({"title_id":1,"correlation_id":"c-known"})"},
                           {"7", R"({"title_id":7,"correlation_id":"c-unknown"})"},
                           {"8", R"({"title_id":"8"})"}});
  auto results = consume(s.results, 2, 30s);
  REQUIRE(results.size() == 2);
  std::map<std::string, std::string> by_key;
  for (const auto& r : results) by_key[*r.key] = *r.value;
  CHECK(by_key["c-known"].find(R"("status":"unchanged")") != std::string::npos);
  CHECK(by_key["c-unknown"].find(R"("status":"not_found")") != std::string::npos);
  CHECK(consume(s.dlq, 1, 10s).size() == 1);

  // A fresh instance knows everything from anilibria.titles: the same snapshots produce nothing.
  sync->signal(SIGTERM);
  REQUIRE(sync->wait_for(30s) == 0);
  auto fresh = s.start("b", "sync-2.log");
  INFO(fresh->log_tail());
  produce_all(s.events, {{"1", event(1, {1, 2}, "finished")}, {"2", event(2, {2})}, {"2", event(2, {3})}});
  auto after = consume(s.new_episode, 6, 20s);
  CHECK(after.size() == 5);  // only t2-e3 is new
  CHECK(consume(s.titles, 10, 3s).size() == 5);
  fresh->signal(SIGTERM);
  CHECK(fresh->wait_for(30s) == 0);
}

TEST_CASE("sync: exactly once - 3000 events with new episodes, two SIGKILLs, every new_episode exactly once") {
  SyncSetup s;
  std::vector<Produced> events;
  std::set<std::string> expected;
  for (int i = 0; i < 3000; ++i) {
    const int title = 1 + i % 60, episode = 1 + i / 60;
    events.push_back({std::to_string(title), event(title, {episode})});
    expected.insert(std::to_string(title) + ":t" + std::to_string(title) + "-e" + std::to_string(episode));
  }
  // Three chunks; after each of the first two, kill the instance while it is still working on it
  // and start the same instance again (same transactional id: it fences and aborts the open batch).
  // Three chunks; during each of the first two, once some of it is committed but not all, kill
  // the instance and start the same instance again (same transactional id: it fences the dead
  // one and aborts its open transaction). Small batches make "some but not all" reliable.
  auto sync = s.start("x", "sync-1.log", "20");
  std::size_t mid_stream_kills = 0;
  for (int chunk = 0; chunk < 3; ++chunk) {
    const std::size_t before = consume(s.new_episode, 100000, 1500ms).size();
    produce_all(s.events, std::vector<Produced>(events.begin() + chunk * 1000, events.begin() + (chunk + 1) * 1000));
    if (chunk == 2) break;
    std::size_t now = before;
    eventually([&] { return (now = consume(s.new_episode, 100000, 300ms).size()) > before; }, 30s);
    sync->signal(SIGKILL);
    sync->wait_for(10s);
    mid_stream_kills += now > before && now < static_cast<std::size_t>((chunk + 1) * 1000);
    sync = s.start("x", "sync-" + std::to_string(chunk + 2) + ".log", "20");
  }
  CHECK(mid_stream_kills >= 1);
  auto all = consume_until(s.new_episode, [](const auto& got) { return got.size() >= 3000; }, 120s);
  INFO(sync->log_tail());
  std::map<std::string, int> seen;
  for (const auto& r : all) {
    const auto at = r.value->find("\"event_id\":\"") + 12;
    ++seen[r.value->substr(at, r.value->find('"', at) - at)];
  }
  CHECK(all.size() == 3000);
  CHECK(seen.size() == 3000);
  std::size_t duplicated = 0, missing = 0;
  for (const auto& [id, n] : seen) duplicated += n > 1;
  for (const auto& id : expected) missing += !seen.count(id);
  CHECK(duplicated == 0);
  CHECK(missing == 0);
  CHECK(consume(s.new_episode, 3001, 3s).size() == 3000);  // and nothing more arrives
  sync->signal(SIGTERM);
  CHECK(sync->wait_for(30s) == 0);
}
