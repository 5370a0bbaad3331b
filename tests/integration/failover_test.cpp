// Crashes and scaling with the real broker: a worker killed with SIGKILL and restarted takes its
// partitions back at once (static membership, its instance slot leased again), several
// instances started with no ids share the partitions under stable ids, and an instance fenced
// by another with the same id ends with a non-zero exit instead of living on as a zombie.
// Every test uses librdkafka's default session timeout (45 s): what a user gets.
#include <doctest/doctest.h>

#include <signal.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include "kafka/consumer.hpp"
#include "kafka/producer.hpp"
#include "kafka_helpers.hpp"
#include "pipeline.hpp"
#include "redis/client.hpp"
#include "redis_listener.hpp"
#include "util/clock.hpp"

using namespace anipipe::testing;
using namespace std::chrono_literals;

namespace {

std::int64_t now_ms() { return anipipe::util::now_unix_ms(); }

/// Calls feed(i) every `every` on its own thread until destroyed.
class Feeder {
public:
  Feeder(std::function<void(int)> feed, std::chrono::milliseconds every) {
    thread_ = std::thread([this, feed = std::move(feed), every] {
      for (int i = 0; !stop_.load(); ++i) {
        try {
          feed(i);
        } catch (const std::exception& e) {
          std::fprintf(stderr, "feeder: %s\n", e.what());
        }
        std::this_thread::sleep_for(every);
      }
    });
  }
  ~Feeder() {
    stop_ = true;
    thread_.join();
  }

private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

/// The first timestamp of a record in `topic` at or after `since_ms` (-1 if none within timeout).
std::int64_t first_record_after(const std::string& topic, std::int64_t since_ms, std::chrono::milliseconds timeout) {
  std::int64_t first = -1;
  consume_until(
      topic,
      [&](const std::vector<Received>& got) {
        for (const auto& r : got)
          if (r.timestamp_ms >= since_ms && (first < 0 || r.timestamp_ms < first)) first = r.timestamp_ms;
        return first >= 0;
      },
      timeout);
  return first;
}

/// SIGKILL, reaped, and the time it happened.
std::int64_t kill9(Process& p) {
  const auto at = now_ms();
  p.signal(SIGKILL);
  p.wait_for(10s);
  return at;
}

void report(const char* worker, std::int64_t gap_ms) {
  std::printf("failover: %s's output resumed %.1f s after kill -9 and restart\n", worker, static_cast<double>(gap_ms) / 1000.0);
  std::fflush(stdout);
}

std::string new_episode_json(std::int64_t title, int n) {
  const auto t = std::to_string(title);
  const auto e = "ep-" + std::to_string(n);
  return R"({"event_id":")" + t + ":" + e + R"(","title_id":)" + t + R"(,"episode":{"id":")" + e + R"(","ordinal":)" + std::to_string(n) +
         R"(,"name":"Серия"},"title":{"alias":"title-)" + t + R"(","names":{"ru":"Тайтл )" + t +
         R"("}},"detected_at":"2025-01-16T08:20:01Z"})";
}

std::string title_json(std::int64_t id) {
  const auto s = std::to_string(id);
  return R"({"id":)" + s + R"(,"alias":"t-)" + s + R"(","names":{"ru":"Тайтл )" + s +
         R"(","en":null,"alternative":null},)"
         R"("type":"TV","year":2025,"season":"winter","status":"ongoing","genres":["Драма"],"description":null,"poster":null,)"
         R"("episodes_total":null,"episodes":[{"id":"e1","ordinal":1}],"fresh_at":null,"updated_at":"2025-01-16T08:20:00Z","source":"v1"})";
}

/// A complete snapshot of a new title (sync needs no fetch for it).
std::string snapshot_event(std::int64_t id) {
  const auto s = std::to_string(id);
  char event_id[33];
  std::snprintf(event_id, sizeof event_id, "%032llx", static_cast<unsigned long long>(id));
  return std::string(R"({"event_id":")") + event_id + R"(","kind":"release_changed","title_id":)" + s +
         R"(,"observed_at":"2025-01-16T08:20:00Z","source":{"api":"v1"},"episodes_complete":true,"title":{"id":)" + s + R"(,"alias":"t)" +
         s +
         R"(","names":{"ru":"T"},"type":null,"year":null,"season":null,"status":"ongoing","genres":[],)"
         R"("episodes":[{"id":"e-)" +
         s + R"(","ordinal":1}],"updated_at":null,"source":"v1"}})";
}

/// The instance id a worker's log says it runs as.
std::string instance_of(const Process& p) {
  std::string id;
  eventually(
      [&] {
        std::ifstream in(p.log_file());
        std::string text((std::istreambuf_iterator<char>(in)), {});
        std::smatch m;
        static const std::regex re(R"(instance id ([A-Za-z0-9._-]+))");
        if (!std::regex_search(text, m, re)) return false;
        id = m[1];
        return true;
      },
      20s);
  return id;
}

/// `anipipe-ops groups describe`: instance id -> partitions assigned.
std::map<std::string, int> members(const Pipeline& p, const std::string& worker) {
  auto r = p.ops({"groups", "describe", "--group", p.group(worker)});
  std::map<std::string, int> out;
  static const std::regex line(R"(instance=(\S+) .*partitions=(\d+))");
  for (std::sregex_iterator it(r.output.begin(), r.output.end(), line), end; it != end; ++it) out[(*it)[1]] = std::stoi((*it)[2]);
  return out;
}


/// Whether a worker's log holds `text` yet.
bool log_says(const Process& p, const std::string& text) {
  std::ifstream in(p.log_file());
  std::string log((std::istreambuf_iterator<char>(in)), {});
  return log.find(text) != std::string::npos;
}

/// Joins `worker`'s group as `instance` for a moment, so the broker fences the worker's own
/// consumer: what a coordinator failover does to a static member when the broker processes one of
/// its abandoned JoinGroups late (KAFKA-20985).
void fence_consumer(const Pipeline& p, const std::string& worker, const std::string& instance, const std::string& topic) {
  anipipe::kafka::Consumer::Options o;
  o.group_id = p.group(worker);
  o.topics = {topic};
  o.group_instance_id = instance;
  anipipe::kafka::Consumer twin(test_kafka_settings(), o);
  const auto until = std::chrono::steady_clock::now() + 30s;
  try {
    while (twin.assignment().empty() && std::chrono::steady_clock::now() < until) twin.poll(200ms);
  } catch (const std::exception&) {  // fenced in turn by the worker's rejoin: done either way
  }
}

}  // namespace

TEST_CASE("failover: notify killed with SIGKILL and restarted - notifications resume within 10 s") {
  Pipeline p;
  std::vector<Produced> subs;
  for (int t = 1; t <= 6; ++t)
    subs.push_back({std::to_string(t) + ":user-1", R"({"title_id":)" + std::to_string(t) + R"(,"subscriber_id":"user-1"})"});
  produce_all(p.topics().subscriptions, subs);
  auto notify = p.start_notify("notify-1.log");
  INFO(notify->log_tail());
  Feeder feed(
      [&](int i) {
        produce_all(p.topics().new_episode, {{std::to_string(i % 6 + 1), new_episode_json(i % 6 + 1, i + 1)}});
      },
      100ms);
  REQUIRE(first_record_after(p.topics().notifications, 0, 60s) > 0);
  std::this_thread::sleep_for(1s);
  const auto killed = kill9(*notify);
  auto restarted = p.start_notify("notify-2.log");
  INFO(restarted->log_tail());
  const auto resumed = first_record_after(p.topics().notifications, killed, 60s);
  REQUIRE(resumed > 0);
  report("notify", resumed - killed);
  CHECK(resumed - killed < 10'000);
  restarted->signal(SIGTERM);
  CHECK(exit_problem(*restarted, 30s) == "");
}

TEST_CASE("failover: cache killed with SIGKILL and restarted - Redis writes resume within 10 s") {
  Pipeline p({.partitions = 3, .redis_db = 5});
  anipipe::redis::Options ro = test_redis_options();
  ro.db = 5;
  anipipe::redis::Client redis(ro);
  std::atomic<std::int64_t> produced_after_kill{-1};
  std::atomic<std::int64_t> killed{-1};
  const std::int64_t base = 700'000'000 + static_cast<std::int64_t>(now_ms() % 1'000'000) * 100;
  Feeder feed(
      [&](int i) {
        produce_all(p.topics().titles, {{std::to_string(base + i), title_json(base + i)}});
        if (killed.load() > 0 && produced_after_kill.load() < 0) produced_after_kill = base + i;
      },
      100ms);
  auto cache = p.start_cache("cache-1.log");
  INFO(cache->log_tail());
  REQUIRE(eventually([&] { return redis.command({"EXISTS", "anilibria:v2:title:" + std::to_string(base + 1)}).integer == 1; }, 60s));
  killed = kill9(*cache);
  auto restarted = p.start_cache("cache-2.log");
  INFO(restarted->log_tail());
  REQUIRE(eventually([&] { return produced_after_kill.load() > 0; }, 5s));
  REQUIRE(eventually(
      [&] {
        return redis.command({"EXISTS", "anilibria:v2:title:" + std::to_string(produced_after_kill.load())}).integer == 1;
      },
      60s));
  const auto gap = now_ms() - killed.load();
  report("cache", gap);
  CHECK(gap < 10'000);
  restarted->signal(SIGTERM);
  CHECK(exit_problem(*restarted, 30s) == "");
}

TEST_CASE("failover: sync killed with SIGKILL and restarted - the catalog's output resumes within 10 s") {
  Pipeline p;
  const std::int64_t base = 800'000'000 + static_cast<std::int64_t>(now_ms() % 1'000'000) * 100;
  Feeder feed([&](int i) { produce_all(p.topics().events, {{std::to_string(base + i), snapshot_event(base + i)}}); }, 100ms);
  auto sync = p.start_sync("sync-1.log");
  INFO(sync->log_tail());
  REQUIRE(first_record_after(p.topics().new_episode, 0, 60s) > 0);
  std::this_thread::sleep_for(1s);
  const auto killed = kill9(*sync);
  auto restarted = p.start_sync("sync-2.log");
  INFO(restarted->log_tail());
  const auto resumed = first_record_after(p.topics().new_episode, killed, 60s);
  REQUIRE(resumed > 0);
  report("sync", resumed - killed);
  CHECK(resumed - killed < 10'000);
  restarted->signal(SIGTERM);
  CHECK(exit_problem(*restarted, 30s) == "");
}

TEST_CASE("failover: ingest killed with SIGKILL and restarted - upstream events resume within 10 s") {
  Pipeline p;
  Feeder feed([&](int i) { p.upstream().control("episode", R"({"release_id":9873,"ordinal":)" + std::to_string(i + 2) + "}"); }, 200ms);
  auto ingest = p.start_ingest("ingest-1.log");
  INFO(ingest->log_tail());
  REQUIRE(first_record_after(p.topics().events, 0, 60s) > 0);
  std::this_thread::sleep_for(1s);
  const auto killed = kill9(*ingest);
  auto restarted = p.start_ingest("ingest-2.log");
  INFO(restarted->log_tail());
  const auto resumed = first_record_after(p.topics().events, killed, 60s);
  REQUIRE(resumed > 0);
  report("ingest", resumed - killed);
  CHECK(resumed - killed < 10'000);
  restarted->signal(SIGTERM);
  CHECK(exit_problem(*restarted, 30s) == "");
}

TEST_CASE("failover: three instances of each group worker, no ids given, share the partitions and keep their ids across a kill -9") {
  Pipeline p({.partitions = 6, .redis_db = 6});
  std::map<std::string, std::vector<std::unique_ptr<Process>>> running;
  auto start = [&](const std::string& worker, int i) {
    const auto log = worker + "-" + std::to_string(i) + "-" + std::to_string(now_ms()) + ".log";
    if (worker == "sync") return p.start_sync(log);
    if (worker == "cache") return p.start_cache(log);
    return p.start_notify(log);
  };
  const std::vector<std::string> workers{"sync", "cache", "notify"};
  for (const auto& w : workers)
    for (int i = 0; i < 3; ++i) running[w].push_back(start(w, i));
  std::map<std::string, std::set<std::string>> ids;
  for (const auto& w : workers) {
    for (const auto& proc : running[w]) ids[w].insert(instance_of(*proc));
    INFO(w);
    CHECK(ids[w].size() == 3);  // distinct, without anyone choosing them
    CHECK_FALSE(ids[w].count(""));
  }
  auto all_share = [&](const std::string& w) {
    auto m = members(p, w);
    if (m.size() != 3) return false;
    for (const auto& [id, parts] : m)
      if (!ids[w].count(id) || parts == 0) return false;
    return true;
  };
  for (const auto& w : workers) {
    INFO(w);
    CHECK(eventually([&] { return all_share(w); }, 60s));
  }
  // Kill the middle instance of each and start it again: it gets the same id back, and the
  // group has the same three members, each with partitions.
  for (const auto& w : workers) {
    INFO(w);
    auto& victim = running[w][1];
    const auto before = instance_of(*victim);
    kill9(*victim);
    victim = start(w, 1);
    CHECK(instance_of(*victim) == before);
    CHECK(eventually([&] { return all_share(w); }, 30s));
  }
  for (const auto& w : workers)
    for (auto& proc : running[w]) {
      INFO(proc->log_tail());
      CHECK(proc->wait_for(0ms) == std::nullopt);  // nobody died
      proc->signal(SIGTERM);
    }
  for (const auto& w : workers)
    for (auto& proc : running[w]) CHECK(exit_problem(*proc, 40s) == "");
}

TEST_CASE(
    "failover: a worker with a leased id fenced by its own id (a coordinator failover) starts again in its process and keeps working") {
  Pipeline p({.partitions = 3, .redis_db = 7});
  anipipe::redis::Options ro = test_redis_options();
  ro.db = 7;
  anipipe::redis::Client redis(ro);
  const std::int64_t base = 600'000'000 + static_cast<std::int64_t>(now_ms() % 1'000'000) * 100;
  auto cache = p.start_cache("cache.log");
  auto sync = p.start_sync("sync.log");
  INFO(cache->log_tail());
  INFO(sync->log_tail());
  const auto cache_id = instance_of(*cache), sync_id = instance_of(*sync);
  REQUIRE(eventually([&] { return members(p, "cache").count(cache_id) == 1 && members(p, "sync").count(sync_id) == 1; }, 60s));

  SUBCASE("the consumer fenced: cache and sync rejoin") {
    fence_consumer(p, "cache", cache_id, p.topics().titles);
    fence_consumer(p, "sync", sync_id, p.topics().events);
    CHECK(eventually([&] { return log_says(*cache, "fenced itself") && log_says(*sync, "fenced itself"); }, 60s));
  }
  SUBCASE("the transactional producer fenced: sync starts its transactions again") {
    anipipe::kafka::Producer::Options po;
    po.transactional_id = "anipipe-sync-" + p.group("sync") + "-" + sync_id;
    anipipe::kafka::Producer twin(test_kafka_settings(), po);
    twin.init_transactions(30s);  // bumps the epoch: sync's next transaction fails fatally
    produce_all(p.topics().events, {{std::to_string(base), snapshot_event(base)}});
    CHECK(eventually([&] { return log_says(*sync, "starting the worker again"); }, 60s));
  }
  // Both still run and still work: a title reaches Redis, an event reaches new_episode.
  produce_all(p.topics().titles, {{std::to_string(base + 1), title_json(base + 1)}});
  produce_all(p.topics().events, {{std::to_string(base + 2), snapshot_event(base + 2)}});
  CHECK(eventually([&] { return redis.command({"EXISTS", "anilibria:v2:title:" + std::to_string(base + 1)}).integer == 1; }, 60s));
  bool announced = false;
  consume_until(
      p.topics().new_episode,
      [&](const std::vector<Received>& got) {
        for (const auto& r : got) announced |= r.key == std::to_string(base + 2);
        return announced;
      },
      60s);
  CHECK(announced);
  CHECK(cache->wait_for(0ms) == std::nullopt);
  CHECK(sync->wait_for(0ms) == std::nullopt);
  for (auto* w : {cache.get(), sync.get()}) {
    w->signal(SIGTERM);
    CHECK(exit_problem(*w, 40s) == "");
  }
}

TEST_CASE("failover: two instances forced to the same --instance-id - the fenced one exits non-zero within seconds") {
  Pipeline p({.partitions = 3, .redis_db = 6});
  for (const std::string worker : {"cache", "sync"}) {
    INFO(worker);
    const std::vector<std::string> same{"--instance-id", "twin"};
    auto first = worker == "sync" ? p.start_sync(worker + "-first.log", same) : p.start_cache(worker + "-first.log", same);
    REQUIRE(eventually([&] { return members(p, worker).count("twin") == 1; }, 60s));
    auto second = worker == "sync" ? p.start_sync(worker + "-second.log", same) : p.start_cache(worker + "-second.log", same);
    INFO(first->log_tail());
    const auto started = now_ms();
    const auto code = first->wait_for(20s);
    REQUIRE(code.has_value());
    CHECK(*code != 0);
    std::printf("failover: the fenced %s instance exited with %d after %.1f s\n", worker.c_str(), *code,
                static_cast<double>(now_ms() - started) / 1000.0);
    CHECK(second->wait_for(0ms) == std::nullopt);  // the newer one lives on
    second->signal(SIGTERM);
    CHECK(exit_problem(*second, 40s) == "");
  }
}
