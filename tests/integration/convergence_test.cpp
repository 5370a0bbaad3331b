// The catalog converges with the upstream (docs/convergence.md): ingest polls the fake upstream,
// sync turns what it sees into the catalog and announcements, and nothing the upstream gained is
// lost or announced twice - episodes uploaded close together, a batch upload, changes made while
// ingest was down (more than one poll's window), a re-upload under a new id, and an upstream edit
// that no poll shows, repaired by the reconciliation sweep.
#include <doctest/doctest.h>
#include <simdjson.h>

#include <signal.h>

#include <cstdio>
#include <set>
#include <thread>

#include "pipeline.hpp"

using namespace anipipe::testing;
using namespace std::chrono_literals;

namespace doctest {
template <>
struct StringMaker<std::vector<double>> {
  static String convert(const std::vector<double>& v) {
    std::string out = "{";
    for (double d : v) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%s%g", out.size() > 1 ? "," : "", d);
      out += buf;
    }
    return (out + "}").c_str();
  }
};
}  // namespace doctest

namespace {

bool has(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

/// The newest anilibria.titles value of a title.
std::optional<std::string> catalog_entry(const Pipeline& p, std::int64_t id) {
  std::optional<std::string> last;
  for (const auto& r : consume_until(
           p.topics().titles, [](const auto&) { return false; }, 3s))
    if (r.key == std::to_string(id)) last = r.value;
  return last;
}

std::string episode_json(int release, int ordinal) {
  return R"({"release_id":)" + std::to_string(release) + R"(,"ordinal":)" + std::to_string(ordinal) + "}";
}

}  // namespace

TEST_CASE("convergence: two episodes 100 ms apart are both announced, in order") {
  Pipeline p;
  auto sync = p.start_sync("sync.log");
  auto ingest = p.start_ingest("ingest.log", {"--poll-interval-ms", "1000"});
  INFO(sync->log_tail());
  INFO(ingest->log_tail());
  // The seeded title (one episode, ordinal 2) enters the catalog first.
  REQUIRE(ordinals_of(p.announcements_until([](const auto& a) { return ordinals_of(a, 9873).size() == 1; }, 60s), 9873).size() == 1);
  p.upstream().control("episode", episode_json(9873, 100));
  std::this_thread::sleep_for(100ms);
  p.upstream().control("episode", episode_json(9873, 101));
  auto all = p.announcements_until([](const auto& a) { return ordinals_of(a, 9873).size() >= 3; }, 30s);
  CHECK(ordinals_of(all, 9873) == std::vector<double>{2, 100, 101});
  CHECK(ordinals_of(p.announcements(), 9873) == std::vector<double>{2, 100, 101});  // and nothing more comes
  ingest->signal(SIGTERM);
  sync->signal(SIGTERM);
  CHECK(exit_problem(*ingest, 30s) == "");
  CHECK(exit_problem(*sync, 30s) == "");
}

TEST_CASE("convergence: a batch upload of 12 episodes gives 12 announcements, in order") {
  Pipeline p;
  auto sync = p.start_sync("sync.log");
  auto ingest = p.start_ingest("ingest.log");
  INFO(sync->log_tail());
  INFO(ingest->log_tail());
  REQUIRE(ordinals_of(p.announcements_until([](const auto& a) { return ordinals_of(a, 9873).size() == 1; }, 60s), 9873).size() == 1);
  p.upstream().control("episodes", R"({"release_id":9873,"ordinals":[3,4,5,6,7,8,9,10,11,12,13,14]})");
  auto all = p.announcements_until([](const auto& a) { return ordinals_of(a, 9873).size() >= 13; }, 30s);
  CHECK(ordinals_of(all, 9873) == std::vector<double>{2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14});
  CHECK(ordinals_of(p.announcements(), 9873).size() == 13);
  ingest->signal(SIGTERM);
  sync->signal(SIGTERM);
  CHECK(exit_problem(*ingest, 30s) == "");
  CHECK(exit_problem(*sync, 30s) == "");
}

TEST_CASE("convergence: 200 titles change while ingest is down (more than --v1-limit) - all 200 caught up after its restart") {
  Pipeline p;
  constexpr int first = 610'000, count = 250;
  p.upstream().control("bulk", R"({"first_id":)" + std::to_string(first) + R"(,"count":)" + std::to_string(count) +
                                   R"(,"episodes":1,"fresh_at":"2024-03-01T10:00:00+00:00"})");
  auto sync = p.start_sync("sync.log");
  // The first run sees every title (a window larger than the catalog), so all of them are known.
  // No schedule: the real /anime/schedule/now lists a few titles airing these days, not the catalog.
  auto ingest = p.start_ingest("ingest-1.log", {"--v1-limit", "300", "--v1-schedule", "false"});
  INFO(sync->log_tail());
  const auto known = [&](const auto& a) {
    std::set<std::int64_t> titles;
    for (const auto& x : a) titles.insert(x.title_id);
    return titles.size() >= count + 1;
  };
  REQUIRE(known(p.announcements_until(known, 120s)));
  ingest->signal(SIGKILL);
  ingest->wait_for(10s);
  // While it is down, 200 of the titles gain two episodes each: four times the window it polls,
  // and two changes per title that a poll would see as one.
  p.upstream().control("bulk_episode", R"({"first_id":)" + std::to_string(first) + R"(,"count":200})");
  p.upstream().control("bulk_episode", R"({"first_id":)" + std::to_string(first) + R"(,"count":200})");
  auto restarted = p.start_ingest("ingest-2.log", {"--v1-limit", "50", "--v1-schedule", "false"});
  INFO(restarted->log_tail());
  const auto gained = [&](const auto& a) {
    int n = 0;
    for (const auto& x : a) n += (x.ordinal == 2 || x.ordinal == 3) && x.title_id >= first && x.title_id < first + 200;
    return n;
  };
  auto all = p.announcements_until([&](const auto& a) { return gained(a) >= 400; }, 120s);
  CHECK(gained(all) == 400);
  all = p.announcements();
  CHECK(gained(all) == 400);
  CHECK(duplicates(all).empty());
  restarted->signal(SIGTERM);
  sync->signal(SIGTERM);
  CHECK(exit_problem(*restarted, 30s) == "");
  CHECK(exit_problem(*sync, 30s) == "");
}

TEST_CASE("convergence: an episode re-uploaded under a new id is a title update, not a second announcement") {
  Pipeline p;
  auto sync = p.start_sync("sync.log");
  auto ingest = p.start_ingest("ingest.log");
  INFO(sync->log_tail());
  INFO(ingest->log_tail());
  p.upstream().control("episode", R"({"release_id":9873,"ordinal":3,"id":"first-upload"})");
  REQUIRE(ordinals_of(p.announcements_until([](const auto& a) { return ordinals_of(a, 9873).size() == 2; }, 60s), 9873).size() == 2);
  p.upstream().control("episode", R"({"release_id":9873,"ordinal":3,"id":"re-upload","name":"Fixed audio"})");
  // The catalog takes the new upload...
  REQUIRE(eventually([&] { return has(catalog_entry(p, 9873).value_or(""), "re-upload"); }, 30s));
  const auto doc = catalog_entry(p, 9873).value_or("");
  CHECK_FALSE(has(doc, "first-upload"));
  CHECK(has(doc, "Fixed audio"));
  // ...and nobody is told that episode 2 is out again.
  CHECK(ordinals_of(p.announcements(2s), 9873) == std::vector<double>{2, 3});
  ingest->signal(SIGTERM);
  sync->signal(SIGTERM);
  CHECK(exit_problem(*ingest, 30s) == "");
  CHECK(exit_problem(*sync, 30s) == "");
}

TEST_CASE("convergence: a title changed upstream without a new fresh_at is repaired by anipipe-ops reconcile") {
  Pipeline p;
  // 20 titles with an old fresh_at; ingest polls only the newest 5 of them, so it never sees
  // a change to the others that leaves fresh_at alone.
  p.upstream().control("bulk", R"({"first_id":620000,"count":20,"episodes":2,"fresh_at":"2024-03-01T10:00:00+00:00"})");
  auto sync = p.start_sync("sync.log");
  auto ingest = p.start_ingest("ingest.log", {"--v1-limit", "5", "--v1-schedule", "false", "--reconcile-interval", "0"});
  INFO(sync->log_tail());
  INFO(ingest->log_tail());
  // Seed the catalog: the first sweep brings every title in quietly.
  auto seeded = p.ops(
      {"reconcile", "--upstream-url", p.upstream().v1_base_url(), "--topic", p.topics().events, "--titles-topic", p.topics().titles});
  INFO(seeded.output);
  REQUIRE(seeded.exit_code == 0);
  // A title outside the window ingest polls.
  std::int64_t hidden_id = 0;
  {
    anipipe::http::Client up(p.upstream().v1_base_url(), {});
    simdjson::dom::parser parser;
    std::set<std::int64_t> polled;
    for (auto r : parser.parse(up.get("/anime/releases/latest?limit=5").body).get_array()) polled.insert(std::int64_t(r["id"]));
    for (std::int64_t id = 620000; id < 620020 && !hidden_id; ++id)
      if (!polled.count(id)) hidden_id = id;
  }
  REQUIRE(hidden_id > 0);
  const auto hidden = std::to_string(hidden_id);
  REQUIRE(eventually([&] { return catalog_entry(p, hidden_id).has_value(); }, 60s));
  // An edit the polls cannot see, and an episode added the same way.
  p.upstream().control("release", R"({"id":)" + hidden + R"(,"description":"Edited upstream","keep_fresh_at":true})");
  p.upstream().control("episode", R"({"release_id":)" + hidden + R"(,"ordinal":3,"keep_fresh_at":true})");
  std::this_thread::sleep_for(2s);
  CHECK_FALSE(has(catalog_entry(p, hidden_id).value_or(""), "Edited upstream"));
  auto one = p.ops({"reconcile", "--upstream-url", p.upstream().v1_base_url(), "--topic", p.topics().events, "--title", hidden});
  INFO(one.output);
  REQUIRE(one.exit_code == 0);
  REQUIRE(eventually([&] { return has(catalog_entry(p, hidden_id).value_or(""), "Edited upstream"); }, 30s));
  auto after = p.announcements_until([&](const auto& a) { return ordinals_of(a, hidden_id).size() >= 1; }, 30s);
  CHECK(ordinals_of(after, hidden_id) == std::vector<double>{3});
  // A whole sweep again repairs nothing more and announces nothing twice.
  auto again = p.ops(
      {"reconcile", "--upstream-url", p.upstream().v1_base_url(), "--topic", p.topics().events, "--titles-topic", p.topics().titles});
  REQUIRE(again.exit_code == 0);
  std::this_thread::sleep_for(3s);
  const auto all = p.announcements();
  CHECK(ordinals_of(all, hidden_id) == std::vector<double>{3});  // seeded quietly, then only the new episode
  CHECK(duplicates(all).empty());
  ingest->signal(SIGTERM);
  sync->signal(SIGTERM);
  CHECK(exit_problem(*ingest, 30s) == "");
  CHECK(exit_problem(*sync, 30s) == "");
}
