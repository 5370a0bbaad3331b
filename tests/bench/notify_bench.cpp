// anipipe-bench-notify: the pieces scripts/bench-notify drives.
//   subscribe TOPIC TITLE N              N durable subscriptions (user-0 .. user-N-1) to TITLE
//   raw TOPIC N                          the reference: N notification-sized records (the real values,
//                                        built beforehand), produced with notify's producer settings
//   fanout EPISODES NOTIFICATIONS TITLE N TIMEOUT_S
//                                        one new episode of TITLE; time from its acknowledgement until N
//                                        more notifications are in NOTIFICATIONS (watermarks polled every 5 ms)
//   webhooks EPISODES FIRST K CALL_LOG TIMEOUT_S
//                                        K new episodes of titles FIRST.. (no subscribers); time until
//                                        the receiver logged K more calls
//   table-memory N TITLES                heap taken by N subscriptions spread over TITLES titles
// Each prints one JSON line.
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include <simdjson.h>

#include "kafka/admin.hpp"
#include "kafka/producer.hpp"
#include "kafka_helpers.hpp"
#include "notification_builder.hpp"
#include "subscription_table.hpp"

using namespace anipipe::testing;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

std::string episode_json(std::int64_t title, const std::string& episode) {
  const auto t = std::to_string(title);
  return R"({"event_id":")" + t + ":" + episode + R"(","title_id":)" + t + R"(,"episode":{"id":")" + episode +
         R"(","ordinal":7,"name":"Серия седьмая","duration":1440,"hls":{"480":"https://cache.example/videos/media/ts/)" + t +
         R"(/7/480/x.m3u8","720":"https://cache.example/videos/media/ts/)" + t +
         R"(/7/720/x.m3u8"}},)"
         R"("title":{"alias":"title-)" +
         t + R"(","names":{"ru":"Тайтл )" + t + R"(","en":"Title )" + t + R"("},"poster":{"src":"/storage/releases/posters/)" + t +
         R"(/a.jpg"}},"detected_at":"2025-01-16T08:20:01Z"})";
}

std::string subscription(std::int64_t title, const std::string& who) {
  return R"({"title_id":)" + std::to_string(title) + R"(,"subscriber_id":")" + who + R"(","created_at":"2025-01-10T10:00:00Z"})";
}

std::int64_t records_in(anipipe::kafka::Admin& admin, const std::string& topic) {
  std::int64_t n = 0;
  for (const auto& [p, w] : admin.watermarks(topic)) n += w.second;
  return n;
}

std::size_t lines_in(const std::string& file) {
  std::ifstream in(file);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) n += !line.empty();
  return n;
}

int usage() {
  std::fprintf(stderr,
               "usage: anipipe-bench-notify subscribe TOPIC TITLE N | raw TOPIC N | fanout EPISODES NOTIFICATIONS TITLE N TIMEOUT_S |"
               " webhooks EPISODES FIRST K CALL_LOG TIMEOUT_S | table-memory N TITLES\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const std::string cmd = argv[1];
  if (cmd == "subscribe" && argc == 5) {
    const std::int64_t title = std::atoll(argv[3]);
    const int n = std::atoi(argv[4]);
    std::vector<Produced> records;
    records.reserve(n);
    for (int i = 0; i < n; ++i) {
      const auto who = "user-" + std::to_string(i);
      records.push_back({std::to_string(title) + ":" + who, subscription(title, who)});
    }
    produce_all(argv[2], records);
    std::printf("{\"subscriptions\":%d}\n", n);
    return 0;
  }
  if (cmd == "raw" && argc == 4) {
    const int n = std::atoi(argv[3]);
    simdjson::dom::parser parser;
    const auto episode = anipipe::notify::NewEpisode::parse(episode_json(1, "e7"), parser);
    anipipe::notify::NotificationBuilder builder(episode, "2025-01-16T08:20:03Z");
    std::vector<anipipe::kafka::OutRecord> records(n);
    const auto headers = anipipe::kafka::EventHeaders::new_root("bench").child("notify", "anilibria.notifications", 1);
    for (int i = 0; i < n; ++i) {
      auto& r = records[i];
      r.topic = argv[2];
      r.key = "user-" + std::to_string(i);
      r.value.emplace();
      builder.build(*r.key, anipipe::notify::kAllChannels, *r.value);
      r.headers = headers;
    }
    // notify's producer: the common defaults plus its bounded queue (main.cpp, --queue-max).
    anipipe::kafka::Producer producer(test_kafka_settings(),
                                      {.transactional_id = {}, .defaults = {{"queue.buffering.max.messages", "20000"}}});
    std::size_t failed = 0;
    const auto started = Clock::now();
    for (const auto& r : records) producer.produce(r, [&failed](const anipipe::kafka::DeliveryResult& d) { failed += !d.ok; });
    while (producer.pending() > 0) producer.flush(500ms);
    const double s = std::chrono::duration<double>(Clock::now() - started).count();
    std::printf("{\"produced\":%d,\"failed\":%zu,\"bytes_per_record\":%zu,\"seconds\":%.3f,\"per_s\":%.0f}\n", n, failed,
                records.front().value->size(), s, n / s);
    return failed ? 1 : 0;
  }
  if (cmd == "fanout" && argc == 7) {
    const std::string episodes = argv[2], notifications = argv[3];
    const std::int64_t title = std::atoll(argv[4]);
    const std::int64_t n = std::atoll(argv[5]);
    const auto timeout = std::chrono::seconds(std::atoi(argv[6]));
    anipipe::kafka::Admin admin(test_kafka_settings());
    const auto before = records_in(admin, notifications);
    // Timed from the episode's acknowledgement: what notify takes, not the test producer's start-up.
    produce_all(episodes, {{std::to_string(title), episode_json(title, "e" + std::to_string(Clock::now().time_since_epoch().count()))}});
    const auto started = Clock::now();
    Clock::time_point first{};
    std::int64_t got = 0;
    while ((got = records_in(admin, notifications) - before) < n) {
      if (got > 0 && first == Clock::time_point{}) first = Clock::now();
      if (Clock::now() - started > timeout) {
        std::printf("{\"error\":\"timeout\",\"got\":%lld}\n", static_cast<long long>(got));
        return 1;
      }
      std::this_thread::sleep_for(5ms);
    }
    const auto done = Clock::now();
    const double total = std::chrono::duration<double>(done - started).count();
    const double to_first = std::chrono::duration<double>((first == Clock::time_point{} ? done : first) - started).count();
    std::printf("{\"notifications\":%lld,\"seconds_to_last\":%.3f,\"seconds_to_first\":%.3f,\"per_s\":%.0f}\n", static_cast<long long>(n),
                total, to_first, static_cast<double>(n) / total);
    return 0;
  }
  if (cmd == "webhooks" && argc == 7) {
    const std::int64_t first = std::atoll(argv[3]);
    const int k = std::atoi(argv[4]);
    const std::string log = argv[5];
    const auto timeout = std::chrono::seconds(std::atoi(argv[6]));
    const auto before = lines_in(log);
    std::vector<Produced> records;
    for (int i = 0; i < k; ++i) records.push_back({std::to_string(first + i), episode_json(first + i, "w")});
    const auto started = Clock::now();
    produce_all(argv[2], records);
    while (lines_in(log) - before < static_cast<std::size_t>(k)) {
      if (Clock::now() - started > timeout) {
        std::printf("{\"error\":\"timeout\",\"got\":%zu}\n", lines_in(log) - before);
        return 1;
      }
      std::this_thread::sleep_for(20ms);
    }
    const double s = std::chrono::duration<double>(Clock::now() - started).count();
    std::printf("{\"calls\":%d,\"seconds\":%.3f,\"per_s\":%.0f}\n", k, s, k / s);
    return 0;
  }
  if (cmd == "table-memory" && argc == 4) {
    const int n = std::atoi(argv[2]), titles = std::max(1, std::atoi(argv[3]));
    const auto heap = [] { return mallinfo2().uordblks; };
    const auto before = heap();
    anipipe::notify::SubscriptionTable table;
    for (int i = 0; i < n; ++i) {
      const std::int64_t title = 1 + i % titles;
      const auto who = "user-" + std::to_string(1'000'000 + i);
      const auto key = std::to_string(title) + ":" + who;
      if (auto err = table.apply(key, subscription(title, who))) {
        std::fprintf(stderr, "%s\n", err->c_str());
        return 1;
      }
    }
    const double bytes = static_cast<double>(heap() - before);
    std::printf("{\"subscriptions\":%zu,\"titles\":%zu,\"heap_bytes\":%.0f,\"bytes_per_subscription\":%.1f}\n", table.subscriptions(),
                table.titles(), bytes, bytes / n);
    return 0;
  }
  return usage();
}
