// anipipe-cache against the real broker and redis-server: titles reach Redis in the seeds' layout,
// tombstones remove them, invalidations (key, title, pattern with SCAN) delete exactly what they
// name and are announced on anilibria:invalidate, and a Redis restart (no persistence: it comes
// back empty) mid-stream ends with Redis equal to the catalog again.
#include <doctest/doctest.h>

#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "kafka/producer.hpp"
#include "kafka_helpers.hpp"
#include "process.hpp"
#include "redis/client.hpp"
#include "redis_listener.hpp"

using namespace anipipe::testing;
using namespace std::chrono_literals;
using anipipe::redis::Reply;

namespace {

anipipe::redis::Options redis_options() { return test_redis_options(); }

/// Ids no other test run uses (the test redis-server is shared and not flushed between tests).
std::int64_t fresh_base() {
  std::random_device rd;
  return 10'000'000 + static_cast<std::int64_t>(rd() % 80'000'000) * 10;
}

std::string title_json(std::int64_t id, const std::string& alias, const std::string& genre, const std::string& status = "ongoing") {
  const auto s = std::to_string(id);
  return R"({"id":)" + s + R"(,"alias":")" + alias + R"(","names":{"ru":"Тайтл )" + s +
         R"(","en":null,"alternative":null},)"
         R"("type":"TV","year":2025,"season":"winter","status":")" +
         status + R"(","genres":[")" + genre +
         R"("],"description":null,"poster":null,"episodes_total":null,"episodes":[{"id":"e1","ordinal":1}],)"
         R"("fresh_at":null,"updated_at":"2025-01-16T08:20:00Z","source":"v1"})";
}

struct CacheSetup {
  std::string titles = unique_name("cache-titles"), invalidations = unique_name("cache-inval"), dlq = unique_name("cache-dlq"),
              group = unique_name("cache-group"), dir = make_temp_dir("cache");
  anipipe::redis::Client redis{redis_options()};
  CacheSetup() {
    create_topic(titles, 3, {{"cleanup.policy", "compact"}});
    create_topic(invalidations, 1);
    create_topic(dlq, 1);
  }
  std::unique_ptr<Process> start(const std::string& log) const {
    return std::make_unique<Process>(std::vector<std::string>{cache_binary(),
                                                              "--brokers",
                                                              test_kafka_settings().brokers,
                                                              "--group",
                                                              group,
                                                              "--titles-topic",
                                                              titles,
                                                              "--invalidations-topic",
                                                              invalidations,
                                                              "--dlq-topic",
                                                              dlq,
                                                              "--metrics-addr",
                                                              "off",
                                                              "--redis-url",
                                                              "redis://127.0.0.1:" + std::to_string(redis_options().port),
                                                              "--redis-timeout-ms",
                                                              "1000",
                                                              "--retry-backoff-max-ms",
                                                              "1000",
                                                              "--kafka",
                                                              "session.timeout.ms=6000"},
                                     dir + "/" + log);
  }
  /// A fresh compacted titles topic with this many partitions, instead of the 3-partition one.
  void use_titles_topic(const std::string& base, int partitions) {
    titles = unique_name(base);
    create_topic(titles, partitions, {{"cleanup.policy", "compact"}});
  }
  std::optional<std::string> get(const std::string& key) {
    auto r = redis.command({"GET", key});
    if (r.type != Reply::Type::string) return std::nullopt;
    return r.str;
  }
  bool member(const std::string& set, const std::string& id) { return redis.command({"SISMEMBER", set, id}).integer == 1; }
};

std::string key(const char* kind, std::int64_t id) { return std::string("anilibria:") + kind + ":title:" + std::to_string(id); }

/// The catalog as produced: id -> document (the latest per id).
using Catalog = std::map<std::int64_t, std::string>;

Catalog make_titles(std::int64_t first, int n, const std::string& genre) {
  Catalog c;
  for (int i = 0; i < n; ++i) c[first + i] = title_json(first + i, "t-" + std::to_string(first + i), genre);
  return c;
}

void produce_catalog(const std::string& topic, const Catalog& c) {
  std::vector<Produced> records;
  for (const auto& [id, json] : c) records.push_back({std::to_string(id), json});
  produce_all(topic, records);
}

/// How many titles of the catalog Redis does not hold exactly (v2 key), by MGET in chunks.
std::size_t differences(anipipe::redis::Client& redis, const Catalog& c) {
  std::size_t diff = 0;
  auto it = c.begin();
  while (it != c.end()) {
    anipipe::redis::Command mget{"MGET"};
    std::vector<const std::string*> expected;
    for (int n = 0; n < 500 && it != c.end(); ++n, ++it) {
      mget.push_back(key("v2", it->first));
      expected.push_back(&it->second);
    }
    const auto r = redis.command(mget);
    for (std::size_t i = 0; i < expected.size(); ++i)
      diff += r.elements.size() <= i || r.elements[i].type != Reply::Type::string || r.elements[i].str != *expected[i];
  }
  return diff;
}

int redis_script(const std::string& what) { return std::system((source_dir() + "/scripts/redis " + what + " >/dev/null 2>&1").c_str()); }

}  // namespace

TEST_CASE("cache: a title change reaches Redis with its indexes, a tombstone removes every trace") {
  CacheSetup s;
  const auto id = fresh_base();
  const auto sid = std::to_string(id);
  auto cache = s.start("cache.log");
  INFO(cache->log_tail());
  const auto v1 = title_json(id, "a-" + sid, "Драма");
  produce_all(s.titles, {{sid, v1}});
  REQUIRE(eventually([&] { return s.get(key("v2", id)) == v1; }, 30s));
  CHECK(s.get(key("v1", id))->find(R"("aniLibriaId":)" + sid) != std::string::npos);
  CHECK(s.get("anilibria:v2:alias:a-" + sid) == sid);
  CHECK(s.member("anilibria:v2:genre:Драма", sid));
  CHECK(s.member("anilibria:v2:status:ongoing", sid));
  CHECK(s.redis.command({"ZSCORE", "anilibria:v2:titles:updated", sid}).str == "1737015600");

  // A new alias, genre and status: the old index entries go, the new ones come.
  const auto v2 = title_json(id, "b-" + sid, "Комедия", "finished");
  produce_all(s.titles, {{sid, v2}});
  REQUIRE(eventually([&] { return s.get(key("v2", id)) == v2; }, 30s));
  CHECK_FALSE(s.get("anilibria:v2:alias:a-" + sid));
  CHECK(s.get("anilibria:v2:alias:b-" + sid) == sid);
  CHECK_FALSE(s.member("anilibria:v2:genre:Драма", sid));
  CHECK(s.member("anilibria:v2:genre:Комедия", sid));
  CHECK_FALSE(s.member("anilibria:v2:status:ongoing", sid));

  produce_all(s.titles, {{sid, std::nullopt}});
  REQUIRE(eventually([&] { return !s.get(key("v2", id)); }, 30s));
  CHECK_FALSE(s.get(key("v1", id)));
  CHECK_FALSE(s.get("anilibria:v2:alias:b-" + sid));
  CHECK_FALSE(s.member("anilibria:v2:genre:Комедия", sid));
  CHECK_FALSE(s.member("anilibria:v2:status:finished", sid));
  CHECK(s.redis.command({"ZSCORE", "anilibria:v2:titles:updated", sid}).type == Reply::Type::nil);

  // A record whose key is not a title id is dead-lettered; the worker goes on.
  produce_all(s.titles, {{"not-an-id", v1}});
  CHECK(consume(s.dlq, 1, 15s).size() == 1);
  cache->signal(SIGTERM);
  CHECK(exit_problem(*cache, 30s) == "");
}

TEST_CASE("cache: a pattern invalidation removes exactly the matching keys (SCAN) and publishes on anilibria:invalidate") {
  CacheSetup s;
  const auto base = fresh_base();
  for (int i = 0; i < 30; ++i) s.redis.command({"SET", key("v2", base + i), "x"});
  s.redis.command({"SET", key("v2", base + 100), "keep"});
  s.redis.command({"SET", "anilibria:v1:title:" + std::to_string(base + 1), "keep-too"});
  // A subscriber like every Node.js and edge process has.
  ChannelListener listener("anilibria:invalidate", 3);
  auto cache = s.start("cache.log");
  INFO(cache->log_tail());
  const std::string pattern = "anilibria:v2:title:" + std::to_string(base / 10) + "?";  // base+0 .. base+9
  produce_all(s.invalidations, {{"p", R"({"scope":"pattern","pattern":")" + pattern + R"(","requested_by":"test"})"}});
  // The message goes out once the whole SCAN is done: only then is every matching key gone.
  REQUIRE(eventually([&] { return listener.count() >= 1; }, 30s));
  for (int i = 0; i < 10; ++i) CHECK_FALSE(s.get(key("v2", base + i)));
  for (int i = 10; i < 30; ++i) CHECK(s.get(key("v2", base + i)) == "x");
  CHECK(s.get(key("v2", base + 100)) == "keep");
  CHECK(s.get("anilibria:v1:title:" + std::to_string(base + 1)) == "keep-too");

  produce_all(s.invalidations, {{"k", R"({"scope":"key","key":")" + key("v2", base + 10) + R"("})"},
                                {"t", R"({"scope":"title","title_id":)" + std::to_string(base + 1) + "}"},
                                {"bad", R"({"scope":"pattern","pattern":"*"})"}});
  REQUIRE(eventually([&] { return listener.count() >= 3; }, 30s));
  CHECK_FALSE(s.get("anilibria:v1:title:" + std::to_string(base + 1)));
  CHECK(s.get(key("v2", base + 11)) == "x");
  // A pattern outside anilibria:* never reaches Redis: the schema refuses it.
  auto dead = consume(s.dlq, 1, 15s);
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].headers["dlq-error"].find("pattern") != std::string::npos);
  const auto messages = listener.messages();
  REQUIRE(messages.size() == 3);
  CHECK(messages[0].find(R"("scope":"pattern","pattern":")" + pattern + R"(","deleted":10)") != std::string::npos);
  CHECK(messages[1].find(R"("scope":"key")") != std::string::npos);
  CHECK(messages[2].find(R"("scope":"title","title_id":)" + std::to_string(base + 1)) != std::string::npos);
  cache->signal(SIGTERM);
  CHECK(exit_problem(*cache, 30s) == "");
}

TEST_CASE("cache: redis-server stopped and restarted (empty) mid-stream ends with every title in Redis, equal to the catalog") {
  CacheSetup s;
  const auto base = fresh_base();
  auto first = make_titles(base, 3000, "Драма");
  produce_catalog(s.titles, first);
  auto cache = s.start("cache.log");
  INFO(cache->log_tail());
  REQUIRE(eventually([&] { return differences(s.redis, first) < first.size(); }, 30s));  // under way
  REQUIRE(redis_script("stop") == 0);
  auto more = make_titles(base + 3000, 1000, "Комедия");
  produce_catalog(s.titles, more);
  std::this_thread::sleep_for(2s);      // the worker meets the outage: it pauses and retries
  REQUIRE(redis_script("start") == 0);  // no persistence: everything written before is gone
  Catalog all = first;
  all.insert(more.begin(), more.end());
  anipipe::redis::Client fresh(redis_options());
  std::size_t diff = all.size();
  CHECK(eventually([&] { return (diff = differences(fresh, all)) == 0; }, 90s));
  CHECK(diff == 0);
  CHECK(cache->log_tail(200000).find("consuming it again from the start") != std::string::npos);
  cache->signal(SIGTERM);
  CHECK(exit_problem(*cache, 30s) == "");
}

TEST_CASE("cache: three processes on 12 partitions, one killed, Redis still ends equal to the catalog") {
  CacheSetup s;
  s.use_titles_topic("cache-titles12", 12);
  const auto base = fresh_base();
  auto first = make_titles(base, 6000, "Драма");
  produce_catalog(s.titles, first);
  auto a = s.start("a.log"), b = s.start("b.log"), c = s.start("c.log");
  // All three own partitions before one dies.
  auto owns = [](Process& p) {
    const auto log = p.log_tail(100000);
    for (auto at = log.find("\"assigned "); at != std::string::npos; at = log.find("\"assigned ", at + 1))
      if (log[at + 10] != '0') return true;
    return false;
  };
  REQUIRE(eventually([&] { return owns(*a) && owns(*b) && owns(*c); }, 30s));
  b->signal(SIGKILL);
  b->wait_for(10s);
  // Updates of half the titles and new ones, while the group rebalances.
  Catalog updates;
  for (int i = 0; i < 3000; ++i) updates[base + 2 * i] = title_json(base + 2 * i, "u-" + std::to_string(base + 2 * i), "Комедия");
  auto more = make_titles(base + 6000, 2000, "Романтика");
  produce_catalog(s.titles, updates);
  produce_catalog(s.titles, more);
  Catalog all = first;
  for (const auto& [id, json] : updates) all[id] = json;
  all.insert(more.begin(), more.end());
  std::size_t diff = all.size();
  CHECK(eventually([&] { return (diff = differences(s.redis, all)) == 0; }, 90s));
  CHECK(diff == 0);
  for (auto* p : {a.get(), c.get()}) {
    p->signal(SIGTERM);
    CHECK(exit_problem(*p, 30s) == "");
  }
}

namespace {
std::unique_ptr<Process> start_rebuild(const CacheSetup& s, const std::string& log) {
  return std::make_unique<Process>(
      std::vector<std::string>{ops_binary(), "--brokers", test_kafka_settings().brokers, "cache", "rebuild", "--redis-url",
                               "redis://127.0.0.1:" + std::to_string(redis_options().port), "--titles-topic", s.titles},
      s.dir + "/" + log);
}
}  // namespace

TEST_CASE("cache: cache rebuild of 100k titles ends with Redis equal to the catalog, with progress and a summary") {
  CacheSetup s;
  s.use_titles_topic("cache-rebuild", 12);
  const auto base = fresh_base();
  auto all = make_titles(base, 100000, "Драма");
  produce_catalog(s.titles, all);
  // A stale key of a title that is not in the catalog goes; keys outside anilibria:* stay.
  s.redis.command({"SET", key("v2", base + 200000), "stale"});
  s.redis.command({"SET", "other-app:key", "mine"});
  auto rebuild = start_rebuild(s, "rebuild.log");
  REQUIRE(exit_problem(*rebuild, 300s) == "");
  const auto log = rebuild->log_tail(4000);
  INFO(log);
  CHECK(log.find("\"records\":100000,\"titles\":100000") != std::string::npos);
  CHECK(log.find("cache rebuild: done, 100,000/100,000 (100%)") != std::string::npos);
  CHECK(differences(s.redis, all) == 0);
  CHECK_FALSE(s.get(key("v2", base + 200000)));
  CHECK(s.get("other-app:key") == "mine");
  s.redis.command({"DEL", "other-app:key"});
}

TEST_CASE("cache: a rebuild while the cache worker applies updates leaves no stale and no missing title") {
  CacheSetup s;
  s.use_titles_topic("cache-race", 12);
  const auto base = fresh_base();
  auto all = make_titles(base, 20000, "Драма");
  produce_catalog(s.titles, all);
  auto cache = s.start("cache.log");
  INFO(cache->log_tail());
  REQUIRE(eventually([&] { return differences(s.redis, all) == 0; }, 60s));
  // Updates keep coming (every title twice, newest last) while the rebuild replays older versions.
  std::thread updates([&] {
    for (int round = 1; round <= 2; ++round) {
      Catalog next;
      for (const auto& [id, json] : all)
        next[id] = title_json(id, "r" + std::to_string(round) + "-" + std::to_string(id), round == 1 ? "Комедия" : "Романтика");
      produce_catalog(s.titles, next);
    }
  });
  auto rebuild = start_rebuild(s, "rebuild.log");
  updates.join();
  REQUIRE(exit_problem(*rebuild, 300s) == "");
  Catalog final;
  for (const auto& [id, json] : all) final[id] = title_json(id, "r2-" + std::to_string(id), "Романтика");
  std::size_t diff = final.size();
  CHECK(eventually([&] { return (diff = differences(s.redis, final)) == 0; }, 60s));
  CHECK(diff == 0);
  // And the indexes follow the newest version only.
  CHECK_FALSE(s.member("anilibria:v2:genre:Комедия", std::to_string(base)));
  CHECK(s.member("anilibria:v2:genre:Романтика", std::to_string(base)));
  CHECK(s.get("anilibria:v2:alias:r2-" + std::to_string(base)) == std::to_string(base));
  CHECK_FALSE(s.get("anilibria:v2:alias:r1-" + std::to_string(base)));
  cache->signal(SIGTERM);
  CHECK(exit_problem(*cache, 30s) == "");
}

TEST_CASE("cache: a rebuild while serving: a reader polling 100 titles never sees a miss or a value older than the rebuild's start") {
  CacheSetup s;
  s.use_titles_topic("cache-serving", 12);
  const auto base = fresh_base();
  auto all = make_titles(base, 100000, "Драма");
  produce_catalog(s.titles, all);
  auto cache = s.start("cache.log");
  INFO(cache->log_tail());
  REQUIRE(eventually([&] { return differences(s.redis, all) == 0; }, 120s));
  // The 100 watched titles move to round 1 before the rebuild starts: from then on nothing older
  // may be read. Round 2 arrives while the rebuild runs and must not be lost (nor undone).
  auto round = [&](int r) {
    Catalog next;
    for (int i = 0; i < 100; ++i) {
      const auto id = base + i * 997;
      next[id] = title_json(id, "r" + std::to_string(r) + "-" + std::to_string(id), r == 1 ? "Комедия" : "Романтика");
    }
    return next;
  };
  const auto round1 = round(1), round2 = round(2);
  produce_catalog(s.titles, round1);
  for (const auto& [id, json] : round1) all[id] = json;
  REQUIRE(eventually([&] { return differences(s.redis, round1) == 0; }, 30s));
  // What a rebuild is for: keys of a title the catalog no longer has (its bookkeeping from an offset
  // the replay passes), a stale index entry, a key of no layout; keys outside anilibria:* stay.
  const auto gone = base + 300000, ghost = base + 400000;
  s.redis.command({"SET", "anilibria:cache:meta:" + std::to_string(gone), std::string("0\x1f") + "0\x1fgone-alias\x1fongoing\x1fДрама"});
  s.redis.command({"SET", key("v2", gone), title_json(gone, "gone-alias", "Драма")});
  s.redis.command({"SET", "anilibria:v2:alias:gone-alias", std::to_string(gone)});
  s.redis.command({"SADD", "anilibria:v2:genre:Драма", std::to_string(gone), std::to_string(ghost)});
  s.redis.command({"SET", key("v1", ghost), "stale"});
  s.redis.command({"SET", "anilibria:junk:" + std::to_string(base), "x"});
  s.redis.command({"SET", "other-app:" + std::to_string(base), "mine"});

  std::atomic<bool> stop{false};
  std::atomic<long> reads{0}, misses{0}, older{0}, went_back{0};
  std::mutex problems_mutex;
  std::string first_problem;
  std::thread reader([&] {
    anipipe::redis::Client redis(redis_options());
    std::map<std::int64_t, int> seen;  // the newest round each title was read at
    while (!stop.load()) {
      anipipe::redis::Command mget{"MGET"};
      for (const auto& [id, json] : round1) {
        mget.push_back(key("v2", id));
        mget.push_back(key("v1", id));
      }
      const auto r = redis.command(mget);
      std::size_t i = 0;
      for (const auto& [id, json] : round1) {
        for (int k = 0; k < 2; ++k, ++i) {
          ++reads;
          const auto& v = r.elements.at(i);
          auto note = [&](const char* what) {
            std::lock_guard lock(problems_mutex);
            if (first_problem.empty()) first_problem = std::string(what) + " " + key(k ? "v1" : "v2", id) + ": " + v.str.substr(0, 120);
          };
          if (v.type != Reply::Type::string) {
            ++misses;
            note("miss");
            continue;
          }
          const int at = v.str.find("r2-" + std::to_string(id)) != std::string::npos   ? 2
                         : v.str.find("r1-" + std::to_string(id)) != std::string::npos ? 1
                                                                                       : 0;
          if (at < 1) {
            ++older;
            note("older than the rebuild's start");
          } else if (at < seen[id * 2 + k]) {
            ++went_back;
            note("went back");
          }
          seen[id * 2 + k] = std::max(seen[id * 2 + k], at);
        }
      }
    }
  });
  auto rebuild = start_rebuild(s, "rebuild.log");
  // Round 2 lands while the rebuild replays the first versions.
  REQUIRE(eventually(
      [&] { return rebuild->log_tail(4000).find("cache rebuild: ") != std::string::npos || rebuild->wait_for(0ms).has_value(); }, 60s));
  produce_catalog(s.titles, round2);
  for (const auto& [id, json] : round2) all[id] = json;
  const bool rebuilt = exit_problem(*rebuild, 300s) == "";
  const auto log = rebuild->log_tail(4000);
  INFO(log);
  REQUIRE(rebuilt);
  std::size_t diff = all.size();
  CHECK(eventually([&] { return (diff = differences(s.redis, all)) == 0; }, 60s));
  stop = true;
  reader.join();
  INFO(first_problem);
  MESSAGE("reader: ", reads.load(), " reads during the rebuild");
  CHECK(reads.load() > 2000);
  CHECK(misses.load() == 0);
  CHECK(older.load() == 0);
  CHECK(went_back.load() == 0);
  CHECK(diff == 0);
  CHECK(log.find("cache rebuild: done, ") != std::string::npos);
  CHECK(log.find("(100%)") != std::string::npos);
  // Swept: the lost title with its alias and index entry, the ghost's entry and key, the junk.
  CHECK_FALSE(s.get(key("v2", gone)));
  CHECK_FALSE(s.get("anilibria:v2:alias:gone-alias"));
  CHECK_FALSE(s.member("anilibria:v2:genre:Драма", std::to_string(gone)));
  CHECK_FALSE(s.member("anilibria:v2:genre:Драма", std::to_string(ghost)));
  CHECK_FALSE(s.get(key("v1", ghost)));
  CHECK_FALSE(s.get("anilibria:junk:" + std::to_string(base)));
  CHECK(s.get("other-app:" + std::to_string(base)) == "mine");
  // The live titles' entries stay, at their newest version.
  CHECK(s.member("anilibria:v2:genre:Драма", std::to_string(base + 1)));
  CHECK(s.member("anilibria:v2:genre:Романтика", std::to_string(base)));
  CHECK_FALSE(s.member("anilibria:v2:genre:Комедия", std::to_string(base)));
  CHECK(s.get("anilibria:v2:alias:r2-" + std::to_string(base)) == std::to_string(base));
  s.redis.command({"DEL", "other-app:" + std::to_string(base)});
  cache->signal(SIGTERM);
  CHECK(exit_problem(*cache, 30s) == "");
}

TEST_CASE("cache: a rebuild of a transactional titles topic (commit markers among the offsets) ends at 100 %") {
  CacheSetup s;
  const auto base = fresh_base();
  anipipe::kafka::Producer::Options po;
  po.transactional_id = unique_name("cache-txn-producer");
  anipipe::kafka::Producer producer(test_kafka_settings(), po);
  producer.init_transactions(30s);
  Catalog all;
  for (int t = 0; t < 20; ++t) {  // as sync writes the catalog: a transaction per batch
    producer.begin_transaction();
    for (int i = 0; i < 10; ++i) {
      const auto id = base + t * 10 + i;
      all[id] = title_json(id, "t-" + std::to_string(id), "Драма");
      producer.produce({s.titles, std::to_string(id), all[id], {}, -1, {}});
    }
    producer.commit_transaction(30s);
  }
  auto rebuild = start_rebuild(s, "rebuild.log");
  REQUIRE(exit_problem(*rebuild, 120s) == "");
  const auto log = rebuild->log_tail(4000);
  INFO(log);
  // 200 records and a marker per transaction on every partition it wrote: all offsets passed.
  const auto at = log.find("\"offsets\":");
  REQUIRE(at != std::string::npos);
  const auto offsets = std::stoll(log.substr(at + 10));
  CHECK(offsets >= 220);
  CHECK(log.find("cache rebuild: done, " + std::to_string(offsets) + "/" + std::to_string(offsets) + " (100%)") != std::string::npos);
  CHECK(log.find(std::to_string(offsets - 200) + " of " + std::to_string(offsets) + " offsets held transaction markers") !=
        std::string::npos);
  CHECK(log.find("\"records\":200,\"titles\":200") != std::string::npos);
  CHECK(differences(s.redis, all) == 0);
}
