// anipipe-fault-test: the whole pipeline under faults, against the real broker and redis-server.
// The fake upstream gains episodes on many titles (one at a time and in batches) while every
// worker is killed with SIGKILL and started again, and ingest stays down for many poll windows
// while more titles change than one poll shows. Then it waits for the pipeline to converge and
// counts, against the upstream's own state:
//   - anilibria.new_episode (read_committed): every (title, ordinal) exactly once - lost, duplicated;
//   - Redis anilibria:v2:title:{id} and the edge's GET /api/anilibria/v2/titles/{id}: every episode;
//   - anilibria.notifications: every subscriber has every episode; a repeat only with the same
//     idempotency key (at-least-once), never a second key for one episode.
// Prints its counts and one JSON line; exits 0 only if nothing was lost or doubled.
// ctest runs a short version (label integration); scripts/fault-test runs a long one.
#include <simdjson.h>
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "kafka/topic_reader.hpp"
#include "pipeline.hpp"
#include "raw_http.hpp"
#include "redis/client.hpp"
#include "redis_listener.hpp"
#include "util/clock.hpp"

using namespace anipipe::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  int titles = 40;
  int seconds = 60;
  int subscribers = 2;
  int v1_limit = 10;
  int converge_seconds = 180;
  unsigned seed = 7;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const int v = std::atoi(argv[i + 1]);
    if (k == "--titles") o.titles = v;
    else if (k == "--seconds") o.seconds = v;
    else if (k == "--subscribers") o.subscribers = v;
    else if (k == "--v1-limit") o.v1_limit = v;
    else if (k == "--converge-seconds") o.converge_seconds = v;
    else if (k == "--seed") o.seed = static_cast<unsigned>(v);
    else throw std::invalid_argument("unknown option " + k);
  }
  return o;
}

const auto g_started = Clock::now();

void say(const char* fmt, auto... args) {
  const auto started = g_started;
  std::printf("[%6.1f s] ", std::chrono::duration<double>(Clock::now() - started).count());
  std::printf(fmt, args...);
  std::printf("\n");
  std::fflush(stdout);
}

using Key = std::pair<std::int64_t, double>;  // (title, ordinal)

/// Every (title, ordinal) the upstream has, for titles in [first, first + n).
std::set<Key> upstream_episodes(FakeUpstream& up, std::int64_t first, int n) {
  simdjson::dom::parser parser;
  const auto body = up.inspect("state");
  simdjson::dom::object releases = parser.parse(body)["releases"].get_object();
  std::set<Key> out;
  for (auto [id_text, r] : releases) {
    const auto id = std::stoll(std::string(id_text));
    if (id < first || id >= first + n) continue;
    for (auto o : r["ordinals"].get_array()) out.insert({id, double(o)});
  }
  return out;
}

/// The ordinals of a title document (anilibria.titles' format).
std::set<double> ordinals_in(const std::string& doc) {
  simdjson::dom::parser parser;
  std::set<double> out;
  simdjson::dom::element root;
  simdjson::dom::array eps;
  if (parser.parse(doc).get(root) || root["episodes"].get_array().get(eps)) return out;
  for (auto e : eps) out.insert(double(e["ordinal"]));
  return out;
}

struct Notifications {
  std::map<std::tuple<std::string, std::int64_t, double>, std::set<std::string>> keys;  // (subscriber, title, ordinal) -> idempotency keys
  std::size_t records = 0;
};

Notifications read_notifications(const std::string& topic) {
  Notifications n;
  simdjson::dom::parser parser;
  anipipe::kafka::read_to_end(test_kafka_settings(), topic, {}, anipipe::kafka::ReadStart::from_earliest(),
                              [&](const anipipe::kafka::Message& m) {
                                auto v = m.value();
                                simdjson::dom::element doc;
                                if (!v || parser.parse(*v).get(doc)) return;
                                ++n.records;
                                n.keys[{std::string(std::string_view(doc["subscriber_id"])), std::int64_t(doc["title_id"]),
                                        double(doc["episode"]["ordinal"])}]
                                    .insert(std::string(std::string_view(doc["idempotency_key"])));
                              });
  return n;
}

}  // namespace

int main(int argc, char** argv) try {
  const auto o = parse(argc, argv);
  std::mt19937 rng(o.seed);
  say("fault test: %d titles, %d s of changes, %d subscriber(s) per title, --v1-limit %d", o.titles, o.seconds, o.subscribers,
      o.v1_limit);
  Pipeline p({.partitions = 6, .redis_db = 7});
  anipipe::redis::Options ro = test_redis_options();
  ro.db = 7;
  anipipe::redis::Client redis(ro);
  redis.command({"FLUSHDB"});
  const std::int64_t first = 5'000'000 + static_cast<std::int64_t>(rng() % 1000) * 1000;
  p.upstream().control("bulk", R"({"first_id":)" + std::to_string(first) + R"(,"count":)" + std::to_string(o.titles) +
                                   R"(,"episodes":1,"fresh_at":"2024-03-01T10:00:00+00:00"})");
  std::vector<Produced> subs;
  for (int t = 0; t < o.titles; ++t)
    for (int k = 0; k < o.subscribers; ++k) {
      const auto id = std::to_string(first + t), who = "fan-" + std::to_string(k);
      subs.push_back({id + ":" + who, R"({"title_id":)" + id + R"(,"subscriber_id":")" + who + R"("})"});
    }
  produce_all(p.topics().subscriptions, subs);

  const std::vector<std::string> ingest_flags{"--v1-limit", std::to_string(o.v1_limit), "--v1-schedule", "false",
                                              "--reconcile-interval", "0"};
  int generation = 0;
  auto log = [&](const char* w) { return std::string(w) + "-" + std::to_string(++generation) + ".log"; };
  auto sync = p.start_sync(log("sync"));
  auto cache = p.start_cache(log("cache"));
  auto notify = p.start_notify(log("notify"));
  int edge_port = 0;
  auto edge = p.start_edge(log("edge"), edge_port);
  auto ingest = p.start_ingest(log("ingest"), ingest_flags);

  // The faults, at fractions of the run: each worker killed and started again a second later;
  // ingest kept down for many poll windows while a burst changes more titles than a poll shows.
  struct Fault {
    double at;
    const char* worker;
  };
  const std::vector<Fault> faults{{0.15, "sync"}, {0.3, "cache"}, {0.45, "notify"}, {0.55, "edge"}, {0.65, "ingest"}, {0.85, "sync"}};
  std::size_t next_fault = 0;
  int changes = 0, batches = 0;
  const auto started = Clock::now();
  const auto run_for = std::chrono::seconds(o.seconds);
  auto change = [&](std::int64_t id) {
    if (rng() % 5 == 0) {
      // A batch upload: three episodes at once.
      simdjson::dom::parser parser;
      auto state = p.upstream().inspect("state");
      auto ords = parser.parse(state)["releases"][std::to_string(id)]["ordinals"].get_array();
      double last = 0;
      for (auto x : ords.value()) last = std::max(last, double(x));
      const auto n = static_cast<int>(last);
      p.upstream().control("episodes", R"({"release_id":)" + std::to_string(id) + R"(,"ordinals":[)" + std::to_string(n + 1) + "," +
                                           std::to_string(n + 2) + "," + std::to_string(n + 3) + "]}");
      ++batches;
      changes += 3;
    } else {
      p.upstream().control("bulk_episode", R"({"release_ids":[)" + std::to_string(id) + "]}");
      ++changes;
    }
  };
  while (Clock::now() - started < run_for) {
    const double progress = std::chrono::duration<double>(Clock::now() - started) / run_for;
    if (next_fault < faults.size() && progress >= faults[next_fault].at) {
      const std::string w = faults[next_fault++].worker;
      say("kill -9 %s", w.c_str());
      if (w == "sync") { sync->signal(SIGKILL); sync->wait_for(10s); }
      if (w == "cache") { cache->signal(SIGKILL); cache->wait_for(10s); }
      if (w == "notify") { notify->signal(SIGKILL); notify->wait_for(10s); }
      if (w == "edge") { edge->signal(SIGKILL); edge->wait_for(10s); }
      if (w == "ingest") {
        ingest->signal(SIGKILL);
        ingest->wait_for(10s);
        // Down for ~25 poll windows; meanwhile twice the window's worth of titles gain an episode.
        std::vector<std::string> ids;
        for (int t = 0; t < 2 * o.v1_limit && t < o.titles; ++t) ids.push_back(std::to_string(first + static_cast<std::int64_t>(rng() % static_cast<unsigned>(o.titles))));
        std::string list;
        for (const auto& id : ids) list += (list.empty() ? "" : ",") + id;
        p.upstream().control("bulk_episode", R"({"release_ids":[)" + list + "]}");
        changes += static_cast<int>(ids.size());
        std::this_thread::sleep_for(7500ms);
        say("ingest back after 7.5 s down (%zu titles changed meanwhile)", ids.size());
        ingest = p.start_ingest(log("ingest"), ingest_flags);
        continue;
      }
      std::this_thread::sleep_for(1s);
      if (w == "sync") sync = p.start_sync(log("sync"));
      if (w == "cache") cache = p.start_cache(log("cache"));
      if (w == "notify") notify = p.start_notify(log("notify"));
      if (w == "edge") edge = p.start_edge(log("edge"), edge_port);
      say("%s started again", w.c_str());
      continue;
    }
    change(first + static_cast<std::int64_t>(rng() % static_cast<unsigned>(o.titles)));
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 100));
  }
  // Every title changes at least once more, so every one of them has been seen live.
  p.upstream().control("bulk_episode", R"({"first_id":)" + std::to_string(first) + R"(,"count":)" + std::to_string(o.titles) + "}");
  changes += o.titles;
  say("changes done: %d episode(s) added (%d batch upload(s)); waiting for the pipeline to converge", changes, batches);

  const auto expected = upstream_episodes(p.upstream(), first, o.titles);
  std::vector<Announcement> announced;
  auto missing = [&] {
    std::set<Key> got;
    for (const auto& a : announced) got.insert({a.title_id, a.ordinal});
    std::size_t n = 0;
    for (const auto& k : expected) n += !got.count(k);
    return n;
  };
  announced = p.announcements_until([&](const auto& a) {
    announced = a;
    return missing() == 0;
  }, std::chrono::seconds(o.converge_seconds));
  announced = p.announcements(2s);

  // Announcements.
  std::map<Key, int> counts;
  for (const auto& a : announced) ++counts[{a.title_id, a.ordinal}];
  std::size_t lost = 0, duplicated = 0, unexpected = 0;
  for (const auto& k : expected)
    if (!counts.count(k) && ++lost <= 10) say("lost: title %lld episode %g", static_cast<long long>(k.first), k.second);
  for (const auto& [k, n] : counts) {
    duplicated += n > 1 ? static_cast<std::size_t>(n - 1) : 0;
    if (n > 1) say("duplicated: title %lld episode %g, %d times", static_cast<long long>(k.first), k.second, n);
    const bool ours = k.first >= first && k.first < first + o.titles;  // (the fake's seeded title is not)
    if (ours && !expected.count(k) && ++unexpected <= 10)
      say("unexpected: title %lld episode %g", static_cast<long long>(k.first), k.second);
  }
  // Redis and the edge: every title holds exactly the upstream's episodes.
  std::map<std::int64_t, std::set<double>> want;
  for (const auto& [t, ord] : expected) want[t].insert(ord);
  std::size_t redis_wrong = 0, edge_wrong = 0;
  const auto converged = [&](std::int64_t t) {
    auto r = redis.command({"GET", "anilibria:v2:title:" + std::to_string(t)});
    const bool redis_ok = r.type == anipipe::redis::Reply::Type::string && ordinals_in(r.str) == want[t];
    auto e = raw_http(edge_port, http_request("GET", "/api/anilibria/v2/titles/" + std::to_string(t)));
    const bool edge_ok = e.status == 200 && ordinals_in(e.body) == want[t];
    return std::pair(redis_ok, edge_ok);
  };
  for (const auto& [t, _] : want) {
    std::pair<bool, bool> ok;
    eventually([&] { ok = converged(t); return ok.first && ok.second; }, 10s);
    redis_wrong += !ok.first;
    edge_wrong += !ok.second;
  }
  // Notifications: every subscriber of every title, every episode; a repeat only with its key.
  Notifications notes;
  std::size_t notes_lost = 0, notes_other_key = 0, notes_repeats = 0;
  eventually([&] {
    notes = read_notifications(p.topics().notifications);
    notes_lost = 0;
    for (const auto& [t, ord] : expected)
      for (int k = 0; k < o.subscribers; ++k) notes_lost += !notes.keys.count({"fan-" + std::to_string(k), t, ord});
    return notes_lost == 0;
  }, 60s);
  for (const auto& [_, keys] : notes.keys) notes_other_key += keys.size() > 1 ? keys.size() - 1 : 0;
  notes_repeats = notes.records - notes.keys.size();

  say("announcements: expected %zu, announced %zu; lost %zu, duplicated %zu, unexpected %zu", expected.size(), announced.size(), lost,
      duplicated, unexpected);
  say("redis: %zu of %zu title(s) differ from the upstream; edge: %zu differ", redis_wrong, want.size(), edge_wrong);
  say("notifications: %zu record(s) for %zu (subscriber, episode); lost %zu, repeats with the same idempotency key %zu, "
      "with another key %zu", notes.records, notes.keys.size(), notes_lost, notes_repeats, notes_other_key);
  const bool ok = lost == 0 && duplicated == 0 && unexpected == 0 && redis_wrong == 0 && edge_wrong == 0 && notes_lost == 0 &&
                  notes_other_key == 0;
  std::printf(R"({"titles":%d,"episodes_added":%d,"expected":%zu,"lost":%zu,"duplicated":%zu,"unexpected":%zu,"redis_wrong":%zu,)"
              R"("edge_wrong":%zu,"notifications":%zu,"notifications_lost":%zu,"notification_repeats_same_key":%zu,)"
              R"("notification_other_key":%zu,"ok":%s})" "\n",
              o.titles, changes, expected.size(), lost, duplicated, unexpected, redis_wrong, edge_wrong, notes.records, notes_lost,
              notes_repeats, notes_other_key, ok ? "true" : "false");
  std::printf("lost %zu, duplicated %zu\n", lost, duplicated);
  if (!ok) std::printf("logs: %s\n", p.dir().c_str());
  for (auto* proc : {ingest.get(), sync.get(), cache.get(), notify.get(), edge.get()}) proc->signal(SIGTERM);
  for (auto* proc : {ingest.get(), sync.get(), cache.get(), notify.get(), edge.get()}) proc->wait_for(40s);
  return ok ? 0 : 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "fault test: %s\n", e.what());
  return 2;
}
