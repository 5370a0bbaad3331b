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
// --broker-faults 1: the workers stay up and the brokers of a 3-node cluster fail instead
// (tests/scripts/cluster_faults.sh starts one): the broker leading most partitions is killed with
// SIGKILL and started again, then another is stopped (a controlled shutdown) and a third killed,
// which leaves one of three (producers must block: min.insync.replicas 2), then they come back.
// It prints how long no announcement arrived after each fault, and fails if any worker exited.
#include <signal.h>
#include <simdjson.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "kafka/admin.hpp"
#include "kafka/consumer.hpp"
#include "kafka/producer.hpp"
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
  bool broker_faults = false;
  int redis_db = 7;
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
    else if (k == "--broker-faults") o.broker_faults = v != 0;
    else if (k == "--redis-db") o.redis_db = v;
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
  anipipe::kafka::read_to_end(
      test_kafka_settings(), topic, {}, anipipe::kafka::ReadStart::from_earliest(), [&](const anipipe::kafka::Message& m) {
        auto v = m.value();
        simdjson::dom::element doc;
        if (!v || parser.parse(*v).get(doc)) return;
        ++n.records;
        n.keys[{std::string(std::string_view(doc["subscriber_id"])), std::int64_t(doc["title_id"]), double(doc["episode"]["ordinal"])}]
            .insert(std::string(std::string_view(doc["idempotency_key"])));
      });
  return n;
}

/// scripts/kafka on the cluster this process was pointed at (ANIPIPE_RUN_DIR, ANIPIPE_KAFKA_PORT).
bool cluster_command(const std::string& verb, int node) {
  const auto r = run_command({source_dir() + "/scripts/kafka", verb, std::to_string(node)}, std::chrono::seconds(240));
  say("scripts/kafka %s %d: %s", verb.c_str(), node, r.output.substr(0, r.output.find_last_not_of('\n') + 1).c_str());
  return r.exit_code == 0;
}

/// Whether one record to `topic` is acknowledged within `timeout` (acks=all, idempotent, as the
/// workers produce); the error when not.
std::pair<bool, std::string> acknowledged(const std::string& topic, std::chrono::milliseconds timeout) {
  auto settings = test_kafka_settings();
  settings.overrides["message.timeout.ms"] = std::to_string(timeout.count());
  anipipe::kafka::Producer producer(settings);
  std::pair<bool, std::string> result{false, "no delivery report"};
  anipipe::kafka::OutRecord out;
  out.topic = topic;
  out.key = "probe";
  out.value = "{}";
  producer.produce(out, [&](const anipipe::kafka::DeliveryResult& d) { result = {d.ok, d.error}; });
  producer.flush(timeout + 5s);
  return result;
}

/// The broker that leads most partitions of `topics`, leaving out `except`.
int busiest_leader(const std::vector<std::string>& topics, const std::set<int>& except) {
  anipipe::kafka::Admin admin(test_kafka_settings(), 10s);
  std::map<int, int> led;
  for (const auto& placement : admin.cluster(topics).partitions)
    if (placement.leader >= 0 && !except.count(placement.leader)) ++led[placement.leader];
  int best = -1, most = -1;
  for (const auto& [broker, n] : led)
    if (n > most) best = broker, most = n;
  for (int b = 1; best < 0 && b <= 3; ++b)
    if (!except.count(b)) best = b;
  return best;
}

/// When each announcement arrived (read_committed, as a subscriber of anilibria.new_episode).
class ArrivalClock {
public:
  explicit ArrivalClock(const std::string& topic) : thread_([this, topic] { run(topic); }) {}
  ~ArrivalClock() {
    stop_ = true;
    thread_.join();
  }
  /// The longest time from `from` to `to` without an announcement (a silence that began before
  /// `to` counts up to `to` only: the next fault's share is the next fault's).
  double longest_gap(Clock::time_point from, Clock::time_point to) {
    std::lock_guard lock(mutex_);
    double gap = 0;
    auto last = from;
    for (const auto& t : arrivals_) {
      if (t < from) continue;
      gap = std::max(gap, std::chrono::duration<double>(std::min(t, to) - last).count());
      last = t;
      if (t >= to) return gap;
    }
    return std::max(gap, std::chrono::duration<double>(to - std::min(last, to)).count());
  }

private:
  void run(const std::string& topic) {
    anipipe::kafka::Consumer::Options o;
    o.group_id = unique_name("arrivals");
    o.topics = {topic};
    o.read_committed = true;
    anipipe::kafka::Consumer c(test_kafka_settings(), o);
    while (!stop_) {
      auto m = c.poll(50ms);
      if (!m || m->is_error()) continue;
      std::lock_guard lock(mutex_);
      arrivals_.push_back(Clock::now());
    }
    c.close();
  }
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<Clock::time_point> arrivals_;
  std::thread thread_;
};

}  // namespace

int main(int argc, char** argv) try {
  const auto o = parse(argc, argv);
  std::mt19937 rng(o.seed);
  say("fault test: %d titles, %d s of changes, %d subscriber(s) per title, --v1-limit %d", o.titles, o.seconds, o.subscribers, o.v1_limit);
  Pipeline p({.partitions = 6, .redis_db = o.redis_db});
  anipipe::redis::Options ro = test_redis_options();
  ro.db = o.redis_db;
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

  const std::vector<std::string> ingest_flags{"--v1-limit", std::to_string(o.v1_limit), "--v1-schedule",
                                              "false",      "--reconcile-interval",     "0"};
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
  const std::vector<Fault> faults = o.broker_faults ? std::vector<Fault>{{0.15, "kill leader"},
                                                                         {0.35, "restart killed"},
                                                                         {0.55, "stop leader"},
                                                                         {0.7, "kill third"},
                                                                         {0.85, "restart third"}}
                                                    : std::vector<Fault>{{0.15, "sync"}, {0.3, "cache"},   {0.45, "notify"},
                                                                         {0.55, "edge"}, {0.65, "ingest"}, {0.85, "sync"}};
  const auto& t = p.topics();
  const std::vector<std::string> pipeline_topics{t.events,        t.requests,      t.titles,        t.new_episode, t.results,
                                                 t.invalidations, t.subscriptions, t.notifications, t.dlq};
  std::unique_ptr<ArrivalClock> arrivals;
  if (o.broker_faults) arrivals = std::make_unique<ArrivalClock>(t.new_episode);
  std::vector<std::pair<std::string, Clock::time_point>> fault_times;
  std::future<bool> pending;
  std::string min_insync_probe;  // what went wrong with produce during two-of-three-down, if anything
  int killed = -1, stopped = -1, third = -1;
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
      if (o.broker_faults) {
        // A broker command runs beside the loop (a restart takes half a minute), so the upstream
        // keeps changing meanwhile; the next fault waits for it.
        if (pending.valid() && !pending.get()) return 2;
        fault_times.emplace_back(w, Clock::now());
        int node = -1;
        std::string verb;
        if (w == "kill leader") {
          node = killed = busiest_leader(pipeline_topics, {});
          verb = "kill";
          say("kill -9 broker %d (leads most of the pipeline's partitions)", node);
        } else if (w == "restart killed") {
          node = killed, verb = "start-node";
        } else if (w == "stop leader") {
          node = stopped = busiest_leader(pipeline_topics, {killed});
          verb = "stop-node";
          say("controlled shutdown of broker %d", node);
        } else if (w == "kill third") {
          third = 6 - killed - stopped;
          if (third == killed || third == stopped || third < 1 || third > 3) third = killed;
          node = third, verb = "kill";
          say("kill -9 broker %d as well: one of three left, below min.insync.replicas", node);
        } else if (w == "restart third") {
          node = third, verb = "start-node";
        }
        pending = std::async(std::launch::async, [verb, node, w, &min_insync_probe, probe_topic = t.dlq] {
          if (!cluster_command(verb, node)) return false;
          // One broker of three left: min.insync.replicas 2 cannot hold, so nothing may be
          // acknowledged; once a second is back, it is.
          if (w == "kill third") {
            const auto r = acknowledged(probe_topic, 8s);
            say("a record produced with one broker of three left: %s (%s)", r.first ? "ACKNOWLEDGED" : "not acknowledged",
                r.second.c_str());
            min_insync_probe += r.first ? "acknowledged below min.insync.replicas; " : "";
          } else if (w == "restart third") {
            const auto r = acknowledged(probe_topic, 60s);
            say("a record produced with two brokers of three: %s", r.first ? "acknowledged" : ("NOT acknowledged: " + r.second).c_str());
            min_insync_probe += r.first ? "" : "not acknowledged with two of three back; ";
          }
          return true;
        });
        continue;
      }
      say("kill -9 %s", w.c_str());
      if (w == "sync") {
        sync->signal(SIGKILL);
        sync->wait_for(10s);
      }
      if (w == "cache") {
        cache->signal(SIGKILL);
        cache->wait_for(10s);
      }
      if (w == "notify") {
        notify->signal(SIGKILL);
        notify->wait_for(10s);
      }
      if (w == "edge") {
        edge->signal(SIGKILL);
        edge->wait_for(10s);
      }
      if (w == "ingest") {
        ingest->signal(SIGKILL);
        ingest->wait_for(10s);
        // Down for ~25 poll windows; meanwhile twice the window's worth of titles gain an episode.
        std::vector<std::string> ids;
        for (int t = 0; t < 2 * o.v1_limit && t < o.titles; ++t)
          ids.push_back(std::to_string(first + static_cast<std::int64_t>(rng() % static_cast<unsigned>(o.titles))));
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
  if (pending.valid() && !pending.get()) return 2;
  if (o.broker_faults && stopped > 0) {
    cluster_command("start-node", stopped);  // all three again before the counting
    fault_times.emplace_back("all back", Clock::now());
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
  announced = p.announcements_until(
      [&](const auto& a) {
        announced = a;
        return missing() == 0;
      },
      std::chrono::seconds(o.converge_seconds));
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
    eventually(
        [&] {
          ok = converged(t);
          return ok.first && ok.second;
        },
        10s);
    redis_wrong += !ok.first;
    edge_wrong += !ok.second;
  }
  // Notifications: every subscriber of every title, every episode; a repeat only with its key.
  Notifications notes;
  std::size_t notes_lost = 0, notes_other_key = 0, notes_repeats = 0;
  eventually(
      [&] {
        notes = read_notifications(p.topics().notifications);
        notes_lost = 0;
        for (const auto& [t, ord] : expected)
          for (int k = 0; k < o.subscribers; ++k) notes_lost += !notes.keys.count({"fan-" + std::to_string(k), t, ord});
        return notes_lost == 0;
      },
      60s);
  for (const auto& [_, keys] : notes.keys) notes_other_key += keys.size() > 1 ? keys.size() - 1 : 0;
  notes_repeats = notes.records - notes.keys.size();

  // How long announcements stopped after each broker fault, and whether every worker lived through it.
  std::string gaps;
  for (std::size_t i = 0; i < fault_times.size(); ++i) {
    const auto until = i + 1 < fault_times.size() ? fault_times[i + 1].second : Clock::now();
    const double gap = arrivals->longest_gap(fault_times[i].second, until);
    say("after \"%s\": announcements stopped for at most %.1f s", fault_times[i].first.c_str(), gap);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%s{\"fault\":\"%s\",\"stopped_s\":%.1f}", gaps.empty() ? "" : ",", fault_times[i].first.c_str(), gap);
    gaps += buf;
  }
  std::size_t exited = 0;
  if (o.broker_faults)
    for (auto* proc : {ingest.get(), sync.get(), cache.get(), notify.get(), edge.get()})
      if (auto code = proc->wait_for(0ms)) {
        ++exited;
        say("a worker exited (code %d): %s", *code, proc->log_file().c_str());
      }
  say("announcements: expected %zu, announced %zu; lost %zu, duplicated %zu, unexpected %zu", expected.size(), announced.size(), lost,
      duplicated, unexpected);
  say("redis: %zu of %zu title(s) differ from the upstream; edge: %zu differ", redis_wrong, want.size(), edge_wrong);
  say("notifications: %zu record(s) for %zu (subscriber, episode); lost %zu, repeats with the same idempotency key %zu, "
      "with another key %zu",
      notes.records, notes.keys.size(), notes_lost, notes_repeats, notes_other_key);
  if (!min_insync_probe.empty()) say("min.insync.replicas: %s", min_insync_probe.c_str());
  const bool ok = lost == 0 && duplicated == 0 && unexpected == 0 && redis_wrong == 0 && edge_wrong == 0 && notes_lost == 0 &&
                  notes_other_key == 0 && exited == 0 && min_insync_probe.empty();
  std::printf(R"({"titles":%d,"episodes_added":%d,"expected":%zu,"lost":%zu,"duplicated":%zu,"unexpected":%zu,"redis_wrong":%zu,)"
              R"("edge_wrong":%zu,"notifications":%zu,"notifications_lost":%zu,"notification_repeats_same_key":%zu,)"
              R"("notification_other_key":%zu,"workers_exited":%zu,"broker_faults":[%s],"ok":%s})"
              "\n",
              o.titles, changes, expected.size(), lost, duplicated, unexpected, redis_wrong, edge_wrong, notes.records, notes_lost,
              notes_repeats, notes_other_key, exited, gaps.c_str(), ok ? "true" : "false");
  std::printf("lost %zu, duplicated %zu\n", lost, duplicated);
  if (!ok) std::printf("logs: %s\n", p.dir().c_str());
  for (auto* proc : {ingest.get(), sync.get(), cache.get(), notify.get(), edge.get()}) proc->signal(SIGTERM);
  for (auto* proc : {ingest.get(), sync.get(), cache.get(), notify.get(), edge.get()}) proc->wait_for(40s);
  return ok ? 0 : 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "fault test: %s\n", e.what());
  return 2;
}
